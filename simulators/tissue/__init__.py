"""Multispectral images of layered tissue (issue 6; Wirkert et al. 2016).

- :mod:`simulators.tissue.simulator`: :class:`TissueSimulator`, parameters to the camera's
  8 band values.
- :mod:`simulators.tissue.adding_doubling`: diffuse reflectance and transmittance of a
  layered slab with Fresnel interfaces, by the adding-doubling method (Prahl et al. 1993).
- :mod:`simulators.tissue.optics`: haemoglobin absorption (Prahl's table) and Mie-like
  scattering of a blood-perfused layer.
- :mod:`simulators.tissue.camera`: band integration, noise and feature normalisation.
- :mod:`simulators.tissue.priors`: the "colon" and "generic" prior settings.
- :mod:`simulators.tissue.evaluation`: the MAP errors and the Fig. 4.8-style figure of
  ``sbinn benchmark tissue``.
"""

from simulators.tissue.adding_doubling import SlabOptics, slab_rt
from simulators.tissue.camera import MultispectralCamera
from simulators.tissue.optics import absorption, extinction_coefficients, scattering
from simulators.tissue.priors import tissue_prior
from simulators.tissue.simulator import TissueSimulator

__all__ = [
    "MultispectralCamera",
    "SlabOptics",
    "TissueSimulator",
    "absorption",
    "extinction_coefficients",
    "scattering",
    "slab_rt",
    "tissue_prior",
]
