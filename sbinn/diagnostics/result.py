"""The result every diagnostic returns, and the input checks the diagnostics share.

A diagnostic reports one number, its bootstrap interval over test observations,
and one sentence saying how both were computed, so that a report table is a
loop over :class:`MetricResult` objects and the benchmark JSON is a loop over
:meth:`MetricResult.to_json`.

Examples:
    >>> result = MetricResult("rmse", 0.25, 0.2, 0.3, "Root mean squared error.",
    ...                       per_dimension={"a": 0.25})
    >>> result.to_json()
    {'value': 0.25, 'low': 0.2, 'high': 0.3, 'per_dimension': {'a': 0.25}}
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from sbinn._validation import as_2d_float_array, as_samples_array

__all__ = ["MetricResult", "check_samples_and_truth"]


def check_samples_and_truth(
    samples: object, theta_true: object, *, label: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior samples ``(n_obs, num_samples, dim)`` and one true parameter row per
    observation, as float arrays, or an error saying which shape was expected.

    Args:
        samples: Posterior samples.
        theta_true: True parameters.
        label: Method name, for messages about one of several methods' samples.

    Examples:
        >>> samples, theta = check_samples_and_truth(np.zeros((2, 3, 1)), [[0.0], [1.0]])
        >>> samples.shape, theta.shape
        ((2, 3, 1), (2, 1))
    """
    samples = as_samples_array(samples)
    theta_true = as_2d_float_array(theta_true, samples.shape[2], "theta_true")
    if theta_true.shape[0] != samples.shape[0]:
        whose = "samples" if label is None else f"samples[{label!r}]"
        raise ValueError(
            f"theta_true must have one row per observation in {whose}, i.e. shape "
            f"({samples.shape[0]}, {samples.shape[2]}), got shape {theta_true.shape}"
        )
    return samples, theta_true


def _json_float(value: float) -> float | None:
    # NaN and inf are not valid JSON; null says "could not be computed" in strict JSON.
    value = float(value)
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class MetricResult:
    """A metric value with its bootstrap interval and a description of how it was computed.

    Attributes:
        name: Short metric name, e.g. ``"calibration_error"``.
        value: The metric on all test observations.
        low: Lower bound of the bootstrap interval over test observations.
        high: Upper bound of the bootstrap interval over test observations.
        method: One sentence: how the value and the interval were computed.
        per_dimension: Parameter name to value, where the metric splits by parameter.
        details: Anything else worth keeping, e.g. curve arrays or failure counts.
    """

    name: str
    value: float
    low: float
    high: float
    method: str
    per_dimension: dict[str, float] | None = None
    details: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        for attribute in ("value", "low", "high"):
            object.__setattr__(self, attribute, float(getattr(self, attribute)))
        if self.per_dimension is not None:
            per_dimension = {str(k): float(v) for k, v in self.per_dimension.items()}
            object.__setattr__(self, "per_dimension", per_dimension)

    def to_json(self) -> dict:
        """Return ``{"value", "low", "high"}`` (plus ``"per_dimension"`` when present).

        All numbers are Python floats; NaN and inf become ``None`` so that the
        output is strict JSON.
        """
        out: dict = {
            "value": _json_float(self.value),
            "low": _json_float(self.low),
            "high": _json_float(self.high),
        }
        if self.per_dimension is not None:
            out["per_dimension"] = {k: _json_float(v) for k, v in self.per_dimension.items()}
        return out

    def __str__(self) -> str:
        return f"{self.name} = {self.value:.4g} [{self.low:.4g}, {self.high:.4g}]"

    @classmethod
    def overall_and_per_dimension(
        cls,
        name: str,
        values: np.ndarray,
        low: np.ndarray,
        high: np.ndarray,
        names: Sequence[str],
        method: str,
        details: dict,
    ) -> MetricResult:
        """Build a result from vectors ``[overall, dim_1, ...]`` of values and interval bounds.

        Examples:
            >>> r = MetricResult.overall_and_per_dimension(
            ...     "m", np.array([1.0, 2.0]), np.array([0.5, 1.5]), np.array([1.5, 2.5]),
            ...     ["a"], "demo", {})
            >>> r.per_dimension, r.details["per_dimension_interval"]
            ({'a': 2.0}, {'a': [1.5, 2.5]})
        """
        return cls(
            name=name,
            value=float(values[0]),
            low=float(low[0]),
            high=float(high[0]),
            method=method,
            per_dimension=dict(zip(names, np.asarray(values[1:]).tolist(), strict=True)),
            details={
                "per_dimension_interval": {
                    n: [float(low[k + 1]), float(high[k + 1])] for k, n in enumerate(names)
                }
            }
            | details,
        )
