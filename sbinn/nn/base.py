r"""The contract shared by every invertible block: a bijection with its log-Jacobian-determinant.

A block is a map :math:`f_c : \mathbb{R}^d \to \mathbb{R}^d`, optionally conditioned on
:math:`c \in \mathbb{R}^k`. :meth:`InvertibleModule.forward` returns
:math:`y = f_c(x)` and :math:`\log |\det \partial y / \partial x|`, and
:meth:`InvertibleModule.inverse` returns :math:`x = f_c^{-1}(y)` and
:math:`\log |\det \partial x / \partial y| = -\log |\det \partial y / \partial x|`,
one value per row of the batch. Inputs are checked once here, so that subclasses
implement only :meth:`~InvertibleModule._forward` and :meth:`~InvertibleModule._inverse`.

Examples:
    >>> class Shift(InvertibleModule):
    ...     def _forward(self, x, c):
    ...         return x + 1.0, x.new_zeros(x.shape[0])
    ...     def _inverse(self, y, c):
    ...         return y - 1.0, y.new_zeros(y.shape[0])
    >>> y, log_det = Shift(2)(torch.zeros(3, 2))
    >>> y[0].tolist(), log_det.shape
    ([1.0, 1.0], torch.Size([3]))
    >>> Shift(2)(torch.zeros(3, 5))
    Traceback (most recent call last):
    ...
    ValueError: Shift expects x of shape (batch, 2), got (3, 5)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable

import torch
from torch import Tensor

from sbinn._validation import check_nonnegative_int, check_positive_int
from sbinn.nn.shared_condition import SharedCondition

__all__ = ["InvertibleModule"]


def check_choice(value: object, name: str, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise naming all of them."""
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(choice) for choice in choices)
        raise ValueError(f"{name} must be one of {listed}; got {value!r}")
    return value


def check_seed(value: object, name: str = "seed") -> int:
    """Return ``value`` as an int accepted by :meth:`torch.Generator.manual_seed`."""
    seed = check_nonnegative_int(value, name)
    if seed >= 2**63:
        raise ValueError(f"{name} must be smaller than 2**63, got {seed}")
    return seed


def _shape(value: object) -> str:
    if value is None:
        return "None"
    if isinstance(value, Tensor | SharedCondition):
        return str(tuple(value.shape))
    return type(value).__name__


class InvertibleModule(torch.nn.Module, ABC):
    """Base class of the invertible blocks.

    Subclasses implement :meth:`_forward` and :meth:`_inverse` for inputs that
    were already checked: ``x`` of shape ``(batch, dim)``, and ``c`` of shape
    ``(batch, cond_dim)`` with the dtype of ``x``, or ``None`` when
    ``cond_dim == 0``. ``c`` may be a :class:`~sbinn.nn.shared_condition.SharedCondition`
    (one row per group of samples); blocks that cannot use it call its ``dense()``.

    Args:
        dim: Number of features the block maps, ``>= 1``.
        cond_dim: Number of conditioning features; 0 for an unconditional block.

    Attributes:
        dim: Number of features.
        cond_dim: Number of conditioning features (0 = unconditional).
    """

    def __init__(self, dim: int, cond_dim: int = 0) -> None:
        super().__init__()
        self.dim = check_positive_int(dim, "dim")
        self.cond_dim = check_nonnegative_int(cond_dim, "cond_dim")

    def forward(self, x: Tensor, c: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Return ``(y, log|det dy/dx|)``, the log-determinant of shape ``(batch,)``."""
        self._check_inputs(x, c, type(self).__name__, "x")
        return self._forward(x, c)

    def inverse(self, y: Tensor, c: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Return ``(x, log|det dx/dy|)``, the log-determinant of shape ``(batch,)``."""
        self._check_inputs(y, c, f"{type(self).__name__}.inverse", "y")
        return self._inverse(y, c)

    @abstractmethod
    def _forward(self, x: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        """Forward map on checked inputs."""

    @abstractmethod
    def _inverse(self, y: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        """Inverse map on checked inputs."""

    def extra_repr(self) -> str:
        return f"dim={self.dim}, cond_dim={self.cond_dim}"

    def _check_inputs(self, x: object, c: object, owner: str, name: str) -> None:
        if not isinstance(x, Tensor) or not x.is_floating_point():
            given = f"dtype {x.dtype}" if isinstance(x, Tensor) else type(x).__name__
            raise TypeError(f"{owner} expects {name} to be a floating-point tensor, got {given}")
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(
                f"{owner} expects {name} of shape (batch, {self.dim}), got {_shape(x)}"
            )
        if self.cond_dim == 0:
            if c is not None:
                raise ValueError(
                    f"{owner} is unconditional (cond_dim=0) and expects c=None, "
                    f"got c of shape {_shape(c)}"
                )
            return
        expected = f"({x.shape[0]}, {self.cond_dim})"
        if not isinstance(c, Tensor | SharedCondition):
            raise TypeError(f"{owner} expects c of shape {expected}, got {_shape(c)}")
        if tuple(c.shape) != (x.shape[0], self.cond_dim):
            raise ValueError(
                f"{owner} expects c of shape {expected} (batch of {name}, cond_dim), "
                f"got {_shape(c)}"
            )
        if c.dtype != x.dtype:
            raise TypeError(
                f"{owner} expects c with the dtype of {name} ({x.dtype}), got {c.dtype}"
            )
