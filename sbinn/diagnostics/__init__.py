"""Diagnostics: pure functions from posterior samples (and true parameters, observations,
a simulator) to :class:`MetricResult` objects.

Posterior samples of every method have one shape, ``(n_obs, num_samples, dim_theta)``;
true parameters are ``(n_obs, dim_theta)`` and observations ``(n_obs, dim_x)``. Every
metric comes with a bootstrap interval over test observations (68%, i.e. ±1σ, by default).

Example:
    >>> import numpy as np
    >>> from sbinn.diagnostics import calibration_error
    >>> rng = np.random.default_rng(0)
    >>> theta = rng.normal(size=(200, 2))
    >>> samples = theta[:, None, :] + rng.normal(size=(200, 100, 2))
    >>> result = calibration_error(samples, theta)
    >>> result.name, sorted(result.to_json())
    ('calibration_error', ['high', 'low', 'per_dimension', 'value'])
"""

from __future__ import annotations

from sbinn.diagnostics.bootstrap import bootstrap_interval, bootstrap_replicates
from sbinn.diagnostics.calibration import (
    calibration_curve,
    calibration_error,
    posterior_cdf_values,
)
from sbinn.diagnostics.likelihood import heldout_nll
from sbinn.diagnostics.point_estimates import map_estimate, posterior_mean, rmse
from sbinn.diagnostics.resimulation import resimulation_distances, resimulation_error
from sbinn.diagnostics.result import MetricResult

__all__ = [
    "MetricResult",
    "bootstrap_interval",
    "bootstrap_replicates",
    "calibration_curve",
    "calibration_error",
    "heldout_nll",
    "map_estimate",
    "posterior_cdf_values",
    "posterior_mean",
    "resimulation_distances",
    "resimulation_error",
    "rmse",
]
