"""A store writer killed with SIGKILL mid-run and rerun ends with exactly n simulations."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sbinn.store import SimulationStore
from tests.store_support import KILL_RUN, raw_columns
from tests.store_writer import write

ROOT = Path(__file__).resolve().parents[1]
NUM_CHUNKS = KILL_RUN["num_simulations"] // KILL_RUN["chunk_size"]


def committed(path):
    markers = path / "num_failed" / "c"
    return [p for p in markers.iterdir() if ".partial" not in p.name] if markers.is_dir() else []


def start_writer(path, backend):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "tests.store_writer", str(path), backend]
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)


def kill_after(writer, path, num_committed, timeout=60.0):
    deadline = time.monotonic() + timeout
    while len(committed(path)) < num_committed:
        assert writer.poll() is None, f"the writer exited early with {writer.returncode}"
        assert time.monotonic() < deadline, "the writer committed too few chunks in time"
        time.sleep(0.005)
    writer.send_signal(signal.SIGKILL)
    assert writer.wait(timeout=10) == -signal.SIGKILL


def session_alive(session_id):
    try:
        os.killpg(session_id, 0)
    except ProcessLookupError:
        return False
    return True


def session_ends(session_id, timeout=15.0):
    deadline = time.monotonic() + timeout
    while session_alive(session_id):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@pytest.mark.parametrize("backend", ["inprocess", "processes"])
def test_a_writer_killed_mid_run_and_rerun_ends_with_exactly_n_simulations(tmp_path, backend):
    path = tmp_path / "killed"
    writer = start_writer(path, backend)
    try:
        kill_after(writer, path, num_committed=10)
        # Local workers, their forkserver and resource tracker watch the parent and follow it.
        assert session_ends(writer.pid), "processes of the killed writer are still running"
    finally:
        if session_alive(writer.pid):
            os.killpg(writer.pid, signal.SIGKILL)
    interrupted = SimulationStore.open(path)
    assert 10 <= len(committed(path)) < NUM_CHUNKS
    assert interrupted.num_completed == len(committed(path)) * KILL_RUN["chunk_size"]

    store = write(path, "inprocess", delay=0.0)

    assert len(store) == KILL_RUN["num_simulations"] and store.is_complete
    assert len(committed(path)) == NUM_CHUNKS and store.num_failed == 0
    theta, x = raw_columns(store)
    assert theta.shape == (KILL_RUN["num_simulations"], 2) == x.shape
    assert np.unique(theta, axis=0).shape[0] == KILL_RUN["num_simulations"]
    reference = write(tmp_path / "uninterrupted", "inprocess", delay=0.0)
    for got, expected in zip((theta, x), raw_columns(reference), strict=True):
        np.testing.assert_array_equal(got, expected)
    loaded = SimulationStore.open(path).load()
    assert loaded[0].shape == (KILL_RUN["num_simulations"], 2)
