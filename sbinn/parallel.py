"""Simulating prior draws in chunks that come out the same wherever they run.

A run of ``n`` simulations is cut into chunks (:func:`plan_chunks`), and chunk ``i`` draws
its parameters and noise from its own generator, ``SeedSequence(seed, spawn_key=(i,))``
(:func:`chunk_generator`). No chunk depends on another's random state, so the simulations
of a run depend only on its seed and chunk size: they are bitwise the same in this process,
in local worker processes or on a Dask cluster, with any number of workers and in any
order of completion. That is what lets a run be moved to a cluster, resumed from an
on-disk store or checked against a serial rerun without changing a single number.

:func:`map_chunks` sends chunks to a backend from :mod:`sbinn.parallel_backends`, keeping
at most two chunks per worker in flight so that memory stays bounded by a few chunks. A
chunk lost with its worker, or one that raised, is retried a bounded number of times;
errors that would recur on every attempt (malformed output, a simulator that failed for
every row) are raised at once, naming the chunk. Failed rows stay in each
:class:`ChunkResult`; consumers that drop and count them are in
:mod:`sbinn.simulation_stream`.

Examples:
    >>> from sbinn.priors import JointPrior, Normal
    >>> from sbinn.function_simulator import FunctionSimulator
    >>> sim = FunctionSimulator(lambda t: t + 1, JointPrior({"a": Normal(0, 1)}))
    >>> chunks = plan_chunks(2500, 1000)
    >>> results = list(map_chunks(sim, chunks, seed=0, backend="inprocess"))
    >>> [result.theta.shape[0] for result in results]
    [1000, 1000, 500]
    >>> alone = simulate_chunk(sim, 0, chunks[2])
    >>> bool((alone.x == results[2].x).all())
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

from sbinn._validation import check_positive_int
from sbinn.parallel_backends import (
    BackendLike,
    InProcess,
    default_num_workers,
    opened_backend,
)
from sbinn.simulator import (
    SimulationError,
    Simulator,
    SimulatorOutputShapeError,
    SimulatorOutputTypeError,
)

__all__ = [
    "Chunk",
    "ChunkFailedError",
    "ChunkResult",
    "chunk_generator",
    "map_chunks",
    "plan_chunks",
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
