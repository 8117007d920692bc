"""Re-simulation error with tiny simulators whose distances can be worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sbinn.diagnostics import map_estimate, resimulation_distances, resimulation_error
from sbinn.diagnostics.resimulation import _pooled_median
from sbinn.function_simulator import FunctionSimulator
from sbinn.priors import JointPrior, Normal
from sbinn.simulator import SimulationError, SimulationFailureWarning


@pytest.fixture
def doubling():
    return FunctionSimulator(lambda t: 2 * t, JointPrior({"a": Normal(0.0, 1.0)}))


def test_exact_numbers_one_dimension(doubling):
    samples = np.array([[[1.0], [2.0], [4.0]], [[0.0], [0.5], [-1.0]]])
    x_obs = np.array([[4.0], [1.0]])
    # Simulations 2, 4, 8 against 4 and 0, 1, -2 against 1: distances 2, 0, 4 and 1, 0, 3.
    distances = [2.0, 0.0, 4.0, 1.0, 0.0, 3.0]
    mean, median = resimulation_error(samples, x_obs, doubling, num_resamples=100)
    assert mean.value == pytest.approx(sum(distances) / 6)
    assert median.value == pytest.approx((1.0 + 2.0) / 2)
    assert (mean.name, median.name) == ("resimulation_error_mean", "resimulation_error_median")
    assert mean.details["num_failed"] == 0 and mean.details["num_simulations"] == 6
    for result in (mean, median):
        assert result.low <= result.value <= result.high
        assert set(result.to_json()) == {"value", "low", "high"}


def test_euclidean_distance_in_several_dimensions():
    prior = JointPrior({"a": Normal(0.0, 1.0), "b": Normal(0.0, 1.0)})
    simulator = FunctionSimulator(lambda t: 2 * t, prior)
    samples = np.array([[[0.0, 0.0], [3.0, 4.0]]])
    x_obs = np.array([[6.0, 8.0]])
    assert resimulation_distances(samples, x_obs, simulator).tolist() == [[10.0, 0.0]]


def test_observations_with_several_axes_are_flattened():
    prior = JointPrior({"a": Normal(0.0, 1.0), "b": Normal(0.0, 1.0)})
    simulator = FunctionSimulator(lambda t: np.repeat(t[:, :, None], 3, axis=2), prior)
    assert simulator.observation_shape == (2, 3)
    samples = np.array([[[1.0, 1.0]]])
    # Six entries each off by one: distance sqrt(6), whether x_obs is (1, 2, 3) or (1, 6).
    for x_obs in (np.zeros((1, 2, 3)), np.zeros((1, 6))):
        assert resimulation_distances(samples, x_obs, simulator).item() == pytest.approx(
            math.sqrt(6)
        )


def test_failed_resimulations_are_excluded_and_reported():
    prior = JointPrior({"a": Normal(0.0, 1.0)})
    simulator = FunctionSimulator(lambda t: np.where(t > 3.0, np.nan, 2 * t), prior)
    samples = np.array([[[1.0], [5.0], [2.0]], [[6.0], [7.0], [0.0]]])
    x_obs = np.array([[0.0], [0.0]])
    # Valid simulations: 2, 4 for the first observation, 0 for the second.
    with pytest.warns(SimulationFailureWarning, match="3 of 6 re-simulations"):
        mean, median = resimulation_error(samples, x_obs, simulator, num_resamples=50)
    assert mean.value == pytest.approx((2.0 + 4.0 + 0.0) / 3)
    assert median.value == pytest.approx(2.0)
    assert mean.details["num_failed"] == median.details["num_failed"] == 3
    assert mean.details["failed_fraction"] == pytest.approx(0.5)
    assert "3 failed ones excluded" in mean.method


def test_all_failed_raises():
    prior = JointPrior({"a": Normal(0.0, 1.0)})
    simulator = FunctionSimulator(lambda t: np.where(t > 3.0, np.nan, t), prior)
    with pytest.raises(SimulationError, match="all 2 re-simulations"):
        resimulation_error(np.full((1, 2, 1), 5.0), [[0.0]], simulator)


def test_at_map_resimulates_the_map_only(doubling):
    rng = np.random.default_rng(0)
    samples = rng.normal(loc=1.0, scale=0.3, size=(20, 400, 1))
    x_obs = rng.normal(size=(20, 1))
    mean, median = resimulation_error(samples, x_obs, doubling, at="map", num_resamples=50)
    expected = np.abs(2 * map_estimate(samples) - x_obs)
    assert mean.value == pytest.approx(expected.mean())
    assert median.value == pytest.approx(np.median(expected))
    assert mean.details["num_simulations"] == 20 and mean.details["at"] == "map"


@pytest.mark.parametrize("at", ["MAP", "mean", None, 1])
def test_invalid_at_raises(doubling, at):
    with pytest.raises(ValueError, match=r"at must be one of \('posterior', 'map'\), got"):
        resimulation_error(np.zeros((1, 2, 1)), [[0.0]], doubling, at=at)


def test_chunking_and_seeding_do_not_change_the_result():
    prior = JointPrior({"a": Normal(0.0, 1.0)})
    noisy = FunctionSimulator(lambda t, rng: t + rng.normal(size=t.shape), prior)
    samples = np.random.default_rng(1).normal(size=(30, 40, 1))
    x_obs = np.zeros((30, 1))
    whole = resimulation_distances(samples, x_obs, noisy, seed=3)
    assert np.array_equal(resimulation_distances(samples, x_obs, noisy, seed=3), whole)
    assert not np.array_equal(resimulation_distances(samples, x_obs, noisy, seed=4), whole)
    first = resimulation_error(samples, x_obs, noisy, seed=5, num_resamples=20)
    again = resimulation_error(samples, x_obs, noisy, seed=5, num_resamples=20)
    assert [r.to_json() for r in first] == [r.to_json() for r in again]
    deterministic = FunctionSimulator(lambda t: t**2, prior)
    assert np.array_equal(
        resimulation_distances(samples, x_obs, deterministic, chunk_size=7),
        resimulation_distances(samples, x_obs, deterministic),
    )


def test_median_bootstrap_matches_brute_force(doubling):
    # The interval comes from pooled-quantile histograms; check it against explicit medians.
    rng = np.random.default_rng(2)
    samples = rng.normal(size=(200, 50, 1)) * rng.uniform(0.5, 2.0, size=(200, 1, 1))
    x_obs = np.zeros((200, 1))
    _, median = resimulation_error(samples, x_obs, doubling, num_resamples=2000, seed=0)
    distances = resimulation_distances(samples, x_obs, doubling)
    indices = rng.integers(0, 200, size=(2000, 200))
    brute = np.array([np.median(distances[i]) for i in indices])
    low, high = np.quantile(brute, [0.16, 0.84])
    width = high - low
    assert median.low == pytest.approx(low, abs=0.1 * width)
    assert median.high == pytest.approx(high, abs=0.1 * width)


def test_median_bootstrap_is_exact_for_few_distinct_distances():
    # Resampling observations of [[1, 2], [3, 4], [6, 9]] pools six distances; their median
    # is the mean of two of them. Interpolating within bins would give other values.
    distances = np.array([[1.0, 2.0], [3.0, 4.0], [6.0, 9.0]])
    value, replicates = _pooled_median(distances, np.isfinite(distances), 500, seed=0)
    assert value == 3.5
    flat = distances.ravel()
    possible = {(a + b) / 2 for a in flat for b in flat}
    assert set(np.round(replicates, 12)) <= possible
    assert len(set(replicates)) > 3


def test_median_bootstrap_matches_brute_force_one_distance_per_observation(doubling):
    rng = np.random.default_rng(3)
    samples = rng.normal(size=(300, 1, 1))
    _, median = resimulation_error(samples, np.zeros((300, 1)), doubling, num_resamples=4000)
    distances = np.abs(2 * samples[:, 0, 0])
    brute = np.median(distances[rng.integers(0, 300, size=(4000, 300))], axis=1)
    low, high = np.quantile(brute, [0.16, 0.84])
    assert median.low == pytest.approx(low, abs=0.05 * (high - low))
    assert median.high == pytest.approx(high, abs=0.05 * (high - low))


def test_inputs_are_validated(doubling):
    with pytest.raises(TypeError, match="simulator must be an sbinn Simulator"):
        resimulation_error(np.zeros((1, 2, 1)), [[0.0]], lambda t: t)
    with pytest.raises(ValueError, match=r"x_obs must have one row per observation.*2 rows"):
        resimulation_error(np.zeros((2, 3, 1)), [[0.0]], doubling)
    with pytest.raises(ValueError, match=r"x_obs must have shape \(n, 1\)"):
        resimulation_error(np.zeros((1, 3, 1)), [[0.0, 1.0]], doubling)
    with pytest.raises(ValueError, match=r"samples must have dim_theta=1.*\(1, 3, 2\)"):
        resimulation_error(np.zeros((1, 3, 2)), [[0.0]], doubling)
    with pytest.raises(ValueError, match="x_obs must be finite"):
        resimulation_error(np.zeros((1, 3, 1)), [[np.nan]], doubling)
