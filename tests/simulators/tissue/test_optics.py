"""Haemoglobin absorption and scattering, and the spectra they give through the solver."""

from __future__ import annotations

import numpy as np
import pytest

from simulators.tissue.adding_doubling import slab_rt
from simulators.tissue.optics import absorption, extinction_coefficients, scattering


def test_table_anchor_values_from_the_data_readme():
    for wavelength, expected in ((560.0, (32613.2, 53788)), (700.0, (290, 1794.28))):
        np.testing.assert_allclose(extinction_coefficients(wavelength), expected)


def test_absorption_formula_by_hand():
    eps_oxy, eps_deoxy = 50104.0, 37020.0  # 580 nm
    expected = np.log(10) * 120 * (0.3 * eps_oxy + 0.7 * eps_deoxy) / 64500 * 0.04
    assert absorption(580.0, 0.04, 0.3) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("wavelength", "isosbestic"), [(500, True), (570, True), (560, False), (660, False)]
)
def test_oxygenation_changes_absorption_and_reflectance_except_at_isosbestic_points(
    wavelength, isosbestic
):
    saturation = np.array([0.0, 1.0])
    mu_a = absorption(wavelength, 0.05, saturation)
    change = abs(mu_a[1] - mu_a[0]) / mu_a[0]
    reflectance = slab_rt(
        mu_a[:, None], scattering(wavelength, 15.0, 1.286, 0.9), 0.9, 1.36, 0.2
    ).reflectance
    relative = abs(reflectance[1] - reflectance[0]) / reflectance[0]
    if isosbestic:
        # The tabulated crossings lie between grid points (500-502, 570-572 nm).
        assert change < 0.02 and relative < 0.02
    else:
        assert change > 0.3 and relative > 0.05


def test_scattering_follows_the_power_law():
    mu_s = scattering(np.array([500.0, 1000.0]), 20.0, 1.0, 0.9)
    np.testing.assert_allclose(mu_s, [200.0, 100.0])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: absorption(1200.0, 0.1, 0.5), "tabulated 250-1000 nm"),
        (lambda: absorption(500.0, 1.5, 0.5), "blood_volume must lie in"),
        (lambda: absorption(500.0, 0.1, -0.1), "saturation must lie in"),
        (lambda: scattering(500.0, 10.0, 1.0, 1.0), "g must lie in"),
    ],
)
def test_out_of_range_inputs_are_rejected(call, message):
    with pytest.raises(ValueError, match=message):
        call()
