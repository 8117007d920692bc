from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sbinn.nn import soft_clamp

values = st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=20)
alphas = st.floats(0.01, 10.0)


@settings(max_examples=50, deadline=None)
@given(s=values, alpha=alphas)
def test_tanh_clamp_is_alpha_tanh(s, alpha):
    s = torch.tensor(s, dtype=torch.float64)
    assert torch.allclose(soft_clamp(s, alpha), alpha * torch.tanh(s / alpha), rtol=0, atol=1e-15)


@settings(max_examples=50, deadline=None)
@given(s=values, alpha=alphas)
def test_atan_clamp_is_scaled_arctan(s, alpha):
    s = torch.tensor(s, dtype=torch.float64)
    expected = (2 * alpha / math.pi) * torch.atan(s / alpha)
    assert torch.allclose(soft_clamp(s, alpha, kind="atan"), expected, rtol=0, atol=1e-15)


@settings(max_examples=50, deadline=None)
@given(s=values, alpha=alphas, kind=st.sampled_from(["tanh", "atan"]))
def test_clamp_is_odd_monotone_and_bounded_by_alpha(s, alpha, kind):
    s = torch.tensor(sorted(s), dtype=torch.float64)
    out = soft_clamp(s, alpha, kind)
    assert out.shape == s.shape and out.dtype == s.dtype
    assert (out.abs() <= alpha).all()
    assert (out.diff() >= 0).all()
    assert torch.allclose(soft_clamp(-s, alpha, kind), -out, atol=1e-15)


@pytest.mark.parametrize("kind, slope", [("tanh", 1.0), ("atan", 2 / math.pi)])
def test_clamp_is_linear_near_zero(kind, slope):
    s = torch.tensor([1e-6], dtype=torch.float64, requires_grad=True)
    (gradient,) = torch.autograd.grad(soft_clamp(s, 2.0, kind).sum(), s)
    assert gradient.item() == pytest.approx(slope, rel=1e-9)


def test_clamp_keeps_dtype():
    for dtype in (torch.float32, torch.float64):
        assert soft_clamp(torch.ones(3, dtype=dtype), 1.0).dtype == dtype
