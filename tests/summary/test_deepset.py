"""DeepSet alone; the properties it shares with SetTransformer are in test_set_networks."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from sbinn.summary import POOLINGS, DeepSet, pad_sets

POOLING_CHOICES = [
    combination
    for size in range(1, len(POOLINGS) + 1)
    for combination in itertools.permutations(POOLINGS, size)
]


@pytest.mark.parametrize("pooling", POOLING_CHOICES)
@pytest.mark.parametrize("include_set_size", [True, False])
def test_pooling_choices_set_the_width_of_rho(pooling, include_set_size):
    torch.manual_seed(0)
    net = DeepSet(2, 3, hidden_features=8, pooling=pooling, include_set_size=include_set_size)
    assert net.pooling == pooling
    assert net.rho[0].in_features == 8 * len(pooling) + include_set_size
    x, mask = pad_sets([torch.randn(4, 2), torch.randn(9, 2)])
    assert net(x, mask).shape == (2, 3)


def test_a_single_pooling_may_be_given_as_a_string():
    assert DeepSet(2, 3, pooling="max").pooling == ("max",)


def test_sum_pooling_is_the_masked_sum_over_the_fixed_scale():
    torch.manual_seed(0)
    net = DeepSet(2, 3, hidden_features=8, pooling="sum", include_set_size=False, sum_scale=10.0)
    sets = [torch.randn(4, 2), torch.randn(500, 2)]
    x, mask = pad_sets(sets)
    pooled = []
    net.rho.register_forward_hook(lambda module, inputs, output: pooled.append(inputs[0]))
    net(x, mask)
    expected = torch.stack([net.psi(s).sum(dim=0) / 10.0 for s in sets])
    assert torch.allclose(pooled[0], expected, atol=1e-5)


def test_max_pooling_ignores_padding_even_when_every_real_value_is_negative():
    torch.manual_seed(0)
    net = DeepSet(1, 2, hidden_features=4, pooling="max", include_set_size=False).eval()
    with torch.no_grad():
        net.psi[-1].bias.fill_(-100.0)
    x, mask = pad_sets([torch.randn(2, 1), torch.randn(30, 1)])
    assert torch.allclose(net(x[:1, :2]), net(x, mask)[:1], atol=1e-5)


def test_pooled_values_stay_moderate_for_sets_of_500():
    torch.manual_seed(0)
    net = DeepSet(3, 2)
    pooled = []
    net.rho.register_forward_hook(lambda module, inputs, output: pooled.append(inputs[0]))
    net(torch.randn(2, 500, 3))
    assert pooled[0][:, -1].tolist() == pytest.approx([math.log(500)] * 2)
    assert pooled[0].abs().max() < 50


ERRORS = {
    "element_features": (lambda: DeepSet(0, 2), ValueError, "element_features must be .*, got 0"),
    "out_features": (lambda: DeepSet(2, 0), ValueError, "out_features must be .*, got 0"),
    "hidden_features": (
        lambda: DeepSet(2, 2, hidden_features=0),
        ValueError,
        "hidden_features must be a positive integer, got 0",
    ),
    "num_hidden_layers": (
        lambda: DeepSet(2, 2, num_hidden_layers=-1),
        ValueError,
        "num_hidden_layers must be a non-negative integer, got -1",
    ),
    "unknown pooling": (
        lambda: DeepSet(2, 2, pooling=("mean", "median")),
        ValueError,
        "every entry of pooling must be one of 'mean', 'sum', 'max'; got 'median'",
    ),
    "no pooling": (
        lambda: DeepSet(2, 2, pooling=()),
        ValueError,
        r"pooling must be a non-empty sequence of 'mean', 'sum', 'max', got \(\)",
    ),
    "repeated pooling": (
        lambda: DeepSet(2, 2, pooling=("sum", "sum")),
        ValueError,
        r"pooling must not repeat an entry, got \('sum', 'sum'\)",
    ),
    "include_set_size": (
        lambda: DeepSet(2, 2, include_set_size="yes"),
        TypeError,
        "include_set_size must be a bool, got 'yes'",
    ),
    "sum_scale zero": (
        lambda: DeepSet(2, 2, sum_scale=0),
        ValueError,
        "sum_scale must be a positive finite number, got 0",
    ),
    "sum_scale inf": (
        lambda: DeepSet(2, 2, sum_scale=math.inf),
        ValueError,
        "sum_scale must be a positive finite number, got inf",
    ),
    "activation": (
        lambda: DeepSet(2, 2, activation="gelu"),
        ValueError,
        "activation must be one of .*; got 'gelu'",
    ),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_construction_errors_say_what_was_expected_and_given(case):
    build, error, message = ERRORS[case]
    with pytest.raises(error, match=message):
        build()
