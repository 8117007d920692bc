import os
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import sbinn.parallel as parallel
from sbinn.function_simulator import FunctionSimulator
from sbinn.parallel import (
    Chunk,
    ChunkFailedError,
    map_chunks,
    plan_chunks,
    simulate_chunk,
)
from sbinn.parallel_backends import InProcess, LocalProcesses, opened_backend
from sbinn.priors import JointPrior, Normal, Uniform
from sbinn.simulation_stream import run_simulations
from sbinn.simulator import SimulationFailureWarning, SimulatorOutputShapeError

PRIOR = JointPrior({"a": Uniform(0.0, 1.0), "b": Normal(0.0, 1.0)})


def noisy_simulator(function=None):
    function = function or (lambda theta, rng: theta + rng.normal(size=theta.shape))
    return FunctionSimulator(function, PRIOR, observation_shape=2, backend="numpy")


def assert_same_runs(first, second):
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_local_processes_give_bitwise_the_in_process_simulations():
    sim = noisy_simulator()
    expected = run_simulations(sim, 1000, chunk_size=100, seed=5, backend="inprocess")
    got = run_simulations(sim, 1000, chunk_size=100, seed=5, backend="processes", max_workers=2)
    assert_same_runs(expected, got)
    assert expected[0].shape == (1000, 2)


def test_results_depend_on_the_chunk_size_not_on_the_workers():
    sim = noisy_simulator()
    one = run_simulations(sim, 600, chunk_size=200, seed=1, backend="inprocess")
    with LocalProcesses(max_workers=2) as pool:
        two = run_simulations(sim, 600, chunk_size=200, seed=1, backend=pool)
        again = run_simulations(sim, 600, chunk_size=200, seed=1, backend=pool)
    assert_same_runs(one, two)
    assert_same_runs(one, again)
    other_chunks = run_simulations(sim, 600, chunk_size=300, seed=1, backend="inprocess")
    assert not np.array_equal(one[0], other_chunks[0])


def test_unordered_mapping_yields_every_chunk_once():
    sim = noisy_simulator()
    chunks = plan_chunks(900, 100)
    results = list(map_chunks(sim, chunks, seed=0, backend="processes", ordered=False))
    assert sorted(r.chunk.index for r in results) == list(range(9))
    for result in results:
        expected = simulate_chunk(sim, 0, result.chunk)
        np.testing.assert_array_equal(result.x, expected.x)


def test_noise_draws_come_back_from_workers():
    sim = noisy_simulator()

    class WithNoise(type(sim)):
        noise_dimension = 2

        def _simulate_given_noise(self, theta, noise):
            return theta + noise

    sim.__class__ = WithNoise
    expected = run_simulations(sim, 400, chunk_size=100, seed=2, with_noise=True)
    got = run_simulations(
        sim, 400, chunk_size=100, seed=2, with_noise=True, backend="processes", max_workers=2
    )
    assert_same_runs(expected, got)
    np.testing.assert_array_equal(got[1], got[0] + got[2])


def test_a_chunk_lost_with_its_worker_is_retried(tmp_path):
    marker = tmp_path / "crashed-once"

    def crash_once(theta, rng):
        if not marker.exists():
            marker.touch()
            os._exit(1)
        return theta + rng.normal(size=theta.shape)

    sim = noisy_simulator(crash_once)
    got = run_simulations(sim, 400, chunk_size=100, seed=3, backend="processes", max_workers=2)
    expected = run_simulations(sim, 400, chunk_size=100, seed=3, backend="inprocess")
    assert marker.exists()
    assert_same_runs(expected, got)


def test_a_chunk_that_always_kills_its_worker_fails_after_the_retries():
    def always_crash(theta, rng):
        os._exit(1)

    sim = noisy_simulator(always_crash)
    with pytest.raises(ChunkFailedError, match=r"failed 2 time\(s\), the last with Broken"):
        run_simulations(sim, 200, chunk_size=100, seed=0, backend="processes", retries=1)


def test_malformed_output_is_not_retried_and_names_the_chunk():
    sim = noisy_simulator(lambda theta, rng: np.zeros((theta.shape[0], 3)))
    with pytest.raises(
        SimulatorOutputShapeError, match=re.escape("returned shape (100, 3)")
    ) as info:
        run_simulations(sim, 200, chunk_size=100, seed=0, backend="processes", max_workers=2)
    assert any("chunk 0 (rows 0..99)" in note for note in info.value.__notes__)


