"""The Simulator contract: failures, garbage output and bad input."""

import json
import re

import numpy as np
import pytest
import torch

from sbinn.function_simulator import FunctionSimulator
from sbinn.priors import Prior
from sbinn.simulator import (
    SimulationError,
    Simulator,
    SimulatorOutputShapeError,
    SimulatorOutputTypeError,
    as_generator,
)
from tests.simulator_support import failure_warnings, no_warning

# --- failed simulations ------------------------------------------------------------------------


def nan_above(threshold):
    def f(theta):
        x = theta.copy()
        x[theta[:, 0] > threshold, 1] = np.nan
        x[theta[:, 0] < 1 - threshold, 0] = np.inf
        return x

    return f


def raise_above(threshold):
    def f(theta):
        if np.any(theta[:, 0] > threshold):
            raise ValueError(f"theta too large: {theta[:, 0].max()}")
        return theta * 3

    return f


def raise_above_per_sample(threshold):
    def f(row):
        if row[0] > threshold:
            raise ArithmeticError("diverged")
        return row * 3

    return f


@pytest.mark.parametrize(
    ("function", "vectorized", "fails", "cause"),
    [
        (nan_above(0.97), True, lambda a: (a > 0.97) | (a < 0.03), ""),
        (raise_above(0.95), True, lambda a: a > 0.95, "ValueError: theta too large"),
        (raise_above_per_sample(0.95), False, lambda a: a > 0.95, "ArithmeticError: diverged"),
    ],
    ids=["nan-and-inf", "vectorised-raises", "per-sample-raises"],
)
def test_failed_simulations_are_dropped_with_one_warning(prior, function, vectorized, fails, cause):
    sim = FunctionSimulator(
        function, prior, vectorized=vectorized, observation_shape=2, backend="numpy"
    )
    n, seed = 400, 12
    all_theta = prior.sample(n, np.random.default_rng(seed))
    failed = fails(all_theta[:, 0])
    assert 0 < failed.sum() < 0.1 * n

    (theta, x), caught = failure_warnings(lambda: sim.sample_joint(n, seed=seed))
    assert len(caught) == 1
    message = str(caught[0].message)
    assert f"{failed.sum()} of {n} simulations of {sim.name!r} failed" in message
    assert f"theta={all_theta[failed][0].tolist()}" in message
    assert cause in message
    np.testing.assert_array_equal(theta, all_theta[~failed])
    assert np.all(np.isfinite(x)) and x.shape == (n - failed.sum(), 2)
    if cause:
        np.testing.assert_allclose(x, theta * 3)


def test_simulate_marks_failed_rows_as_nan_without_warning(prior):
    sim = FunctionSimulator(nan_above(0.7), prior)
    theta = np.array([[0.9, 1.0], [0.55, 0.0], [0.45, 0.0], [0.2, 2.0]])
    x = no_warning(lambda: sim.simulate(theta))
    assert np.isnan(x[[0, 3]]).all()
    np.testing.assert_array_equal(x[1:3], theta[1:3])


def test_raising_vectorised_simulator_falls_back_row_by_row(prior):
    sim = FunctionSimulator(raise_above(0.5), prior, observation_shape=2, backend="numpy")
    theta = np.array([[0.9, 1.0], [0.1, 0.0], [0.6, 0.0], [0.2, 2.0]])
    x = sim.simulate(theta)
    assert isinstance(sim.last_exception, ValueError)
    assert np.isnan(x[[0, 2]]).all()
    np.testing.assert_array_equal(x[[1, 3]], theta[[1, 3]] * 3)
    sim.simulate(theta[[1, 3]])
    assert sim.last_exception is None


@pytest.mark.parametrize(
    ("function", "vectorized", "cause"),
    [
        (raise_above(0.5), True, ValueError),
        (raise_above_per_sample(0.5), False, ArithmeticError),
        (nan_above(0.7), True, type(None)),
    ],
    ids=["vectorised-raises", "per-sample-raises", "nan"],
)
def test_too_many_failures_raise(prior, function, vectorized, cause):
    sim = FunctionSimulator(
        function, prior, vectorized=vectorized, observation_shape=2, backend="numpy"
    )
    with pytest.raises(
        SimulationError, match=r"failed .*more than max_failure_fraction=0\.1"
    ) as info:
        sim.sample_joint(200, seed=0)
    assert isinstance(info.value.__cause__, cause)


