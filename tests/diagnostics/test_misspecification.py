"""Conformal prior-predictive check: flag rates in and out of distribution, and its errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sbinn.diagnostics.misspecification import PriorPredictiveCheck, flagged_fraction
from sbinn.diagnostics.result import MetricResult
from simulators.kinematics import KinematicsSimulator
from simulators.kinematics.arm import PRIOR_SCALES
from simulators.linear_gaussian import LinearGaussianSimulator

LEVEL = 0.05
NUM_REFERENCE, NUM_TEST = 4000, 2000  # half of the reference simulations calibrate


def in_distribution_tolerance(num_calibration: int, num_test: int, level: float = LEVEL) -> float:
    """Three standard deviations of the in-distribution flag rate at ``level``.

    Given the calibration set, each observation is flagged with a probability that
    is Beta-distributed around ``level`` with variance about level(1 - level)/(n + 2);
    the binomial count over the test observations adds level(1 - level)/num_test.
    """
    variance = level * (1 - level) * (1 / (num_calibration + 2) + 1 / num_test)
    return 3 * math.sqrt(variance)


@pytest.fixture(params=["kinematics", "linear_gaussian"])
def simulator(request):
    if request.param == "kinematics":
        return KinematicsSimulator()
    return LinearGaussianSimulator(dim_theta=3, noise_std=0.1, seed=0)


def prior_scale(simulator) -> float:
    """Prior standard deviation of the first parameter."""
    if isinstance(simulator, KinematicsSimulator):
        return PRIOR_SCALES[0]  # the rail offset
    return float(np.sqrt(simulator.prior.cov[0, 0]))


def test_flags_in_distribution_at_the_level_and_shifted_parameters_almost_always(simulator):
    # Acceptance: observations whose first parameter lies 10 prior standard deviations
    # outside the prior are flagged at least 95% of the time; fresh prior-predictive
    # draws at most LEVEL of the time, up to three standard deviations of sampling error.
    _, x_reference = simulator.sample_joint(NUM_REFERENCE, seed=1)
    check = PriorPredictiveCheck().fit(x_reference, seed=0)
    tolerance = in_distribution_tolerance(check.num_calibration, NUM_TEST)

    _, x_in = simulator.sample_joint(NUM_TEST, seed=2)
    in_rate = check.flags(x_in, level=LEVEL).mean()
    assert in_rate <= LEVEL + tolerance
    # Valid but not useless: the rate is not far below the level either.
    assert in_rate >= LEVEL - tolerance

    rng = np.random.default_rng(3)
    theta = simulator.prior.sample(NUM_TEST, rng)
    theta[:, 0] += 10 * prior_scale(simulator)
    out_rate = check.flags(simulator.simulate(theta, rng), level=LEVEL).mean()
    assert out_rate >= 0.95


def test_p_values_follow_the_conformal_formula():
    rng = np.random.default_rng(4)
    check = PriorPredictiveCheck(num_neighbors=3).fit(rng.normal(size=(301, 2)), seed=1)
    x_obs = rng.normal(size=(50, 2)) * 2
    scores, calibration = check.scores(x_obs), check.calibration_scores
    expected = (1 + (calibration[None, :] >= scores[:, None]).sum(axis=1)) / (1 + calibration.size)
    assert np.array_equal(check.p_values(x_obs), expected)
    assert check.num_calibration == calibration.size == 150  # round(0.5 * 301)
    assert np.array_equal(check.flags(x_obs, level=0.1), expected <= 0.1)


def test_p_values_are_uniform_in_distribution():
    rng = np.random.default_rng(5)
    check = PriorPredictiveCheck().fit(rng.standard_t(3, size=(4000, 2)))
    p_values = check.p_values(rng.standard_t(3, size=(2000, 2)))
    # Every level, not only 0.05: P(p <= α) ≈ α within three standard deviations.
    for alpha in (0.01, 0.1, 0.3, 0.5, 0.8):
        tolerance = in_distribution_tolerance(check.num_calibration, p_values.size, alpha)
        assert (p_values <= alpha).mean() == pytest.approx(alpha, abs=tolerance)


def test_robust_standardisation_ignores_units():
    rng = np.random.default_rng(6)
    x_reference, x_obs = rng.normal(size=(1000, 2)), rng.normal(size=(200, 2)) * 1.5
    units = np.array([1e4, 1e-3])
    plain = PriorPredictiveCheck().fit(x_reference).p_values(x_obs)
    rescaled = PriorPredictiveCheck().fit(x_reference * units + 7.0).p_values(x_obs * units + 7.0)
    assert np.allclose(plain, rescaled)


def test_summary_moves_the_check_into_summary_space():
    rng = np.random.default_rng(7)
    x_reference = rng.normal(size=(2000, 2))
    x_obs = rng.normal(size=(200, 2)) + np.array(
        [0.0, 10.0]
    )  # shifted only in the second coordinate
    first_only = PriorPredictiveCheck(summary=lambda x: np.asarray(x)[:, :1]).fit(x_reference)
    both = PriorPredictiveCheck().fit(x_reference)
    assert both.flags(x_obs).mean() == 1.0
    # The summary drops the shifted coordinate, so the observations look in distribution.
    assert first_only.flags(x_obs).mean() <= LEVEL + in_distribution_tolerance(1000, 200)


def test_flagged_fraction_result():
    rng = np.random.default_rng(8)
    check = PriorPredictiveCheck().fit(rng.normal(size=(999, 1)))
    x_obs = np.concatenate([rng.normal(size=(100, 1)), rng.normal(size=(100, 1)) + 20.0])
    result = flagged_fraction(check, x_obs, level=LEVEL, seed=0)
    assert isinstance(result, MetricResult) and result.name == "flagged_fraction"
    assert result.value == pytest.approx(check.flags(x_obs, level=LEVEL).mean())
    assert 0.5 <= result.value <= 0.5 + LEVEL + in_distribution_tolerance(500, 100)
    assert result.low <= result.value <= result.high
    assert result.details["num_calibration"] == 500
    assert result.details["expected_if_well_specified"] == pytest.approx(25 / 501)
    assert len(result.details["p_values"]) == 200


def test_not_fitted_raises():
    check = PriorPredictiveCheck()
    assert not check.is_fitted
    for call in (check.p_values, check.flags, check.scores):
        with pytest.raises(RuntimeError, match=r"not fitted: call \.fit\(x_reference\)"):
            call(np.zeros((1, 2)))
    with pytest.raises(RuntimeError, match="not fitted"):
        flagged_fraction(check, np.zeros((1, 2)))


def test_wrong_widths_and_values_raise():
    check = PriorPredictiveCheck().fit(np.random.default_rng(9).normal(size=(100, 2)))
    with pytest.raises(ValueError, match=r"x_obs must have shape \(n, 2\) or \(2,\), got shape"):
        check.p_values(np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"x_obs must be finite, got NaN or inf in 1 row"):
        check.flags(np.array([[0.0, 1.0], [np.nan, 0.0]]))
    with pytest.raises(ValueError, match=r"x_reference must have shape \(n, d\)"):
        PriorPredictiveCheck().fit(np.zeros(100))
    with pytest.raises(ValueError, match="x_reference must be finite"):
        PriorPredictiveCheck().fit(np.full((100, 2), np.inf))


def test_summary_errors_name_the_summary():
    rng = np.random.default_rng(10)
    check = PriorPredictiveCheck(summary=lambda x: np.asarray(x)[:, :2]).fit(
        rng.normal(size=(100, 3))
    )
    with pytest.raises(ValueError, match=r"summary\(x_obs\) must have shape \(n, 2\)"):
        check.p_values(np.zeros((4, 1)))
    with pytest.raises(ValueError, match=r"summary\(x_reference\) must have shape \(n, d\)"):
        PriorPredictiveCheck(summary=lambda x: np.asarray(x)[:, 0]).fit(np.zeros((10, 2)))
    with pytest.raises(TypeError, match="summary must be a callable"):
        PriorPredictiveCheck(summary="mlp")


def test_too_few_simulations_and_levels_raise():
    with pytest.raises(ValueError, match=r"num_neighbors=5 reference points .* got 8 simulation"):
        PriorPredictiveCheck().fit(np.random.default_rng(11).normal(size=(8, 1)))
    with pytest.raises(ValueError, match=r"calibration_fraction must lie in \(0, 1\), got 1.0"):
        PriorPredictiveCheck().fit(np.zeros((100, 1)), calibration_fraction=1.0)
    with pytest.raises(ValueError, match="num_neighbors must be a positive integer, got 0"):
        PriorPredictiveCheck(num_neighbors=0)
    check = PriorPredictiveCheck().fit(np.random.default_rng(12).normal(size=(40, 1)))
    with pytest.raises(ValueError, match=r"below the smallest attainable p-value .* at least 99"):
        check.flags(np.zeros((1, 1)), level=0.01)
    with pytest.raises(ValueError, match=r"level must lie in \(0, 1\), got 1.5"):
        check.flags(np.zeros((1, 1)), level=1.5)
    with pytest.raises(TypeError, match="check must be a PriorPredictiveCheck"):
        flagged_fraction("check", np.zeros((1, 1)))
