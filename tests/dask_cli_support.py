"""A Dask scheduler and workers started as separate processes with the ``dask`` command line."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["command_line_cluster"]


def _dask_command() -> str:
    executable = Path(sys.executable).parent / "dask"
    if not executable.exists():
        import pytest

        pytest.skip(f"no dask command next to {sys.executable}")
    return str(executable)


def _wait_for_workers(address: str, count: int, timeout: float) -> None:
    import distributed

    with distributed.Client(address, timeout=timeout) as client:
        client.wait_for_workers(count, timeout=timeout)


@contextmanager
def command_line_cluster(folder: Path, num_workers: int, timeout: float = 60.0) -> Iterator[str]:
    """Yield the address of ``dask scheduler`` with ``num_workers`` ``dask worker`` processes."""
    dask = _dask_command()
    scheduler_file = folder / "scheduler.json"
    common = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    processes = [
        subprocess.Popen(
            [
                dask,
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(scheduler_file),
            ],
            **common,
        )
    ]
    try:
        deadline = time.monotonic() + timeout
        while not scheduler_file.exists():
            if time.monotonic() > deadline or processes[0].poll() is not None:
                raise RuntimeError("dask scheduler did not start")
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        processes.append(
            subprocess.Popen(
                [
                    dask,
                    "worker",
                    address,
                    "--nworkers",
                    str(num_workers),
                    "--nthreads",
                    "1",
                    "--host",
                    "127.0.0.1",
                    "--no-dashboard",
                ],
                **common,
            )
        )
        _wait_for_workers(address, num_workers, timeout)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
