from __future__ import annotations

import io

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sbinn.nn import ActNorm


@settings(max_examples=50, deadline=None)
@given(
    dim=st.integers(1, 9),
    batch=st.integers(2, 33),
    seed=st.integers(0, 2**32 - 1),
    loc=st.floats(-100, 100),
    log10_scale=st.floats(-3, 3),
    dtype=st.sampled_from([torch.float32, torch.float64]),
)
def test_first_training_batch_comes_out_standardised(dim, batch, seed, loc, log10_scale, dtype):
    generator = torch.Generator().manual_seed(seed)
    noise = torch.randn(batch, dim, generator=generator, dtype=torch.float64)
    x = (10**log10_scale * (loc + noise)).to(dtype)  # loc in units of the spread
    norm = ActNorm(dim).to(dtype)
    y, log_det = norm(x)
    assert y.dtype == dtype and bool(norm.initialized)
    spread = x.double().std(dim=0, correction=0)
    # Subtracting the mean cancels digits: rounding error grows with |x| / spread.
    tol = 10 * torch.finfo(dtype).eps * (x.double().abs().max(dim=0).values / spread).max()
    assert y.double().mean(dim=0).abs().max() <= tol
    # eps keeps constant features finite and pulls the spread just below 1.
    expected_std = spread / (spread + norm.eps)
    assert (y.double().std(dim=0, correction=0) - expected_std).abs().max() <= tol
    assert ((expected_std - 1).abs() <= 1e-3)[spread >= 1e-3].all()
    assert torch.allclose(log_det, norm.log_scale.sum().expand(batch))
    # The next batch reuses the parameters: no second initialisation.
    bias = norm.bias.detach().clone()
    norm(x + 1.0)
    assert torch.equal(norm.bias, bias)


def test_log_det_is_the_sum_of_log_scales_and_inverse_negates_it():
    norm = ActNorm(3)
    with torch.no_grad():
        norm.log_scale.copy_(torch.tensor([0.5, -1.0, 2.0]))
        norm.bias.copy_(torch.tensor([1.0, 2.0, 3.0]))
    norm.initialized.fill_(True)
    x = torch.randn(4, 3)
    y, log_det = norm(x)
    assert torch.allclose(y, (x + norm.bias) * torch.exp(norm.log_scale))
    assert torch.allclose(log_det, torch.full((4,), 1.5))
    x_back, log_det_back = norm.inverse(y)
    assert torch.allclose(x_back, x, atol=1e-6)
    assert torch.allclose(log_det_back, torch.full((4,), -1.5))


def test_inverse_and_eval_forward_before_initialisation_are_the_identity():
    norm = ActNorm(2)
    x = 3.0 + torch.randn(5, 2)
    y, log_det = norm.inverse(x)
    assert torch.equal(y, x) and torch.equal(log_det, torch.zeros(5))
    assert not bool(norm.initialized), "inverse must not initialise"
    norm.eval()
    y, log_det = norm(x)
    assert torch.equal(y, x) and torch.equal(log_det, torch.zeros(5))
    assert not bool(norm.initialized), "eval-mode forward must not initialise"


def test_a_single_row_batch_waits_for_a_batch_with_spread():
    norm = ActNorm(2)
    x = torch.tensor([[1.0, 2.0]])
    y, _ = norm(x)
    assert torch.equal(y, x) and not bool(norm.initialized)
    norm(torch.tensor([[0.0, 0.0], [2.0, 4.0]]))
    assert bool(norm.initialized)
    assert torch.allclose(norm.bias, torch.tensor([-1.0, -2.0]))


def test_constant_feature_stays_finite():
    norm = ActNorm(2)
    y, log_det = norm(torch.tensor([[1.0, 5.0], [3.0, 5.0]]))
    assert torch.isfinite(y).all() and torch.isfinite(log_det).all()


def test_state_dict_round_trip_keeps_initialisation():
    torch.manual_seed(0)
    norm = ActNorm(3)
    norm(torch.randn(10, 3) * 4.0 + 2.0)
    buffer = io.BytesIO()
    torch.save(norm.state_dict(), buffer)
    buffer.seek(0)
    restored = ActNorm(3)
    restored.load_state_dict(torch.load(buffer, weights_only=True))
    assert bool(restored.initialized)
    assert torch.equal(restored.bias, norm.bias)
    x = torch.randn(6, 3)
    assert torch.equal(restored(x)[0], norm(x)[0]), "a loaded ActNorm must not re-initialise"


def test_initialisation_builds_no_graph_and_gradients_flow_afterwards():
    norm = ActNorm(2)
    x = torch.randn(8, 2, requires_grad=True)
    y, log_det = norm(x)
    (y.square().sum() - log_det.sum()).backward()
    assert norm.log_scale.grad is not None and norm.bias.grad is not None
    assert x.grad is not None


def test_float64_after_initialisation_in_float32():
    norm = ActNorm(2)
    norm(torch.randn(8, 2))
    norm.double()
    assert norm.initialized.dtype == torch.bool and bool(norm.initialized)
    y, log_det = norm(torch.randn(3, 2, dtype=torch.float64))
    assert y.dtype == log_det.dtype == torch.float64


def test_explicit_initialisation_checks_its_batch():
    with pytest.raises(ValueError, match=r"at least 2 rows .* got 1"):
        ActNorm(2).initialize(torch.zeros(1, 2))
    with pytest.raises(ValueError, match=r"expects x of shape \(batch, 2\), got \(4, 3\)"):
        ActNorm(2).initialize(torch.zeros(4, 3))
