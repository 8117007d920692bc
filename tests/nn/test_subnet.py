from __future__ import annotations

import pytest
import torch
from torch import nn

from sbinn.nn import MLP
from sbinn.nn.subnet import ACTIVATIONS


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_mlp_output_is_zero_at_initialisation(activation):
    torch.manual_seed(0)
    mlp = MLP(3, 5, hidden_features=7, num_hidden_layers=2, activation=activation)
    last = mlp.layers[-1]
    assert torch.equal(last.weight, torch.zeros(5, 7))
    assert torch.equal(last.bias, torch.zeros(5))
    assert torch.equal(mlp(torch.randn(4, 3)), torch.zeros(4, 5))
    assert isinstance(mlp.layers[1], ACTIVATIONS[activation])


def test_hidden_layers_are_randomly_initialised_so_gradients_flow():
    torch.manual_seed(0)
    mlp = MLP(2, 2, hidden_features=8)
    assert all(
        layer.weight.abs().sum() > 0 for layer in mlp.layers[:-1] if isinstance(layer, nn.Linear)
    )
    mlp(torch.randn(4, 2)).sum().backward()
    assert mlp.layers[-1].weight.grad.abs().sum() > 0


@pytest.mark.parametrize("num_hidden_layers", [0, 1, 3])
def test_mlp_depth_and_widths(num_hidden_layers):
    mlp = MLP(4, 6, hidden_features=9, num_hidden_layers=num_hidden_layers)
    linears = [layer for layer in mlp.layers if isinstance(layer, nn.Linear)]
    assert len(linears) == num_hidden_layers + 1
    assert linears[0].in_features == 4 and linears[-1].out_features == 6
    assert all(layer.out_features == 9 for layer in linears[:-1])
    assert mlp(torch.zeros(2, 4)).shape == (2, 6)


def test_mlp_converts_to_float64():
    mlp = MLP(2, 3, hidden_features=4).double()
    assert mlp(torch.zeros(1, 2, dtype=torch.float64)).dtype == torch.float64
