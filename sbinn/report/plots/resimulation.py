r"""Histograms of re-simulation errors :math:`\lVert s(\hat\theta) - x^* \rVert`, methods overlaid.

Every posterior sample of every test observation is simulated again with
:func:`~sbinn.diagnostics.resimulation.resimulation_distances`, and the
distances to the observation are pooled into one histogram per method. A
dashed line marks each method's median, the median re-simulation error of
Table 4.1 in Ardizzone's thesis. Failed re-simulations are excluded and their
count is shown in the legend. All methods share the bins, and each histogram is
normalised to unit area, so methods with different sample counts compare.

Examples:
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from sbinn.function_simulator import FunctionSimulator
    >>> from sbinn.priors import JointPrior, Normal
    >>> simulator = FunctionSimulator(lambda t: 2 * t, JointPrior({"a": Normal(0.0, 1.0)}))
    >>> rng = np.random.default_rng(0)
    >>> samples = {"good": rng.normal(0, 0.1, (5, 40, 1)), "bad": rng.normal(0, 1, (5, 40, 1))}
    >>> fig = plot_resimulation_errors(samples, np.zeros((5, 1)), simulator)
    >>> [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    ['good (median 0.13)', 'bad (median 1.4)']
    >>> plt.close(fig)
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from sbinn._validation import check_positive_int
from sbinn.diagnostics.resimulation import resimulation_distances
from sbinn.report.plots._common import as_method_samples, method_color
from sbinn.simulator import SeedLike, SimulationError, Simulator, as_generator

__all__ = ["plot_resimulation_distances", "plot_resimulation_errors"]


def _edges(pooled: np.ndarray, bins: int, log_scale: bool) -> np.ndarray:
    low, high = pooled.min(), pooled.max()
    if log_scale:
        positive = pooled[pooled > 0]
        low = positive.min() if positive.size else 1.0
        high = max(high, low * 10)
        return np.geomspace(low, high, bins + 1)
    if high <= low:  # every distance equal, e.g. a deterministic simulator at its truth
        low, high = low - 0.5, high + 0.5
    return np.linspace(low, high, bins + 1)


def plot_resimulation_errors(
    samples: object,
    x_obs: object,
    simulator: Simulator,
    *,
    bins: int = 40,
    log_scale: bool = False,
    seed: SeedLike = 0,
    chunk_size: int = 100_000,
) -> Figure:
    """Histogram of the distances between re-simulated posterior samples and the observations.

    Args:
        samples: Posterior samples ``(n_obs, num_samples, dim_theta)``, or a mapping from
            method name to such samples (one histogram and legend entry per method).
        x_obs: Observations, ``(n_obs, dim_x)`` or ``(n_obs, *observation_shape)``.
        simulator: The simulator that produced ``x_obs``.
        bins: Number of histogram bins, shared by all methods.
        log_scale: Logarithmic distance axis and bins, for errors spanning decades;
            distances of exactly zero then fall into the first bin.
        seed: Seed or Generator for the simulator's noise; each method gets its own stream.
        chunk_size: Largest number of rows per ``simulate`` call (bounds memory).

    Returns:
        A figure with one axis.

    Raises:
        ValueError: on wrong shapes or NaN/inf in the samples or observations.
        SimulationError: if every re-simulation of a method failed.
    """
    bins = check_positive_int(bins, "bins")
    methods = as_method_samples(samples)
    streams = as_generator(seed).spawn(len(methods))
    distances = {
        label: resimulation_distances(
            method_samples, x_obs, simulator, seed=stream, chunk_size=chunk_size
        )
        for (label, method_samples), stream in zip(methods, streams, strict=True)
    }
    return plot_resimulation_distances(
        distances, bins=bins, log_scale=log_scale, simulator_name=simulator.name
    )


def plot_resimulation_distances(
    distances: Mapping[str, object] | object,
    *,
    bins: int = 40,
    log_scale: bool = False,
    simulator_name: str = "simulator",
) -> Figure:
    """Histogram of re-simulation distances that are already computed.

    Args:
        distances: ``(n_obs, k)`` distances (NaN: failed), or a mapping from method name
            to such arrays, e.g. from :func:`~sbinn.diagnostics.resimulation_distances`.
        bins: Number of histogram bins, shared by all methods.
        log_scale: Logarithmic distance axis and bins.
        simulator_name: Named in the error when every re-simulation failed.

    Examples:
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> fig = plot_resimulation_distances({"a": [[0.1, 0.2]], "b": [[1.0, np.nan]]})
        >>> [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
        ['a (median 0.15)', 'b (median 1, 1 failed)']
    """
    bins = check_positive_int(bins, "bins")
    if isinstance(distances, Mapping):
        named = list(distances.items())
    else:
        named = [(None, distances)]
    kept = {}
    for label, d in named:
        d = np.asarray(d, dtype=float)
        if d.ndim != 2 or d.size == 0 or np.any(np.isinf(d)) or np.any(d < 0):
            raise ValueError(
                "distances must be (n_obs, k) arrays of finite distances >= 0 (NaN: failed), "
                f"got shape {d.shape}" + ("" if label is None else f" for {label!r}")
            )
        valid = d[np.isfinite(d)]
        if valid.size == 0:
            whose = "" if label is None else f" for {label!r}"
            raise SimulationError(
                f"all {d.size} re-simulations of {simulator_name!r}{whose} failed"
            )
        kept[label] = (valid, d.size - valid.size)
    distances = kept
    edges = _edges(np.concatenate([v for v, _ in distances.values()]), bins, log_scale)
    fig, ax = plt.subplots(figsize=(5.5, 3.5), layout="constrained")
    for i, (label, (valid, num_failed)) in enumerate(distances.items()):
        color = method_color(i)
        median = float(np.median(valid))
        text = f"median {median:.2g}" + (f", {num_failed} failed" if num_failed else "")
        legend = text if label is None else f"{label} ({text})"
        values = np.clip(valid, edges[0], edges[-1])
        ax.hist(values, bins=edges, density=True, histtype="step", color=color, label=legend)
        ax.axvline(median, color=color, linestyle="--", linewidth=1.0)
    if log_scale:
        ax.set_xscale("log")
    ax.set_xlabel("re-simulation error ||s(θ̂) − x*||")
    ax.set_ylabel("density")
    ax.legend(frameon=False)
    return fig
