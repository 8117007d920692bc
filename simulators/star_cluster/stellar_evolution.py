r"""Luminosity and radius of single stars on the main sequence, as functions of age.

- **Zero-age main sequence:** Tout et al. (1996, MNRAS 281, 257, eqs. 1–2, Tables 1–2, with
  their metallicity polynomials in :math:`\zeta = \log(Z/0.02)`).
- **Main-sequence evolution:** Hurley, Pols & Tout (2000, MNRAS 315, 543; HPT), §5.1, fitted
  to the Pols et al. (1998) tracks with overshooting. With the fractional age
  :math:`\tau = t/t_{MS}`,

  .. math::
      \log\frac{L}{L_{ZAMS}} = \alpha_L\tau + \beta_L\tau^\eta
          + \Big(\log\frac{L_{TMS}}{L_{ZAMS}} - \alpha_L - \beta_L\Big)\tau^2
          - \Delta L(\tau_1^2 - \tau_2^2),

      \log\frac{R}{R_{ZAMS}} = \alpha_R\tau + \beta_R\tau^{10} + \gamma_R\tau^{40}
          + \Big(\log\frac{R_{TMS}}{R_{ZAMS}} - \alpha_R - \beta_R - \gamma_R\Big)\tau^3
          - \Delta R(\tau_1^3 - \tau_2^3)

  (HPT eqs. 12–15), with :math:`t_{MS}` and :math:`t_{hook}` from eqs. 4–7, the terminal
  values :math:`L_{TMS}`, :math:`R_{TMS}` from eqs. 8–9 and the mass-dependent
  :math:`\alpha, \beta, \gamma, \eta, \Delta` from eqs. 16–23. Each coefficient
  :math:`a_n` of HPT Appendix A is a polynomial in :math:`\zeta`, with the limits the
  appendix puts on some of them. Mass loss on the main sequence is ignored (initial mass).
- **Total lifetime** (to core collapse or white dwarf): Raiteri, Villata & Navarro (1996, A&A
  315, 105, eq. 3), a fit to the Padova tracks.

The Tout and HPT coefficients (``_TOUT_L``, ``_TOUT_R``, ``_TOUT_R_NU``, ``_HPT`` and the
limits in :func:`hurley_coefficients`) were checked number by number against the SSE data
shipped with COSMIC 4.3.3 (MIT; PyPI ``cosmic_popsynth-4.3.3.tar.gz``, files
``src/cosmic/src/zdata.h``, arrays ``xz``, ``xt``, ``xl``, ``xr``, and the limits written in
``src/cosmic/src/SSE/SSE_zcnsts.f``); all agree exactly. Two places differ from the SSE
code: x of eq. 6 is the published form (SSE uses a later form in Z; they differ by < 0.01)
and the floor R_TMS ≥ 1.5 R_ZAMS is applied below 0.5 M☉ (SSE: up to a17; the floor only
binds below 0.4 M☉ for 1e-4 ≤ Z ≤ 0.03, so the two agree).

Examples:
    >>> lum, rad, on_ms = main_sequence_track(np.array([60.0]), np.array([[0.0], [3.0]]), 0.014)
    >>> bool(lum[1, 0] > lum[0, 0] and rad[1, 0] > 2 * rad[0, 0]), on_ms[:, 0].tolist()
    (True, [True, True])
"""

from __future__ import annotations

from functools import cache

import numpy as np

__all__ = [
    "hurley_coefficients",
    "lifetime_myr",
    "main_sequence_time",
    "main_sequence_track",
    "zams_luminosity",
    "zams_radius",
]

# Tout et al. (1996) Table 1 (L: alpha..eta) and Table 2 (R: theta..pi), each row a quartic in
# zeta; nu of Table 2 does not depend on Z.
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

