"""Behrmann et al.'s Fig. 1 toy: the acceptance test of issue 8's invertibility checks.

The toy has no weights to train and no randomness: the numbers are the same on every run.
"""

from __future__ import annotations

import math

import pytest
import torch

from sbinn.diagnostics.stability import jacobian_spectrum, round_trip
from sbinn.diagnostics.stability_toy import behrmann_toy

START = [[1.0, 1.0]]  # Behrmann et al.'s input


def test_eight_unclamped_affine_blocks_are_not_invertible_in_float32():
    # Measured: 0.2006. The inverse multiplies the forward rounding error by 10^8.
    assert round_trip(behrmann_toy(8, coupling="affine"), START).errors[0] > 1e-1


def test_thirty_additive_blocks_stay_invertible_in_float32():
    # Measured: 1.2e-7, the rounding of the sums.
    assert round_trip(behrmann_toy(30, coupling="additive"), START).errors[0] < 1e-6


def test_float64_postpones_the_explosion():
    # Measured: 5.9e-10 at 8 blocks, 0.032 at 16 (benchmarks/results/invertibility_depth.md).
    assert round_trip(behrmann_toy(8, dtype=torch.float64), START).errors[0] < 1e-6
    assert round_trip(behrmann_toy(16, dtype=torch.float64), START).errors[0] > 1e-2


def test_the_error_grows_about_tenfold_per_affine_block():
    # Measured: 0.2 at 8 blocks, 6.6e7 at 16, a factor 10^1.06 per block; the rounding
    # error that gets amplified differs a little from depth to depth.
    low, high = (round_trip(behrmann_toy(k), START).errors[0] for k in (8, 16))
    assert 0.8 < math.log10(high / low) / 8 < 1.2


def test_the_inverse_of_the_affine_toy_stretches_by_ten_to_the_depth():
    net = behrmann_toy(8, coupling="affine")
    with torch.no_grad():
        z = net(torch.tensor(START))[0]
    inverse = jacobian_spectrum(net, z, direction="inverse")
    assert inverse.largest[0] == pytest.approx(1e8, rel=1e-5)
    additive = jacobian_spectrum(behrmann_toy(30, coupling="additive"), START)
    assert additive.condition_number[0] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"num_blocks": 0}, ValueError, "num_blocks"),
        ({"num_blocks": 2, "coupling": "spline"}, ValueError, "coupling must be one of"),
        ({"num_blocks": 2, "dtype": torch.float16}, ValueError, "float32 or torch.float64"),
    ],
)
def test_bad_toy_settings_are_refused(kwargs, error, match):
    with pytest.raises(error, match=match):
        behrmann_toy(**kwargs)
