r"""Bootstrap intervals over test observations.

The diagnostics in this package are written as a function :math:`g` of
averages over the test observations of per-observation values :math:`v_i`
(coverage indicators, squared errors, sums and counts of distances, histogram
counts):

.. math:: m = g\Big(\frac{1}{n} \sum_{i=1}^{n} v_i\Big).

Resampling the observations with replacement only changes the weights of that
average: a resample is a vector of counts :math:`c` (how often each observation
was drawn) and its average is :math:`c^\top v / n`. All resamples together are
one matrix product, so a thousand resamples cost about as much as a pass over
the data, with no Python loop over resamples.

The interval is the percentile interval of the resampled metric. The default
``confidence=0.68`` is the central :math:`\pm 1\sigma` mass of a normal
distribution, the convention of the :math:`\pm` values in Ardizzone's thesis.

A metric that sits on the edge of its range, such as the calibration error of
a well-calibrated posterior (near 0, and :math:`|\cdot|` of noise), has a
bootstrap distribution shifted away from the value: resampling only adds noise.
Its percentile interval can then miss the value itself. The diagnostics widen
such an interval just enough to reach the value, and say so in ``method``, so
that a reported interval always brackets its value.

Examples:
    >>> values = np.arange(100.0)
    >>> low, high = bootstrap_interval(values, seed=0)
    >>> bool(low < values.mean() < high)
    True
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sbinn._validation import check_positive_int, check_probability, to_numpy
from sbinn.simulator import SeedLike, as_generator

__all__ = [
    "DEFAULT_CONFIDENCE",
    "DEFAULT_NUM_RESAMPLES",
    "bootstrap_interval",
    "bootstrap_replicates",
    "describe_interval",
    "interval_around",
    "metric_on_all",
    "percentile_interval",
]

DEFAULT_NUM_RESAMPLES = 1000
DEFAULT_CONFIDENCE = 0.68

# Bounds the (resamples x observations) count matrix built at once to about 64 MB.
_MAX_COUNT_ENTRIES = 2**23

Statistic = Callable[[np.ndarray], np.ndarray]


def bootstrap_replicates(
    values: object,
    statistic: Statistic | None = None,
    *,
    num_resamples: int = DEFAULT_NUM_RESAMPLES,
    seed: SeedLike = 0,
) -> np.ndarray:
    """Resample observations with replacement and return the metric of every resample.

    Args:
        values: Per-observation values, shape ``(n_obs, ...)``; axis 0 indexes
            the test observations.
        statistic: Maps a batch of resampled averages, shape
            ``(r, *values.shape[1:])``, to the metric, shape ``(r, ...)``.
            ``None`` means the metric is the average itself.
        num_resamples: Number of bootstrap resamples.
        seed: Seed or Generator for drawing the resamples.

    Returns:
        Array ``(num_resamples, ...)`` of resampled metric values.

    Examples:
        >>> values = np.array([[1.0, 0.0], [3.0, 1.0]])
        >>> bootstrap_replicates(values, num_resamples=4, seed=0).shape
        (4, 2)
    """
    values = np.asarray(to_numpy(values), dtype=np.float64)
    if values.ndim == 0 or values.shape[0] == 0:
        raise ValueError(
            f"values must have shape (n_obs, ...) with n_obs >= 1, got shape {values.shape}"
        )
    num_resamples = check_positive_int(num_resamples, "num_resamples")
    rng = as_generator(seed)
    n = values.shape[0]
    flat = values.reshape(n, -1)
    chunk = max(1, _MAX_COUNT_ENTRIES // n)
    replicates = []
    # The loop runs over chunks of resamples, bounding memory; within a chunk all is vectorised.
    for start in range(0, num_resamples, chunk):
        size = min(chunk, num_resamples - start)
        drawn = rng.integers(0, n, size=(size, n)) + n * np.arange(size)[:, None]
        counts = np.bincount(drawn.ravel(), minlength=size * n).reshape(size, n)
        means = (counts.astype(np.float64) @ flat / n).reshape(size, *values.shape[1:])
        metric = means if statistic is None else np.asarray(statistic(means), dtype=np.float64)
        if metric.ndim == 0 or metric.shape[0] != size:
            raise ValueError(
                f"statistic must return one value (or row) per resample, i.e. shape ({size}, ...) "
                f"for input shape {means.shape}, got shape {metric.shape}"
            )
        replicates.append(metric)
    return np.concatenate(replicates, axis=0)


def metric_on_all(values: object, statistic: Statistic | None = None) -> np.ndarray:
    """The metric on all observations: ``statistic`` of the plain average of ``values``.

    Examples:
        >>> float(metric_on_all(np.array([1.0, 4.0, 4.0, 7.0]), np.sqrt))
        2.0
    """
    means = np.asarray(to_numpy(values), dtype=np.float64).mean(axis=0)[None]
    return (means if statistic is None else np.asarray(statistic(means), dtype=np.float64))[0]


def percentile_interval(
    replicates: object, confidence: float = DEFAULT_CONFIDENCE
) -> tuple[np.ndarray, np.ndarray]:
    """Central percentile interval of bootstrap replicates along axis 0.

    Args:
        replicates: Array ``(num_resamples, ...)``, e.g. from :func:`bootstrap_replicates`.
        confidence: Probability mass inside the interval (default 0.68, i.e. ±1σ).

    Returns:
        ``(low, high)``, each of shape ``replicates.shape[1:]``.

    Examples:
        >>> low, high = percentile_interval(np.arange(101.0), confidence=0.5)
        >>> float(low), float(high)
        (25.0, 75.0)
    """
    confidence = check_probability(confidence, "confidence", include_one=False)
    replicates = np.asarray(to_numpy(replicates), dtype=np.float64)
    low, high = np.quantile(replicates, [(1 - confidence) / 2, (1 + confidence) / 2], axis=0)
    return low, high


def interval_around(
    value: object, replicates: object, confidence: float = DEFAULT_CONFIDENCE
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Percentile interval widened where needed to reach ``value`` (see the module docstring).

    Args:
        value: The metric on all observations, shape ``replicates.shape[1:]``.
        replicates: Array ``(num_resamples, ...)`` of resampled metric values.
        confidence: Probability mass of the percentile interval (default 0.68).

    Returns:
        ``(low, high, widened)``; ``widened`` is True where the percentile
        interval missed ``value``.

    Examples:
        >>> low, high, widened = interval_around(10.0, np.arange(101.0), confidence=0.5)
        >>> float(low), float(high), bool(widened)
        (10.0, 75.0, True)
    """
    value = np.asarray(to_numpy(value), dtype=np.float64)
    low, high = percentile_interval(replicates, confidence)
    widened = (value < low) | (value > high)
    return np.fmin(low, value), np.fmax(high, value), widened