# HPT Appendix A: a_n = sum_k c_k zeta^k (the a_n of eqs. 4-23 used here; limits applied below).
_HPT = {
    1: (1.593890e3, 2.053038e3, 1.231226e3, 2.327785e2),
    2: (2.706708e3, 1.483131e3, 5.772723e2, 7.411230e1),
    3: (1.466143e2, -1.048442e2, -6.795374e1, -1.391127e1),
    4: (4.141960e-2, 4.564888e-2, 2.958542e-2, 5.571483e-3),
    5: (3.426349e-1,),
    6: (1.949814e1, 1.758178, -6.008212, -4.470533),
    7: (4.903830,),
    8: (5.212154e-2, 3.166411e-2, -2.750074e-3, -2.271549e-3),
    9: (1.312179, -3.294936e-1, 9.231860e-2, 2.610989e-2),
    10: (8.073972e-1,),
    11: (1.031538, -2.434480e-1, 7.732821, 6.460705, 1.374484),
    12: (1.043715, -1.577474, -5.168234, -5.596506, -1.299394),
    13: (7.859573e2, -8.542048, -2.642511e1, -9.585707),
    14: (3.858911e3, 2.459681e3, -7.630093e1, -3.486057e2, -4.861703e1),
    15: (2.888720e2, 2.952979e2, 1.850341e2, 3.797254e1),
    16: (7.196580, 5.613746e-1, 3.805871e-1, 8.398728e-2),
    18: (2.187715e-1, -2.154437, -3.768678, -1.975518, -3.021475e-1),
    19: (1.466440, 1.839725, 6.442199, 4.023635, 6.957529e-1),
    20: (2.652091e1, 8.178458e1, 1.156058e2, 7.633811e1, 1.950698e1),
    21: (1.472103, -2.947609, -3.312828, -9.945065e-1),
    22: (3.071048, -5.679941, -9.745523, -3.594543),
    23: (2.617890, 1.019135, -3.292551e-2, -7.445123e-2),
    24: (1.075567e-2, 1.773287e-2, 9.610479e-3, 1.732469e-3),
    25: (1.476246, 1.899331, 1.195010, 3.035051e-1),
    26: (5.502535, -6.601663e-2, 9.968707e-2, 3.599801e-2),
    33: (1.5135, 0.3769),
    34: (1.910302e-1, 1.158624e-1, 3.348990e-2, 2.599706e-3),
    35: (3.931056e-1, 7.277637e-2, -1.366593e-1, -4.508946e-2),
    36: (3.267776e-1, 1.204424e-1, 9.988332e-2, 2.455361e-2),
    37: (5.990212e-1, 5.570264e-2, 6.207626e-2, 1.777283e-2),
    38: (7.330122e-1, 5.192827e-1, 2.316416e-1, 8.346941e-3),
    39: (1.172768, -1.209262e-1, -1.193023e-1, -2.859837e-2),
    40: (3.982622e-1, -2.296279e-1, -2.262539e-1, -5.219837e-2),
    41: (3.571038, -2.223625e-2, -2.611794e-2, -6.359648e-3),
    42: (1.9848, 1.1386, 0.3564),
    43: (0.063, 0.0481, 0.00984),
    44: (1.2, 2.45),
    45: (2.321400e-1, 1.828075e-3, -2.232007e-2, -3.378734e-3),
    46: (1.163659e-2, 3.427682e-3, 1.421393e-3, -3.710666e-3),
    47: (1.048020e-2, -1.231921e-2, -1.686860e-2, -4.234354e-3),
    48: (1.555590, -3.223927e-1, -5.197429e-1, -1.066441e-1),
    49: (0.0977, -0.231, -0.0753),
    50: (0.24, 0.18, 0.595),
    51: (0.33, 0.132, 0.218),
    52: (1.1064, 0.415, 0.18),
    53: (1.19, 0.377, 0.176),
    54: (3.855707e-1, -6.104166e-1, 5.676742, 1.060894e1, 5.284014),
    55: (3.579064e-1, -6.442936e-1, 5.494644, 1.054952e1, 5.280991),
    56: (9.587587e-1, 8.777464e-1, 2.017321e-1),
    57: (1.5135, 0.3769),
    58: (4.907546e-1, -1.683928e-1, -3.108742e-1, -7.202918e-2),
    59: (4.537070, -4.465455, -1.612690, -1.623246),
    60: (1.796220, 2.814020e-1, 1.423325, 3.421036e-1),
    61: (2.256216, 3.773400e-1, 1.537867, 4.396373e-1),
    62: (8.43e-2, -4.75e-2, -3.52e-2),
    63: (7.36e-2, 7.49e-2, 4.426e-2),
    64: (1.36e-1, 3.52e-2),
    65: (1.564231e-3, 1.653042e-3, -4.439786e-3, -4.951011e-3, -1.216530e-3),
    66: (1.477, 0.296),
    67: (5.210157, -4.143695, -2.120870),
    68: (1.116, 0.166),
    69: (1.071489, -1.164852e-1, -8.623831e-2, -1.582349e-2),
    70: (7.108492e-1, 7.935927e-1, 3.926983e-1, 3.622146e-2),
    71: (3.478514, -2.585474e-2, -1.512955e-2, -2.833691e-3),
    72: (3.969331e-3, 4.539076e-3, 1.720906e-3, 1.897857e-4),
    73: (9.132108e-1, -1.653695e-1, 0.0, 3.636784e-2),
    74: (1.6, 0.764, 0.3322),
    75: (0.8109, -0.6282),
    76: (1.192334e-2, 1.083057e-2, 1.230969, 1.551656),
    77: (-1.668868e-1, 5.818123e-1, -1.105027e1, -1.668070e1),
    78: (7.615495e-1, 1.068243e-1, -2.011333e-1, -9.371415e-2),
    79: (9.409838, 1.522928),
    80: (-0.2711, -0.5756, -0.0838),
    81: (2.493, 1.1475),
}


