r"""Re-simulation error: how far simulations of posterior samples land from the observation.

For every test observation :math:`x^*` and every posterior sample
:math:`\hat\theta` (or only the MAP estimate), the simulator is run again and
the Euclidean distance :math:`\lVert s(\hat\theta) - x^* \rVert` is recorded.
As in Table 4.1 of Ardizzone's thesis, the mean re-simulation error is the mean
over all samples of all observations and the median re-simulation error is the
median over all of them. Re-simulations that fail (NaN rows from the simulator)
are counted, excluded, and reported in ``details``.

The bootstrap resamples observations, each with all its samples. The median of
a resample is read off a histogram of the pooled distances, so all resamples
are one matrix product: exactly, with one bin per distinct distance, when there
are at most 1000 of them; otherwise with 1000 bins between pooled quantiles,
whose resolution is 1/1000 of the pooled distribution.

Examples:
    >>> from sbinn.priors import JointPrior, Normal
    >>> from sbinn.function_simulator import FunctionSimulator
    >>> simulator = FunctionSimulator(lambda t: 2 * t, JointPrior({"a": Normal(0.0, 1.0)}))
    >>> samples = np.array([[[1.0], [2.0], [4.0]]])
    >>> mean, median = resimulation_error(samples, [[4.0]], simulator)
    >>> mean.value, median.value
    (2.0, 2.0)
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np

from sbinn._validation import as_2d_float_array, as_samples_array, check_positive_int, to_numpy
from sbinn.diagnostics.bootstrap import (
    DEFAULT_CONFIDENCE,
    DEFAULT_NUM_RESAMPLES,
    bootstrap_replicates,
    describe_interval,
    interval_around,
    metric_on_all,
)
from sbinn.diagnostics.point_estimates import map_estimate
from sbinn.diagnostics.result import MetricResult
from sbinn.simulator import (
    SeedLike,
    SimulationError,
    SimulationFailureWarning,
    Simulator,
    as_generator,
)

__all__ = ["resimulation_distances", "resimulation_error", "resimulation_error_from_distances"]

_MEDIAN_BINS = 1000
_AT = ("posterior", "map")


def _check_x_obs(x_obs: object, simulator: Simulator, n_obs: int) -> np.ndarray:
    x = to_numpy(x_obs)
    if x.ndim >= 2 and tuple(x.shape[1:]) == simulator.observation_shape:
        x = x.reshape(x.shape[0], -1)
    x = as_2d_float_array(x, simulator.dim_observations, "x_obs")
    if x.shape[0] != n_obs:
        raise ValueError(
            f"x_obs must have one row per observation in samples, i.e. {n_obs} rows, "
            f"got shape {np.shape(x_obs)}"
        )
    return x


def resimulation_distances(
    samples: object,
    x_obs: object,
    simulator: Simulator,
    *,
    seed: SeedLike = 0,
    chunk_size: int = 100_000,
) -> np.ndarray:
    """Distances ``||s(θ̂) − x*||`` for every sample of every observation; NaN where it failed.

    Args:
        samples: Parameters to re-simulate, shape ``(n_obs, num_samples, dim_theta)``.
        x_obs: Observations, shape ``(n_obs, dim_x)`` or ``(n_obs, *observation_shape)``.
        simulator: The simulator; its ``simulate`` is called on at most
            ``chunk_size`` parameter vectors at a time.
        seed: Seed or Generator for the simulator's noise.
        chunk_size: Largest number of rows per ``simulate`` call (bounds memory).

    Returns:
        Array ``(n_obs, num_samples)``.

    Examples:
        >>> from sbinn.priors import JointPrior, Normal
        >>> from sbinn.function_simulator import FunctionSimulator
        >>> simulator = FunctionSimulator(lambda t: 2 * t, JointPrior({"a": Normal(0.0, 1.0)}))
        >>> resimulation_distances([[[0.5], [3.0]]], [[2.0]], simulator).tolist()
        [[1.0, 4.0]]
    """
    if not isinstance(simulator, Simulator):
        raise TypeError(
            "simulator must be an sbinn Simulator (wrap a plain function with "
            f"sbinn.FunctionSimulator), got {type(simulator).__name__}"
        )
    samples = as_samples_array(samples, simulator.dim_parameters)
    n_obs, num_samples, dim = samples.shape
    x = _check_x_obs(x_obs, simulator, n_obs)
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    generator = as_generator(seed)
    theta = samples.reshape(-1, dim)
    distances = np.empty(theta.shape[0])
    for start in range(0, theta.shape[0], chunk_size):
        rows = slice(start, start + chunk_size)
        simulated = simulator.simulate(theta[rows], generator).reshape(-1, x.shape[1])
        observed = x[np.arange(start, start + simulated.shape[0]) // num_samples]
        distances[rows] = np.sqrt(((simulated - observed) ** 2).sum(axis=1))
    return distances.reshape(n_obs, num_samples)


def _pooled_median(
    distances: np.ndarray, valid: np.ndarray, num_resamples: int, seed: SeedLike
) -> tuple[float, np.ndarray]:
    """Median of all valid distances, and its bootstrap replicates over observations."""
    n_obs = distances.shape[0]
    pooled = distances[valid]
    distinct = np.unique(pooled)
    exact = distinct.size <= _MEDIAN_BINS
    if exact:  # one bin per distinct value: resampled medians are exact
        edges = distinct
        bins = np.searchsorted(edges, distances)
    else:
        edges = np.unique(np.quantile(pooled, np.linspace(0.0, 1.0, _MEDIAN_BINS + 1)))
        bins = np.searchsorted(edges, distances, side="right") - 1
    num_bins = edges.size if exact else edges.size - 1
    bins = np.clip(bins, 0, num_bins - 1)
    observation = np.broadcast_to(np.arange(n_obs)[:, None], distances.shape)
    histogram = np.bincount(
        (observation * num_bins + bins)[valid], minlength=n_obs * num_bins
    ).reshape(n_obs, num_bins)

    def first_reaching(cumulative: np.ndarray, level: np.ndarray) -> np.ndarray:
        return np.minimum((cumulative < level[:, None]).sum(axis=1), num_bins - 1)

    def median(mass: np.ndarray) -> np.ndarray:
        cumulative = np.cumsum(mass * n_obs, axis=1)  # counts of the resampled pool
        total = cumulative[:, -1]
        if exact:
            # The two middle order statistics (equal for an odd count); 0.5 absorbs rounding.
            lower = first_reaching(cumulative, np.floor((total + 1) / 2) - 0.5)
            upper = first_reaching(cumulative, np.floor(total / 2) + 0.5)
            estimate = (edges[lower] + edges[upper]) / 2
        else:
            index = first_reaching(cumulative, total / 2)
            rows = np.arange(mass.shape[0])
            below = np.where(index > 0, cumulative[rows, np.maximum(index - 1, 0)], 0.0)
            # Spread each bin's mass evenly over its width, as the edges are close quantiles.
            fraction = (total / 2 - below) / np.maximum(cumulative[rows, index] - below, 1e-300)
            width = edges[index + 1] - edges[index]
            estimate = edges[index] + np.clip(fraction, 0.0, 1.0) * width
        return np.where(total > 0, estimate, np.nan)  # NaN: a resample with no success

    value = float(np.median(pooled))
    return value, bootstrap_replicates(histogram, median, num_resamples=num_resamples, seed=seed)


def resimulation_error(
    samples: object,
    x_obs: object,
    simulator: Simulator,
    *,
    at: Literal["posterior", "map"] = "posterior",
    chunk_size: int = 100_000,
    num_resamples: int = DEFAULT_NUM_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: SeedLike = 0,
) -> tuple[MetricResult, MetricResult]:
    """Mean and median re-simulation error over all samples of all test observations.

    Args:
        samples: Posterior samples, shape ``(n_obs, num_samples, dim_theta)``.
        x_obs: Observations, shape ``(n_obs, dim_x)`` or ``(n_obs, *observation_shape)``.
        simulator: The simulator that produced ``x_obs``.
        at: ``"posterior"`` re-simulates every sample; ``"map"`` only each
            observation's MAP estimate (:func:`~sbinn.diagnostics.map_estimate`
            with its defaults; for other MAP settings pass your estimates as
            ``samples[:, None]`` with ``at="posterior"``).
        chunk_size: Largest number of rows per ``simulate`` call (bounds memory).
        num_resamples: Bootstrap resamples of the test observations.
        confidence: Mass of the bootstrap interval (default 0.68, i.e. ±1σ).
        seed: Seed or Generator; independent streams for the simulator's noise and
            the bootstrap are spawned from it.

    Returns:
        ``(mean, median)``, two :class:`MetricResult` objects sharing ``details``
        with the failure counts.

    Raises:
        ValueError: on an unknown ``at`` or inconsistent shapes.
        SimulationError: if every re-simulation failed.
    """
    if not isinstance(at, str) or at not in _AT:
        raise ValueError(f"at must be one of {_AT}, got {at!r}")
    samples = as_samples_array(samples)
    if at == "map":
        samples = map_estimate(samples)[:, None, :]
    # Seed sequences rather than generators: each use replays the same stream, so the
    # mean and the median are bootstrapped over the same resamples.
    noise_seed, bootstrap_seed = (g.bit_generator.seed_seq for g in as_generator(seed).spawn(2))
    distances = resimulation_distances(
        samples, x_obs, simulator, seed=noise_seed, chunk_size=chunk_size
    )
    return resimulation_error_from_distances(
        distances,
        at=at,
        simulator_name=simulator.name,
        num_resamples=num_resamples,
        confidence=confidence,
        seed=bootstrap_seed,
    )


def resimulation_error_from_distances(
    distances: object,
    *,
    at: Literal["posterior", "map"] = "posterior",
    simulator_name: str = "simulator",
    resimulated: str | None = None,
    num_resamples: int = DEFAULT_NUM_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: SeedLike = 0,
) -> tuple[MetricResult, MetricResult]:
    """Mean and median re-simulation error of distances that are already simulated.

    The summary step of :func:`resimulation_error`, for callers that need the distances
    themselves too (a benchmark that plots them), so the simulator runs only once.

    Args:
        distances: ``(n_obs, k)`` distances from :func:`resimulation_distances`; NaN
            marks a failed re-simulation.
        at: What was re-simulated, ``"posterior"`` samples or ``"map"`` estimates; recorded.
        simulator_name: Named in warnings and errors.
        resimulated: What was re-simulated, for the method text (default from ``at``).
        num_resamples: Bootstrap resamples of the test observations.
        confidence: Mass of the bootstrap interval (default 0.68, i.e. ±1σ).
        seed: Seed of the bootstrap.

    Examples:
        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     mean, median = resimulation_error_from_distances([[1.0, 3.0], [2.0, np.nan]])
        >>> mean.value, median.value, mean.details["num_failed"]
        (2.0, 2.0, 1)
    """
    if not isinstance(at, str) or at not in _AT:
        raise ValueError(f"at must be one of {_AT}, got {at!r}")
    distances = np.asarray(to_numpy(distances), dtype=np.float64)
    if distances.ndim != 2 or distances.size == 0:
        raise ValueError(
            f"distances must have shape (n_obs, k) with k >= 1, got shape {distances.shape}"
        )
    if np.any(distances < 0) or np.any(np.isinf(distances)):
        raise ValueError("distances must be >= 0 and finite (NaN marks a failed re-simulation)")
    # The mean and the median must be bootstrapped over the same resamples: a seed
    # sequence replays its stream on each use, a generator would not.
    if isinstance(seed, np.random.Generator):
        seed = seed.bit_generator.seed_seq
    elif seed is None:
        seed = np.random.SeedSequence()
    valid = np.isfinite(distances)
    num_total, num_failed = distances.size, int(distances.size - valid.sum())
    if num_failed == num_total:
        raise SimulationError(f"all {num_total} re-simulations of {simulator_name!r} failed")
    if num_failed:
        warnings.warn(
            f"{num_failed} of {num_total} re-simulations of {simulator_name!r} failed "
            "(NaN, inf or an exception) and were excluded from the re-simulation error",
            SimulationFailureWarning,
            stacklevel=2,
        )

    sums_counts = np.stack([np.where(valid, distances, 0.0).sum(1), valid.sum(1)], axis=1)

    def ratio(means: np.ndarray) -> np.ndarray:
        out = np.full(means.shape[0], np.nan)
        return np.divide(means[:, 0], means[:, 1], out=out, where=means[:, 1] > 0)

    mean_value = float(metric_on_all(sums_counts, ratio))
    mean_replicates = bootstrap_replicates(
        sums_counts, ratio, num_resamples=num_resamples, seed=seed
    )
    median_value, median_replicates = _pooled_median(distances, valid, num_resamples, seed)

    n_obs, per_observation = distances.shape
    where = resimulated or (
        "at each observation's MAP estimate" if at == "map" else "at every posterior sample"
    )
    scope = (
        f"over all {num_total - num_failed:,} successful re-simulations ({per_observation} per "
        f"observation, {where}) of {n_obs} test observations of the distance ||s(θ̂) − x*||, "
        f"{num_failed} failed ones excluded"
    )
    details = {
        "at": at,
        "num_observations": n_obs,
        "num_simulations": num_total,
        "num_failed": num_failed,
        "failed_fraction": num_failed / num_total,
    }
    results = []
    for name, value, replicates, how in (
        ("resimulation_error_mean", mean_value, mean_replicates, "Mean"),
        ("resimulation_error_median", median_value, median_replicates, "Median"),
    ):
        low, high, widened = interval_around(value, replicates, confidence)
        interval = describe_interval(num_resamples, confidence, widened=bool(widened))
        results.append(
            MetricResult(
                name=name,
                value=value,
                low=low,
                high=high,
                method=f"{how} {scope}; {interval}.",
                details=dict(details),
            )
        )
    return results[0], results[1]
