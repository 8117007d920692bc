"""FailureTracker: counting failed simulations across chunks, early abort, one report."""

import numpy as np
import pytest

from sbinn.function_simulator import FunctionSimulator
from sbinn.simulation_failures import FailureTracker, SimulationError
from tests.simulator_support import no_warning


def make_tracker(prior):
    return FailureTracker(FunctionSimulator(lambda t: t, prior))


def test_failure_tracker_counts_across_chunks_and_keeps_the_first_example(prior):
    tracker = make_tracker(prior)
    theta = np.arange(10.0).reshape(5, 2)
    x = theta.copy()
    x[[1, 3], 0] = np.nan
    kept_theta, kept_x = tracker.filter(theta, x)
    np.testing.assert_array_equal(kept_theta, theta[[0, 2, 4]])
    np.testing.assert_array_equal(kept_x, x[[0, 2, 4]])
    x2 = theta.copy()
    x2[0] = np.inf
    tracker.filter(theta + 100, x2)
    assert (tracker.num_failed, tracker.num_total) == (3, 10)
    assert tracker.failed_fraction == pytest.approx(0.3)
    np.testing.assert_array_equal(tracker.example_theta, [2.0, 3.0])


def test_failure_tracker_finish_without_failures_is_silent(prior):
    tracker = make_tracker(prior)
    tracker.filter(np.zeros((3, 2)), np.zeros((3, 2)))
    no_warning(tracker.finish)
    assert tracker.failed_fraction == 0.0
    assert make_tracker(prior).failed_fraction == 0.0


def test_failure_tracker_aborts_early_only_after_enough_simulations(prior):
    tracker = make_tracker(prior)
    x = np.zeros((600, 2))
    x[::2] = np.nan
    tracker.filter(np.zeros((600, 2)), x)
    assert tracker.num_failed == 300
    with pytest.raises(SimulationError, match="600 of 1200 simulations"):
        tracker.filter(np.zeros((600, 2)), x)
