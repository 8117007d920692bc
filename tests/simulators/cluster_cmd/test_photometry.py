import json
from pathlib import Path

import numpy as np
import pytest

from simulators.cluster_cmd import photometry
from simulators.cluster_cmd.photometry import (
    M_BOL_SUN,
    absolute_magnitude_v,
    bolometric_correction_v,
    colour_excess,
    intrinsic_colour,
    magnitude_error,
)

DATA = Path(photometry.__file__).parent / "data"


def test_checks_stored_with_the_torres_coefficients():
    checks = json.loads((DATA / "torres2010_bolometric_corrections.json").read_text())
    checks = checks["verification"]["checks"]
    assert bolometric_correction_v(np.log10(5772.0)) == pytest.approx(
        checks["BC_V(5772 K)"], abs=1e-3
    )
    assert bolometric_correction_v(np.log10(5780.0)) == pytest.approx(
        checks["BC_V(5780 K)"], abs=1e-3
    )
    for colour, key in ((0.65, "0.65"), (0.0, "0.00"), (1.5, "1.50")):
        teff = checks[f"Teff(B-V={key}), ms_sg_giant [K]"]
        assert intrinsic_colour(np.log10(teff)) == pytest.approx(colour, abs=1e-3)


def test_sun_has_torres_absolute_magnitude():
    # Torres (2010): V_sun = -26.76 at 1 AU is M_V = 4.81 at 10 pc.
    assert absolute_magnitude_v(0.0, np.log10(5772.0)) == pytest.approx(-26.76 + 31.57, abs=0.01)
    assert M_BOL_SUN == pytest.approx(4.73)


def test_colour_is_monotonic_and_clamped_at_the_calibration_ends():
    log_teff = np.log10(np.geomspace(2500.0, 40_000.0, 500))
    colour = intrinsic_colour(log_teff)
    assert np.all(np.diff(colour) <= 0)
    assert colour.max() == pytest.approx(1.80) and colour.min() == pytest.approx(-0.30)


def test_reddening_and_errors():
    assert colour_excess(3.1) == pytest.approx(1.0)
    errors = magnitude_error(np.array([10.0, 18.0, 21.0, 22.5]), limit=21.0, floor=0.01)
    assert np.all(np.diff(errors) > 0)
    assert errors[0] == pytest.approx(0.01, abs=1e-4)
    assert errors[2] == pytest.approx(np.hypot(0.01, 2.5 / np.log(10) / 10), rel=1e-6)
    # 1.5 mag fainter the noise is 10**0.6 times larger (background-limited).
    assert errors[3] == pytest.approx(np.hypot(0.01, 0.10857 * 10**0.6), rel=1e-3)
