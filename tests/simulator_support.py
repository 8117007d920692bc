"""Helpers shared by the simulator tests."""

import warnings

from sbinn.simulator import SimulationFailureWarning


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
