r"""Rejection ABC in the two modes of Ardizzone's thesis, appendix B.4.

Approximate Bayesian computation by rejection draws :math:`\theta_j \sim p(\theta)`,
simulates :math:`x_j = s(\theta_j)` and keeps the :math:`\theta_j` whose :math:`x_j` lies
close to the observation :math:`x^*`. As the tolerance shrinks the kept samples follow
:math:`p(\theta \mid \lVert x - x^* \rVert < \epsilon) \to p(\theta \mid x^*)`.

- **threshold**: simulate until ``num_samples`` draws with distance :math:`< \epsilon` are
  accepted for every observation (the first ones in simulation order).
- **quantile**: run exactly ``ceil(num_samples / q)`` simulations and keep, for every
  observation, the ``num_samples`` nearest. The effective :math:`\epsilon` is the distance of
  the last kept draw.

Simulations stream in chunks through :class:`~sbinn.simulation_stream.SimulationStream`, so
memory is bounded by one chunk and the kept samples whatever the budget, and one pass serves
any number of observations. The default distance is Euclidean on observations standardised by the
per-component standard deviation of the first chunk of simulations.

Examples:
    >>> from simulators.kinematics import KinematicsSimulator
    >>> abc = RejectionABC(KinematicsSimulator(), mode="quantile", quantile=0.01, progress=False)
    >>> samples = abc.sample([[0.5, 1.5]], num_samples=100, seed=0)
    >>> samples.shape, abc.last_run.num_simulations
    ((1, 100, 4), 10000)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Self

import numpy as np

from sbinn._validation import as_2d_float_array, check_positive_int, check_probability
from sbinn.parallel_backends import BackendLike
from sbinn.simulation_stream import SimulationStream
from sbinn.simulator import Simulator

__all__ = ["ABCRunInfo", "RejectionABC", "SimulatingMethod", "SimulationBudgetError"]

Distance = Callable[[np.ndarray, np.ndarray], np.ndarray]
# Distances are computed for at most this many (observation, simulation) pairs at once.
_MAX_PAIRS_PER_BLOCK = 4_000_000


class SimulationBudgetError(RuntimeError):
    """Threshold ABC ran out of simulations before every observation had its samples."""


@dataclass(frozen=True)
class ABCRunInfo:
    """What one :meth:`RejectionABC.sample` call did.

    Attributes:
        num_simulations: Simulations run, failed ones included.
        num_failed: Simulations that failed and were dropped.
        acceptance_rate: Per observation, kept samples / simulations used for it.
        epsilon: Per observation, the largest distance among the kept samples.
        time_s: Wall time of the call in seconds.
    """

    num_simulations: int
    num_failed: int
    acceptance_rate: np.ndarray
    epsilon: np.ndarray
    time_s: float


class SimulatingMethod:
    """A method that learns nothing and simulates when it samples (the ABC family)."""

    simulator: Simulator | None

    def fit(self, *, simulator: Simulator) -> Self:
        """Attach the simulator; nothing is learned, it simulates at ``sample`` time."""
        if not isinstance(simulator, Simulator):
            raise TypeError(f"simulator must be an sbinn Simulator, got {type(simulator).__name__}")
        self.simulator = simulator
        return self


class RejectionABC(SimulatingMethod):
    """Rejection ABC with threshold or quantile acceptance.

    Args:
        simulator: The simulator; may also be given later to :meth:`fit`.
        mode: ``"quantile"`` or ``"threshold"``.
        quantile: Accepted fraction ``q`` in (0, 1] (quantile mode).
        epsilon: Acceptance distance (threshold mode), > 0.
        max_simulations: Budget of threshold mode before it gives up.
        distance: ``distance(x_sim (m, d), x_obs (k, d)) -> (k, m)``; default standardised
            Euclidean.
        chunk_size: Simulations per chunk.
        seed: Default seed for :meth:`sample`.
        progress: Progress bar; ``None`` shows it only on a terminal.
        backend: Where simulation chunks run (:func:`sbinn.parallel.map_chunks`); the
            accepted samples do not depend on it.
        max_workers: Local worker processes; default one per core.
    """

    def __init__(
        self,
        simulator: Simulator | None = None,
        *,
        mode: Literal["quantile", "threshold"] = "quantile",
        quantile: float | None = None,
        epsilon: float | None = None,
        max_simulations: int = 10**8,
        distance: Distance | None = None,
        chunk_size: int = 100_000,
        seed: int | None = None,
        progress: bool | None = None,
        backend: BackendLike = "auto",
        max_workers: int | None = None,
    ) -> None:
        if mode not in ("quantile", "threshold"):
            raise ValueError(f"mode must be 'quantile' or 'threshold', got {mode!r}")
        if mode == "quantile":
            if quantile is None:
                raise ValueError("quantile mode needs quantile=q with q in (0, 1], got None")
            quantile = check_probability(quantile, "quantile")
        else:
            if epsilon is None or isinstance(epsilon, bool):
                raise ValueError(f"threshold mode needs epsilon > 0, got {epsilon!r}")
            if not (math.isfinite(float(epsilon)) and float(epsilon) > 0):
                raise ValueError(f"epsilon must be a finite number > 0, got {epsilon}")
            epsilon = float(epsilon)
        if distance is not None and not callable(distance):
            raise TypeError(f"distance must be callable, got {type(distance).__name__}")
        self.simulator = simulator
        self.mode = mode
        self.quantile = quantile
        self.epsilon = epsilon
        self.max_simulations = check_positive_int(max_simulations, "max_simulations")
        self.distance = distance
        self.chunk_size = check_positive_int(chunk_size, "chunk_size")
        self.seed = seed
        self.progress = progress
        self.backend = backend
        self.max_workers = max_workers
        self.last_run: ABCRunInfo | None = None

    def settings(self) -> dict:
        """JSON-serialisable description of the configuration."""
        return {
            "method": "rejection_abc",
            "mode": self.mode,
            "quantile": self.quantile,
            "epsilon": self.epsilon,
            "max_simulations": self.max_simulations,
            "distance": "standardised_euclidean" if self.distance is None else "user",
            "chunk_size": self.chunk_size,
        }

    def sample(
        self,
        x_obs: np.ndarray,
        num_samples: int,
        seed: int | None = None,
        *,
        reference: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> np.ndarray:
        """Posterior samples for every observation, shape ``(n_obs, num_samples, dim_theta)``.

        Args:
            x_obs: Observations ``(n_obs, dim_x)``.
            num_samples: Samples kept per observation.
            seed: Seed of the simulations (default: the constructor's).
            reference: Simulations ``(theta, x)`` already run, e.g. shared with other
                methods in a benchmark, used in their order instead of new ones: quantile
                mode takes the first ``ceil(num_samples / q)`` rows, threshold mode as many
                as it needs. They must be prior draws with successful simulations.

        Raises:
            ValueError: for observations of the wrong shape or with NaN, num_samples <= 0,
                or a reference table too small for quantile mode.
            SimulationBudgetError: threshold mode exceeded ``max_simulations`` (or the
                reference table).
        """
        if self.simulator is None:
            raise ValueError("RejectionABC has no simulator: pass it to the constructor or fit()")
        simulator = self.simulator
        num_samples = check_positive_int(num_samples, "num_samples")
        x_obs = as_2d_float_array(
            np.reshape(x_obs, (-1, simulator.dim_observations))
            if np.size(x_obs) % simulator.dim_observations == 0
            and np.ndim(x_obs) > len(simulator.observation_shape)
            else x_obs,
            simulator.dim_observations,
            "x_obs",
        )
        seed = self.seed if seed is None else seed
        start = time.perf_counter()
        if self.mode == "quantile":
            budget = math.ceil(num_samples / self.quantile)
        else:
            budget = self.max_simulations
        if reference is None:
            stream = SimulationStream(
                simulator,
                budget,
                chunk_size=self.chunk_size,
                seed=seed,
                progress=self.progress,
                backend=self.backend,
                max_workers=self.max_workers,
            )
        else:
            stream = _ReferenceTable(simulator, reference, budget, self.mode, self.chunk_size)
        keeper = _NearestKeeper(x_obs.shape[0], num_samples, simulator.dim_parameters)
        if self.mode == "threshold":
            keeper.threshold[:] = self.epsilon
        scale = None
        for theta, x in stream:
            x = x.reshape(x.shape[0], -1)
            if scale is None:
                scale = _standard_deviation(x)
            if self.mode == "quantile":
                self._keep_nearest(keeper, theta, x, x_obs, scale)
            elif self._accept_within(keeper, theta, x, x_obs, scale, stream.num_simulated):
                break
        stream.finish()
        if self.mode == "threshold" and np.any(keeper.count < num_samples):
            short = int(np.sum(keeper.count < num_samples))
            spent = (
                f"max_simulations={self.max_simulations}"
                if reference is None
                else f"all {stream.num_simulated} reference simulations"
            )
            raise SimulationBudgetError(
                f"threshold ABC used {spent} and {short} of "
                f"{x_obs.shape[0]} observations still have fewer than {num_samples} samples with "
                f"distance < {self.epsilon} (fewest: {int(keeper.count.min())}). Increase "
                "max_simulations or epsilon, or use quantile mode."
            )
        if self.mode == "quantile":
            if np.any(keeper.count < num_samples):
                raise ValueError(
                    f"only {int(keeper.count.min())} simulations succeeded, fewer than "
                    f"num_samples={num_samples}: lower num_samples or raise the budget"
                )
            used = np.full(x_obs.shape[0], stream.num_simulated)
        else:
            used = keeper.used_until_full
        self.last_run = ABCRunInfo(
            num_simulations=stream.num_simulated,
            num_failed=stream.num_failed,
            acceptance_rate=num_samples / np.maximum(used, 1),
            epsilon=keeper.distances.max(axis=1),
            time_s=time.perf_counter() - start,
        )
        return keeper.theta

    def _squared_distances(self, x: np.ndarray, x_obs: np.ndarray, scale: np.ndarray) -> np.ndarray:
        if self.distance is None:
            return _standardised_squared_distances(x, x_obs, scale)
        d = np.asarray(self.distance(x, x_obs), dtype=float)
        if d.shape != (x_obs.shape[0], x.shape[0]):
            raise ValueError(
                f"distance(x_sim, x_obs) must return shape (n_obs, n_sim) = "
                f"{(x_obs.shape[0], x.shape[0])}, got {d.shape}"
            )
        if np.any(d < 0) or np.any(np.isnan(d)):
            raise ValueError("distance(x_sim, x_obs) returned negative or NaN values")
        return d * d

    def _candidates(self, x, x_obs, scale, limits):
        """Yield (observation, simulation, distance) triples with distance below ``limits``."""
        step = max(1, _MAX_PAIRS_PER_BLOCK // max(x.shape[0], 1))
        for lo in range(0, x_obs.shape[0], step):
            hi = min(lo + step, x_obs.shape[0])
            squared = self._squared_distances(x, x_obs[lo:hi], scale)
            # flatnonzero + divmod is ~15x faster than 2-D nonzero on these sparse masks.
            flat = np.flatnonzero(squared < (limits[lo:hi, None] ** 2))
            rows, cols = np.divmod(flat, squared.shape[1])
            # Round-off can push a true zero slightly below 0.
            yield lo + rows, cols, np.sqrt(np.maximum(squared[rows, cols], 0.0))

    def _keep_nearest(self, keeper, theta, x, x_obs, scale) -> None:
        for obs, cols, dist in self._candidates(x, x_obs, scale, keeper.threshold):
            keeper.offer_nearest(obs, cols, dist, theta)

    def _accept_within(self, keeper, theta, x, x_obs, scale, num_simulated) -> bool:
        for obs, cols, dist in self._candidates(x, x_obs, scale, keeper.threshold):
            keeper.offer_first(obs, cols, dist, theta, num_simulated)
        return bool(np.all(keeper.count >= keeper.capacity))


class _ReferenceTable:
    """Chunks of a given simulation table, with the counts of a :class:`SimulationStream`."""

    def __init__(self, simulator, reference, budget: int, mode: str, chunk_size: int) -> None:
        if not isinstance(reference, tuple | list) or len(reference) != 2:
            raise TypeError("reference must be a pair (theta, x) of arrays")
        theta = as_2d_float_array(reference[0], simulator.dim_parameters, "reference theta")
        x = np.asarray(reference[1], dtype=np.float64).reshape(len(reference[1]), -1)
        x = as_2d_float_array(x, simulator.dim_observations, "reference x")
        if theta.shape[0] != x.shape[0]:
            raise ValueError(
                f"reference theta and x need the same number of rows, got {theta.shape[0]} "
                f"and {x.shape[0]}"
            )
        if mode == "quantile" and theta.shape[0] < budget:
            raise ValueError(
                f"quantile ABC needs {budget} reference simulations (num_samples / quantile), "
                f"the table has {theta.shape[0]}"
            )
        rows = min(budget, theta.shape[0])
        self.theta, self.x, self.chunk_size = theta[:rows], x[:rows], chunk_size
        self.num_simulated = 0
        self.num_failed = 0

    def __iter__(self):
        for start in range(0, self.theta.shape[0], self.chunk_size):
            stop = min(start + self.chunk_size, self.theta.shape[0])
            self.num_simulated = stop
            yield self.theta[start:stop], self.x[start:stop]

    def finish(self) -> None:
        """Nothing to report: the table's failures were dropped when it was simulated."""


def _standardised_squared_distances(
    x: np.ndarray, x_obs: np.ndarray, scale: np.ndarray
) -> np.ndarray:
    """Squared Euclidean distances ``(n_obs, n_sim)`` between ``x_obs / scale`` and ``x / scale``.

    Round-off can push a true zero slightly below 0.
    """
    a = x_obs / scale
    b = x / scale
    # |a-b|^2 = |a|^2 + |b|^2 - 2ab as ONE matrix product of augmented vectors, so the
    # (n_obs, n_sim) matrix is written once; this is the hot loop of ABC.
    ones_a, ones_b = np.ones((len(a), 1)), np.ones((len(b), 1))
    a_aug = np.concatenate([a, (a * a).sum(1, keepdims=True), ones_a], axis=1)
    b_aug = np.concatenate([-2.0 * b, ones_b, (b * b).sum(1, keepdims=True)], axis=1)
    return a_aug @ b_aug.T


def _standard_deviation(x: np.ndarray) -> np.ndarray:
    std = x.std(axis=0)
    # Constant components (e.g. a fixed label) carry no distance information; avoid /0.
    return np.where(std > 0, std, 1.0)


class _NearestKeeper:
    """Per-observation store of at most ``capacity`` samples and their distances."""

    def __init__(self, num_obs: int, capacity: int, dim: int) -> None:
        self.capacity = capacity
        self.theta = np.zeros((num_obs, capacity, dim))
        self.distances = np.full((num_obs, capacity), np.inf)
        self.count = np.zeros(num_obs, dtype=np.int64)
        self.threshold = np.full(num_obs, np.inf)
        self.used_until_full = np.zeros(num_obs, dtype=np.int64)

    def offer_nearest(self, obs, cols, dist, theta) -> None:
        """Merge candidates, keeping the ``capacity`` nearest per observation."""
        order = np.argsort(obs, kind="stable")
        obs, cols, dist = obs[order], cols[order], dist[order]
        bounds = np.flatnonzero(np.diff(obs)) + 1
        for o, c, d in zip(
            np.split(obs, bounds), np.split(cols, bounds), np.split(dist, bounds), strict=True
        ):
            if o.size == 0:
                continue
            i = o[0]
            all_d = np.concatenate([self.distances[i], d])
            all_theta = np.concatenate([self.theta[i], theta[c]])
            keep = np.argpartition(all_d, self.capacity - 1)[: self.capacity]
            self.distances[i] = all_d[keep]
            self.theta[i] = all_theta[keep]
            self.count[i] = min(self.capacity, self.count[i] + o.size)
            if self.count[i] == self.capacity:
                self.threshold[i] = self.distances[i].max()

    def offer_first(self, obs, cols, dist, theta, num_simulated) -> None:
        """Append accepted candidates in simulation order until each observation is full."""
        order = np.lexsort((cols, obs))
        obs, cols, dist = obs[order], cols[order], dist[order]
        bounds = np.flatnonzero(np.diff(obs)) + 1
        chunk_start = num_simulated - theta.shape[0]
        for o, c, d in zip(
            np.split(obs, bounds), np.split(cols, bounds), np.split(dist, bounds), strict=True
        ):
            if o.size == 0:
                continue
            i = o[0]
            room = self.capacity - self.count[i]
            if room <= 0:
                continue
            take = slice(self.count[i], self.count[i] + min(room, o.size))
            self.theta[i, take] = theta[c[:room]]
            self.distances[i, take] = d[:room]
            self.count[i] += min(room, o.size)
            if self.count[i] == self.capacity:
                self.used_until_full[i] = chunk_start + c[room - 1] + 1
