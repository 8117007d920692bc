import json
import re

import numpy as np
import pytest

from simulators.star_cluster.priors import star_cluster_prior
from simulators.star_cluster.simulator import DERIVED_TARGETS, StarClusterSimulator


def _kewley_starforming(x: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """Below the Kewley et al. (2001) maximum-starburst line in the [NII] BPT diagram."""
    col = dict(zip(names, x.T, strict=True))
    o3 = col["log_L_OIII5007"] - col["log_L_Hbeta"]
    n2 = col["log_L_NII6584"] - col["log_L_Halpha"]
    with np.errstate(divide="ignore", invalid="ignore"):
        line = 0.61 / (n2 - 0.47) + 1.19
    return np.isfinite(o3) & (n2 < 0.47) & (o3 < line)


def test_prior_draws_fall_in_the_star_forming_part_of_the_bpt_diagram():
    """Acceptance: >= 95 % of prior draws (failed ones counted as outside)."""
    sim = StarClusterSimulator(noise_dex=0.0)
    theta = sim.prior.sample(600, np.random.default_rng(7))
    x = sim.simulate(theta, np.random.default_rng(8))
    assert _kewley_starforming(x, sim.observation_names).mean() >= 0.95


def test_seeds_reproduce_and_noise_has_the_requested_scale():
    sim = StarClusterSimulator(noise_dex=0.1)
    theta = sim.prior.sample(40, np.random.default_rng(0))
    a, b = sim.simulate(theta, 3), sim.simulate(theta, 3)
    np.testing.assert_array_equal(a, b)
    clean = StarClusterSimulator(noise_dex=0.0).simulate(theta, 3)
    residual = (a - clean)[np.isfinite(a)]
    assert 0.08 < residual.std() < 0.12


def test_attenuation_dims_blue_lines_more_than_red_ones():
    sim = StarClusterSimulator(noise_dex=0.0)
    theta = np.array([[1e6, 0.05, 300.0, 2.0, 8.69, 0.0], [1e6, 0.05, 300.0, 2.0, 8.69, 1.0]])
    x = sim.simulate(theta)
    drop = x[0] - x[1]
    names = sim.observation_names
    assert drop[names.index("log_L_Hbeta")] > drop[names.index("log_L_Halpha")] > 0
    # Hbeta from Q by case B: a fully absorbing shell gives 4.78e-13 Q.
    d = sim.derived(theta)
    assert d["absorbed_fraction"][0] == pytest.approx(1.0)


def test_derived_targets_come_with_the_lines():
    sim = StarClusterSimulator()
    theta = sim.prior.sample(5, np.random.default_rng(1))
    x, targets = sim.simulate_with_targets(theta, rng=2)
    assert x.shape == (5, 10) and targets.shape == (5, len(DERIVED_TARGETS))
    ok = np.isfinite(targets).all(axis=1)
    assert np.all(targets[ok, 0] > 0) and np.all(targets[ok, 2] <= theta[ok, 3] + 1e-9)


def test_bad_input_is_named():
    sim = StarClusterSimulator()
    good = [1e6, 0.05, 300.0, 2.0, 8.69, 0.5]
    with pytest.raises(
        ValueError, match=r"theta must have shape \(n, 6\) or \(6,\), got shape \(1, 5\)"
    ):
        sim.simulate(np.array([good[:5]]))
    with pytest.raises(ValueError, match="theta must be finite"):
        sim.simulate(np.array([[*good[:3], np.nan, *good[4:]]]))
    # Outside the model's domain a row fails (NaN) and the reason is kept.
    x = sim.simulate(np.array([[*good[:1], 1.5, *good[2:]], good]))
    assert np.all(np.isnan(x[0])) and np.all(np.isfinite(x[1]))
    assert re.search(r"sfe must be in \(0, 1\); got 1.5 in row 0", str(sim.last_exception))
    x = sim.simulate(np.array([[*good[:3], 80.0, *good[4:]]]))
    assert np.all(np.isnan(x))
    assert re.search(r"age must be in \(0.001, 50.0\] Myr; got 80.0", str(sim.last_exception))
    with pytest.raises(ValueError, match="noise_dex must be a finite number >= 0 dex, got -1"):
        StarClusterSimulator(noise_dex=-1)
    with pytest.raises(ValueError, match="max_av must be a finite number >= 0 mag, got -2"):
        star_cluster_prior(max_av=-2)
    with pytest.raises(TypeError, match="shell must be a ShellSettings, got dict"):
        StarClusterSimulator(shell={"num_steps": 10})


def test_settings_are_json_and_max_av_zero_drops_the_parameter():
    record = StarClusterSimulator(max_av=0.0).settings()
    assert json.loads(json.dumps(record))["parameter_names"][-1] == "oxygen"
    assert StarClusterSimulator(max_av=0.0).dim_parameters == 5


def test_prior_draws_give_bounded_shells_and_few_failures():
    sim = StarClusterSimulator()
    theta = sim.prior.sample(600, np.random.default_rng(11))
    d = sim.derived(theta)
    ok = ~d["recollapsed"]
    assert ok.mean() > 0.95
    assert np.all(d["radius_pc"][ok] < 1000) and np.all(np.abs(d["velocity_kms"][ok]) < 300)
    assert np.all(d["youngest_age_myr"][ok] <= theta[ok, 3] + 1e-9)


def test_noise_draws_are_exposed_and_reproduce_the_lines():
    sim = StarClusterSimulator(noise_dex=0.1)
    theta = sim.prior.sample(6, np.random.default_rng(4))
    x, noise = sim.simulate_with_noise(theta, 5)
    assert sim.noise_dimension == 10 and noise.shape == (6, 10)
    assert StarClusterSimulator(noise_dex=0.0).noise_dimension == 0
    np.testing.assert_allclose(sim.simulate(theta, 5), x)
    clean = StarClusterSimulator(noise_dex=0.0).simulate(theta)
    np.testing.assert_allclose(x, clean + 0.1 * noise)
