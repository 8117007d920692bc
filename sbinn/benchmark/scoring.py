"""The metrics a benchmark computes for every method, from its samples alone.

Every method gets the calibration error and the re-simulation errors of thesis Table 4.1.
Where the simulator is too slow to re-simulate thousands of samples per observation, the
task re-simulates each observation's MAP estimate instead (thesis Table 4.2), and the
simulator's own noise sets the floor: the distance of a fresh simulation of the *true*
parameters from the observation. Tasks may add point-estimate metrics on the MAP.

Examples:
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

from sbinn._validation import check_positive_int
from sbinn.diagnostics import (
    MetricResult,
    calibration_error,
    map_estimate,
    resimulation_distances,
    resimulation_error_from_distances,
)
from sbinn.simulator import Simulator, as_generator

__all__ = [
    "PointMetrics",
    "SampleMetrics",
    "calibration_direction",
    "score_samples",
    "simulation_noise",
]

PointMetrics = Callable[[Simulator, np.ndarray, np.ndarray, int], dict[str, MetricResult]]
"""``(simulator, map_estimates, theta_true, seed) -> {name: MetricResult}``."""

SampleMetrics = Callable[
    [Simulator, np.ndarray, np.ndarray, np.ndarray, int], dict[str, MetricResult]
]
"""``(simulator, samples, theta_true, x_obs, seed) -> {name: MetricResult}``."""


def score_samples(
    simulator: Simulator,
    samples: np.ndarray,
    theta_true: np.ndarray,
    x_obs: np.ndarray,
    *,
    seed: int,
    resimulate: Literal["posterior", "map"] = "posterior",
    resimulated_observations: int | None = None,
    resimulated_samples: int | None = None,
    point_metrics: PointMetrics | None = None,
    sample_metrics: SampleMetrics | None = None,
    x_scored: np.ndarray | None = None,
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
        resimulated_samples: With ``"posterior"``, re-simulate a random subset of this
            many samples per observation (the same positions for every method); None: all.
        point_metrics: Metrics of the MAP estimates against the truth.
        sample_metrics: Metrics of the samples, given the truth and ``x_obs``.
        x_scored: What re-simulations are compared with, where ``simulator`` observes
            ``x_obs`` through summaries (default ``x_obs``).

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
    # Two streams as in sbinn.diagnostics.resimulation_error, so its numbers are reproduced;
    # a third picks the re-simulated subset.
    noise_seed, bootstrap_seed, subset_seed = (
        g.bit_generator.seed_seq for g in as_generator(seed).spawn(3)
    )
    if resimulate == "posterior" and resimulated_samples is not None:
        resimulated = _random_subset(resimulated, resimulated_samples, subset_seed)
    x_scored = x_obs if x_scored is None else x_scored
    distances = resimulation_distances(
        resimulated[rows], x_scored[rows], simulator, seed=noise_seed
    )
    mean, median = resimulation_error_from_distances(
        distances, at=resimulate, simulator_name=simulator.name, seed=bootstrap_seed
    )
    metrics |= {mean.name: mean, median.name: median}
    if point_metrics is not None:
        metrics |= point_metrics(simulator, estimates, theta_true, seed)
    if sample_metrics is not None:
        metrics |= sample_metrics(simulator, samples, theta_true, x_obs, seed)
    return metrics, distances


def calibration_direction(result: MetricResult, levels: int = 9) -> dict:
    """Which way a calibration error points: the signed curve ``α_inl − α`` per parameter.

    The calibration error is an absolute deviation, so a posterior that is too narrow and
    one that is too wide can score the same; the sign tells them apart. Negative values
    mean the truth falls outside the central α-interval more often than it should
    (over-confident, too narrow); positive values mean under-confident (too wide).

    Args:
        result: A :func:`~sbinn.diagnostics.calibration_error` result (its ``details``
            hold the curve).
        levels: How many credibility levels of the curve to keep: those nearest to
            ``1/(levels+1), ..., levels/(levels+1)`` (0.1, ..., 0.9 by default).

    Returns:
        ``{"alphas": [...], "curve": {name: [α_inl − α per level]},
        "mean_signed": {name: mean of α_inl − α over all levels}}``, rounded to 4 decimals.

    Raises:
        ValueError: if ``result`` is not a calibration error (no curve in its details), or
            ``levels`` is not a positive integer.

    Examples:
        >>> rng = np.random.default_rng(0)
        >>> theta = rng.normal(size=(400, 1))
        >>> too_narrow = theta[:, None] + rng.normal(size=(400, 1, 1)) + 0.3 * rng.normal(
        ...     size=(400, 200, 1))
        >>> direction = calibration_direction(calibration_error(too_narrow, theta))
        >>> direction["mean_signed"]["theta_1"] < -0.1, len(direction["alphas"])
        (True, 9)
    """
    levels = check_positive_int(levels, "levels")
    if not {"alphas", "curve"} <= set(result.details or {}):
        raise ValueError(
            f"calibration_direction needs a calibration_error result, whose details hold "
            f"'alphas' and 'curve'; got {result.name!r} with details "
            f"{sorted(result.details or {})}"
        )
    alphas = np.asarray(result.details["alphas"])
    curves = {name: np.asarray(curve) for name, curve in result.details["curve"].items()}
    targets = np.linspace(0, 1, levels + 2)[1:-1]
    kept = np.unique(np.abs(alphas[None, :] - targets[:, None]).argmin(axis=1))
    return {
        "alphas": alphas[kept].round(4).tolist(),
        "curve": {name: curve[kept].round(4).tolist() for name, curve in curves.items()},
        "mean_signed": {name: round(float(curve.mean()), 4) for name, curve in curves.items()},
    }


def _random_subset(samples: np.ndarray, size: int, seed: np.random.SeedSequence) -> np.ndarray:
    """``size`` of each observation's samples, drawn without replacement (all if fewer)."""
    size = check_positive_int(size, "resimulated_samples")
    if size >= samples.shape[1]:
        return samples
    # Random positions, not the first ones: ABC returns its samples in no random order.
    keys = np.random.default_rng(seed).random(samples.shape[:2])
    picked = np.argsort(keys, axis=1)[:, :size]
    return np.take_along_axis(samples, picked[..., None], axis=1)


def simulation_noise(
    simulator: Simulator,
    theta_true: np.ndarray,
    x_obs: np.ndarray,
    *,
    seed: int,
    num_observations: int | None = None,
) -> dict[str, MetricResult]:
    """Re-simulation errors of the true parameters: the floor no estimate can beat.

    Examples:
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
