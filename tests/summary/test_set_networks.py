"""Properties every set network has: permutation and padding invariance, any set size, masks."""

from __future__ import annotations

import functools

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sbinn.summary import DeepSet, SetTransformer, pad_sets

ELEMENT_FEATURES = 3

BUILDERS = {
    "DeepSet": lambda **kw: DeepSet(ELEMENT_FEATURES, 4, hidden_features=16, **kw),
    "DeepSet max": lambda **kw: DeepSet(
        ELEMENT_FEATURES, 4, hidden_features=16, pooling=("mean", "sum", "max"), **kw
    ),
    "SetTransformer": lambda **kw: SetTransformer(
        ELEMENT_FEATURES, 4, hidden_features=16, num_heads=2, num_inducing=8, **kw
    ),
    "SetTransformer 3 seeds": lambda **kw: SetTransformer(
        ELEMENT_FEATURES, 4, hidden_features=16, num_heads=4, num_inducing=4, num_seeds=3, **kw
    ),
}
NAMES = sorted(BUILDERS)


@functools.cache
def network(name: str, include_set_size: bool = True) -> torch.nn.Module:
    """One network per kind for the whole module; hypothesis examples only read it."""
    torch.manual_seed(0)
    return BUILDERS[name](include_set_size=include_set_size).eval()


def random_sets(sizes: list[int], seed: int) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(n, ELEMENT_FEATURES, generator=generator) for n in sizes]


def with_garbage(x: torch.Tensor, mask: torch.Tensor, extra: int, seed: int) -> torch.Tensor:
    """``x`` widened by ``extra`` slots, every padded slot filled with NaN, inf or huge values."""
    generator = torch.Generator().manual_seed(seed)
    wide = torch.randn(x.shape[0], x.shape[1] + extra, x.shape[2], generator=generator) * 1e6
    codes = torch.randint(0, 3, wide.shape, generator=generator)
    wide[codes == 0] = float("nan")
    wide[codes == 1] = float("inf")
    wide[:, : x.shape[1]][mask] = x[mask]
    return wide


sizes_st = st.lists(st.integers(1, 30), min_size=1, max_size=4)
seeds = st.integers(0, 2**31 - 1)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=25, deadline=None)
@given(sizes=sizes_st, seed=seeds)
def test_permuting_elements_does_not_change_the_output(name, sizes, seed):
    net = network(name)
    x, mask = pad_sets(random_sets(sizes, seed))
    generator = torch.Generator().manual_seed(seed + 1)
    # Each set gets its own permutation of all slots, so padding moves in among real elements.
    order = torch.argsort(torch.rand(mask.shape, generator=generator), dim=1)
    x_perm = torch.gather(x, 1, order[..., None].expand_as(x))
    mask_perm = torch.gather(mask, 1, order)
    with torch.no_grad():
        assert (net(x, mask) - net(x_perm, mask_perm)).abs().max() <= 1e-5


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=25, deadline=None)
@given(sizes=sizes_st, extra=st.integers(0, 20), seed=seeds)
def test_a_set_alone_and_padded_with_garbage_give_the_same_output(name, sizes, extra, seed):
    net = network(name)
    sets = random_sets(sizes, seed)
    x, mask = pad_sets(sets)
    wide = with_garbage(x, mask, extra, seed)
    wide_mask = torch.cat([mask, torch.zeros(len(sizes), extra, dtype=torch.bool)], dim=1)
    with torch.no_grad():
        batched = net(wide, wide_mask)
        alone = torch.cat([net(s[None]) for s in sets])
    assert bool(torch.isfinite(batched).all())
    assert (batched - alone).abs().max() <= 1e-5


@pytest.mark.parametrize("name", NAMES)
def test_one_batch_mixes_sets_of_5_to_500_elements(name):
    net = network(name)
    sizes = [5, 17, 120, 500, 64]
    sets = random_sets(sizes, seed=0)
    x, mask = pad_sets(sets)
    with torch.no_grad():
        h = net(x, mask)
        alone = torch.cat([net(s[None]) for s in sets])
    assert h.shape == (len(sizes), 4)
    assert (h - alone).abs().max() <= 1e-5


