"""The bimodal rail prior of Hagemann & Neumayer and the kinematics simulator's prior option."""

import numpy as np
import pytest
from scipy import integrate

from sbinn.priors import Normal
from simulators.kinematics import BimodalRailPrior, KinematicsSimulator, end_point


def test_samples_have_two_rail_modes_with_the_stated_spread():
    theta = BimodalRailPrior().sample(20_000, np.random.default_rng(0))
    rail = theta[:, 0]
    assert abs((rail > 0).mean() - 0.5) < 0.02
    assert abs(np.abs(rail).mean() - 1.0) < 0.01
    assert abs((np.abs(rail) - 1.0).std() - 0.125) < 0.005
    assert np.allclose(theta[:, 1:].std(axis=0), 0.5, atol=0.02)


def test_log_prob_integrates_to_one_along_the_rail_and_matches_the_mixture():
    prior = BimodalRailPrior()

    def density(h):
        return np.exp(prior.log_prob(np.array([[h, 0.0, 0.0, 0.0]])))[0]

    angles_at_zero = (2 * np.pi * 0.25) ** -1.5  # three N(0, 1/4) densities at 0
    mass, _ = integrate.quad(density, -3, 3, points=[-1, 1])
    assert mass / angles_at_zero == pytest.approx(1.0, abs=1e-6)
    expected = 0.5 * (2 * np.pi / 64) ** -0.5 * angles_at_zero
    assert density(1.0) == pytest.approx(expected, rel=1e-3)


def test_simulator_uses_the_given_prior_and_the_same_forward_model():
    simulator = KinematicsSimulator(prior=BimodalRailPrior())
    theta, x = simulator.sample_joint(500, seed=1)
    assert (np.abs(theta[:, 0]) > 0.5).mean() > 0.99
    assert np.allclose(x, end_point(theta))
    assert simulator.settings()["prior"]["family"] == "BimodalRailPrior"


@pytest.mark.parametrize("prior", [Normal(0.0, 1.0), "bimodal"])
def test_simulator_refuses_a_prior_of_the_wrong_kind(prior):
    with pytest.raises(ValueError, match="Prior over 4 parameters"):
        KinematicsSimulator(prior=prior)


@pytest.mark.parametrize(
    "kwargs", [{"rail_std": 0.0}, {"angle_std": -1.0}, {"rail_centre": np.nan}]
)
def test_prior_refuses_bad_settings(kwargs):
    with pytest.raises(ValueError, match="must be"):
        BimodalRailPrior(**kwargs)
