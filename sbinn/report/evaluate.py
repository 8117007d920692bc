"""The diagnostic suite of the calibration report, run on every method's samples alike.

Which diagnostics run depends on what is given: calibration, SBC, expected coverage, TARP
need only samples and true parameters; z-scores and contraction need prior samples;
re-simulation errors need the observations and the simulator; C2ST and MMD need reference
samples of the true posterior (an analytic posterior, or a trusted long run).

Examples:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> theta = rng.normal(size=(200, 2))
    >>> samples = theta[:, None, :] + rng.normal(size=(200, 100, 2))
    >>> metrics = evaluate_posteriors({"demo": samples}, theta)
    >>> sorted(metrics["demo"])
    ['calibration_error', 'coverage_error', 'sbc_uniformity_p', 'tarp_error']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sbinn.diagnostics import (
    MetricResult,
    c2st_per_observation,
    calibration_error,
    expected_coverage,
    posterior_mmd,
    resimulation_error,
    sbc_uniformity,
    tarp,
    z_score_and_contraction,
)
from sbinn.report.plots._common import as_method_samples, check_theta_true
from sbinn.simulator import Simulator

__all__ = ["evaluate_posteriors"]


def evaluate_posteriors(
    samples: Mapping[str, object] | object,
    theta_true: object,
    *,
    x_obs: object = None,
    simulator: Simulator | None = None,
    prior_samples: object = None,
    reference_samples: object = None,
    parameter_names: Sequence[str] | None = None,
    skip: Mapping[str, Sequence[str]] | None = None,
    c2st_observations: int = 10,
    seed: int = 0,
) -> dict[str, dict[str, MetricResult]]:
    """Every diagnostic the inputs allow, for every method.

    Args:
        samples: ``{method: samples (n_obs, num_samples, dim_theta)}``, or one array
            (named ``"posterior"``).
        theta_true: True parameters ``(n_obs, dim_theta)``.
        x_obs: Observations, one per row of ``theta_true``; with ``simulator``, enables the
            re-simulation errors.
        simulator: The simulator that produced ``x_obs``.
        prior_samples: Prior draws ``(num_prior, dim_theta)``; enables z-scores and
            contraction.
        reference_samples: True-posterior draws ``(n_obs, num_reference, dim_theta)``;
            enables C2ST and MMD.
        parameter_names: Names of the parameters.
        skip: ``{method: [metric names]}`` already computed elsewhere, not recomputed.
        c2st_observations: C2ST trains classifiers per observation, so it runs on the first
            this many only (10, as the SBI benchmark).
        seed: Seed of every bootstrap and random choice; each diagnostic gets the same one,
            so a method's numbers do not depend on which other methods are compared.

    Returns:
        ``{method: {metric name: MetricResult}}``.
    """
    methods = {label or "posterior": value for label, value in as_method_samples(samples)}
    for label, value in methods.items():
        theta_true = check_theta_true(theta_true, value, label)
    if (x_obs is None) != (simulator is None):
        raise ValueError(
            "re-simulation errors need both x_obs and simulator; got only "
            + ("x_obs" if simulator is None else "simulator")
        )
    skip = {name: set(names) for name, names in (skip or {}).items()}
    names = parameter_names
    results: dict[str, dict[str, MetricResult]] = {}
    for method, s in methods.items():
        done = skip.get(method, set())

        def wanted(*metrics: str, done: set = done) -> bool:
            return not set(metrics) <= done

        found: list[MetricResult] = []
        if wanted("calibration_error"):
            found.append(calibration_error(s, theta_true, parameter_names=names, seed=seed))
        if wanted("sbc_uniformity_p"):
            found.append(sbc_uniformity(s, theta_true, parameter_names=names, seed=seed))
        if wanted("coverage_error"):
            found.append(expected_coverage(s, theta_true, parameter_names=names, seed=seed))
        if wanted("tarp_error"):
            found.append(tarp(s, theta_true, seed=seed))
        if prior_samples is not None and wanted("rms_z_score", "mean_contraction"):
            found.extend(
                z_score_and_contraction(
                    s, theta_true, prior_samples, parameter_names=names, seed=seed
                )
            )
        if simulator is not None and wanted("resimulation_error_mean", "resimulation_error_median"):
            found.extend(resimulation_error(s, x_obs, simulator, seed=seed))
        if reference_samples is not None and wanted("c2st"):
            found.append(
                c2st_per_observation(
                    s, reference_samples, max_observations=c2st_observations, seed=seed
                )
            )
        if reference_samples is not None and wanted("mmd"):
            found.append(posterior_mmd(s, reference_samples, seed=seed))
        results[method] = {r.name: r for r in found if r.name not in done}
    return results
