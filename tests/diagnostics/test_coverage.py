"""Expected coverage of joint Mahalanobis regions against linear-Gaussian models.

For a reported posterior N(μ + L·shift, scale²·Σ) with Σ = LLᵀ the true posterior, the
truth sits at θ* − μ = LW, W ~ N(0, I), and its Mahalanobis distance under the reported
posterior is ‖W − shift‖²/scale², while the samples' distances follow χ²_d. So
coverage(α) = P(‖W − shift‖² ≤ scale²·q_α) with q_α the α-quantile of χ²_d: a
(non-central) χ²_d CDF. The tests compare the measured curve with it.

Thresholds come from the null distribution: the maximum over levels of |coverage − α|
of a calibrated posterior behaves like a Kolmogorov statistic, below 1.63/√n with
probability 0.99.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from scipy import stats

from sbinn.diagnostics.coverage import _mahalanobis_cdf_values, expected_coverage
from sbinn.diagnostics.sbc import sbc_uniformity
from tests.diagnostics.gaussian_support import (
    CORRELATED_FORWARD,
    CORRELATED_PRIOR,
    linear_gaussian,
    posterior_covariance,
)

KOLMOGOROV_99 = 1.63
MODELS = pytest.mark.parametrize("dim", [1, 2], ids=["conjugate-1d", "correlated-2d"])


def critical_value(num_obs):
    return KOLMOGOROV_99 / np.sqrt(num_obs)


def analytic_coverage(levels, dim, *, scale=1.0, shift=0.0):
    bound = scale**2 * stats.chi2.ppf(levels, dim)
    if shift == 0:
        return stats.chi2.cdf(bound, dim)
    return stats.ncx2.cdf(bound, dim, dim * shift**2)


@MODELS
def test_exact_posterior_is_calibrated(dim):
    # 10 000 observations: the null maximum stays below 0.0163 with probability 0.99, and
    # 200 samples add at most 1/201 from the rank bins.
    samples, theta, _ = linear_gaussian(10_000, 200, seed=0, dim=dim)
    result = expected_coverage(samples, theta, num_resamples=200)
    assert result.value <= 0.02
    assert result.low <= result.value <= result.high


@MODELS
@pytest.mark.parametrize(
    ("scale", "shift", "sign"),
    [(0.5, 0.0, -1), (1.0, 0.5, -1), (2.0, 0.0, 1)],
    ids=["over-confident", "biased", "under-confident"],
)
def test_miscalibrated_posterior_is_flagged_and_matches_analytic(dim, scale, shift, sign):
    num_obs = 10_000
    samples, theta, _ = linear_gaussian(num_obs, 200, seed=1, dim=dim, scale=scale, shift=shift)
    result = expected_coverage(samples, theta, num_resamples=200)
    assert result.value > critical_value(num_obs)
    levels = np.asarray(result.details["levels"])
    coverage = np.asarray(result.details["coverage"])
    expected = analytic_coverage(levels, dim, scale=scale, shift=shift)
    # Null fluctuation, plus the rank bin, plus θ* pulling the region's mean and covariance
    # towards itself by a fraction of about E‖W − shift‖²/(scale²·N) ≤ 8/200 of its distance.
    assert np.max(np.abs(coverage - expected)) < critical_value(num_obs) + 1 / 201 + 0.01
    interior = (levels >= 0.05) & (levels <= 0.95)
    assert np.all(np.sign(coverage - levels)[interior] == sign)


def test_wrong_correlation_is_seen_jointly_but_not_marginally():
    # Right marginals, correlation +0.57 instead of −0.57: only a joint check can tell.
    num_obs = 4000
    samples, theta, _ = linear_gaussian(num_obs, 200, seed=2, dim=2)
    mean = samples.mean(axis=1, keepdims=True)
    flipped = mean + (samples - mean) * [1.0, -1.0]  # mirrors θ₂ about its posterior mean
    assert sbc_uniformity(flipped, theta).value > 0.01
    assert expected_coverage(flipped, theta, num_resamples=200).value > critical_value(num_obs)


def test_distances_match_explicit_mahalanobis():
    rng = np.random.default_rng(3)
    samples, theta = rng.normal(size=(6, 40, 3)), rng.normal(size=(6, 3))
    explicit = []
    for points in np.concatenate([samples, theta[:, None]], axis=1):
        precision = np.linalg.inv(np.cov(points.T, bias=True))
        d = np.einsum("sd,de,se->s", points - points.mean(0), precision, points - points.mean(0))
        explicit.append(((d[:-1] < d[-1]).sum() + 0.5) / 41)
    assert np.allclose(_mahalanobis_cdf_values(samples, theta), explicit)


def test_invariant_to_affine_changes_of_units():
    samples, theta, _ = linear_gaussian(500, 100, seed=4, dim=2, scale=0.8)
    units = np.array([1e-6, 1e6])
    scaled = expected_coverage(samples * units + 3.0, theta * units + 3.0, num_resamples=50)
    plain = expected_coverage(samples, theta, num_resamples=50)
    assert scaled.details["coverage"] == plain.details["coverage"]


def test_collapsed_posterior_gives_no_warning_and_is_flagged():
    theta = np.random.default_rng(5).normal(size=(200, 2))
    samples = np.zeros((200, 50, 2))  # every sample at the prior mean, as a broken ABC might
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = expected_coverage(samples, theta, num_resamples=50)
    assert result.value > 0.9


def test_fewer_samples_than_parameters_still_work():
    samples, theta, _ = linear_gaussian(300, 2, seed=6, dim=3)
    result = expected_coverage(samples, theta, num_resamples=50)
    assert 0 <= result.value <= 1


def test_result_shapes_and_json():
    samples, theta, _ = linear_gaussian(300, 50, seed=7, dim=2)
    levels = [0.2, 0.5, 0.9]
    result = expected_coverage(
        samples, theta, levels=levels, parameter_names=["m", "c"], num_resamples=100
    )
    assert result.name == "coverage_error"
    assert result.per_dimension is None
    assert result.details["levels"] == levels
    assert result.details["parameter_names"] == ["m", "c"]
    coverage = np.asarray(result.details["coverage"])
    interval = np.asarray(result.details["coverage_interval"])
    assert coverage.shape == (3,) and interval.shape == (3, 2)
    assert np.all((interval[:, 0] <= coverage + 1e-12) & (coverage - 1e-12 <= interval[:, 1]))
    assert result.value == pytest.approx(np.max(np.abs(coverage - levels)))
    assert "100 resamples" in result.method and "Mahalanobis" in result.method
    json.dumps(result.details, allow_nan=False)
    json.dumps(result.to_json(), allow_nan=False)
    again = expected_coverage(
        samples, theta, levels=levels, parameter_names=["m", "c"], num_resamples=100
    )
    assert (again.low, again.high) == (result.low, result.high)


@pytest.mark.parametrize(
    ("samples", "theta", "match"),
    [
        (np.zeros((5, 2)), np.zeros((5, 2)), r"samples must have shape \(n_obs, num_samples"),
        (np.zeros((5, 0, 2)), np.zeros((5, 2)), "no empty axis"),
        (np.zeros((5, 10, 2)), np.zeros((4, 2)), r"one row per observation.*got shape \(4, 2\)"),
        (np.zeros((5, 10, 2)), np.zeros((5, 3)), r"theta_true must have shape \(n, 2\)"),
        (np.full((5, 10, 2), np.nan), np.zeros((5, 2)), "samples must be finite.*observation 0"),
        (np.zeros((5, 10, 2)), np.full((5, 2), np.nan), "theta_true must be finite"),
    ],
)
def test_invalid_inputs_raise(samples, theta, match):
    with pytest.raises(ValueError, match=match):
        expected_coverage(samples, theta)


@pytest.mark.parametrize(
    ("levels", "match"),
    [
        ([0.5, 1.0], r"levels must lie strictly inside \(0, 1\), got \[0.5, 1.0\]"),
        ([0.0], r"levels must lie strictly inside \(0, 1\)"),
        ([np.nan], r"levels must lie strictly inside \(0, 1\)"),
        ([[0.5]], r"levels must be a non-empty 1-D array, got shape \(1, 1\)"),
        ([], r"levels must be a non-empty 1-D array, got shape \(0,\)"),
    ],
)
def test_invalid_levels_raise(levels, match):
    samples, theta, _ = linear_gaussian(10, 20, seed=8, dim=2)
    with pytest.raises(ValueError, match=match):
        expected_coverage(samples, theta, levels=levels)


def test_invalid_options_raise():
    samples, theta, _ = linear_gaussian(10, 20, seed=9, dim=2)
    with pytest.raises(ValueError, match="parameter_names must have 2 entries, got 3"):
        expected_coverage(samples, theta, parameter_names=["a", "b", "c"])
    with pytest.raises(ValueError, match=r"confidence must lie in \(0, 1\)"):
        expected_coverage(samples, theta, confidence=1.5)
    with pytest.raises(ValueError, match="num_resamples must be a positive integer"):
        expected_coverage(samples, theta, num_resamples=0)


def test_correlated_model_has_a_correlated_posterior():
    # Guards the premise of the joint tests: the 2-D model's posterior is far from diagonal.
    cov = posterior_covariance(CORRELATED_PRIOR, CORRELATED_FORWARD)
    assert cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1]) < -0.5
