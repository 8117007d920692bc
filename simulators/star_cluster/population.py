r"""Single-star feedback summed over the IMF: ionising photons, luminosity, winds, supernovae.

A coeval cluster's feedback budget comes from published single-star relations summed over
the IMF, per solar mass of stars formed in an instantaneous burst
(:mod:`simulators.star_cluster.feedback_table` does the sum and tabulates it):

- **IMF:** Kroupa (2001), :math:`\xi(m) \propto m^{-1.3}` on 0.1–0.5 M☉ and :math:`m^{-2.3}`
  on 0.5–100 M☉ (the mass range of the Starburst99 run used for validation).
- **Stellar lifetimes:** Raiteri, Villata & Navarro (1996, A&A 315, 105, eq. 3), a fit to the
  Padova tracks, :math:`\log t = a_0(Z) + a_1(Z)\log m + a_2(Z)\log^2 m` (t in yr).
- **Stellar luminosity and radius** (:mod:`simulators.star_cluster.stellar_evolution`): the
  zero-age main-sequence fits of Tout et al. (1996, MNRAS 281, 257), then, by default
  (``main_sequence_evolution=True``), the main-sequence tracks of Hurley, Pols & Tout (2000,
  MNRAS 315, 543, §5.1) at the star's initial mass. From the end of its main sequence to its
  death a star keeps the terminal luminosity but emits no ionising photons and no wind (no
  Wolf–Rayet or supergiant phases). With ``main_sequence_evolution=False`` a star keeps its
  ZAMS values for its whole life.
- **Ionising photons:** a blackbody of the star's effective temperature and radius, counted
  above 13.6 eV, times a line-blanketing correction (:func:`line_blanketing_correction`, the
  default ``atmosphere="line_blanketed"``): non-LTE, line-blanketed wind atmospheres emit as
  many Lyman-continuum photons per area as the blackbody at the hottest O dwarfs but
  fewer at cooler ones, 0.56 dex fewer at 30.5 kK (Martins, Schaerer & Hillier 2005). Stars
  cooler than 12.5 kK are left out (< 1 % of Q at any age).
- **Winds:** the mass-loss recipe of Vink, de Koter & Lamers (2001, A&A 369, 574, eqs. 24
  and 25, hot and cool side of the bistability jump at 25 kK), with terminal velocity
  :math:`v_\infty = 2.6\,v_{esc}` above and :math:`1.3\,v_{esc}` below the jump (Lamers et al.
  1995, ApJ 455, 269), :math:`v_{esc}` reduced by electron scattering (:math:`\kappa_e = 0.34`
  cm² g⁻¹). Stars cooler than 12.5 kK, the bottom of Vink's grid, get no wind.
  Power :math:`\dot M v_\infty^2 / 2`, momentum flux :math:`\dot M v_\infty`.
- **Supernovae:** every star of 8–100 M☉ explodes at the end of its life with
  :math:`10^{51}` erg (the Starburst99 convention) and ejects its mass minus a 1.4 M☉ remnant;
  its momentum is :math:`\sqrt{2 E M_{ej}}`.

Starburst99 (Leitherer et al. 1999, 2014; Kroupa IMF, Geneva 2012 tracks, Z = 0.014) is
*not* used to build the budget, only to validate it (``tests/simulators/star_cluster``).
Why the defaults: main-sequence evolution moves the O stars to lower temperatures as the
cluster ages, and only a Lyman continuum that falls with temperature faster than a
blackbody's turns that into the drop of Q(H) between 2 and 3 Myr that Starburst99 shows
(0.25 dex). With a blackbody the table was 0.30 dex high at 3 Myr (0.36 dex with
evolution); with both defaults it is within 0.05 dex at 1, 2 and 3 Myr. Still missing:
Wolf–Rayet and supergiant phases and the atmospheres of B stars, so after 5 Myr Q(H) is
high (0.96 dex at 10 Myr, when B stars make the photons).

Examples:
    One star in about 90 M☉ formed is massive enough to end as a supernova:

    >>> m = np.geomspace(M_SN_MIN, M_MAX, 20001)
    >>> round(1 / float(np.trapezoid(kroupa_imf(m), m)))
    90
"""

from __future__ import annotations

from functools import cache

import numpy as np

__all__ = [
    "ATMOSPHERES",
    "kroupa_imf",
    "line_blanketing_correction",
    "lyman_continuum_rate",
    "main_sequence_feedback",
    "vink_mass_loss",
]

