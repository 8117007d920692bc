"""Bounded-to-real maps: exact inverses, log-Jacobians against numerical derivatives, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sbinn.support import BoundedSupport

BOUNDS = [[0.0, 1.0], [0.1, None], [None, 2.0], [None, None], [-3.0, 5.0]]


@st.composite
def inside_points(draw):
    """Rows strictly inside BOUNDS, including points near the bounds."""
    fraction = st.floats(1e-6, 1 - 1e-6)
    return np.array(
        [
            draw(fraction),
            0.1 + draw(st.floats(1e-6, 1e3)),
            2.0 - draw(st.floats(1e-6, 1e3)),
            draw(st.floats(-1e3, 1e3)),
            -3.0 + 8.0 * draw(fraction),
        ]
    )


@settings(max_examples=200, deadline=None)
@given(inside_points())
def test_inverse_undoes_forward(theta):
    support = BoundedSupport.from_bounds(BOUNDS)
    y, _ = support.forward(theta[None])
    np.testing.assert_allclose(support.inverse(y)[0], theta, rtol=1e-9, atol=1e-9)


@settings(max_examples=100, deadline=None)
@given(inside_points())
def test_log_det_matches_a_numerical_derivative(theta):
    support = BoundedSupport.from_bounds(BOUNDS)
    _, log_det = support.forward(theta[None])
    # The Jacobian is diagonal: central differences per coordinate, in the y -> theta
    # direction, where the inverse is smooth everywhere.
    y = support.forward(theta[None])[0][0]
    step = 1e-6 * np.maximum(1.0, np.abs(y))
    rows = []
    for k in range(len(y)):
        up, down = y.copy(), y.copy()
        up[k] += step[k]
        down[k] -= step[k]
        rows.append(
            (support.inverse(up[None])[0, k] - support.inverse(down[None])[0, k]) / (2 * step[k])
        )
    derivative = np.array(rows)
    if np.all(derivative > 1e-8):  # skip points where the inverse is flat to float64
        assert log_det[0] == pytest.approx(-np.log(derivative).sum(), rel=1e-4, abs=1e-4)


def test_far_flow_samples_still_land_inside():
    support = BoundedSupport.from_bounds([[0.0, 1.0], [0.1, None]])
    theta = support.inverse(np.array([[-800.0, -800.0], [800.0, 30.0]]))
    assert np.all(theta[:, 0] >= 0.0) and np.all(theta[:, 0] <= 1.0)
    assert np.all(theta[:, 1] >= 0.1)


def test_config_round_trip():
    support = BoundedSupport.from_bounds(BOUNDS)
    again = BoundedSupport.from_bounds(support.to_config())
    np.testing.assert_array_equal(again.low, support.low)
    np.testing.assert_array_equal(again.high, support.high)
    assert support.to_config()[1] == [0.1, None]


@pytest.mark.parametrize(
    ("bounds", "match"),
    [
        ([[1.0, 1.0]], r"low < high, got \(1.0, 1.0\) for parameter 0"),
        ([[2.0, 1.0]], "low < high"),
        ([[float("nan"), 1.0]], "low < high"),
        ([], "at least one parameter"),
        ([1.0, 2.0], r"\(low, high\) pairs"),
        ([[np.inf, None]], "low < high"),
    ],
)
def test_malformed_bounds_are_refused(bounds, match):
    with pytest.raises(ValueError, match=match):
        BoundedSupport.from_bounds(bounds)


def test_points_on_or_outside_a_bound_are_refused_with_the_row():
    support = BoundedSupport.from_bounds([[0.0, 1.0]])
    with pytest.raises(ValueError, match=r"2 row\(s\).*row 1: \[1.0\]"):
        support.forward(np.array([[0.5], [1.0], [-0.1]]))
