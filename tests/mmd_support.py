"""Kernel lists and parametrisations shared by the MMD test modules."""

from __future__ import annotations

import pytest

from sbinn.mmd import ExponentialDistance, Gaussian, InverseMultiquadratic, PowerDistance

__all__ = ["KERNELS", "KINDS", "ids", "kinds"]

KERNELS = [
    InverseMultiquadratic(),
    InverseMultiquadratic(scales=(0.05, 0.2, 0.9)),
    Gaussian(),
    Gaussian(scales=(0.5, 2.0)),
    ExponentialDistance(),
    ExponentialDistance(scale=1.0),
    PowerDistance(),
    PowerDistance(power=1.0),
]
# One of each kind, for the costlier statistical tests.
KINDS = [
    InverseMultiquadratic(scales=(0.05, 0.2, 0.9)),
    Gaussian(),
    ExponentialDistance(scale=1.0),
    PowerDistance(),
]
ids = pytest.mark.parametrize("kernel", KERNELS, ids=repr)
kinds = pytest.mark.parametrize("kernel", KINDS, ids=repr)
