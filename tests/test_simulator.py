import json
import re
import warnings

import numpy as np
import pytest
import torch

from sbinn.function_simulator import FunctionSimulator
from sbinn.priors import JointPrior, Normal, Prior, Uniform
from sbinn.simulator import (
    FailureTracker,
    SimulationError,
    SimulationFailureWarning,
    Simulator,
    SimulatorOutputShapeError,
    SimulatorOutputTypeError,
    as_generator,
)


@pytest.fixture
def prior():
    return JointPrior({"a": Uniform(0.0, 1.0), "b": Normal(0.0, 1.0)})


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


# --- wrapping a function ----------------------------------------------------------------------


def test_numpy_vectorised_function(prior):
    sim = FunctionSimulator(
        lambda t: np.stack([t[:, 0] + t[:, 1], t[:, 0] * t[:, 1]], axis=1), prior
    )
    assert sim.backend == "numpy"
    assert sim.observation_shape == (2,)
    assert sim.observation_names == ("x_1", "x_2")
    assert sim.parameter_names == ("a", "b")
    assert (sim.dim_parameters, sim.dim_observations) == (2, 2)
    theta, x = no_warning(lambda: sim.sample_joint(100, seed=0))
    assert theta.shape == (100, 2) and x.shape == (100, 2) and x.dtype == np.float64
    np.testing.assert_array_equal(x[:, 0], theta[:, 0] + theta[:, 1])
    np.testing.assert_array_equal(x[:, 1], theta[:, 0] * theta[:, 1])


def noisy(theta, rng):
    return theta + rng.normal(size=theta.shape)


def test_numpy_function_gets_the_generator_and_seeds_reproduce(prior):
    seen = []

    def f(theta, rng):
        seen.append(rng)
        return noisy(theta, rng)

    sim = FunctionSimulator(f, prior)
    theta, x = sim.sample_joint(50, seed=3)
    assert all(isinstance(r, np.random.Generator) for r in seen)
    theta2, x2 = sim.sample_joint(50, seed=3)
    np.testing.assert_array_equal(theta, theta2)
    np.testing.assert_array_equal(x, x2)
    theta3, x3 = sim.sample_joint(50, seed=4)
    assert not np.allclose(theta, theta3) and not np.allclose(x - theta, x3 - theta3)
    # The contract: parameters and noise come from one generator seeded with ``seed``.
    rng = np.random.default_rng(3)
    expected_theta = prior.sample(50, rng)
    np.testing.assert_array_equal(theta, expected_theta)
    np.testing.assert_array_equal(x, noisy(expected_theta, rng))


def test_simulate_with_same_seed_reproduces(prior):
    sim = FunctionSimulator(noisy, prior)
    theta = prior.sample(10, np.random.default_rng(0))
    np.testing.assert_array_equal(sim.simulate(theta, 7), sim.simulate(theta, 7))
    assert not np.array_equal(sim.simulate(theta, 7), sim.simulate(theta, 8))


@pytest.mark.parametrize(
    "function",
    [
        lambda theta, *, rng: theta + rng.normal(size=theta.shape),
        lambda theta, scale=0.0, rng=None: theta + scale + rng.normal(size=theta.shape),
        lambda theta, rng, /: theta + rng.normal(size=theta.shape),
    ],
    ids=["keyword-only", "after-a-default", "positional-only"],
)
def test_generator_reaches_the_rng_parameter_however_declared(prior, function):
    sim = FunctionSimulator(function, prior)
    _, x = no_warning(lambda: sim.sample_joint(20, seed=1))
    assert x.shape == (20, 2)
    np.testing.assert_array_equal(x, FunctionSimulator(noisy, prior).sample_joint(20, seed=1)[1])


def test_per_sample_numpy_function(prior):
    calls = []

    def f(row):
        calls.append(row.shape)
        return np.array([row.sum(), row.prod(), 1.0])

    sim = FunctionSimulator(f, prior, vectorized=False)
    assert sim.observation_shape == (3,)
    calls.clear()
    theta, x = sim.sample_joint(7, seed=0)
    assert calls == [(2,)] * 7
    np.testing.assert_allclose(x, np.stack([theta.sum(1), theta.prod(1), np.ones(7)], axis=1))


