r"""A Deep Set: a permutation-invariant summary of a set of any size (Zaheer et al., 2017).

Every element :math:`x_j` of a set :math:`X = \{x_1, \dots, x_n\}` passes through the
same network :math:`\psi`; the results are pooled with permutation-invariant
operations and a second network :math:`\rho` reads the pooled vector,

.. math::
    h(X) = \rho\Big(\tfrac{1}{n} \textstyle\sum_j \psi(x_j),\;
        \tfrac{1}{s} \sum_j \psi(x_j),\; \log n\Big).

The mean describes the distribution of the elements, the scaled sum and
:math:`\log n` how many there are (the number of stars in a cluster says much about
its mass). Padded slots are masked out of every pooling, so a batch may mix sets of
5 and of 500 elements.

Examples:
    >>> from sbinn.summary import pad_sets
    >>> _ = torch.manual_seed(0)
    >>> net = DeepSet(2, 4)
    >>> x, mask = pad_sets([torch.randn(5, 2), torch.randn(500, 2)])
    >>> net(x, mask).shape
    torch.Size([2, 4])
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from sbinn._validation import check_positive_int
from sbinn.nn.base import check_choice
from sbinn.summary.masks import check_set_batch, log_set_size
from sbinn.summary.mlp import build_mlp

__all__ = ["POOLINGS", "DeepSet"]

POOLINGS = ("mean", "sum", "max")


class DeepSet(nn.Module):
    r"""Per-element network :math:`\psi`, masked pooling, set-size feature, network :math:`\rho`.

    Args:
        element_features: Features per set element, ``>= 1``.
        out_features: Summary width, ``>= 1``.
        hidden_features: Width of the hidden layers and of :math:`\psi`'s output.
        pooling: The poolings to concatenate, each ``"mean"``, ``"sum"`` or ``"max"``.
        include_set_size: Append :math:`\log n` to the pooled vector.
        num_hidden_layers: Hidden layers of :math:`\psi` and of :math:`\rho` each, ``>= 0``.
        activation: One of ``"relu"``, ``"leaky_relu"``, ``"elu"``, ``"silu"``, ``"tanh"``.
        sum_scale: The sum pooling is divided by this constant :math:`s`; set it near
            the typical set size so the pooled values stay O(1).

    Attributes:
        element_features: Features per element.
        out_features: Summary width.
        psi: The per-element ``nn.Sequential``.
        rho: The ``nn.Sequential`` on the pooled vector.

    Examples:
        >>> net = DeepSet(3, 2, pooling=("mean", "max"), include_set_size=False)
        >>> net.rho[0].in_features  # two poolings of 64 features each
        128
        >>> DeepSet(3, 2, pooling=("mean", "median"))
        Traceback (most recent call last):
        ...
        ValueError: every entry of pooling must be one of 'mean', 'sum', 'max'; got 'median'
    """

    def __init__(
        self,
        element_features: int,
        out_features: int,
        hidden_features: int = 64,
        pooling: Sequence[str] = ("mean", "sum"),
        include_set_size: bool = True,
        num_hidden_layers: int = 2,
        activation: str = "leaky_relu",
        sum_scale: float = 100.0,
    ) -> None:
        self.element_features = check_positive_int(element_features, "element_features")
        self.out_features = check_positive_int(out_features, "out_features")
        hidden_features = check_positive_int(hidden_features, "hidden_features")
        self.pooling = _check_pooling(pooling)
        if not isinstance(include_set_size, bool):
            raise TypeError(f"include_set_size must be a bool, got {include_set_size!r}")
        self.include_set_size = include_set_size
        if (
            isinstance(sum_scale, bool)
            or not isinstance(sum_scale, numbers.Real)
            or not (math.isfinite(sum_scale) and sum_scale > 0)
        ):
            raise ValueError(f"sum_scale must be a positive finite number, got {sum_scale!r}")
        # A fixed divisor, not n: dividing by n would turn the sum into a second mean and
        # lose how many elements there are. Without a divisor, a sum over 500 elements is
        # of order 500, far outside the O(1) inputs rho's initialisation is scaled for.
        self.sum_scale = float(sum_scale)
        super().__init__()
        self.psi = build_mlp(
            self.element_features, hidden_features, hidden_features, num_hidden_layers, activation
        )
        pooled = hidden_features * len(self.pooling) + int(include_set_size)
        self.rho = build_mlp(
            pooled, self.out_features, hidden_features, num_hidden_layers, activation
        )

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """Summarise sets ``x`` of shape ``(batch, max_set_size, element_features)``.

        Args:
            x: The padded sets; padded slots may hold anything, NaN included.
            mask: Bool ``(batch, max_set_size)``, True = real element; ``None`` = all real.

        Returns:
            The summaries, shape ``(batch, out_features)``.
        """
        x, mask = check_set_batch(x, mask, self.element_features, owner="DeepSet")
        h = self.psi(x)
        real = mask[..., None]
        total = h.masked_fill(~real, 0.0).sum(dim=1)
        size = real.sum(dim=1).to(h.dtype)
        pooled = {
            "mean": lambda: total / size,
            "sum": lambda: total / self.sum_scale,
            "max": lambda: h.masked_fill(~real, -math.inf).amax(dim=1),
        }
        features = [pooled[name]() for name in self.pooling]
        if self.include_set_size:
            features.append(log_set_size(mask, h.dtype))
        return self.rho(torch.cat(features, dim=1))

    def extra_repr(self) -> str:
        return (
            f"element_features={self.element_features}, out_features={self.out_features}, "
            f"pooling={self.pooling}, include_set_size={self.include_set_size}, "
            f"sum_scale={self.sum_scale}"
        )


def _check_pooling(pooling: object) -> tuple[str, ...]:
    if isinstance(pooling, str):
        pooling = (pooling,)
    if not isinstance(pooling, Sequence) or not pooling:
        raise ValueError(
            f"pooling must be a non-empty sequence of {', '.join(map(repr, POOLINGS))}, "
            f"got {pooling!r}"
        )
    names = tuple(check_choice(name, "every entry of pooling", POOLINGS) for name in pooling)
    if len(set(names)) != len(names):
        raise ValueError(f"pooling must not repeat an entry, got {names}")
    return names
