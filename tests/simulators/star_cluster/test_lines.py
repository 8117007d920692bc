import numpy as np
import pytest

from simulators.star_cluster.lines import (
    HBETA_PER_PHOTON,
    LINES,
    attenuation_magnitudes,
    grid_coordinates,
    line_ratios,
)


def test_grid_nodes_are_reproduced_and_hbeta_is_one():
    coords, clipped = grid_coordinates(np.array([8.605]), np.array([6.2]), np.array([-3.0]))
    ratios = line_ratios(coords)
    assert not clipped.any() and ratios[0, 0] == 1.0
    # Node of the source CSV (12+log O/H 8.605, log P/k 6.2, log U -3): Halpha/Hbeta.
    assert 2.8 < ratios[0, list(LINES).index("Halpha")] < 3.6


def test_coordinates_outside_the_grid_are_clipped_to_its_edge():
    coords, clipped = grid_coordinates(
        np.array([8.5, 8.5]), np.array([9.5, 6.0]), np.array([-1.0, -3.0])
    )
    assert clipped.tolist() == [[False, True, True], [False, False, False]]
    np.testing.assert_allclose(coords[0], [8.5, 8.6, -2.0])


def test_nan_cells_are_zero_not_nan():
    coords, _ = grid_coordinates(np.array([9.304]), np.array([4.2]), np.array([-4.0]))
    ratios = line_ratios(coords)
    assert np.all(np.isfinite(ratios)) and ratios[0, list(LINES).index("OIII5007")] == 0.0


def test_case_b_hbeta_coefficient_and_ccm_law():
    assert HBETA_PER_PHOTON == pytest.approx(4.78e-13, rel=0.01)
    a = attenuation_magnitudes(np.array([4861.33, 6562.82, 9068.6]))
    # Balmer decrement reddening k(Hb) - k(Ha) = 1.05 A_V per A_V for R_V = 3.1 (CCM).
    assert a[0] - a[1] == pytest.approx(0.346, abs=0.01) and a[2] < a[1] < a[0]
    with pytest.raises(ValueError, match="wavelengths must lie in 3030-33300 Angstrom"):
        attenuation_magnitudes(np.array([1000.0]))
