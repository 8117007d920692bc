"""ChunkThreads: chunk jobs on threads with single-threaded torch ops, and what uses it."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from sbinn._chunk_threads import ChunkThreads
from sbinn.methods.cinn import CINN, CINNConfig, TrainingConfig
from simulators.linear_gaussian import LinearGaussianSimulator


@pytest.fixture
def two_threads():
    saved = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(saved)


def test_jobs_run_on_worker_threads_with_one_intra_op_thread_then_threads_are_restored(
    two_threads,
):
    seen = []

    def job(index):
        seen.append((index, threading.current_thread().name, torch.get_num_threads()))

    with ChunkThreads(workers=2) as threads:
        for index in range(6):
            threads.submit(job, index)
    assert sorted(i for i, _, _ in seen) == list(range(6))
    assert all(name.startswith("sbinn-chunk") and n == 1 for _, name, n in seen)
    assert torch.get_num_threads() == 2


def test_one_worker_runs_inline_and_changes_nothing(two_threads):
    names = []
    with ChunkThreads(workers=1) as threads:
        threads.submit(lambda: names.append(threading.current_thread().name))
        assert torch.get_num_threads() == 2
    assert names == [threading.current_thread().name]


def test_gpu_work_runs_inline(two_threads):
    chunk_threads = ChunkThreads(workers=2, device="cuda")
    assert not chunk_threads.threaded


def test_jobs_inherit_the_submitting_threads_grad_and_inference_modes(two_threads):
    modes = []

    def job():
        modes.append((torch.is_grad_enabled(), torch.is_inference_mode_enabled()))

    with torch.inference_mode(), ChunkThreads(workers=2) as threads:
        threads.submit(job)
    with torch.no_grad(), ChunkThreads(workers=2) as threads:
        threads.submit(job)
    with ChunkThreads(workers=2) as threads:
        threads.submit(job)
    assert modes == [(False, True), (False, False), (True, False)]


def test_a_failing_job_raises_in_the_caller_and_threads_are_restored(two_threads):
    def job(index):
        if index == 3:
            raise RuntimeError("chunk 3 failed")

    with pytest.raises(RuntimeError, match="chunk 3 failed"):
        with ChunkThreads(workers=2) as threads:
            for index in range(8):
                threads.submit(job, index)
    assert torch.get_num_threads() == 2


def test_workers_must_be_a_positive_integer():
    with pytest.raises(ValueError, match="workers"):
        ChunkThreads(workers=0)


def test_cinn_samples_and_densities_do_not_depend_on_the_thread_count(monkeypatch):
    simulator = LinearGaussianSimulator(dim_theta=2, noise_std=0.5)
    cinn = CINN(CINNConfig(num_blocks=2, hidden_features=16), seed=0).fit(
        simulator=simulator,
        num_simulations=500,
        training=TrainingConfig(num_epochs=1, batch_size=100, progress=False),
        check_stability=False,
    )
    _, x = simulator.sample_joint(40, seed=1)
    # A small chunk makes many chunks, so the threads really share the work.
    monkeypatch.setattr(CINN, "_chunk", property(lambda self: 512))
    saved = torch.get_num_threads()
    found = {}
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            samples = cinn.sample(x, 300, seed=3)
            found[threads] = (samples, cinn.log_prob(samples[:, 0], x))
    finally:
        torch.set_num_threads(saved)
    assert np.array_equal(found[1][0], found[2][0])
    assert np.array_equal(found[1][1], found[2][1])
