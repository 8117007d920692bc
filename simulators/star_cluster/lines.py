r"""Emission lines of the shell's HII region: photoionisation grid, Hβ, dust and noise.

- **Line ratios.** The ionised layer on the inner face of the shell has pressure
  :math:`P` and ionisation parameter :math:`U = Q / (4\pi R^2 n_i c)` with
  :math:`n_i = P / (2 k T_i)`. Together with the gas-phase oxygen abundance they index the
  MAPPINGS 5.1 HII-region grid of Thomas et al. (2018, ApJ 856, 89), as distributed under
  the MIT licence by NebulaBayes (``data/mappings_hii_grid.csv`` and its licence file):
  12 values of 12 + log O/H in 7.061–9.304, log P/k in 4.2–8.6 and log U in −4 to −2.
  Each line's flux relative to Hβ is interpolated trilinearly, linearly in the ratio.
- **Grid edges.** Coordinates outside the grid are clipped to its edge (the edge model is
  used); :func:`grid_coordinates` reports which draws were clipped. Shells of very
  high pressure (young, dense) or high U (massive clusters in small shells) sit on an edge.
- **NaN cells.** The source has no flux in a few metal-rich cells (for the lines used here:
  [OIII] 5007 at 12 + log O/H ≥ 9.237, log P/k ≤ 4.6, log U ≤ −2.25, where it is negligibly
  faint). They are set to zero, as NebulaBayes does. The simulator's metallicity prior stops
  at 8.99, so it never reaches them.
- **Hβ.** Case-B recombination at :math:`10^4` K: :math:`L(H\beta) = h\nu_{H\beta}
  (\alpha^{eff}_{H\beta}/\alpha_B)\,Q_{abs} = 4.78\times10^{-13}\,Q_{abs}` erg s⁻¹, with
  :math:`\alpha^{eff}_{H\beta} = 3.03\times10^{-14}` and :math:`\alpha_B = 2.59\times10^{-13}`
  cm³ s⁻¹ (Osterbrock & Ferland 2006, Tables 2.1 and 4.2). :math:`Q_{abs}` is the photon
  rate the shell can absorb: at most :math:`n_i\alpha_B M_{sh}/(1.4 m_H)` recombinations
  per second, so a thin shell leaks photons (density-bounded).
- **Dust.** The Cardelli, Clayton & Mathis (1989, ApJ 345, 245) law with :math:`R_V = 3.1`,
  a foreground screen of :math:`A_V` magnitudes.
- **Noise.** Independent Gaussian scatter of ``noise_dex`` in each log10 luminosity.

Examples:
    >>> coords, clipped = grid_coordinates(np.array([8.5]), np.array([6.0]), np.array([-3.0]))
    >>> ratios = line_ratios(coords)
    >>> ratios.shape, float(ratios[0, 0])
    ((1, 10), 1.0)
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

__all__ = [
    "HBETA_PER_PHOTON",
    "LINES",
    "attenuation_magnitudes",
    "grid_coordinates",
    "line_ratios",
]

_GRID = Path(__file__).parent / "data" / "mappings_hii_grid.csv"

LINES = {
    "Hbeta": ("Hbeta", 4861.33),
    "Halpha": ("Halpha", 6562.82),
    "OIII5007": ("OIII5007", 5006.84),
    "OII3727": ("OII3726_29", 3727.42),
    "NII6584": ("NII6583", 6583.45),
    "SII6717": ("SII6716", 6716.44),
    "SII6731": ("SII6731", 6730.82),
    "OI6300": ("OI6300", 6300.30),
    "SIII9069": ("SIII9069", 9068.6),
    "HeI5876": ("HeI5876", 5875.6),
}
"""Output name → (grid column, air wavelength in Å)."""

HBETA_PER_PHOTON = 6.62607015e-27 * 2.99792458e10 / 4861.33e-8 * (3.03e-14 / 2.59e-13)
"""Hβ energy [erg] per absorbed ionising photon, case B at 10^4 K (about 4.78e-13)."""


@cache
def _grid() -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    with _GRID.open() as handle:
        rows = [line for line in handle if not line.startswith("#")]
    header = rows[0].strip().split(",")
    table = np.loadtxt(rows[1:], delimiter=",")
    columns = [header.index(column) for column, _ in LINES.values()]
    values = np.nan_to_num(table[:, columns], nan=0.0).reshape(12, 12, 9, len(LINES))
    axes = tuple(np.unique(table[:, i]) for i in range(3))
    return axes, values


def grid_coordinates(
    oxygen: np.ndarray, log_pressure: np.ndarray, log_u: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Grid coordinates clipped to the grid, and which draws were clipped.

    Args:
        oxygen: 12 + log O/H. log_pressure: log10(P/k [K cm⁻³]). log_u: log10 U.

    Returns:
        ``(coords, clipped)``: coords ``(batch, 3)`` inside the grid, clipped ``(batch, 3)``
        booleans per axis.

    Examples:
        >>> grid_coordinates(np.array([9.5]), np.array([5.0]), np.array([-1.0]))[1].tolist()
        [[True, False, True]]
    """
    axes, _ = _grid()
    raw = np.stack([oxygen, log_pressure, log_u], axis=1)
    low = np.array([a[0] for a in axes])
    high = np.array([a[-1] for a in axes])
    coords = np.clip(raw, low, high)
    return coords, coords != raw


def line_ratios(coords: np.ndarray) -> np.ndarray:
    """Line fluxes relative to Hβ, ``(batch, len(LINES))``, trilinear in the grid."""
    axes, values = _grid()
    index, weight = [], []
    for k, axis in enumerate(axes):
        i = np.clip(np.searchsorted(axis, coords[:, k], side="right") - 1, 0, axis.size - 2)
        index.append(i)
        weight.append(((coords[:, k] - axis[i]) / (axis[i + 1] - axis[i]))[:, None])
    result = 0.0
    for corner in np.ndindex(2, 2, 2):
        w = 1.0
        for k, c in enumerate(corner):
            w = w * (weight[k] if c else 1 - weight[k])
        result = (
            result + w * values[index[0] + corner[0], index[1] + corner[1], index[2] + corner[2]]
        )
    return result


def attenuation_magnitudes(wavelength_angstrom: np.ndarray, r_v: float = 3.1) -> np.ndarray:
    r""":math:`A_\lambda / A_V` of Cardelli, Clayton & Mathis (1989), optical and infrared.

    Valid for 0.3 ≤ x = 1/λ[µm] ≤ 3.3 (0.303–3.3 µm).

    Examples:
        >>> np.round(attenuation_magnitudes(np.array([4861.33, 6562.82])), 3).tolist()
        [1.164, 0.818]
    """
    x = 1e4 / np.asarray(wavelength_angstrom, dtype=float)
    if np.any((x < 0.3) | (x > 3.3)):
        raise ValueError(f"wavelengths must lie in 3030-33300 Angstrom, got {wavelength_angstrom}")
    y = x - 1.82
    a_opt = np.polyval([0.32999, -0.77530, 0.01979, 0.72085, -0.02427, -0.50447, 0.17699, 1.0], y)
    b_opt = np.polyval([-2.09002, 5.30260, -0.62251, -5.38434, 1.07233, 2.28305, 1.41338, 0.0], y)
    optical = x >= 1.1
    a = np.where(optical, a_opt, 0.574 * x**1.61)
    b = np.where(optical, b_opt, -0.527 * x**1.61)
    return a + b / r_v
