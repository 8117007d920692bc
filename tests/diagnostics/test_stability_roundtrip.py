"""Round trips x -> z -> x and z -> x -> z: errors, non-finite shares, input checks."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sbinn.diagnostics.stability import round_trip
from sbinn.diagnostics.stability_toy import behrmann_toy
from sbinn.nn import ActNorm, InvertibleNetwork


def random_network(dim=3, cond_dim=0, seed=0, dtype=torch.float64):
    torch.manual_seed(seed)
    net = InvertibleNetwork.coupling_stack(dim, 3, cond_dim=cond_dim, hidden_features=16)
    for parameter in net.parameters():
        torch.nn.init.normal_(parameter, std=0.3)
    return net.to(dtype)


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 1000),
    points=st.lists(st.lists(st.floats(-5, 5), min_size=3, max_size=3), min_size=1, max_size=20),
)
def test_a_float64_network_round_trips_to_rounding_error_from_both_sides(seed, points):
    net = random_network(seed=seed)
    there = round_trip(net, points, start="x")
    with torch.no_grad():
        z = net(torch.tensor(points, dtype=torch.float64))[0]
    back = round_trip(net, z, start="z")
    assert there.errors.shape == back.errors.shape == (len(points),)
    assert there.errors.max() < 1e-9 and back.errors.max() < 1e-9
    assert there.non_finite_fraction == back.non_finite_fraction == 0.0


def test_the_error_is_the_euclidean_distance_of_the_returned_point():
    # The 8-block affine toy loses x2 in float32: only the second feature comes back wrong.
    net = behrmann_toy(8, coupling="affine")
    x = torch.ones(1, 2)
    with torch.no_grad():
        returned = net.inverse(net(x)[0])[0]
    result = round_trip(net, x)
    assert result.errors[0] == pytest.approx(float(torch.linalg.vector_norm(returned - x)))
    assert returned[0, 0].item() == 1.0


def test_a_round_trip_that_overflows_counts_as_non_finite_and_infinite():
    net = behrmann_toy(60, coupling="affine")  # 10^60 overflows float32
    result = round_trip(net, [[1.0, 1.0], [1.0, 1.0]])
    assert result.non_finite_fraction == 1.0
    assert np.all(np.isinf(result.errors))
    record = result.to_json()
    assert record["error"]["max"] is None and record["non_finite_fraction"] == 1.0
    json.dumps(record, allow_nan=False)


def test_quantiles_are_point_values_and_see_infinite_errors():
    net = behrmann_toy(1, coupling="additive")
    result = round_trip(net, np.ones((4, 2)))
    errors = np.array([0.0, 1.0, 2.0, np.inf])
    object.__setattr__(result, "errors", errors)
    assert result.quantiles() == {"q50": 1.0, "q90": np.inf, "q99": np.inf, "max": np.inf}
    assert result.non_finite_fraction == 0.25


def test_a_conditional_network_takes_one_condition_row_per_point():
    net = random_network(cond_dim=2, seed=1)
    x, c = torch.randn(9, 3, dtype=torch.float64), torch.randn(9, 2, dtype=torch.float64)
    result = round_trip(net, x, c)
    assert result.errors.max() < 1e-9
    with pytest.raises(ValueError, match=r"condition must have shape \(9, 2\).*got shape \(8, 2\)"):
        round_trip(net, x, c[:8])
    with pytest.raises(ValueError, match=r"conditional \(cond_dim=2\): pass condition"):
        round_trip(net, x)


def test_chunks_do_not_change_the_errors():
    net = random_network(dtype=torch.float32, seed=2)
    x = torch.randn(50, 3)
    whole = round_trip(net, x).errors
    assert np.array_equal(round_trip(net, x, chunk_size=7).errors, whole)


def test_the_network_comes_back_in_the_mode_it_was_in():
    net = InvertibleNetwork([ActNorm(2)])
    net.train()
    round_trip(net, torch.randn(10, 2))
    # Eval mode during the check: ActNorm did not initialise itself on the checked points.
    assert net.training and not bool(net.blocks[0].initialized)


@pytest.mark.parametrize(
    ("network", "points", "condition", "kwargs", "error", "match"),
    [
        ("not a net", [[1.0, 1.0]], None, {}, TypeError, "must be an sbinn.nn.InvertibleModule"),
        (None, [[1.0, 1.0, 1.0]], None, {}, ValueError, r"shape \(n, 2\).*got shape \(1, 3\)"),
        (None, [1.0, 1.0], None, {}, ValueError, r"shape \(n, 2\).*got shape \(2,\)"),
        (None, np.zeros((0, 2)), None, {}, ValueError, "at least one point"),
        (None, [[np.nan, 1.0]], None, {}, ValueError, "must be finite"),
        (None, [[1.0, 1.0]], [[1.0]], {}, ValueError, "unconditional.*condition must be None"),
        (None, [[1.0, 1.0]], None, {"start": "y"}, ValueError, "start must be 'x' or 'z'"),
        (None, [[1.0, 1.0]], None, {"chunk_size": 0}, ValueError, "chunk_size"),
    ],
)
def test_bad_inputs_are_refused_with_what_was_expected(
    network, points, condition, kwargs, error, match
):
    network = behrmann_toy(2) if network is None else network
    with pytest.raises(error, match=match):
        round_trip(network, points, condition, **kwargs)
