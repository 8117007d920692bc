"""A simulator and a stream factory shared by the chunk and the stream tests."""

from sbinn.function_simulator import FunctionSimulator
from sbinn.priors import JointPrior, Normal, Uniform
from sbinn.simulation_stream import SimulationStream

__all__ = ["PRIOR", "noisy", "simulator", "stream"]

PRIOR = JointPrior({"a": Uniform(0.0, 1.0), "b": Normal(0.0, 1.0)})


def noisy(theta, rng):
    return theta + rng.normal(size=theta.shape)


def simulator(function=noisy, **kwargs):
    return FunctionSimulator(function, PRIOR, observation_shape=2, backend="numpy", **kwargs)


def stream(function=noisy, num=2500, chunk_size=1000, seed=0, **kwargs):
    return SimulationStream(
        simulator(function), num, chunk_size=chunk_size, seed=seed, progress=False, **kwargs
    )
