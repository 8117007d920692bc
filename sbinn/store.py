"""A chunked, resumable on-disk store of simulations (zarr v3, one file per chunk and array).

Simulation chunk ``k`` (drawn with :func:`~sbinn.parallel.chunk_generator` ``k``) lives in
rows ``[k * chunk_size, k * chunk_size + size)`` of the arrays ``theta``, ``x`` and, with
``with_noise``, ``noise``, whose zarr chunks are the simulation chunks: a chunk's place is
fixed by its index, so it cannot be stored twice. It counts as written once
``num_failed[k]`` (its number of failed simulations; ``-1`` for a chunk not yet written)
is set, strictly after its data. A writer killed at any moment therefore loses at most the
chunks it had not yet committed, and :meth:`SimulationStore.fill` simulates exactly those
again, bitwise as they would have been.

The store holds exactly ``num_simulations`` rows, failed simulations included (all NaN in
``x``). Readers drop the failed rows and report them once, as
:class:`~sbinn.simulation_failures.FailureTracker` does for simulations in memory. The root group
records the simulator's settings (name, version, prior, ...), the seed and the chunk size
(:mod:`sbinn.store_format`); a store is only ever filled by a simulator that matches them.

Examples:
    >>> import tempfile
    >>> from sbinn.function_simulator import FunctionSimulator
    >>> from sbinn.priors import JointPrior, Normal
    >>> sim = FunctionSimulator(lambda t: 2 * t, JointPrior({"a": Normal(0, 1)}), name="double")
    >>> directory = tempfile.TemporaryDirectory()
    >>> path = directory.name + "/sims.zarr"
    >>> store = SimulationStore.create(path, sim, seed=0, chunk_size=100)
    >>> store.fill(250, backend="inprocess", progress=False)
    >>> len(store), store.num_chunks, store.is_complete
    (250, 3, True)
    >>> theta, x = SimulationStore.open(path, sim).load()
    >>> theta.shape, bool((x == 2 * theta).all())
    ((250, 1), True)
    >>> directory.cleanup()
"""

from __future__ import annotations

import contextlib
import json
import numbers
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import zarr

from sbinn._progress import progress_bar
from sbinn._validation import check_positive_int
from sbinn.parallel import Chunk, ChunkResult, map_chunks, plan_chunks
from sbinn.parallel_backends import BackendLike
from sbinn.simulator import FailureTracker, Simulator
from sbinn.store_format import (
    METADATA_KEY,
    NOT_WRITTEN,
    RecordedSimulator,
    StoreFormatError,
    StoreMismatchError,
    check_layout,
    check_metadata,
    check_seed,
    configuration_differences,
    create_layout,
    open_group,
    store_metadata,
)

__all__ = ["SimulationStore", "StoreFormatError", "StoreIncompleteError", "StoreMismatchError"]


class StoreIncompleteError(RuntimeError):
    """Reading a store whose chunks are not all written yet."""


