"""Fixtures shared across the test modules."""

import pytest

from sbinn.priors import JointPrior, Normal, Uniform


@pytest.fixture
def prior():
    """A two-parameter prior mixing a bounded and an unbounded factor."""
    return JointPrior({"a": Uniform(0.0, 1.0), "b": Normal(0.0, 1.0)})
