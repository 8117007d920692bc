"""SimulationStream: chunk sizes, failure counting and reporting, progress, argument errors."""

import re
import warnings
from contextlib import contextmanager

import numpy as np
import pytest

from sbinn.parallel import chunk_generator
from sbinn.simulation_stream import SimulationStream
from sbinn.simulator import (
    SimulationError,
    SimulationFailureWarning,
    SimulatorOutputShapeError,
)
from tests.stream_support import PRIOR, noisy, simulator, stream


def nan_below(threshold):
    def f(theta, rng):
        x = noisy(theta, rng)
        x[theta[:, 0] < threshold] = np.nan
        return x

    return f


@contextmanager
def recorded_warnings():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


def count_failure_warnings(caught):
    return sum(issubclass(w.category, SimulationFailureWarning) for w in caught)


@pytest.mark.parametrize(
    ("num", "chunk_size", "sizes"),
    [
        (2500, 1000, [1000, 1000, 500]),
        (2000, 1000, [1000, 1000]),
        (7, 100, [7]),
        (5, 1, [1, 1, 1, 1, 1]),
    ],
)
def test_chunk_sizes_and_total(num, chunk_size, sizes):
    s = stream(num=num, chunk_size=chunk_size)
    chunks = list(s)
    assert [theta.shape[0] for theta, _ in chunks] == sizes
    assert all(theta.shape == x.shape for theta, x in chunks)
    assert s.num_simulated == num
    assert s.num_failed == 0


def test_seed_none_is_recorded_and_reproduces():
    s = stream(seed=None, num=300, chunk_size=100)
    assert isinstance(s.seed, int) and s.seed >= 0
    replay = stream(seed=s.seed, num=300, chunk_size=100)
    for (t1, x1), (t2, x2) in zip(s, replay, strict=True):
        np.testing.assert_array_equal(t1, t2)
        np.testing.assert_array_equal(x1, x2)
    assert stream(seed=None).seed != s.seed


def expected_failures(seed, sizes, threshold):
    return sum(
        int(np.sum(PRIOR.sample(size, chunk_generator(seed, i))[:, 0] < threshold))
        for i, size in enumerate(sizes)
    )


def test_failures_counted_across_chunks_with_one_warning_at_the_end():
    s = stream(nan_below(0.05), num=2500, chunk_size=1000, seed=3)
    expected = expected_failures(3, [1000, 1000, 500], 0.05)
    with recorded_warnings() as caught:
        iterator = iter(s)
        kept = 0
        for _ in range(3):
            theta, x = next(iterator)
            assert np.all(theta[:, 0] >= 0.05) and np.all(np.isfinite(x))
            kept += theta.shape[0]
            assert count_failure_warnings(caught) == 0
        with pytest.raises(StopIteration):
            next(iterator)
        assert count_failure_warnings(caught) == 1
        s.finish()
        assert count_failure_warnings(caught) == 1
    assert s.num_failed == expected > 0
    assert kept == 2500 - expected
    message = str(next(w.message for w in caught if w.category is SimulationFailureWarning))
    assert f"{expected} of 2500 simulations" in message


def test_consumer_stopping_early_reports_what_was_seen_once():
    s = stream(nan_below(0.05), num=3000, chunk_size=500, seed=1)
    with recorded_warnings() as caught:
        for index, _ in enumerate(s):
            if index == 1:
                break
        assert count_failure_warnings(caught) == 0
        assert s.num_simulated == 1000
        s.finish()
        s.finish()
        assert count_failure_warnings(caught) == 1
    expected = expected_failures(1, [500, 500], 0.05)
    assert f"{expected} of 1000 simulations" in str(caught[-1].message)


def test_early_abort_once_a_thousand_simulations_are_seen():
    s = stream(nan_below(0.5), num=100_000, chunk_size=400, seed=0)
    received = []
    with pytest.raises(SimulationError, match=r"of 1200 simulations .*max_failure_fraction=0\.1"):
        for theta, _ in s:
            received.append(theta.shape[0])
    assert len(received) == 2
    assert s.num_simulated == 1200


def test_too_many_failures_in_a_short_run_raise_at_the_end():
    s = stream(nan_below(0.5), num=600, chunk_size=200, seed=0)
    received = []
    with pytest.raises(SimulationError, match="of 600 simulations"):
        for theta, _ in s:
            received.append(theta)
    assert len(received) == 3


def test_every_pass_repeats_the_run_with_fresh_counts():
    s = stream(nan_below(0.05), num=1500, chunk_size=500, seed=2)
    with recorded_warnings() as caught:
        first = list(s)
        failed = s.num_failed
        second = list(s)
    assert s.num_simulated == 1500
    assert s.num_failed == failed
    assert count_failure_warnings(caught) == 2
    for (t1, _), (t2, _) in zip(first, second, strict=True):
        np.testing.assert_array_equal(t1, t2)


def test_garbage_output_propagates_from_the_stream():
    s = stream(lambda theta, rng: np.zeros((theta.shape[0], 3)))
    with pytest.raises(SimulatorOutputShapeError, match=re.escape("returned shape (1000, 3)")):
        next(iter(s))


def test_progress_false_prints_nothing(capsys):
    list(stream())
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_progress_true_shows_a_bar(capsys):
    list(SimulationStream(simulator(), 300, chunk_size=100, seed=0, progress=True))
    assert "simulating noisy" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"simulator": noisy}, TypeError, "simulator must be an sbinn Simulator, got function"),
        ({"num_simulations": 0}, ValueError, "num_simulations must be a positive integer, got 0"),
        (
            {"num_simulations": 10.0},
            TypeError,
            "num_simulations must be a positive integer, got float",
        ),
        ({"chunk_size": -5}, ValueError, "chunk_size must be a positive integer, got -5"),
        ({"seed": -1}, ValueError, "seed must be a non-negative int or None, got -1"),
        ({"seed": 1.5}, TypeError, "seed must be a non-negative int or None, got float 1.5"),
        (
            {"seed": np.random.default_rng(0)},
            TypeError,
            "seed must be a non-negative int or None, got Generator",
        ),
    ],
)
def test_constructor_errors(kwargs, error, message):
    arguments = {
        "simulator": simulator(),
        "num_simulations": 10,
        "chunk_size": 5,
        "seed": 0,
    } | kwargs
    with pytest.raises(error, match=re.escape(message)):
        SimulationStream(
            arguments.pop("simulator"),
            arguments.pop("num_simulations"),
            progress=False,
            **arguments,
        )
