"""Per-block log-determinants and the per-observation reliability flag."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sbinn.diagnostics.stability import block_log_dets, reliability_flags
from sbinn.diagnostics.stability_toy import behrmann_toy
from sbinn.nn import ActNorm, InvertibleNetwork


def test_block_log_dets_add_up_to_the_networks():
    torch.manual_seed(0)
    net = InvertibleNetwork.coupling_stack(3, 3, cond_dim=1, hidden_features=8, actnorm=True)
    for parameter in net.parameters():
        torch.nn.init.normal_(parameter, std=0.3)
    net = net.double().eval()  # eval: ActNorm keeps its parameters, no data initialisation
    x, c = torch.randn(40, 3, dtype=torch.float64), torch.randn(40, 1, dtype=torch.float64)
    stats = block_log_dets(net, x, c)
    assert stats.values.shape == (9, 40)
    with torch.no_grad():
        total = net(x, c)[1].numpy()
    np.testing.assert_allclose(stats.values.sum(axis=0), total, rtol=1e-12)
    rows = stats.to_json()
    assert [row["block"] for row in rows[:3]] == [
        "ActNorm",
        "AffineCoupling",
        "RandomOrthogonalMixing",
    ]
    assert all(row["min"] <= row["mean"] <= row["max"] for row in rows)
    json.dumps(rows, allow_nan=False)


def test_each_toy_block_squeezes_by_log_one_tenth():
    rows = block_log_dets(behrmann_toy(3, dtype=torch.float64), np.ones((5, 2))).to_json()
    assert [row["mean"] for row in rows] == pytest.approx([math.log(0.1)] * 3, rel=1e-7)
    assert all(row["std"] == 0.0 for row in rows)


def test_block_log_dets_need_a_chain_of_blocks():
    with pytest.raises(TypeError, match=r"needs an sbinn\.nn\.InvertibleNetwork.*got ActNorm"):
        block_log_dets(ActNorm(2), [[1.0, 2.0]])


def test_an_observation_is_flagged_by_its_errors_its_conditioning_or_a_non_finite_sample():
    reference_errors = np.linspace(0, 1, 101)  # 0.99 quantile: 0.99
    reference_kappa = np.linspace(1, 2, 101)  # 0.99 quantile: 1.99
    errors = np.array(
        [
            [0.5, 0.5, 0.5, 0.5],  # like the training data
            [0.5, 0.5, 0.5, 5.0],  # one sample in four above the error threshold
            [0.5, 0.5, 0.5, 0.5],  # see the condition numbers
            [0.5, 0.5, 0.5, np.nan],  # a NaN round trip
        ]
    )
    kappa = np.full((4, 4), 1.5)
    kappa[2, :2] = 10.0
    flags = reliability_flags(
        reference_errors, reference_kappa, errors, kappa, max_exceeding=0.2, tolerance=1.0
    )
    assert flags.flags.tolist() == [False, True, True, True]
    assert flags.error_exceeding.tolist() == [0.0, 0.25, 0.0, 0.25]
    assert flags.condition_exceeding.tolist() == [0.0, 0.0, 0.5, 0.0]
    assert flags.non_finite.tolist() == [0.0, 0.0, 0.0, 0.25]
    assert flags.error_threshold == pytest.approx(0.99)
    assert flags.condition_threshold == pytest.approx(1.99)
    record = flags.to_json()
    assert record["flagged"] == [1, 2, 3] and record["flagged_fraction"] == 0.75
    json.dumps(record, allow_nan=False)


def test_a_share_at_the_limit_is_not_flagged():
    flags = reliability_flags([1.0], [1.0], [[2.0, 0.0, 0.0, 0.0]], [[1.0] * 4], max_exceeding=0.25)
    assert not flags.flags[0]


@settings(max_examples=50, deadline=None)
@given(
    reference=st.lists(st.floats(0, 1e3), min_size=1, max_size=50),
    data=st.data(),
)
def test_samples_no_worse_than_the_best_reference_point_are_never_flagged(reference, data):
    low = min(reference)
    shape = (data.draw(st.integers(1, 5)), data.draw(st.integers(1, 8)))
    values = np.full(shape, low) * data.draw(st.floats(0, 1))
    flags = reliability_flags(reference, reference, values, values, max_exceeding=0.0)
    assert not flags.flags.any()


@settings(max_examples=50, deadline=None)
@given(
    reference=st.lists(st.floats(0, 1e3), min_size=1, max_size=50),
    factor=st.floats(1.01, 100),
    quantile=st.floats(0.01, 1.0),
)
def test_samples_all_beyond_the_worst_reference_point_are_always_flagged(
    reference, factor, quantile
):
    values = np.full((3, 4), max(reference) * factor + 1e-3)
    flags = reliability_flags(
        reference, [1.0], values, np.ones((3, 4)), quantile=quantile, tolerance=1.0
    )
    assert flags.flags.all()


def test_the_tolerance_lets_rounding_noise_pass_and_stops_orders_of_magnitude():
    reference = np.full(100, 2e-7)  # float32 rounding
    kappa = np.full((2, 8), 2.0)
    errors = np.array([[6e-7] * 8, [1e-4] * 8])  # 3x: noise; 500x: an exploding inverse
    flags = reliability_flags(reference, np.full(100, 2.0), errors, kappa)
    assert flags.flags.tolist() == [False, True]
    assert flags.error_threshold == pytest.approx(2e-6)
    assert flags.condition_threshold == pytest.approx(20.0)
    assert "10 times the 0.99 quantile of 100 reference points" in flags.method


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (([], [1.0], [[1.0]], [[1.0]]), {}, r"reference_errors must be a non-empty array"),
        (([1.0], [[1.0]], [[1.0]], [[1.0]]), {}, r"reference_condition_numbers .* shape \(n,\)"),
        (([1.0], [1.0], [1.0], [[1.0]]), {}, r"sample_errors .* \(n_obs, num_samples\)"),
        (([1.0], [1.0], [[1.0]], [[1.0, 1.0]]), {}, r"shape of sample_errors \(1, 1\)"),
        (([1.0], [1.0], [[1.0]], [[1.0]]), {"quantile": 0.0}, r"quantile must be in \(0, 1\]"),
        (([1.0], [1.0], [[1.0]], [[1.0]]), {"max_exceeding": 1.0}, r"in \[0, 1\), got 1.0"),
        (([1.0], [1.0], [[1.0]], [[1.0]]), {"tolerance": 0.5}, r"finite number >= 1, got 0.5"),
    ],
)
def test_bad_reliability_inputs_are_refused(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        reliability_flags(*args, **kwargs)
