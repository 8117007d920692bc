"""TARP against linear-Gaussian models with exact posteriors.

As for the coverage curve, a calibrated posterior's maximum of |ECP(α) − α| over levels
behaves like a Kolmogorov statistic, below 1.63/√n with probability 0.99; a
miscalibrated posterior must exceed that.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from sbinn.diagnostics.calibration import posterior_cdf_values
from sbinn.diagnostics.tarp import tarp
from tests.diagnostics.gaussian_support import linear_gaussian

KOLMOGOROV_99 = 1.63
MODELS = pytest.mark.parametrize("dim", [1, 2], ids=["conjugate-1d", "correlated-2d"])


def critical_value(num_obs):
    return KOLMOGOROV_99 / np.sqrt(num_obs)


@MODELS
def test_exact_posterior_is_calibrated(dim):
    # 10 000 observations: the null maximum stays below 0.0163 with probability 0.99, and
    # 200 samples add at most 1/201 from the rank bins.
    samples, theta, _ = linear_gaussian(10_000, 200, seed=0, dim=dim)
    result = tarp(samples, theta, num_resamples=200)
    assert result.value <= 0.02
    assert result.low <= result.value <= result.high


@MODELS
@pytest.mark.parametrize(
    ("scale", "shift"),
    [(0.5, 0.0), (1.0, 0.5)],
    ids=["over-confident", "biased"],
)
def test_miscalibrated_posterior_is_flagged(dim, scale, shift):
    num_obs = 10_000
    samples, theta, _ = linear_gaussian(num_obs, 200, seed=1, dim=dim, scale=scale, shift=shift)
    result = tarp(samples, theta, num_resamples=200)
    assert result.value > critical_value(num_obs)


def test_reference_below_everything_reduces_to_marginal_ranks():
    # In 1-D, a reference below all points makes "closer to the reference" mean "smaller":
    # the ball's posterior mass is then the posterior CDF value of θ*.
    samples, theta, _ = linear_gaussian(2000, 100, seed=2, dim=1, scale=0.7)
    references = np.full((2000, 1), min(samples.min(), theta.min()) - 1.0)
    levels = np.linspace(0.05, 0.95, 19)
    result = tarp(samples, theta, references=references, levels=levels)
    expected = (posterior_cdf_values(samples, theta) <= levels).mean(axis=0)
    assert result.details["ecp"] == pytest.approx(expected.tolist())
    assert result.details["references"] == "given"


def test_invariant_to_affine_changes_of_units():
    samples, theta, _ = linear_gaussian(500, 100, seed=3, dim=2, scale=0.8)
    units = np.array([1e-6, 1e6])
    scaled = tarp(samples * units - 7.0, theta * units - 7.0, seed=4, num_resamples=50)
    plain = tarp(samples, theta, seed=4, num_resamples=50)
    assert scaled.details["ecp"] == pytest.approx(plain.details["ecp"])


def test_seed_draws_the_references():
    samples, theta, _ = linear_gaussian(500, 100, seed=5, dim=2, scale=0.8)
    first = tarp(samples, theta, seed=1, num_resamples=50)
    assert tarp(samples, theta, seed=1, num_resamples=50).details == first.details
    assert tarp(samples, theta, seed=2, num_resamples=50).details["ecp"] != first.details["ecp"]
    assert first.details["references"] == "random"


def test_result_shapes_and_json():
    samples, theta, _ = linear_gaussian(300, 50, seed=6, dim=2)
    result = tarp(samples, theta, levels=[0.1, 0.5], num_resamples=100)
    assert result.name == "tarp_error"
    assert result.details["levels"] == [0.1, 0.5]
    ecp = np.asarray(result.details["ecp"])
    interval = np.asarray(result.details["ecp_interval"])
    assert ecp.shape == (2,) and interval.shape == (2, 2)
    assert result.value == pytest.approx(np.max(np.abs(ecp - [0.1, 0.5])))
    assert "100 resamples" in result.method and "reference" in result.method
    json.dumps(result.details, allow_nan=False)
    json.dumps(result.to_json(), allow_nan=False)
    assert len(tarp(samples, theta, num_resamples=10).details["ecp"]) == 99


@pytest.mark.parametrize(
    ("samples", "theta", "match"),
    [
        (np.zeros((5, 2)), np.zeros((5, 2)), r"samples must have shape \(n_obs, num_samples"),
        (np.zeros((5, 10, 2)), np.zeros((4, 2)), r"one row per observation.*got shape \(4, 2\)"),
        (np.zeros((5, 10, 2)), np.zeros((5, 3)), r"theta_true must have shape \(n, 2\)"),
        (np.full((5, 10, 2), np.inf), np.zeros((5, 2)), "samples must be finite.*observation 0"),
        (np.zeros((5, 10, 2)), np.full((5, 2), np.nan), "theta_true must be finite"),
    ],
)
def test_invalid_inputs_raise(samples, theta, match):
    with pytest.raises(ValueError, match=match):
        tarp(samples, theta)


def test_invalid_references_and_options_raise():
    samples, theta, _ = linear_gaussian(10, 20, seed=7, dim=2)
    with pytest.raises(ValueError, match=r"references must have shape \(n, 2\) or \(2,\), got"):
        tarp(samples, theta, references=np.zeros((10, 3)))
    with pytest.raises(ValueError, match=r"references must have one row per observation.*\(9, 2\)"):
        tarp(samples, theta, references=np.zeros((9, 2)))
    with pytest.raises(ValueError, match="references must be finite"):
        tarp(samples, theta, references=np.full((10, 2), np.nan))
    with pytest.raises(ValueError, match=r"levels must lie strictly inside \(0, 1\)"):
        tarp(samples, theta, levels=[0.0, 0.5])
    with pytest.raises(ValueError, match=r"confidence must lie in \(0, 1\)"):
        tarp(samples, theta, confidence=0.0)
    with pytest.raises(TypeError, match="seed"):
        tarp(samples, theta, seed="one")
