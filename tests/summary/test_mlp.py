"""The vector summary network."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from sbinn.nn.subnet import ACTIVATIONS
from sbinn.summary import MLPSummary
from sbinn.summary.mlp import build_mlp


@pytest.mark.parametrize("num_hidden_layers", [0, 1, 3])
def test_shapes_widths_and_attributes(num_hidden_layers):
    torch.manual_seed(0)
    net = MLPSummary(4, 6, hidden_features=9, num_hidden_layers=num_hidden_layers)
    assert (net.in_features, net.out_features) == (4, 6)
    linears = [layer for layer in net.layers if isinstance(layer, nn.Linear)]
    assert len(linears) == num_hidden_layers + 1
    assert all(layer.out_features == 9 for layer in linears[:-1])
    assert net(torch.randn(5, 4)).shape == (5, 6)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_output_depends_on_the_input_at_initialisation(activation):
    torch.manual_seed(0)
    net = MLPSummary(3, 4, activation=activation)
    assert isinstance(net.layers[1], ACTIVATIONS[activation])
    assert net.layers[-1].weight.abs().sum() > 0
    h = net(torch.randn(32, 3))
    assert bool((h.std(dim=0) > 1e-4).all())


def test_gradients_reach_every_parameter_and_the_input():
    torch.manual_seed(0)
    net = MLPSummary(3, 2)
    x = torch.randn(8, 3, requires_grad=True)
    net(x).square().sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())
    assert x.grad.abs().sum() > 0


def test_float64():
    net = MLPSummary(2, 3).double()
    assert net(torch.zeros(1, 2, dtype=torch.float64)).dtype == torch.float64


def test_build_mlp_has_no_activation_after_the_last_layer():
    layers = build_mlp(2, 3, 4, 2, "tanh")
    assert [type(layer).__name__ for layer in layers] == [
        "Linear",
        "Tanh",
        "Linear",
        "Tanh",
        "Linear",
    ]


ERRORS = {
    "in_features": (lambda: MLPSummary(0, 2), ValueError, "in_features must be .*, got 0"),
    "out_features": (lambda: MLPSummary(2, 0), ValueError, "out_features must be .*, got 0"),
    "hidden_features": (
        lambda: MLPSummary(2, 2, hidden_features=1.5),
        TypeError,
        "hidden_features must be a positive integer, got float 1.5",
    ),
    "num_hidden_layers": (
        lambda: MLPSummary(2, 2, num_hidden_layers=-1),
        ValueError,
        "num_hidden_layers must be a non-negative integer, got -1",
    ),
    "activation": (
        lambda: MLPSummary(2, 2, activation="gelu"),
        ValueError,
        "activation must be one of 'relu', 'leaky_relu', 'elu', 'silu', 'tanh'; got 'gelu'",
    ),
    "1-D input": (
        lambda: MLPSummary(3, 2)(torch.zeros(3)),
        ValueError,
        r"MLPSummary expects x of shape \(batch, 3\), got \(3,\); "
        r"for one observation use x\[None\]",
    ),
    "wrong width": (
        lambda: MLPSummary(3, 2)(torch.zeros(4, 2)),
        ValueError,
        r"MLPSummary expects x of shape \(batch, 3\), got \(4, 2\)$",
    ),
    "integer input": (
        lambda: MLPSummary(3, 2)(torch.zeros(4, 3, dtype=torch.int64)),
        TypeError,
        "MLPSummary expects x to be a floating-point tensor, got dtype torch.int64",
    ),
    "list input": (
        lambda: MLPSummary(3, 2)([[0.0, 0.0, 0.0]]),
        TypeError,
        "MLPSummary expects x to be a floating-point tensor, got list",
    ),
    "nan": (
        lambda: MLPSummary(3, 2)(torch.tensor([[0.0] * 3, [0.0, float("nan"), 0.0]])),
        ValueError,
        r"MLPSummary expects finite observations, got NaN or inf in 1 row\(s\), first at row 1",
    ),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_errors_say_what_was_expected_and_given(case):
    build, error, message = ERRORS[case]
    with pytest.raises(error, match=message):
        build()
