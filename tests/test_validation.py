import re

import numpy as np
import pytest
import torch

from sbinn._validation import (
    as_2d_float_array,
    check_positive_int,
    check_probability,
    to_numpy,
)


def test_to_numpy_returns_numpy_input_without_copy():
    array = np.arange(3.0)
    assert to_numpy(array) is array


def test_to_numpy_converts_lists_and_tensors_with_grad():
    assert to_numpy([[1, 2], [3, 4]]).shape == (2, 2)
    tensor = torch.ones(2, 3, requires_grad=True) * 2
    out = to_numpy(tensor)
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, np.full((2, 3), 2.0))


@pytest.mark.parametrize(
    ("value", "shape"),
    [
        ([1.0, 2.0], (1, 2)),
        ([[1.0, 2.0]], (1, 2)),
        (np.zeros((5, 2)), (5, 2)),
        (np.zeros((0, 2)), (0, 2)),
        (torch.zeros(3, 2), (3, 2)),
    ],
)
def test_as_2d_float_array_accepts_rows_and_single_vectors(value, shape):
    out = as_2d_float_array(value, 2, "x")
    assert out.shape == shape
    assert out.dtype == np.float64


def test_as_2d_float_array_converts_ints_and_bools_to_float64():
    assert as_2d_float_array(np.array([[1, 2]]), 2, "x").dtype == np.float64
    np.testing.assert_array_equal(as_2d_float_array([[True, False]], 2, "x"), [[1.0, 0.0]])


def test_as_2d_float_array_without_dim_needs_two_dimensions():
    assert as_2d_float_array(np.zeros((4, 7)), None, "x").shape == (4, 7)
    with pytest.raises(ValueError, match=re.escape("x must have shape (n, d), got shape (7,)")):
        as_2d_float_array(np.zeros(7), None, "x")


@pytest.mark.parametrize("shape", [(3,), (1, 3), (2, 2, 2), ()])
def test_as_2d_float_array_wrong_shape_names_expected_and_given(shape):
    message = f"theta must have shape (n, 2) or (2,), got shape {shape}"
    with pytest.raises(ValueError, match=re.escape(message)):
        as_2d_float_array(np.zeros(shape), 2, "theta")


@pytest.mark.parametrize(
    ("value", "dtype"),
    [
        (np.array([["a", "b"]]), "<U1"),
        (np.array([[1.0, None]], dtype=object), "object"),
        (np.array([[1 + 2j, 0j]]), "complex128"),
    ],
)
def test_as_2d_float_array_rejects_non_real_data(value, dtype):
    with pytest.raises(TypeError, match=f"x_obs must be .*got dtype {dtype}"):
        as_2d_float_array(value, 2, "x_obs")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_as_2d_float_array_rejects_non_finite_and_says_where(bad):
    value = np.zeros((4, 2))
    value[2, 1] = bad
    value[3, 0] = bad
    with pytest.raises(
        ValueError, match=r"x must be finite, got NaN or inf in 2 row\(s\), first at row 2"
    ):
        as_2d_float_array(value, 2, "x")


def test_as_2d_float_array_allow_nan_keeps_nan():
    out = as_2d_float_array([[np.nan, np.inf]], 2, "x", allow_nan=True)
    assert np.isnan(out[0, 0]) and np.isinf(out[0, 1])


@pytest.mark.parametrize("value", [1, 7, np.int64(3), np.uint8(2)])
def test_check_positive_int_accepts_integers(value):
    out = check_positive_int(value, "n")
    assert out == value and type(out) is int


@pytest.mark.parametrize("value", [0, -1, np.int32(-5)])
def test_check_positive_int_rejects_non_positive(value):
    with pytest.raises(ValueError, match=f"n must be a positive integer, got {int(value)}"):
        check_positive_int(value, "n")


@pytest.mark.parametrize(
    ("value", "typename"), [(True, "bool"), (2.0, "float"), ("3", "str"), (None, "NoneType")]
)
def test_check_positive_int_rejects_non_integers_with_type(value, typename):
    with pytest.raises(TypeError, match=f"n must be a positive integer, got {typename}"):
        check_positive_int(value, "n")


@pytest.mark.parametrize("value", [1e-9, 0.5, 1, 1.0, np.float32(0.25)])
def test_check_probability_accepts_default_interval(value):
    assert check_probability(value, "p") == pytest.approx(float(value))


@pytest.mark.parametrize(
    ("value", "kwargs", "interval"),
    [
        (0.0, {}, "(0, 1]"),
        (1.5, {}, "(0, 1]"),
        (-0.1, {"include_zero": True}, "[0, 1]"),
        (1.0, {"include_one": False}, "(0, 1)"),
        (float("nan"), {}, "(0, 1]"),
    ],
)
def test_check_probability_rejects_outside_interval(value, kwargs, interval):
    with pytest.raises(ValueError, match=re.escape(f"p must lie in {interval}, got {value}")):
        check_probability(value, "p", **kwargs)


def test_check_probability_endpoint_flags():
    assert check_probability(0, "p", include_zero=True) == 0.0
    assert check_probability(0.999, "p", include_one=False) == 0.999


@pytest.mark.parametrize("value", [True, "0.5", None, 0.5j])
def test_check_probability_rejects_non_real(value):
    with pytest.raises(TypeError, match="p must be a real number, got"):
        check_probability(value, "p")
