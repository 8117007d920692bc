"""Input checks shared by the package, with errors that say what was expected and what was given."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

__all__ = [
    "as_2d_float_array",
    "as_samples_array",
    "check_positive_int",
    "check_probability",
    "resolve_parameter_names",
    "to_numpy",
]


def to_numpy(value: object) -> np.ndarray:
    """Convert arrays, nested lists and torch tensors to numpy; numpy input is not copied."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def as_2d_float_array(
    value: object, dim: int | None, name: str, *, allow_nan: bool = False
) -> np.ndarray:
    """Return ``value`` as a float64 array of shape ``(n, dim)``.

    A 1-D array of length ``dim`` is read as a single row.

    Raises:
        TypeError: when ``value`` is not numeric.
        ValueError: on a wrong shape, or on NaN or inf unless ``allow_nan``.

    Examples:
        >>> as_2d_float_array([1.0, 2.0], 2, "x_obs").shape
        (1, 2)
        >>> as_2d_float_array([[1.0, 2.0, 3.0]], 2, "x_obs")
        Traceback (most recent call last):
        ...
        ValueError: x_obs must have shape (n, 2) or (2,), got shape (1, 3)
    """
    array = to_numpy(value)
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.bool_)
    ):
        raise TypeError(f"{name} must be a numeric array, got dtype {array.dtype}")
    if np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real-valued, got dtype {array.dtype}")
    expected = f"(n, {dim}) or ({dim},)" if dim is not None else "(n, d)"
    if array.ndim == 1 and dim is not None and array.shape[0] == dim:
        array = array[None, :]
    if array.ndim != 2 or (dim is not None and array.shape[1] != dim):
        raise ValueError(f"{name} must have shape {expected}, got shape {array.shape}")
    array = array.astype(np.float64, copy=False)
    if not allow_nan and not np.all(np.isfinite(array)):
        bad = np.flatnonzero(~np.all(np.isfinite(array), axis=1))
        raise ValueError(
            f"{name} must be finite, got NaN or inf in {bad.size} row(s), first at row {bad[0]}"
        )
    return array


def check_nonnegative_int(value: object, name: str) -> int:
    """Return ``value`` as an int, requiring an integer >= 0.

    Examples:
        >>> check_nonnegative_int(-1, "num_samples")
        Traceback (most recent call last):
        ...
        ValueError: num_samples must be a non-negative integer, got -1
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name} must be a non-negative integer, got {type(value).__name__} {value!r}"
        )
    if value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value}")
    return int(value)


def check_positive_int(value: object, name: str) -> int:
    """Return ``value`` as an int, requiring an integer > 0.

    Examples:
        >>> check_positive_int(0, "num_samples")
        Traceback (most recent call last):
        ...
        ValueError: num_samples must be a positive integer, got 0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer, got {type(value).__name__} {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return int(value)


def check_probability(
    value: object, name: str, *, include_zero: bool = False, include_one: bool = True
) -> float:
    """Return ``value`` as a float in ``(0, 1]`` (endpoints configurable).

    Examples:
        >>> check_probability(1.5, "quantile")
        Traceback (most recent call last):
        ...
        ValueError: quantile must lie in (0, 1], got 1.5
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    low_ok = value >= 0 if include_zero else value > 0
    high_ok = value <= 1 if include_one else value < 1
    if not (low_ok and high_ok):
        interval = ("[" if include_zero else "(") + "0, 1" + ("]" if include_one else ")")
        raise ValueError(f"{name} must lie in {interval}, got {value}")
    return value


def as_samples_array(samples: object, dim: int | None = None, name: str = "samples") -> np.ndarray:
    """Return posterior samples as a finite float64 array ``(n_obs, num_samples, dim_theta)``.

    Raises:
        TypeError: when ``samples`` is not real-valued numeric data.
        ValueError: on a wrong number of axes, an empty axis, a wrong ``dim_theta``,
            or NaN/inf entries.

    Examples:
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

    Examples:
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
