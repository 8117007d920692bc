"""Input checks shared by the package, with errors that say what was expected and what was given."""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "as_2d_float_array",
    "check_positive_int",
    "check_probability",
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

    Example:
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


def check_positive_int(value: object, name: str) -> int:
    """Return ``value`` as an int, requiring an integer > 0.

    Example:
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

    Example:
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