def bootstrap_interval(
    values: object,
    statistic: Statistic | None = None,
    *,
    num_resamples: int = DEFAULT_NUM_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: SeedLike = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval, over test observations, of a scalar metric.

    The metric is ``statistic(mean of values over observations)``; see the module
    docstring. Resamples draw ``n_obs`` observations with replacement. The
    interval is widened where needed to reach the metric on all observations.

    Args:
        values: Per-observation values, shape ``(n_obs, ...)``.
        statistic: Maps resampled averages ``(r, *values.shape[1:])`` to ``(r,)``.
            ``None`` means the metric is the mean of 1-D ``values``.
        num_resamples: Number of bootstrap resamples (default 1000).
        confidence: Probability mass inside the interval (default 0.68, i.e. ±1σ).
        seed: Seed or Generator for drawing the resamples; the same seed gives
            the same interval.

    Returns:
        ``(low, high)`` as floats.

    Examples:
        >>> squared_errors = np.array([0.0, 1.0, 4.0, 1.0, 0.25, 2.25])
        >>> low, high = bootstrap_interval(squared_errors, np.sqrt, seed=1)
        >>> bool(low <= np.sqrt(squared_errors.mean()) <= high)
        True
    """
    replicates = bootstrap_replicates(values, statistic, num_resamples=num_resamples, seed=seed)
    if replicates.ndim != 1:
        raise ValueError(
            "bootstrap_interval needs a scalar metric: statistic must map resampled averages "
            f"to shape (num_resamples,), got shape {replicates.shape}; "
            "use bootstrap_replicates and percentile_interval for vector metrics"
        )
    low, high, _ = interval_around(metric_on_all(values, statistic), replicates, confidence)
    return float(low), float(high)


def describe_interval(num_resamples: int, confidence: float, *, widened: bool = False) -> str:
    """The phrase every diagnostic's ``method`` uses for its interval.

    Examples:
        >>> describe_interval(1000, 0.68)
        '68% percentile bootstrap interval from 1000 resamples of the test observations'
    """
    phrase = (
        f"{100 * confidence:g}% percentile bootstrap interval from {num_resamples} "
        "resamples of the test observations"
    )
    return phrase + (", widened to reach the value" if widened else "")