L_SUN = 3.828e33  # erg/s, IAU 2015 nominal
R_SUN = 6.957e10  # cm, IAU 2015 nominal
M_SUN = 1.98892e33  # g
SIGMA_SB = 5.670374e-5  # erg cm^-2 s^-1 K^-4
K_B = 1.380649e-16  # erg/K
H_PLANCK = 6.62607015e-27  # erg s
C_LIGHT = 2.99792458e10  # cm/s
G_NEWTON = 6.674e-8  # cgs
YEAR = 3.15576e7  # s
E_LYMAN = 13.598 * 1.602176634e-12  # erg
E_SUPERNOVA = 1e51  # erg
M_REMNANT = 1.4  # Msun
M_SN_MIN = 8.0  # Msun
M_MIN, M_BREAK, M_MAX = 0.1, 0.5, 100.0  # Msun
KAPPA_ELECTRON = 0.34  # cm^2/g
T_SUN = 5772.0  # K, IAU 2015 nominal effective temperature
T_WIND_MIN = 12.5e3  # K, bottom of Vink's grid; cooler stars: no wind, ionising photons neglected

# Two rows of the theoretical O-dwarf scale of Martins, Schaerer & Hillier (2005, A&A 436, 1049,
# Table 1; log g = 3.92 for every dwarf): O3 V and O9.5 V as (Teff [K], spectroscopic mass
# [Msun], log Q0 [s^-1]) from CMFGEN line-blanketed wind models. Provenance: the table could
# not be read offline; the numbers are as quoted from it by secondary sources that agree with
# each other (E. Mamajek's spectral-type notes give 44 616 K as Martins05's theoretical O3 V
# temperature; two independent codes quote the masses and log Q0). The radii they imply,
# sqrt(GM/g) = 13.9 and 7.4 Rsun, with these temperatures give log L/Lsun = 5.83 and 4.63,
# on the dwarf sequence. Check against the paper when it is at hand.
MSH05_LOG_G_DWARF = 3.92
MSH05_O3V = (44616.0, 58.34, 49.63)
MSH05_O95V = (30488.0, 16.46, 47.56)
ATMOSPHERES = ("line_blanketed", "blackbody")
"""The stellar atmospheres that :func:`main_sequence_feedback` knows."""


def lyman_continuum_rate(temperature: np.ndarray, radius_cm: np.ndarray) -> np.ndarray:
    r"""Photons per second above 13.6 eV from a blackbody sphere.

    :math:`Q = 8\pi^2 R^2 (kT/h)^3 c^{-2} \int_{x_0}^\infty x^2/(e^x-1)\,dx`, the integral
    summed as :math:`\sum_k e^{-k x_0}(x_0^2/k + 2x_0/k^2 + 2/k^3)` on a grid of
    :math:`\log x_0` and interpolated (relative error below 1e-4).

    Examples:
        >>> round(float(np.log10(lyman_continuum_rate(4e4, 10 * R_SUN))), 2)
        49.09
    """
    t = np.asarray(temperature, dtype=float)
    log_x0 = np.log(E_LYMAN / (K_B * t))
    grid, log_integral = _planck_tail()
    integral = np.where(log_x0 < grid[-1], np.exp(np.interp(log_x0, grid, log_integral)), 0.0)
    return (
        8
        * np.pi**2
        * np.asarray(radius_cm) ** 2
        * (K_B * t / H_PLANCK) ** 3
        / C_LIGHT**2
        * integral
    )


def line_blanketing_correction(temperature: np.ndarray) -> np.ndarray:
    r"""Factor from a blackbody's Lyman-continuum photon rate to a line-blanketed O star's.

    :math:`\log_{10}` of the factor is that of a model atmosphere over the blackbody of the
    same radius and temperature at two O dwarfs of Martins, Schaerer & Hillier (2005): O3 V
    (44.6 kK, where it is 0.01 dex) and O9.5 V (30.5 kK, where the model emits 0.56 dex
    fewer photons), with the radius :math:`\sqrt{GM/g}` of the tabulated mass and
    :math:`\log g = 3.92`. In between it is linear in temperature; outside, it keeps the end
    values (+0.01 dex for hotter stars; for cooler ones the O9.5 V value, since the paper has
    no B stars: probably an underestimate of their deficit).

    Examples:
        >>> np.round(np.log10(line_blanketing_correction(np.array([5e4, 3.75e4, 2e4]))), 2)
        array([ 0.01, -0.28, -0.56])
    """
    hot, cool = _line_blanketing_anchors()
    log_factor = np.interp(
        np.asarray(temperature, dtype=float), [cool[0], hot[0]], [cool[1], hot[1]]
    )
    return 10.0**log_factor


@cache
def _line_blanketing_anchors() -> tuple[tuple[float, float], tuple[float, float]]:
    """(Teff, log10 model / blackbody) at MSH05's O3 V and O9.5 V."""
    anchors = []
    for temperature, mass, log_q0 in (MSH05_O3V, MSH05_O95V):
        radius_cm = np.sqrt(G_NEWTON * mass * M_SUN / 10**MSH05_LOG_G_DWARF)
        blackbody = float(lyman_continuum_rate(temperature, radius_cm))
        anchors.append((temperature, log_q0 - np.log10(blackbody)))
    return anchors[0], anchors[1]