def _tout(coefficients: np.ndarray, metallicity: float) -> np.ndarray:
    return coefficients @ np.log10(metallicity / 0.02) ** np.arange(5)


def zams_luminosity(mass: np.ndarray, metallicity: float = 0.02) -> np.ndarray:
    """ZAMS luminosity [L☉] of stars of ``mass`` [M☉] (Tout et al. 1996, eq. 1).

    Examples:
        >>> round(float(zams_luminosity(1.0)), 3)
        0.698
    """
    a, b, g, d, e, z, h = _tout(_TOUT_L, metallicity)
    m = np.asarray(mass, dtype=float)
    return (a * m**5.5 + b * m**11) / (g + m**3 + d * m**5 + e * m**7 + z * m**8 + h * m**9.5)


def zams_radius(mass: np.ndarray, metallicity: float = 0.02) -> np.ndarray:
    """ZAMS radius [R☉] of stars of ``mass`` [M☉] (Tout et al. 1996, eq. 2).

    Examples:
        >>> round(float(zams_radius(1.0)), 3)
        0.888
    """
    th, io, ka, la, mu, xi, om, pi = _tout(_TOUT_R, metallicity)
    m = np.asarray(mass, dtype=float)
    numerator = th * m**2.5 + io * m**6.5 + ka * m**11 + la * m**19 + mu * m**19.5
    return numerator / (_TOUT_R_NU + xi * m**2 + om * m**8.5 + m**18.5 + pi * m**19.5)


def lifetime_myr(mass: np.ndarray, metallicity: float = 0.02) -> np.ndarray:
    """Total stellar lifetime [Myr] (Raiteri, Villata & Navarro 1996, eq. 3; 7e-5 ≤ Z ≤ 0.03).

    Examples:
        >>> np.round(lifetime_myr(np.array([8.0, 100.0]), 0.02), 1).tolist()
        [38.0, 3.3]
    """
    lz = np.log10(metallicity)
    a0 = 10.13 + 0.07547 * lz - 0.008084 * lz**2
    a1 = -4.424 - 0.7939 * lz - 0.1187 * lz**2
    a2 = 1.262 + 0.3385 * lz + 0.05417 * lz**2
    lm = np.log10(np.asarray(mass, dtype=float))
    return 10 ** (a0 + a1 * lm + a2 * lm**2) / 1e6


