"""The exact-posterior floor of the calibration error."""

import numpy as np
import pytest

from sbinn.diagnostics import calibration_error, calibration_noise_floor


def test_floor_matches_exact_conjugate_posteriors():
    """Exact Gaussian posteriors scored by calibration_error fall in the floor's range."""
    rng = np.random.default_rng(3)
    noise = 0.5
    post_std = noise / np.sqrt(1 + noise**2)
    scores = []
    for _ in range(40):
        theta = rng.normal(size=(300, 2))
        x = theta + noise * rng.normal(size=theta.shape)
        samples = (x / (1 + noise**2))[:, None] + post_std * rng.normal(size=(300, 256, 2))
        scores.append(calibration_error(samples, theta, num_resamples=10).value)
    floor = calibration_noise_floor(300, 2, num_samples=256, replicates=400)
    # Two estimates of the same mean: 40 conjugate test sets against 400 uniform-rank ones.
    assert abs(np.mean(scores) - floor["mean"]) < 0.25 * floor["mean"]


def test_floor_shrinks_like_one_over_root_n():
    small = calibration_noise_floor(500, 4, replicates=100)["mean"]
    large = calibration_noise_floor(8000, 4, replicates=100)["mean"]
    assert large == pytest.approx(small / 4, rel=0.25)


def test_floor_is_reproducible_and_ordered():
    first = calibration_noise_floor(200, 3, replicates=50, seed=7)
    assert first == calibration_noise_floor(200, 3, replicates=50, seed=7)
    assert first["quantile_10"] <= first["median"] <= first["quantile_90"]


def test_a_wrong_posterior_sits_far_above_the_floor():
    rng = np.random.default_rng(0)
    theta = rng.normal(size=(1000, 2))
    samples = 0.5 * rng.normal(size=(1000, 256, 2))  # prior-like but half as wide
    floor = calibration_noise_floor(1000, 2, num_samples=256, replicates=50)
    assert calibration_error(samples, theta, num_resamples=10).value > 5 * floor["quantile_90"]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"num_observations": 0, "num_dims": 2}, ValueError, "num_observations"),
        ({"num_observations": 10, "num_dims": 2.5}, TypeError, "num_dims"),
        ({"num_observations": 10, "num_dims": 2, "replicates": -1}, ValueError, "replicates"),
        ({"num_observations": 10, "num_dims": 2, "alphas": [0.0, 0.5]}, ValueError, "alphas"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        calibration_noise_floor(**kwargs)
