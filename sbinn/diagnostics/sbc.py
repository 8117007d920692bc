r"""Simulation-based calibration (Talts, Betancourt, Simpson, Vehtari & Gelman 2018).

Draw :math:`\theta^* \sim p(\theta)`, simulate :math:`x \sim p(x \mid \theta^*)` and
draw :math:`N` samples :math:`s_1, \dots, s_N` from the posterior estimate
:math:`q(\theta \mid x)`. If :math:`q` is the true posterior, :math:`\theta^*` and the
samples are :math:`N + 1` exchangeable draws from :math:`p(\theta \mid x)`, so the
rank of :math:`\theta^*_k` among them,

.. math:: r_k = \#\{j : s_{j,k} < \theta^*_k\} \in \{0, \dots, N\},

is uniform for every parameter :math:`k`, whatever the model. Ties (discrete or
clipped posteriors, repeated ABC particles) would break exchangeability of the
order, so a tied :math:`\theta^*_k` is placed at a uniformly random position
among its ties. A hump-shaped rank histogram means an under-confident posterior,
a U shape an over-confident one, and a slope a biased one.

:func:`sbc_uniformity` tests uniformity per parameter with Pearson's
:math:`\chi^2` test on the ranks grouped into :math:`B` bins of consecutive
ranks; each bin's expected count is exact even where :math:`B` does not divide
:math:`N + 1`. The overall p-value is Bonferroni's: :math:`\min(1, d \min_k p_k)`
for :math:`d` parameters, a valid test of "all marginals are calibrated".

:func:`sbc_ecdf_band` gives the graphical test of Säilynoja, Bürkner & Vehtari
(2022): the difference :math:`F_n(z) - z` between the empirical CDF of :math:`n`
fractional ranks and the uniform CDF, with a band that holds the *whole* curve
with the requested probability. Under uniformity :math:`n F_n(z) \sim
\mathrm{Binomial}(n, z)` at each :math:`z`; the band is the pointwise binomial
interval at a level :math:`\gamma` lowered, by simulation, until whole curves of
:math:`n` uniforms stay inside with the requested probability. Fractional ranks
:math:`u = (r + V) / (N + 1)` with :math:`V \sim U(0, 1)` spread each rank over
its bin, so that they are exactly uniform on :math:`(0, 1)` for every :math:`N`.

Examples:
    >>> rng = np.random.default_rng(0)
    >>> theta = rng.normal(size=(300, 1))
    >>> samples = theta[:, None, :] + 0.3 * rng.normal(size=(300, 100, 1))  # truth at the centre
    >>> bool(sbc_uniformity(samples, theta).value < 0.01)
    True
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
from scipy import special, stats

from sbinn._validation import (
    check_positive_int,
    check_probability,
    resolve_parameter_names,
)
from sbinn.diagnostics.bootstrap import DEFAULT_CONFIDENCE, DEFAULT_NUM_RESAMPLES
from sbinn.diagnostics.result import MetricResult, check_samples_and_truth
from sbinn.simulator import SeedLike, as_generator

__all__ = ["sbc_ecdf_band", "sbc_ranks", "sbc_uniformity"]

# Bounds the (observations x samples x dims) comparison array built at once to about 32 MB.
_MAX_COMPARISONS = 2**25
# Talts et al. use 20 bins; fewer when there are fewer than 10 observations per bin, so
# that the χ² approximation of Pearson's statistic holds.
_MAX_BINS = 20
_MIN_EXPECTED_PER_BIN = 10
# The ECDF flag has this overall false-alarm rate, split over dimensions (Bonferroni).
_BAND_FALSE_ALARM = 0.05
_BAND_POINTS = 201


def sbc_ranks(samples: object, theta_true: object, *, seed: SeedLike = 0) -> np.ndarray:
    """Rank of each true parameter among its posterior samples, ties broken at random.

    Args:
        samples: Posterior samples, shape ``(n_obs, num_samples, dim_theta)``.
        theta_true: True parameters, shape ``(n_obs, dim_theta)``.
        seed: Seed or Generator for breaking ties.

    Returns:
        Integer array ``(n_obs, dim_theta)`` with entries in ``0 .. num_samples``:
        the number of samples below ``θ*`` plus a uniform draw from
        ``0 .. #ties``. Uniform for a calibrated posterior.

    Examples:
        >>> samples = np.array([[[0.0], [1.0], [1.0], [2.0]]])
        >>> sbc_ranks(samples, [[1.5]]).tolist()
        [[3]]
        >>> int(sbc_ranks(samples, [[1.0]], seed=3)[0, 0]) in (1, 2, 3)
        True
    """
    samples, theta_true = check_samples_and_truth(samples, theta_true)
    return _ranks(samples, theta_true, as_generator(seed))


def _ranks(samples: np.ndarray, theta_true: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n_obs, num_samples, dim = samples.shape
    below = np.empty((n_obs, dim), dtype=np.int64)
    ties = np.empty((n_obs, dim), dtype=np.int64)
    chunk = max(1, _MAX_COMPARISONS // (num_samples * dim))
    for start in range(0, n_obs, chunk):
        block = samples[start : start + chunk]
        truth = theta_true[start : start + chunk, None, :]
        below[start : start + chunk] = (block < truth).sum(axis=1)
        ties[start : start + chunk] = (block == truth).sum(axis=1)
    return below + rng.integers(0, ties + 1)


def sbc_ecdf_band(
    num_obs: int,
    *,
    confidence: float = 0.95,
    num_points: int = _BAND_POINTS,
    num_simulations: int = 2000,
    seed: SeedLike = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Simultaneous band for the ECDF difference ``F_n(z) − z`` of ``num_obs`` uniform ranks.

    The band is the pointwise two-sided binomial interval at the level ``γ``
    that ``num_simulations`` simulated ECDFs of uniforms need for a fraction
    ``confidence`` of them to stay inside at every grid point (Säilynoja et al.
    2022); see the module docstring.

    Args:
        num_obs: Number of ranks (test observations) the ECDF is made of.
        confidence: Probability that a whole curve of uniform ranks stays in the band.
        num_points: Size of the grid ``z = 0, 1/(num_points−1), ..., 1`` (at least 3).
        num_simulations: Simulated ECDFs used to adjust the pointwise level.
        seed: Seed or Generator for the simulation.

    Returns:
        ``(z, lower, upper)``, each of shape ``(num_points,)``; ``lower`` and
        ``upper`` bound ``F_n(z) − z`` and are 0 at ``z = 0`` and ``z = 1``.

    Examples:
        >>> z, lower, upper = sbc_ecdf_band(100)
        >>> z.shape, bool(np.all(lower <= 0) and np.all(upper >= 0))
        ((201,), True)
        >>> pointwise = stats.binom.ppf(0.975, 100, 0.5) / 100 - 0.5  # wider: simultaneous
        >>> bool(upper[100] > pointwise)
        True
    """
    num_obs = check_positive_int(num_obs, "num_obs")
    confidence = check_probability(confidence, "confidence", include_one=False)
    num_points = check_positive_int(num_points, "num_points")
    if num_points < 3:
        raise ValueError(f"num_points must be at least 3, got {num_points}")
    num_simulations = check_positive_int(num_simulations, "num_simulations")
    rng = as_generator(seed)
    z = np.linspace(0.0, 1.0, num_points)
    num_bins = num_points - 1
    # On an even grid, the counts of uniforms between grid points are multinomial: the
    # simulation costs the same for any num_obs.
    counts = rng.multinomial(num_obs, np.full(num_bins, 1.0 / num_bins), size=num_simulations)
    inner = z[1:-1]
    below = np.cumsum(counts, axis=1)[:, :-1]
    # Only the smaller binomial tail matters. The binomial median is ⌊nz⌋ or ⌈nz⌉, so the tail
    # on the far side of the mean is at least 1/2: far above any level used, never needed.
    low_side = below <= num_obs * inner
    tail = special.bdtr(
        np.where(low_side, below, num_obs - below), num_obs, np.where(low_side, inner, 1 - inner)
    )
    smallest = np.sort(tail.min(axis=1))
    # The largest level γ/2 that a fraction `confidence` of simulated curves reach everywhere;
    # nudged down so that the curve that sets it counts as inside despite rounding in ppf.
    half_gamma = smallest[int(np.floor((1 - confidence) * num_simulations))] * (1 - 1e-9)
    lower = stats.binom.ppf(half_gamma, num_obs, z)
    upper = num_obs - stats.binom.ppf(half_gamma, num_obs, 1 - z)
    return z, lower / num_obs - z, upper / num_obs - z


