"""The metrics a benchmark computes for every method, from its samples alone.

Every method gets the calibration error and the re-simulation errors of thesis Table 4.1.
Where the simulator is too slow to re-simulate thousands of samples per observation, the
task re-simulates each observation's MAP estimate instead (thesis Table 4.2), and the
simulator's own noise sets the floor: the distance of a fresh simulation of the *true*
parameters from the observation. Tasks may add point-estimate metrics on the MAP.

Example:
    >>> from simulators.kinematics import KinematicsSimulator
    >>> sim = KinematicsSimulator()
    >>> theta, x = sim.sample_joint(5, seed=0)
    >>> samples = theta[:, None] + 0.01 * np.random.default_rng(0).normal(size=(5, 20, 4))
    >>> metrics, distances = score_samples(sim, samples, theta, x, seed=0)
    >>> sorted(metrics), distances.shape
    (['calibration_error', 'resimulation_error_mean', 'resimulation_error_median'], (5, 20))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np

from sbinn.diagnostics import (
    MetricResult,
    calibration_error,
    map_estimate,
    resimulation_distances,
    resimulation_error_from_distances,
)
from sbinn.simulator import Simulator, as_generator

__all__ = ["PointMetrics", "score_samples", "simulation_noise"]

PointMetrics = Callable[[Simulator, np.ndarray, np.ndarray, int], dict[str, MetricResult]]
"""``(simulator, map_estimates, theta_true, seed) -> {name: MetricResult}``."""


def score_samples(
    simulator: Simulator,
    samples: np.ndarray,
    theta_true: np.ndarray,
    x_obs: np.ndarray,
    *,
    seed: int,
    resimulate: Literal["posterior", "map"] = "posterior",
    resimulated_observations: int | None = None,
    point_metrics: PointMetrics | None = None,
) -> tuple[dict[str, MetricResult], np.ndarray]:
    """Calibration and re-simulation errors (plus ``point_metrics``) of one method.

    Args:
        simulator: The benchmark's simulator.
        samples: Posterior samples ``(n_obs, num_samples, dim_theta)``.
        theta_true: True parameters ``(n_obs, dim_theta)``.
        x_obs: Observations ``(n_obs, dim_x)``.
        seed: Seed of the re-simulation noise and of every bootstrap.
        resimulate: Re-simulate every ``"posterior"`` sample, or only the ``"map"``.
        resimulated_observations: Re-simulate for the first this many observations only
            (thesis Table 4.2: 1000 of 5000); None: all.
        point_metrics: Metrics of the MAP estimates against the truth.

    Returns:
        ``({name: MetricResult}, distances)``, the distances ``(n_obs, k)`` that were
        re-simulated (``k = 1`` at the MAP), for plots.
    """
    metrics = {
        "calibration_error": calibration_error(
            samples, theta_true, parameter_names=simulator.parameter_names
        )
    }
    needs_map = resimulate == "map" or point_metrics is not None
    estimates = map_estimate(samples) if needs_map else None
    resimulated = estimates[:, None] if resimulate == "map" else samples
    rows = slice(None, resimulated_observations)
    # Two streams as in sbinn.diagnostics.resimulation_error, so its numbers are reproduced.
    noise_seed, bootstrap_seed = (g.bit_generator.seed_seq for g in as_generator(seed).spawn(2))
    distances = resimulation_distances(resimulated[rows], x_obs[rows], simulator, seed=noise_seed)
    mean, median = resimulation_error_from_distances(
        distances, at=resimulate, simulator_name=simulator.name, seed=bootstrap_seed
    )
    metrics |= {mean.name: mean, median.name: median}
    if point_metrics is not None:
        metrics |= point_metrics(simulator, estimates, theta_true, seed)
    return metrics, distances


def simulation_noise(
    simulator: Simulator,
    theta_true: np.ndarray,
    x_obs: np.ndarray,
    *,
    seed: int,
    num_observations: int | None = None,
) -> dict[str, MetricResult]:
    """Re-simulation errors of the true parameters: the floor no estimate can beat.

    Example:
        >>> from sbinn.function_simulator import FunctionSimulator
        >>> from sbinn.priors import JointPrior, Normal
        >>> sim = FunctionSimulator(lambda t: 2 * t, JointPrior({"a": Normal(0.0, 1.0)}))
        >>> noise = simulation_noise(sim, np.ones((3, 1)), np.full((3, 1), 2.0), seed=0)
        >>> mean = noise["resimulation_error_mean"]
        >>> mean.value, "at each observation's true parameters" in mean.method
        (0.0, True)
    """
    noise_seed, bootstrap_seed = (g.bit_generator.seed_seq for g in as_generator(seed).spawn(2))
    rows = slice(None, num_observations)
    distances = resimulation_distances(
        theta_true[rows, None], x_obs[rows], simulator, seed=noise_seed
    )
    found = resimulation_error_from_distances(
        distances,
        simulator_name=simulator.name,
        resimulated="at each observation's true parameters",
        seed=bootstrap_seed,
    )
    return {r.name: r for r in found}
