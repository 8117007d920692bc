"""Posteriors of one observation: a corner plot against the prior, and several methods overlaid.

:func:`plot_corner` draws the posterior samples of one observation with the
``corner`` package, the prior as a lighter layer beneath (how much the data
narrowed it down), and the true value as lines. :func:`plot_posterior_overlay`
draws several methods' posteriors for the same observation, as one corner plot
of contours or as one panel of marginal histograms per parameter.

Both share one axis range per parameter: the central 99.8% of every layer's
samples and the true value, padded by 5%, so that every layer lies on the plot
and a far tail of one sample does not squash the rest.

Examples:
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> rng = np.random.default_rng(0)
    >>> fig = plot_corner(rng.normal(size=(500, 2)), [0.1, -0.2],
    ...                   prior_samples=rng.uniform(-3, 3, size=(1000, 2)))
    >>> len(fig.axes)
    4
    >>> plt.close(fig)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import corner
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sbinn._validation import as_2d_float_array, check_positive_int, resolve_parameter_names
from sbinn.report.plots._common import (
    PRIOR_COLOR,
    TRUTH_COLOR,
    check_choice,
    method_color,
    one_observation,
    panel_grid,
)

__all__ = ["plot_corner", "plot_posterior_overlay"]

_KINDS = ("marginals", "corner")
_TAIL = 0.001
_PAD = 0.05
# Gaussian smoothing (in bins) of the 2-D histograms behind the contours: without it,
# contours of a few hundred samples are ragged outlines of single bins.
_SMOOTH = 1.0


def _axis_ranges(
    layers: Sequence[np.ndarray], truth: np.ndarray | None
) -> list[tuple[float, float]]:
    """Per parameter, the range holding every layer's central 99.8% and the true value."""
    low = np.min([np.quantile(layer, _TAIL, axis=0) for layer in layers], axis=0)
    high = np.max([np.quantile(layer, 1 - _TAIL, axis=0) for layer in layers], axis=0)
    if truth is not None:
        low, high = np.minimum(low, truth), np.maximum(high, truth)
    # A constant parameter still needs a visible, non-empty range.
    pad = np.where(high > low, _PAD * (high - low), np.maximum(0.5 * np.abs(low), 0.5))
    return [(float(lo), float(hi)) for lo, hi in zip(low - pad, high + pad, strict=True)]


def _check_enough_samples(samples: np.ndarray, name: str) -> None:
    # corner refuses (and contours are meaningless) with no more samples than dimensions.
    if samples.shape[0] <= max(samples.shape[1], 1):
        raise ValueError(
            f"{name} must hold more samples than parameters for a corner plot, "
            f"got shape {samples.shape}"
        )


def _corner_layer(
    samples: np.ndarray, fig: Figure | None, color: str, ranges: list, bins: int, **style
) -> Figure:
    return corner.corner(
        samples,
        fig=fig,
        bins=bins,
        range=ranges,
        color=color,
        smooth=_SMOOTH,
        hist_kwargs={"density": True, "color": color},
        **style,
    )


def _draw_truth(fig: Figure, truth: np.ndarray | None) -> None:
    if truth is None:
        return
    if truth.size == 1:  # corner's overplot_lines indexes a 2-D grid of axes
        fig.axes[0].axvline(truth[0], color=TRUTH_COLOR)
    else:
        corner.overplot_lines(fig, truth, color=TRUTH_COLOR)


def _default_bins(bins: int | None, layers: Sequence[np.ndarray]) -> int:
    if bins is not None:
        return check_positive_int(bins, "bins")
    # About sqrt(n) bins per axis keeps the 2-D histograms behind the contours from
    # being mostly empty for a few hundred samples, and resolves detail for many.
    fewest = min(layer.shape[0] for layer in layers)
    return int(np.clip(np.sqrt(fewest), 10, 40))


def _rescale_diagonal(fig: Figure, dim: int) -> None:
    """Fit each 1-D histogram's y-axis to the tallest layer; corner fits it to the last."""
    for k in range(dim):
        ax = fig.axes[k * dim + k]
        heights = [patch.get_xy()[:, 1].max() for patch in ax.patches if hasattr(patch, "get_xy")]
        if heights:
            ax.set_ylim(0.0, 1.1 * max(heights))


def _label_axes(fig: Figure, names: Sequence[str]) -> None:
    dim = len(names)
    for k, name in enumerate(names):
        fig.axes[(dim - 1) * dim + k].set_xlabel(name)
        if k > 0:
            fig.axes[k * dim].set_ylabel(name)


