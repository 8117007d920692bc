"""Every error path names what was expected and what was given."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch

from sbinn.nn import (
    MLP,
    ActNorm,
    AdditiveCoupling,
    AffineCoupling,
    InvertibleNetwork,
    Permutation,
    RandomOrthogonalMixing,
    soft_clamp,
)
from sbinn.nn.scale import log_scale


def stack(**kwargs):
    return lambda: InvertibleNetwork.coupling_stack(**{"dim": 4, "num_blocks": 2, **kwargs})


CONSTRUCTION_ERRORS = {
    "affine dim 1": (lambda: AffineCoupling(1), ValueError, "needs dim >= 2 .* got dim=1"),
    "additive dim 1": (lambda: AdditiveCoupling(1), ValueError, "needs dim >= 2 .* got dim=1"),
    "dim 0": (lambda: AffineCoupling(0), ValueError, "dim must be a positive integer, got 0"),
    "dim float": (
        lambda: AffineCoupling(2.5),
        TypeError,
        "dim must be a positive integer, got float 2.5",
    ),
    "cond_dim negative": (
        lambda: AffineCoupling(4, cond_dim=-1),
        ValueError,
        "cond_dim must be a non-negative integer, got -1",
    ),
    "clamp zero": (
        lambda: AffineCoupling(4, clamp=0.0),
        ValueError,
        "clamp alpha must be a positive finite number, got 0.0",
    ),
    "clamp negative": (
        lambda: AffineCoupling(4, clamp=-1),
        ValueError,
        "positive finite number, got -1",
    ),
    "clamp inf": (lambda: AffineCoupling(4, clamp=math.inf), ValueError, "finite number, got inf"),
    "clamp nan": (lambda: AffineCoupling(4, clamp=math.nan), ValueError, "finite number, got nan"),
    "clamp string": (
        lambda: AffineCoupling(4, clamp="2"),
        TypeError,
        "clamp alpha must be a positive number, got str",
    ),
    "scale kind": (
        lambda: AffineCoupling(4, clamp_kind="softplus"),
        ValueError,
        "scale kind must be one of 'tanh', 'atan', 'sigmoid'; got 'softplus'",
    ),
    "sigmoid scale still checks alpha": (
        lambda: AffineCoupling(4, clamp=0.0, clamp_kind="sigmoid"),
        ValueError,
        "clamp alpha must be a positive finite number, got 0.0",
    ),
    "log_scale kind": (
        lambda: log_scale(torch.zeros(2), 1.0, kind="exp"),
        ValueError,
        "scale kind must be one of 'tanh', 'atan', 'sigmoid'; got 'exp'",
    ),
    "activation": (
        lambda: AdditiveCoupling(4, activation="gelu"),
        ValueError,
        "activation must be one of 'relu', 'leaky_relu', 'elu', 'silu', 'tanh'; got 'gelu'",
    ),
    "activation case": (
        lambda: MLP(2, 2, activation="ReLU"),
        ValueError,
        "activation must be one of .*; got 'ReLU'",
    ),
    "mlp in_features": (lambda: MLP(0, 2), ValueError, "in_features must be .*, got 0"),
    "mlp out_features": (lambda: MLP(2, 0), ValueError, "out_features must be .*, got 0"),
    "mlp hidden_features": (
        lambda: MLP(2, 2, hidden_features=0),
        ValueError,
        "hidden_features must be a positive integer, got 0",
    ),
    "mlp layers": (
        lambda: MLP(2, 2, num_hidden_layers=-1),
        ValueError,
        "num_hidden_layers must be a non-negative integer, got -1",
    ),
    "soft_clamp alpha": (
        lambda: soft_clamp(torch.zeros(2), 0.0),
        ValueError,
        "positive finite number, got 0.0",
    ),
    "soft_clamp kind": (
        lambda: soft_clamp(torch.zeros(2), 1.0, kind="sigmoid"),
        ValueError,
        "one of 'tanh', 'atan'; got 'sigmoid'",
    ),
    "mixing seed negative": (
        lambda: RandomOrthogonalMixing(3, seed=-1),
        ValueError,
        "seed must be a non-negative integer, got -1",
    ),
    "mixing seed too large": (
        lambda: RandomOrthogonalMixing(3, seed=2**63),
        ValueError,
        "seed must be smaller than 2\\*\\*63, got 9223372036854775808",
    ),
    "mixing seed None": (
        lambda: RandomOrthogonalMixing(3, seed=None),
        TypeError,
        "seed must be a non-negative integer, got NoneType None",
    ),
    "permutation seed float": (
        lambda: Permutation(3, seed=1.5),
        TypeError,
        "seed must be a non-negative integer, got float 1.5",
    ),
    "permutation dim": (lambda: Permutation(0, seed=0), ValueError, "dim must be .*, got 0"),
    "actnorm eps": (
        lambda: ActNorm(2, eps=0.0),
        ValueError,
        "eps must be a positive finite number, got 0.0",
    ),
    "network empty": (lambda: InvertibleNetwork([]), ValueError, "at least one block, got 0"),
    "network non-block": (
        lambda: InvertibleNetwork([ActNorm(2), torch.nn.Linear(2, 2)]),
        TypeError,
        "block 1 must be an InvertibleModule, got Linear",
    ),
    "network dims": (
        lambda: InvertibleNetwork([ActNorm(4), Permutation(5, seed=0)]),
        ValueError,
        r"share dim: block 0 \(ActNorm\) has dim 4, block 1 \(Permutation\) has dim 5",
    ),
    "network cond_dims": (
        lambda: InvertibleNetwork(
            [AffineCoupling(4, cond_dim=3), ActNorm(4), AdditiveCoupling(4, cond_dim=2)]
        ),
        ValueError,
        r"share cond_dim: block 0 \(AffineCoupling\) has cond_dim 3, "
        r"block 2 \(AdditiveCoupling\) has cond_dim 2",
    ),
    "stack coupling": (
        stack(coupling="glow"),
        ValueError,
        "coupling must be one of 'affine', 'additive'; got 'glow'",
    ),
    "stack clamp kind": (stack(clamp_kind="relu"), ValueError, "scale kind must be one of"),
    "stack clamp": (stack(clamp=-2.0), ValueError, "positive finite number, got -2.0"),
    "stack activation": (stack(activation="swish"), ValueError, "got 'swish'"),
    "stack num_blocks": (
        stack(num_blocks=0),
        ValueError,
        "num_blocks must be a positive integer, got 0",
    ),
    "stack actnorm": (stack(actnorm="yes"), TypeError, "actnorm must be True or False, got str"),
    "stack seed": (stack(seed=-3), ValueError, "seed must be a non-negative integer, got -3"),
    "stack dim": (stack(dim=1), ValueError, "needs dim >= 2 .* got dim=1"),
}


@pytest.mark.parametrize(
    "build, error, message", CONSTRUCTION_ERRORS.values(), ids=CONSTRUCTION_ERRORS.keys()
)
def test_construction_errors(build, error, message):
    with pytest.raises(error, match=message):
        build()


def blocks(cond_dim):
    yield AffineCoupling(6, cond_dim=cond_dim, hidden_features=4)
    yield AdditiveCoupling(6, cond_dim=cond_dim, hidden_features=4)
    yield InvertibleNetwork.coupling_stack(6, 2, cond_dim=cond_dim, hidden_features=4)
    if cond_dim == 0:
        yield RandomOrthogonalMixing(6, seed=0)
        yield Permutation(6, seed=0)
        yield ActNorm(6)


def directions(block):
    """(bound method, how errors name the owner, how they name the input)."""
    inverse_input = "z" if isinstance(block, InvertibleNetwork) else "y"
    name = type(block).__name__
    yield block.forward, name, "x"
    yield block.inverse, f"{name}.inverse", inverse_input
    if isinstance(block, InvertibleNetwork):
        yield block.block_log_dets, f"{name}.block_log_dets", "x"


def cases(cond_dim):
    return [
        pytest.param(method, owner, name, id=f"{owner}-cond{cond_dim}")
        for block in blocks(cond_dim)
        for method, owner, name in directions(block)
    ]


@pytest.mark.parametrize("method, owner, name", cases(0))
def test_unconditional_call_errors(method, owner, name):
    for bad in (torch.zeros(32, 5), torch.zeros(6), torch.zeros(2, 6, 1)):
        expected = f"{owner} expects {name} of shape (batch, 6), got {tuple(bad.shape)}"
        with pytest.raises(ValueError, match=re.escape(expected)):
            method(bad)
    with pytest.raises(TypeError, match=f"{name} to be a floating-point tensor, got ndarray"):
        method(np.zeros((3, 6)))
    with pytest.raises(TypeError, match=f"{name} to be a floating-point tensor, got dtype"):
        method(torch.zeros(3, 6, dtype=torch.int64))
    expected = f"{owner} is unconditional (cond_dim=0) and expects c=None, got c of shape (3, 2)"
    with pytest.raises(ValueError, match=re.escape(expected)):
        method(torch.zeros(3, 6), torch.zeros(3, 2))


@pytest.mark.parametrize("method, owner, name", cases(3))
def test_conditional_call_errors(method, owner, name):
    x = torch.zeros(32, 6)
    for bad in (torch.zeros(32, 2), torch.zeros(31, 3), torch.zeros(32), torch.zeros(32, 3, 1)):
        expected = f"{owner} expects c of shape (32, 3) (batch of {name}, cond_dim), "
        with pytest.raises(ValueError, match=re.escape(expected + f"got {tuple(bad.shape)}")):
            method(x, bad)
    with pytest.raises(TypeError, match=re.escape(f"{owner} expects c of shape (32, 3), got None")):
        method(x)
    with pytest.raises(TypeError, match=f"dtype of {name} \\(torch.float32\\), got torch.float64"):
        method(x, torch.zeros(32, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match=re.escape(f"got {(32, 5)}")):
        method(torch.zeros(32, 5), torch.zeros(32, 3))


def test_example_message_from_the_contract():
    with pytest.raises(ValueError) as info:
        AffineCoupling(6)(torch.zeros(32, 5))
    assert str(info.value) == "AffineCoupling expects x of shape (batch, 6), got (32, 5)"
