"""Calibration error against the conjugate Gaussian model, where the exact posterior is known.

Prior θ ~ N(0, I), likelihood x = θ + N(0, σ²I): the posterior is N(x/(1+σ²), σ²/(1+σ²) I).
A reported posterior N(μ + b·s, (c·s)²), with (μ, s) the true posterior mean and std, puts
the truth at W = (θ* − μ)/s ~ N(0, 1), so the truth lies in its central α-interval iff
b − c·q ≤ W ≤ b + c·q with q = Φ⁻¹((1+α)/2): α_inl = Φ(b + c·q) − Φ(b − c·q). The tests
compare the measured curve with this analytic one.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from scipy import stats

from sbinn.diagnostics import calibration_curve, calibration_error, posterior_cdf_values
from sbinn.diagnostics.calibration import default_alphas

NOISE = 0.5


def conjugate_gaussian(num_obs, num_samples, dim, *, seed, scale=1.0, shift=0.0):
    """Posterior samples with std scaled by ``scale`` and mean shifted by ``shift`` post. stds."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=(num_obs, dim))
    x = theta + NOISE * rng.normal(size=(num_obs, dim))
    post_mean = x / (1 + NOISE**2)
    post_std = NOISE / np.sqrt(1 + NOISE**2)
    noise = rng.normal(size=(num_obs, num_samples, dim))
    samples = post_mean[:, None, :] + post_std * (shift + scale * noise)
    return samples, theta


def analytic_curve(alphas, *, scale=1.0, shift=0.0):
    q = stats.norm.ppf((1 + alphas) / 2)
    return stats.norm.cdf(shift + scale * q) - stats.norm.cdf(shift - scale * q) - alphas


# With 4000 observations the binomial noise of α_inl is at most sqrt(0.25/4000) = 0.008;
# 0.035 is over four such standard deviations, plus the 1/(N+1) discretisation.
CURVE_TOLERANCE = 0.035


def test_exact_posterior_is_calibrated():
    samples, theta = conjugate_gaussian(4000, 500, 2, seed=0)
    result = calibration_error(samples, theta)
    assert result.value <= 0.01
    assert all(v <= 0.015 for v in result.per_dimension.values())
    assert result.low <= result.value <= result.high


@pytest.mark.parametrize(
    ("scale", "shift", "sign"),
    [(0.5, 0.0, -1), (1.0, 1.0, -1), (2.0, 0.0, 1)],
    ids=["over-confident", "biased", "under-confident"],
)
def test_miscalibrated_curves_match_analytic(scale, shift, sign):
    samples, theta = conjugate_gaussian(4000, 500, 2, seed=1, scale=scale, shift=shift)
    alphas, curve = calibration_curve(samples, theta)
    expected = analytic_curve(alphas, scale=scale, shift=shift)
    assert np.max(np.abs(curve - expected[:, None])) < CURVE_TOLERANCE
    interior = (alphas >= 0.05) & (alphas <= 0.95)
    assert np.all(np.sign(curve[interior]) == sign)


def test_over_confident_posterior_is_caught():
    samples, theta = conjugate_gaussian(4000, 500, 2, seed=2, scale=0.5)
    assert calibration_error(samples, theta).value >= 0.10


def test_biased_posterior_is_caught():
    # A one-std shift gives median |α_inl − α| ≈ 0.153 analytically: far above the ≤ 0.01
    # of a calibrated posterior, and close to the analytic value.
    samples, theta = conjugate_gaussian(4000, 500, 2, seed=3, shift=1.0)
    result = calibration_error(samples, theta)
    expected = np.median(np.abs(analytic_curve(default_alphas(), shift=1.0)))
    assert result.value >= 0.10
    assert abs(result.value - expected) < 0.02
    alphas, curve = calibration_curve(samples, theta)
    # Over-confident-like: misses most at middling α, not at the ends of the grid.
    assert 0.2 < alphas[np.argmin(curve.mean(axis=1))] < 0.9


def test_error_is_median_of_absolute_curve():
    samples, theta = conjugate_gaussian(500, 100, 3, seed=4, scale=0.8)
    alphas = np.array([0.1, 0.5, 0.9])
    result = calibration_error(samples, theta, alphas=alphas, parameter_names=["a", "b", "c"])
    _, curve = calibration_curve(samples, theta, alphas=alphas)
    assert result.value == pytest.approx(np.median(np.abs(curve)))
    for k, name in enumerate("abc"):
        assert result.per_dimension[name] == pytest.approx(np.median(np.abs(curve[:, k])))
        assert result.details["curve"][name] == pytest.approx(curve[:, k].tolist())
    assert result.details["alphas"] == alphas.tolist()