def test_per_sample_function_with_generator(prior):
    sim = FunctionSimulator(lambda row, rng: row + rng.normal(size=2), prior, vectorized=False)
    np.testing.assert_array_equal(sim.sample_joint(5, seed=2)[1], sim.sample_joint(5, seed=2)[1])


@pytest.mark.parametrize("backend", ["torch", "auto"])
def test_torch_vectorised_function(prior, backend):
    sim = FunctionSimulator(lambda t: torch.sin(t) * 2, prior, backend=backend)
    assert sim.backend == "torch"
    assert sim.observation_shape == (2,)
    theta, x = no_warning(lambda: sim.sample_joint(30, seed=0))
    assert x.dtype == np.float64
    np.testing.assert_allclose(x, 2 * np.sin(theta), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("backend", ["torch", "auto"])
def test_torch_per_sample_function(prior, backend):
    def f(row):
        assert isinstance(row, torch.Tensor) and row.shape == (2,)
        return torch.stack([row[0].exp(), row[1].exp(), row.sum()])

    sim = FunctionSimulator(f, prior, vectorized=False, backend=backend)
    assert sim.backend == "torch"
    assert sim.observation_shape == (3,)
    theta, x = sim.sample_joint(10, seed=0)
    np.testing.assert_allclose(x[:, :2], np.exp(theta), rtol=1e-5)


def test_torch_function_gets_a_seeded_torch_generator(prior):
    seen = []

    def f(theta, rng):
        seen.append(rng)
        return theta + torch.randn(theta.shape, generator=rng)

    sim = FunctionSimulator(f, prior)
    assert sim.backend == "torch"
    seen.clear()
    theta1, x1 = sim.sample_joint(20, seed=5)
    _, x2 = sim.sample_joint(20, seed=5)
    theta3, x3 = sim.sample_joint(20, seed=6)
    assert isinstance(seen[0], torch.Generator)
    np.testing.assert_array_equal(x1, x2)
    assert not np.allclose(x1 - theta1, x3 - theta3, atol=0.1)


def test_torch_output_with_gradient_is_accepted(prior):
    weight = torch.ones(2, requires_grad=True)
    sim = FunctionSimulator(lambda t: t * weight, prior, backend="torch")
    theta, x = sim.sample_joint(4, seed=0)
    np.testing.assert_allclose(x, theta, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    ("function", "vectorized", "offset"),
    [
        (lambda t: t[:, 0] + t[:, 1], True, 0.0),
        (lambda t: t.sum(axis=1, keepdims=True) + 1, True, 1.0),
        (lambda row: float(row.sum()), False, 0.0),
        (lambda row: np.float64(row.sum() - 1), False, -1.0),
        (lambda row: torch.tensor(0.5) + float(row.sum()), False, 0.5),
    ],
    ids=["vector", "column", "python-float", "numpy-scalar", "torch-scalar"],
)
def test_scalar_outputs_have_shape_one(prior, function, vectorized, offset):
    sim = FunctionSimulator(function, prior, vectorized=vectorized)
    assert sim.observation_shape == (1,)
    theta, x = sim.sample_joint(6, seed=0)
    assert x.shape == (6, 1)
    np.testing.assert_allclose(x[:, 0], theta.sum(1) + offset, rtol=1e-6)


@pytest.mark.parametrize("vectorized", [True, False])
def test_multidimensional_observations(prior, vectorized):
    grid = np.arange(12.0).reshape(3, 4)
    if vectorized:
        function = lambda t: t[:, :1, None] * grid + t[:, 1:, None]  # noqa: E731
    else:
        function = lambda row: row[0] * grid + row[1]  # noqa: E731
    sim = FunctionSimulator(function, prior, vectorized=vectorized)
    assert sim.observation_shape == (3, 4)
    assert sim.dim_observations == 12
    assert len(sim.observation_names) == 12
    theta, x = sim.sample_joint(5, seed=0)
    assert x.shape == (5, 3, 4)
    np.testing.assert_allclose(x[2], theta[2, 0] * grid + theta[2, 1])


@pytest.mark.parametrize("shape", [2, (2,), [2], np.int64(2)])
def test_explicit_observation_shape(prior, shape):
    sim = FunctionSimulator(lambda t: t, prior, observation_shape=shape, backend="numpy")
    assert sim.observation_shape == (2,)


def test_explicit_observation_names_and_metadata(prior):
    def model(t):
        return t

    sim = FunctionSimulator(model, prior, observation_names=["p", "q"], version="1.2")
    assert sim.observation_names == ("p", "q")
    assert (sim.name, sim.version) == ("model", "1.2")
    assert FunctionSimulator(model, prior, name="kinematics").name == "kinematics"


def test_settings_are_json(prior):
    sim = FunctionSimulator(lambda t: t, prior, name="id", version="3")
    settings = json.loads(json.dumps(sim.settings(), allow_nan=False))
    assert settings == {
        "name": "id",
        "version": "3",
        "parameter_names": ["a", "b"],
        "observation_shape": [2],
        "prior": {
            "a": {"family": "Uniform", "low": [0.0], "high": [1.0]},
            "b": {"family": "Normal", "loc": [0.0], "scale": [1.0]},
        },
        "vectorized": True,
        "backend": "numpy",
    }


def test_probe_does_not_consume_the_users_randomness(prior):
    sim = FunctionSimulator(noisy, prior)
    other = FunctionSimulator(noisy, prior, observation_shape=2, backend="numpy")
    np.testing.assert_array_equal(sim.sample_joint(5, seed=9)[1], other.sample_joint(5, seed=9)[1])


def test_empty_batches(prior):
    sim = FunctionSimulator(lambda row: np.array([row[0], row[1], 0.0]), prior, vectorized=False)
    assert sim.simulate(np.empty((0, 2))).shape == (0, 3)
    theta, x = no_warning(lambda: sim.sample_joint(0, seed=0))
    assert theta.shape == (0, 2) and x.shape == (0, 3)


def test_simulate_accepts_a_single_vector_and_tensors(prior):
    sim = FunctionSimulator(lambda t: t * 2, prior)
    np.testing.assert_array_equal(sim.simulate([0.5, 1.0], 0), [[1.0, 2.0]])
    np.testing.assert_array_equal(sim.simulate(torch.tensor([[0.5, 1.0]]), 0), [[1.0, 2.0]])


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


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("theta", "message"),
    [
        (np.zeros((3, 3)), "theta must have shape (n, 2) or (2,), got shape (3, 3)"),
        (np.zeros(3), "theta must have shape (n, 2) or (2,), got shape (3,)"),
        (
            np.array([[0.5, np.nan], [0.1, 0.2]]),
            "theta must be finite, got NaN or inf in 1 row(s), first at row 0",
        ),
        (
            np.array([[0.5, 0.0], [0.1, np.inf]]),
            "theta must be finite, got NaN or inf in 1 row(s), first at row 1",
        ),
    ],
)
def test_simulate_rejects_bad_theta(prior, theta, message):
    sim = FunctionSimulator(lambda t: t, prior)
    with pytest.raises(ValueError, match=re.escape(message)):
        sim.simulate(theta)


