"""Linear-Gaussian simulator against Gaussian conditioning, importance sampling and its draws."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from simulators.linear_gaussian import GaussianPrior, LinearGaussianSimulator, mixing_matrix
from tests.simulator_support import no_warning


def conditional_gaussian(sim: LinearGaussianSimulator, x_obs: np.ndarray):
    """Posterior by conditioning the joint Gaussian of (theta, x), in covariance form."""
    a, m0, s0 = sim.matrix, sim.prior.mean, sim.prior.cov
    cov_x = a @ s0 @ a.T + sim.noise_std**2 * np.eye(a.shape[0])
    gain = np.linalg.solve(cov_x, a @ s0).T
    return m0 + (x_obs - m0 @ a.T) @ gain.T, s0 - gain @ a @ s0


@pytest.mark.parametrize(("dim_theta", "dim_x"), [(5, None), (7, 3), (10, 20), (6, 1)])
def test_posterior_equals_joint_gaussian_conditioning(dim_theta, dim_x):
    sim = LinearGaussianSimulator(dim_theta, dim_x, noise_std=0.3, seed=dim_theta)
    _, x = sim.sample_joint(8, seed=0)
    means, cov = sim.posterior(x)
    expected_means, expected_cov = conditional_gaussian(sim, x)
    np.testing.assert_allclose(means, expected_means, atol=1e-10)
    np.testing.assert_allclose(cov, expected_cov, atol=1e-10)


def test_posterior_with_a_correlated_prior_equals_conditioning():
    rng = np.random.default_rng(3)
    root = rng.standard_normal((6, 6))
    cov = root @ root.T / 6 + 0.1 * np.eye(6)
    sim = LinearGaussianSimulator(6, 4, noise_std=0.2, prior_mean=np.arange(6.0), prior_cov=cov)
    _, x = sim.sample_joint(5, seed=1)
    means, post_cov = sim.posterior(x)
    expected_means, expected_cov = conditional_gaussian(sim, x)
    np.testing.assert_allclose(means, expected_means, atol=1e-9)
    np.testing.assert_allclose(post_cov, expected_cov, atol=1e-10)


def test_posterior_matches_importance_sampling_from_the_prior():
    sim = LinearGaussianSimulator(5, noise_std=1.0, seed=2)
    _, x_obs = sim.sample_joint(1, seed=3)
    proposals = sim.prior.sample(200_000, np.random.default_rng(4))
    residual = x_obs - proposals @ sim.matrix.T
    log_w = -0.5 * (residual**2).sum(axis=1) / sim.noise_std**2
    w = np.exp(log_w - log_w.max())
    w /= w.sum()
    ess = 1 / (w**2).sum()
    assert ess > 5000
    mean = w @ proposals
    cov = (proposals - mean).T @ ((proposals - mean) * w[:, None])
    means, expected_cov = sim.posterior(x_obs)
    tol = 5 * np.sqrt(np.diag(expected_cov) / ess)
    np.testing.assert_array_less(np.abs(mean - means[0]), tol)
    np.testing.assert_allclose(cov, expected_cov, atol=0.03)


def test_whitened_errors_of_joint_draws_are_standard_normal():
    # theta drawn with its x is an exact posterior draw, so L^-1 (theta - m(x)) ~ N(0, I).
    sim = LinearGaussianSimulator(8, 5, noise_std=0.1, seed=1)
    theta, x = no_warning(lambda: sim.sample_joint(40_000, seed=5))
    means, cov = sim.posterior(x)
    white = np.linalg.solve(np.linalg.cholesky(cov), (theta - means).T).T
    np.testing.assert_allclose(white.mean(axis=0), 0.0, atol=0.03)
    np.testing.assert_allclose(np.cov(white.T), np.eye(8), atol=0.03)


def test_posterior_samples_have_the_analytic_mean_and_covariance():
    sim = LinearGaussianSimulator(6, noise_std=0.5, seed=0)
    _, x = sim.sample_joint(3, seed=1)
    samples = sim.true_posterior_sample(x, 50_000, seed=2)
    means, cov = sim.posterior(x)
    assert samples.shape == (3, 50_000, 6)
    sd = np.sqrt(np.diag(cov))
    assert np.all(np.abs(samples.mean(axis=1) - means) < 5 * sd / np.sqrt(50_000))
    scale = np.outer(sd, sd)
    for obs in range(3):
        np.testing.assert_allclose(np.cov(samples[obs].T) / scale, cov / scale, atol=0.03)


def test_entropy_is_the_closed_form_and_the_expected_negative_log_posterior():
    sim = LinearGaussianSimulator(9, 4, noise_std=0.2, seed=7)
    _, cov = sim.posterior(np.zeros(4))
    closed = 0.5 * np.log(np.linalg.det(2 * np.pi * np.e * cov))
    assert sim.posterior_entropy() == pytest.approx(closed, abs=1e-9)
    assert sim.posterior_entropy() == pytest.approx(stats.multivariate_normal(cov=cov).entropy())
    theta, x = sim.sample_joint(20_000, seed=0)
    means, _ = sim.posterior(x)
    nll = -stats.multivariate_normal(cov=cov).logpdf(theta - means)
    assert nll.mean() == pytest.approx(sim.posterior_entropy(), abs=4 * nll.std() / np.sqrt(20_000))


def test_more_noise_or_fewer_observations_widen_the_posterior():
    base = LinearGaussianSimulator(5, noise_std=0.1).posterior_entropy()
    assert LinearGaussianSimulator(5, noise_std=0.5).posterior_entropy() > base
    assert LinearGaussianSimulator(5, 2, noise_std=0.1).posterior_entropy() > base


def test_simulations_follow_the_forward_model():
    sim = LinearGaussianSimulator(5, 3, noise_std=0.2, seed=4)
    theta = np.tile(np.arange(5.0) / 5, (30_000, 1))
    x = sim.simulate(theta, rng=0)
    np.testing.assert_allclose(x.mean(axis=0), sim.matrix @ theta[0], atol=0.01)
    np.testing.assert_allclose(np.cov(x.T), 0.04 * np.eye(3), atol=0.002)


def test_noise_draws_are_exposed_and_leave_the_simulations_unchanged():
    sim = LinearGaussianSimulator(4, 3, noise_std=0.2, seed=1)
    theta = sim.prior.sample(50, np.random.default_rng(0))
    x, noise = sim.simulate_with_noise(theta, 7)
    assert sim.noise_dimension == 3 and noise.shape == (50, 3)
    np.testing.assert_allclose(x, theta @ sim.matrix.T + 0.2 * noise)
    # The draws come from the same stream as simulate()'s, so exposing them changed no result.
    np.testing.assert_array_equal(sim.simulate(theta, 7), x)
    clean = theta @ sim.matrix.T
    np.testing.assert_array_equal(
        x, clean + 0.2 * np.random.default_rng(7).standard_normal(clean.shape)
    )


def test_matrix_has_the_documented_distribution():
    a = mixing_matrix(400, 10, seed=0)
    assert a.shape == (400, 10)
    assert a.mean() == pytest.approx(0.0, abs=0.02)
    assert a.var() == pytest.approx(1 / 10, rel=0.05)


def test_seeds_reproduce_and_differ():
    sim = LinearGaussianSimulator(5, seed=3)
    np.testing.assert_array_equal(sim.matrix, LinearGaussianSimulator(5, seed=3).matrix)
    assert not np.allclose(sim.matrix, LinearGaussianSimulator(5, seed=4).matrix)
    np.testing.assert_array_equal(sim.sample_joint(4, seed=1)[1], sim.sample_joint(4, seed=1)[1])
    x = sim.sample_joint(2, seed=0)[1]
    first = sim.true_posterior_sample(x, 10, seed=5)
    np.testing.assert_array_equal(first, sim.true_posterior_sample(x, 10, seed=5))
    assert not np.allclose(first, sim.true_posterior_sample(x, 10, seed=6))


def test_settings_record_the_problem_and_rebuild_it():
    sim = LinearGaussianSimulator(5, 3, noise_std=0.2, seed=9)
    record = json.loads(json.dumps(sim.settings()))
    assert record["name"] == "linear_gaussian"
    assert record["observation_shape"] == [3]
    assert record["prior"]["family"] == "MultivariateNormal"
    rebuilt = LinearGaussianSimulator(
        len(record["parameter_names"]), record["dim_x"], record["noise_std"], record["seed"]
    )
    np.testing.assert_array_equal(rebuilt.matrix, np.array(record["matrix"]))


def test_gaussian_prior_density_matches_scipy_and_its_samples():
    mean, cov = np.array([1.0, -1.0]), np.array([[2.0, 0.6], [0.6, 0.5]])
    prior = GaussianPrior(mean, cov)
    theta = prior.sample(50_000, np.random.default_rng(0))
    np.testing.assert_allclose(np.cov(theta.T), cov, atol=0.03)
    expected = stats.multivariate_normal(mean, cov).logpdf(theta[:5])
    np.testing.assert_allclose(prior.log_prob(theta[:5]), expected, atol=1e-10)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"dim_theta": 0}, ValueError, "dim_theta must be a positive integer"),
        ({"dim_theta": 2.5}, TypeError, "dim_theta must be a positive integer"),
        ({"dim_x": 0}, ValueError, "dim_x must be a positive integer"),
        ({"noise_std": 0.0}, ValueError, "noise_std must be a finite number > 0"),
        ({"noise_std": float("nan")}, ValueError, "noise_std must be a finite number > 0"),
        ({"seed": -1}, ValueError, "seed must be an integer >= 0"),
        (
            {"prior_mean": [0.0, 1.0]},
            ValueError,
            "prior_mean must be a scalar or a vector of length 5",
        ),
        ({"prior_cov": np.eye(4)}, ValueError, r"cov must have shape \(5, 5\)"),
        ({"prior_cov": -np.eye(5)}, ValueError, "cov must be symmetric positive definite"),
        ({"prior_cov": np.triu(np.ones((5, 5)))}, ValueError, "asymmetric"),
    ],
)
def test_invalid_configuration_is_rejected(kwargs, error, match):
    with pytest.raises(error, match=match):
        LinearGaussianSimulator(**kwargs)


def test_wrong_shapes_and_sample_counts_are_rejected():
    sim = LinearGaussianSimulator(5, 3)
    with pytest.raises(ValueError, match=r"x_obs must have shape \(n, 3\) or \(3,\)"):
        sim.posterior(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="x_obs must be finite"):
        sim.true_posterior_sample([[np.nan, 0.0, 0.0]], 10)
    with pytest.raises(ValueError, match="num_samples must be a positive integer"):
        sim.true_posterior_sample(np.zeros(3), 0)
    with pytest.raises(ValueError, match=r"theta must have shape \(n, 5\)"):
        sim.simulate(np.zeros((2, 3)))
