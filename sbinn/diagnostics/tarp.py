r"""Tests of Accuracy with Random Points (TARP; Lemos, Coogan, Hezaveh & Perreault-Levasseur 2023).

For each test observation, draw a reference point :math:`\theta_r` independently
of :math:`\theta^*` and take the ball around :math:`\theta_r` that reaches
:math:`\theta^*`. Its posterior mass, estimated by the fraction of posterior
samples inside,

.. math:: f = \frac{\#\{j : \lVert s_j - \theta_r \rVert < \lVert \theta^* - \theta_r \rVert\}}{N},

is uniform on :math:`(0, 1)` for a correct posterior, because :math:`\theta^*`
and the samples are exchangeable draws from it and the distance to
:math:`\theta_r` treats them alike. The expected coverage probability
:math:`\mathrm{ECP}(\alpha)`, the fraction of test observations with
:math:`f \le \alpha`, is then :math:`\alpha` at every level. Lemos et al. show
the converse too: if :math:`\mathrm{ECP}(\alpha) = \alpha` for every
distribution of reference points, the posterior is right, so, unlike the
coverage of one fixed family of regions, TARP is a necessary *and sufficient*
check in the limit. The TARP error is :math:`\max_\alpha |\mathrm{ECP}(\alpha) -
\alpha|`. As in :mod:`sbinn.diagnostics.coverage`, :math:`f` is the mid-rank
value :math:`(\#\{<\} + \tfrac12 \#\{=\} + \tfrac12) / (N + 1)`, exactly uniform
over the :math:`N + 1` rank bins.

Distances are Euclidean after z-scoring every parameter with the mean and
standard deviation of all posterior samples pooled, so that no parameter's
units dominate. By default each reference is drawn uniformly in the box the
pooled, z-scored samples span. Lemos et al. span the box with the true
parameters instead; the samples give nearly the same box (pooled over
observations they follow the prior when the posterior is right) and, unlike the
true parameters, carry no information about any :math:`\theta^*`, which keeps
the reference independent of it and the check exact.

Examples:
    >>> rng = np.random.default_rng(0)
    >>> theta = rng.normal(size=(500, 2))
    >>> samples = rng.normal(size=(500, 100, 2))  # the prior: right, but uninformative
    >>> bool(tarp(samples, theta).value < 0.1)
    True
"""

from __future__ import annotations

import numpy as np

from sbinn._validation import as_2d_float_array
from sbinn.diagnostics.bootstrap import DEFAULT_CONFIDENCE, DEFAULT_NUM_RESAMPLES
from sbinn.diagnostics.coverage import _check_levels, _coverage_result, _distance_cdf_values
from sbinn.diagnostics.result import MetricResult, check_samples_and_truth
from sbinn.simulator import SeedLike, as_generator

__all__ = ["tarp"]

# Bounds the (observations x samples x dims) difference array built at once to about 32 MB.
_MAX_ENTRIES = 2**22


def _tarp_cdf_values(
    samples: np.ndarray, theta_true: np.ndarray, references: np.ndarray
) -> np.ndarray:
    n_obs, num_samples, dim = samples.shape
    u = np.empty(n_obs)
    chunk = max(1, _MAX_ENTRIES // (num_samples * dim))
    for start in range(0, n_obs, chunk):
        reference = references[start : start + chunk, None, :]
        sample_distances = ((samples[start : start + chunk] - reference) ** 2).sum(axis=2)
        true_distances = ((theta_true[start : start + chunk] - reference[:, 0]) ** 2).sum(axis=1)
        u[start : start + chunk] = _distance_cdf_values(sample_distances, true_distances)
    return u


def tarp(
    samples: object,
    theta_true: object,
    *,
    references: object = None,
    levels: object = None,
    num_resamples: int = DEFAULT_NUM_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: SeedLike = 0,
) -> MetricResult:
    """TARP error: ``max_α |ECP(α) − α|`` for balls around random reference points.

    Args:
        samples: Posterior samples, shape ``(n_obs, num_samples, dim_theta)``.
        theta_true: True parameters, shape ``(n_obs, dim_theta)``.
        references: One reference point per observation, shape ``(n_obs, dim_theta)``,
            in the parameters' own units; it may depend on the observation but
            must not depend on ``θ*``. Default: uniform in the box spanned by
            the z-scored posterior samples (see the module docstring).
        levels: Credibility levels in ``(0, 1)``; default 0.01, 0.02, ..., 0.99.
        num_resamples: Bootstrap resamples of the test observations.
        confidence: Mass of the bootstrap interval (default 0.68, i.e. ±1σ).
        seed: Seed for drawing the references and for the bootstrap.

    Returns:
        A :class:`MetricResult` named ``"tarp_error"`` whose ``details`` hold
        ``"levels"``, ``"ecp"`` (the expected coverage probability per level),
        ``"ecp_interval"`` (per level, ``[low, high]`` from the same bootstrap)
        and ``"references"`` (``"random"`` or ``"given"``).

    Examples:
        >>> rng = np.random.default_rng(1)
        >>> theta, noise = rng.normal(size=(1000, 2)), 0.5
        >>> x = theta + noise * rng.normal(size=(1000, 2))
        >>> post_mean, post_std = x / (1 + noise**2), noise / np.sqrt(1 + noise**2)
        >>> noise_draws = rng.normal(size=(1000, 100, 2))
        >>> bool(tarp(post_mean[:, None] + post_std * noise_draws, theta).value < 0.05)
        True
        >>> over_confident = post_mean[:, None] + 0.5 * post_std * noise_draws
        >>> bool(tarp(over_confident, theta).value > 0.1)
        True
    """
    levels = _check_levels(levels)
    samples, theta_true = check_samples_and_truth(samples, theta_true)
    n_obs, num_samples, dim = samples.shape
    rng = as_generator(seed)
    centre = samples.mean(axis=(0, 1))
    spread = samples.std(axis=(0, 1))
    # A parameter without spread cannot be z-scored; leaving it unscaled keeps it constant.
    spread = np.where(spread > 0, spread, 1.0)
    samples = (samples - centre) / spread
    theta_true = (theta_true - centre) / spread
    if references is None:
        low, high = samples.min(axis=(0, 1)), samples.max(axis=(0, 1))
        references = rng.uniform(low, high, size=(n_obs, dim))
        reference_kind = "random"
        reference_text = "drawn uniformly in the box spanned by the samples"
    else:
        references = as_2d_float_array(references, dim, "references")
        if references.shape[0] != n_obs:
            raise ValueError(
                f"references must have one row per observation in samples, i.e. shape "
                f"({n_obs}, {dim}), got shape {references.shape}"
            )
        references = (references - centre) / spread
        reference_kind = "given"
        reference_text = "given"
    inside = (_tarp_cdf_values(samples, theta_true, references)[:, None] <= levels).astype(
        np.float64
    )
    return _coverage_result(
        "tarp_error",
        "ecp",
        inside,
        levels,
        f"Maximum over {levels.size} credibility levels α in [{levels.min():g}, "
        f"{levels.max():g}] of |ECP(α) − α|, ECP being the fraction of {n_obs} test "
        "observations whose true value lies in the ball around a reference point "
        f"({reference_text}) that holds a fraction α of its {num_samples} posterior samples, "
        "in parameters z-scored over all samples",
        num_resamples=num_resamples,
        confidence=confidence,
        seed=rng,
        details={"references": reference_kind, "num_samples": num_samples},
    )
