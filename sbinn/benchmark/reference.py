"""A large-budget ABC reference posterior and each method's C2ST against it.

Simulators without an analytic posterior (the star clusters) have no ground truth to compare
posterior samples with. Rejection ABC converges to the true posterior as its budget grows
and its tolerance shrinks, so a run with several times the budget of the compared ABC, on a
few test observations, is the best affordable stand-in (issue 7: "MMD or C2ST against a
large-budget ABC reference"). It is not the truth: a C2ST near 0.5 means "as close to the
reference as the reference is resolved", and the compared ABC shares its bias.

Examples:
    >>> from simulators.kinematics import KinematicsSimulator
    >>> sim = KinematicsSimulator()
    >>> _, x_obs = sim.sample_joint(3, seed=1)
    >>> reference = abc_reference(sim, x_obs, num_samples=100, num_simulations=20_000,
    ...                           seed=0, progress=False)
    >>> reference.samples.shape, reference.record()["simulations"]
    ((3, 100, 4), 20000)
    >>> result = c2st_against_reference(reference.samples + 1.0, reference, seed=0)
    >>> result.name, bool(result.value > 0.8)
    ('c2st_vs_reference', True)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from sbinn.diagnostics.c2st import c2st_per_observation
from sbinn.diagnostics.result import MetricResult
from sbinn.methods.abc import RejectionABC
from sbinn.simulator import Simulator

__all__ = ["ReferencePosterior", "abc_reference", "c2st_against_reference"]


@dataclass(frozen=True)
class ReferencePosterior:
    """Reference samples of the first ``samples.shape[0]`` test observations."""

    samples: np.ndarray
    simulations: int
    quantile: float
    epsilon_median: float
    time_s: float

    def record(self) -> dict:
        """What the benchmark record keeps about the reference (not the samples)."""
        return {
            "method": "abc",
            "observations": int(self.samples.shape[0]),
            "samples_per_observation": int(self.samples.shape[1]),
            "simulations": int(self.simulations),
            "quantile": self.quantile,
            "epsilon_median": self.epsilon_median,
            "time_s": round(self.time_s, 4),
        }


def abc_reference(
    simulator: Simulator,
    x_obs: np.ndarray,
    *,
    num_samples: int,
    num_simulations: int,
    seed: int,
    progress: bool | None,
    chunk_size: int = 100_000,
    max_workers: int | None = None,
) -> ReferencePosterior:
    """Quantile ABC keeping the ``num_samples`` nearest of ``num_simulations`` per observation.

    ``chunk_size`` and ``max_workers`` go to :class:`~sbinn.methods.abc.RejectionABC`; lower
    the chunk for simulators with large observations (sets of thousands of stars).
    """
    if num_simulations < num_samples:
        raise ValueError(
            f"the ABC reference needs num_simulations >= num_samples, got {num_simulations} < "
            f"{num_samples}"
        )
    quantile = num_samples / num_simulations
    abc = RejectionABC(
        simulator,
        mode="quantile",
        quantile=quantile,
        progress=progress,
        chunk_size=chunk_size,
        max_workers=max_workers,
    )
    start = time.perf_counter()
    samples = abc.sample(x_obs, num_samples, seed=seed)
    return ReferencePosterior(
        samples=samples,
        simulations=abc.last_run.num_simulations,
        quantile=quantile,
        epsilon_median=float(np.median(abc.last_run.epsilon)),
        time_s=time.perf_counter() - start,
    )


def c2st_against_reference(
    samples: np.ndarray, reference: ReferencePosterior, *, seed: int
) -> MetricResult:
    """Mean C2ST accuracy of ``samples`` (all test observations) against the reference, over
    the observations the reference covers; 0.5 is indistinguishable."""
    count = reference.samples.shape[0]
    result = c2st_per_observation(
        np.asarray(samples)[:count], reference.samples, max_observations=count, seed=seed
    )
    return replace(
        result,
        name="c2st_vs_reference",
        method=f"{result.method} Reference: quantile ABC, {reference.simulations} simulations.",
    )