@cache
def hurley_coefficients(metallicity: float) -> dict:
    """The coefficients :math:`a_n` of HPT Appendix A at ``metallicity``, with its limits,
    and M_hook (eq. 1) and x (eq. 6) under the keys ``"hook"`` and ``"x"``.

    Examples:
        >>> a = hurley_coefficients(0.02)
        >>> round(a[5], 4), round(a[33], 2), round(a[17], 3)
        (0.3426, 1.4, 1.4)
    """
    zeta = np.log10(metallicity / 0.02)
    a = {n: float(np.polyval(c[::-1], zeta)) for n, c in _HPT.items()}
    a[11] *= a[14]
    a[12] *= a[14]
    sigma = np.log10(metallicity)
    a[17] = 10 ** max(
        0.097 - 0.1072 * (sigma + 3), 0.097, min(0.1461, 0.1461 + 0.1237 * (sigma + 2))
    )
    a[18] *= a[20]
    a[19] *= a[20]
    for n in (33, 57):
        a[n] = max(0.6355 - 0.4192 * zeta, 1.25, min(1.4, a[n]))
    a[42] = min(1.25, max(1.1, a[42]))
    a[44] = min(1.3, max(0.45, a[44]))
    a[49] = max(a[49], 0.145)
    a[50] = min(a[50], 0.306 + 0.053 * zeta)
    a[51] = min(a[51], 0.3625 + 0.062 * zeta)
    a[52] = max(a[52], 0.9) if metallicity <= 0.01 else min(max(a[52], 0.9), 1.0)
    a[53] = max(a[53], 1.0) if metallicity <= 0.01 else min(max(a[53], 1.0), 1.1)
    a[62] = max(0.065, a[62])
    a[63] = min(0.055, a[63]) if metallicity < 0.004 else a[63]
    a[64] = max(0.091, min(0.121, a[64]))
    a[66] = max(a[66], min(1.6, -0.308 - 1.046 * zeta))
    a[66] = max(0.8, min(0.8 - 2.0 * zeta, a[66]))
    a[68] = max(0.9, min(a[68], 1.0))
    if a[68] >= a[66]:  # the a68-a66 join of eq. 21 is empty: join at a66 (continuity)
        a[68] = a[66]
        a[64] = a[58] * a[66] ** a[60] / (a[59] + a[66] ** a[61])
    a[73] = max(a[73], 0.95) if metallicity > 0.01 else a[73]
    a[74] = max(1.4, min(a[74], 1.6))
    a[75] = max(max(1.0, min(a[75], 1.27)), 0.6355 - 0.4192 * zeta)
    a[76] = max(a[76], -0.1015564 - 0.2161264 * zeta - 0.05182516 * zeta**2)
    a[77] = max(-0.3868776 - 0.5457078 * zeta - 0.1463472 * zeta**2, min(0.0, a[77]))
    a[78] = max(0.0, min(a[78], 7.454 + 9.046 * zeta))
    a[79] = min(a[79], max(2.0, -13.3 - 18.6 * zeta))
    a[80] = max(0.0585542, a[80])
    a[81] = min(1.5, max(0.4, a[81]))
    a["hook"] = 1.0185 + 0.16015 * zeta + 0.0892 * zeta**2  # M_hook, HPT eq. 1
    a["x"] = max(0.95, min(0.95 - 0.03 * (zeta + 0.30103), 0.99))  # HPT eq. 6
    return a


def main_sequence_time(mass: np.ndarray, metallicity: float) -> tuple[np.ndarray, np.ndarray]:
    """Main-sequence lifetime and start of the hook, both [Myr] (HPT eqs. 4–7).

    Examples:
        >>> t_ms, t_hook = main_sequence_time(np.array([1.0, 20.0]), 0.02)
        >>> np.round(t_ms, 1).tolist()
        [11003.1, 8.7]
    """
    a = hurley_coefficients(metallicity)
    m = np.asarray(mass, dtype=float)
    t_bgb = (a[1] + a[2] * m**4 + a[3] * m**5.5 + m**7) / (a[4] * m**2 + a[5] * m**7)
    mu = np.maximum(0.5, 1.0 - 0.01 * np.maximum(a[6] / m ** a[7], a[8] + a[9] / m ** a[10]))
    t_hook = mu * t_bgb
    return np.maximum(t_hook, a["x"] * t_bgb), t_hook


