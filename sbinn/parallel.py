"""Running a simulator over many prior draws in chunks, locally or on a Dask cluster.

Chunk ``i`` draws its parameters and noise from ``SeedSequence(seed, spawn_key=(i,))``, so a
run's simulations depend only on its seed and chunk size: they are bitwise the same in this
process, in local worker processes (the default) or on a Dask cluster, with any number of
workers. Memory stays bounded by a few chunks whatever the total budget. Failed simulations
(NaN, inf, an exception) are dropped and counted by one
:class:`~sbinn.simulator.FailureTracker` for the whole run; a chunk lost with its worker is
retried a bounded number of times.

Examples:
    >>> from sbinn.priors import JointPrior, Normal
    >>> from sbinn.function_simulator import FunctionSimulator
    >>> sim = FunctionSimulator(lambda t: t + 1, JointPrior({"a": Normal(0, 1)}))
    >>> stream = SimulationStream(sim, 2500, chunk_size=1000, seed=0, progress=False)
    >>> [theta.shape[0] for theta, x in stream]
    [1000, 1000, 500]
    >>> stream.num_simulated
    2500
    >>> theta, x = run_simulations(sim, 2500, chunk_size=1000, seed=0, backend="inprocess",
    ...                            progress=False)
    >>> bool((theta == np.concatenate([t for t, _ in stream])).all())
    True
"""

from __future__ import annotations

import numbers
import pickle
import time
from collections.abc import Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import numpy as np

from sbinn._progress import progress_bar
from sbinn._validation import check_positive_int
from sbinn.parallel_backends import (
    BackendLike,
    InProcess,
    default_num_workers,
    opened_backend,
)
from sbinn.simulator import (
    FailureTracker,
    SimulationError,
    Simulator,
    SimulatorOutputShapeError,
    SimulatorOutputTypeError,
)

__all__ = [
    "Chunk",
    "ChunkFailedError",
    "ChunkResult",
    "SimulationStream",
    "chunk_generator",
    "map_chunks",
    "plan_chunks",
    "run_simulations",
    "simulate_chunk",
]

# Errors that would recur on every attempt: the simulator's output is malformed, or it
# failed for every parameter vector it was tried on.
_NOT_RETRIED = (SimulationError, SimulatorOutputShapeError, SimulatorOutputTypeError)

# Starting two single-threaded workers (forkserver, importing numpy and torch) takes ~3 s on
# the project's 2-core machines, so runs shorter than this stay in the calling process.
_PROCESSES_WORTH_SECONDS = 10.0


