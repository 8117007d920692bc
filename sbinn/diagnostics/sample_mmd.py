r"""Maximum mean discrepancy between posterior samples and reference posterior samples.

For every test observation :math:`x_i`, the squared MMD (Gretton et al., 2012;
see :mod:`sbinn.mmd`) between the posterior samples
:math:`\hat\theta \sim \hat p(\theta \mid x_i)` and reference samples
:math:`\theta \sim p(\theta \mid x_i)`, e.g. draws from an analytic posterior,
is estimated with the unbiased U-statistic, and the metric is the mean over
observations,

.. math::
    \overline{\mathrm{MMD}^2} = \frac{1}{n} \sum_{i=1}^{n}
        \widehat{\mathrm{MMD}}^2_u\bigl(\hat p(\cdot \mid x_i),\, p(\cdot \mid x_i)\bigr).

The mean of unbiased estimates is unbiased for the mean squared MMD, so it
scatters around 0, negative values included, when every posterior is exact.
The squared MMD is reported rather than its square root for that reason: the
root of a noisy estimate near 0 is biased upwards.

Kernel: by default a Gaussian kernel whose width, per observation, is the
median pairwise distance between that observation's *reference* samples (the
median heuristic). The width then follows each posterior's own scale, so that
values are comparable across observations and parameter units, and with a
Gaussian kernel (:math:`k(0) = 1`) the squared MMD lies in :math:`[0, 2]`. The
width is taken from the reference only: a too-wide approximate posterior would
otherwise widen its own kernel and hide part of its error.

The interval is a percentile bootstrap over observations
(:mod:`sbinn.diagnostics.bootstrap`). Gram matrices cost :math:`O(N^2)` memory
and time per observation, so each set is subsampled at random to at most
``max_samples`` samples (2,000 by default: three 2,000 × 2,000 float64 matrices,
about 100 MB).

Examples:
    >>> rng = np.random.default_rng(0)
    >>> reference = rng.normal(size=(20, 300, 2))
    >>> exact = posterior_mmd(rng.normal(size=(20, 300, 2)), reference)
    >>> shifted = posterior_mmd(rng.normal(size=(20, 300, 2)) + 1.0, reference)
    >>> exact.name, bool(abs(exact.value) < 0.01), bool(shifted.value > 0.1)
    ('mmd', True, True)
"""

from __future__ import annotations

import numpy as np
import torch

from sbinn._validation import as_2d_float_array, as_samples_array, check_positive_int
from sbinn.diagnostics.bootstrap import (
    DEFAULT_CONFIDENCE,
    DEFAULT_NUM_RESAMPLES,
    bootstrap_interval,
    describe_interval,
)
from sbinn.diagnostics.result import MetricResult
from sbinn.mmd import Gaussian, Kernel, mmd2, squared_distances
from sbinn.simulator import SeedLike, as_generator

__all__ = ["median_heuristic_width", "posterior_mmd"]


def median_heuristic_width(reference: object) -> float:
    """Median pairwise Euclidean distance between distinct reference samples.

    Args:
        reference: Samples, shape ``(n, d)`` with ``n >= 2``.

    Returns:
        The median over all pairs ``i < j`` of ``||reference[i] - reference[j]||``.

    Raises:
        ValueError: when fewer than two samples are given or the median is 0
            (more than half of the pairs coincide), which leaves no width.

    Examples:
        >>> median_heuristic_width(np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]]))
        5.0
    """
    reference = as_2d_float_array(reference, None, "reference")
    if reference.shape[0] < 2:
        raise ValueError(
            f"the median heuristic needs at least 2 samples, got shape {reference.shape}"
        )
    points = torch.as_tensor(reference)
    rows, columns = torch.triu_indices(points.shape[0], points.shape[0], offset=1)
    width = float(np.sqrt(np.median(squared_distances(points, points)[rows, columns].numpy())))
    if width <= 0:
        raise ValueError(
            "the median heuristic found a median pairwise distance of 0 between reference "
            "samples (more than half of the pairs coincide); pass an explicit kernel, "
            "e.g. kernel=sbinn.mmd.Gaussian(scales=1.0)"
        )
    return width


def _check_kernel(kernel: object) -> Kernel | None:
    if kernel is None or isinstance(kernel, Kernel):
        return kernel
    if isinstance(kernel, type):
        raise TypeError(
            f"kernel must be a kernel instance, e.g. {kernel.__name__}(), got the class itself"
        )
    raise TypeError(
        "kernel must be an sbinn.mmd Kernel, e.g. sbinn.mmd.Gaussian(scales=1.0), or None "
        f"for a Gaussian kernel of median-heuristic width, got {type(kernel).__name__}"
    )


