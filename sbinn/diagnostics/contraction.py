r"""Posterior z-scores and posterior contraction (Schad, Betancourt & Vasishth 2021).

For an observation with true parameter :math:`\theta^*` and posterior mean and
standard deviation :math:`\mu_k, \sigma_k` in dimension :math:`k`, the posterior
z-score and contraction are

.. math:: z_k = \frac{\mu_k - \theta^*_k}{\sigma_k}, \qquad
          c_k = 1 - \frac{\sigma_k^2}{\sigma_{\mathrm{prior},k}^2}.

The z-score says how far the posterior sits from the truth in its own units;
the contraction how much the data narrowed the prior: near 1 the data pin the
parameter down, near 0 the posterior is the prior, and below 0 it is wider than
the prior, which a correct posterior only is in rare observations. Plotting
:math:`z` against :math:`c` over test observations sorts them into
well-identified, prior-dominated, over-fitted (large :math:`|z|`, large
:math:`c`) and wrong-prior cases.

For a summary, the root mean square z-score has a target: for any model,
:math:`\mathbb{E}[(\theta^* - \mu_k)^2 \mid x] = \sigma_k^2` when the posterior is
right, so :math:`\mathbb{E}[z_k^2] = 1`. Values above 1 mean over-confident or
biased posteriors, below 1 under-confident ones. Estimating :math:`\mu_k` and
:math:`\sigma_k` from :math:`N` samples moves the target by :math:`O(1/N)`.

Examples:
    >>> rng = np.random.default_rng(0)
    >>> theta = rng.normal(size=(2000, 1))
    >>> x = theta + 0.5 * rng.normal(size=(2000, 1))
    >>> samples = (x / 1.25)[:, None] + np.sqrt(0.2) * rng.normal(size=(2000, 200, 1))
    >>> z, c = z_score_and_contraction(samples, theta, rng.normal(size=(5000, 1)))
    >>> round(z.value, 1), round(c.value, 1)  # 1 and 1 - 0.2 / 1 for the exact posterior
    (1.0, 0.8)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from sbinn._validation import as_2d_float_array, as_samples_array, resolve_parameter_names
from sbinn.diagnostics.bootstrap import (
    DEFAULT_CONFIDENCE,
    DEFAULT_NUM_RESAMPLES,
    bootstrap_replicates,
    describe_interval,
    interval_around,
)
from sbinn.diagnostics.result import MetricResult, check_samples_and_truth
from sbinn.simulator import SeedLike

__all__ = ["posterior_contraction", "posterior_z_scores", "z_score_and_contraction"]


def _posterior_std(samples: np.ndarray) -> np.ndarray:
    if samples.shape[1] < 2:
        raise ValueError(
            f"samples must hold at least 2 samples per observation for a posterior standard "
            f"deviation, got shape {samples.shape}"
        )
    std = samples.std(axis=1, ddof=1)
    if not np.all(std > 0):
        obs, dim = np.argwhere(~(std > 0))[0]
        raise ValueError(
            f"samples must vary within every observation and dimension for a z-score, got "
            f"identical samples in {int((~(std > 0)).sum())} case(s), first at observation "
            f"{obs}, dimension {dim}"
        )
    return std


def _prior_variance(prior_samples: object, dim: int) -> np.ndarray:
    prior_samples = as_2d_float_array(prior_samples, dim, "prior_samples")
    if prior_samples.shape[0] < 2:
        raise ValueError(
            f"prior_samples must have at least 2 rows for a variance, got shape "
            f"{prior_samples.shape}"
        )
    variance = prior_samples.var(axis=0, ddof=1)
    if not np.all(variance > 0):
        raise ValueError(
            f"prior_samples must vary in every dimension, got zero variance in dimension(s) "
            f"{np.flatnonzero(~(variance > 0)).tolist()}"
        )
    return variance


def posterior_z_scores(samples: object, theta_true: object) -> np.ndarray:
    """Posterior z-score ``(mean − θ*) / std`` per observation and dimension.

    Args:
        samples: Posterior samples, shape ``(n_obs, num_samples, dim_theta)``, at
            least 2 distinct samples per observation and dimension.
        theta_true: True parameters, shape ``(n_obs, dim_theta)``.

    Returns:
        Array ``(n_obs, dim_theta)``; positive where the posterior mean lies above the truth.

    Examples:
        >>> samples = np.array([[[1.0], [3.0]]])  # mean 2, std sqrt(2)
        >>> posterior_z_scores(samples, [[2.0 - np.sqrt(2)]]).round(6).tolist()
        [[1.0]]
    """
    return _z_scores(*check_samples_and_truth(samples, theta_true))


def _z_scores(samples: np.ndarray, theta_true: np.ndarray) -> np.ndarray:
    return (samples.mean(axis=1) - theta_true) / _posterior_std(samples)


def posterior_contraction(samples: object, prior_samples: object) -> np.ndarray:
    """Posterior contraction ``1 − var_post / var_prior`` per observation and dimension.

    Args:
        samples: Posterior samples, shape ``(n_obs, num_samples, dim_theta)``.
        prior_samples: Samples of the prior, shape ``(num_prior_samples, dim_theta)``.

    Returns:
        Array ``(n_obs, dim_theta)``: 1 for a posterior that pins the parameter
        down, 0 for one as wide as the prior, negative for one wider.

    Examples:
        >>> samples = np.array([[[1.0], [3.0]]])  # variance 2
        >>> posterior_contraction(samples, [[0.0], [4.0]]).tolist()  # prior variance 8
        [[0.75]]
    """
    samples = as_samples_array(samples)
    if samples.shape[1] < 2:
        raise ValueError(
            f"samples must hold at least 2 samples per observation for a posterior variance, "
            f"got shape {samples.shape}"
        )
    return _contraction(samples, _prior_variance(prior_samples, samples.shape[2]))


def _contraction(samples: np.ndarray, prior_variance: np.ndarray) -> np.ndarray:
    return 1 - samples.var(axis=1, ddof=1) / prior_variance


def z_score_and_contraction(
    samples: object,
    theta_true: object,
    prior_samples: object,
    *,
    parameter_names: Sequence[str] | None = None,
    num_resamples: int = DEFAULT_NUM_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: SeedLike = 0,
) -> tuple[MetricResult, MetricResult]:
    """Root mean square posterior z-score and mean posterior contraction.

    Args:
        samples: Posterior samples, shape ``(n_obs, num_samples, dim_theta)``.
        theta_true: True parameters, shape ``(n_obs, dim_theta)``.
        prior_samples: Samples of the prior, shape ``(num_prior_samples, dim_theta)``.
        parameter_names: Names of the ``dim_theta`` parameters (default ``theta_1``, ...).
        num_resamples: Bootstrap resamples of the test observations.
        confidence: Mass of the bootstrap interval (default 0.68, i.e. ±1σ).
        seed: Seed for the bootstrap; an int gives both results the same resamples.

    Returns:
        ``(rms_z_score, mean_contraction)``: a :class:`MetricResult` named
        ``"rms_z_score"`` (1 for a calibrated posterior; over all observations
        and dimensions, and per dimension) and one named ``"mean_contraction"``
        (mean over observations, and over dimensions for the overall value).

    Examples:
        >>> rng = np.random.default_rng(1)
        >>> theta = rng.normal(size=(500, 2))
        >>> samples = rng.normal(size=(500, 100, 2))  # the prior itself: right, uninformative
        >>> z, c = z_score_and_contraction(samples, theta, rng.normal(size=(1000, 2)))
        >>> bool(abs(z.value - 1) < 0.1), bool(abs(c.value) < 0.1), z.name, c.name
        (True, True, 'rms_z_score', 'mean_contraction')
    """
    samples, theta_true = check_samples_and_truth(samples, theta_true)
    n_obs, num_samples, dim = samples.shape
    names = resolve_parameter_names(parameter_names, dim)
    z = _z_scores(samples, theta_true)
    contraction = _contraction(samples, _prior_variance(prior_samples, dim))

    counts = f"{n_obs} test observations (and {dim} parameter(s))"
    options = {"num_resamples": num_resamples, "confidence": confidence, "seed": seed}
    z_result = _summary(
        "rms_z_score",
        z**2,
        _root_of_overall_and_per_dimension,
        names,
        f"Root mean square over {counts} of the posterior z-score (mean − θ*) / std of "
        f"{num_samples} posterior samples, 1 when calibrated",
        **options,
    )
    contraction_result = _summary(
        "mean_contraction",
        contraction,
        _overall_and_per_dimension,
        names,
        f"Mean over {counts} of the posterior contraction 1 − var_post / var_prior, from "
        f"{num_samples} posterior samples and the prior samples' variance",
        **options,
    )
    return z_result, contraction_result


def _overall_and_per_dimension(means: np.ndarray) -> np.ndarray:
    """``(r, 1 + dim)``: the mean over dimensions, then each dimension, of ``(r, dim)`` means."""
    return np.concatenate([means.mean(axis=1, keepdims=True), means], axis=1)


def _root_of_overall_and_per_dimension(mean_squares: np.ndarray) -> np.ndarray:
    return np.sqrt(_overall_and_per_dimension(mean_squares))


def _summary(
    name: str,
    values: np.ndarray,
    statistic: Callable[[np.ndarray], np.ndarray],
    names: Sequence[str],
    description: str,
    *,
    num_resamples: int,
    confidence: float,
    seed: SeedLike,
) -> MetricResult:
    value = statistic(values.mean(axis=0)[None])[0]
    replicates = bootstrap_replicates(values, statistic, num_resamples=num_resamples, seed=seed)
    low, high, widened = interval_around(value, replicates, confidence)
    interval = describe_interval(num_resamples, confidence, widened=bool(widened[0]))
    return MetricResult.overall_and_per_dimension(
        name,
        value,
        low,
        high,
        names,
        f"{description}; {interval}.",
        {"num_observations": values.shape[0]},
    )
