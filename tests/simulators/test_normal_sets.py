"""Normal sets: prior density, the conjugate posterior against a grid, set sizes and masks."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import special, stats

from sbinn.priors import JointPrior, Normal
from simulators.normal_sets import (
    NormalInverseGamma,
    NormalInverseGammaPrior,
    NormalSetsSimulator,
    set_mask,
)
from tests.simulator_support import no_warning


def grid_posterior(prior: NormalInverseGammaPrior, data: np.ndarray, mu: np.ndarray, s: np.ndarray):
    """Normalised posterior density of (mu, log sigma) on a grid, by brute force."""
    mm, ss = np.meshgrid(mu, s, indexing="ij")
    theta = np.c_[mm.ravel(), ss.ravel()]
    log_like = stats.norm.logpdf(data[:, None], theta[:, 0], np.exp(theta[:, 1])).sum(axis=0)
    log_post = (prior.log_prob(theta) + log_like).reshape(mm.shape)
    density = np.exp(log_post - log_post.max())
    return mm, ss, density / (density.sum() * (mu[1] - mu[0]) * (s[1] - s[0]))


def test_prior_density_is_the_documented_change_of_variables():
    prior = NormalInverseGammaPrior(mu0=0.5, kappa0=2.0, alpha0=3.0, beta0=2.0)
    theta = prior.sample(20, np.random.default_rng(0))
    variance = np.exp(2 * theta[:, 1])
    expected = (
        stats.invgamma.logpdf(variance, 3.0, scale=2.0)
        + stats.norm.logpdf(theta[:, 0], 0.5, np.sqrt(variance / 2.0))
        + np.log(2 * variance)
    )
    np.testing.assert_allclose(prior.log_prob(theta), expected, rtol=1e-10)


def test_prior_density_integrates_to_one():
    prior = NormalInverseGammaPrior()
    mu, s = np.linspace(-20, 20, 1601), np.linspace(-5, 4, 901)
    mm, ss = np.meshgrid(mu, s, indexing="ij")
    density = np.exp(prior.log_prob(np.c_[mm.ravel(), ss.ravel()]))
    assert density.sum() * (mu[1] - mu[0]) * (s[1] - s[0]) == pytest.approx(1.0, abs=1e-3)


def test_prior_samples_follow_the_normal_inverse_gamma_law():
    prior = NormalInverseGammaPrior(mu0=1.0, kappa0=4.0, alpha0=3.0, beta0=2.0)
    theta = prior.sample(20_000, np.random.default_rng(1))
    variance = np.exp(2 * theta[:, 1])
    assert stats.kstest(variance, stats.invgamma(3.0, scale=2.0).cdf).pvalue > 1e-3
    standard = (theta[:, 0] - 1.0) * np.sqrt(4.0 / variance)
    assert stats.kstest(standard, "norm").pvalue > 1e-3


@pytest.mark.parametrize("size", [1, 5, 8])
def test_posterior_matches_a_grid_posterior_for_small_sets(size):
    sim = NormalSetsSimulator(n_min=1, n_max=10)
    padded, mask = sim.simulate_sets([0.7, np.log(0.8)], rng=size, set_sizes=size)
    posterior = sim.posterior(padded, mask)
    std = float(sim.posterior_std_mu(padded, mask)[0])
    mu = np.linspace(posterior.mu[0] - 12 * std, posterior.mu[0] + 12 * std, 801)
    s = np.linspace(-5, 3, 801)
    mm, ss, density = grid_posterior(sim.prior, padded[0, mask[0], 0], mu, s)
    cell = (mu[1] - mu[0]) * (s[1] - s[0])
    grid_mean = (mm * density).sum() * cell
    grid_std = np.sqrt(((mm - grid_mean) ** 2 * density).sum() * cell)
    assert grid_mean == pytest.approx(posterior.mu[0], abs=1e-3 * std)
    assert grid_std == pytest.approx(std, rel=2e-3)
    expected_log_sigma = 0.5 * (np.log(posterior.beta[0]) - special.digamma(posterior.alpha[0]))
    assert (ss * density).sum() * cell == pytest.approx(expected_log_sigma, abs=1e-3)
    analytic = np.exp(posterior.log_prob(np.stack([mm.ravel(), ss.ravel()], axis=1)[None]))
    np.testing.assert_allclose(analytic[0], density.ravel(), atol=1e-3 * density.max())


def test_posterior_samples_have_the_analytic_moments():
    sim = NormalSetsSimulator(n_max=50)
    padded, mask = sim.simulate_sets([[0.0, 0.0], [2.0, -1.0]], rng=0, set_sizes=[6, 40])
    posterior = sim.posterior(padded, mask)
    samples = sim.true_posterior_sample(padded, mask, 100_000, seed=1)
    assert samples.shape == (2, 100_000, 2)
    std = sim.posterior_std_mu(padded, mask)
    assert np.all(np.abs(samples[..., 0].mean(axis=1) - posterior.mu) < 5 * std / np.sqrt(1e5))
    np.testing.assert_allclose(samples[..., 0].std(axis=1), std, rtol=0.02)
    log_sigma_mean = 0.5 * (np.log(posterior.beta) - special.digamma(posterior.alpha))
    log_sigma_var = 0.25 * special.polygamma(1, posterior.alpha)
    np.testing.assert_allclose(samples[..., 1].mean(axis=1), log_sigma_mean, atol=0.005)
    np.testing.assert_allclose(samples[..., 1].var(axis=1), log_sigma_var, rtol=0.02)
    scale = posterior.mu_marginal().std()
    np.testing.assert_allclose(scale, std, rtol=1e-10)


def test_posterior_is_calibrated_on_joint_draws():
    # Each true theta is an exact posterior draw given its set, so its posterior CDF is uniform.
    sim = NormalSetsSimulator(n_min=5, n_max=200)
    theta, x = no_warning(lambda: sim.sample_joint(3000, seed=2))
    posterior = sim.posterior(x)
    u_mu = posterior.mu_marginal().cdf(theta[:, 0])
    u_variance = stats.invgamma(posterior.alpha, scale=posterior.beta).cdf(np.exp(2 * theta[:, 1]))
    assert stats.kstest(u_mu, "uniform").pvalue > 1e-3
    assert stats.kstest(u_variance, "uniform").pvalue > 1e-3


def test_posterior_std_of_mu_shrinks_like_one_over_root_n():
    sim = NormalSetsSimulator(n_min=25, n_max=400)
    theta = np.tile([0.3, 0.0], (300, 1))
    std = {
        n: sim.posterior_std_mu(*sim.simulate_sets(theta, rng=n, set_sizes=n)).mean()
        for n in (25, 100, 400)
    }
    assert std[25] / std[100] == pytest.approx(2.0, rel=0.05)
    assert std[100] / std[400] == pytest.approx(2.0, rel=0.03)
    assert std[400] * np.sqrt(400) == pytest.approx(1.0, rel=0.03)


def test_sizes_vary_within_one_batch_and_masks_match_them():
    sim = NormalSetsSimulator()
    _, x = no_warning(lambda: sim.sample_joint(4000, seed=0))
    assert x.shape == (4000, 500, 1)
    mask = set_mask(x)
    sizes = mask.sum(axis=1)
    assert sizes.min() >= 5 and sizes.max() <= 500 and np.unique(sizes).size > 200
    np.testing.assert_array_equal(mask, np.arange(500) < sizes[:, None])
    assert np.isfinite(x[mask]).all() and np.isnan(x[~mask]).all()
    # Log-uniform: P(n <= 50) = log(51 / 5) / log(501 / 5).
    assert (sizes <= 50).mean() == pytest.approx(np.log(51 / 5) / np.log(501 / 5), abs=0.03)


def test_uniform_set_size_law():
    sim = NormalSetsSimulator(10, 100, set_size_law="uniform")
    sizes = sim.sample_set_sizes(20_000, rng=0)
    assert sizes.min() == 10 and sizes.max() == 100
    assert sizes.mean() == pytest.approx(55.0, abs=0.5)


def test_simulations_follow_the_model_and_sets_are_nested_in_their_seed():
    sim = NormalSetsSimulator(n_max=400)
    padded, mask = sim.simulate_sets(np.tile([0.5, np.log(2.0)], (50, 1)), 0, set_sizes=400)
    assert mask.all()
    assert padded.mean() == pytest.approx(0.5, abs=0.05)
    assert padded.std() == pytest.approx(2.0, rel=0.02)
    short, _ = sim.simulate_sets([[0.0, 0.0]], 3, set_sizes=10)
    long, _ = sim.simulate_sets([[0.0, 0.0]], 3, set_sizes=20)
    np.testing.assert_array_equal(short[0, :10], long[0, :10])


def test_simulate_sets_reproduces_simulate_and_seeds_reproduce():
    sim = NormalSetsSimulator(n_max=60)
    theta = sim.prior.sample(20, np.random.default_rng(0))
    x = sim.simulate(theta, rng=4)
    padded, mask = sim.simulate_sets(theta, rng=4)
    np.testing.assert_array_equal(x, padded)
    np.testing.assert_array_equal(mask, set_mask(x))
    np.testing.assert_array_equal(sim.sample_joint(5, seed=1)[1], sim.sample_joint(5, seed=1)[1])
    samples = sim.true_posterior_sample(x, None, 10, seed=2)
    np.testing.assert_array_equal(samples, sim.true_posterior_sample(x, mask, 10, seed=2))


def test_permuting_a_set_leaves_the_posterior_unchanged():
    sim = NormalSetsSimulator(n_max=80)
    padded, mask = sim.simulate_sets(sim.prior.sample(6, np.random.default_rng(0)), rng=1)
    rng = np.random.default_rng(2)
    # Shuffle whole rows, padding included, so present entries are no longer a prefix.
    order = np.argsort(rng.random(mask.shape), axis=1)
    shuffled = np.take_along_axis(padded, order[..., None], axis=1)
    shuffled_mask = np.take_along_axis(mask, order, axis=1)
    before, after = sim.posterior(padded, mask), sim.posterior(shuffled, shuffled_mask)
    for field in ("mu", "kappa", "alpha", "beta"):
        np.testing.assert_allclose(getattr(after, field), getattr(before, field), rtol=1e-12)


def test_masked_entries_are_ignored_and_lengths_may_differ_from_n_max():
    sim = NormalSetsSimulator(n_max=500)
    values = np.array([[[1.0], [2.0], [4.0], [-7.0]]])
    mask = np.array([[True, True, True, False]])
    garbage = sim.posterior(values, mask)
    clean = sim.posterior(values[:, :3], None)
    np.testing.assert_allclose(garbage.beta, clean.beta)
    # kappa_n = 1 + 3, mu_n = 7 / 4, beta_n = 2 + 7 / 3 + 3 * (7 / 3) ** 2 / 8
    assert clean.mu[0] == pytest.approx(7 / 4)
    assert clean.beta[0] == pytest.approx(2 + 7 / 3 + 3 * (7 / 3) ** 2 / 8)


def test_failed_rows_are_flagged_and_padding_is_not():
    sim = NormalSetsSimulator(n_min=1, n_max=4)
    nan, inf = np.nan, np.inf
    x = np.array([[1.0, 2.0, nan, nan], [1.0, inf, nan, nan], [1.0, nan, 2.0, nan], [nan] * 4])
    assert sim.valid_mask(x[..., None]).tolist() == [True, False, False, False]
    padded, mask = sim.simulate_sets([[0.0, 0.0], [0.0, 1000.0]], rng=0)
    assert mask[0].any() and not mask[1].any() and np.isnan(padded[1]).all()


def test_settings_are_json_and_name_the_set_sizes_and_prior():
    record = json.loads(json.dumps(NormalSetsSimulator(3, 30, set_size_law="uniform").settings()))
    assert record["observation_shape"] == [30, 1]
    assert (record["n_min"], record["n_max"], record["set_size_law"]) == (3, 30, "uniform")
    assert record["prior"]["family"] == "NormalInverseGamma"
    assert record["parameter_names"] == ["mu", "log_sigma"]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_min": 0}, ValueError, "n_min must be a positive integer"),
        ({"n_min": 10, "n_max": 5}, ValueError, "need n_min <= n_max"),
        ({"n_max": 50.0}, TypeError, "n_max must be a positive integer"),
        ({"set_size_law": "loguniform"}, ValueError, "set_size_law must be one of"),
        ({"prior": JointPrior({"mu": Normal(0, 1)})}, TypeError, "NormalInverseGammaPrior"),
    ],
)
def test_invalid_configuration_is_rejected(kwargs, error, match):
    with pytest.raises(error, match=match):
        NormalSetsSimulator(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"kappa0": 0.0}, ValueError, "kappa must be > 0"),
        ({"alpha0": -1.0}, ValueError, "alpha must be > 0"),
        ({"beta0": float("inf")}, ValueError, "beta must be finite"),
        ({"mu0": True}, TypeError, "mu0 must be a real number"),
    ],
)
def test_invalid_prior_is_rejected(kwargs, error, match):
    with pytest.raises(error, match=match):
        NormalInverseGammaPrior(**kwargs)


@pytest.mark.parametrize(
    ("set_sizes", "error", "match"),
    [
        (0, ValueError, r"set_sizes must lie in 1..20"),
        (21, ValueError, r"set_sizes must lie in 1..20"),
        ([3, 4, 5], ValueError, r"one per parameter vector \(2\)"),
        (2.5, TypeError, "set_sizes must be integers"),
    ],
)
def test_bad_set_sizes_are_rejected(set_sizes, error, match):
    with pytest.raises(error, match=match):
        NormalSetsSimulator(n_max=20).simulate_sets(np.zeros((2, 2)), 0, set_sizes=set_sizes)


def test_bad_sets_and_masks_are_rejected():
    sim = NormalSetsSimulator(n_min=1, n_max=4)
    padded = np.zeros((2, 4, 1))
    mask = np.ones((2, 4), dtype=bool)
    with pytest.raises(ValueError, match=r"padded must have shape \(n_obs, length, 1\)"):
        sim.posterior(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"values and mask must both have shape"):
        sim.posterior(padded, mask[:, :3])
    with pytest.raises(TypeError, match="mask must be a boolean array"):
        sim.posterior(padded, mask.astype(float))
    with pytest.raises(ValueError, match="1 set\\(s\\) are empty, first at row 1"):
        sim.posterior(padded, np.array([[True] * 4, [False] * 4]))
    with pytest.raises(ValueError, match="finite wherever mask is True"):
        sim.posterior(np.full((1, 4, 1), np.nan), np.ones((1, 4), dtype=bool))
    with pytest.raises(ValueError, match="num_samples must be a positive integer"):
        sim.true_posterior_sample(padded, mask, 0)
    with pytest.raises(ValueError, match=r"theta must have shape \(n, 2\)"):
        sim.simulate_sets(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"theta must have shape \(\*\(\), m, 2\)"):
        NormalInverseGamma(0.0, 1.0, 3.0, 2.0).log_prob(np.zeros((2, 3)))
