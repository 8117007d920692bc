r"""Calibration error of marginal posteriors (Ardizzone's thesis, §4.2.2 and §4.2.3).

For a credibility level :math:`\alpha \in (0, 1)` and a parameter dimension
:math:`k`, the central :math:`\alpha`-interval of an observation's marginal
posterior is :math:`[q_{(1-\alpha)/2}, q_{(1+\alpha)/2}]`, with :math:`q_p` the
:math:`p`-quantile of its posterior samples. :math:`\alpha_\mathrm{inl}(\alpha, k)`
is the fraction of test observations whose true :math:`\theta^*_k` lies inside.
A calibrated posterior has :math:`\alpha_\mathrm{inl} = \alpha` for every
:math:`\alpha`; the curve :math:`\alpha_\mathrm{inl} - \alpha` is negative where
the posterior is over-confident (too narrow, or biased) and positive where it is
under-confident (too wide).

The calibration error of dimension :math:`k` is the median over :math:`\alpha`
of :math:`|\alpha_\mathrm{inl}(\alpha, k) - \alpha|`. The overall calibration
error is the median over all :math:`(\alpha, k)` pairs, so that every parameter
weighs the same and one badly calibrated parameter shows up whenever it spoils
the calibration of more than half of the grid it shares with the others.

Quantiles need not be computed per :math:`\alpha`. Take the true value's
mid-rank among the :math:`N` samples, :math:`r = \#\{s < \theta^*\} +
\tfrac12 \#\{s = \theta^*\}`, and its posterior CDF value
:math:`u = (r + \tfrac12) / (N + 1)`. Then :math:`\theta^*` lies inside the
central :math:`\alpha`-interval iff :math:`|u - \tfrac12| \le \alpha / 2`. This
agrees with the quantile definition up to the :math:`O(1/N)` choice of how
quantiles interpolate between samples. For a calibrated posterior, :math:`\theta^*`
and its :math:`N` samples are exchangeable, so :math:`r` is uniform on
:math:`\{0, \dots, N\}` and :math:`u` is the midpoint of one of :math:`N + 1`
equal bins of :math:`[0, 1]`: the check is unbiased up to that bin width.
Ties (discrete or clipped posteriors, repeated ABC particles) place
:math:`\theta^*` in the middle of the tied samples rather than at either end.

Examples:
    >>> rng = np.random.default_rng(0)
    >>> theta = rng.normal(size=(300, 1))
    >>> samples = theta[:, None, :] + rng.normal(size=(300, 200, 1))  # too wide: std 1 vs 0
    >>> alphas, curve = calibration_curve(samples, theta)
    >>> bool(np.all(curve > 0))
    True
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
)
from sbinn.diagnostics.result import MetricResult, check_samples_and_truth
from sbinn.simulator import SeedLike

__all__ = ["calibration_curve", "calibration_error", "default_alphas", "posterior_cdf_values"]

# Bounds the (observations x samples x dims) comparison array built at once to about 32 MB.
_MAX_COMPARISONS = 2**25


def default_alphas() -> np.ndarray:
    """The default grid of credibility levels: 0.01, 0.02, ..., 0.99.

    Examples:
        >>> alphas = default_alphas()
        >>> alphas.size, float(alphas[0]), float(alphas[-1])
        (99, 0.01, 0.99)
    """
    return np.round(np.linspace(0.01, 0.99, 99), 2)


def _check_alphas(alphas: object) -> np.ndarray:
    if alphas is None:
        return default_alphas()
    alphas = np.asarray(to_numpy(alphas), dtype=np.float64)
    if alphas.ndim != 1 or alphas.size == 0:
        raise ValueError(f"alphas must be a non-empty 1-D array, got shape {alphas.shape}")
    if not np.all((alphas > 0) & (alphas < 1)):
        raise ValueError(f"alphas must lie strictly inside (0, 1), got {alphas.tolist()}")
    return alphas


def posterior_cdf_values(samples: object, theta_true: object) -> np.ndarray:
    """Mid-rank posterior CDF value ``u`` of each true parameter among its samples.

    ``u = (#{s < θ*} + #{s = θ*}/2 + 1/2) / (N + 1)`` per observation and
    dimension; uniform on ``(0, 1)`` (up to ``1/(N+1)`` bins) for a calibrated
    posterior.

    Args:
        samples: Posterior samples, shape ``(n_obs, num_samples, dim_theta)``.
        theta_true: True parameters, shape ``(n_obs, dim_theta)``.

    Returns:
        Array ``(n_obs, dim_theta)`` with entries in ``(0, 1)``.

    Examples:
        >>> samples = np.array([[[0.0], [1.0], [2.0]]])
        >>> posterior_cdf_values(samples, [[1.5]]).tolist()
        [[0.625]]
    """
    return _cdf_values(*check_samples_and_truth(samples, theta_true))


def _cdf_values(samples: np.ndarray, theta_true: np.ndarray) -> np.ndarray:
    n_obs, num_samples, dim = samples.shape
    twice_rank = np.empty((n_obs, dim))
    chunk = max(1, _MAX_COMPARISONS // (num_samples * dim))
    for start in range(0, n_obs, chunk):
        block = samples[start : start + chunk]
        truth = theta_true[start : start + chunk, None, :]
        below, below_or_equal = (block < truth).sum(axis=1), (block <= truth).sum(axis=1)
        twice_rank[start : start + chunk] = below + below_or_equal  # 2 * (below + ties / 2)
    return (twice_rank / 2 + 0.5) / (num_samples + 1)


def _inside(cdf_values: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """Indicators ``(n_obs, n_alphas, dim)`` of the truth lying in the central α-interval."""
    return np.abs(cdf_values - 0.5)[:, None, :] <= alphas[None, :, None] / 2


def calibration_curve(
    samples: object, theta_true: object, *, alphas: object = None
) -> tuple[np.ndarray, np.ndarray]:
    """The calibration curve ``α_inl − α`` of every parameter dimension.

    Args:
        samples: Posterior samples, shape ``(n_obs, num_samples, dim_theta)``.
        theta_true: True parameters, shape ``(n_obs, dim_theta)``.
        alphas: Credibility levels in ``(0, 1)``; default :func:`default_alphas`.

    Returns:
        ``(alphas, curve)`` with ``curve`` of shape ``(n_alphas, dim_theta)``:
        negative where the posterior is over-confident, positive where it is
        under-confident.

    Examples:
        >>> rng = np.random.default_rng(1)
        >>> samples = rng.normal(size=(400, 300, 2))
        >>> alphas, curve = calibration_curve(samples, rng.normal(size=(400, 2)), alphas=[0.5, 0.9])
        >>> curve.shape, bool(np.all(np.abs(curve) < 0.1))
        ((2, 2), True)
    """
    alphas = _check_alphas(alphas)
    inside = _inside(posterior_cdf_values(samples, theta_true), alphas)
    return alphas, inside.mean(axis=0) - alphas[:, None]


def calibration_error(
    samples: object,
    theta_true: object,
    *,
    alphas: object = None,
    parameter_names: Sequence[str] | None = None,
    num_resamples: int = DEFAULT_NUM_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: SeedLike = 0,
) -> MetricResult:
    """Calibration error: median over α (and dimensions) of ``|α_inl − α|``.

    Args:
        samples: Posterior samples, shape ``(n_obs, num_samples, dim_theta)``.
        theta_true: True parameters, shape ``(n_obs, dim_theta)``.
        alphas: Credibility levels in ``(0, 1)``; default :func:`default_alphas`.
        parameter_names: Names of the ``dim_theta`` parameters (default ``theta_1``, ...).
        num_resamples: Bootstrap resamples of the test observations.
        confidence: Mass of the bootstrap interval (default 0.68, i.e. ±1σ).
        seed: Seed for the bootstrap.

    Returns:
        A :class:`MetricResult` whose ``value`` is the median over all
        ``(α, dimension)`` pairs, whose ``per_dimension`` holds the median over
        α per parameter, and whose ``details`` hold ``"alphas"``, ``"curve"``
        (parameter name to the list of ``α_inl − α``) and ``"per_dimension_interval"``.

    Examples:
        >>> rng = np.random.default_rng(0)
        >>> theta, noise = rng.normal(size=(500, 1)), 0.5
        >>> x = theta + noise * rng.normal(size=(500, 1))
        >>> post_std = noise / np.sqrt(1 + noise**2)
        >>> samples = (x / (1 + noise**2))[:, None] + post_std * rng.normal(size=(500, 200, 1))
        >>> result = calibration_error(samples, theta, parameter_names=["mu"])
        >>> bool(result.value < 0.05), list(result.per_dimension)
        (True, ['mu'])
    """
    alphas = _check_alphas(alphas)
    samples, theta_true = check_samples_and_truth(samples, theta_true)
    n_obs, num_samples, dim = samples.shape
    cdf_values = _cdf_values(samples, theta_true)
    names = resolve_parameter_names(parameter_names, dim)
    inside = _inside(cdf_values, alphas).astype(np.float64)

    def errors(alpha_inl: np.ndarray) -> np.ndarray:
        """Overall and per-dimension errors, shape ``(r, 1 + dim)``, from ``(r, n_alphas, dim)``."""
        deviation = np.abs(alpha_inl - alphas[:, None])
        overall = np.median(deviation.reshape(deviation.shape[0], -1), axis=1)
        return np.concatenate([overall[:, None], np.median(deviation, axis=1)], axis=1)

    alpha_inl = inside.mean(axis=0)
    value = errors(alpha_inl[None])[0]
    replicates = bootstrap_replicates(inside, errors, num_resamples=num_resamples, seed=seed)
    low, high, widened = interval_around(value, replicates, confidence)
    interval = describe_interval(num_resamples, confidence, widened=bool(widened[0]))
    curve = alpha_inl - alphas[:, None]
    method = (
        f"Median over {alphas.size} credibility levels α in [{alphas.min():g}, {alphas.max():g}] "
        f"and {dim} parameter(s) of |α_inl − α|, α_inl being the fraction of {n_obs} test "
        "observations whose true value lies in the central α-interval of its marginal "
        f"posterior samples; {interval}."
    )
    return MetricResult.overall_and_per_dimension(
        "calibration_error",
        value,
        low,
        high,
        names,
        method,
        {
            "alphas": alphas.tolist(),
            "curve": {name: curve[:, k].tolist() for k, name in enumerate(names)},
            "num_observations": n_obs,
            "num_samples": num_samples,
        },
    )
