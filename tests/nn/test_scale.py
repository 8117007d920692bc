"""The scale functions of affine couplings, in particular Behrmann et al.'s sigmoid in (1/2, 1)."""

from __future__ import annotations

import math

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sbinn.nn.clamp import soft_clamp
from sbinn.nn.scale import SCALE_KINDS, log_scale

values = st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=20)


@settings(max_examples=50, deadline=None)
@given(s=values)
def test_sigmoid_scale_is_the_squashed_glow_sigmoid(s):
    s = torch.tensor(s, dtype=torch.float64)
    expected = torch.log(0.5 * torch.sigmoid(s + 2.0) + 0.5)
    assert torch.allclose(log_scale(s, 1.0, "sigmoid"), expected, rtol=0, atol=1e-15)


@settings(max_examples=50, deadline=None)
@given(s=values, alpha=st.floats(0.01, 10.0))
def test_sigmoid_scale_is_monotone_in_half_to_one_and_ignores_alpha(s, alpha):
    s = torch.tensor(sorted(s), dtype=torch.float64)
    out = log_scale(s, alpha, "sigmoid")
    assert torch.equal(out, log_scale(s, 1.0, "sigmoid"))
    assert (out.diff() >= 0).all()
    assert (out <= 0).all() and (out >= -math.log(2.0)).all()


@settings(max_examples=30, deadline=None)
@given(s=values, alpha=st.floats(0.01, 10.0), kind=st.sampled_from(["tanh", "atan"]))
def test_soft_clamp_kinds_delegate_to_soft_clamp(s, alpha, kind):
    s = torch.tensor(s, dtype=torch.float64)
    assert torch.equal(log_scale(s, alpha, kind), soft_clamp(s, alpha, kind))


def test_every_scale_kind_keeps_dtype_and_has_finite_gradients():
    for kind in SCALE_KINDS:
        for dtype in (torch.float32, torch.float64):
            s = torch.tensor([-1e4, -1.0, 0.0, 1.0, 1e4], dtype=dtype, requires_grad=True)
            out = log_scale(s, 2.0, kind)
            (gradient,) = torch.autograd.grad(out.sum(), s)
            assert out.dtype == dtype and torch.isfinite(out).all()
            assert torch.isfinite(gradient).all(), kind
