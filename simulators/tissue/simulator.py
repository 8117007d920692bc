r"""Multispectral camera images of three-layer tissue: the forward model of issue 6.

A parameter vector (oxygenation :math:`s_{O_2}`, shared by the layers, and per layer the
blood volume fraction, scattering amplitude, anisotropy, refractive index and thickness;
see :mod:`simulators.tissue.priors`) becomes, at every wavelength the camera integrates
over, the absorption and scattering coefficients of each layer
(:mod:`simulators.tissue.optics`), then the diffuse reflectance of the layered slab by
adding-doubling (:mod:`simulators.tissue.adding_doubling`), then the camera's 8 band
values (:mod:`simulators.tissue.camera`).

The slab rests on more tissue: the medium under the third layer has that layer's refractive
index, so light leaving the bottom is lost rather than reflected back by an interface.
The reflectance is diffuse only; the specular reflection of the top surface is left out,
as a camera with crossed polarisers sees it.

Examples:
    >>> sim = TissueSimulator("colon", camera=MultispectralCamera(snr=100.0))
    >>> theta, x = sim.sample_joint(2, seed=0)
    >>> x.shape, bool(np.all((x > 0) & (x < 1)))
    ((2, 8), True)
"""

from __future__ import annotations

import numpy as np

from sbinn._validation import as_2d_float_array
from sbinn.simulator import Simulator
from simulators.tissue.adding_doubling import slab_rt
from simulators.tissue.camera import MultispectralCamera
from simulators.tissue.optics import absorption, scattering
from simulators.tissue.priors import layer_parameters, tissue_setting

__all__ = ["TissueSimulator", "layer_reflectance"]


def layer_reflectance(
    theta: np.ndarray, wavelengths_nm: np.ndarray, setting: str = "colon"
) -> np.ndarray:
    """Diffuse reflectance ``(batch, n_wavelengths)`` of the tissue described by ``theta``.

    Args:
        theta: Parameter vectors ``(batch, dim)`` in the layout of ``tissue_prior(setting)``.
        wavelengths_nm: Wavelengths in nm.
        setting: Prior setting that defines the layout and the fixed constants.
    """
    layers = layer_parameters(theta, setting)
    wavelengths = np.asarray(wavelengths_nm, dtype=float)[None, :, None]

    def per_layer(name: str) -> np.ndarray:
        return layers[name][:, None, :]  # (batch, 1, layers): broadcast over wavelengths

    mu_a = absorption(wavelengths, per_layer("v_hb"), layers["sO2"][:, None, None])
    mu_s = scattering(wavelengths, per_layer("a_mie"), per_layer("b_mie"), per_layer("g"))
    shape = mu_a.shape
    optics = slab_rt(
        mu_a,
        mu_s,
        np.broadcast_to(per_layer("g"), shape),
        np.broadcast_to(per_layer("n"), shape),
        np.broadcast_to(per_layer("d"), shape),
        n_below=np.broadcast_to(layers["n"][:, None, -1], shape[:2]),
    )
    return optics.reflectance


class TissueSimulator(Simulator):
    """Camera band values of three-layer tissue (Wirkert et al. 2016).

    Args:
        setting: ``"colon"`` or ``"generic"``: the prior ranges and fixed constants of
            :mod:`simulators.tissue.priors`.
        camera: Bands, noise and normalisation; default 8 noise-free, unnormalised bands.
            Without noise the posterior of the 8 values is degenerate in most directions;
            set ``snr`` for the measurement noise of the camera being modelled.
    """

    name = "tissue"
    version = "1"

    def __init__(self, setting: str = "colon", camera: MultispectralCamera | None = None) -> None:
        spec = tissue_setting(setting)
        camera = MultispectralCamera() if camera is None else camera
        if not isinstance(camera, MultispectralCamera):
            raise TypeError(f"camera must be a MultispectralCamera, got {type(camera).__name__}")
        names = tuple(f"band_{int(c)}nm" for c in camera.centres_nm)
        super().__init__(spec.prior, len(names), names)
        self.setting, self.camera = spec.name, camera

    @property
    def noise_dimension(self) -> int:
        """One standard-normal draw per band when the camera is noisy, else 0."""
        return 0 if self.camera.snr is None else self.camera.num_bands

    def _simulate(self, theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        reflectance = layer_reflectance(theta, self.camera.wavelengths, self.setting)
        return self.camera.observe(reflectance, rng)

    def _simulate_given_noise(self, theta: np.ndarray, noise: np.ndarray) -> np.ndarray:
        return self.observe_signal(self.simulate_signal(theta), noise)

    def simulate_signal(self, theta: np.ndarray) -> np.ndarray:
        """Noise-free band values ``(n, num_bands)`` before the camera's noise and
        normalisation: the expensive part, which :mod:`sbinn.fresh_noise` reuses."""
        theta = as_2d_float_array(theta, self.dim_parameters, "theta")
        reflectance = layer_reflectance(theta, self.camera.wavelengths, self.setting)
        return self.camera.integrate(reflectance)

    def observe_signal(self, signal: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """The observation of noise-free band values with the standard-normal draws
        ``noise`` ``(n, num_bands)``; cheap."""
        return self.camera.observe_band_values(signal, noise)

    def settings(self) -> dict:
        return super().settings() | {"setting": self.setting, "camera": self.camera.settings()}
