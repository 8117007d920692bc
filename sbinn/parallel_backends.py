"""Where simulation chunks run: in this process, in local worker processes, or on Dask.

Every backend runs the same pure function of ``(simulator, seed, chunk)``, so where a chunk
runs never changes what it returns. The backends differ only in how chunks are shipped:

- :class:`InProcess` runs each chunk when it is submitted.
- :class:`LocalProcesses` keeps a pool of worker processes, each limited to one thread, since
  a worker per core with a full thread pool each oversubscribes the cores (a 2-thread
  training job slowed 14× next to a second one on the project's 2-core machines). The
  simulator is serialised once with ``cloudpickle`` so lambdas and closures work; workers
  start with ``forkserver`` on Linux (``fork`` is unsafe once torch's thread pools exist)
  and ``spawn`` elsewhere, so scripts need the usual ``if __name__ == "__main__":`` guard.
- :class:`DaskBackend` submits to a ``dask.distributed`` cluster, given a ``Client`` or a
  scheduler address such as ``"tcp://127.0.0.1:8786"``.

Each backend is handed one shared object (the simulator) with ``share``; every submitted
function then receives it as its first argument.

Examples:
    >>> with opened_backend("inprocess") as backend:
    ...     backend.share(10)
    ...     backend.submit(lambda shared, value: shared + value, 5).result()
    15
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

__all__ = [
    "Backend",
    "BackendLike",
    "DaskBackend",
    "InProcess",
    "LocalProcesses",
    "default_num_workers",
    "opened_backend",
]


def default_num_workers() -> int:
    """The number of cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


class Backend(Protocol):
    """What the chunk scheduler needs from a backend."""

    num_workers: int

    def share(self, shared: object) -> None:
        """Make ``shared`` the first argument of every function submitted from now on."""

    def submit(self, function: Callable[..., Any], *args: Any) -> Any:
        """Start ``function(shared, *args)``; return a future with ``result()``."""

    def restart(self) -> None:
        """Replace workers that died, after a chunk was lost with them."""

    def wait_any(self, futures: Sequence[Any]) -> None:
        """Block until at least one of ``futures`` is done."""

    def close(self) -> None:
        """Release the workers or connection this backend started."""


class InProcess:
    """Run each chunk in this process, at submission."""

    num_workers = 1

    def __init__(self) -> None:
        self._shared: Any = None

    def share(self, shared: object) -> None:
        """Make ``shared`` the first argument of every function submitted from now on."""
        self._shared = shared

    def submit(self, function: Callable[..., Any], *args: Any) -> cf.Future:
        """Run ``function(shared, *args)`` now; return a finished future with its outcome."""
        future: cf.Future = cf.Future()
        try:
            future.set_result(function(self._shared, *args))
        except Exception as error:
            future.set_exception(error)
        return future

    def restart(self) -> None:
        """Nothing to restart: there are no workers."""
        return None

    def wait_any(self, futures: Sequence[Any]) -> None:
        """Return at once: every future is done when it is submitted."""
        return None

    def close(self) -> None:
        """Nothing to release."""
        return None


_WORKER_STATE: dict[str, Any] = {}


def _exit_with_parent(parent_pid: int) -> None:
    """End this worker once the process that started the pool is gone.

    A pool's workers (and its forkserver) otherwise outlive a parent killed with SIGKILL,
    which never gets to shut them down.
    """
    import threading
    import time

    def watch() -> None:
        parent = multiprocessing.parent_process()
        while True:
            if parent is not None and parent.sentinel is not None:
                parent.join(timeout=1.0)
                gone = not parent.is_alive()
            else:
                time.sleep(1.0)
                gone = False
            if gone or os.getppid() == 1 or not _pid_alive(parent_pid):
                os._exit(1)

    threading.Thread(target=watch, name="sbinn-parent-watch", daemon=True).start()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _start_worker(payload: bytes, parent_pid: int) -> None:
    """Limit the worker to one thread and unpack the shared object (the simulator)."""
    import cloudpickle
    from threadpoolctl import threadpool_limits

    _exit_with_parent(parent_pid)
    # The environment covers libraries first imported by the unpickling below.
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[variable] = "1"
    _WORKER_STATE["limits"] = threadpool_limits(1)
    _WORKER_STATE["shared"] = cloudpickle.loads(payload)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


def _call_with_shared(function: Callable[..., Any], *args: Any) -> Any:
    return function(_WORKER_STATE["shared"], *args)


