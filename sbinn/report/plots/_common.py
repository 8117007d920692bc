"""Input checks and figure layout shared by the plot modules.

Plots that compare methods take either one samples array or a mapping from a
method's name to its samples; :func:`as_method_samples` turns both into a list
of ``(label, samples)`` pairs, with ``label=None`` for a lone array so that no
legend is drawn for it.

Examples:
    >>> pairs = as_method_samples({"cINN": np.zeros((2, 5, 1)), "ABC": np.ones((2, 3, 1))})
    >>> [(label, s.shape) for label, s in pairs]
    [('cINN', (2, 5, 1)), ('ABC', (2, 3, 1))]
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sbinn._validation import as_2d_float_array, as_samples_array, to_numpy
from sbinn.diagnostics.result import check_samples_and_truth

__all__ = [
    "PRIOR_COLOR",
    "TRUTH_COLOR",
    "as_method_samples",
    "check_choice",
    "check_ncols",
    "check_theta_true",
    "method_color",
    "one_observation",
    "panel_grid",
]

TRUTH_COLOR = "black"
PRIOR_COLOR = "0.65"
# Inches per panel: small enough that a 3 x 4 grid fits a report page.
PANEL_SIZE = (3.2, 2.6)


def method_color(index: int) -> str:
    """Colour of the ``index``-th method: matplotlib's default cycle, ``"C0"``, ``"C1"``, ...."""
    return f"C{index % 10}"


def check_choice(value: object, choices: tuple[str, ...], name: str) -> str:
    """Return ``value`` if it is one of ``choices``, else raise a ValueError naming them.

    Examples:
        >>> check_choice("box", ("std", "interval"), "error_bars")
        Traceback (most recent call last):
        ...
        ValueError: error_bars must be one of ('std', 'interval'), got 'box'
    """
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def as_method_samples(
    samples: object, name: str = "samples"
) -> list[tuple[str | None, np.ndarray]]:
    """One samples array, or a mapping method name to samples, as ``(label, array)`` pairs.

    Every array is checked to be finite with shape ``(n_obs, num_samples, dim_theta)``;
    all methods must share ``dim_theta``.

    Raises:
        ValueError: on an empty mapping, a wrong shape, NaN/inf, or differing ``dim_theta``.
        TypeError: on a non-string method name or non-numeric samples.
    """
    if not isinstance(samples, Mapping):
        return [(None, as_samples_array(samples, name=name))]
    if not samples:
        raise ValueError(
            f"{name} must map at least one method name to samples, got an empty mapping"
        )
    pairs: list[tuple[str | None, np.ndarray]] = []
    dim = None
    for label, value in samples.items():
        if not isinstance(label, str):
            raise TypeError(f"{name} must be keyed by method names (str), got {label!r}")
        array = as_samples_array(value, dim, f"{name}[{label!r}]")
        dim = array.shape[2]
        pairs.append((label, array))
    return pairs


def check_theta_true(
    theta_true: object, samples: np.ndarray, label: str | None = None
) -> np.ndarray:
    """Return ``theta_true`` as ``(n_obs, dim_theta)``, one row per observation of ``samples``."""
    return check_samples_and_truth(samples, theta_true, label=label)[1]


def one_observation(
    samples: object, theta_true: object, observation: int, name: str = "samples"
) -> tuple[np.ndarray, np.ndarray | None]:
    """Samples ``(num_samples, dim_theta)`` and true value ``(dim_theta,)`` of one observation.

    ``samples`` is either all observations, ``(n_obs, num_samples, dim_theta)``, from
    which row ``observation`` is taken, or one observation, ``(num_samples, dim_theta)``.
    ``theta_true`` may be ``None``, one vector ``(dim_theta,)``, or one row per observation.

    Examples:
        >>> samples, truth = one_observation(np.zeros((3, 10, 2)), np.eye(3, 2), 1)
        >>> samples.shape, truth.tolist()
        ((10, 2), [0.0, 1.0])
    """
    if isinstance(observation, bool) or not isinstance(observation, numbers.Integral):
        raise TypeError(f"observation must be an integer index, got {observation!r}")
    array = to_numpy(samples)
    single = array.ndim == 2
    array = as_samples_array(array[None] if single else array, name=name)
    n_obs, _, dim = array.shape
    if not 0 <= observation < n_obs:
        raise ValueError(
            f"observation must be an index in [0, {n_obs}) for {name} of shape "
            f"{np.shape(samples)}, got {observation}"
        )
    if theta_true is None:
        return array[observation], None
    theta = as_2d_float_array(theta_true, dim, "theta_true")
    if theta.shape[0] == 1:
        return array[observation], theta[0]
    if theta.shape[0] != n_obs:
        raise ValueError(
            f"theta_true must be one vector ({dim},) or one row per observation ({n_obs}, {dim}), "
            f"got shape {theta.shape}"
        )
    return array[observation], theta[observation]


def check_ncols(ncols: object, num_panels: int) -> int:
    """Panels per row: ``ncols`` (default 4), at most ``num_panels``."""
    if ncols is None:
        ncols = 4
    if isinstance(ncols, bool) or not isinstance(ncols, numbers.Integral) or ncols <= 0:
        raise ValueError(f"ncols must be a positive integer, got {ncols!r}")
    return min(int(ncols), num_panels)


def panel_grid(
    num_panels: int, ncols: int | None = None, **subplot_kw
) -> tuple[Figure, list[Axes]]:
    """A figure with ``num_panels`` axes in rows of ``ncols`` (default: at most 4).

    Unused cells of the last row are removed, so ``len(fig.axes) == num_panels``.

    Examples:
        >>> fig, axes = panel_grid(5)
        >>> len(fig.axes), len(axes)
        (5, 5)
        >>> plt.close(fig)
    """
    ncols = check_ncols(ncols, num_panels)
    nrows = math.ceil(num_panels / ncols)
    fig, grid = plt.subplots(
        nrows,
        ncols,
        figsize=(PANEL_SIZE[0] * ncols, PANEL_SIZE[1] * nrows),
        squeeze=False,
        layout="constrained",
        **subplot_kw,
    )
    axes = list(grid.ravel())
    for ax in axes[num_panels:]:
        fig.delaxes(ax)
    return fig, axes[:num_panels]
