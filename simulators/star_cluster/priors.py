r"""Prior of the star-cluster emission-line simulator.

=================  ==============================  =========================================
parameter          prior                           unit / meaning
=================  ==============================  =========================================
``cloud_mass``     log-uniform 10^5 – 10^7.5       M☉, gas + stars of the parent cloud
``sfe``            log-uniform 0.01 – 0.1          star-formation efficiency, M_* / M_cloud
``cloud_density``  log-uniform 100 – 1000          hydrogen number density, cm⁻³
``age``            uniform 0.1 – 10                Myr since the (single) burst
``oxygen``         uniform 8.06 – 8.99             12 + log O/H of gas and stars
``A_V``            uniform 0 – ``max_av``          foreground V-band attenuation, mag
=================  ==============================  =========================================

- The first four ranges are those of issue 7 (after Rahner et al. 2017 and Kang et al. 2022).
- **Metallicity** is the gas-phase oxygen abundance because that is an axis of the
  photoionisation grid. The range 8.06–8.99 runs between two nodes of the MAPPINGS grid
  (so it is never clipped), spans about 0.2–2 Z☉ (HII regions of the Milky Way and
  nearby star-forming galaxies) and avoids the grid's metal-rich NaN cells. Stellar
  metallicity follows as :math:`Z = 0.014 \times 10^{(12+\log O/H) - 8.69}` (Asplund et al.
  2009 solar values), i.e. 0.0034–0.029, inside the range of every stellar relation used.
- **A_V** is a nuisance parameter rather than derived from the shell: the column of a 1-D
  shell would give tens of magnitudes for massive young clouds, while real shells are
  clumpy and observed HII regions show A_V of 0–3 mag. ``max_av = 0`` drops it.

Examples:
    >>> prior = star_cluster_prior()
    >>> prior.names
    ('cloud_mass', 'sfe', 'cloud_density', 'age', 'oxygen', 'A_V')
    >>> star_cluster_prior(max_av=0.0).dim
    5
"""

from __future__ import annotations

import numbers

import numpy as np

from sbinn.priors import JointPrior, LogUniform, Uniform

__all__ = ["OXYGEN_RANGE", "PARAMETER_UNITS", "oxygen_to_metallicity", "star_cluster_prior"]

OXYGEN_RANGE = (8.06, 8.99)
SOLAR_OXYGEN = 8.69  # Asplund et al. (2009)
SOLAR_METALLICITY = 0.014

PARAMETER_UNITS = {
    "cloud_mass": "Msun",
    "sfe": "fraction",
    "cloud_density": "cm^-3",
    "age": "Myr",
    "oxygen": "12 + log10(O/H)",
    "A_V": "mag",
}


def oxygen_to_metallicity(oxygen: np.ndarray) -> np.ndarray:
    """Metal mass fraction Z for 12 + log O/H, scaled from the Sun.

    Examples:
        >>> float(oxygen_to_metallicity(8.69))
        0.014
    """
    return SOLAR_METALLICITY * 10 ** (np.asarray(oxygen, dtype=float) - SOLAR_OXYGEN)


def star_cluster_prior(max_av: float = 2.0) -> JointPrior:
    """The prior of the table above; ``max_av = 0`` leaves out the attenuation.

    Raises:
        ValueError: if ``max_av`` is negative or not finite.
    """
    if isinstance(max_av, bool) or not isinstance(max_av, numbers.Real):
        raise TypeError(f"max_av must be a real number, got {type(max_av).__name__}")
    if not (np.isfinite(max_av) and max_av >= 0):
        raise ValueError(f"max_av must be a finite number >= 0 mag, got {max_av}")
    factors = {
        "cloud_mass": LogUniform(1e5, 10**7.5),
        "sfe": LogUniform(0.01, 0.1),
        "cloud_density": LogUniform(100.0, 1000.0),
        "age": Uniform(0.1, 10.0),
        "oxygen": Uniform(*OXYGEN_RANGE),
    }
    if max_av > 0:
        factors["A_V"] = Uniform(0.0, float(max_av))
    return JointPrior(factors)
