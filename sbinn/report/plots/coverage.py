r"""Expected coverage curves: empirical coverage of joint credible regions against their level.

The regions and their coverage come from
:func:`~sbinn.diagnostics.coverage.expected_coverage`. A calibrated posterior's
curve follows the diagonal; below it the posterior is over-confident (or
biased), above it under-confident. The shaded band is the pointwise bootstrap
interval of the coverage over the test observations.

Examples:
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> rng = np.random.default_rng(0)
    >>> theta = rng.normal(size=(100, 2))
    >>> samples = {"wide": theta[:, None] + 2 * rng.normal(size=(100, 60, 2)),
    ...            "narrow": theta[:, None] + 0.5 * rng.normal(size=(100, 60, 2))}
    >>> fig = plot_coverage(samples, theta, num_resamples=50)
    >>> [line.get_label() for line in fig.axes[0].get_lines()[1:]]
    ['wide', 'narrow']
    >>> plt.close(fig)
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from sbinn.diagnostics.bootstrap import DEFAULT_NUM_RESAMPLES
from sbinn.diagnostics.coverage import expected_coverage
from sbinn.report.plots._common import as_method_samples, check_theta_true, method_color
from sbinn.simulator import SeedLike

__all__ = ["plot_coverage"]


def plot_coverage(
    samples: object,
    theta_true: object,
    *,
    levels: object = None,
    num_resamples: int = DEFAULT_NUM_RESAMPLES,
    confidence: float = 0.95,
    seed: SeedLike = 0,
) -> Figure:
    """Empirical coverage of the joint credible regions against their credibility level.

    Args:
        samples: Posterior samples ``(n_obs, num_samples, dim_theta)``, or a mapping from
            method name to such samples (one curve and legend entry per method).
        theta_true: True parameters, ``(n_obs, dim_theta)``.
        levels: Credibility levels in ``(0, 1)``; default 0.01, 0.02, ..., 0.99.
        num_resamples: Bootstrap resamples of the test observations for the band.
        confidence: Pointwise mass of the bootstrap band (default 0.95).
        seed: Seed for the bootstrap.

    Returns:
        A figure with one square axis, the diagonal being perfect calibration.

    Raises:
        ValueError: on wrong shapes, NaN/inf, or bad ``levels``.
    """
    methods = as_method_samples(samples)
    fig, ax = plt.subplots(figsize=(4.2, 4.2), layout="constrained")
    ax.plot([0.0, 1.0], [0.0, 1.0], color="0.5", linewidth=0.8, label="_calibrated")
    for i, (label, method_samples) in enumerate(methods):
        theta = check_theta_true(theta_true, method_samples, label)
        result = expected_coverage(
            method_samples,
            theta,
            levels=levels,
            num_resamples=num_resamples,
            confidence=confidence,
            seed=seed,
        )
        color = method_color(i)
        level_grid = np.asarray(result.details["levels"])
        ax.plot(level_grid, result.details["coverage"], color=color, label=label)
        interval = result.details.get("coverage_interval")
        if interval is not None:
            low, high = np.asarray(interval, dtype=np.float64).T
            ax.fill_between(level_grid, low, high, color=color, alpha=0.2)
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.0)
    ax.set_aspect("equal")
    ax.set_xlabel("credibility level α")
    ax.set_ylabel("empirical coverage")
    if methods[0][0] is not None:
        ax.legend(frameon=False, loc="upper left")
    return fig
