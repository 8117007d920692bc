"""The cINN on bounded parameters: samples stay in the support, densities carry the Jacobian."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

from sbinn.function_simulator import FunctionSimulator
from sbinn.methods._stability_check import StabilityWarning
from sbinn.methods.cinn import CINN, CINNConfig
from sbinn.priors import JointPrior, Normal
from tests.methods.test_cinn import SMALL, quick_training


def bounded_problem():
    """sO2-like fraction theta ~ U(0, 1), x = theta + N(0, 0.3^2): mass piles at the bounds."""
    from sbinn.priors import Uniform

    prior = JointPrior({"f": Uniform(0.0, 1.0), "s": Normal(0.0, 1.0)})
    return FunctionSimulator(
        lambda t, rng: t + np.array([0.3, 0.5]) * rng.normal(size=t.shape), prior
    )


@pytest.fixture(scope="module")
def bounded():
    sim = bounded_problem()
    cinn = CINN(seed=0, parameter_bounds=[(0.0, 1.0), (None, None)], **SMALL)
    return cinn.fit(simulator=sim, num_simulations=4000, training=quick_training(6))


def test_bounded_parameters_are_sampled_inside_their_support(bounded):
    cinn = bounded
    samples = cinn.sample([[-0.5, 0.0], [1.4, 0.0]], 2000, seed=0)
    assert np.all((samples[..., 0] > 0) & (samples[..., 0] < 1))
    # Near the bounds the posterior piles up against them.
    assert np.median(samples[0, :, 0]) < 0.2 and np.median(samples[1, :, 0]) > 0.8


def test_bounded_densities_include_the_jacobian_and_vanish_outside(bounded):
    cinn = bounded
    grid = np.linspace(0.0005, 0.9995, 1000)
    theta = np.c_[grid, np.zeros_like(grid)]
    # The marginal over the unbounded parameter is not available, so integrate a 2-D grid.
    s = np.linspace(-5, 5, 201)
    f, s = np.meshgrid(grid, s, indexing="ij")
    density = np.exp(cinn.log_prob(np.c_[f.ravel(), s.ravel()], [[0.5, 0.0]]))
    assert density.sum() * (grid[1] - grid[0]) * (10 / 200) == pytest.approx(1.0, abs=0.03)
    outside = cinn.log_prob(np.array([[-0.1, 0.0], [1.0, 0.0], [0.5, 0.0]]), [[0.5, 0.0]])
    assert outside[0] == -np.inf and outside[1] == -np.inf and np.isfinite(outside[2])
    assert np.isfinite(cinn.log_prob(theta, [[0.5, 0.0]])).all()


def test_bounded_cinn_saves_and_loads_its_bounds(bounded, tmp_path):
    cinn = bounded
    cinn.save(tmp_path / "b.sbinn")
    again = CINN.load(tmp_path / "b.sbinn")
    assert again.config.parameter_bounds == ((0.0, 1.0), (None, None))
    np.testing.assert_array_equal(
        again.sample([[0.2, 0.1]], 50, seed=3), cinn.sample([[0.2, 0.1]], 50, seed=3)
    )


def test_bounds_that_do_not_fit_the_parameters_are_refused():
    with pytest.raises(ValueError, match=r"parameter_bounds name 1 parameter\(s\), theta has 2"):
        CINN(parameter_bounds=[(0, 1)], **SMALL).fit(np.full((5, 2), 0.5), np.ones((5, 1)))
    with pytest.raises(ValueError, match="low < high"):
        CINNConfig(parameter_bounds=[(1.0, 0.0)])
    with pytest.raises(ValueError, match=r"discrete_parameters \[0\] cannot also be bounded"):
        CINNConfig(parameter_bounds=[(0, 5)], discrete_parameters=(0,))
    with pytest.raises(ValueError, match=r"1 row\(s\) of theta lie on or outside"):
        CINN(parameter_bounds=[(0, 1)], **SMALL).fit(
            np.array([[0.5], [1.5], [0.2]]), np.ones((3, 1))
        )


@pytest.fixture(scope="module")
def lower_bounded():
    """A positive scale parameter, learned as log(theta)."""
    from sbinn.priors import LogUniform

    prior = JointPrior({"scale": LogUniform(0.5, 2.0)})
    sim = FunctionSimulator(lambda t, rng: t * np.exp(0.2 * rng.normal(size=t.shape)), prior)
    cinn = CINN(seed=0, parameter_bounds=[(0.0, None)], **SMALL)
    return cinn.fit(simulator=sim, num_simulations=2000, training=quick_training(2))


def _widened(cinn: CINN, scale: float, mean: float = 0.0) -> CINN:
    """The same network with the standardisation of log(theta) replaced, so that tail
    latents overflow."""
    from dataclasses import replace

    widened = copy.copy(cinn)
    widened.theta_scaler = replace(
        cinn.theta_scaler, mean=np.array([mean]), scale=np.array([scale])
    )
    return widened


def test_draws_that_overflow_are_drawn_again_with_a_warning(lower_bounded):
    # exp(y) overflows above y = 709.8: with the standardised output stretched 300-fold,
    # every draw beyond about 2.4 latent standard deviations does.
    cinn = _widened(lower_bounded, 300.0)
    with pytest.warns(StabilityWarning, match=r"posterior draws were not finite") as caught:
        samples = cinn.sample([[1.0], [2.0]], 2000, seed=0)
    assert np.all(np.isfinite(samples)) and np.all(samples >= 0)  # exp underflows to 0
    assert 0 < cinn.last_sampling["redrawn"] < 200 and cinn.last_sampling["draws"] == 4000
    assert "stayed non-finite" not in str(caught[0].message)


def test_draws_that_overflow_every_time_become_nan_and_are_counted(lower_bounded):
    cinn = _widened(lower_bounded, 1.0, mean=1000.0)
    with pytest.warns(StabilityWarning, match=r"6 stayed non-finite and are NaN"):
        samples = cinn.sample([[1.0], [2.0]], 3, seed=0)
    assert np.all(np.isnan(samples)) and cinn.last_sampling["redrawn"] == 6


def test_finite_draws_raise_no_warning(lower_bounded):
    with warnings.catch_warnings():
        warnings.simplefilter("error", StabilityWarning)
        lower_bounded.sample([[1.0]], 500, seed=0)
    assert lower_bounded.last_sampling == {"draws": 500, "redrawn": 0}
