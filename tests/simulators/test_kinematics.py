"""The articulated arm against the thesis' closed form (eqs. 4.3-4.4) and its geometry."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from simulators.kinematics import ARM_LENGTHS, KinematicsSimulator, end_point, joint_positions


def closed_form(x1: float, x2: float, x3: float, x4: float) -> tuple[float, float]:
    """Eqs. 4.3-4.4 written out with scalar math, independent of the vectorised code."""
    l1, l2, l3 = ARM_LENGTHS
    y1 = x1 + l1 * math.sin(x2) + l2 * math.sin(x3 - x2) + l3 * math.sin(x4 - x2 - x3)
    y2 = l1 * math.cos(x2) + l2 * math.cos(x3 - x2) + l3 * math.cos(x4 - x2 - x3)
    return y1, y2


def test_end_point_matches_the_closed_form_on_prior_draws():
    theta, y = KinematicsSimulator().sample_joint(500, seed=0)
    expected = np.array([closed_form(*row) for row in theta])
    np.testing.assert_allclose(y, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("theta", "expected"),
    [
        ((0.0, 0.0, 0.0, 0.0), (0.0, 2.0)),
        ((0.3, 0.0, 0.0, 0.0), (0.3, 2.0)),
        # a = pi/2, b = x3 - x2 = 0, c = x4 - x2 - x3 = 0: first segment sideways, rest upright.
        ((0.0, math.pi / 2, math.pi / 2, math.pi), (0.5, 1.5)),
        # a = pi/2, b = c = -pi/2: segments point right, left, left.
        ((0.1, math.pi / 2, 0.0, 0.0), (-0.9, 0.0)),
    ],
)
def test_hand_computed_poses(theta, expected):
    np.testing.assert_allclose(end_point(np.array([theta]))[0], expected, atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(arrays(np.float64, (7, 4), elements=st.floats(-3, 3)))
def test_joint_positions_are_a_chain_of_the_arm_segments(theta):
    points = joint_positions(theta)
    np.testing.assert_allclose(points[:, 0], np.c_[theta[:, 0], np.zeros(7)], atol=1e-12)
    np.testing.assert_allclose(points[:, -1], end_point(theta), atol=1e-12)
    segment_lengths = np.linalg.norm(np.diff(points, axis=1), axis=2)
    np.testing.assert_allclose(segment_lengths, np.broadcast_to(ARM_LENGTHS, (7, 3)), atol=1e-12)


def test_prior_matches_the_thesis():
    sim = KinematicsSimulator()
    theta = sim.prior.sample(200_000, np.random.default_rng(0))
    np.testing.assert_allclose(theta.std(axis=0), [0.25, 0.5, 0.5, 0.5], rtol=0.01)
    np.testing.assert_allclose(theta.mean(axis=0), 0.0, atol=0.005)


def test_observation_noise_has_the_requested_scale_and_is_seeded():
    theta = np.zeros((20_000, 4))
    noisy = KinematicsSimulator(noise_std=0.05)
    y = noisy.simulate(theta, rng=1)
    np.testing.assert_allclose((y - [0.0, 2.0]).std(axis=0), 0.05, rtol=0.03)
    np.testing.assert_array_equal(y, noisy.simulate(theta, rng=1))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"noise_std": -0.1}, "noise_std must be a finite number >= 0"),
        ({"noise_std": float("nan")}, "noise_std must be a finite number >= 0"),
        ({"lengths": (0.5, 0.5)}, "lengths must be three positive numbers"),
        ({"lengths": (0.5, -0.5, 1.0)}, "lengths must be three positive numbers"),
    ],
)
def test_invalid_configuration_is_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        KinematicsSimulator(**kwargs)


def test_wrong_parameter_dimension_is_rejected():
    with pytest.raises(ValueError, match=r"theta must have shape \(n, 4\) or \(4,\), got shape"):
        KinematicsSimulator().simulate(np.zeros((3, 5)))