@functools.lru_cache(maxsize=32)
def _band(num_obs: int, confidence: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # The band depends on the number of observations only, not on the data: a fixed seed
    # makes it the same in every call, so repeated checks of one test set size reuse it.
    arrays = sbc_ecdf_band(num_obs, confidence=confidence, seed=0)
    for array in arrays:
        array.flags.writeable = False
    return arrays


def _ecdf_difference(fractional: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``F_n(z) − z`` per dimension, shape ``(z.size, dim)``, of ``(n_obs, dim)`` values."""
    ordered = np.sort(fractional, axis=0)
    below = [np.searchsorted(column, z, side="right") for column in ordered.T]
    return np.stack(below, axis=1) / fractional.shape[0] - z[:, None]


def _default_num_bins(n_obs: int, num_samples: int) -> int:
    return int(min(num_samples + 1, _MAX_BINS, max(2, n_obs // _MIN_EXPECTED_PER_BIN)))


def _chi_square_p_values(ranks: np.ndarray, num_samples: int, num_bins: int) -> np.ndarray:
    n_obs, dim = ranks.shape
    bin_of_rank = np.arange(num_samples + 1) * num_bins // (num_samples + 1)
    expected = n_obs * np.bincount(bin_of_rank, minlength=num_bins) / (num_samples + 1)
    flat = (bin_of_rank[ranks] + num_bins * np.arange(dim)).ravel()
    observed = np.bincount(flat, minlength=num_bins * dim).reshape(dim, num_bins)
    statistic = ((observed - expected) ** 2 / expected).sum(axis=1)
    return stats.chi2.sf(statistic, num_bins - 1)


def sbc_uniformity(
    samples: object,
    theta_true: object,
    *,
    parameter_names: Sequence[str] | None = None,
    num_bins: int | None = None,
    num_resamples: int = DEFAULT_NUM_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: SeedLike = 0,
) -> MetricResult:
    """SBC p-value: Bonferroni-adjusted χ² test of uniform ranks over all parameters.

    A small value (below 0.01, say) means the ranks are not uniform: the
    posterior is miscalibrated in at least one parameter. A large value is no
    proof of calibration; it only says that these observations cannot tell.

    A p-value has no bootstrap interval worth reporting: it is a statement
    about the test observations at hand, not an estimate of a population
    quantity, and resampling observations with replacement duplicates ranks,
    which under uniformity drives the p-value down. So ``low = high = value``,
    and ``method`` says so.

    Args:
        samples: Posterior samples, shape ``(n_obs, num_samples, dim_theta)``.
        theta_true: True parameters, shape ``(n_obs, dim_theta)``.
        parameter_names: Names of the ``dim_theta`` parameters (default ``theta_1``, ...).
        num_bins: Bins of consecutive ranks for the χ² test, 2 to ``num_samples + 1``;
            default ``min(20, n_obs // 10)`` (at least 2, at most ``num_samples + 1``).
        num_resamples: Accepted, and checked, so that every diagnostic takes the
            same options; unused (see above).
        confidence: Accepted and checked for the same reason; unused.
        seed: Seed for breaking ties and for spreading ranks into fractional ranks (the
            ECDF band has a fixed seed: it depends on ``n_obs`` only).

    Returns:
        A :class:`MetricResult` named ``"sbc_uniformity_p"`` whose ``per_dimension``
        holds each parameter's unadjusted p-value and whose ``details`` hold
        ``"ranks"`` (nested list ``n_obs × dim_theta``), ``"num_samples"``,
        ``"num_bins"``, ``"ecdf_band_outside"`` (whether any parameter's ECDF
        difference leaves its simultaneous band, of level ``1 − 0.05/dim_theta``
        so that a calibrated posterior raises the flag with probability 0.05 at
        most), ``"ecdf_band_outside_per_dimension"`` and ``"ecdf"`` (grid ``"z"``,
        band ``"lower"`` and ``"upper"``, and each parameter's ``"difference"``).

    Examples:
        >>> rng = np.random.default_rng(1)
        >>> theta, noise = rng.normal(size=(400, 2)), 0.5
        >>> x = theta + noise * rng.normal(size=(400, 2))
        >>> post_std = noise / np.sqrt(1 + noise**2)
        >>> samples = (x / (1 + noise**2))[:, None] + post_std * rng.normal(size=(400, 100, 2))
        >>> result = sbc_uniformity(samples, theta, parameter_names=["a", "b"])
        >>> bool(result.value > 0.01), result.details["ecdf_band_outside"]
        (True, False)
    """
    samples, theta_true = check_samples_and_truth(samples, theta_true)
    n_obs, num_samples, dim = samples.shape
    names = resolve_parameter_names(parameter_names, dim)
    check_positive_int(num_resamples, "num_resamples")
    check_probability(confidence, "confidence", include_one=False)
    if num_bins is None:
        num_bins = _default_num_bins(n_obs, num_samples)
    elif check_positive_int(num_bins, "num_bins") < 2 or num_bins > num_samples + 1:
        raise ValueError(
            f"num_bins must lie in 2 .. num_samples + 1 = {num_samples + 1}, got {num_bins}"
        )
    rng = as_generator(seed)
    ranks = _ranks(samples, theta_true, rng)
    p_values = _chi_square_p_values(ranks, num_samples, num_bins)
    overall = min(1.0, dim * float(p_values.min()))
    values = np.concatenate([[overall], p_values])

    fractional = (ranks + rng.random(ranks.shape)) / (num_samples + 1)
    band_confidence = 1 - _BAND_FALSE_ALARM / dim
    z, lower, upper = _band(n_obs, band_confidence)
    difference = _ecdf_difference(fractional, z)
    outside = np.any((difference < lower[:, None]) | (difference > upper[:, None]), axis=0)
    method = (
        f"Bonferroni-adjusted minimum over {dim} parameter(s) of the p-values of Pearson's "
        f"χ² test of uniform SBC ranks of {n_obs} test observations among {num_samples} "
        f"posterior samples, grouped into {num_bins} bins of consecutive ranks; a p-value "
        "has no meaningful bootstrap interval, so low = high = value."
    )
    return MetricResult.overall_and_per_dimension(
        "sbc_uniformity_p",
        values,
        values,
        values,
        names,
        method,
        {
            "ranks": ranks.tolist(),
            "num_observations": n_obs,
            "num_samples": num_samples,
            "num_bins": num_bins,
            "ecdf_band_outside": bool(outside.any()),
            "ecdf_band_outside_per_dimension": dict(zip(names, outside.tolist(), strict=True)),
            "ecdf": {
                "z": z.tolist(),
                "lower": lower.tolist(),
                "upper": upper.tolist(),
                "confidence": band_confidence,
                "difference": {n: difference[:, k].tolist() for k, n in enumerate(names)},
            },
        },
    )
