r"""Scoring and figures of the tissue benchmark, after Table 4.2 and Fig. 4.8 of the thesis.

**MAP errors.** The thesis scores MAP estimates :math:`\hat\theta` (mean-shift modes of the
posterior samples) by their RMSE against the truth, for :math:`s_{O_2}` alone and for "all
recoverable parameters" (:math:`s_{O_2}`, :math:`v_{hb}`, :math:`a_{mie}`), which it found to
be the only ones the spectrum constrains. Our model has three layers; the recoverable set is
fixed a priori as the parameters of the layer light meets first,
:data:`RECOVERABLE` = (sO2, v_hb_1, a_mie_1). Whether deeper layers are recoverable too is for
the posterior contraction in the calibration report to show, not for this metric to assume.

- ``map_error_sO2``: RMSE of :math:`s_{O_2}`, a fraction in [0, 1] (thesis: 0.041 for the INN).
- ``map_error_recoverable``: RMSE over :data:`RECOVERABLE`, each parameter divided by its
  prior standard deviation first, so that :math:`a_{mie}` in cm⁻¹ does not swamp the
  fractions. The thesis does not say how it scaled them; its numbers are not comparable in
  absolute terms, only the ranking of methods is.

**Figure** (:func:`plot_tissue_posteriors`, thesis Fig. 4.8): for one observation, one row
per method with the marginals of sO2, v_hb_1, a_mie_1, g_1 and d_1 over the prior (grey)
and the truth (dashed), and the joint of v_hb_1 and a_mie_1, which the physics correlates:
more blood absorbs more, and more scattering brings the light back.

Examples:
    >>> from simulators.tissue import TissueSimulator
    >>> sim = TissueSimulator("colon")
    >>> theta = sim.prior.sample(50, np.random.default_rng(0))
    >>> errors = map_errors(sim, theta + 0.01, theta, seed=0)
    >>> round(errors["map_error_sO2"].value, 6)
    0.01
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from sbinn.diagnostics import MetricResult, rmse
from sbinn.report.plots._common import PRIOR_COLOR, TRUTH_COLOR, method_color
from sbinn.simulator import Simulator

__all__ = ["FIGURE_PARAMETERS", "RECOVERABLE", "map_errors", "plot_tissue_posteriors"]

RECOVERABLE = ("sO2", "v_hb_1", "a_mie_1")
FIGURE_PARAMETERS = ("sO2", "v_hb_1", "a_mie_1", "g_1", "d_1")
_PRIOR_DRAWS = 100_000


def _prior_scale(simulator: Simulator) -> np.ndarray:
    # A fixed seed: the scale is a unit of measurement, not a random quantity.
    draws = simulator.prior.sample(_PRIOR_DRAWS, np.random.default_rng(0))
    return draws.std(axis=0)


def map_errors(
    simulator: Simulator, estimates: np.ndarray, theta_true: np.ndarray, seed: int
) -> dict[str, MetricResult]:
    """``map_error_sO2`` and ``map_error_recoverable`` of MAP estimates (see module docs).

    Args:
        simulator: The tissue simulator (for parameter names and the prior's scale).
        estimates: MAP estimates ``(n_obs, dim_theta)``.
        theta_true: True parameters ``(n_obs, dim_theta)``.
        seed: Seed of the bootstrap.
    """
    names = simulator.parameter_names
    missing = [name for name in RECOVERABLE if name not in names]
    if missing:
        raise ValueError(f"the simulator has no parameters {missing}; it has {names}")
    scale = _prior_scale(simulator)
    s_o2 = rmse(estimates, theta_true, dims=["sO2"], parameter_names=names, seed=seed)
    scaled = rmse(
        estimates / scale,
        theta_true / scale,
        dims=list(RECOVERABLE),
        parameter_names=names,
        seed=seed,
    )
    unit = "; each parameter in units of its prior standard deviation"
    return {
        "map_error_sO2": _renamed(s_o2, "map_error_sO2", ""),
        "map_error_recoverable": _renamed(scaled, "map_error_recoverable", unit),
    }


def _renamed(result: MetricResult, name: str, note: str) -> MetricResult:
    return MetricResult(
        name=name,
        value=result.value,
        low=result.low,
        high=result.high,
        method="RMSE of the MAP estimates (mean-shift modes of the samples). "
        + result.method
        + note,
        per_dimension=result.per_dimension,
        details=result.details,
    )


def plot_tissue_posteriors(
    simulator: Simulator,
    x_obs: np.ndarray,
    samples: Mapping[str, np.ndarray],
    path: str | Path,
    *,
    theta_true: np.ndarray,
    observation: int = 0,
) -> None:
    """Write the Fig. 4.8-style figure for test observation ``observation`` to ``path``.

    Args:
        simulator: The tissue simulator (names and prior).
        x_obs: Test observations (unused beyond their count; the figure shows parameters).
        samples: ``{method: samples (n_obs, num_samples, dim_theta)}``.
        path: PNG path.
        theta_true: True parameters ``(n_obs, dim_theta)``.
        observation: Which test observation to show.
    """
    names = simulator.parameter_names
    if not 0 <= observation < len(theta_true):
        raise ValueError(f"observation must be in [0, {len(theta_true)}), got {observation}")
    columns = [names.index(name) for name in FIGURE_PARAMETERS]
    prior = simulator.prior.sample(20_000, np.random.default_rng(0))
    truth = np.asarray(theta_true)[observation]
    ranges = [(prior[:, k].min(), prior[:, k].max()) for k in columns]
    rows = len(samples)
    # A bare Figure, not pyplot: no GUI backend is touched, in a notebook or headless.
    fig = Figure(figsize=(2.2 * (len(columns) + 1), 1.7 * rows + 0.4), layout="constrained")
    axes = fig.subplots(rows, len(columns) + 1, squeeze=False)
    v_hb, a_mie = names.index("v_hb_1"), names.index("a_mie_1")
    for row, (method, method_samples) in enumerate(samples.items()):
        drawn = np.asarray(method_samples)[observation]
        color = method_color(row)
        for col, (k, (low, high)) in enumerate(zip(columns, ranges, strict=True)):
            ax = axes[row, col]
            bins = np.linspace(low, high, 41)
            ax.hist(prior[:, k], bins=bins, density=True, color=PRIOR_COLOR, alpha=0.5)
            ax.hist(
                np.clip(drawn[:, k], low, high),
                bins=bins,
                density=True,
                histtype="step",
                color=color,
                linewidth=1.4,
            )
            ax.axvline(truth[k], color=TRUTH_COLOR, linestyle="--", linewidth=1.0)
            ax.set_yticks([])
            if row == rows - 1:
                ax.set_xlabel(names[k])
        ax = axes[row, -1]
        ax.scatter(prior[:2000, v_hb], prior[:2000, a_mie], s=1, color=PRIOR_COLOR, alpha=0.4)
        ax.scatter(drawn[:2000, v_hb], drawn[:2000, a_mie], s=1, color=color, alpha=0.5)
        ax.plot(truth[v_hb], truth[a_mie], "x", color=TRUTH_COLOR)
        ax.set_xlim(ranges[1])
        ax.set_ylim(np.quantile(prior[:, a_mie], [0.001, 0.999]))
        axes[row, 0].set_ylabel(method)
        if row == rows - 1:
            ax.set_xlabel("v_hb_1 vs a_mie_1")
    fig.suptitle(f"Posteriors of test observation {observation} (prior grey, truth dashed)")
    fig.savefig(path, dpi=110)
