import numpy as np
import pytest

from simulators.star_cluster.population import (
    G_NEWTON,
    M_SUN,
    MSH05_LOG_G_DWARF,
    MSH05_O3V,
    MSH05_O95V,
    kroupa_imf,
    line_blanketing_correction,
    lyman_continuum_rate,
)


def test_line_blanketing_correction_reproduces_its_two_o_dwarfs():
    for temperature, mass, log_q0 in (MSH05_O3V, MSH05_O95V):
        radius = np.sqrt(G_NEWTON * mass * M_SUN / 10**MSH05_LOG_G_DWARF)
        q = lyman_continuum_rate(temperature, radius) * line_blanketing_correction(temperature)
        assert np.log10(q) == pytest.approx(log_q0, abs=1e-9)
    temperatures = np.linspace(2e4, 6e4, 41)
    assert np.all(np.diff(line_blanketing_correction(temperatures)) >= 0)


def test_imf_is_normalised():
    m = np.geomspace(0.1, 100.0, 50001)
    assert np.trapezoid(m * kroupa_imf(m), m) == pytest.approx(1.0, rel=1e-3)
