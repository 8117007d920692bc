"""Simulators and helpers shared by the simulation store tests (and the kill test's writer)."""

import time

import numpy as np

from sbinn.function_simulator import FunctionSimulator
from sbinn.priors import JointPrior, Normal, Uniform
from sbinn.simulator import Simulator
from tests.simulator_support import OneDrawSimulator

PRIOR = JointPrior({"a": Uniform(0.0, 1.0), "b": Normal(0.0, 1.0)})
KILL_RUN = {"num_simulations": 2000, "chunk_size": 50, "seed": 11}


def noisy(theta, rng):
    return theta + rng.normal(size=theta.shape)


def failing_below_0_1(theta, rng):
    x = noisy(theta, rng)
    x[theta[:, 0] < 0.1] = np.nan
    return x


def simulator(function=noisy, prior=PRIOR, **kwargs):
    return FunctionSimulator(function, prior, observation_shape=2, backend="numpy", **kwargs)


class SlowNoisy(Simulator):
    """theta plus noise, ``delay`` seconds per call (not a setting: it changes no output)."""

    name = "slow_noisy"
    version = "1"

    def __init__(self, delay: float = 0.02) -> None:
        super().__init__(PRIOR, 2)
        self.delay = delay

    def _simulate(self, theta, rng):
        time.sleep(self.delay)
        return noisy(theta, rng)


class NoisySum(OneDrawSimulator):
    """x = a + b + 0.5 * noise, with its noise exposed."""

    name = "noisy_sum"

    def __init__(self) -> None:
        super().__init__(PRIOR)

    def _simulate_given_noise(self, theta, noise):
        return theta.sum(axis=1, keepdims=True) + 0.5 * noise


def raw_columns(store):
    """Every written row of ``store``, failed ones included, in chunk order."""
    results = [store.read_chunk(chunk.index) for chunk in store.chunks]
    return tuple(
        np.concatenate([getattr(result, name) for result in results])
        for name in ("theta", "x", "noise")
        if getattr(results[0], name) is not None
    )
