import json

import numpy as np
import pytest

from simulators.cluster_cmd import ClusterCMDSimulator, IsochroneGrid, set_mask
from simulators.cluster_cmd.photometry import absolute_magnitude_v, intrinsic_colour
from simulators.cluster_cmd.simulator import DETECTION_MARGIN


@pytest.fixture(scope="module")
def sim():
    return ClusterCMDSimulator()


@pytest.fixture(scope="module")
def prior_draws(sim):
    theta = sim.prior.sample(1500, np.random.default_rng(7))
    return theta, sim.catalogue(theta, 8)


def _turn_off(log_age: float, feh: float) -> tuple[float, float]:
    """Bluest point of the upper main sequence (M_V < 6) of the isochrone."""
    iso = IsochroneGrid.load().interpolate([log_age], [feh])
    m_v = absolute_magnitude_v(iso.log_l, iso.log_teff)[0]
    colour = intrinsic_colour(iso.log_teff)[0]
    upper_ms = (iso.phase == 1) & (m_v < 6.0)
    i = np.argmin(np.where(upper_ms, colour, np.inf))
    return float(m_v[i]), float(colour[i])


def test_m67_like_turn_off():
    """4 Gyr, solar: M67's turn-off is at M_V ~ 3.7, (B-V)_0 ~ 0.55.

    Tolerances. M_V, 0.3 mag: published M67 ages span 3.5-4.5 Gyr, which moves this
    isochrone's turn-off by -0.08/+0.19 mag; add ~0.1 mag for M67's distance modulus and
    ~0.1 mag for where a turn-off is read off a hooked main sequence. B-V, 0.05 mag (~200 K
    at 6000 K): the spread between colour-temperature calibrations, plus M67's reddening
    uncertainty (E(B-V) = 0.04 +- 0.01).
    """
    m_v, colour = _turn_off(np.log10(4e9), 0.0)
    assert m_v == pytest.approx(3.7, abs=0.3)
    assert colour == pytest.approx(0.55, abs=0.05)


def test_simulated_stars_show_the_turn_off(sim):
    """The bluest bright main-sequence stars of a rich, unreddened 4 Gyr cluster."""
    theta = [[np.log10(4e9), 0.0, 10.0, 0.0, 3.7]]
    cat = sim.catalogue(theta, 3)
    m_v = cat.v - 10.0
    near = (m_v > 3.2) & (m_v < 4.2)
    assert near.sum() > 50
    # Photometric errors at V ~ 14 are ~0.01 mag, so the blue edge sits at the turn-off.
    assert np.percentile(cat.bv[near], 2) == pytest.approx(0.55, abs=0.05)


def test_ages_order_the_turn_off():
    assert _turn_off(8.5, 0.0)[0] < _turn_off(9.5, 0.0)[0] < _turn_off(10.0, 0.0)[0]


def test_observed_counts_span_twenty_to_two_thousand(prior_draws):
    _, cat = prior_draws
    counts = cat.counts
    assert np.percentile(counts, 2) < 30
    assert np.percentile(counts, 98) > 1500
    assert np.mean(counts == 0) < 0.005
    assert np.mean(counts > 2000) < 0.03


def test_magnitude_limit_is_respected(sim, prior_draws):
    _, cat = prior_draws
    assert cat.v.max() <= sim.v_limit
    assert cat.v_true.max() <= sim.v_limit + DETECTION_MARGIN
    # Near the limit the faint side is cut off: stars pile up there, none beyond.
    assert np.mean(cat.v > sim.v_limit - 0.5) > 0.1
    theta = prior_draws[0][:300]
    deeper = ClusterCMDSimulator(v_limit=sim.v_limit + 1.0).catalogue(theta, 8).counts
    assert deeper.sum() > 1.3 * sim.catalogue(theta, 8).counts.sum()


def test_thinned_sampling_counts_every_star_when_all_are_visible():
    """Poisson thinning: with everything visible the count is M / <m> times the fraction
    of the IMF still on the isochrone (the rest are remnants)."""
    sim = ClusterCMDSimulator(v_limit=28.0, n_max=5000)
    theta = np.tile([10.0, 0.0, 0.0, 0.0, 3.0], (40, 1))
    counts = sim.catalogue(theta, 4).counts
    last_mass = IsochroneGrid.load().interpolate([10.0], [0.0]).mass[0, -1]
    expected = 1e3 / sim.imf.mean_mass * sim.imf.cdf(last_mass)
    assert counts.mean() == pytest.approx(expected, rel=0.02)


