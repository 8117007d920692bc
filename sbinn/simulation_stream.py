"""Prior simulations as a stream of chunks, with failures dropped and reported once.

Training on a large budget, or rejection ABC over millions of simulations, cannot hold every
simulation in memory, and should not have to decide alone how to count failed ones.
:class:`SimulationStream` hands its consumer one chunk of ``(theta, x)`` at a time, so memory
stays bounded by a few chunks whatever the budget, and removes failed rows (NaN, inf, an
exception) as they arrive. One :class:`~sbinn.simulation_failures.FailureTracker` counts them across
all chunks, so a run warns once at its end, or raises as soon as too many have failed,
rather than once per chunk. :func:`run_simulations` is the stream read to its end and
concatenated, for budgets that do fit in memory.

The chunks themselves come from :func:`~sbinn.parallel.map_chunks`: their simulations
depend only on the seed and the chunk size, not on where or how many workers ran them.

Examples:
    >>> from sbinn.priors import JointPrior, Normal
    >>> from sbinn.function_simulator import FunctionSimulator
    >>> sim = FunctionSimulator(lambda t: t + 1, JointPrior({"a": Normal(0, 1)}))
    >>> stream = SimulationStream(sim, 2500, chunk_size=1000, seed=0, progress=False)
    >>> [theta.shape[0] for theta, x in stream]
    [1000, 1000, 500]
    >>> stream.num_simulated, stream.num_failed
    (2500, 0)
    >>> theta, x = run_simulations(sim, 2500, chunk_size=1000, seed=0, backend="inprocess",
    ...                            progress=False)
    >>> bool((theta == np.concatenate([t for t, _ in stream])).all())
    True
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator

import numpy as np

from sbinn._progress import progress_bar
from sbinn._validation import check_positive_int
from sbinn.parallel import map_chunks, plan_chunks
from sbinn.parallel_backends import BackendLike
from sbinn.simulator import FailureTracker, Simulator

__all__ = ["SimulationStream", "run_simulations"]


class SimulationStream:
    """Iterate over ``(theta, x)`` chunks of prior simulations, failures removed.

    Args:
        simulator: The simulator to run.
        num_simulations: Total number of simulations (including failed ones).
        chunk_size: Simulations per chunk; bounds the memory in use.
        seed: Root seed; ``None`` draws one from the OS and records it in :attr:`seed`.
        progress: Show a progress bar; ``None`` shows one only on a terminal.
        with_noise: Yield ``(theta, x, noise)`` through
            :meth:`~sbinn.simulator.Simulator.simulate_with_noise` instead of ``(theta, x)``.
        backend: Where chunks run (see :func:`~sbinn.parallel.map_chunks`); chunks arrive in
            order whatever the backend, each bitwise what
            :func:`~sbinn.parallel.simulate_chunk` gives.
        max_workers: Local worker processes; default one per core.
        retries: Further attempts for a chunk that raised or whose worker died.
        first_chunk: Index of the first chunk, so that a later stream with the same seed
            continues this one with new simulations rather than repeating them.

    A consumer that stops early calls :meth:`finish` itself so that failures are
    reported; a stream read to its end reports them on its own. Every pass over
    the stream repeats the same simulations and starts its counts afresh.
    """

    def __init__(
        self,
        simulator: Simulator,
        num_simulations: int,
        *,
        chunk_size: int = 100_000,
        seed: int | None = None,
        progress: bool | None = None,
        with_noise: bool = False,
        backend: BackendLike = "auto",
        max_workers: int | None = None,
        retries: int = 2,
        first_chunk: int = 0,
    ) -> None:
        if not isinstance(simulator, Simulator):
            raise TypeError(f"simulator must be an sbinn Simulator, got {type(simulator).__name__}")
        self.simulator = simulator
        self.num_simulations = check_positive_int(num_simulations, "num_simulations")
        self.chunk_size = check_positive_int(chunk_size, "chunk_size")
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % 2**63)
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise TypeError(
                f"seed must be a non-negative int or None, got {type(seed).__name__} {seed!r}"
            )
        if seed < 0:
            raise ValueError(f"seed must be a non-negative int or None, got {seed}")
        self.seed = int(seed)
        self.progress = progress
        if with_noise and simulator.noise_dimension == 0:
            raise ValueError(
                f"with_noise=True needs a simulator that exposes its noise draws; "
                f"{simulator.name!r} has noise_dimension 0"
            )
        self.with_noise = bool(with_noise)
        self.backend = backend
        self.max_workers = max_workers
        self.retries = retries
        if isinstance(first_chunk, bool) or not isinstance(first_chunk, numbers.Integral):
            raise TypeError(f"first_chunk must be a non-negative int, got {first_chunk!r}")
        if first_chunk < 0:
            raise ValueError(f"first_chunk must be a non-negative int, got {first_chunk}")
        self.first_chunk = int(first_chunk)
        self._reset()

    def _reset(self) -> None:
        self.tracker = FailureTracker(self.simulator)
        self.num_simulated = 0
        self._finished = False

    @property
    def num_failed(self) -> int:
        """Failed simulations so far."""
        return self.tracker.num_failed

    def __iter__(self) -> Iterator[tuple[np.ndarray, ...]]:
        self._reset()
        bar = progress_bar(
            total=self.num_simulations,
            unit="sim",
            unit_scale=True,
            desc=f"simulating {self.simulator.name}",
            disable=None if self.progress is None else not self.progress,
            leave=False,
        )
        results = map_chunks(
            self.simulator,
            plan_chunks(self.num_simulations, self.chunk_size, first_index=self.first_chunk),
            seed=self.seed,
            backend=self.backend,
            max_workers=self.max_workers,
            retries=self.retries,
            with_noise=self.with_noise,
        )
        try:
            for result in results:
                extra = ()
                if self.with_noise:
                    extra = (result.noise[self.simulator.valid_mask(result.x)],)
                self.num_simulated += result.chunk.size
                bar.update(result.chunk.size)
                yield (*self.tracker.filter(result.theta, result.x, error=result.error), *extra)
        finally:
            results.close()
            bar.close()
        self.finish()

    def finish(self) -> None:
        """Report failed simulations once (warn, or raise above the tolerated fraction)."""
        if not self._finished:
            self._finished = True
            self.tracker.finish()


def run_simulations(
    simulator: Simulator,
    num_simulations: int,
    *,
    seed: int | None = None,
    chunk_size: int = 10_000,
    backend: BackendLike = "auto",
    max_workers: int | None = None,
    retries: int = 2,
    progress: bool | None = None,
    with_noise: bool = False,
    first_chunk: int = 0,
) -> tuple[np.ndarray, ...]:
    """Simulate ``num_simulations`` prior draws in chunks; failed simulations are dropped.

    The result depends on ``seed`` and ``chunk_size`` only, not on the backend or the number
    of workers. Arguments are those of :class:`SimulationStream`.

    Returns:
        ``(theta, x)``, or ``(theta, x, noise)`` with ``with_noise``, in chunk order.
    """
    stream = SimulationStream(
        simulator,
        num_simulations,
        chunk_size=chunk_size,
        seed=seed,
        progress=progress,
        with_noise=with_noise,
        backend=backend,
        max_workers=max_workers,
        retries=retries,
        first_chunk=first_chunk,
    )
    # At least one chunk is always yielded (num_simulations >= 1), possibly with no rows.
    parts = list(stream)
    return tuple(np.concatenate(columns, axis=0) for columns in zip(*parts, strict=True))