@pytest.mark.parametrize(
    ("fraction", "raises"), [(0.0, True), (0.05, True), (0.5, False), (1.0, False)]
)
def test_max_failure_fraction_is_the_threshold(prior, fraction, raises):
    sim = FunctionSimulator(
        raise_above(0.9), prior, observation_shape=2, backend="numpy", max_failure_fraction=fraction
    )
    if raises:
        with pytest.raises(SimulationError, match=f"max_failure_fraction={fraction}"):
            sim.sample_joint(200, seed=0)
    else:
        _, caught = failure_warnings(lambda: sim.sample_joint(200, seed=0))
        assert len(caught) == 1


def test_all_failures_allowed_by_fraction_one_leave_nothing(prior):
    sim = FunctionSimulator(
        lambda t: np.full_like(t, np.nan), prior, backend="numpy", max_failure_fraction=1.0
    )
    (theta, x), caught = failure_warnings(lambda: sim.sample_joint(30, seed=0))
    assert theta.shape == (0, 2) and x.shape == (0, 2)
    assert "30 of 30 simulations" in str(caught[0].message)


@pytest.mark.parametrize("vectorized", [True, False])
def test_always_raising_simulator_gives_up_after_twenty_rows(prior, vectorized):
    calls = []

    def broken(theta):
        calls.append(1)
        raise RuntimeError("license server unreachable")

    sim = FunctionSimulator(
        broken, prior, vectorized=vectorized, observation_shape=2, backend="numpy"
    )
    with pytest.raises(SimulationError, match="raised for each of the first 20") as info:
        sim.sample_joint(10_000, seed=0)
    assert len(calls) == 21
    assert "RuntimeError: license server unreachable" in str(info.value)
    assert isinstance(info.value.__cause__, RuntimeError)
    assert str(info.value.__cause__) == "license server unreachable"


def test_few_rows_all_raising_raise_with_the_cause(prior):
    def broken(theta):
        raise RuntimeError("boom")

    sim = FunctionSimulator(broken, prior, observation_shape=2, backend="numpy")
    with pytest.raises(SimulationError, match=r"5 of 5 simulations .*RuntimeError: boom") as info:
        sim.sample_joint(5, seed=0)
    assert isinstance(info.value.__cause__, RuntimeError)


def test_simulator_with_wrong_dimension_expectation(prior):
    """A simulator written for three parameters, given a prior over two."""

    def three_parameters(theta):
        return theta[:, 0] + theta[:, 1] * theta[:, 2]

    with pytest.raises(
        TypeError, match=r"probing simulator 'three_parameters'.*IndexError"
    ) as info:
        FunctionSimulator(three_parameters, prior)
    assert isinstance(info.value.__cause__, IndexError)
    sim = FunctionSimulator(three_parameters, prior, observation_shape=1, backend="numpy")
    with pytest.raises(SimulationError) as info:
        sim.sample_joint(100, seed=0)
    assert isinstance(info.value.__cause__, IndexError)


# --- garbage output is a bug, not a failed simulation --------------------------------------------


@pytest.mark.parametrize(
    ("function", "vectorized", "given", "expected"),
    [
        (lambda t: np.zeros((t.shape[0], 3)), True, "(8, 3)", "(8, 2)"),
        (lambda t: np.zeros((t.shape[0] - 1, 2)), True, "(7, 2)", "(8, 2)"),
        (lambda t: np.zeros(t.shape[0]), True, "(8,)", "(8, 2)"),
        (lambda t: np.float64(1.0), True, "()", "(8, 2)"),
        (lambda row: np.zeros(5), False, "(8, 5)", "(8, 2)"),
        (lambda row: np.zeros((2, 1)), False, "(8, 2, 1)", "(8, 2)"),
    ],
)
def test_wrong_output_shape_raises(prior, function, vectorized, given, expected):
    sim = FunctionSimulator(
        function, prior, vectorized=vectorized, observation_shape=2, backend="numpy"
    )
    theta = prior.sample(8, np.random.default_rng(0))
    message = f"returned shape {given}, expected {expected}"
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        no_warning(lambda: sim.simulate(theta))
    assert isinstance(info.value, SimulatorOutputShapeError)
    with pytest.raises(SimulatorOutputShapeError):
        no_warning(lambda: sim.sample_joint(8, seed=0))


