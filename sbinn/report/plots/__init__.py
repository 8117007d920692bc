"""Plots of posteriors and their diagnostics, each returned as a matplotlib ``Figure``.

Every plot takes arrays: posterior samples ``(n_obs, num_samples, dim_theta)``
(or, for plots that compare methods, a mapping from method name to such
samples), true parameters ``(n_obs, dim_theta)`` and optional
``parameter_names``. None calls ``plt.show``; close figures you no longer need
with ``plt.close(fig)``.

Examples:
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> theta = rng.normal(size=(50, 2))
    >>> samples = theta[:, None] + rng.normal(size=(50, 40, 2))
    >>> fig = plot_recovery(samples, theta, parameter_names=["mass", "age"])
    >>> len(fig.axes)
    2
    >>> plt.close(fig)
"""

from __future__ import annotations

from sbinn.report.plots.calibration import plot_calibration_curves
from sbinn.report.plots.coverage import plot_coverage
from sbinn.report.plots.posterior import plot_corner, plot_posterior_overlay
from sbinn.report.plots.recovery import plot_recovery
from sbinn.report.plots.resimulation import (
    plot_resimulation_distances,
    plot_resimulation_errors,
)
from sbinn.report.plots.sbc import plot_sbc

__all__ = [
    "plot_calibration_curves",
    "plot_corner",
    "plot_coverage",
    "plot_posterior_overlay",
    "plot_recovery",
    "plot_resimulation_distances",
    "plot_resimulation_errors",
    "plot_sbc",
]
