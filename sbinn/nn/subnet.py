r"""The fully connected subnetworks that predict coupling coefficients.

An :class:`MLP` maps :math:`\mathbb{R}^{n_\mathrm{in}} \to \mathbb{R}^{n_\mathrm{out}}`
through ``num_hidden_layers`` hidden layers. Its last linear layer starts at
zero (weights and bias), so every coupling block built on it starts as the
identity map with log-determinant 0, and a coupling stack starts as the product
of its fixed orthogonal mixings: training begins from a well-conditioned map, not
from a composition of many random ones (the zero initialisation of GLOW).

Examples:
    >>> _ = torch.manual_seed(0)
    >>> mlp = MLP(3, 4, hidden_features=8, activation="silu")
    >>> mlp(torch.randn(5, 3)).abs().max().item()
    0.0
"""

from __future__ import annotations

import itertools

import torch
from torch import Tensor, nn

from sbinn._validation import check_positive_int
from sbinn.nn.base import check_choice, check_nonnegative_int
from sbinn.nn.scratch import hidden_buffer
from sbinn.nn.shared_condition import SharedCondition

__all__ = ["ACTIVATIONS", "MLP"]

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
}

# Activations whose backward pass needs only their output, so they may overwrite their input.
_IN_PLACE_SAFE = (nn.ReLU, nn.LeakyReLU)


class MLP(nn.Module):
    """A multilayer perceptron whose output starts at exactly zero.

    Args:
        in_features: Input width, ``>= 1``.
        out_features: Output width, ``>= 1``.
        hidden_features: Width of each hidden layer, ``>= 1``.
        num_hidden_layers: Number of hidden layers, ``>= 0`` (0 gives one linear layer).
        activation: One of ``"relu"``, ``"leaky_relu"``, ``"elu"``, ``"silu"``, ``"tanh"``.

    Attributes:
        layers: The ``nn.Sequential`` of linear layers and activations; ``layers[-1]``
            is the zero-initialised output layer.

    Examples:
        >>> mlp = MLP(2, 6, hidden_features=16, num_hidden_layers=1)
        >>> [type(layer).__name__ for layer in mlp.layers]
        ['Linear', 'ReLU', 'Linear']
        >>> mlp(torch.ones(4, 2)).shape
        torch.Size([4, 6])
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        hidden_features: int = 128,
        num_hidden_layers: int = 2,
        activation: str = "relu",
    ) -> None:
        in_features = check_positive_int(in_features, "in_features")
        out_features = check_positive_int(out_features, "out_features")
        hidden_features = check_positive_int(hidden_features, "hidden_features")
        num_hidden_layers = check_nonnegative_int(num_hidden_layers, "num_hidden_layers")
        act = ACTIVATIONS[check_choice(activation, "activation", ACTIVATIONS)]
        super().__init__()
        self.in_features, self.out_features = in_features, out_features

        widths = [in_features] + [hidden_features] * num_hidden_layers
        layers: list[nn.Module] = []
        # In place after a linear layer: its output is fresh, and allocating a new buffer
        # per activation cost more than the activation itself when sampling (2 MB chunks).
        make_act = (lambda: act(inplace=True)) if act in _IN_PLACE_SAFE else act
        for width_in, width_out in itertools.pairwise(widths):
            layers += [nn.Linear(width_in, width_out), make_act()]
        last = nn.Linear(widths[-1], out_features)
        with torch.no_grad():
            last.weight.zero_()
            last.bias.zero_()
        self.layers = nn.Sequential(*layers, last)

    def forward(self, x: Tensor) -> Tensor:
        """Map ``x`` of shape ``(batch, in_features)`` to ``(batch, out_features)``."""
        first = self.layers[0]
        out = self._first_buffer(x)
        return self._after_first(_linear(first.weight, first.bias, x, out), x.shape[0])

    def with_shared_condition(self, h: Tensor, c: SharedCondition) -> Tensor:
        """``forward(cat([h, c.dense()]))``, with the condition's part of the first layer
        computed once per run of rows.

        Examples:
            >>> _ = torch.manual_seed(0)
            >>> mlp = MLP(3, 2, hidden_features=8)
            >>> _ = torch.nn.init.normal_(mlp.layers[-1].weight)
            >>> h, c = torch.randn(4, 1), SharedCondition(torch.randn(2, 2), repeats=2)
            >>> torch.allclose(mlp.with_shared_condition(h, c), mlp(torch.cat([h, c.dense()], 1)))
            True
        """
        first = self.layers[0]
        out = self._first_buffer(h)
        return self._after_first(c.linear(h, first.weight, first.bias, out=out), h.shape[0])

    def _first_buffer(self, h: Tensor) -> Tensor | None:
        """Where the first layer writes: a hidden buffer, or ``None`` (a fresh tensor) when
        the first layer is also the output layer or no buffer applies."""
        if len(self.layers) == 1:
            return None
        return hidden_buffer(0, h.shape[0], self.layers[0].out_features, h)

    def _after_first(self, h: Tensor, rows: int) -> Tensor:
        """The layers after the first linear one; hidden outputs alternate between the
        thread's two buffers in inference mode (see :mod:`sbinn.nn.scratch`)."""
        # Iterating, not slicing: `layers[1:]` builds a new Sequential on every call, which
        # was 9% of the sampling time with 1024-row chunks.
        layers = iter(self.layers)
        next(layers)
        last, slot = len(self.layers) - 1, 0
        for index, layer in enumerate(layers, start=1):
            if isinstance(layer, nn.Linear):
                slot = 1 - slot
                out = None if index == last else hidden_buffer(slot, rows, layer.out_features, h)
                h = _linear(layer.weight, layer.bias, h, out)
            elif type(layer) in _IN_PLACE_SAFE or not torch.is_inference_mode_enabled():
                h = layer(h)
            else:
                # Inference keeps no activations, so every activation may overwrite.
                h = _IN_PLACE_INFERENCE[type(layer)](layer, h)
        return h


def _linear(weight: Tensor, bias: Tensor | None, h: Tensor, out: Tensor | None) -> Tensor:
    """``h @ weight.T + bias``, written into ``out`` when given."""
    if out is None:
        return nn.functional.linear(h, weight, bias)
    if bias is None:
        return torch.mm(h, weight.T, out=out)
    return torch.addmm(bias, h, weight.T, out=out)


_IN_PLACE_INFERENCE = {
    nn.ELU: lambda layer, h: nn.functional.elu_(h, layer.alpha),
    nn.SiLU: lambda layer, h: nn.functional.silu(h, inplace=True),
    nn.Tanh: lambda layer, h: h.tanh_(),
}
