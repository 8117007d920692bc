"""Simulation-based calibration against linear-Gaussian models with exact posteriors.

A calibrated posterior must pass the uniformity test at the 1% level in all but about
1% of seeds; over-confident, biased and under-confident ones must fail it, with the rank
histogram shaped as Talts et al. describe (U, slope, hump).
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from scipy import stats

from sbinn.diagnostics.sbc import sbc_ecdf_band, sbc_ranks, sbc_uniformity
from tests.diagnostics.gaussian_support import linear_gaussian, marginal_shift

NUM_SEEDS = 40
MODELS = pytest.mark.parametrize("dim", [1, 2], ids=["conjugate-1d", "correlated-2d"])


@MODELS
def test_exact_posterior_passes_in_most_seeds(dim):
    results = [
        sbc_uniformity(*linear_gaussian(200, 100, seed=seed, dim=dim)[:2], num_resamples=10)
        for seed in range(NUM_SEEDS)
    ]
    # A valid 1% test rejects a calibrated posterior in 1% of seeds: 0.4 of 40 expected.
    passed = np.mean([r.value > 0.01 for r in results])
    assert passed >= 0.95
    # The band flag is a 5% test; 7 or more flags of 40 happen with probability < 0.5%.
    assert sum(r.details["ecdf_band_outside"] for r in results) <= 6
    # Under uniformity p-values are uniform, not piled up near 1 or 0.
    per_dimension = [p for r in results for p in r.per_dimension.values()]
    assert stats.kstest(per_dimension, "uniform").pvalue > 0.001


@MODELS
@pytest.mark.parametrize(
    ("scale", "shift", "shape"),
    [(0.5, 0.0, "U"), (1.0, 0.5, "slope"), (2.0, 0.0, "hump")],
    ids=["over-confident", "biased", "under-confident"],
)
def test_miscalibrated_posterior_is_flagged(dim, scale, shift, shape):
    num_samples = 100
    for seed in range(5):
        samples, theta, _ = linear_gaussian(
            500, num_samples, seed=seed, dim=dim, scale=scale, shift=shift
        )
        result = sbc_uniformity(samples, theta, num_resamples=10)
        assert result.value < 0.01
        assert result.details["ecdf_band_outside"]
    ranks = np.asarray(result.details["ranks"]) / num_samples
    outer = np.mean((ranks < 0.25) | (ranks > 0.75))
    if shape == "U":
        assert outer > 0.6
    elif shape == "hump":
        assert outer < 0.4
    else:
        # Samples shifted by δ marginal stds put the truth at u = Φ(W − δ), of mean Φ(−δ/√2);
        # the mean of 500 uniform ranks has std 0.013.
        expected = stats.norm.cdf(-marginal_shift(dim, shift) / np.sqrt(2))
        assert np.all(np.abs(ranks.mean(axis=0) - expected) < 0.05)
        assert np.all(ranks.mean(axis=0) < 0.5)


def test_ranks_count_samples_below():
    samples = np.array([[[0.0, 5.0], [1.0, 6.0], [2.0, 7.0]], [[3.0, 0.0], [4.0, 0.0], [5.0, 0.0]]])
    ranks = sbc_ranks(samples, [[1.5, 10.0], [2.0, -1.0]])
    assert ranks.dtype.kind == "i"
    assert ranks.tolist() == [[2, 3], [0, 0]]


def test_ties_are_broken_uniformly_and_reproducibly():
    samples = np.zeros((20_000, 4, 1))
    ranks = sbc_ranks(samples, np.zeros((20_000, 1)), seed=1)
    frequencies = np.bincount(ranks.ravel(), minlength=5) / ranks.size
    # Each of the 5 positions has probability 0.2; the binomial std is 0.003.
    assert np.allclose(frequencies, 0.2, atol=0.015)
    assert np.array_equal(sbc_ranks(samples, np.zeros((20_000, 1)), seed=1), ranks)
    assert not np.array_equal(sbc_ranks(samples, np.zeros((20_000, 1)), seed=2), ranks)


def test_discrete_posterior_needs_tie_breaking():
    # Posterior = prior on {0, ..., 4} (the data say nothing): calibrated, with many ties.
    rng = np.random.default_rng(3)
    samples = rng.integers(0, 5, size=(1000, 50, 1)).astype(float)
    theta = rng.integers(0, 5, size=(1000, 1)).astype(float)
    assert sbc_uniformity(samples, theta, num_resamples=10).value > 0.01
    below = (samples < theta[:, None, :]).sum(axis=1)
    counts = np.bincount(below.ravel() * 20 // 51, minlength=20)
    assert stats.chisquare(counts).pvalue < 1e-6


def test_p_value_is_pearson_chi_square():
    # 100 possible ranks in 20 bins of 5: the plain equal-bin test applies.
    samples, theta, _ = linear_gaussian(300, 99, seed=4, dim=2, scale=0.8)
    result = sbc_uniformity(samples, theta, parameter_names=["a", "b"], num_bins=20)
    ranks = np.asarray(result.details["ranks"])
    expected = [stats.chisquare(np.bincount(ranks[:, k] // 5, minlength=20)).pvalue for k in (0, 1)]
    assert [result.per_dimension["a"], result.per_dimension["b"]] == pytest.approx(expected)
    assert result.value == pytest.approx(min(1.0, 2 * min(expected)))
    assert result.low == result.high == result.value


def test_uneven_bins_have_exact_expected_counts():
    # 3 possible ranks in 2 bins: bin 0 holds ranks {0, 1}, so expects 2/3 of observations.
    samples = np.array([[[0.0], [1.0]]] * 300)
    theta = np.repeat([[-1.0], [0.5], [2.0]], 100, axis=0)
    assert sbc_uniformity(samples, theta, num_bins=2).value == pytest.approx(1.0)


@pytest.mark.parametrize("num_obs", [50, 500])
def test_ecdf_band_is_simultaneous(num_obs):
    z, lower, upper = sbc_ecdf_band(num_obs, confidence=0.95)
    assert z[0] == 0 and z[-1] == 1 and lower[0] == upper[-1] == 0
    uniforms = np.sort(np.random.default_rng(5).random((4000, num_obs)), axis=1)
    ecdf = np.stack([np.searchsorted(row, z, side="right") for row in uniforms]) / num_obs
    difference = ecdf - z
    inside = np.all((difference >= lower) & (difference <= upper), axis=1)
    # The band's level is simulated from 2000 curves and checked on 4000 others: the
    # combined Monte Carlo std of the coverage is about 0.006.
    assert 0.93 <= inside.mean() <= 0.97
    pointwise_low = stats.binom.ppf(0.025, num_obs, z) / num_obs - z
    pointwise_high = stats.binom.ppf(0.975, num_obs, z) / num_obs - z
    pointwise = np.all((difference >= pointwise_low) & (difference <= pointwise_high), axis=1)
    assert pointwise.mean() < 0.85
    assert np.all(lower <= pointwise_low) and np.all(upper >= pointwise_high)


def test_ecdf_band_widens_with_confidence_and_narrows_with_observations():
    _, low_95, high_95 = sbc_ecdf_band(200, num_simulations=500)
    _, low_99, high_99 = sbc_ecdf_band(200, confidence=0.99, num_simulations=500)
    _, low_big, high_big = sbc_ecdf_band(5000, num_simulations=500)
    assert np.all(low_99 <= low_95) and np.all(high_99 >= high_95)
    # Widths shrink like 1/sqrt(n): a factor of 5 here.
    assert high_big[100] - low_big[100] < (high_95[100] - low_95[100]) / 3


def test_ecdf_band_speed():
    # CPU time, so that a busy machine does not fail the test.
    start = time.process_time()
    sbc_ecdf_band(10_000)
    assert time.process_time() - start < 1.0


def test_result_shapes_and_json():
    samples, theta, _ = linear_gaussian(120, 30, seed=6, dim=2)
    result = sbc_uniformity(samples, theta, parameter_names=["m", "c"], seed=3)
    assert result.name == "sbc_uniformity_p"
    assert list(result.per_dimension) == ["m", "c"]
    assert np.asarray(result.details["ranks"]).shape == (120, 2)
    assert result.details["num_samples"] == 30
    assert result.details["num_bins"] == 12
    assert isinstance(result.details["ecdf_band_outside"], bool)
    assert set(result.details["ecdf_band_outside_per_dimension"]) == {"m", "c"}
    ecdf = result.details["ecdf"]
    assert len(ecdf["z"]) == len(ecdf["lower"]) == len(ecdf["difference"]["m"]) == 201
    assert "χ²" in result.method and "Bonferroni" in result.method
    json.dumps(result.details, allow_nan=False)
    json.dumps(result.to_json(), allow_nan=False)
    again = sbc_uniformity(samples, theta, parameter_names=["m", "c"], seed=3)
    assert again.details == result.details


@pytest.mark.parametrize(
    ("samples", "theta", "match"),
    [
        (np.zeros((5, 2)), np.zeros((5, 2)), r"samples must have shape \(n_obs, num_samples"),
        (np.zeros((5, 0, 2)), np.zeros((5, 2)), "no empty axis"),
        (np.zeros((5, 10, 2)), np.zeros((4, 2)), r"one row per observation.*got shape \(4, 2\)"),
        (np.zeros((5, 10, 2)), np.zeros((5, 3)), r"theta_true must have shape \(n, 2\)"),
        (np.full((5, 10, 2), np.nan), np.zeros((5, 2)), "samples must be finite.*observation 0"),
        (np.zeros((5, 10, 2)), np.full((5, 2), np.inf), "theta_true must be finite"),
    ],
)
def test_invalid_inputs_raise(samples, theta, match):
    with pytest.raises(ValueError, match=match):
        sbc_uniformity(samples, theta)
    with pytest.raises(ValueError, match=match):
        sbc_ranks(samples, theta)


def test_invalid_options_raise():
    samples, theta, _ = linear_gaussian(10, 20, seed=7, dim=2)
    with pytest.raises(
        ValueError, match=r"num_bins must lie in 2 \.\. num_samples \+ 1 = 21, got 22"
    ):
        sbc_uniformity(samples, theta, num_bins=22)
    with pytest.raises(ValueError, match=r"num_bins must lie in 2 \.\. num_samples"):
        sbc_uniformity(samples, theta, num_bins=1)
    with pytest.raises(TypeError, match="num_bins must be a positive integer, got float"):
        sbc_uniformity(samples, theta, num_bins=5.0)
    with pytest.raises(ValueError, match="parameter_names must have 2 entries, got 1"):
        sbc_uniformity(samples, theta, parameter_names=["a"])
    with pytest.raises(ValueError, match=r"confidence must lie in \(0, 1\)"):
        sbc_uniformity(samples, theta, confidence=1.0)
    with pytest.raises(ValueError, match="num_resamples must be a positive integer, got 0"):
        sbc_uniformity(samples, theta, num_resamples=0)
    with pytest.raises(ValueError, match="num_obs must be a positive integer, got 0"):
        sbc_ecdf_band(0)
    with pytest.raises(ValueError, match="num_points must be at least 3, got 2"):
        sbc_ecdf_band(10, num_points=2)
    with pytest.raises(ValueError, match=r"confidence must lie in \(0, 1\), got 0.0"):
        sbc_ecdf_band(10, confidence=0.0)
    with pytest.raises(ValueError, match="num_simulations must be a positive integer"):
        sbc_ecdf_band(10, num_simulations=-1)
