r"""Behrmann et al.'s Fig. 1 toy: a coupling stack with a known exploding inverse.

Two features :math:`(x_1, x_2)`, start point :math:`(1, 1)`, and :math:`K` identical
coupling blocks that leave :math:`x_1` alone and map

.. math::

    \text{affine:}\quad x_2 \mapsto 0.1\, x_2 + 0.123456789, \qquad
    \text{additive:}\quad x_2 \mapsto x_2 + 0.123456789 .

The affine stack multiplies :math:`x_2` by :math:`0.1^K`: its smallest singular value is
:math:`0.1^K`, so its inverse multiplies the forward pass's rounding error by :math:`10^K`
(Behrmann et al. 2021, §2). The additive stack is volume preserving; only the rounding of
the sums remains. The blocks are sbinn's own :class:`~sbinn.nn.AffineCoupling` and
:class:`~sbinn.nn.AdditiveCoupling`, with subnetworks whose weights are zero and whose
output biases are the constants above, so the toy runs exactly the code of a trained
network. Each sbinn coupling updates both halves; the second update (of :math:`x_1`) is
the identity here. The affine log-scale :math:`\log 0.1` lies outside the default soft
clamp (2), so the blocks are built with ``clamp=1e4``, which leaves it unchanged to within
float32 rounding: "unclamped".

Examples:
    >>> net = behrmann_toy(8, coupling="affine")
    >>> z, _ = net(torch.ones(1, 2))
    >>> x_back, _ = net.inverse(z)
    >>> bool((x_back - 1).norm() > 0.1)
    True
"""

from __future__ import annotations

import math

import torch

from sbinn._validation import check_positive_int
from sbinn.nn import AdditiveCoupling, AffineCoupling, InvertibleNetwork
from sbinn.nn.base import check_choice

__all__ = ["TOY_SCALE", "TOY_SHIFT", "UNCLAMPED", "behrmann_toy"]

TOY_SCALE = 0.1
TOY_SHIFT = 0.123456789
UNCLAMPED = 1e4


def _output_bias(subnet: torch.nn.Module) -> torch.Tensor:
    return [m for m in subnet.modules() if isinstance(m, torch.nn.Linear)][-1].bias


def behrmann_toy(
    num_blocks: int, *, coupling: str = "affine", dtype: torch.dtype = torch.float32
) -> InvertibleNetwork:
    """The Fig. 1 toy: ``num_blocks`` constant couplings on two features.

    Args:
        num_blocks: Depth :math:`K`.
        coupling: ``"affine"`` (scale 0.1, shift 0.123456789) or ``"additive"`` (shift only).
        dtype: ``torch.float32`` or ``torch.float64``.

    Raises:
        ValueError: on a non-positive depth, an unknown coupling or a non-float dtype.

    Examples:
        >>> net = behrmann_toy(2, coupling="additive", dtype=torch.float64)
        >>> net(torch.ones(1, 2, dtype=torch.float64))[0].tolist()
        [[1.0, 1.246913578]]
    """
    num_blocks = check_positive_int(num_blocks, "num_blocks")
    coupling = check_choice(coupling, "coupling", ("affine", "additive"))
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
    small = {"hidden_features": 1, "num_hidden_layers": 1}
    blocks = [
        AffineCoupling(2, clamp=UNCLAMPED, **small)
        if coupling == "affine"
        else AdditiveCoupling(2, **small)
        for _ in range(num_blocks)
    ]
    # subnet2 reads x1 and transforms x2: its output is (log-scale, shift) or the shift.
    constants = [math.log(TOY_SCALE), TOY_SHIFT] if coupling == "affine" else [TOY_SHIFT]
    network = InvertibleNetwork(blocks).to(dtype)
    with torch.no_grad():
        for block in network.blocks:
            for parameter in block.parameters():
                parameter.zero_()
            _output_bias(block.subnet2).copy_(torch.tensor(constants, dtype=dtype))
    return network.eval()
