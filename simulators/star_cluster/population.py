r"""The feedback budget of a coeval star cluster: ionising photons, luminosity, winds, supernovae.

The table is built here, from published single-star relations integrated over the IMF, per
solar mass of stars formed in an instantaneous burst:

- **IMF:** Kroupa (2001), :math:`\xi(m) \propto m^{-1.3}` on 0.1–0.5 M☉ and :math:`m^{-2.3}`
  on 0.5–100 M☉ (the mass range of the Starburst99 run used for validation).
- **Stellar lifetimes:** Raiteri, Villata & Navarro (1996, A&A 315, 105, eq. 3), a fit to the
  Padova tracks, :math:`\log t = a_0(Z) + a_1(Z)\log m + a_2(Z)\log^2 m` (t in yr).
- **Stellar luminosity and radius:** the zero-age main-sequence fits of Tout et al. (1996,
  MNRAS 281, 257, Tables 1 and 2, with their metallicity polynomials in :math:`\log(Z/0.02)`).
  A star keeps its ZAMS values for its whole life (no main-sequence brightening, no
  Wolf–Rayet or supergiant phases).
- **Ionising photons:** a blackbody of the ZAMS effective temperature and radius, counted
  above 13.6 eV.
- **Winds:** the mass-loss recipe of Vink, de Koter & Lamers (2001, A&A 369, 574, eqs. 24
  and 25, hot and cool side of the bistability jump at 25 kK), with terminal velocity
  :math:`v_\infty = 2.6\,v_{esc}` above and :math:`1.3\,v_{esc}` below the jump (Lamers et al.
  1995, ApJ 455, 269), :math:`v_{esc}` reduced by electron scattering (:math:`\kappa_e = 0.34`
  cm² g⁻¹). Stars cooler than 12.5 kK, the bottom of Vink's grid, get no wind.
  Power :math:`\dot M v_\infty^2 / 2`, momentum flux :math:`\dot M v_\infty`.
- **Supernovae:** every star of 8–100 M☉ explodes at the end of its life with
  :math:`10^{51}` erg (the Starburst99 convention) and ejects its mass minus a 1.4 M☉ remnant;
  its momentum is :math:`\sqrt{2 E M_{ej}}`.

The table is computed once per metallicity on a log-time grid (0.01–50 Myr) and cached; it
takes a few milliseconds. It assumes a fully sampled IMF, so it scales linearly with cluster
mass. Starburst99 (Leitherer et al. 1999, 2014; Kroupa IMF, Geneva 2012 tracks, Z = 0.014)
is *not* used to build it, only to validate it (``tests/simulators/star_cluster``).

Example:
    >>> table = feedback_table(0.014)
    >>> budget = table.at(np.array([1.0]), np.array([1e6]))
    >>> round(float(np.log10(budget["Q"][0])), 2)
    52.66
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

__all__ = [
    "FEEDBACK_QUANTITIES",
    "FeedbackGrid",
    "FeedbackTable",
    "feedback_grid",
    "feedback_table",
    "kroupa_imf",
    "lifetime_myr",
    "lyman_continuum_rate",
    "vink_mass_loss",
    "zams_luminosity",
    "zams_radius",
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

FEEDBACK_QUANTITIES = ("Q", "L_bol", "L_wind", "pdot_wind", "L_SN", "pdot_SN")
"""Table columns: s^-1, erg/s, erg/s, dyn, erg/s, dyn (all per solar mass formed)."""

# Tout et al. (1996) Table 1 (L: alpha..eta) and Table 2 (R: theta..pi), each row a quartic in
# log10(Z / 0.02); nu of Table 2 does not depend on Z.
_TOUT_L = np.array(
    [
        [0.39704170, -0.32913574, 0.34776688, 0.37470851, 0.09011915],
        [8.52762600, -24.41225973, 56.43597107, 37.06152575, 5.45624060],
        [0.00025546, -0.00123461, -0.00023246, 0.00045519, 0.00016176],
        [5.43288900, -8.62157806, 13.44202049, 14.51584135, 3.39793084],
        [5.56357900, -10.32345224, 19.44322980, 18.97361347, 4.16903097],
        [0.78866060, -2.90870942, 6.54713531, 4.05606657, 0.53287322],
        [0.00586685, -0.01704237, 0.03872348, 0.02570041, 0.00383376],
    ]
)
_TOUT_R = np.array(
    [
        [1.71535900, 0.62246212, -0.92557761, -1.16996966, -0.30631491],
        [6.59778800, -0.42450044, -12.13339427, -10.73509484, -2.51487077],
        [10.08855000, -7.11727086, -31.67119479, -24.24848322, -5.33608972],
        [1.01249500, 0.32699690, -0.00923418, -0.03876858, -0.00412750],
        [0.07490166, 0.02410413, 0.07233664, 0.03040467, 0.00197741],
        [3.08223400, 0.94472050, -2.15200882, -2.49219496, -0.63848738],
        [17.84778000, -7.45345690, -48.96066856, -40.05386135, -9.09331816],
        [0.00022582, -0.00186899, 0.00388783, 0.00142402, -0.00007671],
    ]
)
_TOUT_R_NU = 0.01077422


def _tout(coefficients: np.ndarray, metallicity: float) -> np.ndarray:
    return coefficients @ np.log10(metallicity / 0.02) ** np.arange(5)


def zams_luminosity(mass: np.ndarray, metallicity: float = 0.02) -> np.ndarray:
    """ZAMS luminosity [L☉] of stars of ``mass`` [M☉] (Tout et al. 1996, eq. 1).

    Example:
        >>> round(float(zams_luminosity(1.0)), 3)
        0.698
    """
    a, b, g, d, e, z, h = _tout(_TOUT_L, metallicity)
    m = np.asarray(mass, dtype=float)
    return (a * m**5.5 + b * m**11) / (g + m**3 + d * m**5 + e * m**7 + z * m**8 + h * m**9.5)


def zams_radius(mass: np.ndarray, metallicity: float = 0.02) -> np.ndarray:
    """ZAMS radius [R☉] of stars of ``mass`` [M☉] (Tout et al. 1996, eq. 2).

    Example:
        >>> round(float(zams_radius(1.0)), 3)
        0.888
    """
    th, io, ka, la, mu, xi, om, pi = _tout(_TOUT_R, metallicity)
    m = np.asarray(mass, dtype=float)
    numerator = th * m**2.5 + io * m**6.5 + ka * m**11 + la * m**19 + mu * m**19.5
    return numerator / (_TOUT_R_NU + xi * m**2 + om * m**8.5 + m**18.5 + pi * m**19.5)


def lifetime_myr(mass: np.ndarray, metallicity: float = 0.02) -> np.ndarray:
    """Total stellar lifetime [Myr] (Raiteri, Villata & Navarro 1996, eq. 3; 7e-5 ≤ Z ≤ 0.03).

    Example:
        >>> np.round(lifetime_myr(np.array([8.0, 100.0]), 0.02), 1).tolist()
        [38.0, 3.3]
    """
    lz = np.log10(metallicity)
    a0 = 10.13 + 0.07547 * lz - 0.008084 * lz**2
    a1 = -4.424 - 0.7939 * lz - 0.1187 * lz**2
    a2 = 1.262 + 0.3385 * lz + 0.05417 * lz**2
    lm = np.log10(np.asarray(mass, dtype=float))
    return 10 ** (a0 + a1 * lm + a2 * lm**2) / 1e6


def lyman_continuum_rate(temperature: np.ndarray, radius_cm: np.ndarray) -> np.ndarray:
    r"""Photons per second above 13.6 eV from a blackbody sphere.

    :math:`Q = 8\pi^2 R^2 (kT/h)^3 c^{-2} \int_{x_0}^\infty x^2/(e^x-1)\,dx`, the integral
    summed as :math:`\sum_k e^{-k x_0}(x_0^2/k + 2x_0/k^2 + 2/k^3)`.

    Example:
        >>> round(float(np.log10(lyman_continuum_rate(4e4, 10 * R_SUN))), 2)
        49.09
    """
    t = np.asarray(temperature, dtype=float)
    x0 = E_LYMAN / (K_B * t)
    k = np.arange(1, 31).reshape((-1,) + (1,) * x0.ndim)
    integral = np.sum(np.exp(-k * x0) * (x0**2 / k + 2 * x0 / k**2 + 2 / k**3), axis=0)
    return (
        8
        * np.pi**2
        * np.asarray(radius_cm) ** 2
        * (K_B * t / H_PLANCK) ** 3
        / C_LIGHT**2
        * integral
    )


def vink_mass_loss(
    luminosity: np.ndarray, mass: np.ndarray, temperature: np.ndarray, metallicity: float
) -> tuple[np.ndarray, np.ndarray]:
    """Wind mass-loss rate [M☉/yr] and the ratio v∞/v_esc (Vink et al. 2001, eqs. 24–25).

    Args:
        luminosity: L [L☉]. mass: M [M☉]. temperature: Teff [K].
        metallicity: Z; Vink's solar value is 0.019.

    Example:
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

    Example:
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


