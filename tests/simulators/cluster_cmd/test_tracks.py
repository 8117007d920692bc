import numpy as np
import pytest

from simulators.cluster_cmd.tracks import PHASE_NAMES, IsochroneGrid


@pytest.fixture(scope="module")
def grid():
    return IsochroneGrid.load()


def test_grid_covers_the_prior_and_masses_increase_along_isochrones(grid):
    assert grid.feh_range == (-2.0, 0.15)
    assert grid.log_age_range == (8.0, 10.15)
    assert grid.mass.shape == (12, 44, 135)
    assert np.all(np.diff(grid.mass, axis=2) >= 0)
    assert set(np.unique(grid.phase)) == set(PHASE_NAMES)
    assert np.all(np.isfinite(grid.log_l)) and np.all(np.isfinite(grid.log_teff))


def test_isochrones_hold_no_remnants(grid):
    """Living stars older than 0.1 Gyr are cooler than ~25 000 K; white dwarfs are hotter."""
    assert grid.log_teff.max() < 4.4
    assert grid.log_l.min() > -3.5  # the 0.1 Msun main-sequence star, not a cooled remnant


def test_interpolation_reproduces_grid_nodes_and_lies_between_them(grid):
    iso = grid.interpolate(grid.log_age[[3, 3]], grid.feh[[5, 5]] + [0.0, 0.1])
    np.testing.assert_allclose(iso.log_l[0], grid.log_l[5, 3])
    halfway = 0.5 * (grid.log_teff[5, 3] + grid.log_teff[6, 3])
    np.testing.assert_allclose(iso.log_teff[1], halfway)


def test_turn_off_mass_falls_with_age(grid):
    """Main-sequence lifetimes: the most massive main-sequence star is lighter when older."""
    ages = np.linspace(8.0, 10.1, 15)
    iso = grid.interpolate(ages, np.zeros_like(ages))
    last_ms = np.flatnonzero(iso.phase == 1)[-1]
    assert np.all(np.diff(iso.mass[:, last_ms]) < 0)
    # A solar-metallicity star of 1 Msun leaves the main sequence at about 10 Gyr.
    iso = grid.interpolate([10.0], [0.0])
    assert iso.mass[0, last_ms] == pytest.approx(1.0, abs=0.1)


@pytest.mark.parametrize(("log_age", "feh", "name"), [(7.9, 0.0, "log_age"), (9.0, 0.3, "feh")])
def test_outside_the_grid_is_an_error(grid, log_age, feh, name):
    with pytest.raises(ValueError, match=f"{name} must lie in"):
        grid.interpolate([log_age], [feh])


def test_mismatched_shapes_are_an_error(grid):
    with pytest.raises(ValueError, match="equal length"):
        grid.interpolate([9.0, 9.1], [0.0])