def test_simulate_rejects_non_numeric_theta(prior):
    sim = FunctionSimulator(lambda t: t, prior)
    with pytest.raises(TypeError, match="theta must be a numeric array"):
        sim.simulate(np.array([["a", "b"]]))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"prior": {"a": Normal(0.0, 1.0)}},
            TypeError,
            "prior must be an sbinn Prior (e.g. a JointPrior), got dict",
        ),
        (
            {"prior": None, "observation_shape": 2, "backend": "numpy"},
            TypeError,
            "prior must be an sbinn Prior (e.g. a JointPrior), got NoneType",
        ),
        ({"backend": "jax"}, ValueError, "backend must be 'auto', 'numpy' or 'torch', got 'jax'"),
        ({"function": 3}, TypeError, "function must be callable, got int"),
        (
            {"observation_names": ["p"]},
            ValueError,
            "observation_names has 1 entries, expected 2 to match observation_shape (2,)",
        ),
        (
            {"observation_shape": 0},
            ValueError,
            "observation_shape must be positive integers, got (0,)",
        ),
        (
            {"observation_shape": ()},
            ValueError,
            "observation_shape must be positive integers, got ()",
        ),
        (
            {"observation_shape": (2, -1)},
            ValueError,
            "observation_shape must be positive integers, got (2, -1)",
        ),
        (
            {"max_failure_fraction": 1.5},
            ValueError,
            "max_failure_fraction must lie in [0, 1], got 1.5",
        ),
        (
            {"max_failure_fraction": -0.1},
            ValueError,
            "max_failure_fraction must lie in [0, 1], got -0.1",
        ),
    ],
)
def test_constructor_errors(prior, kwargs, error, message):
    arguments = {"function": lambda t: t, "prior": prior} | kwargs
    function = arguments.pop("function")
    with pytest.raises(error, match=re.escape(message)):
        FunctionSimulator(function, **arguments)


