r"""Simulation-based calibration plots: rank histograms and ECDF differences with bands.

For each parameter, the upper panel is the histogram of fractional SBC ranks
:math:`u = (r + V) / (N + 1)`, :math:`V \sim U(0, 1)`, of the true value among
:math:`N` posterior samples (:func:`~sbinn.diagnostics.sbc.sbc_ranks`). Fractional
ranks are exactly uniform on :math:`(0, 1)` for a calibrated posterior whatever
:math:`N`, so methods with different sample counts share one histogram scale and
one grey band: the pointwise binomial interval of a bin's count. A hump means an
under-confident posterior, a U shape an over-confident one, a slope a biased one.

The lower panel is the ECDF difference :math:`F_n(z) - z` of the same fractional
ranks with the simultaneous band of :func:`~sbinn.diagnostics.sbc.sbc_ecdf_band`
(Säilynoja et al. 2022): a calibrated posterior's whole curve stays inside with
probability ``confidence``. It needs no choice of bins and shows the same
shapes: a curve below zero on the left and above on the right (a ∩ in the
histogram) is under-confidence, the reverse is over-confidence.

Examples:
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> rng = np.random.default_rng(0)
    >>> theta = rng.normal(size=(100, 2))
    >>> samples = theta[:, None] + rng.normal(size=(100, 50, 2))
    >>> fig = plot_sbc(samples, theta)
    >>> len(fig.axes)
    4
    >>> plt.close(fig)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from scipy import stats

from sbinn._validation import check_positive_int, check_probability, resolve_parameter_names
from sbinn.diagnostics.sbc import sbc_ecdf_band, sbc_ranks
from sbinn.report.plots._common import (
    PANEL_SIZE,
    as_method_samples,
    check_choice,
    check_ncols,
    check_theta_true,
    method_color,
)
from sbinn.simulator import SeedLike, as_generator

__all__ = ["plot_sbc"]

_KINDS = ("both", "histogram", "ecdf")
# Talts et al. use 20 bins; fewer when a bin would expect under 10 ranks.
_MAX_BINS = 20
_MIN_EXPECTED_PER_BIN = 10


def _fractional_ranks(
    samples: np.ndarray, theta_true: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    ranks = sbc_ranks(samples, theta_true, seed=rng)
    return (ranks + rng.random(ranks.shape)) / (samples.shape[1] + 1)


def _ecdf_difference(values: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``F_n(z) − z`` of the 1-D ``values`` on the grid ``z``."""
    return np.searchsorted(np.sort(values), z, side="right") / values.size - z


def _draw_histogram_band(ax: Axes, n_obs: int, num_bins: int, confidence: float) -> None:
    width = 1.0 / num_bins
    low, high = stats.binom.ppf([(1 - confidence) / 2, (1 + confidence) / 2], n_obs, width)
    ax.axhspan(low, high, color="0.88", zorder=0)
    ax.axhline(n_obs * width, color="0.5", linewidth=0.8, zorder=0)


def _layout(
    dim: int, rows_per_parameter: int, ncols: int | None
) -> tuple[Figure, list[list[Axes]]]:
    """Per parameter, ``rows_per_parameter`` axes stacked vertically; blocks in rows of ncols."""
    ncols = check_ncols(ncols, dim)
    block_rows = math.ceil(dim / ncols)
    nrows = block_rows * rows_per_parameter
    fig, grid = plt.subplots(
        nrows,
        ncols,
        figsize=(PANEL_SIZE[0] * ncols, 0.8 * PANEL_SIZE[1] * nrows),
        squeeze=False,
        layout="constrained",
    )
    blocks = []
    for k in range(block_rows * ncols):
        row, col = divmod(k, ncols)
        axes = [grid[row * rows_per_parameter + j, col] for j in range(rows_per_parameter)]
        if k < dim:
            blocks.append(axes)
        else:
            for ax in axes:
                fig.delaxes(ax)
    return fig, blocks


