"""A condition shared by groups of rows gives what the repeated dense condition gives."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sbinn.nn import AffineCoupling, SharedCondition
from tests.nn import block_specs, prepared


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@settings(max_examples=60, deadline=None)
@given(
    spec=block_specs(kinds=("affine", "additive", "network")),
    groups=st.integers(1, 5),
)
def test_shared_and_dense_conditions_give_the_same_maps(spec, groups, dtype):
    spec = spec | {"cond_dim": max(spec["cond_dim"], 1)}
    block, x, _ = prepared(spec, dtype)
    generator = torch.Generator().manual_seed(spec["seed"] % 2**31)
    values = torch.randn(groups, spec["cond_dim"], generator=generator, dtype=dtype)
    x = x[: len(x) // groups * groups] if len(x) >= groups else x.repeat(groups, 1)
    repeats = len(x) // groups
    shared, dense = SharedCondition(values, repeats), values.repeat_interleave(repeats, dim=0)
    tol = {torch.float32: 1e-5, torch.float64: 1e-12}[dtype]
    for run in (block, block.inverse):
        out_shared, log_det_shared = run(x, shared)
        out_dense, log_det_dense = run(x, dense)
        assert torch.allclose(out_shared, out_dense, atol=tol, rtol=tol)
        assert torch.allclose(log_det_shared, log_det_dense, atol=tol, rtol=tol)


def test_a_shared_condition_of_the_wrong_batch_or_width_is_refused():
    block = AffineCoupling(4, cond_dim=3, hidden_features=8)
    x = torch.zeros(5, 4)
    wrong_batch = SharedCondition(torch.zeros(2, 3), repeats=2)
    with pytest.raises(ValueError, match=r"expects c of shape \(5, 3\).*got \(4, 3\)"):
        block(x, wrong_batch)
    wrong_width = SharedCondition(torch.zeros(1, 2), repeats=5)
    with pytest.raises(ValueError, match=r"got \(5, 2\)"):
        block.inverse(x, wrong_width)


@pytest.mark.parametrize(
    ("values", "repeats", "error", "match"),
    [
        (torch.zeros(2, 3, dtype=torch.int64), 2, TypeError, "floating"),
        ([[0.0]], 2, TypeError, "got list"),
        (torch.zeros(3), 2, ValueError, r"\(runs, cond_dim\)"),
        (torch.zeros(2, 3), 0, ValueError, "repeats"),
        (torch.zeros(2, 3), 1.5, TypeError, "repeats"),
    ],
)
def test_malformed_shared_conditions_are_refused(values, repeats, error, match):
    with pytest.raises(error, match=match):
        SharedCondition(values, repeats)
