"""One training set shared by every method of a benchmark, for simulators too slow to rerun.

With a cheap simulator every method draws its own simulations. With a slow one (the tissue
model solves a radiative transfer problem per wavelength) the benchmark simulates once and
each method trains on the first ``budget`` rows, as in the thesis, where every learned
method saw the same 15 000 simulations. Each method is charged the simulation time of its
own share.

Examples:
    >>> from simulators.kinematics import KinematicsSimulator
    >>> bank = simulate_bank(KinematicsSimulator(), 1000, seed=0, progress=False)
    >>> theta, x = bank.take(400)
    >>> theta.shape, x.shape, bank.seconds_for(400) <= bank.seconds
    ((400, 4), (400, 2), True)
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from sbinn._validation import check_positive_int
from sbinn.fresh_noise import simulate_with_signal
from sbinn.simulation_stream import run_simulations
from sbinn.simulator import Simulator

__all__ = ["SimulationBank", "simulate_bank"]


@dataclass(frozen=True)
class SimulationBank:
    """Successful simulations in the order they were run, and what they cost.

    Attributes:
        theta: Parameters ``(n, dim_theta)``.
        x: Observations ``(n, ...)``.
        num_simulated: Simulations run, failed ones included.
        seconds: Wall time of all of them.
        seed: Seed of the run.
        noise: The simulator's noise draws ``(n, noise_dimension)`` behind ``x``, if kept.
        signal: The noise-free signals behind ``x`` (:mod:`sbinn.fresh_noise`), if kept.
    """

    theta: np.ndarray
    x: np.ndarray
    num_simulated: int
    seconds: float
    seed: int
    noise: np.ndarray | None = None
    signal: np.ndarray | None = None

    def take(self, num_simulations: int) -> tuple[np.ndarray, np.ndarray]:
        """The successful ones among the first ``num_simulations`` simulations."""
        rows = self._rows(num_simulations)
        return self.theta[:rows], self.x[:rows]

    def take_noise(self, num_simulations: int) -> np.ndarray:
        """The noise draws of the rows :meth:`take` returns."""
        if self.noise is None:
            raise ValueError(
                "these shared simulations kept no noise draws: simulate with with_noise=True"
            )
        return self.noise[: self._rows(num_simulations)]

    def take_signal(self, num_simulations: int) -> np.ndarray:
        """The noise-free signals of the rows :meth:`take` returns."""
        if self.signal is None:
            raise ValueError(
                "these shared simulations kept no signals: simulate with with_signal=True"
            )
        return self.signal[: self._rows(num_simulations)]

    def _rows(self, num_simulations: int) -> int:
        num_simulations = check_positive_int(num_simulations, "num_simulations")
        if num_simulations > self.num_simulated:
            raise ValueError(
                f"the shared simulations hold {self.num_simulated}, fewer than the "
                f"{num_simulations} asked for"
            )
        # Failures are rare and spread evenly, so the share of rows matches the share of runs.
        return round(self.theta.shape[0] * num_simulations / self.num_simulated)

    def seconds_for(self, num_simulations: int) -> float:
        """Simulation time of a share of ``num_simulations``, at the bank's measured rate."""
        return self.seconds * num_simulations / self.num_simulated

    def to_json(self) -> dict:
        """The bank's size, successful rows, simulation time and seed, for the record."""
        return {
            "simulations": self.num_simulated,
            "successful": int(self.theta.shape[0]),
            "time_s": round(self.seconds, 4),
            "seed": self.seed,
        }


def simulate_bank(
    simulator: Simulator,
    num_simulations: int,
    *,
    seed: int,
    progress: bool | None = None,
    chunk_size: int = 2_000,
    with_noise: bool = False,
    with_signal: bool = False,
) -> SimulationBank:
    """Run ``num_simulations`` prior simulations in seeded chunks and keep the successful ones
    (and, with ``with_noise``, the simulator's noise draws behind them; with ``with_signal``,
    the draws and the noise-free signals, for simulators with separable noise). The kept
    ``theta``, ``x`` and noise do not depend on ``with_signal``."""
    start = time.perf_counter()
    options = {"seed": seed, "chunk_size": chunk_size, "progress": progress}
    if with_signal:
        theta, x, noise, signal = simulate_with_signal(simulator, num_simulations, **options)
    else:
        theta, x, *kept = run_simulations(
            simulator, num_simulations, with_noise=with_noise, **options
        )
        noise, signal = (kept[0] if kept else None), None
    seconds = time.perf_counter() - start
    return SimulationBank(theta, x, num_simulations, seconds, seed, noise, signal)
