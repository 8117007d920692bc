"""Padding sets into a batch, and the checks every set network runs on its input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sbinn.summary import check_set_batch, pad_sets
from sbinn.summary.masks import log_set_size


def test_pad_sets_fills_in_order_with_zero_padding_and_a_true_prefix_mask():
    sets = [np.arange(6.0).reshape(3, 2), np.ones((1, 2)), np.full((5, 2), 2.0)]
    x, mask = pad_sets(sets)
    assert x.shape == (3, 5, 2) and x.dtype == torch.get_default_dtype()
    assert mask.dtype == torch.bool
    assert mask.tolist() == [
        [True, True, True, False, False],
        [True, False, False, False, False],
        [True] * 5,
    ]
    assert torch.equal(x[0, :3], torch.arange(6.0).reshape(3, 2))
    assert torch.equal(x[1, 1:], torch.zeros(4, 2))
    assert torch.equal(x[2], torch.full((5, 2), 2.0))


def test_pad_sets_accepts_tensors_lists_integers_and_a_dtype():
    x, mask = pad_sets([torch.ones(2, 1), [[1], [2], [3]]], dtype=torch.float64)
    assert x.dtype == torch.float64 and x.shape == (2, 3, 1)
    assert x[1, :, 0].tolist() == [1.0, 2.0, 3.0]
    assert mask.sum(dim=1).tolist() == [2, 3]


def test_pad_sets_keeps_the_graph_of_tensor_inputs():
    element = torch.ones(2, 3, requires_grad=True)
    x, _ = pad_sets([element, torch.zeros(4, 3)])
    x.sum().backward()
    assert torch.equal(element.grad, torch.ones(2, 3))


def test_pad_sets_reads_a_3d_array_as_equal_size_sets():
    x, mask = pad_sets(np.zeros((4, 6, 2)))
    assert x.shape == (4, 6, 2) and bool(mask.all())


def test_check_set_batch_zeroes_padding_without_touching_the_input():
    x = torch.tensor([[[1.0, 2.0], [float("nan"), float("inf")]]])
    mask = torch.tensor([[True, False]])
    clean, clean_mask = check_set_batch(x, mask, 2)
    assert clean.tolist() == [[[1.0, 2.0], [0.0, 0.0]]]
    assert torch.isnan(x[0, 1, 0])
    assert clean_mask is mask or torch.equal(clean_mask, mask)


def test_check_set_batch_without_a_mask_treats_every_slot_as_real():
    x = torch.randn(3, 4, 2)
    clean, mask = check_set_batch(x, None, 2)
    assert torch.equal(clean, x) and mask.shape == (3, 4) and bool(mask.all())


def test_check_set_batch_accepts_a_numpy_bool_mask():
    _, mask = check_set_batch(torch.zeros(1, 2, 1), np.array([[True, False]]), 1)
    assert isinstance(mask, torch.Tensor) and mask.tolist() == [[True, False]]


def test_log_set_size_counts_real_elements():
    mask = torch.tensor([[True, True, False, False], [True, True, True, True]])
    assert torch.allclose(
        log_set_size(mask, torch.float64), torch.tensor([[2.0], [4.0]], dtype=torch.float64).log()
    )


PAD_ERRORS = {
    "empty list": ([], {}, ValueError, "pad_sets expects at least one set, got an empty sequence"),
    "2-D array": (
        np.zeros((3, 2)),
        {},
        ValueError,
        r"a list of sets of shape \(n_i, d\) .* got an array of shape \(3, 2\)",
    ),
    "empty set": (
        [np.zeros((2, 3)), np.zeros((0, 3))],
        {},
        ValueError,
        r"set 1 is empty \(shape \(0, 3\)\); every set needs at least one element",
    ),
    "1-D set": (
        [np.zeros((2, 1)), np.zeros(4)],
        {},
        ValueError,
        r"set 1 must have shape \(n_i, d\), got \(4,\); a set of scalars has shape \(n_i, 1\)",
    ),
    "3-D set": (
        [np.zeros((2, 1, 1))],
        {},
        ValueError,
        r"set 0 must have shape \(n_i, d\), got \(2, 1, 1\)$",
    ),
    "inconsistent features": (
        [np.zeros((2, 3)), np.zeros((4, 3)), np.zeros((2, 2))],
        {},
        ValueError,
        r"every set must have 3 features per element \(as set 0\), got set 2 of shape \(2, 2\)",
    ),
    "requested features": (
        [np.zeros((2, 3))],
        {"element_features": 2},
        ValueError,
        r"every set must have 2 features per element \(as requested\), got set 0 of shape",
    ),
    "bad element_features": (
        [np.zeros((2, 3))],
        {"element_features": 0},
        ValueError,
        "element_features must be a positive integer, got 0",
    ),
    "non-numeric set": (
        [np.array([["a"], ["b"]])],
        {},
        TypeError,
        "set 0 must be a numeric array, got dtype <U1",
    ),
    "integer dtype": (
        [np.zeros((1, 1))],
        {"dtype": torch.int64},
        TypeError,
        "pad_sets expects a floating dtype, got torch.int64",
    ),
    "nan in a set": (
        [np.zeros((2, 2)), np.array([[0.0, 1.0], [np.nan, 0.0]])],
        {},
        ValueError,
        r"pad_sets expects real elements .* to be finite, got NaN or inf in 1 element\(s\), "
        "first at set 1, element 1",
    ),
}


@pytest.mark.parametrize("case", sorted(PAD_ERRORS))
def test_pad_sets_errors_say_what_was_expected_and_given(case):
    sets, kwargs, error, message = PAD_ERRORS[case]
    with pytest.raises(error, match=message):
        pad_sets(sets, **kwargs)


def x_with_nan_at(row: int, column: int, value: float = float("nan")) -> torch.Tensor:
    x = torch.zeros(3, 4, 2)
    x[row, column, 1] = value
    return x


CHECK_ERRORS = {
    "not a tensor": (np.zeros((1, 2, 2)), None, TypeError, "floating-point tensor, got ndarray"),
    "integer tensor": (
        torch.zeros(1, 2, 2, dtype=torch.int64),
        None,
        TypeError,
        "x to be a floating-point tensor, got dtype torch.int64",
    ),
    "2-D single set": (
        torch.zeros(5, 2),
        None,
        ValueError,
        r"x of shape \(batch, max_set_size, 2\), got \(5, 2\); a single set of shape \(n, d\) "
        r"needs a batch axis, x\[None\]",
    ),
    "4-D": (
        torch.zeros(1, 5, 2, 1),
        None,
        ValueError,
        r"x of shape \(batch, max_set_size, 2\), got \(1, 5, 2, 1\)$",
    ),
    "element features": (
        torch.zeros(1, 5, 3),
        None,
        ValueError,
        r"x of shape \(batch, max_set_size, 2\), got \(1, 5, 3\)$",
    ),
    "empty batch": (
        torch.zeros(0, 5, 2),
        None,
        ValueError,
        r"a batch of at least one set, got x of shape \(0, 5, 2\)",
    ),
    "float mask": (
        torch.zeros(2, 3, 2),
        torch.ones(2, 3),
        TypeError,
        r"mask to be a bool tensor \(True = real element\), got dtype torch.float32",
    ),
    "integer mask": (
        torch.zeros(2, 3, 2),
        torch.ones(2, 3, dtype=torch.int64),
        TypeError,
        "got dtype torch.int64",
    ),
    "mask shape": (
        torch.zeros(2, 3, 2),
        torch.ones(2, 4, dtype=torch.bool),
        ValueError,
        r"mask of shape \(batch, max_set_size\) = \(2, 3\) to match x of shape \(2, 3, 2\), "
        r"got \(2, 4\)",
    ),
    "mask with element axis": (
        torch.zeros(2, 3, 2),
        torch.ones(2, 3, 2, dtype=torch.bool),
        ValueError,
        r"= \(2, 3\) .* got \(2, 3, 2\)",
    ),
    "empty set": (
        torch.zeros(3, 2, 2),
        torch.tensor([[True, False], [False, False], [False, False]]),
        ValueError,
        r"every set to have at least one real element \(mask True\), got 2 empty set\(s\), "
        "first at set 1",
    ),
    "no slots": (
        torch.zeros(2, 0, 2),
        None,
        ValueError,
        r"got 2 empty set\(s\), first at set 0",
    ),
    "nan in a real element": (
        x_with_nan_at(2, 3),
        None,
        ValueError,
        r"real elements \(mask True\) to be finite, got NaN or inf in 1 element\(s\), "
        "first at set 2, element 3",
    ),
    "inf in a real element": (
        x_with_nan_at(1, 0, float("-inf")),
        torch.tensor([[True] * 4, [True, False, False, False], [True] * 4]),
        ValueError,
        "first at set 1, element 0",
    ),
}


@pytest.mark.parametrize("case", sorted(CHECK_ERRORS))
def test_check_set_batch_errors_say_what_was_expected_and_given(case):
    x, mask, error, message = CHECK_ERRORS[case]
    with pytest.raises(error, match=f"^check_set_batch expects .*{message}"):
        check_set_batch(x, mask, 2)


def test_nan_in_a_padded_slot_is_not_an_error():
    x = x_with_nan_at(1, 3)
    mask = torch.ones(3, 4, dtype=torch.bool)
    mask[1, 3] = False
    clean, _ = check_set_batch(x, mask, 2)
    assert bool(torch.isfinite(clean).all())
