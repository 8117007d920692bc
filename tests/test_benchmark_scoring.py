"""The signed calibration summary tells too-narrow from too-wide posteriors."""

from __future__ import annotations

import numpy as np
import pytest

from sbinn.benchmark.scoring import calibration_direction
from sbinn.diagnostics import MetricResult, calibration_error

N_OBS, N_SAMPLES = 600, 300


def _conjugate_gaussian_samples(width_factor: float, seed: int = 0):
    """θ ~ N(0, 1), x = θ + N(0, 1): the posterior is N(x/2, 1/2); samples widened by a factor."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=(N_OBS, 1))
    x = theta + rng.normal(size=(N_OBS, 1))
    spread = width_factor * np.sqrt(0.5) * rng.normal(size=(N_OBS, N_SAMPLES, 1))
    return (x / 2)[:, None] + spread, theta


@pytest.mark.parametrize(
    ("width_factor", "sign"), [(0.5, -1), (2.0, 1)], ids=["too narrow", "too wide"]
)
def test_the_sign_points_to_the_wrong_width(width_factor, sign):
    samples, theta = _conjugate_gaussian_samples(width_factor)
    direction = calibration_direction(calibration_error(samples, theta))
    assert sign * direction["mean_signed"]["theta_1"] > 0.1
    assert all(sign * v > 0 for v in direction["curve"]["theta_1"])


def test_the_exact_posterior_points_nowhere():
    samples, theta = _conjugate_gaussian_samples(1.0)
    direction = calibration_direction(calibration_error(samples, theta))
    assert abs(direction["mean_signed"]["theta_1"]) < 0.03


def test_fewer_levels_keep_the_nearest_alphas():
    samples, theta = _conjugate_gaussian_samples(1.0)
    direction = calibration_direction(calibration_error(samples, theta), levels=3)
    assert direction["alphas"] == [0.25, 0.5, 0.75]


def test_levels_must_be_a_positive_integer():
    samples, theta = _conjugate_gaussian_samples(1.0)
    with pytest.raises(ValueError, match="levels"):
        calibration_direction(calibration_error(samples, theta), levels=0)


def test_only_a_calibration_error_has_a_direction():
    other = MetricResult("resimulation_error_mean", 0.1, 0.05, 0.15, "a mean distance")
    with pytest.raises(ValueError, match="needs a calibration_error result"):
        calibration_direction(other)