@pytest.mark.parametrize(
    ("output", "dtype"),
    [
        (lambda n: np.array([["a", "b"]] * n), "<U1"),
        (lambda n: np.array([[None, 1.0]] * n, dtype=object), "object"),
        (lambda n: np.ones((n, 2)) * 1j, "complex128"),
        (lambda n: torch.ones(n, 2, dtype=torch.complex64), "complex64"),
    ],
    ids=["str", "object", "complex", "torch-complex"],
)
@pytest.mark.parametrize("vectorized", [True, False])
def test_wrong_output_dtype_raises(prior, output, dtype, vectorized):
    function = (lambda t: output(t.shape[0])) if vectorized else (lambda row: output(1)[0])
    sim = FunctionSimulator(
        function, prior, vectorized=vectorized, observation_shape=2, backend="numpy"
    )
    with pytest.raises(
        TypeError, match=f"must return real numeric data, got dtype {dtype}"
    ) as info:
        no_warning(lambda: sim.sample_joint(5, seed=0))
    assert isinstance(info.value, SimulatorOutputTypeError)


def test_per_sample_rows_of_different_shapes_raise(prior):
    sim = FunctionSimulator(
        lambda row: np.zeros(2 if row[0] < 0.5 else 3),
        prior,
        vectorized=False,
        observation_shape=2,
        backend="numpy",
    )
    with pytest.raises(ValueError, match="observations of different shapes for different rows"):
        no_warning(lambda: sim.sample_joint(50, seed=0))


def test_garbage_found_during_row_by_row_fallback_raises(prior):
    def f(theta):
        if theta.shape[0] > 1:
            raise ValueError("only one at a time")
        return np.zeros((1, 4))

    sim = FunctionSimulator(f, prior, observation_shape=2, backend="numpy")
    with pytest.raises(
        SimulatorOutputShapeError, match=re.escape("returned shape (1, 4), expected (1, 2)")
    ):
        sim.sample_joint(10, seed=0)


# --- as_generator ----------------------------------------------------------------------------


def test_as_generator():
    generator = np.random.default_rng(0)
    assert as_generator(generator) is generator
    for seed in (5, np.int64(5), np.random.SeedSequence(5)):
        assert as_generator(seed).random() == np.random.default_rng(5).random()
    assert isinstance(as_generator(None), np.random.Generator)
    assert as_generator(None).random() != as_generator(None).random()


# --- the Simulator base class --------------------------------------------------------------------


class Quadratic(Simulator):
    name = "quadratic"
    version = "2"

    def _simulate(self, theta, rng):
        return theta**2

    def valid_mask(self, x):
        return super().valid_mask(x) & (x[:, 0] < 0.81)


class Opaque(Prior):
    names = ("u",)

    def sample(self, num_samples, rng):
        return rng.uniform(size=(num_samples, 1))

    def log_prob(self, theta):
        return np.zeros(self._check_theta(theta).shape[0])


def test_subclass_with_custom_validity_and_prior_without_config():
    sim = Quadratic(Opaque(), 1, ["u2"], max_failure_fraction=0.5)
    assert sim.parameter_names == ("u",) and sim.observation_names == ("u2",)
    (theta, _), caught = failure_warnings(lambda: sim.sample_joint(100, seed=0))
    assert np.all(theta < 0.9) and len(caught) == 1
    assert "simulations of 'quadratic' failed" in str(caught[0].message)
    settings = json.loads(json.dumps(sim.settings()))
    assert settings["prior"].startswith("<") and settings["version"] == "2"


def test_simulator_is_abstract(prior):
    with pytest.raises(TypeError):
        Simulator(prior, 1)