def plot_sbc(
    samples: object,
    theta_true: object,
    *,
    parameter_names: Sequence[str] | None = None,
    kind: Literal["both", "histogram", "ecdf"] = "both",
    num_bins: int | None = None,
    confidence: float = 0.95,
    seed: SeedLike = 0,
    ncols: int | None = None,
) -> Figure:
    """SBC rank histograms and ECDF differences per parameter, with their bands.

    Args:
        samples: Posterior samples ``(n_obs, num_samples, dim_theta)``, or a mapping from
            method name to such samples (overlaid as step histograms and curves).
        theta_true: True parameters ``(n_obs, dim_theta)``, drawn from the prior.
        parameter_names: Panel titles (default ``theta_1``, ...).
        kind: ``"both"`` (histogram above ECDF difference), ``"histogram"`` or ``"ecdf"``.
        num_bins: Histogram bins; default ``min(20, n_obs // 10)``, at least 2.
        confidence: Pointwise mass of the histogram band and simultaneous mass of the
            ECDF band, per parameter.
        seed: Seed for breaking ties, spreading ranks into fractional ranks and
            simulating the ECDF band.
        ncols: Parameters per row (default: at most 4).

    Returns:
        A figure with ``dim_theta`` axes per panel kind (``2 * dim_theta`` for ``"both"``).

    Raises:
        ValueError: on wrong shapes, NaN/inf, mismatched names or an unknown ``kind``.
    """
    kind = check_choice(kind, _KINDS, "kind")
    confidence = check_probability(confidence, "confidence", include_one=False)
    methods = as_method_samples(samples)
    n_obs, _, dim = methods[0][1].shape
    names = resolve_parameter_names(parameter_names, dim)
    if num_bins is None:
        num_bins = min(_MAX_BINS, max(2, n_obs // _MIN_EXPECTED_PER_BIN))
    num_bins = check_positive_int(num_bins, "num_bins")
    # Separate streams, so that the band does not depend on how many methods are drawn.
    rank_rng, band_rng = as_generator(seed).spawn(2)
    fractional = [
        _fractional_ranks(s, check_theta_true(theta_true, s, label), rank_rng)
        for label, s in methods
    ]

    kinds = ("histogram", "ecdf") if kind == "both" else (kind,)
    fig, blocks = _layout(dim, len(kinds), ncols)
    band = sbc_ecdf_band(n_obs, confidence=confidence, seed=band_rng) if "ecdf" in kinds else None
    edges = np.linspace(0.0, 1.0, num_bins + 1)
    for k, axes in enumerate(blocks):
        panels = dict(zip(kinds, axes, strict=True))
        axes[0].set_title(names[k])
        if "histogram" in panels:
            ax = panels["histogram"]
            _draw_histogram_band(ax, n_obs, num_bins, confidence)
            for i, (label, _) in enumerate(methods):
                ax.hist(
                    fractional[i][:, k],
                    bins=edges,
                    histtype="step",
                    color=method_color(i),
                    label=label,
                )
            ax.set_xlim(0.0, 1.0)
            ax.set_xlabel("fractional rank")
            ax.set_ylabel("count")
        if band is not None:
            ax = panels["ecdf"]
            z, lower, upper = band
            ax.fill_between(z, lower, upper, color="0.88", zorder=0)
            ax.axhline(0.0, color="0.5", linewidth=0.8, zorder=0)
            for i, (label, _) in enumerate(methods):
                difference = _ecdf_difference(fractional[i][:, k], z)
                ax.plot(z, difference, color=method_color(i), label=label)
            ax.set_xlim(0.0, 1.0)
            ax.set_xlabel("z")
            ax.set_ylabel("ECDF(z) − z")
    if methods[0][0] is not None:
        handles, labels = blocks[0][-1].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside upper center", ncols=len(labels), frameon=False)
    return fig
