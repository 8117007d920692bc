"""Simulators that expose their noise draws: simulate_with_noise, streams and shared banks."""

import numpy as np
import pytest

from sbinn.benchmark.bank import simulate_bank
from sbinn.function_simulator import FunctionSimulator
from sbinn.priors import JointPrior, Normal
from sbinn.simulation_stream import SimulationStream
from tests.simulator_support import OneDrawSimulator, failure_warnings

PRIOR = JointPrior({"theta": Normal(0.0, [1.0, 1.0])})


class NoisySum(OneDrawSimulator):
    """x = theta_1 + theta_2 + 0.5 * noise; fails where theta_1 > 1.5, raises where > 2.5."""

    name = "noisy_sum"

    def __init__(self) -> None:
        super().__init__(PRIOR)

    def _simulate_given_noise(self, theta, noise):
        if np.any(theta[:, 0] > 2.5):
            raise ValueError("theta_1 too large")
        x = theta.sum(axis=1, keepdims=True) + 0.5 * noise
        x[theta[:, 0] > 1.5] = np.nan
        return x


def test_simulate_with_noise_returns_the_draws_behind_x():
    theta = PRIOR.sample(500, np.random.default_rng(0))
    theta[:, 0] = np.minimum(theta[:, 0], 2.0)  # no exception, so no row-by-row fallback
    x, noise = NoisySum().simulate_with_noise(theta, 3)
    assert noise.shape == (500, 1)
    ok = theta[:, 0] <= 1.5
    np.testing.assert_allclose(x[ok], theta[ok].sum(axis=1, keepdims=True) + 0.5 * noise[ok])
    assert np.all(np.isnan(x[~ok]))
    # Same seed, same draws: simulate() and simulate_with_noise() agree.
    np.testing.assert_allclose(NoisySum().simulate(theta, 3), x)


def test_row_by_row_fallback_keeps_each_rows_noise():
    theta = np.array([[0.0, 0.0], [3.0, 0.0], [0.5, 0.5]])
    sim = NoisySum()
    x, noise = sim.simulate_with_noise(theta, 0)
    assert np.isnan(x[1, 0]) and isinstance(sim.last_exception, ValueError)
    np.testing.assert_allclose(x[[0, 2], 0], theta[[0, 2]].sum(axis=1) + 0.5 * noise[[0, 2], 0])


def test_sample_joint_with_noise_drops_failures_with_their_draws():
    (theta, x, noise), caught = failure_warnings(
        lambda: NoisySum().sample_joint_with_noise(2000, seed=1)
    )
    assert len(caught) == 1 and len(theta) == len(x) == len(noise) < 2000
    np.testing.assert_allclose(x, theta.sum(axis=1, keepdims=True) + 0.5 * noise)


def test_stream_and_bank_keep_the_draws_aligned():
    bank, _ = failure_warnings(
        lambda: simulate_bank(NoisySum(), 3000, seed=0, progress=False, with_noise=True)
    )
    theta, x = bank.take(1500)
    noise = bank.take_noise(1500)
    assert len(noise) == len(theta) > 0
    np.testing.assert_allclose(x, theta.sum(axis=1, keepdims=True) + 0.5 * noise)
    stream = SimulationStream(NoisySum(), 100, chunk_size=40, seed=0, progress=False)
    assert all(len(part) == 2 for part in failure_warnings(lambda: list(stream))[0])


def test_simulators_without_exposed_noise_say_so():
    sim = FunctionSimulator(lambda t: t, PRIOR)
    assert sim.noise_dimension == 0
    with pytest.raises(NotImplementedError, match="does not expose its noise draws"):
        sim.simulate_with_noise(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="noise_dimension 0"):
        SimulationStream(sim, 10, seed=0, with_noise=True)
    bank = simulate_bank(sim, 10, seed=0, progress=False)
    with pytest.raises(ValueError, match="kept no noise draws"):
        bank.take_noise(5)
