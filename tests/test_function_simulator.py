"""FunctionSimulator: wrapping numpy/torch, batched/per-vector user functions in one call."""

import json
import re

import numpy as np
import pytest
import torch

from sbinn.function_simulator import FunctionSimulator
from sbinn.priors import Normal
from tests.simulator_support import no_warning

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
    with pytest.raises(ValueError, match="num_samples must be a non-negative integer, got -1"):
        sim.sample_joint(-1, seed=0)
    with pytest.raises(
        TypeError, match=r"num_samples must be a non-negative integer, got float 2\.5"
    ):
        sim.sample_joint(2.5, seed=0)
