"""Properties every invertible block must have: exact inverse and the right log-determinant."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings

from tests.nn import (
    BLOCK_KINDS,
    autograd_log_dets,
    block_specs,
    prepared,
    rows_interact,
)

# Round-trip tolerance, on inputs of order one: a few ulps times the depth of the chain.
TOLERANCE = {torch.float32: 1e-5, torch.float64: 1e-10}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@settings(max_examples=100, deadline=None)
@given(spec=block_specs())
def test_inverse_undoes_forward_and_forward_undoes_inverse(spec, dtype):
    block, x, c = prepared(spec, dtype)
    y, log_det = block(x, c)
    x_back, log_det_back = block.inverse(y, c)
    z = 2.0 * x.flip(0)  # another set of points, read as latents
    z_forward, _ = block(block.inverse(z, c)[0], c)

    for out in (y, log_det, x_back, log_det_back, z_forward):
        assert out.dtype == dtype
    assert log_det.shape == log_det_back.shape == (spec["batch"],)
    tol = TOLERANCE[dtype]
    assert (x_back - x).abs().max() <= tol
    assert (z_forward - z).abs().max() <= tol
    assert (log_det_back + log_det).abs().max() <= tol * max(1.0, log_det.abs().max())


@settings(max_examples=100, deadline=None)
@given(spec=block_specs())
def test_log_det_matches_autograd_jacobian(spec):
    block, x, c = prepared(spec, torch.float64)
    y, log_det = block(x, c)
    expected = autograd_log_dets(lambda x_: block(x_, c)[0], x)
    assert (log_det - expected).abs().max() <= 1e-8

    _, log_det_inverse = block.inverse(y, c)
    expected_inverse = autograd_log_dets(lambda y_: block.inverse(y_, c)[0], y)
    assert (log_det_inverse - expected_inverse).abs().max() <= 1e-8


@settings(max_examples=30, deadline=None)
@given(spec=block_specs())
def test_rows_of_a_batch_do_not_interact(spec):
    block, x, c = prepared(spec, torch.float64)
    assert not rows_interact(lambda x_: block(x_, c)[0], x)
    assert not rows_interact(lambda y_: block.inverse(y_, c)[0], x)


@settings(max_examples=25, deadline=None)
@given(spec=block_specs(kinds=("affine", "additive", "network")))
def test_float32_and_float64_agree(spec):
    block, x, c = prepared(spec, torch.float64)
    y64, log_det64 = block(x, c)
    block32 = block.float()
    y32, log_det32 = block32(x.float(), None if c is None else c.float())
    assert torch.allclose(y32.double(), y64, atol=1e-4, rtol=1e-4)
    assert torch.allclose(log_det32.double(), log_det64, atol=1e-4, rtol=1e-4)


@settings(max_examples=30, deadline=None)
@given(spec=block_specs(kinds=("affine", "additive", "network")))
def test_gradients_reach_every_parameter(spec):
    block, x, c = prepared(spec, torch.float64)
    y, log_det = block(x, c)
    (y.square().sum() - log_det.sum()).backward()
    for name, parameter in block.named_parameters():
        assert parameter.grad is not None, name
        assert torch.isfinite(parameter.grad).all(), name


needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.mark.parametrize("device", ["meta", pytest.param("cuda", marks=needs_cuda)])
@pytest.mark.parametrize("kind", BLOCK_KINDS)
def test_blocks_compute_on_the_device_of_their_inputs(kind, device):
    """On "meta", any tensor made on the CPU inside a block would raise a device mismatch."""
    options = {"clamp": 2.0, "clamp_kind": "tanh", "coupling": "affine", "actnorm": True}
    spec = {
        "kind": kind,
        "dim": 5,
        "cond_dim": 2 if kind in ("affine", "additive", "network") else 0,
        "batch": 7,
        "seed": 0,
        "options": {**options, "depth": 2, "seed": 0},
    }
    block, x, c = prepared(spec, torch.float64)
    expected = block(x, c)[0]
    block = block.eval().to(device)
    x, c = x.to(device), None if c is None else c.to(device)
    z, log_det = block(x, c)
    x_back, log_det_back = block.inverse(z, c)
    for out in (z, log_det, x_back, log_det_back):
        assert out.device.type == device and out.dtype == torch.float64
    if device != "meta":
        assert torch.allclose(z.cpu(), expected, atol=1e-10)
        assert torch.allclose(x_back, x, atol=1e-10)
