"""The bidirectional INN with the simulator's noise draws as latent parameters, and with
parameters mapped from their bounded support onto the real line."""

from __future__ import annotations

import numpy as np
import pytest

from sbinn.diagnostics import calibration_error
from sbinn.function_simulator import FunctionSimulator
from sbinn.methods.inn import BidirectionalINN, INNConfig, TrainingConfig
from sbinn.priors import JointPrior, Uniform
from tests.test_simulator_noise import PRIOR, NoisySum

TRAINING = TrainingConfig(num_epochs=25, batch_size=250, learning_rate=2e-3, progress=False)


class LinearGaussian(NoisySum):
    """x = theta_1 + theta_2 + noise, never failing."""

    def _simulate_given_noise(self, theta, noise):
        return theta.sum(axis=1, keepdims=True) + noise


def test_latent_noise_recovers_the_noisy_linear_gaussian_posterior():
    # theta ~ N(0, I_2), x = theta_1 + theta_2 + eps: theta_1 | x is normal with mean x / 3
    # and variance 2 / 3. Treating x as noise-free would put the posterior on the line
    # theta_1 + theta_2 = x: mean x / 2, variance 1 / 2; both checks below would fail.
    sim = LinearGaussian()
    inn = BidirectionalINN(num_blocks=3, hidden_features=32, latent_noise=True, seed=0)
    inn.fit(simulator=sim, num_simulations=8000, training=TRAINING)
    assert inn.dims == {"theta": 2, "noise": 1, "x": 1, "z": 2, "width": 3}
    theta_true, x_test = sim.sample_joint(300, seed=11)
    samples = inn.sample(x_test, 400, seed=0)
    assert samples.shape == (300, 400, 2)
    assert calibration_error(samples, theta_true).value < 0.05
    np.testing.assert_allclose(samples[..., 0].std(axis=1).mean(), np.sqrt(2 / 3), rtol=0.07)
    slope = np.polyfit(x_test[:, 0], samples[..., 0].mean(axis=1), 1)[0]
    assert slope == pytest.approx(1 / 3, abs=0.06)
    # The learned forward model sets the noise to its median, 0.
    np.testing.assert_allclose(inn.predict_observation([[0.5, 0.25]]), [[0.75]], atol=0.15)


def test_latent_noise_round_trips_through_save_and_load(tmp_path):
    sim = LinearGaussian()
    theta, x, noise = sim.sample_joint_with_noise(500, seed=0)
    inn = BidirectionalINN(num_blocks=2, hidden_features=16, latent_noise=True, seed=0)
    inn.fit(theta, x, noise=noise, training=TrainingConfig(num_epochs=1, progress=False))
    inn.save(tmp_path / "inn.pt")
    loaded = BidirectionalINN.load(tmp_path / "inn.pt")
    np.testing.assert_allclose(loaded.sample(x[:3], 5, seed=1), inn.sample(x[:3], 5, seed=1))


def test_latent_noise_errors():
    rng = np.random.default_rng(0)
    theta, x = rng.random((20, 2)), rng.random((20, 1))
    quick = TrainingConfig(num_epochs=1, progress=False)
    with pytest.raises(ValueError, match="needs the noise draws behind x"):
        BidirectionalINN(latent_noise=True).fit(theta, x, training=quick)
    with pytest.raises(ValueError, match="noise is taken only with latent_noise=True"):
        BidirectionalINN().fit(theta, x, noise=rng.random((20, 1)), training=quick)
    with pytest.raises(ValueError, match="one row per simulation"):
        BidirectionalINN(latent_noise=True).fit(theta, x, noise=rng.random((19, 1)), training=quick)
    plain = FunctionSimulator(lambda t: t.sum(axis=1, keepdims=True), PRIOR)
    with pytest.raises(NotImplementedError, match="does not expose its noise draws"):
        BidirectionalINN(latent_noise=True).fit(simulator=plain, num_simulations=50, training=quick)


def test_parameter_bounds_keep_samples_inside_the_support(tmp_path):
    # theta uniform on (0, 1)^2, x = theta_1 + theta_2: near x = 0.1 an unbounded network
    # is free to put samples below 0.
    prior = JointPrior({"theta": Uniform([0.0, 0.0], [1.0, 1.0])})
    sim = FunctionSimulator(lambda t: t.sum(axis=1, keepdims=True), prior)
    inn = BidirectionalINN(
        num_blocks=2, hidden_features=16, parameter_bounds=[(0.0, 1.0), (0.0, None)], seed=0
    )
    inn.fit(
        simulator=sim, num_simulations=500, training=TrainingConfig(num_epochs=2, progress=False)
    )
    samples = inn.sample([[0.1], [1.9]], 200, seed=0)
    assert np.all((samples[..., 0] > 0) & (samples[..., 0] < 1)) and np.all(samples[..., 1] > 0)
    assert INNConfig.from_json(inn.config.to_json()) == inn.config
    inn.save(tmp_path / "inn.pt")
    np.testing.assert_allclose(
        BidirectionalINN.load(tmp_path / "inn.pt").sample([[0.5]], 5, seed=1),
        inn.sample([[0.5]], 5, seed=1),
    )
    with pytest.raises(ValueError, match=r"outside parameter_bounds, e.g. theta=\[-1.0, 0.5\]"):
        inn.predict_observation([[-1.0, 0.5]])
    with pytest.raises(ValueError, match="parameter_bounds name 1 parameter\\(s\\), theta has 2"):
        BidirectionalINN(parameter_bounds=[(0.0, 1.0)]).fit(
            simulator=sim, num_simulations=50, training=TrainingConfig(num_epochs=1, progress=False)
        )
    with pytest.raises(ValueError, match="low < high"):
        INNConfig(parameter_bounds=[(1.0, 0.0)])
