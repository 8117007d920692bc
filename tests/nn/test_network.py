from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings

from sbinn.nn import (
    ActNorm,
    AdditiveCoupling,
    AffineCoupling,
    InvertibleNetwork,
    Permutation,
    RandomOrthogonalMixing,
)
from tests.nn import (
    block_specs,
    prepared,
)

networks = block_specs(kinds=("network",))


@settings(max_examples=30, deadline=None)
@given(spec=networks)
def test_block_log_dets_add_up_to_the_network_log_det(spec):
    net, x, c = prepared(spec, torch.float64)
    _, log_det = net(x, c)
    per_block = net.block_log_dets(x, c)
    assert len(per_block) == len(net.blocks)
    assert all(value.shape == (spec["batch"],) for value in per_block)
    assert torch.allclose(torch.stack(per_block).sum(dim=0), log_det, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(spec=networks)
def test_coupling_stack_structure_follows_the_options(spec):
    options = spec["options"]
    net = InvertibleNetwork.coupling_stack(
        spec["dim"],
        options["depth"],
        cond_dim=spec["cond_dim"],
        coupling=options["coupling"],
        hidden_features=8,
        actnorm=options["actnorm"],
        seed=options["seed"],
    )
    coupling = AffineCoupling if options["coupling"] == "affine" else AdditiveCoupling
    pattern = [ActNorm] * options["actnorm"] + [coupling, RandomOrthogonalMixing]
    assert [type(block) for block in net.blocks] == pattern * options["depth"]
    assert net.dim == spec["dim"] and net.cond_dim == spec["cond_dim"]
    mixings = [block for block in net.blocks if isinstance(block, RandomOrthogonalMixing)]
    assert len({block.seed for block in mixings}) == len(mixings), "mixings must differ"


def test_coupling_stack_seed_fixes_the_mixings_only():
    def mixings(seed):
        net = InvertibleNetwork.coupling_stack(4, 3, hidden_features=4, seed=seed)
        return [block.weight for block in net.blocks if isinstance(block, RandomOrthogonalMixing)]

    assert all(torch.equal(a, b) for a, b in zip(mixings(1), mixings(1), strict=True))
    assert not any(torch.equal(a, b) for a, b in zip(mixings(1), mixings(2), strict=True))


def test_affine_stack_passes_clamp_options_through():
    net = InvertibleNetwork.coupling_stack(3, 2, clamp=0.5, clamp_kind="atan", hidden_features=4)
    couplings = [block for block in net.blocks if isinstance(block, AffineCoupling)]
    assert all(b.clamp == 0.5 and b.clamp_kind == "atan" for b in couplings)


def test_condition_goes_only_to_conditional_blocks():
    seen = []

    class Recorder(Permutation):
        def _forward(self, x, c):
            seen.append(c)
            return super()._forward(x, c)

    coupling = AffineCoupling(4, cond_dim=2, hidden_features=4)
    net = InvertibleNetwork([Recorder(4, seed=0), coupling, ActNorm(4)])
    assert net.cond_dim == 2
    x, c = torch.randn(3, 4), torch.randn(3, 2)
    z, _ = net(x, c)
    assert seen == [None]
    assert torch.allclose(net.inverse(z, c)[0], x, atol=1e-6)


def test_unconditional_network_of_mixings_inverts_and_has_zero_log_det():
    net = InvertibleNetwork(
        [RandomOrthogonalMixing(5, seed=s) for s in range(4)] + [Permutation(5, 0)]
    )
    x = torch.randn(6, 5, dtype=torch.float64)
    net.double()
    z, log_det = net(x)
    assert torch.equal(log_det, torch.zeros(6, dtype=torch.float64))
    assert torch.allclose(net.inverse(z)[0], x, atol=1e-13)


def test_networks_nest():
    inner = InvertibleNetwork.coupling_stack(3, 1, cond_dim=1, hidden_features=4)
    outer = InvertibleNetwork([inner, ActNorm(3), inner])
    assert outer.cond_dim == 1
    x, c = torch.randn(4, 3), torch.randn(4, 1)
    z, _ = outer(x, c)
    assert torch.allclose(outer.inverse(z, c)[0], x, atol=1e-5)


def test_state_dict_round_trip_reproduces_the_network():
    torch.manual_seed(0)
    kwargs = {"cond_dim": 2, "hidden_features": 8, "actnorm": True, "seed": 3}
    net = InvertibleNetwork.coupling_stack(4, 2, **kwargs)
    x, c = torch.randn(9, 4), torch.randn(9, 2)
    net(x, c)  # initialise the ActNorms
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.1)
    restored = InvertibleNetwork.coupling_stack(4, 2, **kwargs)
    restored.load_state_dict(net.state_dict())
    net.eval()
    restored.eval()
    assert torch.equal(restored(x, c)[0], net(x, c)[0])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_train_step_keeps_the_network_invertible(dtype):
    torch.manual_seed(0)
    net = InvertibleNetwork.coupling_stack(3, 3, cond_dim=1, hidden_features=16, actnorm=True).to(
        dtype
    )
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-2)
    x, c = torch.randn(64, 3, dtype=dtype) * 2 + 1, torch.randn(64, 1, dtype=dtype)
    for _ in range(5):
        z, log_det = net(x, c)
        loss = (0.5 * z.square().sum(dim=1) - log_det).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    z, _ = net(x, c)
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    assert (net.inverse(z, c)[0] - x).abs().max() <= tol * x.abs().max()
