"""Posterior mean, MAP by mean-shift, and RMSE."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from sbinn.diagnostics import map_estimate, posterior_mean, rmse


def bimodal(num_obs, num_samples, dim, *, heavy_weight, seed):
    """Mixture ``w N(+2, 0.5²) + (1 - w) N(-2, 0.5²)`` in every dimension."""
    rng = np.random.default_rng(seed)
    heavy = rng.random((num_obs, num_samples, 1)) < heavy_weight
    return np.where(heavy, 2.0, -2.0) + 0.5 * rng.normal(size=(num_obs, num_samples, dim))


def test_posterior_mean():
    samples = np.random.default_rng(0).normal(size=(3, 10, 2))
    assert np.allclose(posterior_mean(samples), samples.sum(axis=1) / 10)


@pytest.mark.parametrize(("heavy_weight", "mode"), [(0.7, 2.0), (0.3, -2.0)])
@pytest.mark.parametrize("dim", [1, 2])
def test_map_is_at_the_heavier_mode(heavy_weight, mode, dim):
    samples = bimodal(60, 1000, dim, heavy_weight=heavy_weight, seed=dim)
    estimate = map_estimate(samples)
    assert np.max(np.abs(estimate - mode)) < 0.2
    # The mean sits between the modes, far from both.
    assert np.all(np.abs(posterior_mean(samples) - mode) > 1.0)


def test_map_is_the_highest_peak_not_the_heaviest_component():
    # 0.35 N(-2, 0.2²) + 0.65 N(2, 0.6²): peak densities 0.35/0.2 > 0.65/0.6. A narrow kernel
    # resolves the peaks, and mean-shift needs more than the burn-in steps to converge.
    rng = np.random.default_rng(8)
    narrow = rng.random((40, 1000, 1)) < 0.35
    samples = np.where(
        narrow,
        -2.0 + 0.2 * rng.normal(size=narrow.shape),
        2.0 + 0.6 * rng.normal(size=narrow.shape),
    )
    assert np.max(np.abs(map_estimate(samples, bandwidth=0.05) + 2.0)) < 0.15


def test_map_is_the_densest_of_the_converged_modes():
    # Two tight clusters; with a start at every sample and a narrow kernel the starts
    # converge to both cluster centres, and the one with six samples wins.
    cluster = np.array([-0.02, -0.01, 0.0, 0.0, 0.01, 0.02])
    samples = np.concatenate([cluster, 10.0 + cluster[:3]])[None, :, None]
    estimate = map_estimate(samples, num_starts=9, bandwidth=0.05)
    assert estimate.item() == pytest.approx(0.0, abs=1e-3)


def test_map_of_a_gaussian_is_near_its_mean():
    rng = np.random.default_rng(1)
    samples = rng.normal(loc=3.0, scale=2.0, size=(200, 1000, 2))
    error = np.abs(map_estimate(samples) - 3.0) / 2.0  # in posterior standard deviations
    assert error.mean() < 0.15
    assert error.max() < 0.6


def test_map_of_a_skewed_posterior_is_its_mode_not_its_mean():
    # Gamma(3, 1) has mode 2 and mean 3; kernel smoothing pulls the estimate slightly right.
    samples = np.random.default_rng(2).gamma(3.0, 1.0, size=(40, 2000, 1))
    estimate = map_estimate(samples)
    assert np.all(np.abs(estimate - 2.0) < 0.5)
    assert abs(estimate.mean() - 2.0) < 0.3


def test_map_is_equivariant_under_affine_maps():
    samples = bimodal(20, 500, 2, heavy_weight=0.6, seed=3)
    scale, offset = np.array([10.0, 0.1]), np.array([-5.0, 3.0])
    moved = map_estimate(samples * scale + offset)
    assert np.allclose(moved, map_estimate(samples) * scale + offset, rtol=1e-4, atol=1e-4)


def test_map_with_a_constant_dimension():
    samples = np.random.default_rng(4).normal(size=(5, 200, 2))
    samples[..., 1] = 7.0
    estimate = map_estimate(samples)
    assert np.all(estimate[:, 1] == 7.0)
    assert np.all(np.isfinite(estimate))


def test_map_warns_when_not_converged():
    samples = bimodal(3, 200, 1, heavy_weight=0.7, seed=5)
    with pytest.warns(UserWarning, match="did not converge.*max_iter=1 .*3 of 3"):
        map_estimate(samples, max_iter=1)


def test_map_options_are_validated():
    samples = np.zeros((2, 10, 1))
    with pytest.raises(ValueError, match="bandwidth must be a positive number or None, got -1"):
        map_estimate(samples, bandwidth=-1.0)
    with pytest.raises(ValueError, match="num_starts must be a positive integer, got 0"):
        map_estimate(samples, num_starts=0)
    with pytest.raises(ValueError, match="tol must be a positive number"):
        map_estimate(samples, tol=0.0)
    with pytest.raises(ValueError, match=r"samples must have shape \(n_obs, num_samples"):
        map_estimate(np.zeros((10, 1)))


def test_map_speed_1000_observations_1000_samples_4_dims():
    samples = np.random.default_rng(6).normal(size=(1000, 1000, 4))
    start = time.process_time()  # CPU time, so that a busy machine does not fail the test
    estimate = map_estimate(samples)
    assert time.process_time() - start < 5.0
    assert estimate.shape == (1000, 4)


def test_rmse_against_hand_computation():
    estimates = np.array([[1.0, 2.0], [3.0, 4.0], [0.0, 0.0]])
    truth = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 2.0]])
    result = rmse(estimates, truth, parameter_names=["a", "b"], num_resamples=200)
    # Squared errors: a: 1, 4, 0; b: 4, 9, 4.
    assert result.value == pytest.approx(math.sqrt((1 + 4 + 0 + 4 + 9 + 4) / 3))
    assert result.per_dimension == pytest.approx({"a": math.sqrt(5 / 3), "b": math.sqrt(17 / 3)})
    assert result.low <= result.value <= result.high
    only_b = rmse(estimates, truth, dims=["b"], parameter_names=["a", "b"], num_resamples=20)
    assert only_b.value == pytest.approx(math.sqrt(17 / 3))
    assert list(only_b.per_dimension) == ["b"]
    assert rmse(estimates, truth, dims=[1], num_resamples=20).value == only_b.value


def test_rmse_interval_and_json():
    rng = np.random.default_rng(7)
    truth = rng.normal(size=(2000, 3))
    estimates = truth + 0.5 * rng.normal(size=(2000, 3))
    result = rmse(estimates, truth)
    assert result.value == pytest.approx(0.5 * math.sqrt(3), rel=0.05)
    assert result.low < result.value < result.high
    for name, (low, high) in result.details["per_dimension_interval"].items():
        assert low < result.per_dimension[name] < high
    assert set(result.to_json()) == {"value", "low", "high", "per_dimension"}


def test_rmse_validation():
    with pytest.raises(ValueError, match=r"got 3-D samples.*posterior_mean or map_estimate"):
        rmse(np.zeros((4, 10, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"theta_true must have the shape of estimates"):
        rmse(np.zeros((4, 2)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"theta_true must have shape \(n, 2\)"):
        rmse(np.zeros((4, 2)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="estimates must be finite"):
        rmse(np.full((4, 2), np.nan), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="'c' is not a parameter name"):
        rmse(np.zeros((4, 2)), np.zeros((4, 2)), dims=["c"], parameter_names=["a", "b"])
    with pytest.raises(ValueError, match=r"indices in \[0, 2\), got 2"):
        rmse(np.zeros((4, 2)), np.zeros((4, 2)), dims=[2])
    with pytest.raises(ValueError, match="without repeats"):
        rmse(np.zeros((4, 2)), np.zeros((4, 2)), dims=[0, 0])


def test_one_absurd_draw_does_not_spoil_the_map_estimate():
    # A flow's tail draw mapped through exp() can be finite but 1e200: the plain standard
    # deviation overflows and every mode came out NaN.
    rng = np.random.default_rng(0)
    samples = 3.0 + 0.5 * rng.normal(size=(2, 1000, 2))
    samples[0, 7, 1] = 1e200
    samples[1, 3, 0] = -1e300
    modes = map_estimate(samples)
    assert np.all(np.isfinite(modes))
    np.testing.assert_allclose(modes, 3.0, atol=0.2)
    # Without outliers the moments are the plain ones: the estimate is unchanged.
    clean = 3.0 + 0.5 * rng.normal(size=(3, 500, 2))
    from sbinn.diagnostics.point_estimates import _inlier_moments

    center, scale = _inlier_moments(clean)
    np.testing.assert_allclose(center, clean.mean(axis=1, keepdims=True), rtol=1e-14)
    np.testing.assert_allclose(scale, clean.std(axis=1, keepdims=True), rtol=1e-12)
