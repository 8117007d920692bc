r"""Johnson V magnitudes, B−V colours, extinction and photometric errors of stars.

**Bolometric corrections.** :math:`M_V = M_{\mathrm{bol},\odot} - 2.5\log_{10}(L/L_\odot) -
BC_V`, with :math:`BC_V(\log T_\mathrm{eff})` the three-segment polynomial of Flower (1996,
ApJ 469, 355) as corrected and reprinted by Torres (2010, AJ 140, 1158, Table 1). Torres
stresses that :math:`M_{\mathrm{bol},\odot}` must match the zero point of the :math:`BC_V`
scale; with his :math:`V_\odot = -26.76` and :math:`BC_V(5772\,\mathrm{K}) = -0.081` that
is :math:`M_{\mathrm{bol},\odot} = 4.73` (:data:`M_BOL_SUN`). At a segment join the hotter
segment is used.

**Colours.** Torres (2010, Table 2) gives :math:`\log T_\mathrm{eff}` as a 7th-degree
polynomial of :math:`B-V` for main-sequence stars, subgiants and giants. It is inverted once,
on a fine grid over :math:`-0.30 \le B-V \le 1.80` where it decreases monotonically
(33 600 K to 2 940 K; Flower's calibration stars span 2 900–52 500 K), and stars are
interpolated on that grid. Hotter or cooler stars get the end colours. Colours do not depend
on metallicity here, and the calibration is poor below about 4 000 K (:math:`B-V \gtrsim
1.45`): M dwarfs and the tips of the giant branches have uncertain colours.

**Extinction.** :math:`A_V` with :math:`R_V = A_V / E(B-V) = 3.1`, the diffuse-ISM value
(Cardelli, Clayton & Mathis 1989), so the colour excess is :math:`E(B-V) = A_V / 3.1`.

**Photometric errors.** For a background-limited detector the flux error is constant, so the
magnitude error grows as :math:`10^{0.4 m}`. With the magnitude limit :math:`m_\mathrm{lim}`
defined as the magnitude at signal-to-noise 10, the error is

.. math:: \sigma(m) = \sqrt{\sigma_0^2 + \left(\frac{2.5}{\ln 10}\,\frac{1}{10}\,
   10^{0.4 (m - m_\mathrm{lim})}\right)^2},

with a calibration floor :math:`\sigma_0`. B and V are taken to reach the same limit.

Examples:
    >>> round(float(absolute_magnitude_v(0.0, np.log10(5772.0))), 2)  # the Sun
    4.81
    >>> round(float(intrinsic_colour(np.log10(5718.0))), 2)
    0.65
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np

__all__ = [
    "M_BOL_SUN",
    "R_V",
    "SNR_AT_LIMIT",
    "absolute_magnitude_v",
    "bolometric_correction_v",
    "colour_excess",
    "intrinsic_colour",
    "magnitude_error",
]

M_BOL_SUN = 4.73
"""Solar bolometric magnitude consistent with the Torres (2010) :math:`BC_V` scale."""

R_V = 3.1
"""Ratio of total to selective extinction, :math:`A_V / E(B-V)` (Cardelli et al. 1989)."""

SNR_AT_LIMIT = 10.0
"""Signal-to-noise ratio that defines the magnitude limit."""

_DATA = Path(__file__).parent / "data" / "torres2010_bolometric_corrections.json"
_BV_RANGE = (-0.30, 1.80)
_MAG_PER_SNR = 2.5 / np.log(10.0)


@cache
def _coefficients() -> tuple[list[tuple[float, np.ndarray]], np.ndarray]:
    table = json.loads(_DATA.read_text())
    segments = [
        (
            -np.inf if s["log_teff_range"][0] is None else s["log_teff_range"][0],
            np.array(s["coefficients"]),
        )
        for s in table["bc_v"]["segments"]
    ]
    colour = np.array(table["log_teff_from_bv"]["ms_sg_giant"]["coefficients"])
    return segments, colour


@cache
def _colour_grid() -> tuple[np.ndarray, np.ndarray]:
    bv = np.linspace(*_BV_RANGE, 4201)
    log_teff = np.polynomial.polynomial.polyval(bv, _coefficients()[1])
    if np.any(np.diff(log_teff) >= 0):
        raise RuntimeError("Torres (2010) log Teff(B-V) is not monotonic on the colour grid")
    return log_teff[::-1].copy(), bv[::-1].copy()


def bolometric_correction_v(log_teff: np.ndarray) -> np.ndarray:
    """V-band bolometric correction of Flower (1996) as corrected by Torres (2010).

    Args:
        log_teff: :math:`\\log_{10} T_\\mathrm{eff}` in K, any shape.

    Examples:
        >>> round(float(bolometric_correction_v(np.log10(5772.0))), 3)
        -0.081
    """
    log_teff = np.asarray(log_teff, dtype=float)
    result = np.zeros_like(log_teff)
    for low, coefficients in _coefficients()[0]:
        inside = log_teff >= low
        result = np.where(inside, np.polynomial.polynomial.polyval(log_teff, coefficients), result)
    return result


def intrinsic_colour(log_teff: np.ndarray) -> np.ndarray:
    """Unreddened :math:`(B-V)_0` from :math:`\\log_{10} T_\\mathrm{eff}` (Torres 2010, inverted).

    Examples:
        >>> intrinsic_colour(np.log10([9531.1, 3982.8])).round(2).tolist()
        [0.0, 1.5]
    """
    grid_log_teff, grid_bv = _colour_grid()
    return np.interp(np.asarray(log_teff, dtype=float), grid_log_teff, grid_bv)


def absolute_magnitude_v(log_l: np.ndarray, log_teff: np.ndarray) -> np.ndarray:
    """Absolute V magnitude from :math:`\\log_{10} L/L_\\odot` and :math:`\\log_{10} T_{eff}`.

    Examples:
        >>> round(float(absolute_magnitude_v(1.0, np.log10(5772.0))), 2)
        2.31
    """
    log_l = np.asarray(log_l, dtype=float)
    return M_BOL_SUN - 2.5 * log_l - bolometric_correction_v(log_teff)


def colour_excess(a_v: np.ndarray) -> np.ndarray:
    """Colour excess :math:`E(B-V) = A_V / R_V`.

    Examples:
        >>> float(colour_excess(0.31))
        0.1
    """
    return np.asarray(a_v, dtype=float) / R_V


def magnitude_error(magnitude: np.ndarray, limit: float, floor: float = 0.01) -> np.ndarray:
    """Magnitude error of a background-limited measurement with signal-to-noise 10 at ``limit``.

    Args:
        magnitude: Apparent magnitudes, any shape.
        limit: Magnitude at which the signal-to-noise ratio is :data:`SNR_AT_LIMIT`.
        floor: Calibration error added in quadrature (mag).

    Examples:
        >>> magnitude_error(np.array([10.0, 20.0]), limit=20.0).round(3).tolist()
        [0.01, 0.109]
    """
    magnitude = np.asarray(magnitude, dtype=float)
    noise = _MAG_PER_SNR / SNR_AT_LIMIT * 10.0 ** (0.4 * (magnitude - limit))
    return np.sqrt(floor**2 + noise**2)
