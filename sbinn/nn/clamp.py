r"""Soft clamping of the log-scales of affine couplings.

An affine coupling multiplies by :math:`\exp(s)`; an unbounded :math:`s` lets a
single block blow up or collapse its input and makes training unstable. A soft
clamp bounds :math:`s` to :math:`(-\alpha, \alpha)` while staying smooth and
close to the identity near zero, :math:`\tilde s = s + O(s^3)`:

.. math::

    \tilde s_\mathrm{tanh} = \alpha \tanh(s / \alpha),
    \qquad
    \tilde s_\mathrm{atan} = \frac{2\alpha}{\pi} \arctan(s / \alpha).

The ``atan`` clamp saturates more slowly (its tails decay like :math:`1/s`
rather than exponentially), so gradients survive for large :math:`s`; its slope
at zero is :math:`2/\pi` rather than 1.

Examples:
    >>> s = torch.tensor([-100.0, 0.0, 100.0])
    >>> soft_clamp(s, 2.0).tolist()
    [-2.0, 0.0, 2.0]
    >>> soft_clamp(s, 2.0, kind="atan").abs().max().item() < 2.0
    True
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import Tensor

from sbinn.nn.base import check_choice

__all__ = ["CLAMP_KINDS", "check_clamp", "checked_soft_clamp", "soft_clamp"]

CLAMP_KINDS = ("tanh", "atan")


def check_clamp(alpha: object, kind: object) -> tuple[float, str]:
    """Return ``(alpha, kind)``, checking that ``alpha`` is finite and > 0 and ``kind`` known."""
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise TypeError(f"clamp alpha must be a positive number, got {type(alpha).__name__}")
    if not (math.isfinite(alpha) and alpha > 0):
        raise ValueError(f"clamp alpha must be a positive finite number, got {alpha}")
    return float(alpha), check_choice(kind, "clamp kind", CLAMP_KINDS)


def soft_clamp(s: Tensor, alpha: float, kind: str = "tanh") -> Tensor:
    r"""Smoothly squash ``s`` into :math:`(-\alpha, \alpha)`, element-wise.

    Args:
        s: Unbounded log-scales, any shape.
        alpha: Bound of the output, finite and > 0.
        kind: ``"tanh"`` for :math:`\alpha \tanh(s/\alpha)`, ``"atan"`` for
            :math:`(2\alpha/\pi) \arctan(s/\alpha)`.

    Returns:
        Tensor of the shape and dtype of ``s``.

    Raises:
        TypeError: if ``alpha`` is not a real number.
        ValueError: if ``alpha <= 0`` or not finite, or ``kind`` is unknown.

    Examples:
        >>> soft_clamp(torch.zeros(2), 1.0, kind="atan").tolist()
        [0.0, 0.0]
    """
    alpha, kind = check_clamp(alpha, kind)
    return checked_soft_clamp(s, alpha, kind)


def checked_soft_clamp(s: Tensor, alpha: float, kind: str) -> Tensor:
    """:func:`soft_clamp` for an ``alpha`` and ``kind`` already checked by
    :func:`check_clamp`: couplings check them once, not on every call."""
    if kind == "tanh":
        return alpha * torch.tanh(s / alpha)
    return (2.0 * alpha / math.pi) * torch.atan(s / alpha)