def test_rank_method_agrees_with_explicit_quantiles():
    num_samples = 400
    samples, theta = conjugate_gaussian(1000, num_samples, 2, seed=5, scale=0.7)
    alphas = np.array([0.2, 0.5, 0.8, 0.95])[:, None, None]
    low = np.quantile(samples, (1 - alphas[:, 0, 0]) / 2, axis=1)  # (n_alphas, n_obs, dim)
    high = np.quantile(samples, (1 + alphas[:, 0, 0]) / 2, axis=1)
    explicit = (low <= theta) & (theta <= high)
    by_rank = np.abs(posterior_cdf_values(samples, theta) - 0.5) <= alphas / 2
    # The definitions may only differ for truths within two ranks of an interval end: the
    # O(1/num_samples) choice of how quantiles interpolate between samples.
    rank = (samples < theta[:, None, :]).sum(axis=1)
    ends = ((1 - alphas) / 2 * (num_samples + 1), (1 + alphas) / 2 * (num_samples + 1))
    near_end = (np.abs(rank - ends[0]) <= 2) | (np.abs(rank - ends[1]) <= 2)
    assert np.all((explicit == by_rank) | near_end)
    assert np.mean(explicit == by_rank) > 0.99
    _, curve = calibration_curve(samples, theta, alphas=alphas[:, 0, 0])
    assert np.allclose(curve, by_rank.mean(axis=1) - alphas[:, :, 0])


def test_ties_are_placed_in_the_middle():
    samples = np.array([[[0.0], [1.0], [1.0], [2.0]]])
    assert posterior_cdf_values(samples, [[1.0]]).item() == pytest.approx(0.5)
    rng = np.random.default_rng(6)
    discrete = rng.integers(-3, 4, size=(200, 50, 2)).astype(float)
    truth = rng.integers(-3, 4, size=(200, 2)).astype(float)
    u = posterior_cdf_values(discrete, truth)
    assert np.allclose(posterior_cdf_values(-discrete, -truth), 1 - u)


def test_cdf_values_are_uniform_for_exact_posterior():
    samples, theta = conjugate_gaussian(2000, 200, 1, seed=7)
    u = posterior_cdf_values(samples, theta)
    assert np.all((u > 0) & (u < 1))
    assert stats.kstest(u.ravel(), "uniform").pvalue > 0.001


def test_result_shapes_and_json():
    samples, theta = conjugate_gaussian(100, 50, 2, seed=8)
    result = calibration_error(samples, theta, parameter_names=["m", "c"], num_resamples=50)
    assert result.name == "calibration_error"
    assert list(result.per_dimension) == ["m", "c"]
    assert len(result.details["alphas"]) == 99
    assert {len(v) for v in result.details["curve"].values()} == {99}
    assert "50 resamples" in result.method and "68%" in result.method
    payload = result.to_json()
    assert set(payload) == {"value", "low", "high", "per_dimension"}
    assert all(type(payload[k]) is float for k in ("value", "low", "high"))
    json.dumps(payload, allow_nan=False)
    alphas, curve = calibration_curve(samples, theta, alphas=[0.3, 0.6])
    assert alphas.shape == (2,) and curve.shape == (2, 2)


@pytest.mark.parametrize(
    ("samples", "theta", "match"),
    [
        (np.zeros((5, 2)), np.zeros((5, 2)), r"samples must have shape \(n_obs, num_samples"),
        (np.zeros((5, 10, 2, 1)), np.zeros((5, 2)), r"got shape \(5, 10, 2, 1\)"),
        (np.zeros((5, 0, 2)), np.zeros((5, 2)), "no empty axis"),
        (np.zeros((5, 10, 2)), np.zeros((4, 2)), "one row per observation.*got shape \\(4, 2\\)"),
        (np.zeros((5, 10, 2)), np.zeros((5, 3)), r"theta_true must have shape \(n, 2\)"),
        (np.full((5, 10, 2), np.nan), np.zeros((5, 2)), "samples must be finite.*observation 0"),
        (np.zeros((5, 10, 2)), np.full((5, 2), np.nan), "theta_true must be finite"),
    ],
)
def test_invalid_inputs_raise(samples, theta, match):
    with pytest.raises(ValueError, match=match):
        calibration_error(samples, theta)


def test_invalid_options_raise():
    samples, theta = conjugate_gaussian(10, 20, 2, seed=9)
    with pytest.raises(ValueError, match=r"alphas must lie strictly inside \(0, 1\)"):
        calibration_curve(samples, theta, alphas=[0.5, 1.0])
    with pytest.raises(ValueError, match="alphas must be a non-empty 1-D array"):
        calibration_curve(samples, theta, alphas=[[0.5]])
    with pytest.raises(ValueError, match="parameter_names must have 2 entries, got 1"):
        calibration_error(samples, theta, parameter_names=["a"])
    with pytest.raises(ValueError, match=r"confidence must lie in \(0, 1\)"):
        calibration_error(samples, theta, confidence=1.0)
    with pytest.raises(TypeError, match="samples must be a numeric array"):
        calibration_error(samples.astype(str), theta)


def test_speed_1000_observations_1000_samples_4_dims():
    samples, theta = conjugate_gaussian(1000, 1000, 4, seed=10)
    best = np.inf
    # CPU time, best of two, so that a busy machine does not fail the test.
    for _ in range(2):
        start = time.process_time()
        calibration_error(samples, theta)
        best = min(best, time.process_time() - start)
    assert best < 1.0