class LocalProcesses:
    """A pool of single-threaded worker processes on this machine.

    Args:
        max_workers: Worker processes; default one per available core.

    Use it as a context manager to reuse one pool for many runs (each run otherwise starts
    its own, which costs about a second per worker to import numpy and torch).
    """

    def __init__(self, max_workers: int | None = None) -> None:
        if max_workers is not None and (isinstance(max_workers, bool) or max_workers < 1):
            raise ValueError(f"max_workers must be a positive integer or None, got {max_workers}")
        self.num_workers = int(max_workers or default_num_workers())
        self._pool: cf.ProcessPoolExecutor | None = None
        self._shared: Any = None
        self._payload: bytes | None = None

    def share(self, shared: object) -> None:
        """Make ``shared`` the first argument of every submitted function.

        The pool is kept while ``shared`` serialises to the same bytes as before, and
        restarted otherwise, so a simulator changed between runs is never run stale.
        """
        import cloudpickle

        payload = cloudpickle.dumps(shared)
        if self._pool is not None and payload == self._payload:
            return
        self.close()
        method = "forkserver" if sys.platform.startswith("linux") else "spawn"
        self._pool = cf.ProcessPoolExecutor(
            self.num_workers,
            mp_context=multiprocessing.get_context(method),
            initializer=_start_worker,
            initargs=(payload, os.getpid()),
        )
        self._payload = payload
        self._shared = shared

    def submit(self, function: Callable[..., Any], *args: Any) -> cf.Future:
        """Start ``function(shared, *args)`` in a worker; return its future."""
        if self._pool is None:
            raise RuntimeError("LocalProcesses.share(simulator) must come before submit")
        return self._pool.submit(_call_with_shared, function, *args)

    def restart(self) -> None:
        """Replace a pool whose worker died (a ``BrokenProcessPool``)."""
        shared = self._shared
        self.close()
        self.share(shared)

    def wait_any(self, futures: Sequence[Any]) -> None:
        """Block until at least one of ``futures`` is done."""
        cf.wait(futures, return_when=cf.FIRST_COMPLETED)

    def close(self) -> None:
        """Shut the pool down, cancelling chunks that have not started."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool = None
        self._payload = None

    def __enter__(self) -> LocalProcesses:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class DaskBackend:
    """Submit chunks to a ``dask.distributed`` cluster.

    Args:
        client: A ``distributed.Client``, or a scheduler address to connect to (and
            disconnect from in :meth:`close`).
    """

    def __init__(self, client: Any) -> None:
        try:
            import distributed
        except ImportError as error:
            raise ImportError(
                "the Dask backend needs dask.distributed: pip install 'sbinn[dask]'"
            ) from error
        self._owns_client = isinstance(client, str)
        self.client = distributed.Client(client) if self._owns_client else client
        if not isinstance(self.client, distributed.Client):
            raise TypeError(
                f"DaskBackend needs a distributed.Client or an address, got {type(client).__name__}"
            )
        self._shared: Any = None
        self._payload: bytes | None = None

    @property
    def num_workers(self) -> int:
        """Worker threads on the cluster now (at least 1)."""
        info = self.client.scheduler_info()
        return max(1, sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()))

    def share(self, shared: object) -> None:
        """Send ``shared`` to every worker once; it becomes every task's first argument.

        It is sent again whenever it serialises differently, e.g. after a change of settings.
        """
        import cloudpickle

        payload = cloudpickle.dumps(shared)
        if payload != self._payload:
            self._shared = self.client.scatter(shared, broadcast=True, hash=False)
            self._payload = payload

    def submit(self, function: Callable[..., Any], *args: Any) -> Any:
        """Submit ``function(shared, *args)`` as a task; return its Dask future."""
        return self.client.submit(function, self._shared, *args, pure=False)

    def restart(self) -> None:
        """Nothing to do: the Dask scheduler replaces lost workers itself."""
        return None

    def wait_any(self, futures: Sequence[Any]) -> None:
        """Block until at least one of ``futures`` is done."""
        import distributed

        distributed.wait(list(futures), return_when="FIRST_COMPLETED")

    def close(self) -> None:
        """Disconnect the client if it was created here from an address."""
        if self._owns_client:
            self.client.close()


BackendLike = str | InProcess | LocalProcesses | DaskBackend | Any

_ADDRESS_PREFIXES = ("tcp://", "tls://", "inproc://", "ucx://", "ws://", "wss://")


@contextmanager
def opened_backend(backend: BackendLike, max_workers: int | None = None) -> Iterator[Any]:
    """The backend object for ``backend``, closed on exit if it was created here.

    Args:
        backend: ``"inprocess"``, ``"processes"``, a scheduler address, a
            ``distributed.Client``, or a backend object (used as is and left open, so that
            one pool serves many runs).
        max_workers: Worker processes of ``"processes"``.

    Raises:
        ValueError: for an unknown backend name.
        TypeError: for anything else that is not a backend.
    """
    if isinstance(backend, InProcess | LocalProcesses | DaskBackend):
        yield backend
        return
    created = _create_backend(backend, max_workers)
    try:
        yield created
    finally:
        created.close()


def _create_backend(backend: BackendLike, max_workers: int | None) -> Any:
    if isinstance(backend, str):
        if backend == "inprocess":
            return InProcess()
        if backend == "processes":
            return LocalProcesses(max_workers)
        if backend.startswith(_ADDRESS_PREFIXES):
            return DaskBackend(backend)
        raise ValueError(
            f"backend must be 'inprocess', 'processes', a Dask scheduler address "
            f"('tcp://host:port') or a distributed.Client, got {backend!r}"
        )
    if type(backend).__name__ == "Client" and type(backend).__module__.startswith("distributed"):
        return DaskBackend(backend)
    raise TypeError(
        f"backend must be 'inprocess', 'processes', a Dask scheduler address or a "
        f"distributed.Client, got {type(backend).__name__}"
    )
