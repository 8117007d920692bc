"""Independent chunks of tensor work on threads, each running its torch ops single-threaded.

Sampling pushes many row chunks through the same small network. Splitting each operation
over the intra-op threads (the torch default) pays a fork and a join per operation, and on
a machine whose cores are also busy with other work the waiting threads spin: sampling
kinematics posteriors used 2-8 times the CPU time of one thread on two cores
of this project's AMD machines, and finished no sooner. Giving each thread whole chunks
instead keeps every core on its own chunk from start to end. A chunk's result does not
depend on the number of threads (each is computed by one thread with the same kernels),
so seeded samples stay the same whatever ``torch.get_num_threads()`` is.

Examples:
    >>> out = torch.zeros(4, 2)
    >>> def fill(lo):
    ...     out[lo : lo + 2] = torch.arange(lo, lo + 2.0)[:, None]
    >>> with ChunkThreads(workers=2) as threads:
    ...     for lo in (0, 2):
    ...         threads.submit(fill, lo)
    >>> out[:, 0].tolist()
    [0.0, 1.0, 2.0, 3.0]
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import torch

from sbinn._validation import check_positive_int

__all__ = ["ChunkThreads"]


class ChunkThreads:
    """A context in which :meth:`submit` runs chunk jobs on ``workers`` threads.

    While the context is open, torch's intra-op threads are set to 1 for the whole
    process (they are restored on exit), so another thread of the caller's that uses
    torch at the same time runs single-threaded too. With one worker, or for work on a
    GPU, jobs run inline in the calling thread and nothing is changed.

    Jobs run with the submitting thread's grad and inference modes (both are
    thread-local in torch). At most ``2 * workers`` jobs wait at a time, so a caller that
    prepares inputs for the next job (random draws, say) never runs far ahead of the
    workers. The first exception a job raises is re-raised by :meth:`submit` or on exit.

    Args:
        workers: Threads; default ``torch.get_num_threads()``.
        device: Where the work runs; threads are used only for ``"cpu"``.

    Raises:
        ValueError: if ``workers`` is not a positive integer.
    """

    def __init__(self, workers: int | None = None, device: torch.device | str = "cpu") -> None:
        workers = torch.get_num_threads() if workers is None else workers
        self.workers = check_positive_int(workers, "workers")
        self.threaded = self.workers > 1 and torch.device(device).type == "cpu"
        self._pool: ThreadPoolExecutor | None = None
        self._pending: deque[Future] = deque()
        self._saved_threads = 1

    def __enter__(self) -> ChunkThreads:
        if self.threaded:
            self._saved_threads = torch.get_num_threads()
            torch.set_num_threads(1)
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="sbinn-chunk")
        return self

    def submit(self, job: Callable[..., object], *args: object) -> None:
        """Run ``job(*args)`` on a worker thread (inline when not threaded)."""
        if self._pool is None:
            job(*args)
            return
        inference, grad = torch.is_inference_mode_enabled(), torch.is_grad_enabled()

        def run() -> None:
            with torch.inference_mode(inference), torch.set_grad_enabled(grad):
                job(*args)

        self._pending.append(self._pool.submit(run))
        while len(self._pending) > 2 * self.workers:
            self._pending.popleft().result()

    def __exit__(self, kind, error, traceback) -> None:
        if self._pool is None:
            return
        try:
            if error is None:
                while self._pending:
                    self._pending.popleft().result()
        finally:
            for future in self._pending:
                future.cancel()
            self._pool.shutdown(wait=True)
            self._pool = None
            self._pending.clear()
            torch.set_num_threads(self._saved_threads)
