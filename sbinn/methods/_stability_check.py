"""The stability checks every trained INN and cINN runs at the end of ``fit`` (issue 8).

The checks (:func:`~sbinn.diagnostics.stability.stability_summary`) take well under a second
at these sizes, so they run by default: an estimator whose inverse is not numerically
invertible on its own training distribution warns at once instead of quietly returning
samples. The reference points are the first training pairs; the checked observations are
the last training observations, so no extra simulations are needed. Benchmarks run the same
summary again on their test observations.
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["StabilityWarning", "check_after_training"]

_REFERENCE_PAIRS = 256
_CHECKED_OBSERVATIONS = 64
_SAMPLES_PER_OBSERVATION = 16


class StabilityWarning(UserWarning):
    """A trained network failed its own invertibility checks."""


def check_after_training(
    estimator: object,
    theta: np.ndarray,
    x: np.ndarray,
    noise: np.ndarray | None = None,
    *,
    seed: int = 0,
) -> dict:
    """Stability summary of a just-trained estimator on its training pairs; warn on failure.

    Returns:
        The summary with ``"checked": True``, or ``{"checked": False, "reason": ...}`` when
        there are too few training pairs to compare with.
    """
    from sbinn.diagnostics.stability_summary import stability_summary

    if len(theta) < 2 * _CHECKED_OBSERVATIONS:
        return {"checked": False, "reason": f"only {len(theta)} training pairs"}
    try:
        summary = stability_summary(
            estimator,
            theta,
            x,
            x[-_CHECKED_OBSERVATIONS:],
            noise=noise,
            num_reference=_REFERENCE_PAIRS,
            samples_per_observation=_SAMPLES_PER_OBSERVATION,
            seed=seed,
        )
    except (ValueError, RuntimeError, np.linalg.LinAlgError) as error:
        # E.g. no training point has a finite image to start the inverse checks from.
        reason = f"the checks could not run: {type(error).__name__}: {error}"
        _warn(estimator, [reason])
        return {"checked": False, "reason": reason}
    problems = _problems(summary)
    if problems:
        _warn(estimator, problems)
    return {"checked": True, "observations": "the last training observations"} | summary


def _warn(estimator: object, problems: list[str]) -> None:
    warnings.warn(
        f"{type(estimator).__name__} failed its invertibility checks after training: "
        f"{'; '.join(problems)}. Its samples may be unreliable; see its .stability and "
        "the stabilisers in sbinn.methods.inn_regularisers.",
        StabilityWarning,
        stacklevel=4,
    )


def _problems(summary: dict) -> list[str]:
    training, samples = summary["training"], summary["samples"]
    problems = []
    if training["non_finite_forward_fraction"] > 0:
        share = training["non_finite_forward_fraction"]
        problems.append(f"{share:.1%} of training points map to inf/NaN")
    for name, check in (
        ("training", training["round_trip_z"]),
        ("sample", samples["round_trip_z"]),
    ):
        if check["non_finite_fraction"] > 0:
            problems.append(
                f"{check['non_finite_fraction']:.1%} of {name} round trips are not finite"
            )
    flagged = summary["reliability"]["flagged_fraction"]
    if flagged > 0:
        problems.append(f"{flagged:.1%} of checked observations are flagged unreliable")
    return problems
