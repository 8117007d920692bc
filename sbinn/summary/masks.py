r"""Padded batches of sets: building them, and checking them before a set network reads them.

A batch of sets of different sizes :math:`n_i` is stored as a tensor ``x`` of
shape ``(batch, max_set_size, element_features)`` with a boolean ``mask`` of
shape ``(batch, max_set_size)``, ``True`` where a slot holds a real element.
Padded slots may hold anything, NaN included: :func:`check_set_batch` zeroes
them, so a set network gives the same output for a set alone and for the same
set padded with garbage.

Examples:
    >>> x, mask = pad_sets([np.ones((2, 3)), np.ones((4, 3))])
    >>> x.shape, mask.sum(dim=1).tolist()
    (torch.Size([2, 4, 3]), [2, 4])
    >>> x[0, 2:].isnan().any().item()
    False
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from sbinn._validation import check_positive_int, to_numpy

__all__ = ["check_set_batch", "pad_sets"]


def _shape(value: object) -> str:
    return str(tuple(value.shape)) if hasattr(value, "shape") else type(value).__name__


def pad_sets(
    sets: Sequence[object],
    *,
    element_features: int | None = None,
    dtype: torch.dtype | None = None,
) -> tuple[Tensor, Tensor]:
    """Pad a list of sets of shape ``(n_i, d)`` into one batch with its mask.

    Args:
        sets: Arrays or tensors of shape ``(n_i, d)``: every set holds ``n_i >= 1``
            elements with the same number ``d`` of features. A set of scalars has
            shape ``(n_i, 1)``.
        element_features: The required ``d``; ``None`` takes it from the first set.
        dtype: Floating dtype of the padded tensor; ``None`` uses torch's default.

    Returns:
        ``(x, mask)``: ``x`` of shape ``(len(sets), max n_i, d)`` with zeros in padded
        slots, and the bool ``mask`` of shape ``(len(sets), max n_i)``, True = real.

    Raises:
        TypeError: on a non-numeric set.
        ValueError: on an empty list, a set that is not 2-D, a set with no element,
            sets whose element dimensions differ, or NaN/inf in an element.

    Examples:
        >>> pad_sets([np.zeros((3, 2)), np.zeros((0, 2))])
        Traceback (most recent call last):
        ...
        ValueError: set 1 is empty (shape (0, 2)); every set needs at least one element
    """
    if isinstance(sets, np.ndarray | Tensor) and sets.ndim != 3:
        raise ValueError(
            f"pad_sets expects a list of sets of shape (n_i, d) or an array of shape "
            f"(batch, n, d), got an array of shape {tuple(sets.shape)}"
        )
    sets = list(sets)
    if not sets:
        raise ValueError("pad_sets expects at least one set, got an empty sequence")
    source = "requested"
    if element_features is not None:
        element_features = check_positive_int(element_features, "element_features")
    dtype = torch.get_default_dtype() if dtype is None else dtype
    if not dtype.is_floating_point:
        raise TypeError(f"pad_sets expects a floating dtype, got {dtype}")

    arrays = []
    for i, entry in enumerate(sets):
        array = entry if isinstance(entry, Tensor) else to_numpy(entry)
        if not isinstance(array, Tensor) and not (
            np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.bool_)
        ):
            raise TypeError(f"set {i} must be a numeric array, got dtype {array.dtype}")
        if array.ndim != 2:
            hint = "; a set of scalars has shape (n_i, 1)" if array.ndim == 1 else ""
            raise ValueError(f"set {i} must have shape (n_i, d), got {_shape(array)}{hint}")
        if array.shape[0] == 0:
            raise ValueError(
                f"set {i} is empty (shape {_shape(array)}); every set needs at least one element"
            )
        if element_features is None:
            element_features, source = array.shape[1], "set 0"
        if array.shape[1] != element_features:
            raise ValueError(
                f"every set must have {element_features} features per element (as {source}), "
                f"got set {i} of shape {_shape(array)}"
            )
        arrays.append(torch.as_tensor(array).to(dtype))

    sizes = torch.tensor([len(array) for array in arrays])
    x = arrays[0].new_zeros(len(arrays), int(sizes.max()), element_features)
    for i, array in enumerate(arrays):
        x[i, : len(array)] = array
    mask = torch.arange(x.shape[1]) < sizes[:, None]
    return check_set_batch(x, mask.to(x.device), element_features, owner="pad_sets")


def check_set_batch(
    x: Tensor,
    mask: Tensor | None,
    element_features: int,
    *,
    owner: str = "check_set_batch",
) -> tuple[Tensor, Tensor]:
    """Check a padded batch of sets and return it with padded slots zeroed.

    Args:
        x: Floating tensor of shape ``(batch, max_set_size, element_features)``.
        mask: Bool tensor of shape ``(batch, max_set_size)``, True = real element;
            ``None`` means every slot is real.
        element_features: The number of features per element the caller expects.
        owner: Name that starts the error messages, usually the network's.

    Returns:
        ``(x, mask)``: ``x`` with zeros in padded slots (the input is not modified),
        and the mask as a bool tensor on ``x``'s device.

    Raises:
        TypeError: when ``x`` is not a floating tensor or ``mask`` is not boolean.
        ValueError: on a wrong shape of ``x`` or ``mask``, an empty batch, an empty set
            (a mask row that is all False), or NaN/inf in a real element.

    Examples:
        >>> x = torch.tensor([[[1.0], [float("nan")]]])
        >>> x, mask = check_set_batch(x, torch.tensor([[True, False]]), 1)
        >>> x.flatten().tolist()
        [1.0, 0.0]
        >>> check_set_batch(torch.zeros(2, 5), None, 1)
        Traceback (most recent call last):
        ...
        ValueError: check_set_batch expects x of shape (batch, max_set_size, 1), got (2, 5)
    """
    if not isinstance(x, Tensor) or not x.is_floating_point():
        given = f"dtype {x.dtype}" if isinstance(x, Tensor) else type(x).__name__
        raise TypeError(f"{owner} expects x to be a floating-point tensor, got {given}")
    if x.ndim != 3 or x.shape[2] != element_features:
        hint = (
            "; a single set of shape (n, d) needs a batch axis, x[None]"
            if x.ndim == 2 and x.shape[1] == element_features
            else ""
        )
        raise ValueError(
            f"{owner} expects x of shape (batch, max_set_size, {element_features}), "
            f"got {_shape(x)}{hint}"
        )
    if x.shape[0] == 0:
        raise ValueError(f"{owner} expects a batch of at least one set, got x of shape {_shape(x)}")
    if mask is None:
        mask = torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)
    else:
        if not isinstance(mask, Tensor):
            mask = torch.as_tensor(to_numpy(mask))
        if mask.dtype != torch.bool:
            raise TypeError(
                f"{owner} expects mask to be a bool tensor (True = real element), "
                f"got dtype {mask.dtype}"
            )
        if mask.shape != x.shape[:2]:
            raise ValueError(
                f"{owner} expects mask of shape (batch, max_set_size) = {tuple(x.shape[:2])} "
                f"to match x of shape {tuple(x.shape)}, got {_shape(mask)}"
            )
        mask = mask.to(x.device)
    empty = ~mask.any(dim=1)
    if empty.any():
        rows = torch.nonzero(empty).flatten().tolist()
        raise ValueError(
            f"{owner} expects every set to have at least one real element (mask True), "
            f"got {len(rows)} empty set(s), first at set {rows[0]}"
        )
    bad = ~torch.isfinite(x).all(dim=2) & mask
    if bad.any():
        row, column = torch.nonzero(bad)[0].tolist()
        raise ValueError(
            f"{owner} expects real elements (mask True) to be finite, got NaN or inf in "
            f"{int(bad.sum())} element(s), first at set {row}, element {column}"
        )
    # where, not multiplication: 0 * NaN is NaN, and the gradient of where is 0 in the padding.
    return torch.where(mask[..., None], x, 0.0), mask


def log_set_size(mask: Tensor, dtype: torch.dtype) -> Tensor:
    r"""The set-size feature :math:`\log n`, of shape ``(batch, 1)``.

    The logarithm, not :math:`n` over a constant: set sizes span orders of magnitude
    (5 to 500 stars), and :math:`\log n` keeps both ends O(1) without a scale to tune.

    Examples:
        >>> log_set_size(torch.tensor([[True, False], [True, True]]), torch.float32)
        tensor([[0.0000],
                [0.6931]])
    """
    return mask.sum(dim=1, keepdim=True).to(dtype).log()
