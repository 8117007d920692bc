r"""The calibration error that the *exact* posterior scores on a finite test set.

:func:`~sbinn.diagnostics.calibration.calibration_error` is a median of
absolute deviations :math:`|\alpha_\mathrm{inl} - \alpha|`, and every
:math:`\alpha_\mathrm{inl}` is a fraction over :math:`n` test observations, with
binomial noise of standard deviation :math:`\sqrt{\alpha(1-\alpha)/n}`. So even
exact posterior samples score above zero, and a target close to that floor
cannot tell a calibrated posterior from a miscalibrated one.

For exact samples the true value and its :math:`N` samples are exchangeable, so
its rank among them is uniform on :math:`\{0, \dots, N\}` whatever the model.
The floor therefore depends only on the number of observations, parameters and
samples, and is drawn here from uniform ranks, without any simulator. With
1000 observations and 4 parameters (the kinematics benchmark) it averages
about 0.8%, and about a quarter of exact posteriors score above 0.96%.

Examples:
    >>> floor = calibration_noise_floor(1000, 4, replicates=100)
    >>> 0.005 < floor["mean"] < 0.011, floor["quantile_90"] > floor["median"]
    (True, True)
"""

from __future__ import annotations

import numpy as np

from sbinn._validation import check_positive_int
from sbinn.diagnostics.calibration import _check_alphas, _inside
from sbinn.simulator import SeedLike

__all__ = ["calibration_noise_floor"]


def calibration_noise_floor(
    num_observations: int,
    num_dims: int,
    *,
    num_samples: int = 4096,
    alphas: object = None,
    replicates: int = 200,
    seed: SeedLike = 0,
) -> dict[str, float | int]:
    """Distribution of the calibration error of exact posterior samples.

    Args:
        num_observations: Test observations the calibration error is taken over.
        num_dims: Parameter dimensions (the overall error is a median over them too).
        num_samples: Posterior samples per observation.
        alphas: Credibility levels; default :func:`~sbinn.diagnostics.calibration.default_alphas`.
        replicates: Simulated test sets.
        seed: Seed of the uniform ranks.

    Returns:
        ``mean``, ``median``, ``quantile_10`` and ``quantile_90`` of the overall
        calibration error (fractions, not percent) over the replicates, and the
        settings they were drawn for.

    Raises:
        ValueError: If a count is not a positive integer.

    Examples:
        >>> calibration_noise_floor(0, 4)
        Traceback (most recent call last):
        ...
        ValueError: num_observations must be a positive integer, got 0
    """
    for name, value in (
        ("num_observations", num_observations),
        ("num_dims", num_dims),
        ("num_samples", num_samples),
        ("replicates", replicates),
    ):
        check_positive_int(value, name)
    alphas = _check_alphas(alphas)
    rng = np.random.default_rng(seed)
    errors = np.empty(replicates)
    for r in range(replicates):
        ranks = rng.integers(0, num_samples + 1, size=(num_observations, num_dims))
        cdf_values = (ranks + 0.5) / (num_samples + 1)
        alpha_inl = _inside(cdf_values, alphas).mean(axis=0)
        errors[r] = np.median(np.abs(alpha_inl - alphas[:, None]))
    return {
        "mean": float(errors.mean()),
        "median": float(np.median(errors)),
        "quantile_10": float(np.quantile(errors, 0.1)),
        "quantile_90": float(np.quantile(errors, 0.9)),
        "num_observations": num_observations,
        "num_dims": num_dims,
        "num_samples": num_samples,
        "replicates": replicates,
    }