@dataclass(frozen=True)
class FeedbackTable:
    """Feedback per solar mass formed, on a log-time grid.

    Attributes:
        metallicity: Z of the stars.
        log_age_myr: log10 of the ages [Myr] of the grid.
        log_values: log10 of each of :data:`FEEDBACK_QUANTITIES` per M☉, shape (n_q, n_t);
            a zero is stored as -300.
    """

    metallicity: float
    log_age_myr: np.ndarray
    log_values: np.ndarray

    def at(self, age_myr: np.ndarray, cluster_mass: np.ndarray) -> dict[str, np.ndarray]:
        """Each quantity for clusters of ``cluster_mass`` [M☉] at ``age_myr``, interpolated
        linearly in log age and log value (ages beyond the grid take its end values)."""
        log_age = np.log10(age_myr)
        return {
            name: cluster_mass * 10 ** np.interp(log_age, self.log_age_myr, row)
            for name, row in zip(FEEDBACK_QUANTITIES, self.log_values, strict=True)
        }


@cache
def feedback_table(metallicity: float = 0.014, num_ages: int = 400) -> FeedbackTable:
    """Build (and cache) the feedback table of a burst of stars of metallicity ``metallicity``.

    Raises:
        ValueError: if ``metallicity`` is outside the 1e-4–0.03 range of the relations.
    """
    if not 1e-4 <= metallicity <= 0.03:
        raise ValueError(f"metallicity Z must be in [1e-4, 0.03], got {metallicity}")
    mass = np.geomspace(M_MIN, M_MAX, 3000)
    weight = kroupa_imf(mass) * np.gradient(mass)  # stars per Msun formed in each mass bin
    lum = zams_luminosity(mass, metallicity)
    radius = zams_radius(mass, metallicity) * R_SUN
    temperature = (lum * L_SUN / (4 * np.pi * radius**2 * SIGMA_SB)) ** 0.25
    mdot, ratio = vink_mass_loss(lum, mass, temperature, metallicity)
    eddington = KAPPA_ELECTRON * lum * L_SUN / (4 * np.pi * C_LIGHT * G_NEWTON * mass * M_SUN)
    v_esc = np.sqrt(2 * G_NEWTON * mass * M_SUN * np.clip(1 - eddington, 0.0, None) / radius)
    mdot_cgs = mdot * M_SUN / YEAR
    per_star = np.stack(
        [
            lyman_continuum_rate(temperature, radius),
            lum * L_SUN,
            0.5 * mdot_cgs * (ratio * v_esc) ** 2,
            mdot_cgs * ratio * v_esc,
        ]
    )
    life = lifetime_myr(mass, metallicity)
    log_age = np.linspace(-2.0, np.log10(50.0), num_ages)
    alive = life[None, :] > 10 ** log_age[:, None]
    stellar = (alive * weight) @ per_star.T  # (n_t, 4)

    # Supernova rate: the derivative of the number of 8-100 Msun stars already dead.
    exploding = mass >= M_SN_MIN
    dead = ((~alive) * (weight * exploding)).sum(axis=1)
    dead_ejecta = ((~alive) * (weight * exploding * (mass - M_REMNANT))).sum(axis=1)
    age_s = 10**log_age * 1e6 * YEAR
    rate = np.clip(np.gradient(dead, age_s), 0.0, None)
    ejecta_rate = np.clip(np.gradient(dead_ejecta, age_s), 0.0, None) * M_SUN
    supernova = np.stack([rate * E_SUPERNOVA, np.sqrt(2 * E_SUPERNOVA * ejecta_rate * rate)])
    values = np.concatenate([stellar.T, supernova])
    with np.errstate(divide="ignore"):
        log_values = np.where(values > 0, np.log10(np.where(values > 0, values, 1.0)), -300.0)
    return FeedbackTable(float(metallicity), log_age, log_values)