def _ramp(m: np.ndarray, m0: float, m1: float, v0, v1) -> np.ndarray:
    """Linear from ``v0`` at ``m0`` to ``v1`` at ``m1`` (HPT's joins between mass ranges)."""
    return v0 + (v1 - v0) * (m - m0) / max(m1 - m0, 1e-12)


def _terminal(m: np.ndarray, a: dict, r_zams: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """L_TMS and R_TMS (HPT eqs. 8–9)."""
    l_tms = (a[11] * m**3 + a[12] * m**4 + a[13] * m ** (a[16] + 1.8)) / (
        a[14] + a[15] * m**5 + m ** a[16]
    )

    def low(mm):
        return (a[18] + a[19] * mm ** a[21]) / (a[20] + mm ** a[22])

    def high(mm):
        return (-8.672073e-2 * mm**3 + a[23] * mm ** a[26] + a[24] * mm ** (a[26] + 1.5)) / (
            a[25] + mm**5
        )

    m17 = a[17]
    r_tms = np.where(
        m <= m17,
        low(m),
        np.where(m >= m17 + 0.1, high(m), _ramp(m, m17, m17 + 0.1, low(m17), high(m17 + 0.1))),
    )
    return l_tms, np.where(m < 0.5, np.maximum(r_tms, 1.5 * r_zams), r_tms)


def _luminosity_shape(m: np.ndarray, a: dict, metallicity: float) -> tuple[np.ndarray, ...]:
    """alpha_L, beta_L, eta and Delta_L (HPT eqs. 16, 18–20)."""

    def alpha_high(mm):
        return (a[45] + a[46] * mm ** a[48]) / (mm**0.4 + a[47] * mm**1.9)

    alpha = np.select(
        [m < 0.5, m < 0.7, m < a[52], m < a[53], m < 2.0],
        [
            np.full_like(m, a[49]),
            a[49] + 5.0 * (0.3 - a[49]) * (m - 0.5),
            _ramp(m, 0.7, a[52], 0.3, a[50]),
            _ramp(m, a[52], a[53], a[50], a[51]),
            _ramp(m, a[53], 2.0, a[51], alpha_high(2.0)),
        ],
        alpha_high(m),
    )
    beta57 = max(0.0, a[54] - a[55] * a[57] ** a[56])
    beta = np.maximum(0.0, a[54] - a[55] * m ** a[56])
    beta = np.where(
        (m > a[57]) & (beta > 0), np.maximum(0.0, beta57 * (1 - 10.0 * (m - a[57]))), beta
    )
    eta = np.clip(10.0 + 100.0 * (m - 1.0), 10.0, 20.0) if metallicity <= 0.0009 else 10.0

    def hook_high(mm):
        return np.minimum(a[34] / mm ** a[35], a[36] / mm ** a[37])

    hook = a["hook"]
    ratio = np.clip((m - hook) / (a[33] - hook), 0.0, None)
    delta = np.where(m >= a[33], hook_high(m), hook_high(a[33]) * ratio**0.4)
    return alpha, beta, eta, np.where(m > hook, delta, 0.0)


def _radius_shape(m: np.ndarray, a: dict) -> tuple[np.ndarray, ...]:
    """alpha_R, beta_R, gamma_R and Delta_R (HPT eqs. 17, 21–23)."""

    def alpha_mid(mm):
        return a[58] * mm ** a[60] / (a[59] + mm ** a[61])

    alpha = np.select(
        [m < 0.5, m < 0.65, m < a[68], m < a[66], m <= a[67]],
        [
            np.full_like(m, a[62]),
            _ramp(m, 0.5, 0.65, a[62], a[63]),
            _ramp(m, 0.65, a[68], a[63], a[64]),
            _ramp(m, a[68], a[66], a[64], alpha_mid(a[66])),
            alpha_mid(m),
        ],
        alpha_mid(a[67]) + a[65] * (m - a[67]),
    )

    def beta_mid(mm):
        return a[69] * mm**3.5 / (a[70] + mm ** a[71])

    beta = np.select(
        [m <= 1.0, m < a[74], m < 2.0, m <= 16.0],
        [
            np.full_like(m, 1.06),
            _ramp(m, 1.0, a[74], 1.06, a[73]),
            _ramp(m, a[74], 2.0, a[73], beta_mid(2.0)),
            beta_mid(m),
        ],
        beta_mid(16.0) + a[72] * (m - 16.0),
    )

    def gamma_low(mm):
        return a[76] + a[77] * np.abs(mm - a[78]) ** a[79]

    gamma_1 = max(0.0, gamma_low(1.0))
    gamma_75 = a[80] if a[75] > 1.0 else gamma_1
    ratio = np.clip((m - 1.0) / max(a[75] - 1.0, 1e-12), 0.0, 1.0)
    gamma = np.select(
        [m <= 1.0, m <= a[75], m <= a[75] + 0.1],
        [
            gamma_low(m),
            gamma_1 + (a[80] - gamma_1) * ratio ** a[81],
            gamma_75 * (1 - 10.0 * (m - a[75])),
        ],
        0.0,
    )

    def delta_high(mm):
        return (a[38] + a[39] * mm**3.5) / (a[40] * mm**3 + mm ** a[41]) - 1.0

    hook = a["hook"]
    low_ratio = np.clip((m - hook) / (a[42] - hook), 0.0, None)
    mid_ratio = np.clip((m - a[42]) / (2.0 - a[42]), 0.0, None)
    delta = np.select(
        [m <= hook, m <= a[42], m < 2.0],
        [0.0, a[43] * low_ratio**0.5, a[43] + (delta_high(2.0) - a[43]) * mid_ratio ** a[44]],
        delta_high(m),
    )
    return alpha, beta - 1.0, np.maximum(gamma, 0.0), delta


def main_sequence_track(
    mass: np.ndarray, age_myr: np.ndarray, metallicity: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Luminosity [L☉] and radius [R☉] of stars of ``mass`` at ``age_myr`` (HPT eqs. 11–15).

    ``mass`` and ``age_myr`` broadcast against each other. Past the end of the main sequence
    the terminal values are returned, and the third output, ``on_main_sequence``, is False.
    """
    a = hurley_coefficients(metallicity)
    m = np.asarray(mass, dtype=float)
    l_zams, r_zams = zams_luminosity(m, metallicity), zams_radius(m, metallicity)
    l_tms, r_tms = _terminal(m, a, r_zams)
    alpha_l, beta_l, eta, delta_l = _luminosity_shape(m, a, metallicity)
    alpha_r, beta_r, gamma_r, delta_r = _radius_shape(m, a)
    t_ms, t_hook = main_sequence_time(m, metallicity)

    t = np.asarray(age_myr, dtype=float)
    tau = np.clip(t / t_ms, 1e-7, 1.0)
    tau_1 = np.clip(t / t_hook, 0.0, 1.0)
    tau_2 = np.clip((t - 0.99 * t_hook) / (0.01 * t_hook), 0.0, 1.0)
    tau_sq, hook_sq = tau * tau, (tau_1 - tau_2) * (tau_1 + tau_2)
    tau_cube, hook_cube = tau_sq * tau, tau_1**3 - tau_2**3
    tau_10 = tau_cube * tau_cube * tau_cube * tau
    tau_eta = tau_10 if np.isscalar(eta) else tau**eta
    log_l_tms = np.log10(l_tms / l_zams) - alpha_l - beta_l
    log_l = alpha_l * tau + beta_l * tau_eta + log_l_tms * tau_sq - delta_l * hook_sq
    log_r_tms = np.log10(r_tms / r_zams) - alpha_r - beta_r - gamma_r
    log_r = alpha_r * tau + beta_r * tau_10 + gamma_r * (tau_10 * tau_10) ** 2
    log_r = log_r + log_r_tms * tau_cube - delta_r * hook_cube
    return l_zams * 10**log_l, r_zams * 10**log_r, t < t_ms
