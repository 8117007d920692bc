r"""Optical properties of blood-perfused tissue: haemoglobin absorption and Mie-like scattering.

Following Wirkert et al. (2016), a layer with blood volume fraction :math:`v_{hb}` and
oxygenation :math:`s_{O_2}` absorbs

.. math::

    \mu_a(\lambda) = \ln(10)\, \frac{120\ \mathrm{g/L}}{64\,500\ \mathrm{g/mol}}
    \left[s_{O_2}\,\varepsilon_{HbO_2}(\lambda) + (1 - s_{O_2})\,\varepsilon_{Hb}(\lambda)\right]
    v_{hb} \quad [\mathrm{cm^{-1}}],

with Prahl's decadic molar extinction coefficients :math:`\varepsilon` (``data/``, cited in
the file header), linearly interpolated from the 2 nm grid. It scatters with reduced
coefficient :math:`\mu_s' = a_{mie}\,(\lambda / 500\ \mathrm{nm})^{-b_{mie}}` and
:math:`\mu_s = \mu_s' / (1 - g)`.

References: S. Prahl, "Tabulated Molar Extinction Coefficient for Hemoglobin in Water",
Oregon Medical Laser Center, https://omlc.org/spectra/hemoglobin/summary.html;
S. Wirkert et al., "Robust near real-time estimation of physiological parameters from
megapixel multispectral images with inverse Monte Carlo and random forest regression",
Int. J. CARS 11, 909-917 (2016).

Examples:
    >>> round(float(absorption(560.0, blood_volume=0.02, saturation=0.7)), 2)
    3.34
    >>> float(scattering(500.0, a_mie=20.0, b_mie=1.286, g=0.8))
    100.0...
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

__all__ = [
    "HAEMOGLOBIN_G_PER_L",
    "HAEMOGLOBIN_G_PER_MOL",
    "absorption",
    "extinction_coefficients",
    "scattering",
]

HAEMOGLOBIN_G_PER_L = 120.0
"""Haemoglobin concentration of whole blood."""
HAEMOGLOBIN_G_PER_MOL = 64_500.0
"""Molar mass of haemoglobin used by Prahl's table."""

_TABLE = Path(__file__).parent / "data" / "hemoglobin_extinction_prahl.csv"


@cache
def _table() -> np.ndarray:
    return np.loadtxt(_TABLE, delimiter=",", comments="#", skiprows=1 + _comment_lines())


def _comment_lines() -> int:
    with _TABLE.open() as lines:
        return sum(1 for line in lines if line.startswith("#"))


def extinction_coefficients(wavelength_nm: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Molar extinction ``(eps_HbO2, eps_Hb)`` in cm⁻¹/(mol/L) at wavelengths in nm.

    Raises:
        ValueError: for wavelengths outside the tabulated 250-1000 nm.

    Examples:
        >>> [float(v) for v in extinction_coefficients(470.0)]
        [33209.2, 16156.4]
    """
    wavelength = np.asarray(wavelength_nm, dtype=float)
    table = _table()
    low, high = table[0, 0], table[-1, 0]
    if not np.all((wavelength >= low) & (wavelength <= high)):
        raise ValueError(
            f"wavelengths must lie in the tabulated {low:g}-{high:g} nm, got "
            f"{wavelength.min():g}-{wavelength.max():g} nm"
        )
    return tuple(np.interp(wavelength, table[:, 0], table[:, k]) for k in (1, 2))


def absorption(
    wavelength_nm: np.ndarray | float,
    blood_volume: np.ndarray | float,
    saturation: np.ndarray | float,
) -> np.ndarray:
    """Absorption coefficient μa in cm⁻¹; the arguments broadcast together.

    Args:
        wavelength_nm: Wavelengths in nm, within 250-1000.
        blood_volume: Blood volume fraction v_hb, in [0, 1].
        saturation: Oxygen saturation sO2, in [0, 1].
    """
    for name, value in (("blood_volume", blood_volume), ("saturation", saturation)):
        value = np.asarray(value, dtype=float)
        if not np.all((value >= 0) & (value <= 1)):
            raise ValueError(
                f"{name} must lie in [0, 1], got values in [{value.min()}, {value.max()}]"
            )
    eps_oxy, eps_deoxy = extinction_coefficients(wavelength_nm)
    eps = saturation * eps_oxy + (1.0 - np.asarray(saturation)) * eps_deoxy
    return np.log(10.0) * HAEMOGLOBIN_G_PER_L / HAEMOGLOBIN_G_PER_MOL * eps * blood_volume


def scattering(
    wavelength_nm: np.ndarray | float,
    a_mie: np.ndarray | float,
    b_mie: np.ndarray | float,
    g: np.ndarray | float,
) -> np.ndarray:
    """Scattering coefficient μs in the unit of ``a_mie`` (μs' at 500 nm, usually cm⁻¹).

    ``mu_s = a_mie * (wavelength / 500 nm) ** -b_mie / (1 - g)``; arguments broadcast together.
    """
    g = np.asarray(g, dtype=float)
    if not np.all((g > -1) & (g < 1)):
        raise ValueError(f"g must lie in (-1, 1), got values in [{g.min()}, {g.max()}]")
    return (
        a_mie * (np.asarray(wavelength_nm, dtype=float) / 500.0) ** (-np.asarray(b_mie)) / (1 - g)
    )
