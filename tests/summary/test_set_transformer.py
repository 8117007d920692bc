"""SetTransformer alone; the properties it shares with DeepSet are in test_set_networks."""

from __future__ import annotations

import pytest
import torch

from sbinn.summary import SetTransformer, pad_sets


@pytest.mark.parametrize("num_blocks", [0, 1, 3])
@pytest.mark.parametrize("num_seeds", [1, 3])
def test_blocks_and_seeds(num_blocks, num_seeds):
    torch.manual_seed(0)
    net = SetTransformer(
        2,
        5,
        hidden_features=8,
        num_heads=2,
        num_inducing=4,
        num_blocks=num_blocks,
        num_seeds=num_seeds,
    )
    assert len(net.blocks) == num_blocks
    assert net.pool.seeds.shape == (num_seeds, 8)
    assert net.head[0].in_features == num_seeds * 8 + 1
    x, mask = pad_sets([torch.randn(3, 2), torch.randn(40, 2)])
    assert net(x, mask).shape == (2, 5)


def test_inducing_points_fewer_and_more_than_elements():
    torch.manual_seed(0)
    net = SetTransformer(1, 2, hidden_features=8, num_heads=1, num_inducing=32).eval()
    x, mask = pad_sets([torch.randn(1, 1), torch.randn(100, 1)])
    h = net(x, mask)
    assert h.shape == (2, 2) and bool(torch.isfinite(h).all())


def test_padded_elements_are_never_read_as_keys():
    torch.manual_seed(0)
    net = SetTransformer(2, 3, hidden_features=8, num_heads=2, num_inducing=4).eval()
    weights = []

    def record(module, args, kwargs, output):
        kwargs["need_weights"] = True
        weights.append(module.forward(*args, **kwargs)[1])

    for module in net.modules():
        if isinstance(module, torch.nn.MultiheadAttention):
            module.register_forward_hook(record, with_kwargs=True)
    x, mask = pad_sets([torch.randn(2, 2), torch.randn(6, 2)])
    net(x, mask)
    element_keyed = [w for w in weights if w.shape[-1] == 6]
    assert len(element_keyed) == 3  # two ISABs' inducing points, and the PMA seeds
    assert all(torch.equal(w[0, :, 2:], torch.zeros_like(w[0, :, 2:])) for w in element_keyed)


ERRORS = {
    "element_features": (
        lambda: SetTransformer(0, 2),
        ValueError,
        "element_features must be .*, got 0",
    ),
    "out_features": (lambda: SetTransformer(2, 0), ValueError, "out_features must be .*, got 0"),
    "num_heads": (
        lambda: SetTransformer(2, 2, num_heads=0),
        ValueError,
        "num_heads must be a positive integer, got 0",
    ),
    "heads do not divide": (
        lambda: SetTransformer(2, 2, hidden_features=30, num_heads=4),
        ValueError,
        "hidden_features must be a multiple of num_heads=4, got 30",
    ),
    "num_inducing": (
        lambda: SetTransformer(2, 2, num_inducing=0),
        ValueError,
        "num_inducing must be a positive integer, got 0",
    ),
    "num_blocks": (
        lambda: SetTransformer(2, 2, num_blocks=-1),
        ValueError,
        "num_blocks must be a non-negative integer, got -1",
    ),
    "num_seeds": (
        lambda: SetTransformer(2, 2, num_seeds=0),
        ValueError,
        "num_seeds must be a positive integer, got 0",
    ),
    "include_set_size": (
        lambda: SetTransformer(2, 2, include_set_size=1),
        TypeError,
        "include_set_size must be a bool, got 1",
    ),
    "activation": (
        lambda: SetTransformer(2, 2, activation="gelu"),
        ValueError,
        "activation must be one of .*; got 'gelu'",
    ),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_construction_errors_say_what_was_expected_and_given(case):
    build, error, message = ERRORS[case]
    with pytest.raises(error, match=message):
        build()
