"""Classifier two-sample test on distributions whose Bayes-optimal accuracy is known."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from sbinn.diagnostics.c2st import c2st, c2st_accuracies, c2st_per_observation


def test_same_distribution_is_indistinguishable():
    # Acceptance: 10^4 against 10^4 samples of one 2-D distribution give 0.5 ± 0.02.
    # The held-out accuracy of 2·10^4 predictions has sd 0.0035; 0.02 is about 6 sd.
    rng = np.random.default_rng(0)
    cov = np.array([[1.0, 0.8], [0.8, 1.0]])
    samples = rng.multivariate_normal([1.0, -2.0], cov, size=10_000)
    reference = rng.multivariate_normal([1.0, -2.0], cov, size=10_000)
    result = c2st(samples, reference, seed=0)
    assert result.name == "c2st"
    assert result.value == pytest.approx(0.5, abs=0.02)
    assert result.low <= result.value <= result.high
    assert len(result.details["fold_accuracies"]) == 5


def test_unit_shift_is_detected_close_to_the_bayes_accuracy():
    # Acceptance: N(0, 1) against N(1, 1) gives at least 0.65. The Bayes-optimal
    # accuracy Φ(1/2) ≈ 0.691 bounds it from above, up to 0.02 (about 6 sd) of noise.
    rng = np.random.default_rng(1)
    result = c2st(rng.normal(size=(10_000, 1)) + 1.0, rng.normal(size=(10_000, 1)), seed=0)
    assert result.value >= 0.65
    assert result.value <= norm.cdf(0.5) + 0.02


def test_same_seed_same_result_and_units_do_not_matter():
    rng = np.random.default_rng(2)
    samples, reference = rng.normal(size=(600, 2)) + np.array([0.5, 0.0]), rng.normal(size=(600, 2))
    first = c2st(samples, reference, seed=3)
    assert c2st(samples, reference, seed=3).to_json() == first.to_json()
    # z-scoring by the reference removes units and offsets; only rounding can differ.
    scale, offset = np.array([1000.0, 0.001]), np.array([5e3, -7.0])
    rescaled = c2st(samples * scale + offset, reference * scale + offset, seed=3)
    assert rescaled.value == pytest.approx(first.value, abs=0.02)


def test_unequal_sizes_are_subsampled_to_the_smaller_set():
    rng = np.random.default_rng(4)
    result = c2st(rng.normal(size=(300, 1)), rng.normal(size=(500, 1)), seed=0)
    assert result.details["num_samples"] == 300
    assert result.details["num_samples_given"] == [300, 500]
    # With balanced classes chance accuracy is 0.5; unbalanced ones would give 0.625.
    assert abs(result.value - 0.5) < 0.1


def test_constant_reference_dimension_stays_finite():
    rng = np.random.default_rng(5)
    reference = np.column_stack([rng.normal(size=300), np.zeros(300)])
    samples = np.column_stack([rng.normal(size=300), np.zeros(300)])
    assert np.isfinite(c2st(samples, reference).value)


def test_accuracies_per_fold():
    rng = np.random.default_rng(6)
    accuracies = c2st_accuracies(
        rng.normal(size=(300, 1)), rng.normal(size=(300, 1)) + 2.0, num_folds=3
    )
    assert accuracies.shape == (3,)
    assert np.all((accuracies >= 0) & (accuracies <= 1))


def test_per_observation_averages_the_first_observations():
    rng = np.random.default_rng(7)
    reference = rng.normal(size=(4, 500, 1))
    shift = np.array([0.0, 2.0, 0.0, 0.0])[:, None, None]
    samples = rng.normal(size=(4, 500, 1)) + shift
    result = c2st_per_observation(samples, reference, max_observations=2, seed=0)
    per_observation = result.details["per_observation"]
    assert len(per_observation) == 2 and result.details["num_observations"] == 2
    assert result.value == pytest.approx(np.mean(per_observation))
    # Observation 0 matches its reference, observation 1 is shifted by 2 (Bayes accuracy Φ(1)).
    assert abs(per_observation[0] - 0.5) < 0.1 and per_observation[1] > 0.75
    assert result.low <= result.value <= result.high
    assert "first 2 of 4" in result.method


@pytest.mark.parametrize(
    ("samples", "reference", "error", "match"),
    [
        (np.zeros((20, 3)), np.zeros((20, 2)), ValueError, r"samples must have shape \(n, 2\)"),
        (np.zeros((20, 2)), np.zeros(20), ValueError, r"reference must have shape \(n, d\)"),
        (np.full((20, 1), np.nan), np.zeros((20, 1)), ValueError, "samples must be finite"),
        (np.zeros((20, 1)), np.full((20, 1), np.inf), ValueError, "reference must be finite"),
        (np.zeros((4, 1)), np.zeros((30, 1)), ValueError, "at least 5 samples in each set"),
        (np.array([["a"]] * 10), np.zeros((10, 1)), TypeError, "must be a numeric array"),
    ],
)
def test_invalid_inputs_raise(samples, reference, error, match):
    with pytest.raises(error, match=match):
        c2st(samples, reference)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"num_folds": 1}, ValueError, "num_folds must be at least 2 .* got 1"),
        ({"num_folds": 2.5}, TypeError, "num_folds must be a positive integer"),
        ({"max_iter": 0}, ValueError, "max_iter must be a positive integer, got 0"),
        ({"seed": "zero"}, TypeError, "seed must be an int"),
    ],
)
def test_invalid_settings_raise(kwargs, error, match):
    samples = np.zeros((20, 1))
    with pytest.raises(error, match=match):
        c2st(samples, samples, **kwargs)


def test_per_observation_invalid_inputs_raise():
    samples = np.zeros((3, 20, 2))
    with pytest.raises(ValueError, match=r"one row per observation .* got shape \(2, 20, 2\)"):
        c2st_per_observation(samples, np.zeros((2, 20, 2)))
    with pytest.raises(ValueError, match=r"dim_theta=2 on its last axis, got shape \(3, 20, 1\)"):
        c2st_per_observation(samples, np.zeros((3, 20, 1)))
    with pytest.raises(ValueError, match=r"samples must have shape \(n_obs, num_samples"):
        c2st_per_observation(np.zeros((20, 2)), np.zeros((20, 2)))
    with pytest.raises(ValueError, match="max_observations must be a positive integer, got 0"):
        c2st_per_observation(samples, samples, max_observations=0)
    with pytest.raises(ValueError, match="at least 5 samples in each set"):
        c2st_per_observation(np.zeros((1, 3, 1)), np.zeros((1, 50, 1)))
    nan = samples.copy()
    nan[1, 4, 0] = np.nan
    with pytest.raises(ValueError, match="first at observation 1, sample 4"):
        c2st_per_observation(nan, samples)
