"""Where :meth:`~sbinn.methods.cinn.CINN.fit` gets its training pairs, once the arguments
are checked (:mod:`sbinn.methods.cinn_fit_arguments`).

Five sources, each as epoch 0's pairs plus, when later epochs see other pairs, a function
``draw(epoch) -> (theta, x)``:

- given arrays ``(theta, x)``: the same pairs every epoch;
- ``simulator`` and ``num_simulations``: simulated once, the same pairs every epoch;
- ``online=True``: ``simulations_per_epoch`` new simulations every epoch;
- ``store``: loaded whole, or streamed ``simulations_per_epoch`` at a time;
- ``fresh_noise=True``: the same simulations' signals, observed with new noise each epoch.

Simulation time is added to the ``timings["simulation"]`` the caller passes in, so that
the estimator can report training time without it.

Examples:
    >>> import numpy as np
    >>> from sbinn.train import TrainingConfig
    >>> pairs = training_pairs(np.zeros((3, 1)), np.ones((3, 2)), seed=0, timings={},
    ...                        training=TrainingConfig())
    >>> pairs.theta.shape, pairs.draw is None
    ((3, 1), True)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import numpy as np

from sbinn.fresh_noise import fresh_observations, simulate_with_signal
from sbinn.parallel_backends import BackendLike
from sbinn.simulation_stream import run_simulations
from sbinn.simulator import Simulator
from sbinn.store import SimulationStore
from sbinn.store_dataset import store_epochs
from sbinn.train import TrainingConfig

__all__ = ["SIMULATION_CHUNK", "TrainingPairs", "training_pairs"]

SIMULATION_CHUNK = 10_000
"""Simulations per chunk when the CINN simulates for itself; epoch e of online training
draws the chunks after epoch e - 1's, so the epochs are independent and reproducible."""

Draw = Callable[[int], tuple[np.ndarray, np.ndarray]]


@dataclass
class TrainingPairs:
    """Epoch 0's pairs, how later epochs get theirs, and the training settings to use.

    Attributes:
        theta: Parameters of epoch 0.
        x: Observations of epoch 0.
        draw: ``draw(epoch) -> (theta, x)`` for epochs that see other pairs; ``None`` when
            every epoch trains on ``(theta, x)``.
        training: The caller's settings; online training replaces ``num_epochs``.
        distinct_simulations: Simulations behind all epochs together when they are fewer
            than the rows trained on (fresh noise re-observes the same ones); else ``None``.
    """

    theta: np.ndarray
    x: np.ndarray
    draw: Draw | None
    training: TrainingConfig
    distinct_simulations: int | None = None


@contextmanager
def _counted_as_simulation(timings: dict[str, float]) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings["simulation"] = timings.get("simulation", 0.0) + time.perf_counter() - start


def _simulations(
    simulator: Simulator, num: int, epoch: int, *, seed: int, backend: BackendLike
) -> tuple[np.ndarray, np.ndarray]:
    chunks_per_epoch = -(-num // SIMULATION_CHUNK)
    return run_simulations(
        simulator,
        num,
        seed=seed,
        chunk_size=SIMULATION_CHUNK,
        first_chunk=epoch * chunks_per_epoch,
        backend=backend,
        progress=False if epoch else None,
    )


def training_pairs(
    theta: np.ndarray | None,
    x: np.ndarray | None,
    *,
    seed: int,
    timings: dict[str, float],
    training: TrainingConfig,
    simulator: Simulator | None = None,
    num_simulations: int | None = None,
    online: bool = False,
    per_epoch: int | None = None,
    backend: BackendLike = "auto",
    store: SimulationStore | None = None,
    fresh_noise: bool = False,
    signal: np.ndarray | None = None,
) -> TrainingPairs:
    """The training pairs of arguments that :func:`check_fit_arguments
    <sbinn.methods.cinn_fit_arguments.check_fit_arguments>` accepted.

    Args:
        theta: Given parameters, or ``None``.
        x: Given observations, or ``None``.
        seed: Seeds the simulations and the fresh noise.
        timings: Gains the seconds spent simulating under ``"simulation"``.
        training: The caller's training settings.
        simulator: Simulates the pairs (or observes ``signal`` with fresh noise).
        num_simulations: Simulation budget.
        online: New simulations every epoch.
        per_epoch: Pairs per epoch of online or store-streamed training.
        backend: Where the simulations run.
        store: The store to load or stream.
        fresh_noise: Re-observe the simulations' signals with new noise every epoch.
        signal: Noise-free signals of the given ``(theta, x)``, for ``fresh_noise``.

    Returns:
        :class:`TrainingPairs`.
    """
    draw: Draw | None = None
    distinct = None
    if fresh_noise:
        if signal is None:
            with _counted_as_simulation(timings):
                theta, x, _, signal = simulate_with_signal(
                    simulator,
                    num_simulations,
                    seed=seed,
                    chunk_size=SIMULATION_CHUNK,
                    backend=backend,
                )
        observe = fresh_observations(simulator, x, signal, seed=seed)
        fixed_theta = theta

        def draw(epoch: int) -> tuple[np.ndarray, np.ndarray]:
            return fixed_theta, observe(epoch)[0]

        distinct = len(theta)
    elif store is not None and per_epoch is None:
        theta, x = store.load()[:2]
    elif store is not None:
        draw = store_epochs(store, per_epoch, seed=seed)
    elif simulator is not None and online:
        training = replace(training, num_epochs=num_simulations // per_epoch)

        def draw(epoch: int) -> tuple[np.ndarray, np.ndarray]:
            with _counted_as_simulation(timings):
                return _simulations(simulator, per_epoch, epoch, seed=seed, backend=backend)

    elif simulator is not None:
        with _counted_as_simulation(timings):
            theta, x = _simulations(simulator, num_simulations, 0, seed=seed, backend=backend)
    if draw is not None:
        theta, x = draw(0)
    return TrainingPairs(theta, x, draw, training, distinct)
