r"""A condition shared by runs of rows: many samples drawn for one observation.

When a conditional network draws thousands of samples per observation, every sample of one
observation carries the same condition :math:`c`. The first layer of a coupling subnetwork
computes :math:`W [h, c] + b = W_h h + (W_c c + b)`; the bracket is the same for all rows of
a run, so it is computed once per run and broadcast, instead of once per row. With a
32-wide condition and 2-wide halves that is most of the first layer's work, and the
``(rows, cond_dim)`` copy of the condition is never made.

Examples:
    >>> c = SharedCondition(torch.tensor([[1.0], [2.0]]), repeats=3)
    >>> c.dense().flatten().tolist(), c.shape
    ([1.0, 1.0, 1.0, 2.0, 2.0, 2.0], (6, 1))
"""

from __future__ import annotations

import torch
from torch import Tensor

from sbinn._validation import check_positive_int

__all__ = ["SharedCondition"]


class SharedCondition:
    """The condition ``values.repeat_interleave(repeats, dim=0)``, stored once per run.

    Args:
        values: One condition per run of rows, ``(runs, cond_dim)``.
        repeats: Rows per run; the batch has ``runs * repeats`` rows, run-major.

    Raises:
        TypeError: if ``values`` is not a floating-point tensor.
        ValueError: if ``values`` is not 2-D or ``repeats`` not a positive integer.
    """

    def __init__(self, values: Tensor, repeats: int) -> None:
        if not isinstance(values, Tensor) or not values.is_floating_point():
            given = f"dtype {values.dtype}" if isinstance(values, Tensor) else type(values).__name__
            raise TypeError(f"values must be a floating-point tensor, got {given}")
        if values.ndim != 2:
            raise ValueError(f"values must be (runs, cond_dim), got {tuple(values.shape)}")
        self.values = values
        self.repeats = check_positive_int(repeats, "repeats")

    @property
    def shape(self) -> tuple[int, int]:
        """``(runs * repeats, cond_dim)``, the shape of :meth:`dense`."""
        return (self.values.shape[0] * self.repeats, self.values.shape[1])

    @property
    def dtype(self) -> torch.dtype:
        """The dtype of the condition's values."""
        return self.values.dtype

    def dense(self) -> Tensor:
        """The full ``(runs * repeats, cond_dim)`` condition."""
        return self.values.repeat_interleave(self.repeats, dim=0)

    def linear(
        self, h: Tensor, weight: Tensor, bias: Tensor | None, *, out: Tensor | None = None
    ) -> Tensor:
        """``cat([h, c]) @ weight.T + bias`` for every row, the condition's part computed once
        per run.

        ``weight`` is ``(out, dim_h + cond_dim)``. The per-run term is the starting value of
        one batched product over runs, so the ``(rows, out)`` result is written in one pass
        rather than computed and then updated; into ``out`` (contiguous) when given.

        Examples:
            >>> _ = torch.manual_seed(0)
            >>> c = SharedCondition(torch.randn(2, 3), repeats=4)
            >>> h, weight, bias = torch.randn(8, 2), torch.randn(5, 5), torch.randn(5)
            >>> dense = torch.nn.functional.linear(torch.cat([h, c.dense()], 1), weight, bias)
            >>> torch.allclose(c.linear(h, weight, bias), dense, atol=1e-6)
            True
        """
        split = h.shape[1]
        per_run = self.values @ weight[:, split:].T
        if bias is not None:
            per_run = per_run + bias
        runs, width = per_run.shape
        own = weight[:, :split].T.expand(runs, split, width)
        h = h.view(runs, self.repeats, split)
        if out is None:
            return torch.baddbmm(per_run[:, None, :], h, own).view(-1, width)
        torch.baddbmm(per_run[:, None, :], h, own, out=out.view(runs, self.repeats, width))
        return out
