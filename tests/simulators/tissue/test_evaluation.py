"""Scoring and the Fig. 4.8-style figure of the tissue benchmark."""

from __future__ import annotations

import numpy as np
import pytest

from sbinn.function_simulator import FunctionSimulator
from sbinn.priors import JointPrior, Normal
from simulators.tissue import TissueSimulator
from simulators.tissue.evaluation import RECOVERABLE, map_errors, plot_tissue_posteriors


@pytest.fixture(scope="module")
def simulator():
    return TissueSimulator("colon")


def test_map_errors_measure_sO2_raw_and_the_recoverable_set_in_prior_units(simulator):
    theta = simulator.prior.sample(400, np.random.default_rng(0))
    names = simulator.parameter_names
    scale = simulator.prior.sample(100_000, np.random.default_rng(0)).std(axis=0)
    estimates = theta.copy()
    estimates[:, names.index("sO2")] += 0.05
    estimates[:, names.index("a_mie_1")] += 0.5 * scale[names.index("a_mie_1")]
    # Errors in unrecoverable parameters do not count.
    estimates[:, names.index("d_3")] += 1.0
    errors = map_errors(simulator, estimates, theta, seed=0)
    assert errors["map_error_sO2"].value == pytest.approx(0.05)
    expected = np.hypot(0.05 / scale[0], 0.5)
    assert errors["map_error_recoverable"].value == pytest.approx(expected, rel=1e-6)
    assert set(errors["map_error_recoverable"].per_dimension) == set(RECOVERABLE)
    assert "prior standard deviation" in errors["map_error_recoverable"].method


def test_map_errors_need_the_tissue_parameters():
    other = FunctionSimulator(lambda t: t, JointPrior({"a": Normal(0.0, 1.0)}))
    with pytest.raises(ValueError, match=r"has no parameters \['sO2', 'v_hb_1', 'a_mie_1'\]"):
        map_errors(other, np.zeros((3, 1)), np.zeros((3, 1)), seed=0)


def test_the_figure_is_written_for_every_method(simulator, tmp_path):
    rng = np.random.default_rng(0)
    theta = simulator.prior.sample(3, rng)
    samples = {
        "wide": simulator.prior.sample(600, rng).reshape(3, 200, -1),
        "narrow": theta[:, None] + 0.01 * rng.normal(size=(3, 200, theta.shape[1])),
    }
    path = tmp_path / "fig.png"
    plot_tissue_posteriors(simulator, np.zeros((3, 8)), samples, path, theta_true=theta)
    assert path.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match=r"observation must be in \[0, 3\)"):
        plot_tissue_posteriors(
            simulator, np.zeros((3, 8)), samples, path, theta_true=theta, observation=3
        )
