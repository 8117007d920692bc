"""Running a simulator over many prior draws in chunks, with reproducible per-chunk seeds.

Chunk ``i`` draws its parameters and noise from ``SeedSequence(seed, spawn_key=(i,))``,
so the simulations do not depend on how the chunks are scheduled. Memory stays
bounded by one chunk whatever the total budget. Failed simulations are dropped
and counted by one :class:`~sbinn.simulator.FailureTracker` for the whole run.

Example:
    >>> from sbinn.priors import JointPrior, Normal
    >>> from sbinn.function_simulator import FunctionSimulator
    >>> sim = FunctionSimulator(lambda t: t + 1, JointPrior({"a": Normal(0, 1)}))
    >>> stream = SimulationStream(sim, 2500, chunk_size=1000, seed=0, progress=False)
    >>> [theta.shape[0] for theta, x in stream]
    [1000, 1000, 500]
    >>> stream.num_simulated
    2500
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator

import numpy as np
from tqdm.auto import tqdm

from sbinn._validation import check_positive_int
from sbinn.simulator import FailureTracker, Simulator

__all__ = ["SimulationStream", "chunk_generator"]


def chunk_generator(seed: int, chunk_index: int) -> np.random.Generator:
    """The random generator of chunk ``chunk_index`` in a run seeded with ``seed``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(chunk_index,)))


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
        bar = tqdm(
            total=self.num_simulations,
            unit="sim",
            unit_scale=True,
            desc=f"simulating {self.simulator.name}",
            disable=None if self.progress is None else not self.progress,
            leave=False,
        )
        try:
            for index, start in enumerate(range(0, self.num_simulations, self.chunk_size)):
                size = min(self.chunk_size, self.num_simulations - start)
                rng = chunk_generator(self.seed, index)
                theta = self.simulator.prior.sample(size, rng)
                if self.with_noise:
                    x, noise = self.simulator.simulate_with_noise(theta, rng)
                    extra = (noise[self.simulator.valid_mask(x)],)
                else:
                    x, extra = self.simulator.simulate(theta, rng), ()
                self.num_simulated += size
                bar.update(size)
                yield (*self.tracker.filter(theta, x), *extra)
        finally:
            bar.close()
        self.finish()

    def finish(self) -> None:
        """Report failed simulations once (warn, or raise above the tolerated fraction)."""
        if not self._finished:
            self._finished = True
            self.tracker.finish()