def test_a_worker_side_exception_is_shown_in_the_failure_warning():
    def fails_for_small_a(theta, rng):
        if theta[0] < 0.02:
            raise FloatingPointError("diverged")
        return theta

    sim = FunctionSimulator(fails_for_small_a, PRIOR, observation_shape=2, vectorized=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        theta, _ = run_simulations(sim, 400, chunk_size=100, seed=4, backend="processes")
    messages = [str(w.message) for w in caught if w.category is SimulationFailureWarning]
    assert len(messages) == 1 and "FloatingPointError: diverged" in messages[0]
    assert theta.shape[0] < 400 and np.all(theta[:, 0] >= 0.02)


def test_auto_stays_in_process_for_a_quick_run(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a quick run must not start worker processes")

    monkeypatch.setattr(LocalProcesses, "share", refuse)
    sim = noisy_simulator()
    theta, _ = run_simulations(sim, 500, chunk_size=100, seed=0)
    assert theta.shape == (500, 2)


def test_auto_starts_workers_when_the_run_is_long(monkeypatch):
    started = []
    original = LocalProcesses.share

    def record(self, shared):
        started.append(self.num_workers)
        original(self, shared)

    monkeypatch.setattr(parallel, "_PROCESSES_WORTH_SECONDS", 0.0)
    monkeypatch.setattr(LocalProcesses, "share", record)
    sim = noisy_simulator()
    got = run_simulations(sim, 500, chunk_size=100, seed=0, max_workers=2)
    assert started == [2]
    assert_same_runs(run_simulations(sim, 500, chunk_size=100, seed=0, backend="inprocess"), got)


def test_in_process_backend_runs_at_submission():
    with opened_backend("inprocess") as backend:
        backend.share(3)
        assert backend.submit(lambda shared, value: shared * value, 4).result() == 12


def test_a_backend_object_is_left_open_for_reuse():
    pool = InProcess()
    with opened_backend(pool) as backend:
        assert backend is pool


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"backend": "threads"}, ValueError, "backend must be 'inprocess', 'processes', a Dask"),
        ({"backend": 3}, TypeError, "a distributed.Client, got int"),
        ({"retries": -1}, ValueError, "retries must be a non-negative integer, got -1"),
        ({"max_workers": 0}, ValueError, "max_workers must be a positive integer or None, got 0"),
    ],
)
def test_argument_errors(kwargs, error, message):
    arguments = {"backend": "processes", "max_workers": 2} | kwargs
    with pytest.raises(error, match=re.escape(message)):
        run_simulations(noisy_simulator(), 200, chunk_size=100, seed=0, **arguments)


def test_plan_chunks_covers_every_row_once():
    chunks = plan_chunks(1001, 100, first_index=4)
    assert chunks[0] == Chunk(4, 0, 100) and chunks[-1] == Chunk(14, 1000, 1)
    assert sum(c.size for c in chunks) == 1001


def test_dask_local_cluster_gives_bitwise_the_in_process_simulations():
    distributed = pytest.importorskip("distributed")
    sim = noisy_simulator()
    expected = run_simulations(sim, 800, chunk_size=100, seed=9, backend="inprocess")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        got = run_simulations(sim, 800, chunk_size=100, seed=9, backend=client)
    assert_same_runs(expected, got)


def test_dask_scheduler_and_workers_started_from_the_command_line(tmp_path):
    pytest.importorskip("distributed")
    from tests.dask_cli_support import command_line_cluster

    sim = noisy_simulator()
    expected = run_simulations(sim, 800, chunk_size=100, seed=11, backend="inprocess")
    with command_line_cluster(Path(tmp_path), num_workers=2) as address:
        assert address.startswith("tcp://127.0.0.1:")
        got = run_simulations(sim, 800, chunk_size=100, seed=11, backend=address)
    assert_same_runs(expected, got)


def test_first_chunk_continues_a_run_for_online_epochs():
    sim = noisy_simulator()
    whole = run_simulations(sim, 300, chunk_size=100, seed=6, backend="inprocess")
    tail = run_simulations(sim, 200, chunk_size=100, seed=6, first_chunk=1)
    assert_same_runs([part[100:] for part in whole], tail)


def test_a_reused_pool_runs_a_changed_simulator_as_changed():
    offset = [0.0]
    sim = noisy_simulator(lambda theta, rng: theta + offset[0])
    with LocalProcesses(max_workers=2) as pool:
        before = run_simulations(sim, 400, chunk_size=100, seed=0, backend=pool)
        offset[0] = 5.0
        after = run_simulations(sim, 400, chunk_size=100, seed=0, backend=pool)
    np.testing.assert_array_equal(after[1], before[1] + 5.0)