class SimulationStore:
    """Simulations of one simulator configuration in a zarr directory, written chunk by chunk.

    Make one with :meth:`create` and open it again with :meth:`open`; :meth:`fill` grows it
    and simulates whatever is missing, also after an interruption. One writer at a time
    (there is no lock); any number of readers once it is complete.

    Attributes:
        path: The store's directory.
        simulator: The simulator checked against the store's record, or ``None``.
    """

    def __init__(self, path: Path, group: zarr.Group, simulator: Simulator | None) -> None:
        """Wrap an opened group; use :meth:`create` or :meth:`open` instead."""
        self.path = path
        self._group = group
        self._record = check_metadata(dict(group.attrs), str(path))
        self.simulator = simulator
        self._arrays = check_layout(group, self._record, str(path))
        self._status_cache: np.ndarray | None = None
        if simulator is not None:
            self._check_simulator(simulator)

    @classmethod
    def create(
        cls,
        path: str | Path,
        simulator: Simulator,
        *,
        seed: int | None,
        chunk_size: int = 10_000,
        with_noise: bool = False,
        exist_ok: bool = False,
    ) -> SimulationStore:
        """Make an empty store at ``path`` (a new or empty directory) for ``simulator``.

        Args:
            path: Directory to create (with its parents).
            simulator: The simulator; its settings, name, version and prior are recorded.
            seed: Root seed of every chunk; ``None`` draws one and records it (or, with
                ``exist_ok``, accepts the existing store's).
            chunk_size: Simulations per chunk, the unit of writing, resuming and reading.
            with_noise: Also store the simulator's noise draws (``simulate_with_noise``).
            exist_ok: Open an existing store at ``path`` instead of failing, after checking
                that it was made with this simulator, seed, chunk size and ``with_noise``.

        Raises:
            FileExistsError: if ``path`` exists and is not empty (unless ``exist_ok``).
            StoreMismatchError: with ``exist_ok``, if the existing store differs.
            StoreFormatError: with ``exist_ok``, if ``path`` holds something else.
        """
        path = Path(path)
        if not isinstance(simulator, Simulator):
            raise TypeError(f"simulator must be an sbinn Simulator, got {type(simulator).__name__}")
        chunk_size = check_positive_int(chunk_size, "chunk_size")
        if with_noise and simulator.noise_dimension == 0:
            raise ValueError(
                f"with_noise=True needs a simulator that exposes its noise draws; "
                f"{simulator.name!r} has noise_dimension 0"
            )
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            if not exist_ok:
                raise FileExistsError(f"{path} exists and is not empty; open it with open()")
            store = cls(path, open_group(path), None)
            seed = store.seed if seed is None else check_seed(seed)
            given = store_metadata(
                simulator, seed=seed, chunk_size=chunk_size, with_noise=with_noise
            )
            store._raise_on_differences(given, f"simulator {simulator.name!r} and the arguments")
            store.simulator = simulator
            return store
        record = store_metadata(
            simulator, seed=check_seed(seed), chunk_size=chunk_size, with_noise=with_noise
        )
        return cls(path, create_layout(path, record), simulator)

    @classmethod
    def open(cls, path: str | Path, simulator: Simulator | None = None) -> SimulationStore:
        """Open the store at ``path``; pass the simulator to :meth:`fill` it.

        Raises:
            FileNotFoundError: if there is no directory at ``path``.
            StoreFormatError: if ``path`` is not an sbinn store or its record is damaged.
            StoreMismatchError: if ``simulator`` differs from the one that made the store.
        """
        if simulator is not None and not isinstance(simulator, Simulator):
            raise TypeError(f"simulator must be an sbinn Simulator, got {type(simulator).__name__}")
        path = Path(path)
        return cls(path, open_group(path), simulator)

    def _check_simulator(self, simulator: Simulator) -> None:
        given = store_metadata(
            simulator, seed=self.seed, chunk_size=self.chunk_size, with_noise=self.with_noise
        )
        self._raise_on_differences(given, f"simulator {simulator.name!r}")

    def _raise_on_differences(self, given: dict, what: str) -> None:
        differences = configuration_differences(self._record, given)
        if differences:
            raise StoreMismatchError(
                f"{self.path} was written by a different configuration than {what}; "
                f"it differs in: " + "; ".join(differences)
            )

    @property
    def metadata(self) -> dict:
        """The store's record: simulator settings, seed, chunk size, versions, creation time."""
        return json.loads(json.dumps(self._record))

    @property
    def seed(self) -> int:
        """Root seed of the store's chunks."""
        return self._record["seed"]

    @property
    def chunk_size(self) -> int:
        """Simulations per chunk."""
        return self._record["chunk_size"]

    @property
    def with_noise(self) -> bool:
        """Whether the store also holds the simulator's noise draws."""
        return self._record["with_noise"]

    @property
    def num_simulations(self) -> int:
        """Rows the store holds once complete, failed simulations included."""
        return self._record["num_simulations"]

    def __len__(self) -> int:
        return self.num_simulations

    @property
    def chunks(self) -> list[Chunk]:
        """Every chunk of the store, in order."""
        if self.num_simulations == 0:
            return []
        return plan_chunks(self.num_simulations, self.chunk_size)

    @property
    def num_chunks(self) -> int:
        """Number of chunks."""
        return -(-self.num_simulations // self.chunk_size)

    def _status(self) -> np.ndarray:
        """Per chunk, its number of failed simulations, or -1 while it is not written."""
        if self._status_cache is None:
            status = np.full(self.num_chunks, NOT_WRITTEN, dtype=np.int64)
            written = self._arrays["num_failed"][:]
            status[: written.size] = written
            self._status_cache = status
        return self._status_cache

    @property
    def missing_chunks(self) -> list[Chunk]:
        """Chunks not written yet."""
        status = self._status()
        return [chunk for chunk in self.chunks if status[chunk.index] == NOT_WRITTEN]

    @property
    def num_completed(self) -> int:
        """Simulations in written chunks, failed ones included."""
        status = self._status()
        return sum(chunk.size for chunk in self.chunks if status[chunk.index] != NOT_WRITTEN)

    @property
    def is_complete(self) -> bool:
        """Whether every chunk is written."""
        return bool((self._status() != NOT_WRITTEN).all())

    @property
    def num_failed(self) -> int:
        """Failed simulations in the written chunks."""
        status = self._status()
        return int(status[status != NOT_WRITTEN].sum())

    def fill(
        self,
        num_simulations: int | None = None,
        *,
        backend: BackendLike = "auto",
        max_workers: int | None = None,
        retries: int = 2,
        progress: bool | None = None,
    ) -> None:
        """Grow the store to ``num_simulations`` and simulate every chunk not written yet.

        Chunks are written as they finish, in any order, each committed after its data, so
        an interrupted fill resumes where it stopped. New chunks continue the chunk indices,
        and the store always equals one written in one go with the same seed and chunk
        size: growing a store whose last chunk is partial (its size not a multiple of
        ``chunk_size``) simulates that chunk again at its new size, discarding its old rows.

        Args:
            num_simulations: The new total, at least :func:`len` of the store; default: the
                current total (only finish the missing chunks).
            backend: Where chunks run (see :func:`~sbinn.parallel.map_chunks`).
            max_workers: Local worker processes; default one per core.
            retries: Further attempts for a chunk that raised or whose worker died.
            progress: Show a progress bar; ``None`` shows one only on a terminal.

        Raises:
            ValueError: if the store was opened without a simulator, or would shrink.
        """
        if self.simulator is None:
            raise ValueError(
                f"filling {self.path} needs its simulator: SimulationStore.open(path, simulator)"
            )
        if num_simulations is not None:
            self._grow(check_positive_int(num_simulations, "num_simulations"))
        self._match_array_lengths()
        missing = self.missing_chunks
        bar = progress_bar(
            total=sum(chunk.size for chunk in missing),
            unit="sim",
            unit_scale=True,
            desc=f"simulating {self.simulator.name} into {self.path.name}",
            disable=None if progress is None else not progress,
            leave=False,
        )
        if not missing:
            bar.close()
            return
        results = map_chunks(
            self.simulator,
            missing,
            seed=self.seed,
            backend=backend,
            max_workers=max_workers,
            retries=retries,
            ordered=False,
            with_noise=self.with_noise,
        )
        with contextlib.closing(results), bar:
            for result in results:
                self._write(result)
                bar.update(result.chunk.size)

    def _grow(self, num_simulations: int) -> None:
        if num_simulations < self.num_simulations:
            raise ValueError(
                f"{self.path} holds {self.num_simulations} simulations; a store does not "
                f"shrink (asked for {num_simulations})"
            )
        if num_simulations == self.num_simulations:
            return
        self._match_array_lengths()
        if self.num_simulations % self.chunk_size:
            self._arrays["num_failed"][self.num_chunks - 1] = NOT_WRITTEN
        self._record = {**self._record, "num_simulations": num_simulations}
        self._group.attrs[METADATA_KEY] = self._record
        self._status_cache = None

    def _match_array_lengths(self) -> None:
        """Finish a growth that was interrupted between the record and the arrays."""
        for name, array in self._arrays.items():
            rows = self.num_chunks if name == "num_failed" else self.num_simulations
            if array.shape[0] < rows:
                array.resize((rows, *array.shape[1:]))

    def _write(self, result: ChunkResult) -> None:
        chunk = result.chunk
        rows = slice(chunk.start, chunk.start + chunk.size)
        self._arrays["theta"][rows] = result.theta
        self._arrays["x"][rows] = result.x
        if self.with_noise:
            self._arrays["noise"][rows] = result.noise
        failed = chunk.size - int(self.simulator.valid_mask(result.x).sum())
        self._arrays["num_failed"][chunk.index] = failed
        self._status()[chunk.index] = failed

    def read_chunk(self, index: int) -> ChunkResult:
        """Chunk ``index`` as written, failed rows (all-NaN ``x``) included.

        Raises:
            StoreIncompleteError: if the chunk is not written yet.
        """
        if isinstance(index, bool) or not isinstance(index, numbers.Integral):
            raise TypeError(f"index must be an int, got {type(index).__name__}")
        if not 0 <= index < self.num_chunks:
            raise IndexError(f"chunk {index} out of range for {self.num_chunks} chunk(s)")
        if self._status()[index] == NOT_WRITTEN:
            raise StoreIncompleteError(f"{self.path}: chunk {index} is not written yet")
        chunk = self.chunks[index]
        rows = slice(chunk.start, chunk.start + chunk.size)
        noise = self._arrays["noise"][rows] if self.with_noise else None
        return ChunkResult(chunk, self._arrays["theta"][rows], self._arrays["x"][rows], noise)

    def iter_chunks(self, order: Sequence[int] | None = None) -> Iterator[tuple[np.ndarray, ...]]:
        """Yield ``(theta, x)`` (with ``noise`` if stored) one chunk at a time, failures dropped.

        Only one chunk is in memory at a time. Failed simulations are reported once, at the
        end of a full pass (a warning, or :class:`~sbinn.simulation_failures.SimulationError` above
        the simulator's ``max_failure_fraction``).

        Args:
            order: Chunk indices to read, in this order; default all, in order.

        Raises:
            StoreIncompleteError: if a chunk is not written yet (finish it with :meth:`fill`).
        """
        self.check_complete()
        indices = range(self.num_chunks) if order is None else order
        return self._iter_chunks(list(indices))

    def _iter_chunks(self, indices: list[int]) -> Iterator[tuple[np.ndarray, ...]]:
        checker = self.simulator if self.simulator is not None else RecordedSimulator(self._record)
        tracker = FailureTracker(checker)
        for index in indices:
            yield self._read_valid(index, tracker)
        tracker.finish()

    def _read_valid(self, index: int, tracker: FailureTracker) -> tuple[np.ndarray, ...]:
        result = self.read_chunk(index)
        noise = (
            () if result.noise is None else (result.noise[tracker.simulator.valid_mask(result.x)],)
        )
        return (*tracker.filter(result.theta, result.x), *noise)

    def load(self) -> tuple[np.ndarray, ...]:
        """Everything in memory: ``(theta, x)`` (with ``noise`` if stored), failures dropped.

        Raises:
            StoreIncompleteError: if a chunk is not written yet.
        """
        parts = list(self.iter_chunks())
        if not parts:
            columns = [self._arrays["theta"], self._arrays["x"]]
            columns += [self._arrays["noise"]] if self.with_noise else []
            return tuple(np.empty((0, *column.shape[1:])) for column in columns)
        return tuple(np.concatenate(column) for column in zip(*parts, strict=True))

    def check_complete(self) -> None:
        """Raise :class:`StoreIncompleteError` unless every chunk is written."""
        missing = self.missing_chunks
        if missing:
            raise StoreIncompleteError(
                f"{self.path}: {len(missing)} of {self.num_chunks} chunk(s) are not written "
                f"yet (first: chunk {missing[0].index}); finish them with fill()"
            )

    def __repr__(self) -> str:
        return (
            f"SimulationStore({str(self.path)!r}, simulator={self._record['simulator']['name']!r}, "
            f"{self.num_completed}/{self.num_simulations} simulations written)"
        )