@pytest.mark.parametrize(("distance_mod", "a_v"), [(10.0, 0.0), (12.0, 0.0), (11.0, 0.93)])
def test_true_magnitudes_are_the_isochrone_shifted_by_distance_and_extinction(
    sim, distance_mod, a_v
):
    cat = sim.catalogue([[9.5, -0.5, distance_mod, a_v, 3.3]], 5)
    iso = IsochroneGrid.load().interpolate([9.5], [-0.5])
    m_v = absolute_magnitude_v(iso.log_l, iso.log_teff)[0]
    colour = intrinsic_colour(iso.log_teff)[0]
    np.testing.assert_allclose(
        cat.v_true, np.interp(cat.mass, iso.mass[0], m_v) + distance_mod + a_v
    )
    np.testing.assert_allclose(cat.bv_true, np.interp(cat.mass, iso.mass[0], colour) + a_v / 3.1)
    # Measured values scatter about the true ones by the quoted errors.
    pulls = (cat.v - cat.v_true) / cat.sigma_v
    assert abs(pulls.mean()) < 0.2 and 0.8 < pulls.std() < 1.2


def test_output_is_a_nan_padded_set(sim, prior_draws):
    theta = prior_draws[0][:20]
    x = sim.simulate(theta, 1)
    assert x.shape == (20, 2000, 3)
    mask = set_mask(x)
    sizes = mask.sum(axis=1)
    np.testing.assert_array_equal(mask, np.arange(2000) < sizes[:, None])
    assert np.all(sim.valid_mask(x))
    assert np.all(np.isfinite(x[mask])) and np.all(x[mask][:, 2] > 0)
    counts = sim.catalogue(theta, 1).counts
    np.testing.assert_array_equal(sizes, np.minimum(counts, 2000))


def test_sets_above_n_max_keep_n_max_stars():
    sim = ClusterCMDSimulator(n_max=50)
    x = sim.simulate([[9.5, 0.0, 10.0, 0.0, 3.5]], 0)
    assert set_mask(x).sum() == 50


def test_seeds_reproduce(sim):
    theta = sim.prior.sample(5, np.random.default_rng(0))
    a, b, c = sim.simulate(theta, 11), sim.simulate(theta, 11), sim.simulate(theta, 12)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c, equal_nan=True)
    np.testing.assert_array_equal(sim.sample_joint(4, seed=3)[1], sim.sample_joint(4, seed=3)[1])


def test_settings_are_json(sim):
    settings = json.loads(json.dumps(sim.settings()))
    assert settings["n_max"] == 2000 and settings["features"] == ["V", "B_minus_V", "sigma_V"]
    assert settings["prior"]["log_mass"] == {"family": "Uniform", "low": [2.2], "high": [3.7]}


def test_wrong_shape_and_nan_theta_are_errors(sim):
    with pytest.raises(ValueError, match=r"theta must have shape \(n, 5\)"):
        sim.simulate(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="must be finite"):
        sim.simulate([[9.0, 0.0, np.nan, 0.0, 3.0]])
    with pytest.raises(ValueError, match=r"shape \(n, 5\), got shape \(3,\)"):
        sim.catalogue(np.zeros(3))


def test_parameters_outside_the_model_fail_that_row_only(sim):
    theta = np.array([[9.5, 0.0, 11.0, 0.0, 3.0], [9.5, 0.0, 11.0, -0.5, 3.0]])
    x = sim.simulate(theta, 0)
    assert set_mask(x)[0].any() and np.isnan(x[1]).all()
    assert "a_v must lie in [0.0, 10.0], got [-0.5]" in str(sim.last_exception)
    with pytest.raises(ValueError, match=r"log_age must lie in \[8.0, 10.15\], got \[11.0\]"):
        sim.catalogue([[11.0, 0.0, 11.0, 0.0, 3.0]])


def test_empty_clusters_are_failed_simulations(sim):
    theta = np.array([[10.1, 0.0, 25.0, 1.0, 2.2]] * 3)  # too far for any star to be seen
    x = sim.simulate(theta, 0)
    assert np.isnan(x).all() and not sim.valid_mask(x).any()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_max": 0}, "n_max"),
        ({"v_limit": 35.0}, r"v_limit must lie in \[10.0, 28.0\], got 35.0"),
        ({"sigma_floor": -0.1}, r"sigma_floor must lie in \[0.0, 0.2\]"),
        ({"prior": "flat"}, "prior must be a Prior over"),
    ],
)
def test_bad_settings_say_what_was_expected(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        ClusterCMDSimulator(**kwargs)