@dataclass(frozen=True)
class FeedbackGrid:
    """Feedback tables on a log-uniform metallicity grid, interpolated bilinearly in
    (log age, log Z) for a batch of clusters of different metallicities.

    Example:
        >>> grid = feedback_grid()
        >>> where = grid.locate(np.array([0.014, 0.004]))
        >>> budget = grid.at(np.array([1.0, 1.0]), np.array([1e6, 1e6]), where)
        >>> budget.shape, bool(budget[0, 0] > 1e52)
        ((2, 6), True)
    """

    log_metallicity: np.ndarray
    log_age_myr: np.ndarray
    log_values: np.ndarray  # (n_Z, n_q, n_t)

    def locate(self, metallicity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Grid index and weight of each metallicity (clipped to the grid's range)."""
        lz = np.clip(np.log10(metallicity), self.log_metallicity[0], self.log_metallicity[-1])
        step = self.log_metallicity[1] - self.log_metallicity[0]
        position = (lz - self.log_metallicity[0]) / step
        index = np.minimum(position.astype(int), self.log_metallicity.size - 2)
        return index, position - index

    def at(
        self, age_myr: np.ndarray, cluster_mass: np.ndarray, where: tuple[np.ndarray, np.ndarray]
    ) -> np.ndarray:
        """Array ``(batch, 6)`` of :data:`FEEDBACK_QUANTITIES` at ``age_myr`` [Myr]."""
        z_index, z_weight = where
        step = self.log_age_myr[1] - self.log_age_myr[0]
        position = np.clip(
            (np.log10(age_myr) - self.log_age_myr[0]) / step, 0.0, self.log_age_myr.size - 1.0
        )
        t_index = np.minimum(position.astype(int), self.log_age_myr.size - 2)
        t_weight = (position - t_index)[:, None]
        z_weight = z_weight[:, None]
        v = self.log_values
        low = (1 - t_weight) * v[z_index, :, t_index] + t_weight * v[z_index, :, t_index + 1]
        high = (1 - t_weight) * v[z_index + 1, :, t_index] + t_weight * v[
            z_index + 1, :, t_index + 1
        ]
        return cluster_mass[:, None] * 10 ** ((1 - z_weight) * low + z_weight * high)


@cache
def feedback_grid(
    z_min: float = 0.003, z_max: float = 0.03, num_metallicities: int = 9
) -> FeedbackGrid:
    """Feedback tables at ``num_metallicities`` log-spaced Z in ``[z_min, z_max]`` (cached)."""
    log_z = np.linspace(np.log10(z_min), np.log10(z_max), num_metallicities)
    tables = [feedback_table(float(10**lz)) for lz in log_z]
    return FeedbackGrid(log_z, tables[0].log_age_myr, np.stack([t.log_values for t in tables]))
