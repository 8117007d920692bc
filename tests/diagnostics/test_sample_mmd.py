"""Posterior MMD against closed forms for Gaussian sample sets."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sbinn.diagnostics.sample_mmd import median_heuristic_width, posterior_mmd
from sbinn.mmd import Gaussian, InverseMultiquadratic


def gaussian_mmd2(shift: float, dim: int, width: float) -> float:
    """Exact squared MMD between N(0, I) and N(shift e_1, I) under a Gaussian kernel.

    E k(x, x') = (h² / (h² + 2))^(d/2) for x, x' ~ N(·, I), and the cross term
    carries an extra factor exp(-|δ|² / (2 (h² + 2))).
    """
    scale = (width**2 / (width**2 + 2)) ** (dim / 2)
    return 2 * scale * (1 - math.exp(-(shift**2) / (2 * (width**2 + 2))))


def test_fixed_kernel_matches_the_closed_form():
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(40, 400, 2))
    samples = rng.normal(size=(40, 400, 2)) + np.array([1.0, 0.0])
    result = posterior_mmd(samples, reference, kernel=Gaussian(scales=1.0), seed=0)
    assert result.name == "mmd"
    # Within four bootstrap standard errors (half the 68% interval is one).
    four_sd = 4 * (result.high - result.low) / 2
    assert result.value == pytest.approx(gaussian_mmd2(1.0, 2, 1.0), abs=four_sd)
    assert result.details["kernel"] == {"kernel": "Gaussian", "scales": [1.0]}


def test_exact_posterior_scatters_around_zero():
    rng = np.random.default_rng(1)
    reference, samples = rng.normal(size=(2, 40, 300, 3))
    result = posterior_mmd(samples, reference, seed=0)
    # The mean of unbiased estimates is unbiased for 0: within four standard errors of it.
    assert abs(result.value) <= 4 * (result.high - result.low) / 2
    assert result.low <= result.value <= result.high
    assert min(result.details["per_observation"]) < 0  # unbiased: negative values occur


def test_median_heuristic_width():
    # For N(0, I_2), ||x - x'||² / 2 is chi² with 2 degrees of freedom: median 2 ln 2.
    reference = np.random.default_rng(2).normal(size=(2000, 2))
    assert median_heuristic_width(reference) == pytest.approx(math.sqrt(4 * math.log(2)), rel=0.03)
    assert median_heuristic_width([[0.0], [1.0], [3.0]]) == 2.0


def test_default_kernel_uses_each_reference_width_and_ignores_units():
    rng = np.random.default_rng(3)
    reference = rng.normal(size=(30, 300, 2))
    samples = rng.normal(size=(30, 300, 2)) + 0.5
    result = posterior_mmd(samples, reference, seed=0)
    assert result.details["kernel"] == "median_heuristic"
    widths = result.details["widths"]
    assert widths == pytest.approx([median_heuristic_width(r) for r in reference])
    rescaled = posterior_mmd(1000.0 * samples, 1000.0 * reference, seed=0)
    assert rescaled.value == pytest.approx(result.value, rel=1e-9)
    exact = gaussian_mmd2(0.5 * math.sqrt(2), 2, float(np.mean(widths)))
    assert result.value == pytest.approx(exact, abs=4 * (result.high - result.low) / 2)


def test_worse_posteriors_score_higher():
    rng = np.random.default_rng(4)
    reference = rng.normal(size=(20, 300, 1))
    values = [
        posterior_mmd(rng.normal(size=(20, 300, 1)) * width, reference, seed=0).value
        for width in (1.0, 1.5, 3.0)
    ]
    assert values[0] < values[1] < values[2]


def test_subsampling_bounds_the_sets_and_is_seeded():
    rng = np.random.default_rng(5)
    samples, reference = rng.normal(size=(3, 500, 1)), rng.normal(size=(3, 200, 1))
    result = posterior_mmd(samples, reference, max_samples=100, kernel=InverseMultiquadratic())
    assert result.details["num_samples"] == [100, 100]
    again = posterior_mmd(samples, reference, max_samples=100, kernel=InverseMultiquadratic())
    assert again.to_json() == result.to_json()
    other = posterior_mmd(samples, reference, max_samples=100, seed=1)
    assert other.value != result.value
    assert posterior_mmd(samples, reference, max_samples=None).details["num_samples"] == [500, 200]


@pytest.mark.parametrize(
    ("samples", "reference", "error", "match"),
    [
        (np.zeros((3, 10, 2)), np.zeros((2, 10, 2)), ValueError, "one row per observation"),
        (np.zeros((3, 10, 2)), np.zeros((3, 10, 1)), ValueError, "dim_theta=2 on its last axis"),
        (np.zeros((10, 2)), np.zeros((3, 10, 2)), ValueError, r"shape \(n_obs, num_samples"),
        (np.zeros((3, 1, 2)), np.ones((3, 10, 2)), ValueError, "at least 2 samples per obs"),
        (np.full((3, 10, 2), np.nan), np.ones((3, 10, 2)), ValueError, "samples must be finite"),
        (np.ones((3, 10, 2)), np.zeros((3, 10, 2)), ValueError, "observation 0: the median"),
    ],
)
def test_invalid_inputs_raise(samples, reference, error, match):
    with pytest.raises(error, match=match):
        posterior_mmd(samples, reference)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"kernel": Gaussian}, TypeError, r"kernel instance, e.g. Gaussian\(\), got the class"),
        ({"kernel": "gaussian"}, TypeError, "kernel must be an sbinn.mmd Kernel"),
        ({"max_samples": 1}, ValueError, "max_samples must be at least 2 .* got 1"),
        ({"max_samples": 0}, ValueError, "max_samples must be a positive integer, got 0"),
        ({"confidence": 1.0}, ValueError, r"confidence must lie in \(0, 1\)"),
    ],
)
def test_invalid_settings_raise(kwargs, error, match):
    samples = np.random.default_rng(6).normal(size=(3, 10, 2))
    with pytest.raises(error, match=match):
        posterior_mmd(samples, samples, **kwargs)


def test_median_heuristic_invalid_inputs_raise():
    with pytest.raises(ValueError, match=r"at least 2 samples, got shape \(1, 2\)"):
        median_heuristic_width(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="median pairwise distance of 0"):
        median_heuristic_width(np.zeros((5, 2)))
    with pytest.raises(ValueError, match=r"reference must have shape \(n, d\)"):
        median_heuristic_width(np.zeros(5))