@pytest.mark.parametrize("name", NAMES)
def test_the_output_has_the_summary_width_and_no_mask_means_all_real(name):
    net = network(name)
    torch.manual_seed(0)
    x = torch.randn(6, 11, ELEMENT_FEATURES)
    h = net(x)
    assert h.shape == (6, net.out_features) and net.element_features == ELEMENT_FEATURES
    assert torch.equal(h, net(x, torch.ones(6, 11, dtype=torch.bool)))


@pytest.mark.parametrize("name", NAMES)
def test_the_set_size_feature_tells_apart_sets_that_differ_only_in_size(name):
    element = torch.tensor([[0.3, -1.2, 0.7]])
    small, large = element.expand(10, -1)[None], element.expand(100, -1)[None]
    with torch.no_grad():
        with_size = network(name, include_set_size=True)
        assert (with_size(small) - with_size(large)).abs().max() > 1e-3
        if name.startswith("SetTransformer"):
            # Softmax attention averages, so without log n identical elements hide n.
            without = network(name, include_set_size=False)
            assert (without(small) - without(large)).abs().max() <= 1e-5


def test_mean_pooling_alone_sees_the_set_size_only_through_the_feature():
    torch.manual_seed(0)
    element = torch.randn(1, ELEMENT_FEATURES)
    small, large = element.expand(5, -1)[None], element.expand(500, -1)[None]
    for include_set_size, changes in [(True, True), (False, False)]:
        net = DeepSet(ELEMENT_FEATURES, 4, pooling="mean", include_set_size=include_set_size)
        with torch.no_grad():
            difference = (net(small) - net(large)).abs().max()
        assert (difference > 1e-3) == changes


@pytest.mark.parametrize("name", NAMES)
def test_gradients_reach_every_parameter_and_never_the_padding(name):
    torch.manual_seed(0)
    net = BUILDERS[name]()
    x, mask = pad_sets(random_sets([3, 8], seed=1))
    x = with_garbage(x, mask, extra=2, seed=1).requires_grad_(True)
    mask = torch.cat([mask, torch.zeros(2, 2, dtype=torch.bool)], dim=1)
    net(x, mask).square().sum().backward()
    unreached = [n for n, p in net.named_parameters() if p.grad is None or not p.grad.any()]
    assert not unreached
    assert bool(torch.isfinite(x.grad).all())
    assert not x.grad[~mask].any()
    assert x.grad[mask].abs().sum() > 0


@pytest.mark.parametrize("name", NAMES)
def test_float64(name):
    torch.manual_seed(0)
    net = BUILDERS[name]().double()
    x, mask = pad_sets(random_sets([2, 5], seed=0), dtype=torch.float64)
    assert net(x, mask).dtype == torch.float64


INPUT_ERRORS = {
    "single set without batch axis": (
        lambda: torch.zeros(5, ELEMENT_FEATURES),
        None,
        ValueError,
        r"x of shape \(batch, max_set_size, 3\), got \(5, 3\); a single set .* x\[None\]",
    ),
    "element features": (
        lambda: torch.zeros(2, 5, 2),
        None,
        ValueError,
        r"x of shape \(batch, max_set_size, 3\), got \(2, 5, 2\)$",
    ),
    "mask shape": (
        lambda: torch.zeros(2, 5, 3),
        torch.ones(2, 6, dtype=torch.bool),
        ValueError,
        r"mask of shape \(batch, max_set_size\) = \(2, 5\) .* got \(2, 6\)",
    ),
    "mask dtype": (
        lambda: torch.zeros(2, 5, 3),
        torch.ones(2, 5),
        TypeError,
        "mask to be a bool tensor .* got dtype torch.float32",
    ),
    "empty set": (
        lambda: torch.zeros(2, 5, 3),
        torch.tensor([[True] * 5, [False] * 5]),
        ValueError,
        r"at least one real element .* got 1 empty set\(s\), first at set 1",
    ),
    "nan in a real element": (
        lambda: torch.zeros(2, 5, 3).index_fill_(1, torch.tensor([4]), float("nan")),
        None,
        ValueError,
        r"got NaN or inf in 2 element\(s\), first at set 0, element 4",
    ),
}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("case", sorted(INPUT_ERRORS))
def test_input_errors_name_the_network(name, case):
    x, mask, error, message = INPUT_ERRORS[case]
    owner = type(network(name)).__name__
    with pytest.raises(error, match=f"^{owner} expects .*{message}"):
        network(name)(x(), mask)
