r"""A Set Transformer: attention between set elements, then attention pooling (Lee et al., 2019).

A multihead attention block lets queries :math:`Q` read a set :math:`K`,

.. math::
    H = \mathrm{LN}(Q + \mathrm{MHA}(Q, K, K)), \qquad
    \mathrm{MAB}(Q, K) = \mathrm{LN}(H + \mathrm{rFF}(H)).

An induced set attention block, :math:`\mathrm{ISAB}(X) = \mathrm{MAB}(X, \mathrm{MAB}(I, X))`,
first lets :math:`m` learned inducing points :math:`I` summarise the set and then lets
every element read that summary: elements interact at a cost of :math:`O(nm)`, not
:math:`O(n^2)`, so sets of thousands of elements fit. Pooling by multihead attention,
:math:`\mathrm{PMA}(Z) = \mathrm{MAB}(S, \mathrm{rFF}(Z))`, lets :math:`k` learned seed
vectors :math:`S` read the set; their outputs, flattened, and :math:`\log n` go through
a final MLP.

Padded slots are hidden from every attention with ``key_padding_mask``. They are
still updated as queries, but nothing ever reads them, so they never reach the output.

Examples:
    >>> from sbinn.summary import pad_sets
    >>> _ = torch.manual_seed(0)
    >>> net = SetTransformer(2, 4, hidden_features=16, num_inducing=8)
    >>> x, mask = pad_sets([torch.randn(5, 2), torch.randn(300, 2)])
    >>> net(x, mask).shape
    torch.Size([2, 4])
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from sbinn._validation import check_positive_int
from sbinn.nn.base import check_choice, check_nonnegative_int
from sbinn.nn.subnet import ACTIVATIONS
from sbinn.summary.masks import check_set_batch, log_set_size
from sbinn.summary.mlp import build_mlp

__all__ = ["SetTransformer"]


class _MAB(nn.Module):
    """Multihead attention block: queries read keys, then a row-wise feed-forward net."""

    def __init__(self, features: int, num_heads: int, activation: str) -> None:
        super().__init__()
        self.attention = nn.MultiheadAttention(features, num_heads, batch_first=True)
        self.norm_attention = nn.LayerNorm(features)
        self.feedforward = build_mlp(features, features, features, 1, activation)
        self.norm_feedforward = nn.LayerNorm(features)

    def forward(self, query: Tensor, key: Tensor, padding: Tensor | None = None) -> Tensor:
        attended, _ = self.attention(query, key, key, key_padding_mask=padding, need_weights=False)
        h = self.norm_attention(query + attended)
        return self.norm_feedforward(h + self.feedforward(h))


class _ISAB(nn.Module):
    """Induced set attention block: the set is read through ``num_inducing`` learned points."""

    def __init__(self, features: int, num_heads: int, num_inducing: int, activation: str) -> None:
        super().__init__()
        self.inducing = nn.Parameter(torch.empty(num_inducing, features))
        nn.init.xavier_uniform_(self.inducing)
        self.summarise = _MAB(features, num_heads, activation)
        self.broadcast = _MAB(features, num_heads, activation)

    def forward(self, x: Tensor, padding: Tensor) -> Tensor:
        summary = self.summarise(self.inducing.expand(len(x), -1, -1), x, padding)
        return self.broadcast(x, summary)


class _PMA(nn.Module):
    """Pooling by multihead attention: ``num_seeds`` learned seed vectors read the set."""

    def __init__(self, features: int, num_heads: int, num_seeds: int, activation: str) -> None:
        super().__init__()
        self.seeds = nn.Parameter(torch.empty(num_seeds, features))
        nn.init.xavier_uniform_(self.seeds)
        self.feedforward = build_mlp(features, features, features, 1, activation)
        self.pool = _MAB(features, num_heads, activation)

    def forward(self, x: Tensor, padding: Tensor) -> Tensor:
        return self.pool(self.seeds.expand(len(x), -1, -1), self.feedforward(x), padding)


class SetTransformer(nn.Module):
    r"""Embedding, ``num_blocks`` ISABs, PMA with ``num_seeds`` seeds, set-size feature, MLP.

    Attention averages with softmax weights that sum to one, so it sees what the
    elements look like but not how many there are: ``include_set_size`` hands
    :math:`\log n` to the final MLP.

    Args:
        element_features: Features per set element, ``>= 1``.
        out_features: Summary width, ``>= 1``.
        hidden_features: Width of every attention block; a multiple of ``num_heads``.
        num_heads: Attention heads per block, ``>= 1``.
        num_inducing: Inducing points per ISAB, ``>= 1``.
        num_blocks: Number of ISABs, ``>= 0`` (0 pools the embedded elements directly).
        num_seeds: Seed vectors of the pooling, ``>= 1``.
        include_set_size: Append :math:`\log n` to the pooled vector.
        activation: One of ``"relu"``, ``"leaky_relu"``, ``"elu"``, ``"silu"``, ``"tanh"``.

    Attributes:
        element_features: Features per element.
        out_features: Summary width.
        embed: The linear layer from elements to ``hidden_features``.
        blocks: The ``nn.ModuleList`` of ISABs.
        pool: The PMA.
        head: The ``nn.Sequential`` on the pooled vector.

    Examples:
        >>> SetTransformer(3, 2, hidden_features=30, num_heads=4)
        Traceback (most recent call last):
        ...
        ValueError: hidden_features must be a multiple of num_heads=4, got 30
    """

    def __init__(
        self,
        element_features: int,
        out_features: int,
        hidden_features: int = 64,
        num_heads: int = 4,
        num_inducing: int = 16,
        num_blocks: int = 2,
        num_seeds: int = 1,
        include_set_size: bool = True,
        activation: str = "leaky_relu",
    ) -> None:
        self.element_features = check_positive_int(element_features, "element_features")
        self.out_features = check_positive_int(out_features, "out_features")
        hidden_features = check_positive_int(hidden_features, "hidden_features")
        num_heads = check_positive_int(num_heads, "num_heads")
        if hidden_features % num_heads:
            raise ValueError(
                f"hidden_features must be a multiple of num_heads={num_heads}, "
                f"got {hidden_features}"
            )
        num_inducing = check_positive_int(num_inducing, "num_inducing")
        num_blocks = check_nonnegative_int(num_blocks, "num_blocks")
        num_seeds = check_positive_int(num_seeds, "num_seeds")
        if not isinstance(include_set_size, bool):
            raise TypeError(f"include_set_size must be a bool, got {include_set_size!r}")
        self.include_set_size = include_set_size
        check_choice(activation, "activation", ACTIVATIONS)
        super().__init__()

        self.embed = nn.Linear(self.element_features, hidden_features)
        self.blocks = nn.ModuleList(
            _ISAB(hidden_features, num_heads, num_inducing, activation) for _ in range(num_blocks)
        )
        self.pool = _PMA(hidden_features, num_heads, num_seeds, activation)
        pooled = num_seeds * hidden_features + int(include_set_size)
        self.head = build_mlp(pooled, self.out_features, hidden_features, 1, activation)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """Summarise sets ``x`` of shape ``(batch, max_set_size, element_features)``.

        Args:
            x: The padded sets; padded slots may hold anything, NaN included.
            mask: Bool ``(batch, max_set_size)``, True = real element; ``None`` = all real.

        Returns:
            The summaries, shape ``(batch, out_features)``.
        """
        x, mask = check_set_batch(x, mask, self.element_features, owner="SetTransformer")
        padding = ~mask
        h = self.embed(x)
        for block in self.blocks:
            h = block(h, padding)
        features = [self.pool(h, padding).flatten(start_dim=1)]
        if self.include_set_size:
            features.append(log_set_size(mask, h.dtype))
        return self.head(torch.cat(features, dim=1))

    def extra_repr(self) -> str:
        return (
            f"element_features={self.element_features}, out_features={self.out_features}, "
            f"include_set_size={self.include_set_size}"
        )
