r"""Calibration curves :math:`\alpha_\mathrm{inl} - \alpha` against :math:`\alpha`, per parameter.

This is Fig. 4.10 of Ardizzone's thesis: a calibrated posterior's curve stays at
zero; it dips below where the posterior is over-confident and rises above
where it is under-confident (see :mod:`sbinn.diagnostics.calibration`). The
shaded band around each curve is a percentile bootstrap band over the test
observations, pointwise in :math:`\alpha`: it shows how much of a wiggle is
noise from a finite test set. All resamples are one matrix product of the
per-observation inside-the-interval indicators, so the band costs about as much
as the curve.

Examples:
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> rng = np.random.default_rng(0)
    >>> theta = rng.normal(size=(200, 2))
    >>> samples = theta[:, None] + rng.normal(size=(200, 100, 2))
    >>> fig = plot_calibration_curves(samples, theta, parameter_names=["m", "b"])
    >>> [ax.get_title() for ax in fig.axes]
    ['m', 'b']
    >>> plt.close(fig)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from sbinn._validation import check_positive_int, check_probability, resolve_parameter_names
from sbinn.diagnostics.bootstrap import bootstrap_replicates, percentile_interval
from sbinn.diagnostics.calibration import calibration_curve, posterior_cdf_values
from sbinn.report.plots._common import (
    as_method_samples,
    check_theta_true,
    method_color,
    panel_grid,
)
from sbinn.simulator import SeedLike

__all__ = ["plot_calibration_curves"]


def _bootstrap_band(
    samples: np.ndarray,
    theta_true: np.ndarray,
    alphas: np.ndarray,
    num_resamples: int,
    confidence: float,
    seed: SeedLike,
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise percentile band ``(low, high)``, each ``(n_alphas, dim)``, of ``α_inl − α``."""
    cdf_values = posterior_cdf_values(samples, theta_true)
    # The truth is inside the central α-interval iff its CDF value is within α/2 of 1/2.
    inside = np.abs(cdf_values - 0.5)[:, None, :] <= alphas[None, :, None] / 2
    replicates = bootstrap_replicates(
        inside.astype(np.float64), num_resamples=num_resamples, seed=seed
    )
    low, high = percentile_interval(replicates, confidence)
    return low - alphas[:, None], high - alphas[:, None]


def plot_calibration_curves(
    samples: object,
    theta_true: object,
    *,
    parameter_names: Sequence[str] | None = None,
    alphas: object = None,
    num_resamples: int | None = 200,
    confidence: float = 0.95,
    seed: SeedLike = 0,
    ncols: int | None = None,
) -> Figure:
    """One panel per parameter of the calibration curve ``α_inl − α``, for one or several methods.

    Args:
        samples: Posterior samples ``(n_obs, num_samples, dim_theta)``, or a mapping from
            method name to such samples (one curve and legend entry per method).
        theta_true: True parameters, ``(n_obs, dim_theta)``; every method must have
            samples for these ``n_obs`` observations.
        parameter_names: Panel titles (default ``theta_1``, ...).
        alphas: Credibility levels in ``(0, 1)``; default 0.01, 0.02, ..., 0.99.
        num_resamples: Bootstrap resamples of the test observations for the band;
            ``None`` draws no band.
        confidence: Pointwise mass of the bootstrap band (default 0.95).
        seed: Seed for the bootstrap.
        ncols: Panels per row (default: at most 4).

    Returns:
        A figure with ``dim_theta`` axes sharing their y-axis.

    Raises:
        ValueError: on wrong shapes, NaN/inf, mismatched names, or bad ``alphas``.
    """
    methods = as_method_samples(samples)
    dim = methods[0][1].shape[2]
    names = resolve_parameter_names(parameter_names, dim)
    if num_resamples is not None:
        num_resamples = check_positive_int(num_resamples, "num_resamples")
    confidence = check_probability(confidence, "confidence", include_one=False)

    fig, axes = panel_grid(dim, ncols, sharey=True)
    for ax in axes:
        ax.axhline(0.0, color="0.5", linewidth=0.8)
    for i, (label, method_samples) in enumerate(methods):
        theta = check_theta_true(theta_true, method_samples, label)
        levels, curve = calibration_curve(method_samples, theta, alphas=alphas)
        band = None
        if num_resamples is not None:
            band = _bootstrap_band(method_samples, theta, levels, num_resamples, confidence, seed)
        color = method_color(i)
        for k, ax in enumerate(axes):
            ax.plot(levels, curve[:, k], color=color, label=label)
            if band is not None:
                ax.fill_between(levels, band[0][:, k], band[1][:, k], color=color, alpha=0.2)
    for k, ax in enumerate(axes):
        ax.set_title(names[k])
        ax.set_xlabel("α")
        ax.set_xlim(0.0, 1.0)
        if ax.get_subplotspec().is_first_col():
            ax.set_ylabel("α_inl − α")
    if methods[0][0] is not None:
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside upper center", ncols=len(labels), frameon=False)
    return fig
