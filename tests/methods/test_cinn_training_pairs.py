import numpy as np
import pytest

from sbinn.methods.cinn_training_pairs import training_pairs
from sbinn.simulator import SimulationFailureWarning
from sbinn.train import TrainingConfig
from simulators.kinematics import KinematicsSimulator
from tests.test_fresh_noise import NoisyLine

TRAINING = TrainingConfig(num_epochs=7)


def simulated_pairs(simulator=None, timings=None, seed=0, **options):
    """``training_pairs`` of a serial simulator run, kinematics unless said otherwise."""
    return training_pairs(
        None,
        None,
        seed=seed,
        timings={} if timings is None else timings,
        training=TRAINING,
        simulator=simulator or KinematicsSimulator(),
        backend="serial",
        **options,
    )


def test_given_arrays_are_every_epochs_pairs():
    theta, x = np.zeros((4, 2)), np.ones((4, 3))
    timings = {"simulation": 0.0}
    pairs = training_pairs(theta, x, seed=0, timings=timings, training=TRAINING)
    assert pairs.theta is theta and pairs.x is x
    assert pairs.draw is None and pairs.training is TRAINING
    assert pairs.distinct_simulations is None and timings == {"simulation": 0.0}


def test_a_simulator_is_run_once_with_its_time_counted():
    timings = {"simulation": 0.0}
    pairs = simulated_pairs(timings=timings, seed=3, num_simulations=50)
    assert pairs.theta.shape == (50, 4) and pairs.x.shape == (50, 2)
    assert pairs.draw is None and timings["simulation"] > 0
    again = simulated_pairs(seed=3, num_simulations=50)
    np.testing.assert_array_equal(again.x, pairs.x)


def test_online_epochs_see_new_simulations_and_set_the_epoch_count():
    pairs = simulated_pairs(num_simulations=90, online=True, per_epoch=30)
    assert pairs.training.num_epochs == 3
    first, second = pairs.draw(0), pairs.draw(1)
    np.testing.assert_array_equal(first[0], pairs.theta)
    assert first[0].shape == second[0].shape == (30, 4)
    assert not np.allclose(first[0], second[0])


def test_fresh_noise_keeps_the_parameters_and_counts_each_simulation_once():
    simulator = NoisyLine()
    with pytest.warns(SimulationFailureWarning, match="noisy_line"):
        pairs = simulated_pairs(simulator, num_simulations=200, fresh_noise=True)
    theta_1, x_1 = pairs.draw(1)
    assert pairs.distinct_simulations == len(pairs.theta) < 200  # theta > 1.5 fails
    np.testing.assert_array_equal(theta_1, pairs.theta)
    assert not np.allclose(x_1, pairs.x)
    # Only the noise differs: x - 2 theta is the noise, 0.5 N(0, 1).
    assert abs(np.std(x_1 - 2 * theta_1) - 0.5) < 0.1


@pytest.mark.parametrize("online", [False, True])
def test_the_simulation_time_adds_to_what_the_caller_had(online):
    timings = {"simulation": 100.0}
    pairs = simulated_pairs(
        timings=timings, num_simulations=20, online=online, per_epoch=10 if online else None
    )
    before = timings["simulation"]
    assert before > 100.0
    if online:
        pairs.draw(1)
        assert timings["simulation"] > before
