import json

import numpy as np
import pytest

from simulators.tissue.camera import MultispectralCamera, band_average
from simulators.tissue.optics import extinction_coefficients
from simulators.tissue.priors import tissue_prior
from simulators.tissue.simulator import TissueSimulator, layer_reflectance


@pytest.mark.parametrize("setting", ["colon", "generic"])
def test_band_values_have_the_camera_shape_and_lie_in_zero_one(setting):
    sim = TissueSimulator(setting)
    theta, x = sim.sample_joint(6, seed=0)
    assert theta.shape == (6, tissue_prior(setting).dim)
    assert x.shape == (6, 8) and sim.observation_names[0] == "band_470nm"
    assert np.all((x > 0) & (x < 1))


def test_oxygenation_brightens_exactly_the_bands_where_deoxy_haemoglobin_absorbs_more():
    """Raising sO2 swaps Hb for HbO2: a band gets brighter where ε_Hb > ε_HbO2 (Prahl's
    table) and darker where ε_HbO2 > ε_Hb; the 660 nm band rises monotonically."""
    # sO2, v_hb of the 3 layers, a_mie [1/cm], g, d [cm]: mid-range colon tissue.
    one = [0.5, 0.05, 0.05, 0.05, 20.0, 20.0, 20.0, 0.9, 0.9, 0.9, 0.08, 0.06, 0.05]
    theta = np.repeat(np.array([one]), 5, axis=0)
    theta[:, 0] = np.linspace(0.0, 1.0, 5)
    sim = TissueSimulator("colon")
    x = sim.simulate(theta, np.random.default_rng(0))
    eps_oxy, eps_deoxy = extinction_coefficients(sim.camera.wavelengths)
    deoxy_excess = band_average((eps_deoxy - eps_oxy)[None, :])[0]
    assert np.array_equal(np.sign(x[-1] - x[0]), np.sign(deoxy_excess))
    assert np.all(np.diff(x[:, 6]) > 0)


def test_noise_is_multiplicative_at_the_snr_and_seeded():
    theta = tissue_prior("colon").sample(4, np.random.default_rng(1))
    clean = TissueSimulator("colon").simulate(theta, np.random.default_rng(2))
    sim = TissueSimulator("colon", camera=MultispectralCamera(snr=50.0))
    x = sim.simulate(theta, np.random.default_rng(2))
    relative = x / clean - 1
    # 32 draws of N(0, 1/50): all within 5 sd, and not all tiny.
    assert np.all(np.abs(relative) < 5 / 50.0) and relative.std() > 0.5 / 50.0
    assert np.array_equal(x, sim.simulate(theta, np.random.default_rng(2)))


def test_noise_draws_are_exposed_and_reproduce_the_observations():
    theta = tissue_prior("colon").sample(5, np.random.default_rng(1))
    sim = TissueSimulator("colon", camera=MultispectralCamera(snr=10.0, normalisation="l1"))
    assert sim.noise_dimension == 8 and TissueSimulator("colon").noise_dimension == 0
    x, noise = sim.simulate_with_noise(theta, 3)
    assert noise.shape == (5, 8)
    np.testing.assert_allclose(sim.simulate(theta, 3), x)
    clean = TissueSimulator("colon").simulate(theta)
    noisy = clean * (1 + noise / 10.0)
    np.testing.assert_allclose(x, noisy / noisy.sum(axis=1, keepdims=True))


def test_reflectance_uses_the_settings_constants():
    theta = tissue_prior("colon").sample(2, np.random.default_rng(3))
    reflectance = layer_reflectance(theta, np.array([500.0, 600.0]), "colon")
    assert reflectance.shape == (2, 2) and np.all((reflectance > 0) & (reflectance < 1))


def test_settings_are_json_and_bad_arguments_are_named():
    record = TissueSimulator("generic").settings()
    assert json.loads(json.dumps(record))["setting"] == "generic"
    with pytest.raises(ValueError, match="unknown tissue setting 'skin'"):
        TissueSimulator("skin")
    with pytest.raises(TypeError, match="camera must be a MultispectralCamera, got dict"):
        TissueSimulator("colon", camera={"snr": 10})
