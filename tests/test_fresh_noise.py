"""Fresh observation noise on fixed simulations: sbinn.fresh_noise and CINN.fit(fresh_noise=...)."""

import numpy as np
import pytest

from sbinn.benchmark.bank import simulate_bank
from sbinn.fresh_noise import (
    check_separable_noise,
    fresh_observations,
    has_separable_noise,
    simulate_with_signal,
)
from sbinn.methods.cinn import CINN
from sbinn.methods.inn import BidirectionalINN
from sbinn.priors import JointPrior, Normal
from sbinn.simulation_stream import run_simulations
from sbinn.train import TrainingConfig
from simulators.kinematics import KinematicsSimulator
from simulators.tissue import MultispectralCamera, TissueSimulator
from tests.simulator_support import OneDrawSimulator, failure_warnings

PRIOR = JointPrior({"theta": Normal(0.0, 1.0)})
NOISE_STD = 0.5


class NoisyLine(OneDrawSimulator):
    """x = signal + 0.5 noise with signal = 2 theta; fails (NaN) where theta > 1.5."""

    name = "noisy_line"

    def __init__(self) -> None:
        super().__init__(PRIOR)
        self.signal_calls = self.observe_calls = 0

    def _simulate_given_noise(self, theta, noise):
        return self.observe_signal(self.simulate_signal(theta), noise)

    def simulate_signal(self, theta):
        self.signal_calls += 1
        signal = 2.0 * np.asarray(theta, dtype=float)
        signal[theta[:, 0] > 1.5] = np.nan
        return signal

    def observe_signal(self, signal, noise):
        self.observe_calls += 1
        return signal + NOISE_STD * noise


def tissue() -> TissueSimulator:
    return TissueSimulator("colon", camera=MultispectralCamera(snr=10.0))


def test_signals_come_with_the_same_simulations_as_a_noise_keeping_run():
    sim = tissue()
    theta, x, noise, signal = simulate_with_signal(sim, 25, seed=3, chunk_size=10)
    reference = run_simulations(sim, 25, seed=3, chunk_size=10, with_noise=True)
    for ours, theirs in zip((theta, x, noise), reference, strict=True):
        np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(sim.observe_signal(signal, noise), x)
    # The signal is the noise-free band values: x / signal - 1 is the noise over the SNR.
    np.testing.assert_allclose(x / signal - 1.0, noise / 10.0, rtol=1e-9, atol=1e-12)


def test_failed_simulations_are_dropped_with_their_draws_and_signals():
    sim = NoisyLine()
    (theta, x, noise, signal), caught = failure_warnings(
        lambda: simulate_with_signal(sim, 2000, seed=0, chunk_size=500)
    )
    reference = run_simulations(sim, 2000, seed=0, chunk_size=500, with_noise=True)
    assert len(caught) == 1 and 0 < 2000 - len(theta) < 200
    np.testing.assert_array_equal(theta, reference[0])
    np.testing.assert_array_equal(x, reference[1])
    np.testing.assert_array_equal(noise, reference[2])
    np.testing.assert_array_equal(signal, 2.0 * theta)


def test_epochs_after_the_first_observe_the_same_signals_with_new_seeded_noise():
    sim = NoisyLine()
    _, x, noise, signal = simulate_with_signal(sim, 4000, seed=1)
    observe = fresh_observations(sim, x, signal, seed=7)
    assert observe(0)[0] is x and observe(0)[1] is None
    (first, first_noise), (second, _) = observe(1), observe(2)
    np.testing.assert_array_equal(first, fresh_observations(sim, x, signal, seed=7)(1)[0])
    np.testing.assert_array_equal(first, signal + NOISE_STD * first_noise)
    assert not np.allclose(first, second)
    for redrawn in (first, second):
        residual = (redrawn - signal) / NOISE_STD
        assert abs(residual.mean()) < 0.05 and abs(residual.std() - 1.0) < 0.05
        # Fresh: independent of the draws behind x.
        assert abs(np.corrcoef(residual[:, 0], noise[:, 0])[0, 1]) < 0.05


def test_the_bank_keeps_signals_without_changing_its_simulations():
    sim = tissue()
    plain = simulate_bank(sim, 12, seed=0, progress=False, chunk_size=5, with_noise=True)
    kept = simulate_bank(sim, 12, seed=0, progress=False, chunk_size=5, with_signal=True)
    np.testing.assert_array_equal(plain.x, kept.x)
    np.testing.assert_array_equal(plain.take_noise(12), kept.take_noise(12))
    assert kept.take_signal(6).shape == (6, 8)
    with pytest.raises(ValueError, match="kept no signals"):
        plain.take_signal(6)


def test_simulators_without_separable_noise_are_refused_clearly():
    assert has_separable_noise(tissue()) and has_separable_noise(NoisyLine())
    assert not has_separable_noise(KinematicsSimulator())
    assert not has_separable_noise(TissueSimulator("colon"))  # a camera without noise
    with pytest.raises(ValueError, match="noise_dimension 0 and has simulate_signal"):
        check_separable_noise(TissueSimulator("colon"))
    with pytest.raises(ValueError, match="lacks simulate_signal"):
        check_separable_noise(KinematicsSimulator())
    with pytest.raises(TypeError, match="sbinn Simulator, got str"):
        check_separable_noise("tissue")


