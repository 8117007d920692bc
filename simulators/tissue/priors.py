r"""Priors of the three-layer tissue model: the "generic" and "colon" settings of Wirkert et al.

Each layer has a blood volume fraction :math:`v_{hb}`, a reduced scattering amplitude
:math:`a_{mie}` (the reduced scattering coefficient :math:`\mu_s'` at 500 nm), a scattering
power :math:`b_{mie}`, an anisotropy :math:`g`, a refractive index :math:`n` and a thickness
:math:`d`; the oxygen saturation :math:`s_{O_2}` is shared by the three layers. Layer 1 is the
top layer (the one light enters first), as layer 0 is in the ipcai2016 code.

**Units.** :math:`s_{O_2}` and :math:`v_{hb}` are fractions in ``[0, 1]``, :math:`a_{mie}` is in
cm⁻¹ and :math:`d` in cm (so :math:`\mu d` is an optical thickness directly);
:math:`b_{mie}`, :math:`g` and :math:`n` are dimensionless (:data:`PARAMETER_UNITS`). The
ipcai2016 code works in m⁻¹ and m; the values below are converted.

**Parameter vector.** Only the parameters Wirkert varies are prior dimensions; those he holds
fixed are constants of the setting (:attr:`TissueSetting.fixed`), and
:func:`layer_parameters` merges both into the seven per-layer arrays a solver needs. The prior
lists the parameters grouped by quantity, layers innermost:
``sO2, v_hb_1, v_hb_2, v_hb_3, a_mie_1, ..., g_1, ..., [n_1, ...,] d_1, d_2, d_3``.

**Ranges** (source: github.com/swirkert/ipcai2016, read for this module)

=============  ==========================  =====================================
parameter      "generic"                   "colon" (layers 1 / 2 / 3)
=============  ==========================  =====================================
sO2            U(0, 1), shared             U(0, 1), shared
v_hb           U(0, 1)                     U(0, 0.1)
a_mie [cm⁻¹]   N(18.9, 10.2) on [0.1, ∞)   N(18.9, 10.2) on [0.1, ∞)
b_mie          1.286 (fixed)               1.286 (fixed)
g              U(0.8, 0.95)                U(0.8, 0.95)
n              U(1.33, 1.54)               1.36 / 1.36 / 1.38 (fixed)
d [µm]         U(20, 2000)                 U(600, 1010) / U(415, 847) / U(395, 603)
=============  ==========================  =====================================

- "colon" is ``ColonMuscleMeanScatteringBatch`` of ``mc/batches.py``, the batch the script
  ``scripts/ipcai2016/script_calculate_spectra.py`` simulates as its training set; the same
  numbers are in ``mc/data/tissues/laparoscopic_ipcai_colon_2016_08_23.ini``.
- "generic" is ``mc/data/tissues/laparoscopic_ipcai_generic_2016_08_23.ini``. The
  ``GenericMeanScatteringBatch`` of ``mc/batches.py`` differs only in :math:`d`: it draws three
  uniforms, rescales them to a total of 2 mm and clips each at 25 µm. That Dirichlet-like
  coupling is not a product of independent factors, so the .ini's independent U(20, 2000) µm is
  used.
- :math:`a_{mie}` ~ N(18.9, 10.2) cm⁻¹ and :math:`b_{mie}` = 1.286 are Jacques' (2013)
  soft-tissue averages. The code *clips* draws at 0.1 cm⁻¹ (``batches.py``; the .ini files
  clamp at 1e-10 m⁻¹); a clip puts a point mass at the bound and has no density, so here the
  normal is *truncated* at 0.1 cm⁻¹ instead. About 3 % of the code's draws sat at the clip.
- The code's lower bounds 0.0001 for sO2 and v_hb (.ini files) are taken as 0, as in
  ``batches.py``.

**Not confirmed.** These ranges come from the code, not from the paper: the table of the IJCARS
paper itself could not be retrieved, so whether it prints these exact numbers is unverified.
The colon layer order is doubtful: ``batches.py`` labels its first (top) layer "muscle" and its
last "mucosa" (n = 1.38), which puts the mucosa at the bottom; the order is kept as in the code.
Which setting the thesis' Table 4.2 used is not stated there; its Fig. 4.8 shows five
parameters (sO2, v_hb, a_mie, g, d), consistent with "colon", where b_mie and n are fixed.

Examples:
    >>> import numpy as np
    >>> prior = tissue_prior("colon")
    >>> prior.dim, prior.names[:3]
    (13, ('sO2', 'v_hb_1', 'v_hb_2'))
    >>> theta = prior.sample(4, np.random.default_rng(0))
    >>> layers = layer_parameters(theta, "colon")
    >>> layers["n"][0].tolist(), layers["d"].shape
    ([1.36, 1.36, 1.38], (4, 3))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from sbinn._validation import as_2d_float_array
from sbinn.priors import JointPrior, TruncatedNormal, Uniform

__all__ = [
    "LAYER_QUANTITIES",
    "NUM_LAYERS",
    "PARAMETER_UNITS",
    "SETTINGS",
    "TissueSetting",
    "layer_parameters",
    "tissue_prior",
    "tissue_setting",
]

NUM_LAYERS = 3
SETTINGS = ("generic", "colon")
LAYER_QUANTITIES = ("v_hb", "a_mie", "b_mie", "g", "n", "d")
"""Per-layer quantities, in the order :func:`layer_parameters` returns them after ``sO2``."""

PARAMETER_UNITS = {
    "sO2": "fraction",
    "v_hb": "volume fraction",
    "a_mie": "cm^-1",
    "b_mie": "dimensionless",
    "g": "dimensionless",
    "n": "dimensionless",
    "d": "cm",
}

_UM = 1e-4  # cm per micrometre
_A_MIE = {"loc": 18.9, "scale": 10.2, "low": 0.1}  # cm^-1, Jacques (2013) via ipcai2016
_B_MIE = 1.286


@dataclass(frozen=True)
class TissueSetting:
    """A prior over the varied parameters plus the constants of the fixed ones.

    Attributes:
        name: Setting name, one of :data:`SETTINGS`.
        prior: Prior over the varied parameters (see the module docstring for the layout).
        fixed: Per-layer constants of the quantities the setting does not vary, e.g.
            ``{"b_mie": (1.286, 1.286, 1.286)}``.
    """

    name: str
    prior: JointPrior
    fixed: Mapping[str, tuple[float, ...]]


def _layers(value: float) -> np.ndarray:
    return np.full(NUM_LAYERS, value)


def _a_mie() -> TruncatedNormal:
    return TruncatedNormal(_layers(_A_MIE["loc"]), _A_MIE["scale"], _A_MIE["low"], np.inf)


def _generic() -> TissueSetting:
    prior = JointPrior(
        {
            "sO2": Uniform(0.0, 1.0),
            "v_hb": Uniform(_layers(0.0), 1.0),
            "a_mie": _a_mie(),
            "g": Uniform(_layers(0.8), 0.95),
            "n": Uniform(_layers(1.33), 1.54),
            "d": Uniform(_layers(20 * _UM), 2000 * _UM),
        }
    )
    return TissueSetting("generic", prior, {"b_mie": (_B_MIE,) * NUM_LAYERS})


def _colon() -> TissueSetting:
    prior = JointPrior(
        {
            "sO2": Uniform(0.0, 1.0),
            "v_hb": Uniform(_layers(0.0), 0.1),
            "a_mie": _a_mie(),
            "g": Uniform(_layers(0.8), 0.95),
            "d": Uniform(
                np.array([600.0, 415.0, 395.0]) * _UM, np.array([1010.0, 847.0, 603.0]) * _UM
            ),
        }
    )
    return TissueSetting("colon", prior, {"b_mie": (_B_MIE,) * NUM_LAYERS, "n": (1.36, 1.36, 1.38)})


_BUILDERS = {"generic": _generic, "colon": _colon}


def tissue_setting(setting: str = "generic") -> TissueSetting:
    """The prior and fixed constants of ``setting`` (``"generic"`` or ``"colon"``).

    Raises:
        ValueError: for an unknown setting.

    Examples:
        >>> tissue_setting("colon").fixed["n"]
        (1.36, 1.36, 1.38)
        >>> tissue_setting("skin")
        Traceback (most recent call last):
        ...
        ValueError: unknown tissue setting 'skin'; expected one of ('generic', 'colon')
    """
    if not isinstance(setting, str) or setting not in _BUILDERS:
        raise ValueError(f"unknown tissue setting {setting!r}; expected one of {SETTINGS}")
    return _BUILDERS[setting]()


def tissue_prior(setting: str = "generic") -> JointPrior:
    """Prior over the varied tissue parameters of ``setting`` (see the module docstring).

    Examples:
        >>> tissue_prior("generic").dim
        16
    """
    return tissue_setting(setting).prior


def layer_parameters(theta: np.ndarray, setting: str = "generic") -> dict[str, np.ndarray]:
    """Per-layer tissue parameters from prior draws, with the setting's constants filled in.

    Args:
        theta: Parameter vectors ``(batch, dim)`` laid out as ``tissue_prior(setting).names``
            (a 1-D array is one vector). Must be finite.
        setting: ``"generic"`` or ``"colon"``.

    Returns:
        ``{"sO2": (batch,), "v_hb": (batch, 3), "a_mie": ..., "b_mie": ..., "g": ...,
        "n": ..., "d": (batch, 3)}`` in the units of :data:`PARAMETER_UNITS`, layer 1 (top)
        first.

    Examples:
        >>> import numpy as np
        >>> theta = tissue_prior("generic").sample(2, np.random.default_rng(1))
        >>> sorted(layer_parameters(theta, "generic"))
        ['a_mie', 'b_mie', 'd', 'g', 'n', 'sO2', 'v_hb']
    """
    spec = tissue_setting(setting)
    theta = as_2d_float_array(theta, spec.prior.dim, "theta")
    batch = theta.shape[0]
    index = {name: i for i, name in enumerate(spec.prior.names)}
    result = {"sO2": theta[:, index["sO2"]].copy()}
    for quantity in LAYER_QUANTITIES:
        if quantity in spec.fixed:
            result[quantity] = np.tile(np.asarray(spec.fixed[quantity], dtype=float), (batch, 1))
        else:
            columns = [index[f"{quantity}_{k + 1}"] for k in range(NUM_LAYERS)]
            result[quantity] = theta[:, columns].copy()
    return result
