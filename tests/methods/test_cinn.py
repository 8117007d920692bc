"""The conditional INN: exact densities, set conditioning, online training, persistence, errors.

The quality checks here are light versions that run in seconds; the strict ones (NLL within
0.05 nats of the posterior entropy, 1% calibration on sets) are in ``benchmarks/cinn_*.py``.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from scipy import stats

from sbinn.diagnostics import calibration_error
from sbinn.function_simulator import FunctionSimulator
from sbinn.methods.cinn import CINN, CINNConfig, TrainingConfig
from sbinn.methods.inn import BidirectionalINN
from sbinn.priors import JointPrior, Normal
from simulators.kinematics import KinematicsSimulator
from simulators.linear_gaussian import LinearGaussianSimulator
from simulators.normal_sets import NormalSetsSimulator

QUICK = TrainingConfig(num_epochs=1, batch_size=200, progress=False)
SMALL = {"num_blocks": 2, "hidden_features": 16, "summary_features": 8}


def quick_training(epochs: int, learning_rate: float = 3e-3, batch_size: int = 128):
    return TrainingConfig(
        num_epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, progress=False
    )


@pytest.fixture(scope="module")
def kinematics() -> CINN:
    cinn = CINN(seed=3, **SMALL)
    return cinn.fit(simulator=KinematicsSimulator(), num_simulations=1000, training=QUICK)


@pytest.fixture(scope="module")
def linear_gaussian():
    sim = LinearGaussianSimulator(dim_theta=5, noise_std=0.1, seed=0)
    theta, x = sim.sample_joint(10_000, seed=1)
    cinn = CINN(seed=0).fit(theta, x, training=quick_training(8))
    theta_test, x_test = sim.sample_joint(4000, seed=2)
    return sim, cinn, theta_test, x_test


@pytest.fixture(scope="module")
def sets():
    sim = NormalSetsSimulator(n_min=5, n_max=500)
    theta, x = sim.sample_joint(6000, seed=0)
    cinn = CINN(seed=0, summary_hidden_features=32, summary_features=16)
    return sim, cinn.fit(theta, x, training=quick_training(8))


def analytic_log_prob(sim, theta, x):
    means, cov = sim.posterior(x)
    return np.array(
        [stats.multivariate_normal(m, cov).logpdf(t) for m, t in zip(means, theta, strict=True)]
    )


# --- linear Gaussian: densities and moments against the exact posterior ---------------------


def test_held_out_nll_approaches_the_posterior_entropy(linear_gaussian):
    sim, cinn, theta, x = linear_gaussian
    log_q = cinn.log_prob(theta, x)
    exact = analytic_log_prob(sim, theta, x)
    # KL(p || q) estimated on paired draws: far less noisy than NLL minus entropy.
    assert np.mean(exact - log_q) < 0.3
    assert abs(-log_q.mean() - sim.posterior_entropy()) < 0.35
    assert np.corrcoef(log_q, exact)[0, 1] > 0.9
    assert cinn.history.validation_loss[-1] == pytest.approx(-log_q.mean(), abs=0.1)


def test_posterior_moments_match_the_analytic_posterior(linear_gaussian):
    sim, cinn, _, x = linear_gaussian
    samples = cinn.sample(x[:100], 2000, seed=0)
    means, cov = sim.posterior(x[:100])
    std = np.sqrt(np.diag(cov))
    assert np.abs(samples.mean(axis=1) - means).mean() < 0.25 * std.mean()
    sample_cov = np.mean([np.cov(s.T) for s in samples], axis=0)
    assert np.abs(sample_cov - cov).max() < 0.1 * np.abs(cov).max()


def test_a_shifted_posterior_fails_the_checks(linear_gaussian):
    sim, cinn, theta, x = linear_gaussian
    _, cov = sim.posterior(x[:1])
    shifted = copy.deepcopy(cinn)
    shift = np.sqrt(np.diag(cov))
    scaler = shifted.theta_scaler
    shifted.theta_scaler = type(scaler)(mean=scaler.mean + shift, scale=scaler.scale)
    exact = analytic_log_prob(sim, theta[:1000], x[:1000])
    gaps = [np.mean(exact - m.log_prob(theta[:1000], x[:1000])) for m in (cinn, shifted)]
    assert gaps[1] > gaps[0] + 1.5  # a one-sigma shift in 5 dimensions costs 2.5 nats
    errors = [
        calibration_error(m.sample(x[:500], 200, seed=0), theta[:500], num_resamples=10).value
        for m in (cinn, shifted)
    ]
    assert errors[0] < 0.06 and errors[1] > max(0.1, 3 * errors[0])


# --- densities are normalised in the user's units ------------------------------------------


def test_log_prob_integrates_to_one_in_two_dimensions():
    prior = JointPrior({"a": Normal(1.0, 0.5), "b": Normal(-2.0, 2.0)})
    sim = FunctionSimulator(
        lambda t, rng: np.c_[t[:, 0] * t[:, 1] + 0.3 * rng.normal(size=len(t))], prior
    )
    cinn = CINN(seed=1, **SMALL).fit(simulator=sim, num_simulations=2000, training=QUICK)
    a, b = np.meshgrid(np.linspace(-3, 5, 161), np.linspace(-14, 10, 161), indexing="ij")
    grid = np.c_[a.ravel(), b.ravel()]
    density = np.exp(cinn.log_prob(grid, [[-1.0]]))
    cell = (8 / 160) * (24 / 160)
    assert density.sum() * cell == pytest.approx(1.0, abs=0.02)


def test_one_parameter_is_padded_with_noise_and_its_density_is_normalised():
    sim = FunctionSimulator(
        lambda t, rng: t + 0.5 * rng.normal(size=t.shape), JointPrior({"mu": Normal(0.0, 1.0)})
    )
    cinn = CINN(seed=0).fit(simulator=sim, num_simulations=3000, training=quick_training(4))
    assert cinn.dims == {"theta": 1, "pad": 1, "condition": 32}
    samples = cinn.sample([[0.8]], 2000, seed=0)
    assert samples.shape == (1, 2000, 1)
    assert samples.mean() == pytest.approx(0.64, abs=0.1)
    assert samples.std() == pytest.approx(np.sqrt(0.2), rel=0.15)
    grid = np.linspace(-5, 5, 401)[:, None]
    log_q = cinn.log_prob(grid, [[0.8]], num_pad_draws=64)
    assert np.exp(log_q).sum() * (10 / 400) == pytest.approx(1.0, abs=0.03)
    exact = stats.norm(0.8 / 1.25, np.sqrt(0.25 / 1.25)).logpdf(grid[:, 0])
    central = np.abs(grid[:, 0] - 0.64) < 0.9
    assert np.abs(log_q - exact)[central].max() < 0.5


# --- sets: one DeepSet for every set size --------------------------------------------------


def test_one_set_network_serves_sets_of_5_50_and_500(sets):
    sim, cinn = sets
    theta = sim.prior.sample(150, np.random.default_rng(5))
    stds = []
    for n in (5, 50, 500):
        padded, _ = sim.simulate_sets(theta, 7, set_sizes=n)
        samples = cinn.sample(padded[:, :n], 400, seed=1)
        assert samples.shape == (150, 400, 2)
        stds.append(samples[:, :, 0].std(axis=1).mean())
    slope = np.polyfit(np.log([5, 50, 500]), np.log(stds), 1)[0]
    assert -0.65 < slope < -0.35  # the exact posterior's slope is -0.49 here


def test_set_samples_ignore_the_order_and_the_padding_of_a_set(sets):
    sim, cinn = sets
    padded, _ = sim.simulate_sets([[0.5, -0.2], [-1.0, 0.3]], 3, set_sizes=40)
    order = np.random.default_rng(0).permutation(40)
    shuffled = padded[:, :40][:, order]
    a = cinn.sample(padded[:, :40], 300, seed=4)
    np.testing.assert_allclose(cinn.sample(shuffled, 300, seed=4), a, atol=1e-5)
    np.testing.assert_allclose(cinn.sample(padded, 300, seed=4), a, atol=1e-5)  # 460 NaN slots
    np.testing.assert_allclose(cinn.sample(padded[:, :40, 0], 300, seed=4), a, atol=1e-5)
    assert not np.allclose(cinn.sample(padded[:, :40], 300, seed=5), a)


def test_set_transformer_conditioning_is_permutation_invariant():
    sim = NormalSetsSimulator(n_min=3, n_max=20)
    cinn = CINN(seed=0, conditioning="set_transformer", summary_hidden_features=16, **SMALL)
    cinn.fit(simulator=sim, num_simulations=400, training=QUICK)
    padded, _ = sim.simulate_sets([[0.0, 0.0]], 1, set_sizes=12)
    reverse = padded[:, :12][:, ::-1]
    np.testing.assert_allclose(
        cinn.sample(reverse, 20, seed=0), cinn.sample(padded, 20, seed=0), atol=1e-5
    )


def test_conv1d_and_none_conditioning():
    grid = np.linspace(-3, 3, 32)
    prior = JointPrior({"loc": Normal(0.0, 1.0), "width": Normal(1.0, 0.1)})
    sim = FunctionSimulator(lambda t: np.exp(-0.5 * ((grid - t[:, :1]) / t[:, 1:]) ** 2), prior)
    theta, x = sim.sample_joint(400, seed=0)
    conv = CINN(seed=0, conditioning="conv1d", **SMALL).fit(theta, x, training=QUICK)
    assert conv.sample(x[:3], 5).shape == (3, 5, 2)
    np.testing.assert_array_equal(conv.sample(x[:3, None], 5), conv.sample(x[:3], 5))
    raw = CINN(seed=0, conditioning="none", **SMALL).fit(theta, x, training=QUICK)
    assert raw.dims["condition"] == 32 and raw.settings()["conditioning"] == "none"


# --- training: online, dequantisation, seeding, persistence --------------------------------


def test_online_training_draws_fresh_simulations_every_epoch():
    calls = []

    def forward(theta, rng):
        calls.append(theta[0].copy())
        return theta[:, :2] + 0.1 * rng.normal(size=(len(theta), 2))

    prior = JointPrior({"a": Normal(0, 1), "b": Normal(0, 1), "c": Normal(0, 1)})
    simulator = FunctionSimulator(forward, prior)
    calls.clear()  # the wrapper may probe the function once
    cinn = CINN(seed=0, **SMALL)
    cinn.fit(
        simulator=simulator,
        num_simulations=1300,
        online=True,
        simulations_per_epoch=400,
        training=QUICK,
    )
    assert len(cinn.history.train_loss) == 3 and cinn.num_simulations == 1200
    assert len(calls) == 3 and not np.allclose(calls[1], calls[2])
    assert cinn.time_s["simulation"] > 0 and cinn.time_s["training"] > 0


def test_discrete_parameters_are_dequantised_and_rounded():
    rng = np.random.default_rng(0)
    theta = np.c_[rng.integers(0, 4, 3000), rng.normal(size=3000)]
    x = theta + 0.1 * rng.normal(size=theta.shape)
    cinn = CINN(seed=0, discrete_parameters=(0,))
    cinn.fit(theta[:2000], x[:2000], training=quick_training(6))
    samples = cinn.sample(x[:50], 100, seed=0)
    np.testing.assert_array_equal(samples[..., 0], np.rint(samples[..., 0]))
    mode = np.array([np.bincount(s.astype(int) + 10).argmax() - 10 for s in samples[..., 0]])
    assert np.mean(mode == theta[:50, 0]) > 0.9
    assert np.isfinite(cinn.log_prob(theta[:5], x[:5])).all()


def test_seeds_reproduce_training_and_sampling(kinematics):
    x = np.array([[0.5, 1.5], [0.0, 1.8]])
    a = kinematics.sample(x, 30, seed=1)
    assert a.shape == (2, 30, 4)
    np.testing.assert_array_equal(a, kinematics.sample(x, 30, seed=1))
    assert not np.allclose(a, kinematics.sample(x, 30, seed=2))
    again = CINN(seed=3, **SMALL).fit(
        simulator=KinematicsSimulator(), num_simulations=1000, training=QUICK
    )
    np.testing.assert_array_equal(again.sample(x, 30, seed=1), a)


@pytest.mark.parametrize("which", ["kinematics", "sets"])
def test_save_and_load_reproduce_samples_and_densities(which, kinematics, sets, tmp_path):
    cinn = kinematics if which == "kinematics" else sets[1]
    if which == "kinematics":
        x, theta = np.array([[0.5, 1.5]]), np.array([[0.1, 0.2, 0.3, 0.4]])
    else:
        x, theta = sets[0].simulate_sets([[0.2, 0.1]], 0, set_sizes=30)[0], np.array([[0.1, 0.0]])
    cinn.save(tmp_path / "cinn.sbinn")
    loaded = CINN.load(tmp_path / "cinn.sbinn")
    np.testing.assert_array_equal(loaded.sample(x, 20, seed=5), cinn.sample(x, 20, seed=5))
    np.testing.assert_array_equal(loaded.log_prob(theta, x), cinn.log_prob(theta, x))
    assert loaded.settings() == cinn.settings()


# --- errors that say what was expected ------------------------------------------------------


def test_sampling_or_saving_before_fit_raises(tmp_path):
    cinn = CINN()
    for call in (
        lambda: cinn.sample([[0.0, 0.0]], 5),
        lambda: cinn.log_prob([[0.0]], [[0.0]]),
        lambda: cinn.save(tmp_path / "x"),
    ):
        with pytest.raises(RuntimeError, match="not trained yet"):
            call()


@pytest.mark.parametrize(
    ("x", "match"),
    [
        ([[0.5, 1.5, 0.0]], r"shape \(n, 2\).*trained on observations of shape \(2,\).*\(1, 3\)"),
        ([[0.5, np.nan]], "NaN or inf in 1 row"),
        (np.zeros((2, 2, 1)), r"shape \(n, 2\)"),
    ],
)
def test_observations_of_the_wrong_shape_or_with_nan_are_refused(kinematics, x, match):
    with pytest.raises(ValueError, match=match):
        kinematics.sample(x, 5)


def test_log_prob_checks_its_rows(kinematics):
    with pytest.raises(ValueError, match="theta must have shape"):
        kinematics.log_prob([[0.0, 0.0]], [[0.5, 1.5]])
    with pytest.raises(ValueError, match="same number of rows"):
        kinematics.log_prob(np.zeros((3, 4)), np.ones((2, 2)))


@pytest.mark.parametrize(
    ("x", "match"),
    [
        (np.ones((1, 4, 2)), r"sets of shape \(n, n_max, 1\) or \(n, n_max\).*got shape"),
        (np.full((1, 4, 1), np.nan), "empty sets"),
        (np.array([[[1.0], [np.inf]]]), "got inf"),
    ],
)
def test_malformed_sets_are_refused(sets, x, match):
    with pytest.raises(ValueError, match=match):
        sets[1].sample(x, 5)


def test_partially_missing_set_elements_are_refused():
    x = np.ones((4, 3, 2))
    x[0, 2] = np.nan
    x[1, 1, 0] = np.nan
    with pytest.raises(ValueError, match="some but not all features NaN in 1 row"):
        CINN(**SMALL).fit(np.zeros((4, 2)), x, training=QUICK)


def test_nan_in_vector_observations_points_to_set_networks():
    x = np.ones((10, 3))
    x[4, 1] = np.nan
    with pytest.raises(ValueError, match=r"first at row 4.*conditioning='deepset'"):
        CINN(**SMALL).fit(np.zeros((10, 2)), x, training=QUICK)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"theta": np.zeros((5, 2))}, ValueError, r"needs \(theta, x\)"),
        ({"theta": np.zeros((5, 2)), "x": np.zeros((4, 2))}, ValueError, "same number of rows"),
        ({"theta": np.zeros((5, 2)), "x": np.zeros((5, 2)), "online": True}, ValueError, "need"),
        ({"simulator": KinematicsSimulator(), "theta": np.zeros((5, 4))}, ValueError, "not both"),
        ({"simulator": KinematicsSimulator()}, TypeError, "num_simulations"),
        ({"simulator": "kinematics", "num_simulations": 10}, TypeError, "sbinn Simulator"),
        (
            {"simulator": KinematicsSimulator(), "num_simulations": 10, "simulations_per_epoch": 5},
            ValueError,
            "online=True",
        ),
        (
            {"simulator": KinematicsSimulator(), "num_simulations": 10, "online": True},
            TypeError,
            "simulations_per_epoch",
        ),
        (
            {
                "simulator": KinematicsSimulator(),
                "num_simulations": 10,
                "online": True,
                "simulations_per_epoch": 20,
            },
            ValueError,
            "must not exceed",
        ),
    ],
)
def test_fit_arguments_are_checked(kwargs, error, match):
    with pytest.raises(error, match=match):
        CINN(**SMALL).fit(**kwargs, training=QUICK)


def test_settings_are_checked():
    with pytest.raises(TypeError, match="unknown CINN settings"):
        CINN(num_block=3)
    with pytest.raises(ValueError, match="conditioning must be one of"):
        CINN(conditioning="transformer")
    with pytest.raises(ValueError, match="discrete_parameters must be parameter indices"):
        CINNConfig(discrete_parameters=(-1,))
    with pytest.raises(ValueError, match="must not repeat"):
        CINNConfig(discrete_parameters=(1, 1))
    for noise in (-0.1, float("nan"), float("inf"), "0.1", True):
        with pytest.raises(ValueError, match="observation_noise must be a number >= 0"):
            CINNConfig(observation_noise=noise)
    for final in (0.0, 0.2, -0.01, "0.01", True):
        with pytest.raises(ValueError, match=r"observation_noise_final must be a number in \(0, "):
            CINNConfig(observation_noise=0.1, observation_noise_final=final)
    with pytest.raises(ValueError, match="dtype"):
        CINN(dtype=torch.float16)
    with pytest.raises(ValueError, match=r"discrete_parameters \[2\] are out of range"):
        CINN(discrete_parameters=(2,), **SMALL).fit(np.zeros((5, 2)), np.ones((5, 1)))
    with pytest.raises(ValueError, match=r"for scalar observations use x\[:, None\]"):
        CINN(**SMALL).fit(np.zeros((5, 2)), np.ones(5))
    with pytest.raises(ValueError, match=r"conditioning='conv1d' needs x of shape"):
        CINN(conditioning="conv1d").fit(np.zeros((5, 2)), np.ones((5, 2, 3, 4)))


def test_loading_another_estimator_kind_is_refused(tmp_path):
    inn = BidirectionalINN(num_blocks=1, hidden_features=8)
    inn.fit(simulator=KinematicsSimulator(), num_simulations=200, training=QUICK)
    inn.save(tmp_path / "inn.sbinn")
    with pytest.raises(ValueError, match="expected 'cinn'"):
        CINN.load(tmp_path / "inn.sbinn")
