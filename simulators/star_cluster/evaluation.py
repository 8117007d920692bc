r"""Figures of the star-cluster benchmark: a corner plot of a multimodal posterior.

The thesis (§4.2.4, Fig. 4.11) shows star-cluster posteriors with two solutions: a young,
fast-expanding shell and an old, slow one can give the same lines. The benchmark figure
shows such a case. It picks the test observation whose age posterior is the most bimodal
under a reference method, by Sarle's bimodality coefficient

.. math::

    b = \frac{g^2 + 1}{\kappa + 3 (n - 1)^2 / ((n - 2)(n - 3))},

with :math:`g` the sample skewness and :math:`\kappa` the excess kurtosis of :math:`n`
samples. :math:`b = 1/3` for a normal distribution, :math:`5/9` for a uniform one; larger
values point to two modes. It then overlays every method's posterior for that observation.
Masses, efficiencies and densities are drawn in log10: their priors are log-uniform.

Examples:
    >>> rng = np.random.default_rng(0)
    >>> one_mode = rng.normal(size=(1, 4000, 1))
    >>> two_modes = np.concatenate([one_mode[:, :2000] - 4, one_mode[:, 2000:] + 4], axis=1)
    >>> bimodality_coefficient(np.concatenate([one_mode, two_modes])).round(2).ravel().tolist()
    [0.34, 0.81]
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from scipy.stats import kurtosis, skew

from sbinn.report.plots import plot_posterior_overlay
from sbinn.simulator import Simulator

__all__ = ["bimodality_coefficient", "plot_star_cluster_posteriors"]

_LOG_PARAMETERS = ("cloud_mass", "sfe", "cloud_density")


def bimodality_coefficient(samples: np.ndarray) -> np.ndarray:
    """Sarle's bimodality coefficient of each observation's marginals.

    Args:
        samples: ``(n_obs, num_samples, dim)`` with ``num_samples >= 4``.

    Returns:
        ``(n_obs, dim)``; NaN where a marginal is constant.
    """
    samples = np.asarray(samples, dtype=float)
    if samples.ndim != 3 or samples.shape[1] < 4:
        raise ValueError(
            f"samples must have shape (n_obs, num_samples >= 4, dim), got {samples.shape}"
        )
    n = samples.shape[1]
    # A constant marginal (e.g. a method that collapsed) gives NaN, not a warning per row.
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        g = skew(samples, axis=1, bias=False)
        excess = kurtosis(samples, axis=1, bias=False)
        return (g**2 + 1) / (excess + 3 * (n - 1) ** 2 / ((n - 2) * (n - 3)))


def _display(simulator: Simulator, samples: np.ndarray) -> tuple[np.ndarray, list[str]]:
    names = list(simulator.parameter_names)
    shown = np.array(samples, dtype=float, copy=True)
    for k, name in enumerate(names):
        if name in _LOG_PARAMETERS:
            with np.errstate(invalid="ignore", divide="ignore"):
                shown[..., k] = np.log10(shown[..., k])
            names[k] = f"log10 {name}"
    return shown, names


def plot_star_cluster_posteriors(
    simulator: Simulator,
    x_obs: np.ndarray,
    samples: Mapping[str, np.ndarray],
    path: str | Path,
    *,
    theta_true: np.ndarray,
    reference: str | None = None,
) -> int:
    """Write a Fig. 4.11-style corner plot of the most bimodal test posterior to ``path``.

    Args:
        simulator: The star-cluster simulator (parameter names).
        x_obs: Test observations (only their count is used).
        samples: ``{method: samples (n_obs, num_samples, dim_theta)}``.
        path: PNG path.
        theta_true: True parameters ``(n_obs, dim_theta)``.
        reference: Method whose age posteriors choose the observation; default the cINN
            if present, else the first method.

    Returns:
        The index of the observation shown.
    """
    if not samples:
        raise ValueError("samples must hold at least one method")
    reference = reference or ("cinn" if "cinn" in samples else next(iter(samples)))
    if reference not in samples:
        raise ValueError(f"reference must be one of {sorted(samples)}, got {reference!r}")
    age = list(simulator.parameter_names).index("age")
    score = bimodality_coefficient(np.asarray(samples[reference])[..., age : age + 1])[:, 0]
    observation = int(np.nanargmax(score))
    shown, names = _display(simulator, np.asarray(theta_true)[observation])
    fig = plot_posterior_overlay(
        {method: _display(simulator, s[observation])[0] for method, s in samples.items()},
        shown,
        parameter_names=names,
        kind="corner",
    )
    fig.suptitle(
        f"test observation {observation} of {len(x_obs)}: the most bimodal age posterior "
        f"under {reference} (bimodality coefficient {score[observation]:.2f})"
    )
    fig.savefig(path, dpi=100)
    return observation