def chunk_generator(seed: int, chunk_index: int) -> np.random.Generator:
    """The random generator of chunk ``chunk_index`` in a run seeded with ``seed``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(chunk_index,)))


class ChunkFailedError(RuntimeError):
    """A chunk failed on every allowed attempt (its worker died or it raised)."""


@dataclass(frozen=True)
class Chunk:
    """Rows ``start .. start + size`` of a run, drawn with :func:`chunk_generator` ``index``."""

    index: int
    start: int
    size: int


@dataclass(frozen=True)
class ChunkResult:
    """One simulated chunk with its failed rows still in place (all-NaN in ``x``).

    Attributes:
        chunk: Which chunk this is.
        theta: Prior draws, ``(size, dim_parameters)``.
        x: Observations, ``(size, *observation_shape)``.
        noise: The simulator's standard-normal draws, or ``None`` without ``with_noise``.
        error: An exception behind failed rows, if the simulator raised any.
    """

    chunk: Chunk
    theta: np.ndarray
    x: np.ndarray
    noise: np.ndarray | None = None
    error: BaseException | None = None


def plan_chunks(num_simulations: int, chunk_size: int, *, first_index: int = 0) -> list[Chunk]:
    """Split ``num_simulations`` rows into chunks of ``chunk_size`` (the last may be smaller).

    Examples:
        >>> [(c.index, c.start, c.size) for c in plan_chunks(25, 10, first_index=3)]
        [(3, 0, 10), (4, 10, 10), (5, 20, 5)]
    """
    num_simulations = check_positive_int(num_simulations, "num_simulations")
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    return [
        Chunk(first_index + i, start, min(chunk_size, num_simulations - start))
        for i, start in enumerate(range(0, num_simulations, chunk_size))
    ]


def _picklable(error: BaseException | None) -> BaseException | None:
    if error is None:
        return None
    try:
        pickle.dumps(error)
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error


def simulate_chunk(
    simulator: Simulator, seed: int, chunk: Chunk, with_noise: bool = False
) -> ChunkResult:
    """Draw and simulate one chunk; the same result wherever it runs.

    Examples:
        >>> from sbinn.priors import JointPrior, Normal
        >>> from sbinn.function_simulator import FunctionSimulator
        >>> sim = FunctionSimulator(lambda t: 2 * t, JointPrior({"a": Normal(0, 1)}))
        >>> result = simulate_chunk(sim, 0, Chunk(index=1, start=10, size=4))
        >>> result.theta.shape, bool((result.x == 2 * result.theta).all())
        ((4, 1), True)
    """
    rng = chunk_generator(seed, chunk.index)
    theta = simulator.prior.sample(chunk.size, rng)
    noise = None
    if with_noise:
        x, noise = simulator.simulate_with_noise(theta, rng)
    else:
        x = simulator.simulate(theta, rng)
    return ChunkResult(chunk, theta, x, noise, _picklable(simulator.last_exception))


def _retry_or_raise(error: BaseException, chunk: Chunk, attempts: int, retries: int) -> None:
    where = f"chunk {chunk.index} (rows {chunk.start}..{chunk.start + chunk.size - 1})"
    if isinstance(error, _NOT_RETRIED):
        error.add_note(f"raised while simulating {where}")
        raise error
    if attempts > retries:
        raise ChunkFailedError(
            f"{where} failed {attempts} time(s), the last with {type(error).__name__}: {error}"
        ) from error


def map_chunks(
    simulator: Simulator,
    chunks: Iterable[Chunk],
    *,
    seed: int,
    backend: BackendLike = "auto",
    max_workers: int | None = None,
    retries: int = 2,
    ordered: bool = True,
    with_noise: bool = False,
) -> Iterator[ChunkResult]:
    """Simulate ``chunks`` on ``backend``; yield them in order, or as they finish.

    Args:
        simulator: The simulator; shipped once to every worker.
        chunks: What to simulate, e.g. from :func:`plan_chunks`.
        seed: The run's root seed.
        backend: ``"auto"`` (the default: local worker processes, one thread each, unless the
            first chunk shows the whole run would take under ~10 s in this process, less
            than starting workers gains), ``"processes"``, ``"inprocess"``, a Dask scheduler
            address or ``distributed.Client``, or an open backend object from
            :mod:`sbinn.parallel_backends` to reuse across runs. A single chunk or
            ``max_workers=1`` always runs in this process.
        max_workers: Local worker processes; default one per core.
        retries: Further attempts for a chunk that raised or whose worker died.
        ordered: Yield in the order of ``chunks`` (else as chunks finish).
        with_noise: Also return the simulator's noise draws.

    Raises:
        ChunkFailedError: if a chunk fails ``retries + 1`` times.
    """
    chunks = list(chunks)
    if isinstance(retries, bool) or not isinstance(retries, numbers.Integral) or retries < 0:
        raise ValueError(f"retries must be a non-negative integer, got {retries!r}")
    if len(chunks) <= 1 or max_workers == 1:
        backend = "inprocess"
    if isinstance(backend, str) and backend == "auto":
        started = time.perf_counter()
        yield simulate_chunk(simulator, seed, chunks[0], with_noise)
        per_row = (time.perf_counter() - started) / chunks[0].size
        chunks = chunks[1:]
        serial_estimate = per_row * sum(chunk.size for chunk in chunks)
        workers = max_workers or default_num_workers()
        worth_it = workers > 1 and serial_estimate > _PROCESSES_WORTH_SECONDS
        backend = "processes" if worth_it else "inprocess"
    yield from _map_on(simulator, chunks, seed, backend, max_workers, retries, ordered, with_noise)


def _map_on(
    simulator: Simulator,
    chunks: list[Chunk],
    seed: int,
    backend: BackendLike,
    max_workers: int | None,
    retries: int,
    ordered: bool,
    with_noise: bool,
) -> Iterator[ChunkResult]:
    """:func:`map_chunks` on a resolved backend, at most two chunks per worker in flight."""
    with opened_backend(backend, max_workers) as runner:
        runner.share(simulator)
        window = max(1, 2 * runner.num_workers) if not isinstance(runner, InProcess) else 1
        waiting = list(reversed(chunks))
        in_flight: dict[Chunk, tuple[object, int]] = {}
        while waiting or in_flight:
            while waiting and len(in_flight) < window:
                chunk = waiting.pop()
                in_flight[chunk] = (runner.submit(simulate_chunk, seed, chunk, with_noise), 1)
            if ordered:
                done = [next(iter(in_flight))]
            else:
                runner.wait_any([future for future, _ in in_flight.values()])
                done = [c for c, (future, _) in in_flight.items() if future.done()]
            for chunk in done:
                future, attempts = in_flight[chunk]
                try:
                    result = future.result()
                except Exception as error:
                    _retry_or_raise(error, chunk, attempts, retries)
                    if isinstance(error, BrokenProcessPool):
                        # Every chunk in flight went down with the pool.
                        runner.restart()
                        for other, (_, tries) in list(in_flight.items()):
                            in_flight[other] = (
                                runner.submit(simulate_chunk, seed, other, with_noise),
                                tries + (other is chunk),
                            )
                        break
                    in_flight[chunk] = (
                        runner.submit(simulate_chunk, seed, chunk, with_noise),
                        attempts + 1,
                    )
                    continue
                del in_flight[chunk]
                yield result


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
    of workers. Arguments are those of :func:`map_chunks` and :class:`SimulationStream`.

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
        backend: Where chunks run (see :func:`map_chunks`); chunks arrive in order whatever
            the backend, each bitwise what :func:`simulate_chunk` gives.
        max_workers: Local worker processes; default one per core.
        retries: Further attempts for a chunk that raised or whose worker died.

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
