"""The result every diagnostic returns, and the input checks the diagnostics share.

A diagnostic reports one number, its bootstrap interval over test observations,
and one sentence saying how both were computed, so that a report table is a
loop over :class:`MetricResult` objects and the benchmark JSON is a loop over
:meth:`MetricResult.to_json`.

Example:
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

from sbinn._validation import as_2d_float_array, to_numpy

__all__ = ["MetricResult", "as_samples_array", "resolve_parameter_names"]


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


def as_samples_array(samples: object, dim: int | None = None, name: str = "samples") -> np.ndarray:
    """Return posterior samples as a finite float64 array ``(n_obs, num_samples, dim_theta)``.

    Raises:
        TypeError: when ``samples`` is not real-valued numeric data.
        ValueError: on a wrong number of axes, an empty axis, a wrong ``dim_theta``,
            or NaN/inf entries.

    Example:
        >>> as_samples_array(np.zeros((3, 10, 2))).shape
        (3, 10, 2)
        >>> as_samples_array(np.zeros((10, 2)))
        Traceback (most recent call last):
        ...
        ValueError: samples must have shape (n_obs, num_samples, dim_theta), got shape (10, 2); ...
    """
    array = to_numpy(samples)
    if array.ndim != 3:
        hint = "; for a single observation use samples[None]" if array.ndim == 2 else ""
        raise ValueError(
            f"{name} must have shape (n_obs, num_samples, dim_theta), got shape {array.shape}{hint}"
        )
    if 0 in array.shape:
        raise ValueError(f"{name} must have no empty axis, got shape {array.shape}")
    if dim is not None and array.shape[2] != dim:
        raise ValueError(
            f"{name} must have dim_theta={dim} on its last axis, got shape {array.shape}"
        )
    # Reuse the shared dtype checks; finiteness is checked here to name (observation, sample).
    flat = as_2d_float_array(array.reshape(-1, array.shape[2]), None, name, allow_nan=True)
    array = flat.reshape(array.shape)
    finite = np.isfinite(array).all(axis=2)
    if not finite.all():
        obs, sample = np.argwhere(~finite)[0]
        raise ValueError(
            f"{name} must be finite, got NaN or inf in {int((~finite).sum())} sample(s), "
            f"first at observation {obs}, sample {sample}"
        )
    return array


def resolve_parameter_names(parameter_names: Sequence[str] | None, dim: int) -> tuple[str, ...]:
    """Return ``dim`` parameter names: the given ones, or ``theta_1 ... theta_dim``.

    Example:
        >>> resolve_parameter_names(None, 2)
        ('theta_1', 'theta_2')
    """
    if parameter_names is None:
        return tuple(f"theta_{i + 1}" for i in range(dim))
    if isinstance(parameter_names, str):
        raise TypeError(
            f"parameter_names must be a sequence of strings, got str {parameter_names!r}"
        )
    names = tuple(str(n) for n in parameter_names)
    if len(names) != dim:
        raise ValueError(f"parameter_names must have {dim} entries, got {len(names)}: {names}")
    if len(set(names)) != dim:
        raise ValueError(f"parameter_names must be unique, got {names}")
    return names