def test_fresh_observations_check_their_inputs():
    sim = NoisyLine()
    x = np.zeros((3, 1))
    with pytest.raises(ValueError, match="same number of rows, got 3 and 2"):
        fresh_observations(sim, x, np.zeros((2, 1)), seed=0)
    with pytest.raises(ValueError, match="signal must be finite"):
        fresh_observations(sim, x, np.full((3, 1), np.nan), seed=0)


def test_fresh_noise_keeps_a_cinn_from_memorising_the_noise_of_few_simulations():
    sim = NoisyLine()
    training = TrainingConfig(num_epochs=150, batch_size=32, learning_rate=3e-3, progress=False)
    kwargs = {"num_blocks": 4, "hidden_features": 64, "seed": 0}
    fixed = CINN(**kwargs).fit(simulator=sim, num_simulations=160, training=training)
    fresh = CINN(**kwargs).fit(
        simulator=sim, num_simulations=160, training=training, fresh_noise=True
    )
    # One simulation run each, whatever the epochs.
    assert fresh.num_simulations == fixed.num_simulations < 160
    theta, x = sim.sample_joint(5000, seed=99)
    nll_fixed, nll_fresh = (-cinn.log_prob(theta, x).mean() for cinn in (fixed, fresh))
    # The exact posterior N(4x/17, 1/17) (the prior's cut at 1.5 aside) scores its entropy.
    entropy = 0.5 * np.log(2 * np.pi * np.e / 17)
    # Seeds 0-3 measured: fixed noise 0.03-0.08 nats above the entropy, fresh noise within
    # 0.02 of it; here 0.059 against 0.018 (deterministic on CPU).
    assert nll_fresh < nll_fixed - 0.02
    assert abs(nll_fresh - entropy) < 0.03


def test_fit_with_the_signals_of_given_simulations():
    sim = NoisyLine()
    theta, x, _, signal = simulate_with_signal(sim, 300, seed=0)
    training = TrainingConfig(num_epochs=2, batch_size=64, progress=False)
    cinn = CINN(num_blocks=1, hidden_features=8, seed=0)
    calls = sim.signal_calls
    cinn.fit(theta, x, simulator=sim, signal=signal, fresh_noise=True, training=training)
    assert sim.signal_calls == calls  # observed only, never re-simulated
    assert cinn.num_simulations == len(theta)
    assert cinn.sample(x[:2], 5).shape == (2, 5, 1)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"fresh_noise": True}, ValueError, "needs simulator="),
        ({"signal": np.zeros((10, 1))}, ValueError, "only used with fresh_noise=True"),
        (
            {"fresh_noise": True, "simulator": "sim", "online": True},
            ValueError,
            "online and store",
        ),
        ({"fresh_noise": True, "simulator": "sim"}, ValueError, "their noise-free signal="),
        (
            {"fresh_noise": True, "simulator": KinematicsSimulator()},
            ValueError,
            "lacks simulate_signal",
        ),
    ],
)
def test_fit_refuses_fresh_noise_it_cannot_do(kwargs, error, match):
    sim = NoisyLine()
    kwargs = {k: (sim if isinstance(v, str) else v) for k, v in kwargs.items()}
    cinn = CINN(num_blocks=1, hidden_features=8, seed=0)
    with pytest.raises(error, match=match):
        cinn.fit(np.zeros((10, 1)), np.zeros((10, 1)), **kwargs)


@pytest.mark.parametrize("latent_noise", [False, True])
def test_a_bidirectional_inn_trains_on_fresh_noise_too(latent_noise):
    sim = NoisyLine()
    training = TrainingConfig(num_epochs=3, batch_size=100, progress=False)
    inn = BidirectionalINN(num_blocks=1, hidden_features=8, seed=0, latent_noise=latent_noise)
    inn.fit(simulator=sim, num_simulations=400, training=training, fresh_noise=True)
    # The simulation's own observation, then epochs 1 and 2 observed afresh.
    assert sim.signal_calls == 1 and sim.observe_calls == 3
    assert inn.num_simulations < 400 and inn.sample([[0.5]], 10).shape == (1, 10, 1)

    theta, x, noise, signal = simulate_with_signal(sim, 300, seed=1)
    given = {"noise": noise} if latent_noise else {}
    inn = BidirectionalINN(num_blocks=1, hidden_features=8, seed=0, latent_noise=latent_noise)
    inn.fit(theta, x, simulator=sim, signal=signal, fresh_noise=True, training=training, **given)
    assert sim.signal_calls == 2 and inn.num_simulations == len(theta)
    with pytest.raises(ValueError, match="their noise-free signal="):
        inn.fit(theta, x, simulator=sim, fresh_noise=True, training=training, **given)
