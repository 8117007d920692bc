"""Diagnostics: pure functions from posterior samples (and true parameters, observations,
a simulator) to :class:`MetricResult` objects.

Posterior samples of every method have one shape, ``(n_obs, num_samples, dim_theta)``;
true parameters are ``(n_obs, dim_theta)`` and observations ``(n_obs, dim_x)``. Every
metric comes with a bootstrap interval over test observations (68%, i.e. ±1σ, by default).

Examples:
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
from sbinn.diagnostics.c2st import c2st, c2st_per_observation
from sbinn.diagnostics.calibration import (
    calibration_curve,
    calibration_error,
    posterior_cdf_values,
)
from sbinn.diagnostics.calibration_floor import calibration_noise_floor
from sbinn.diagnostics.contraction import (
    posterior_contraction,
    posterior_z_scores,
    z_score_and_contraction,
)
from sbinn.diagnostics.coverage import expected_coverage
from sbinn.diagnostics.likelihood import heldout_nll
from sbinn.diagnostics.misspecification import PriorPredictiveCheck, flagged_fraction
from sbinn.diagnostics.point_estimates import map_estimate, posterior_mean, rmse
from sbinn.diagnostics.resimulation import (
    resimulation_distances,
    resimulation_error,
    resimulation_error_from_distances,
)
from sbinn.diagnostics.result import MetricResult
from sbinn.diagnostics.sample_mmd import posterior_mmd
from sbinn.diagnostics.sbc import sbc_ecdf_band, sbc_ranks, sbc_uniformity
from sbinn.diagnostics.stability import (
    BlockLogDets,
    JacobianSpectrum,
    ReliabilityFlags,
    RoundTrip,
    block_log_dets,
    jacobian_spectrum,
    reliability_flags,
    round_trip,
    stability_summary,
)
from sbinn.diagnostics.tarp import tarp

__all__ = [
    "BlockLogDets",
    "JacobianSpectrum",
    "MetricResult",
    "PriorPredictiveCheck",
    "ReliabilityFlags",
    "RoundTrip",
    "block_log_dets",
    "bootstrap_interval",
    "bootstrap_replicates",
    "c2st",
    "c2st_per_observation",
    "calibration_curve",
    "calibration_error",
    "calibration_noise_floor",
    "expected_coverage",
    "flagged_fraction",
    "heldout_nll",
    "jacobian_spectrum",
    "map_estimate",
    "posterior_cdf_values",
    "posterior_contraction",
    "posterior_mean",
    "posterior_mmd",
    "posterior_z_scores",
    "reliability_flags",
    "resimulation_distances",
    "resimulation_error",
    "resimulation_error_from_distances",
    "rmse",
    "round_trip",
    "sbc_ecdf_band",
    "sbc_ranks",
    "sbc_uniformity",
    "stability_summary",
    "tarp",
    "z_score_and_contraction",
]
