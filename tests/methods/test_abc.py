"""Rejection ABC: exactness of both acceptance modes, convergence, bookkeeping and errors."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

from sbinn.function_simulator import FunctionSimulator
from sbinn.methods.abc import RejectionABC, SimulationBudgetError
from sbinn.priors import JointPrior, Normal
from sbinn.simulation_stream import SimulationStream
from sbinn.simulator import SimulationFailureWarning
from simulators.kinematics import KinematicsSimulator

NOISE = 0.5


def conjugate_simulator() -> FunctionSimulator:
    """theta ~ N(0, 1), x = theta + N(0, NOISE^2): posterior N(x / (1 + NOISE^2), ...)."""
    prior = JointPrior({"mu": Normal(0.0, 1.0)})
    return FunctionSimulator(
        lambda theta, rng: theta + NOISE * rng.standard_normal(theta.shape), prior, name="conj"
    )


def conjugate_posterior(x: float) -> tuple[float, float]:
    return x / (1 + NOISE**2), np.sqrt(NOISE**2 / (1 + NOISE**2))


def bank(simulator, num_simulations, chunk_size, seed):
    """The simulations an ABC run with these settings sees, concatenated."""
    parts = list(SimulationStream(simulator, num_simulations, chunk_size=chunk_size, seed=seed))
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def test_quantile_mode_keeps_exactly_the_nearest_simulations_across_chunks():
    sim = KinematicsSimulator()
    x_obs = np.array([[0.3, 1.6], [-0.5, 1.2], [1.0, 1.0]])
    abc = RejectionABC(sim, mode="quantile", quantile=0.01, chunk_size=700, progress=False)
    samples = abc.sample(x_obs, 50, seed=3)
    theta, x = bank(sim, 5000, 700, 3)
    scale = x[:700].std(axis=0)
    distances = np.linalg.norm((x[None] - x_obs[:, None]) / scale, axis=2)
    for i in range(len(x_obs)):
        expected = theta[np.argsort(distances[i])[:50]]
        got = samples[i][
            np.argsort(np.linalg.norm((sim.simulate(samples[i]) - x_obs[i]) / scale, axis=1))
        ]
        np.testing.assert_allclose(np.sort(got, axis=0), np.sort(expected, axis=0))
        assert abc.last_run.epsilon[i] == pytest.approx(np.sort(distances[i])[49])
    assert abc.last_run.num_simulations == 5000
    np.testing.assert_allclose(abc.last_run.acceptance_rate, 0.01)


def test_threshold_mode_takes_the_first_accepted_simulations_in_order():
    sim = KinematicsSimulator()
    x_obs = np.array([[0.3, 1.6], [0.0, 1.9]])
    eps = 0.2
    abc = RejectionABC(sim, mode="threshold", epsilon=eps, chunk_size=500, progress=False)
    samples = abc.sample(x_obs, 20, seed=5)
    theta, x = bank(sim, abc.last_run.num_simulations, 500, 5)
    scale = x[:500].std(axis=0)
    for i in range(len(x_obs)):
        d = np.linalg.norm((x - x_obs[i]) / scale, axis=1)
        accepted = np.flatnonzero(d < eps)
        np.testing.assert_allclose(samples[i], theta[accepted[:20]])
        assert abc.last_run.acceptance_rate[i] == pytest.approx(20 / (accepted[19] + 1))
        assert abc.last_run.epsilon[i] < eps


def test_many_observations_in_one_pass_match_separate_runs():
    sim = KinematicsSimulator()
    x_obs = np.array([[0.3, 1.6], [-0.5, 1.2]])
    abc = RejectionABC(sim, mode="quantile", quantile=0.005, progress=False)
    together = abc.sample(x_obs, 40, seed=11)
    for i in range(2):
        alone = abc.sample(x_obs[i], 40, seed=11)
        np.testing.assert_allclose(np.sort(alone[0], axis=0), np.sort(together[i], axis=0))


def test_threshold_abc_converges_to_the_analytic_posterior_as_epsilon_shrinks():
    sim = conjugate_simulator()
    x_star = 1.2
    mean, std = conjugate_posterior(x_star)
    errors = []
    for eps in (2.0, 1.0, 0.5, 0.1):
        abc = RejectionABC(sim, mode="threshold", epsilon=eps, progress=False)
        samples = abc.sample([[x_star]], 4000, seed=1)[0, :, 0]
        errors.append(abs(samples.mean() - mean) / std + abs(samples.std() - std) / std)
    # The ABC bias shrinks like eps^2 until it meets the Monte-Carlo floor (standard errors of
    # the mean and std with 4000 samples are ~0.016 and ~0.011 posterior std), so the grid is
    # spaced for the bias to dominate until its last point.
    assert all(a > b for a, b in itertools.pairwise(errors)), errors
    assert errors[0] > 1.0
    assert errors[-1] < 0.06


def test_quantile_abc_on_the_conjugate_model_is_close_to_the_analytic_posterior():
    sim = conjugate_simulator()
    mean, std = conjugate_posterior(-0.7)
    samples = RejectionABC(sim, quantile=0.002, progress=False).sample([[-0.7]], 2000, seed=2)
    assert samples[0, :, 0].mean() == pytest.approx(mean, abs=0.05)
    assert samples[0, :, 0].std() == pytest.approx(std, rel=0.05)


def test_same_seed_reproduces_and_other_seed_differs():
    abc = RejectionABC(KinematicsSimulator(), quantile=0.01, progress=False)
    a = abc.sample([[0.3, 1.6]], 30, seed=1)
    b = abc.sample([[0.3, 1.6]], 30, seed=1)
    c = abc.sample([[0.3, 1.6]], 30, seed=2)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_user_distance_is_used():
    calls = []

    def manhattan(x_sim, x_obs):
        calls.append(x_sim.shape)
        return np.abs(x_sim[None] - x_obs[:, None]).sum(axis=2)

    abc = RejectionABC(KinematicsSimulator(), quantile=0.01, distance=manhattan, progress=False)
    abc.sample([[0.3, 1.6]], 10, seed=0)
    assert calls and abc.last_run.epsilon[0] > 0


def test_bad_user_distance_shape_is_reported():
    abc = RejectionABC(
        KinematicsSimulator(), quantile=0.1, distance=lambda a, b: np.zeros(3), progress=False
    )
    with pytest.raises(ValueError, match=r"must return shape \(n_obs, n_sim\)"):
        abc.sample([[0.3, 1.6]], 10, seed=0)


def test_failed_simulations_are_dropped_and_reported_once():
    prior = JointPrior({"a": Normal(0.0, 1.0)})
    sim = FunctionSimulator(lambda t: np.where(t > 2.0, np.nan, t), prior)
    abc = RejectionABC(sim, quantile=0.05, chunk_size=1000, progress=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        samples = abc.sample([[0.0]], 200, seed=0)
    failure_warnings = [w for w in caught if issubclass(w.category, SimulationFailureWarning)]
    assert len(failure_warnings) == 1
    assert abc.last_run.num_failed == int(str(failure_warnings[0].message).split()[0])
    assert abc.last_run.num_failed > 0
    assert np.all(np.isfinite(samples))


def test_threshold_budget_exhaustion_raises_with_counts():
    abc = RejectionABC(
        KinematicsSimulator(), mode="threshold", epsilon=1e-4, max_simulations=2000, progress=False
    )
    with pytest.raises(SimulationBudgetError, match="max_simulations=2000"):
        abc.sample([[0.3, 1.6]], 10, seed=0)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"quantile": 0.0}, ValueError, r"quantile must lie in \(0, 1\], got 0.0"),
        ({"quantile": 1.5}, ValueError, r"quantile must lie in \(0, 1\], got 1.5"),
        ({"quantile": None}, ValueError, "quantile mode needs quantile"),
        ({"mode": "threshold", "epsilon": 0.0}, ValueError, "epsilon must be a finite number > 0"),
        ({"mode": "threshold", "epsilon": -1.0}, ValueError, "epsilon must be a finite number > 0"),
        ({"mode": "threshold"}, ValueError, "threshold mode needs epsilon > 0, got None"),
        ({"mode": "nearest", "quantile": 0.1}, ValueError, "mode must be 'quantile' or"),
        ({"quantile": 0.1, "distance": 3}, TypeError, "distance must be callable"),
        ({"quantile": 0.1, "chunk_size": 0}, ValueError, "chunk_size must be a positive"),
    ],
)
def test_invalid_settings_are_rejected(kwargs, error, match):
    with pytest.raises(error, match=match):
        RejectionABC(KinematicsSimulator(), **kwargs)


@pytest.mark.parametrize(
    ("x_obs", "num_samples", "error", "match"),
    [
        ([[0.3, 1.6, 0.0]], 10, ValueError, r"x_obs must have shape \(n, 2\).*got shape \(1, 3\)"),
        ([[0.3, np.nan]], 10, ValueError, "x_obs must be finite"),
        ([["a", "b"]], 10, TypeError, "x_obs must be a numeric array"),
        ([[0.3, 1.6]], 0, ValueError, "num_samples must be a positive integer, got 0"),
        ([[0.3, 1.6]], -5, ValueError, "num_samples must be a positive integer, got -5"),
        ([[0.3, 1.6]], 2.5, TypeError, "num_samples must be a positive integer"),
    ],
)
def test_invalid_sample_arguments_are_rejected(x_obs, num_samples, error, match):
    abc = RejectionABC(KinematicsSimulator(), quantile=0.1, progress=False)
    with pytest.raises(error, match=match):
        abc.sample(x_obs, num_samples)


def test_sampling_without_a_simulator_is_an_error():
    with pytest.raises(ValueError, match="has no simulator"):
        RejectionABC(quantile=0.1).sample([[0.0]], 10)
    with pytest.raises(TypeError, match="must be an sbinn Simulator"):
        RejectionABC(quantile=0.1).fit(simulator=lambda t: t)


@pytest.mark.parametrize("mode", ["quantile", "threshold"])
def test_a_reference_table_gives_what_the_same_simulations_give_when_run(mode):
    sim = conjugate_simulator()
    table = bank(sim, 4000, chunk_size=1000, seed=3)
    options = {"quantile": 0.01} if mode == "quantile" else {"epsilon": 0.2}
    abc = RejectionABC(sim, mode=mode, chunk_size=1000, progress=False, **options)
    x_obs = [[0.3], [-1.0]]
    simulated = abc.sample(x_obs, 40, seed=3)
    replayed = abc.sample(x_obs, 40, seed=99, reference=table)
    np.testing.assert_array_equal(simulated, replayed)
    assert abc.last_run.num_failed == 0


def test_a_reference_table_too_small_for_the_quantile_is_refused():
    sim = conjugate_simulator()
    abc = RejectionABC(sim, mode="quantile", quantile=0.01, progress=False)
    with pytest.raises(ValueError, match=r"needs 4000 reference simulations.*has 1000"):
        abc.sample([[0.0]], 40, reference=bank(sim, 1000, 1000, 0))


def test_threshold_abc_that_exhausts_the_reference_table_says_so():
    sim = conjugate_simulator()
    abc = RejectionABC(sim, mode="threshold", epsilon=1e-4, progress=False)
    with pytest.raises(SimulationBudgetError, match="all 500 reference simulations"):
        abc.sample([[0.0]], 40, reference=bank(sim, 500, 500, 0))


@pytest.mark.parametrize(
    ("reference", "match"),
    [
        (np.zeros((10, 1)), "pair"),
        ((np.zeros((10, 1)), np.zeros((9, 1))), "same number of rows"),
        ((np.zeros((10, 2)), np.zeros((10, 1))), "reference theta"),
    ],
)
def test_malformed_reference_tables_are_refused(reference, match):
    abc = RejectionABC(conjugate_simulator(), mode="quantile", quantile=1.0, progress=False)
    with pytest.raises((TypeError, ValueError), match=match):
        abc.sample([[0.0]], 5, reference=reference)


@pytest.mark.parametrize("mode", ["quantile", "threshold"])
def test_samples_do_not_depend_on_where_the_simulations_ran(mode):
    sim = KinematicsSimulator()
    _, x_obs = sim.sample_joint(3, seed=4)
    settings = {"quantile": 0.01} if mode == "quantile" else {"epsilon": 0.3}
    samples = [
        RejectionABC(
            sim, mode=mode, chunk_size=2000, progress=False, backend=backend, **settings
        ).sample(x_obs, 20, seed=1)
        for backend in ("inprocess", "processes")
    ]
    np.testing.assert_array_equal(samples[0], samples[1])
