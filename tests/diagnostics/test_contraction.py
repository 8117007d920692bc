"""Posterior z-scores and contraction against linear-Gaussian models.

For a reported posterior N(μ + L·shift, scale²·Σ), dimension k has the truth at
θ*_k = μ_k + σ_k·V with V ~ N(0, 1), a reported mean μ_k + δ_k·σ_k (δ_k the shift in
marginal stds) and a reported std scale·σ_k. Then z_k = (δ_k − V)/scale, so
E[z_k²] = (1 + δ_k²)/scale², and the contraction is 1 − scale²·σ_k²/σ_prior,k².
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from sbinn.diagnostics.contraction import (
    posterior_contraction,
    posterior_z_scores,
    z_score_and_contraction,
)
from tests.diagnostics.gaussian_support import (
    CORRELATED_FORWARD,
    CORRELATED_PRIOR,
    linear_gaussian,
    marginal_shift,
    posterior_covariance,
)

NUM_OBS, NUM_SAMPLES = 4000, 200
MODELS = pytest.mark.parametrize("dim", [1, 2], ids=["conjugate-1d", "correlated-2d"])


def analytic(dim, *, scale=1.0, shift=0.0):
    if dim == 2:
        post_var = np.diag(posterior_covariance(CORRELATED_PRIOR, CORRELATED_FORWARD))
        prior_var = np.diag(CORRELATED_PRIOR)
    else:
        post_var, prior_var = np.full(dim, 0.2), np.ones(dim)  # σ²/(1 + σ²) with σ = 0.5
    rms_z = np.sqrt((1 + marginal_shift(dim, shift) ** 2) / scale**2)
    return rms_z, 1 - scale**2 * post_var / prior_var


# z² has variance about 2·E[z²]², so the RMS over 4000 observations has a relative std of
# about sqrt(2/4000)/2 = 0.011, and 200 samples bias E[z²] by about 2.5/200: 0.05 is over
# three stds plus that bias. 1 − contraction = var_post/var_prior has a relative std of
# sqrt(2/200 000) = 0.003 from the prior draws and 0.002 from the posterior ones: 0.02 is
# over five stds.
RELATIVE_Z_TOLERANCE = 0.05
RELATIVE_VARIANCE_RATIO_TOLERANCE = 0.02


@MODELS
@pytest.mark.parametrize(
    ("scale", "shift"),
    [(1.0, 0.0), (0.5, 0.0), (1.0, 0.5), (2.0, 0.0)],
    ids=["exact", "over-confident", "biased", "under-confident"],
)
def test_summaries_match_analytic_values(dim, scale, shift):
    samples, theta, prior = linear_gaussian(
        NUM_OBS, NUM_SAMPLES, seed=0, dim=dim, scale=scale, shift=shift
    )
    z, contraction = z_score_and_contraction(samples, theta, prior, num_resamples=200)
    rms_z, expected_contraction = analytic(dim, scale=scale, shift=shift)
    measured_z = np.array(list(z.per_dimension.values()))
    measured_contraction = np.array(list(contraction.per_dimension.values()))
    assert np.allclose(measured_z, rms_z, rtol=RELATIVE_Z_TOLERANCE)
    assert np.allclose(
        1 - measured_contraction, 1 - expected_contraction, rtol=RELATIVE_VARIANCE_RATIO_TOLERANCE
    )
    assert z.value == pytest.approx(np.sqrt(np.mean(measured_z**2)))
    assert contraction.value == pytest.approx(measured_contraction.mean())
    assert z.low <= z.value <= z.high and contraction.low <= contraction.value <= contraction.high


def test_intervals_separate_calibrated_from_over_confident():
    samples, theta, prior = linear_gaussian(NUM_OBS, NUM_SAMPLES, seed=1, dim=2)
    mean = samples.mean(axis=1, keepdims=True)
    exact, _ = z_score_and_contraction(samples, theta, prior, num_resamples=200)
    over, _ = z_score_and_contraction(
        mean + 0.8 * (samples - mean), theta, prior, num_resamples=200
    )
    assert exact.high < over.low


def test_z_scores_have_the_sign_of_the_bias():
    samples, theta, _ = linear_gaussian(NUM_OBS, NUM_SAMPLES, seed=2, dim=2, shift=0.5)
    z = posterior_z_scores(samples, theta)
    assert z.shape == (NUM_OBS, 2)
    assert np.allclose(z.mean(axis=0), marginal_shift(2, 0.5), atol=0.1)


def test_small_examples():
    samples = np.array([[[1.0, 0.0], [3.0, 4.0]], [[0.0, 1.0], [2.0, 1.5]]])
    std = np.array([[np.sqrt(2), np.sqrt(8)], [np.sqrt(2), np.sqrt(0.125)]])
    z = posterior_z_scores(samples, [[0.0, 2.0], [1.0, 1.0]])
    assert z == pytest.approx(np.array([[2.0, 0.0], [0.0, 0.25]]) / std)
    contraction = posterior_contraction(samples, [[0.0, 0.0], [4.0, 2.0]])  # variances 8, 2
    assert contraction == pytest.approx(1 - std**2 / [8.0, 2.0])


def test_result_shapes_and_json():
    samples, theta, prior = linear_gaussian(200, 50, seed=3, dim=2)
    z, contraction = z_score_and_contraction(
        samples, theta, prior, parameter_names=["m", "c"], num_resamples=100, seed=4
    )
    assert (z.name, contraction.name) == ("rms_z_score", "mean_contraction")
    assert list(z.per_dimension) == list(contraction.per_dimension) == ["m", "c"]
    assert set(z.details["per_dimension_interval"]) == {"m", "c"}
    assert "100 resamples" in z.method and "var_prior" in contraction.method
    for result in (z, contraction):
        json.dumps(result.details, allow_nan=False)
        json.dumps(result.to_json(), allow_nan=False)
    again, _ = z_score_and_contraction(
        samples, theta, prior, parameter_names=["m", "c"], num_resamples=100, seed=4
    )
    assert (again.low, again.high) == (z.low, z.high)


@pytest.mark.parametrize(
    ("samples", "theta", "match"),
    [
        (np.zeros((5, 2)), np.zeros((5, 2)), r"samples must have shape \(n_obs, num_samples"),
        (np.zeros((5, 10, 2)), np.zeros((4, 2)), r"one row per observation.*got shape \(4, 2\)"),
        (np.zeros((5, 10, 2)), np.zeros((5, 3)), r"theta_true must have shape \(n, 2\)"),
        (np.full((5, 10, 2), np.nan), np.zeros((5, 2)), "samples must be finite.*observation 0"),
        (np.ones((5, 10, 2)), np.full((5, 2), np.nan), "theta_true must be finite"),
        (np.ones((5, 1, 2)), np.zeros((5, 2)), r"at least 2 samples per observation.*\(5, 1, 2\)"),
        (
            np.ones((5, 10, 2)),
            np.zeros((5, 2)),
            "must vary.*10 case\\(s\\), first at observation 0",
        ),
    ],
)
def test_invalid_inputs_raise(samples, theta, match):
    with pytest.raises(ValueError, match=match):
        posterior_z_scores(samples, theta)
    with pytest.raises(ValueError, match=match):
        z_score_and_contraction(samples, theta, np.eye(2))


@pytest.mark.parametrize(
    ("prior", "match"),
    [
        (np.zeros((10, 3)), r"prior_samples must have shape \(n, 2\) or \(2,\), got shape"),
        (np.zeros((1, 2)), r"prior_samples must have at least 2 rows.*\(1, 2\)"),
        (np.ones((10, 2)), r"prior_samples must vary in every dimension.*\[0, 1\]"),
        (np.full((10, 2), np.nan), "prior_samples must be finite"),
    ],
)
def test_invalid_prior_samples_raise(prior, match):
    samples, theta, _ = linear_gaussian(10, 20, seed=5, dim=2)
    with pytest.raises(ValueError, match=match):
        posterior_contraction(samples, prior)
    with pytest.raises(ValueError, match=match):
        z_score_and_contraction(samples, theta, prior)


def test_invalid_options_raise():
    samples, theta, prior = linear_gaussian(10, 20, seed=6, dim=2)
    with pytest.raises(ValueError, match="parameter_names must have 2 entries, got 1"):
        z_score_and_contraction(samples, theta, prior, parameter_names=["a"])
    with pytest.raises(ValueError, match=r"confidence must lie in \(0, 1\)"):
        z_score_and_contraction(samples, theta, prior, confidence=2.0)
    with pytest.raises(ValueError, match="at least 2 samples per observation"):
        posterior_contraction(samples[:, :1], prior)
