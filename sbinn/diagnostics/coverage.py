r"""Expected coverage of joint credible regions, from posterior samples only.

A family of credible regions :math:`R_\alpha(x)` of credibility
:math:`\alpha \in (0, 1)` is calibrated when the true parameter lies inside with
probability :math:`\alpha`. The empirical coverage is the fraction of test
observations whose :math:`\theta^*` lies inside its :math:`R_\alpha(x)`; the
coverage error is :math:`\max_\alpha |\text{coverage}(\alpha) - \alpha|`. Unlike
the marginal calibration error, a joint region sees errors in the correlations
between parameters.

Here the regions are Mahalanobis balls. For one observation, stack its
:math:`N` samples and :math:`\theta^*` into :math:`N + 1` points, take their
mean :math:`m` and covariance :math:`C`, and their distances
:math:`d(\theta) = (\theta - m)^\top C^{+} (\theta - m)`. :math:`R_\alpha` holds the
points whose distance is below the :math:`\alpha`-quantile of the samples'
distances, so :math:`\theta^*` lies in :math:`R_\alpha` iff its mid-rank CDF value
among the sample distances,

.. math:: u = \frac{\#\{j : d(s_j) < d(\theta^*)\} + \tfrac12 \#\{j : d(s_j) = d(\theta^*)\}
          + \tfrac12}{N + 1},

is at most :math:`\alpha`. Any family of regions that is computed from the
posterior alone and gives its :math:`\alpha`-region posterior mass :math:`\alpha`
covers the truth with probability exactly :math:`\alpha` when the posterior is
right; the family only decides which miscalibrations the check sees (a ball
around the mean sees over- and under-confidence and bias, not skewness). Taking
:math:`m` and :math:`C` from the samples *and* :math:`\theta^*` treats all
:math:`N + 1` points alike: for a correct posterior they are exchangeable, the
rank of :math:`d(\theta^*)` is uniform, and the coverage is exact for any
:math:`N`, up to the :math:`1/(N+1)` width of a rank bin. Fitting :math:`m` and
:math:`C` to the samples alone would leave :math:`\theta^*` out-of-sample, farther
than the samples on average, and bias the coverage down by :math:`O(d/N)`.
The pseudo-inverse :math:`C^{+}`, taken after scaling every parameter to unit
variance, copes with degenerate samples (repeated ABC particles, fewer samples
than parameters).

Examples:
    >>> rng = np.random.default_rng(0)
    >>> theta = rng.normal(size=(500, 2))
    >>> samples = theta[:, None, :] + 2 * rng.normal(size=(500, 100, 2))  # too wide: std 2 vs 0
    >>> result = expected_coverage(samples, theta, levels=[0.5, 0.9])
    >>> [round(c, 2) for c in result.details["coverage"]]
    [1.0, 1.0]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sbinn._validation import resolve_parameter_names, to_numpy
from sbinn.diagnostics.bootstrap import (
    DEFAULT_CONFIDENCE,
    DEFAULT_NUM_RESAMPLES,
    bootstrap_replicates,
    describe_interval,
    interval_around,
    percentile_interval,
)
from sbinn.diagnostics.calibration import default_alphas
from sbinn.diagnostics.result import MetricResult, check_samples_and_truth
from sbinn.simulator import SeedLike

__all__ = ["expected_coverage"]

# Bounds the (observations x samples x dims) arrays built at once to about 32 MB.
_MAX_ENTRIES = 2**22
# Eigenvalues of the correlation matrix below this fraction of the largest are treated
# as zero: directions in which the samples do not vary.
_PINV_RTOL = 1e-10


def _check_levels(levels: object) -> np.ndarray:
    if levels is None:
        return default_alphas()
    levels = np.asarray(to_numpy(levels), dtype=np.float64)
    if levels.ndim != 1 or levels.size == 0:
        raise ValueError(f"levels must be a non-empty 1-D array, got shape {levels.shape}")
    if not np.all((levels > 0) & (levels < 1)):
        raise ValueError(f"levels must lie strictly inside (0, 1), got {levels.tolist()}")
    return levels


def _distance_cdf_values(sample_distances: np.ndarray, true_distances: np.ndarray) -> np.ndarray:
    """Mid-rank CDF value ``u`` of each true distance among its ``(n, N)`` sample distances."""
    truth = true_distances[:, None]
    below = (sample_distances < truth).sum(axis=1)
    below_or_equal = (sample_distances <= truth).sum(axis=1)
    return ((below + below_or_equal) / 2 + 0.5) / (sample_distances.shape[1] + 1)


def _mahalanobis_cdf_values(samples: np.ndarray, theta_true: np.ndarray) -> np.ndarray:
    n_obs, num_samples, dim = samples.shape
    u = np.empty(n_obs)
    chunk = max(1, _MAX_ENTRIES // ((num_samples + 1) * dim))
    for start in range(0, n_obs, chunk):
        points = np.concatenate(
            [samples[start : start + chunk], theta_true[start : start + chunk, None, :]], axis=1
        )
        centred = points - points.mean(axis=1, keepdims=True)
        scale = centred.std(axis=1, keepdims=True)
        # A parameter that does not vary contributes nothing; dividing by 1 keeps it at zero.
        centred = centred / np.where(scale > 0, scale, 1.0)
        correlation = np.swapaxes(centred, 1, 2) @ centred / (num_samples + 1)
        precision = np.linalg.pinv(correlation, rtol=_PINV_RTOL, hermitian=True)
        distances = ((centred @ precision) * centred).sum(axis=2)
        u[start : start + chunk] = _distance_cdf_values(distances[:, :-1], distances[:, -1])
    return u


def _coverage_result(
    name: str,
    curve_key: str,
    inside: np.ndarray,
    levels: np.ndarray,
    description: str,
    *,
    num_resamples: int,
    confidence: float,
    seed: SeedLike,
    details: dict,
) -> MetricResult:
    """The max over levels of ``|coverage − level|`` from ``(n_obs, n_levels)`` indicators.

    ``details[curve_key]`` holds the coverage per level and ``details[curve_key +
    "_interval"]`` its per-level ``[low, high]`` from the same bootstrap.
    """
    coverage = inside.mean(axis=0)
    value = np.abs(coverage - levels).max()
    replicates = bootstrap_replicates(inside, num_resamples=num_resamples, seed=seed)
    low, high, widened = interval_around(value, np.abs(replicates - levels).max(axis=1), confidence)
    curve_low, curve_high = percentile_interval(replicates, confidence)
    interval = describe_interval(num_resamples, confidence, widened=bool(widened))
    return MetricResult(
        name=name,
        value=value,
        low=low,
        high=high,
        method=f"{description}; {interval}.",
        details={
            "levels": levels.tolist(),
            curve_key: coverage.tolist(),
            f"{curve_key}_interval": np.stack([curve_low, curve_high], axis=1).tolist(),
            "num_observations": inside.shape[0],
        }
        | details,
    )


def expected_coverage(
    samples: object,
    theta_true: object,
    *,
    levels: object = None,
    parameter_names: Sequence[str] | None = None,
    num_resamples: int = DEFAULT_NUM_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: SeedLike = 0,
) -> MetricResult:
    """Coverage error of joint Mahalanobis credible regions: ``max_α |coverage(α) − α|``.

    Args:
        samples: Posterior samples, shape ``(n_obs, num_samples, dim_theta)``.
        theta_true: True parameters, shape ``(n_obs, dim_theta)``.
        levels: Credibility levels in ``(0, 1)``; default 0.01, 0.02, ..., 0.99.
        parameter_names: Names of the ``dim_theta`` parameters (default ``theta_1``, ...);
            the region is joint, so they are only recorded in ``details``.
        num_resamples: Bootstrap resamples of the test observations.
        confidence: Mass of the bootstrap interval (default 0.68, i.e. ±1σ).
        seed: Seed for the bootstrap.

    Returns:
        A :class:`MetricResult` named ``"coverage_error"`` whose ``details`` hold
        ``"levels"``, ``"coverage"`` (the empirical coverage per level; below the
        level where the posterior is over-confident or biased, above it where it
        is under-confident), ``"coverage_interval"`` (per level, ``[low, high]``
        from the same bootstrap) and ``"parameter_names"``.

    Examples:
        >>> rng = np.random.default_rng(1)
        >>> theta, noise = rng.normal(size=(1000, 2)), 0.5
        >>> x = theta + noise * rng.normal(size=(1000, 2))
        >>> post_std = noise / np.sqrt(1 + noise**2)
        >>> samples = (x / (1 + noise**2))[:, None] + post_std * rng.normal(size=(1000, 100, 2))
        >>> result = expected_coverage(samples, theta)
        >>> bool(result.value < 0.05), len(result.details["coverage"])
        (True, 99)
    """
    levels = _check_levels(levels)
    samples, theta_true = check_samples_and_truth(samples, theta_true)
    n_obs, num_samples, dim = samples.shape
    names = resolve_parameter_names(parameter_names, dim)
    inside = (_mahalanobis_cdf_values(samples, theta_true)[:, None] <= levels).astype(np.float64)
    return _coverage_result(
        "coverage_error",
        "coverage",
        inside,
        levels,
        f"Maximum over {levels.size} credibility levels α in [{levels.min():g}, "
        f"{levels.max():g}] of |coverage − α|, coverage being the fraction of {n_obs} test "
        f"observations whose true value lies in the joint α-region of its {num_samples} "
        "posterior samples, the region holding the samples with the smallest Mahalanobis "
        "distance from their mean",
        num_resamples=num_resamples,
        confidence=confidence,
        seed=seed,
        details={"parameter_names": list(names), "num_samples": num_samples},
    )