def test_probe_failing_for_both_backends_explains_what_to_do(prior):
    def needs_large_a(theta):
        if np.any(theta[:, 0] < 2):
            raise ValueError("a must be at least 2")
        return theta

    with pytest.raises(TypeError) as info:
        FunctionSimulator(needs_large_a, prior)
    message = str(info.value)
    assert "probing simulator 'needs_large_a' on two prior draws failed" in message
    assert "('numpy', 'torch')" in message
    assert "ValueError: a must be at least 2" in message
    assert "Pass observation_shape and backend explicitly" in message
    assert isinstance(info.value.__cause__, ValueError)
    sim = FunctionSimulator(needs_large_a, prior, observation_shape=2, backend="numpy")
    assert sim.observation_shape == (2,)


def test_probe_with_explicit_backend_names_only_that_backend(prior):
    with pytest.raises(TypeError, match=re.escape("with backend(s) ('torch',): ")):
        FunctionSimulator(lambda t: t.no_such_method(), prior, backend="torch")


@pytest.mark.parametrize("seed", [1.5, "0", True, [1, 2]])
def test_bad_seed(prior, seed):
    sim = FunctionSimulator(lambda t: t, prior)
    with pytest.raises(
        TypeError, match="seed must be an int, a numpy Generator or SeedSequence, or None"
    ):
        sim.sample_joint(3, seed=seed)


def test_bad_num_samples(prior):
    sim = FunctionSimulator(lambda t: t, prior)
    with pytest.raises(ValueError, match="num_samples must be >= 0, got -1"):
        sim.sample_joint(-1, seed=0)
    with pytest.raises(TypeError, match="num_samples must be an integer"):
        sim.sample_joint(2.5, seed=0)


# --- as_generator ----------------------------------------------------------------------------


def test_as_generator():
    generator = np.random.default_rng(0)
    assert as_generator(generator) is generator
    for seed in (5, np.int64(5), np.random.SeedSequence(5)):
        assert as_generator(seed).random() == np.random.default_rng(5).random()
    assert isinstance(as_generator(None), np.random.Generator)
    assert as_generator(None).random() != as_generator(None).random()


# --- the Simulator base class and FailureTracker -------------------------------------------------


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


def make_tracker(prior):
    return FailureTracker(FunctionSimulator(lambda t: t, prior))


def test_failure_tracker_counts_across_chunks_and_keeps_the_first_example(prior):
    tracker = make_tracker(prior)
    theta = np.arange(10.0).reshape(5, 2)
    x = theta.copy()
    x[[1, 3], 0] = np.nan
    kept_theta, kept_x = tracker.filter(theta, x)
    np.testing.assert_array_equal(kept_theta, theta[[0, 2, 4]])
    np.testing.assert_array_equal(kept_x, x[[0, 2, 4]])
    x2 = theta.copy()
    x2[0] = np.inf
    tracker.filter(theta + 100, x2)
    assert (tracker.num_failed, tracker.num_total) == (3, 10)
    assert tracker.failed_fraction == pytest.approx(0.3)
    np.testing.assert_array_equal(tracker.example_theta, [2.0, 3.0])


def test_failure_tracker_finish_without_failures_is_silent(prior):
    tracker = make_tracker(prior)
    tracker.filter(np.zeros((3, 2)), np.zeros((3, 2)))
    no_warning(tracker.finish)
    assert tracker.failed_fraction == 0.0
    assert make_tracker(prior).failed_fraction == 0.0


def test_failure_tracker_aborts_early_only_after_enough_simulations(prior):
    tracker = make_tracker(prior)
    x = np.zeros((600, 2))
    x[::2] = np.nan
    tracker.filter(np.zeros((600, 2)), x)
    assert tracker.num_failed == 300
    with pytest.raises(SimulationError, match="600 of 1200 simulations"):
        tracker.filter(np.zeros((600, 2)), x)