@cache
def _planck_tail() -> tuple[np.ndarray, np.ndarray]:
    log_x0 = np.linspace(np.log(0.01), np.log(300.0), 4000)
    x0 = np.exp(log_x0)[None, :]
    k = np.arange(1, 201)[:, None]
    terms = np.exp(-k * x0) * (x0**2 / k + 2 * x0 / k**2 + 2 / k**3)
    return log_x0, np.log(terms.sum(axis=0))


def vink_mass_loss(
    luminosity: np.ndarray, mass: np.ndarray, temperature: np.ndarray, metallicity: float
) -> tuple[np.ndarray, np.ndarray]:
    """Wind mass-loss rate [M☉/yr] and the ratio v∞/v_esc (Vink et al. 2001, eqs. 24–25).

    Args:
        luminosity: L [L☉]. mass: M [M☉]. temperature: Teff [K].
        metallicity: Z; Vink's solar value is 0.019.

    Examples:
        >>> mdot, ratio = vink_mass_loss(np.array(5e5), np.array(60.0), np.array(45e3), 0.019)
        >>> round(float(np.log10(mdot)), 2), float(ratio)
        (-5.68, 2.6)
    """
    hot = temperature >= 25e3
    ratio = np.where(hot, 2.6, 1.3)
    log_l, log_m = np.log10(luminosity / 1e5), np.log10(mass / 30.0)
    log_z = 0.85 * np.log10(metallicity / 0.019)
    t40 = np.log10(temperature / 4e4)
    log_hot = -6.697 + 2.194 * log_l - 1.313 * log_m - 1.226 * np.log10(2.6 / 2.0)
    log_hot = log_hot + 0.933 * t40 - 10.92 * t40**2 + log_z
    log_cool = -6.688 + 2.210 * log_l - 1.339 * log_m - 1.601 * np.log10(1.3 / 2.0)
    log_cool = log_cool + 1.07 * np.log10(temperature / 2e4) + log_z
    mdot = np.where(hot, 10**log_hot, 10**log_cool)
    return np.where(temperature >= 12.5e3, mdot, 0.0), ratio


def kroupa_imf(mass: np.ndarray) -> np.ndarray:
    """Kroupa (2001) IMF per unit mass, normalised to one solar mass formed on 0.1–100 M☉.

    Examples:
        >>> m = np.geomspace(0.1, 100.0, 20001)
        >>> round(float(np.trapezoid(m * kroupa_imf(m), m)), 4)
        1.0
    """
    m = np.asarray(mass, dtype=float)
    shape = np.where(m < M_BREAK, (m / M_BREAK) ** -1.3, (m / M_BREAK) ** -2.3)
    return np.where((m >= M_MIN) & (m <= M_MAX), shape, 0.0) / _kroupa_mass()


@cache
def _kroupa_mass() -> float:
    low = M_BREAK**1.3 * (M_BREAK**0.7 - M_MIN**0.7) / 0.7
    high = M_BREAK**2.3 * (M_BREAK**-0.3 - M_MAX**-0.3) / 0.3
    return low + high


def main_sequence_feedback(
    mass: np.ndarray,
    luminosity: np.ndarray,
    radius: np.ndarray,
    metallicity: float,
    atmosphere: str = "line_blanketed",
) -> np.ndarray:
    """Ionising photons [s^-1], wind power [erg/s] and wind momentum flux [dyn] of
    main-sequence stars of ``mass`` [M☉], ``luminosity`` [L☉] and ``radius`` [R☉].

    ``atmosphere`` is ``"line_blanketed"`` (the blackbody times
    :func:`line_blanketing_correction`) or ``"blackbody"``.

    Examples:
        >>> q, power, pdot = main_sequence_feedback(
        ...     np.array([60.0]), np.array([5e5]), np.array([12.0]), 0.014
        ... )
        >>> round(float(np.log10(q[0])), 2), round(float(np.log10(power[0])), 2)
        (49.4, 36.71)
    """
    radius_cm = radius * R_SUN
    temperature = (luminosity * L_SUN / (4 * np.pi * radius_cm**2 * SIGMA_SB)) ** 0.25
    mdot, ratio = vink_mass_loss(luminosity, mass, temperature, metallicity)
    eddington = (
        KAPPA_ELECTRON * luminosity * L_SUN / (4 * np.pi * C_LIGHT * G_NEWTON * mass * M_SUN)
    )
    v_esc = np.sqrt(2 * G_NEWTON * mass * M_SUN * np.clip(1 - eddington, 0.0, None) / radius_cm)
    mdot_cgs = mdot * M_SUN / YEAR
    return np.stack(
        [
            lyman_continuum_rate(temperature, radius_cm)
            * (line_blanketing_correction(temperature) if atmosphere == "line_blanketed" else 1.0),
            0.5 * mdot_cgs * (ratio * v_esc) ** 2,
            mdot_cgs * ratio * v_esc,
        ]
    )
