"""Parameter recovery: posterior estimate against the true value, one panel per parameter.

Points on the diagonal are recovered parameters. Error bars show the posterior
width: the standard deviation around the posterior mean, or a central
credible interval around the posterior median. The median goes with the
interval because it always lies inside it, whereas the mean of a skewed
posterior can fall outside its own interval.

Examples:
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> rng = np.random.default_rng(0)
    >>> theta = rng.normal(size=(30, 2))
    >>> samples = theta[:, None] + 0.3 * rng.normal(size=(30, 50, 2))
    >>> fig = plot_recovery(samples, theta, error_bars="interval")
    >>> [ax.get_xlabel() for ax in fig.axes]
    ['true theta_1', 'true theta_2']
    >>> plt.close(fig)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from matplotlib.figure import Figure

from sbinn._validation import check_probability, resolve_parameter_names
from sbinn.report.plots._common import (
    as_method_samples,
    check_choice,
    check_theta_true,
    method_color,
    panel_grid,
)

__all__ = ["plot_recovery"]

_ERROR_BARS = ("std", "interval")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def _estimate_and_errors(
    samples: np.ndarray, error_bars: str, level: float
) -> tuple[np.ndarray, np.ndarray]:
    """Point estimate ``(n_obs, dim)`` and non-negative error bars ``(2, n_obs, dim)``."""
    if error_bars == "std":
        std = samples.std(axis=1)
        return samples.mean(axis=1), np.stack([std, std])
    low, median, high = np.quantile(samples, [(1 - level) / 2, 0.5, (1 + level) / 2], axis=1)
    return median, np.stack([median - low, high - median])


def plot_recovery(
    samples: object,
    theta_true: object,
    *,
    parameter_names: Sequence[str] | None = None,
    error_bars: Literal["std", "interval"] = "std",
    level: float = 0.68,
    ncols: int | None = None,
) -> Figure:
    """True value (x) against the posterior estimate (y) with error bars, per parameter.

    Args:
        samples: Posterior samples ``(n_obs, num_samples, dim_theta)``, or a mapping from
            method name to such samples (one marker and colour per method).
        theta_true: True parameters, ``(n_obs, dim_theta)``.
        parameter_names: Names of the parameters (default ``theta_1``, ...).
        error_bars: ``"std"``: posterior mean ± posterior standard deviation;
            ``"interval"``: posterior median with the central ``level`` credible interval.
        level: Mass of the credible interval for ``error_bars="interval"``.
        ncols: Panels per row (default: at most 4).

    Returns:
        A figure with ``dim_theta`` axes, each with the diagonal ``y = x``.

    Raises:
        ValueError: on wrong shapes, NaN/inf, mismatched names or an unknown ``error_bars``.
    """
    error_bars = check_choice(error_bars, _ERROR_BARS, "error_bars")
    level = check_probability(level, "level", include_one=False)
    methods = as_method_samples(samples)
    dim = methods[0][1].shape[2]
    names = resolve_parameter_names(parameter_names, dim)
    estimate_name = "posterior mean" if error_bars == "std" else "posterior median"

    fig, axes = panel_grid(dim, ncols)
    low, high = np.full(dim, np.inf), np.full(dim, -np.inf)
    for i, (label, method_samples) in enumerate(methods):
        theta = check_theta_true(theta_true, method_samples, label)
        estimate, errors = _estimate_and_errors(method_samples, error_bars, level)
        for k, ax in enumerate(axes):
            ax.errorbar(
                theta[:, k],
                estimate[:, k],
                yerr=errors[:, :, k],
                fmt=_MARKERS[i % len(_MARKERS)],
                markersize=3,
                elinewidth=0.7,
                alpha=0.8,
                color=method_color(i),
                label=label,
            )
        low = np.minimum(low, np.minimum(theta, estimate - errors[0]).min(axis=0))
        high = np.maximum(high, np.maximum(theta, estimate + errors[1]).max(axis=0))
    for k, ax in enumerate(axes):
        ax.plot([low[k], high[k]], [low[k], high[k]], color="0.5", linewidth=0.8, zorder=0)
        ax.set_xlabel(f"true {names[k]}")
        if ax.get_subplotspec().is_first_col():
            ax.set_ylabel(estimate_name)
    if methods[0][0] is not None:
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside upper center", ncols=len(labels), frameon=False)
    return fig