def plot_corner(
    samples: object,
    theta_true: object = None,
    *,
    observation: int = 0,
    prior_samples: object = None,
    parameter_names: Sequence[str] | None = None,
    bins: int | None = None,
) -> Figure:
    """Corner plot of one observation's posterior, with its true value and the prior.

    Args:
        samples: Posterior samples of all observations, ``(n_obs, num_samples, dim_theta)``,
            or of one, ``(num_samples, dim_theta)``.
        theta_true: True parameters, ``(n_obs, dim_theta)`` or ``(dim_theta,)``; drawn as
            black lines. ``None`` draws none.
        observation: Which observation to plot when ``samples`` holds several.
        prior_samples: Prior samples ``(num_prior_samples, dim_theta)``, drawn as grey
            contours and histograms beneath the posterior.
        parameter_names: Axis labels (default ``theta_1``, ...).
        bins: Histogram bins per parameter (default: about the square root of the
            smallest number of samples, between 10 and 40).

    Returns:
        A figure with ``dim_theta**2`` axes (corner's layout; the upper triangle is hidden).

    Raises:
        ValueError: on wrong shapes, NaN/inf, an observation index out of range, or
            no more samples than parameters.
    """
    posterior, truth = one_observation(samples, theta_true, observation)
    dim = posterior.shape[1]
    names = resolve_parameter_names(parameter_names, dim)
    _check_enough_samples(posterior, "samples")
    layers = [posterior]
    if prior_samples is not None:
        prior = as_2d_float_array(prior_samples, dim, "prior_samples")
        _check_enough_samples(prior, "prior_samples")
        layers.insert(0, prior)
    ranges = _axis_ranges(layers, truth)
    bins = _default_bins(bins, layers)

    fig = None
    if prior_samples is not None:
        fig = _corner_layer(
            layers[0],
            fig,
            PRIOR_COLOR,
            ranges,
            bins,
            plot_datapoints=False,
            plot_density=False,
            no_fill_contours=True,
        )
    fig = _corner_layer(
        posterior,
        fig,
        method_color(0),
        ranges,
        bins,
        labels=list(names),
    )
    _draw_truth(fig, truth)
    _rescale_diagonal(fig, dim)
    handles = [Line2D([], [], color=method_color(0), label="posterior")]
    if prior_samples is not None:
        handles.append(Line2D([], [], color=PRIOR_COLOR, label="prior"))
    if truth is not None:
        handles.append(Line2D([], [], color=TRUTH_COLOR, label="true value"))
    fig.legend(handles=handles, loc="upper right", frameon=False)
    return fig


def _check_methods(
    samples_by_method: object, theta_true: object, observation: int
) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    if not isinstance(samples_by_method, Mapping) or not samples_by_method:
        raise TypeError(
            "samples_by_method must be a non-empty mapping from method name to samples, "
            f"got {type(samples_by_method).__name__}"
        )
    posteriors: dict[str, np.ndarray] = {}
    truth = None
    for label, samples in samples_by_method.items():
        if not isinstance(label, str):
            raise TypeError(f"samples_by_method must be keyed by method names (str), got {label!r}")
        posteriors[label], truth = one_observation(
            samples, theta_true, observation, f"samples_by_method[{label!r}]"
        )
    dims = {label: p.shape[1] for label, p in posteriors.items()}
    if len(set(dims.values())) > 1:
        raise ValueError(f"every method must have the same dim_theta, got {dims}")
    return posteriors, truth


def plot_posterior_overlay(
    samples_by_method: Mapping[str, object],
    theta_true: object = None,
    *,
    observation: int = 0,
    parameter_names: Sequence[str] | None = None,
    kind: Literal["marginals", "corner"] = "marginals",
    bins: int | None = None,
    ncols: int | None = None,
) -> Figure:
    """Several methods' posteriors for one observation, overlaid, with the true value.

    Args:
        samples_by_method: Method name to its samples, ``(n_obs, num_samples, dim_theta)``
            or ``(num_samples, dim_theta)``; methods may differ in ``num_samples``.
        theta_true: True parameters, ``(n_obs, dim_theta)`` or ``(dim_theta,)``, or ``None``.
        observation: Which observation to plot when the samples hold several.
        parameter_names: Axis labels (default ``theta_1``, ...).
        kind: ``"marginals"``: one panel of step histograms per parameter (clear for
            many parameters); ``"corner"``: one corner plot with each method's contours.
        bins: Histogram bins per parameter (default: about the square root of the
            smallest number of samples, between 10 and 40).
        ncols: Panels per row for ``kind="marginals"`` (default: at most 4).

    Returns:
        A figure with ``dim_theta`` axes (marginals) or ``dim_theta**2`` axes (corner).

    Examples:
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import matplotlib.pyplot as plt
        >>> rng = np.random.default_rng(0)
        >>> fig = plot_posterior_overlay(
        ...     {"cINN": rng.normal(size=(400, 3)), "ABC": rng.normal(0.2, 1.2, size=(100, 3))},
        ...     [0.0, 0.5, -0.5], parameter_names=["a", "b", "c"])
        >>> len(fig.axes), [ax.get_xlabel() for ax in fig.axes]
        (3, ['a', 'b', 'c'])
        >>> plt.close(fig)
    """
    kind = check_choice(kind, _KINDS, "kind")
    posteriors, truth = _check_methods(samples_by_method, theta_true, observation)
    dim = next(iter(posteriors.values())).shape[1]
    names = resolve_parameter_names(parameter_names, dim)
    bins = _default_bins(bins, list(posteriors.values()))
    ranges = _axis_ranges(list(posteriors.values()), truth)
    handles = [
        Line2D([], [], color=method_color(i), label=label) for i, label in enumerate(posteriors)
    ]
    if truth is not None:
        handles.append(Line2D([], [], color=TRUTH_COLOR, label="true value"))

    if kind == "corner":
        fig = None
        for i, (label, posterior) in enumerate(posteriors.items()):
            _check_enough_samples(posterior, f"samples_by_method[{label!r}]")
            fig = _corner_layer(
                posterior,
                fig,
                method_color(i),
                ranges,
                bins,
                plot_datapoints=False,
                plot_density=False,
                no_fill_contours=True,
            )
        _draw_truth(fig, truth)
        _rescale_diagonal(fig, dim)
        _label_axes(fig, names)
        fig.legend(handles=handles, loc="upper right", frameon=False)
        return fig

    fig, axes = panel_grid(dim, ncols)
    for k, ax in enumerate(axes):
        edges = np.linspace(*ranges[k], bins + 1)
        for i, posterior in enumerate(posteriors.values()):
            ax.hist(
                posterior[:, k], bins=edges, density=True, histtype="step", color=method_color(i)
            )
        if truth is not None:
            ax.axvline(truth[k], color=TRUTH_COLOR, linewidth=1.2)
        ax.set_xlabel(names[k])
        ax.set_yticks([])
    fig.legend(handles=handles, loc="outside upper center", ncols=len(handles), frameon=False)
    return fig