def _subsample(points: np.ndarray, max_samples: int | None, rng: np.random.Generator) -> np.ndarray:
    if max_samples is None or points.shape[0] <= max_samples:
        return points
    return points[np.sort(rng.choice(points.shape[0], max_samples, replace=False))]


def posterior_mmd(
    samples: object,
    reference_samples: object,
    *,
    kernel: Kernel | None = None,
    max_samples: int | None = 2000,
    num_resamples: int = DEFAULT_NUM_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: SeedLike = 0,
) -> MetricResult:
    """Mean over observations of the unbiased squared MMD between posterior and reference samples.

    Args:
        samples: Posterior samples, shape ``(n_obs, num_samples, dim_theta)``.
        reference_samples: Reference samples of the same observations' posteriors,
            shape ``(n_obs, num_reference, dim_theta)``; the sizes may differ.
        kernel: A kernel from :mod:`sbinn.mmd` used for every observation, or
            ``None`` for a Gaussian kernel whose width, per observation, is the
            median pairwise distance of its reference samples.
        max_samples: Subsample each set of each observation at random to at most
            this many samples (bounds the ``O(N^2)`` cost); ``None`` keeps all.
        num_resamples: Bootstrap resamples of the observations.
        confidence: Mass of the bootstrap interval (default 0.68, i.e. ±1σ).
        seed: Seed or Generator for the subsampling and the bootstrap.

    Returns:
        A :class:`MetricResult` named ``"mmd"`` whose ``value`` is the mean squared
        MMD and whose ``details`` hold ``"per_observation"`` values, the kernel
        (``"kernel"``: its config, or ``"median_heuristic"`` with the
        ``"widths"`` used) and the sample counts.

    Examples:
        >>> rng = np.random.default_rng(1)
        >>> result = posterior_mmd(rng.normal(size=(5, 100, 1)), rng.normal(size=(5, 100, 1)),
        ...                        kernel=Gaussian(scales=1.0))
        >>> len(result.details["per_observation"]), result.details["kernel"]["kernel"]
        (5, 'Gaussian')
    """
    samples = as_samples_array(samples)
    reference_samples = as_samples_array(reference_samples, samples.shape[2], "reference_samples")
    n_obs = samples.shape[0]
    if reference_samples.shape[0] != n_obs:
        raise ValueError(
            f"reference_samples must have one row per observation in samples, i.e. shape "
            f"({n_obs}, num_reference, {samples.shape[2]}), got shape {reference_samples.shape}"
        )
    for name, array in (("samples", samples), ("reference_samples", reference_samples)):
        if array.shape[1] < 2:
            raise ValueError(
                f"the unbiased MMD needs at least 2 samples per observation, "
                f"got {name} with shape {array.shape}"
            )
    kernel = _check_kernel(kernel)
    if max_samples is not None:
        max_samples = check_positive_int(max_samples, "max_samples")
        if max_samples < 2:
            raise ValueError(
                f"max_samples must be at least 2 for the unbiased MMD, got {max_samples}"
            )
    subsample_rng, bootstrap_rng = as_generator(seed).spawn(2)

    values, widths = np.empty(n_obs), np.empty(n_obs)
    for i in range(n_obs):
        x = _subsample(samples[i], max_samples, subsample_rng)
        y = _subsample(reference_samples[i], max_samples, subsample_rng)
        if kernel is None:
            try:
                widths[i] = median_heuristic_width(y)
            except ValueError as error:
                raise ValueError(f"observation {i}: {error}") from None
        observation_kernel = kernel or Gaussian(scales=float(widths[i]))
        values[i] = float(
            mmd2(torch.as_tensor(x), torch.as_tensor(y), observation_kernel, unbiased=True)
        )

    low, high = bootstrap_interval(
        values, num_resamples=num_resamples, confidence=confidence, seed=bootstrap_rng
    )
    sizes = [min(a.shape[1], max_samples or a.shape[1]) for a in (samples, reference_samples)]
    if kernel is None:
        how = "a Gaussian kernel of width the median pairwise distance of the reference samples"
        kernel_details: dict = {"kernel": "median_heuristic", "widths": widths.tolist()}
    else:
        how = f"the kernel {kernel!r}"
        kernel_details = {"kernel": kernel.to_config()}
    method = (
        f"Mean over {n_obs} test observations of the unbiased squared MMD, with {how}, "
        f"between each observation's {sizes[0]} posterior and {sizes[1]} reference samples; "
        f"{describe_interval(num_resamples, confidence)}."
    )
    return MetricResult(
        name="mmd",
        value=float(values.mean()),
        low=low,
        high=high,
        method=method,
        details=kernel_details
        | {"per_observation": values.tolist(), "num_samples": sizes, "num_observations": n_obs},
    )
