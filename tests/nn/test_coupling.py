from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sbinn.nn import AdditiveCoupling, AffineCoupling
from sbinn.nn.clamp import CLAMP_KINDS
from tests.nn import (
    autograd_log_dets,
    block_specs,
    build_block,
    perturb,
    prepared,
)

couplings = block_specs(kinds=("affine", "additive"))


@settings(max_examples=40, deadline=None)
@given(
    spec=couplings,
    activation=st.sampled_from(["relu", "leaky_relu", "elu", "silu", "tanh"]),
    clamp_kind=st.sampled_from(CLAMP_KINDS),
)
def test_couplings_start_as_the_exact_identity(spec, activation, clamp_kind):
    """The soft clamps are 0 at 0, so zero-initialised subnets give the identity."""
    torch.manual_seed(spec["seed"] % 2**31)
    options = {"hidden_features": 8, "activation": activation, "cond_dim": spec["cond_dim"]}
    if spec["kind"] == "affine":
        options["clamp_kind"] = clamp_kind
        block = AffineCoupling(spec["dim"], **options)
    else:
        block = AdditiveCoupling(spec["dim"], **options)
    x = 10.0 * torch.randn(spec["batch"], spec["dim"])
    c = torch.randn(spec["batch"], spec["cond_dim"]) if spec["cond_dim"] else None
    y, log_det = block(x, c)
    x_back, log_det_back = block.inverse(x, c)
    assert torch.equal(y, x) and torch.equal(x_back, x)
    assert torch.equal(log_det, torch.zeros(spec["batch"]))
    assert torch.equal(log_det_back, torch.zeros(spec["batch"]))


@settings(max_examples=40, deadline=None)
@given(spec=block_specs(kinds=("affine",)))
def test_saturated_affine_coupling_stays_invertible_with_bounded_log_det(spec):
    """Weights of std 1 push |s| into the clamp; the block must stay exact where it matters."""
    block = build_block("affine", spec["dim"], spec["cond_dim"], spec["options"]).double()
    generator = torch.Generator().manual_seed(spec["seed"])
    perturb(block, generator, std=1.0)
    x = torch.randn(spec["batch"], spec["dim"], generator=generator, dtype=torch.float64)
    c = None
    if spec["cond_dim"]:
        c = torch.randn(spec["batch"], spec["cond_dim"], generator=generator, dtype=torch.float64)

    y, log_det = block(x, c)
    x_back, _ = block.inverse(y, c)
    assert (x_back - x).abs().max() <= 1e-12 * max(1.0, y.abs().max())
    # Each of the dim log-scales lies in (-alpha, alpha), or in (-log 2, 0) for the sigmoid;
    # a saturated sigmoid rounds to the closed end 0 (hypothesis found log_det == 0.0).
    if block.clamp_kind == "sigmoid":
        assert (log_det <= 0).all() and (log_det >= -spec["dim"] * math.log(2.0)).all()
    else:
        assert log_det.abs().max() <= spec["dim"] * block.clamp
    expected = autograd_log_dets(lambda x_: block(x_, c)[0], x)
    assert (log_det - expected).abs().max() <= 1e-8


@settings(max_examples=30, deadline=None)
@given(spec=block_specs(kinds=("affine", "additive", "network")).filter(lambda s: s["cond_dim"]))
def test_condition_changes_the_output_once_weights_are_perturbed(spec):
    block, x, c = prepared(spec, torch.float64)
    y, _ = block(x, c)
    y_other, _ = block(x, c + 1.0)
    assert not torch.allclose(y, y_other)
    # ... and the inverse needs the same condition to undo the forward.
    assert torch.allclose(block.inverse(y, c)[0], x, atol=1e-10)


def test_additive_coupling_has_zero_log_det_after_training_like_perturbation():
    block = AdditiveCoupling(5, hidden_features=8)
    perturb(block, torch.Generator().manual_seed(0), std=1.0)
    x = torch.randn(7, 5)
    y, log_det = block(x)
    assert not torch.allclose(y, x)
    assert torch.equal(log_det, torch.zeros(7))
    assert torch.equal(block.inverse(y)[1], torch.zeros(7))


@pytest.mark.parametrize("dim, split", [(2, 1), (3, 1), (4, 2), (9, 4)])
def test_first_half_is_the_floor_of_dim_over_two(dim, split):
    block = AffineCoupling(dim, cond_dim=2, hidden_features=4)
    assert block.split == split
    assert block.subnet2.in_features == split + 2
    assert block.subnet2.out_features == 2 * (dim - split)
    assert block.subnet1.in_features == dim - split + 2
    assert block.subnet1.out_features == 2 * split


def test_affine_coupling_uses_the_requested_clamp():
    """With a huge raw log-scale, every s̃ saturates at alpha: log_det = dim · alpha."""
    block = AffineCoupling(4, hidden_features=4, clamp=0.75, clamp_kind="atan")
    with torch.no_grad():
        for subnet in (block.subnet1, block.subnet2):
            subnet.layers[-1].bias[:2] = 1e6  # the s half of [s, t]
    _, log_det = block(torch.randn(3, 4))
    assert torch.allclose(log_det, torch.full((3,), 4 * 0.75), rtol=1e-5)


def test_fresh_sigmoid_coupling_scales_by_the_paper_s_initial_value():
    """Behrmann et al.'s g(s) = (1 + sigmoid(s + 2)) / 2 at s = 0, for both halves."""
    block = AffineCoupling(4, hidden_features=4, clamp_kind="sigmoid").double()
    x = torch.randn(6, 4, dtype=torch.float64)
    y, log_det = block(x)
    g = (1 + 1 / (1 + math.exp(-2.0))) / 2
    assert torch.allclose(y, g * x, rtol=1e-14)
    assert torch.allclose(log_det, torch.full((6,), 4 * math.log(g), dtype=torch.float64))


@pytest.mark.parametrize("bias, scale", [(1e6, 1.0), (-1e6, 0.5)])
def test_sigmoid_scale_saturates_at_the_ends_of_one_half_to_one(bias, scale):
    """However large |s|, the inverse of each step expands by at most 2."""
    block = AffineCoupling(4, hidden_features=4, clamp_kind="sigmoid").double()
    with torch.no_grad():
        for subnet in (block.subnet1, block.subnet2):
            subnet.layers[-1].bias[:2] = bias
    x = torch.randn(3, 4, dtype=torch.float64)
    y, log_det = block(x)
    assert torch.allclose(y, scale * x)
    assert torch.allclose(log_det, torch.full((3,), 4 * math.log(scale), dtype=torch.float64))
    assert torch.allclose(block.inverse(y)[0], x, rtol=0, atol=1e-14)
