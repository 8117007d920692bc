"""Streaming a :class:`~sbinn.store.SimulationStore` into training, one chunk at a time.

:class:`StoreDataset` is a :class:`torch.utils.data.IterableDataset` of shuffled batches.
Every epoch visits the chunks in a seeded random order and shuffles the rows within each
chunk, so memory holds one chunk (and, while it is read, the raw chunk it is filtered from)
and less than one batch of the previous chunk, whatever the size of the store. Use it with
``DataLoader(dataset, batch_size=None)``; with several loader workers each reads its own
share of the chunks.

Examples:
    >>> import tempfile
    >>> from sbinn.function_simulator import FunctionSimulator
    >>> from sbinn.priors import JointPrior, Normal
    >>> from sbinn.store import SimulationStore
    >>> sim = FunctionSimulator(lambda t: 2 * t, JointPrior({"a": Normal(0, 1)}), name="double")
    >>> directory = tempfile.TemporaryDirectory()
    >>> store = SimulationStore.create(directory.name + "/s.zarr", sim, seed=0, chunk_size=100)
    >>> store.fill(250, backend="inprocess", progress=False)
    >>> dataset = StoreDataset(store, batch_size=64, seed=1)
    >>> [theta.shape[0] for theta, x in dataset]
    [64, 64, 64, 58]
    >>> directory.cleanup()
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from sbinn._validation import check_positive_int
from sbinn.store import SimulationStore

__all__ = ["StoreDataset", "store_epochs"]


class StoreDataset(IterableDataset):
    """Shuffled batches ``(theta, x)`` (with ``noise`` if stored) streamed from a store.

    Args:
        store: A complete store.
        batch_size: Rows per batch; the last batch of an epoch may be smaller.
        seed: Seed of the chunk order and of the shuffling within chunks.
        dtype: Dtype of the yielded tensors.

    Call :meth:`set_epoch` before each epoch for a fresh order; the same epoch always
    gives the same batches.
    """

    def __init__(
        self,
        store: SimulationStore,
        batch_size: int,
        *,
        seed: int = 0,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        if not isinstance(store, SimulationStore):
            raise TypeError(f"store must be a SimulationStore, got {type(store).__name__}")
        store.check_complete()
        self.store = store
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.seed = seed
        self.dtype = dtype
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Use the chunk order and shuffling of ``epoch``."""
        self.epoch = int(epoch)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        rng = np.random.default_rng([self.seed, self.epoch])
        order = rng.permutation(self.store.num_chunks)
        worker = get_worker_info()
        if worker is not None:
            order = order[worker.id :: worker.num_workers]
        held: tuple[np.ndarray, ...] = ()
        for columns in self.store.iter_chunks(order.tolist()):
            rows = rng.permutation(columns[0].shape[0])
            if held:
                need = self.batch_size - held[0].shape[0]
                held = tuple(
                    np.concatenate([h, c[rows[:need]]]) for h, c in zip(held, columns, strict=True)
                )
                rows = rows[need:]
                if held[0].shape[0] < self.batch_size:
                    continue
                yield self._tensors(held)
            full = rows.size // self.batch_size * self.batch_size
            for start in range(0, full, self.batch_size):
                yield self._tensors(c[rows[start : start + self.batch_size]] for c in columns)
            held = tuple(c[rows[full:]] for c in columns) if full < rows.size else ()
            del columns, rows  # else they stay alive while the next chunk is read
        if held:
            yield self._tensors(held)

    def _tensors(self, columns) -> tuple[torch.Tensor, ...]:
        return tuple(torch.as_tensor(np.ascontiguousarray(c), dtype=self.dtype) for c in columns)


def store_epochs(
    store: SimulationStore, simulations_per_epoch: int, *, seed: int = 0
) -> Callable[[int], tuple[np.ndarray, ...]]:
    """Epoch ``e``'s training pairs ``(theta, x)`` from a store, a few chunks at a time.

    The chunks are visited in seeded random passes over the store, ``ceil(simulations_per_epoch
    / chunk_size)`` per epoch, so every chunk is used once per pass and memory holds one
    epoch. This is the ``data(epoch)`` form :func:`sbinn.train.train` takes for online
    training (``CINN.fit(store=..., simulations_per_epoch=...)``).

    Examples:
        >>> import tempfile
        >>> from sbinn.function_simulator import FunctionSimulator
        >>> from sbinn.priors import JointPrior, Normal
        >>> from sbinn.store import SimulationStore
        >>> sim = FunctionSimulator(lambda t: t, JointPrior({"a": Normal(0, 1)}), name="same")
        >>> directory = tempfile.TemporaryDirectory()
        >>> store = SimulationStore.create(directory.name + "/s.zarr", sim, seed=0, chunk_size=100)
        >>> store.fill(500, backend="inprocess", progress=False)
        >>> epochs = store_epochs(store, 200, seed=1)
        >>> [epochs(e)[0].shape[0] for e in range(3)]
        [200, 200, 200]
        >>> directory.cleanup()
    """
    if not isinstance(store, SimulationStore):
        raise TypeError(f"store must be a SimulationStore, got {type(store).__name__}")
    store.check_complete()
    if len(store) == 0:
        raise ValueError(f"store {store.path} holds no simulations yet; fill() it first")
    per_epoch = check_positive_int(simulations_per_epoch, "simulations_per_epoch")
    num_chunks = store.num_chunks
    chunks_per_epoch = min(num_chunks, -(-per_epoch // store.chunk_size))

    def chunk_at(position: int) -> int:
        order = np.random.default_rng([seed, position // num_chunks]).permutation(num_chunks)
        return int(order[position % num_chunks])

    def epoch(index: int) -> tuple[np.ndarray, ...]:
        first = index * chunks_per_epoch
        chosen = [chunk_at(p) for p in range(first, first + chunks_per_epoch)]
        parts = list(store.iter_chunks(chosen))
        return tuple(np.concatenate(columns) for columns in zip(*parts, strict=True))[:2]

    return epoch
