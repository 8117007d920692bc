"""Helpers shared by the simulator tests."""

import warnings

from sbinn.simulator import SimulationFailureWarning, Simulator


def failure_warnings(call):
    """Run ``call`` and return its result and the SimulationFailureWarnings it issued."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    return result, [w for w in caught if issubclass(w.category, SimulationFailureWarning)]


def no_warning(call):
    result, caught = failure_warnings(call)
    assert caught == []
    return result


class OneDrawSimulator(Simulator):
    """A test simulator with one exposed standard-normal draw per simulation: subclasses
    write ``_simulate_given_noise`` only."""

    def __init__(self, prior) -> None:
        super().__init__(prior, 1)

    @property
    def noise_dimension(self) -> int:
        return 1

    def _simulate(self, theta, rng):
        return self._simulate_given_noise(theta, rng.standard_normal((len(theta), 1)))
