"""The bidirectional INN: contract, persistence, ablation switches and a small quality check."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sbinn.diagnostics import calibration_error
from sbinn.function_simulator import FunctionSimulator
from sbinn.methods.inn import BidirectionalINN, INNConfig, LossWeights, TrainingConfig
from sbinn.methods.inn_loss import BidirectionalLoss
from sbinn.priors import JointPrior, Normal
from simulators.kinematics import KinematicsSimulator

QUICK = TrainingConfig(num_epochs=1, batch_size=200, progress=False)


@pytest.fixture(scope="module")
def trained() -> BidirectionalINN:
    inn = BidirectionalINN(num_blocks=2, hidden_features=16, seed=3)
    return inn.fit(simulator=KinematicsSimulator(), num_simulations=1000, training=QUICK)


def test_sample_shape_and_seeding(trained):
    x_obs = np.array([[0.5, 1.5], [0.0, 1.8], [-0.3, 1.2]])
    a = trained.sample(x_obs, 50, seed=1)
    assert a.shape == (3, 50, 4)
    np.testing.assert_array_equal(a, trained.sample(x_obs, 50, seed=1))
    assert not np.allclose(a, trained.sample(x_obs, 50, seed=2))
    assert trained.time_s["training"] > 0 and trained.num_simulations == 1000


def test_save_and_load_reproduce_the_samples(trained, tmp_path):
    path = tmp_path / "inn.sbinn"
    trained.save(path)
    loaded = BidirectionalINN.load(path)
    x_obs = np.array([[0.5, 1.5]])
    np.testing.assert_array_equal(
        loaded.sample(x_obs, 20, seed=5), trained.sample(x_obs, 20, seed=5)
    )
    np.testing.assert_allclose(
        loaded.predict_observation([[0.1, 0.2, 0.3, 0.4]]),
        trained.predict_observation([[0.1, 0.2, 0.3, 0.4]]),
    )


def test_padding_is_added_when_the_output_side_is_wider():
    prior = JointPrior({"a": Normal(0, 1), "b": Normal(0, 1)})
    sim = FunctionSimulator(lambda t: np.c_[t, t.sum(1), t[:, 0] - t[:, 1]], prior)
    inn = BidirectionalINN(num_blocks=1, hidden_features=8, dim_z=2)
    inn.fit(simulator=sim, num_simulations=300, training=QUICK)
    assert inn.dims == {"theta": 2, "noise": 0, "x": 4, "z": 2, "width": 6}
    assert inn.sample([[0.0, 0.0, 0.0, 0.0]], 7).shape == (1, 7, 2)
    assert set(inn.history.components[0]) == {"y", "z", "x", "pad", "reconstruction"}


@pytest.mark.parametrize(("terms", "expected"), [(("y", "z"), {"y", "z"}), (("x",), {"x"})])
def test_ablations_switch_loss_terms_off(terms, expected):
    inn = BidirectionalINN(num_blocks=1, hidden_features=8, weights=LossWeights.only(*terms))
    inn.fit(simulator=KinematicsSimulator(), num_simulations=300, training=QUICK)
    assert set(inn.history.components[0]) == expected


def test_z_loss_does_not_pull_the_observation_prediction():
    torch.manual_seed(0)
    inn = BidirectionalINN(num_blocks=2, hidden_features=8)
    inn._build(4, 2)
    for p in inn.network.parameters():
        torch.nn.init.normal_(p, std=0.1)
    loss = BidirectionalLoss(
        inn.network, dim_theta=4, dim_y=2, dim_z=2, weights=LossWeights.only("z")
    )
    theta = torch.randn(64, 4, requires_grad=True)
    captured = {}

    def keep_output(module, inputs, output):
        output[0].register_hook(lambda grad: captured.setdefault("grad", grad))

    inn.network.register_forward_hook(keep_output)
    value, _ = loss((theta, torch.randn(64, 2)), progress=1.0)
    value.backward()
    assert captured["grad"][:, :2].abs().max() == 0
    assert captured["grad"][:, 2:].abs().max() > 0


def test_x_loss_ramps_in():
    inn = BidirectionalINN(num_blocks=1, hidden_features=8)
    inn._build(4, 2)
    loss = inn._loss()
    assert loss.x_ramp(0.0) == pytest.approx(1e-3)
    assert loss.x_ramp(0.25) == pytest.approx(1e-3**0.5)
    assert loss.x_ramp(0.6) == 1.0


def test_learns_a_calibrated_posterior_on_a_linear_gaussian_problem():
    # theta ~ N(0, I_2), x = theta_1 + theta_2 (noise-free): the posterior is the line
    # theta_1 + theta_2 = x with theta_1 ~ N(x / 2, 1 / 2).
    prior = JointPrior({"theta": Normal(0.0, [1.0, 1.0])})
    sim = FunctionSimulator(lambda t: t.sum(axis=1, keepdims=True), prior)
    inn = BidirectionalINN(num_blocks=3, hidden_features=32, seed=0)
    inn.fit(
        simulator=sim,
        num_simulations=8000,
        training=TrainingConfig(num_epochs=25, batch_size=250, learning_rate=2e-3, progress=False),
    )
    theta_true, x_test = sim.sample_joint(300, seed=11)
    samples = inn.sample(x_test, 300, seed=0)
    resim = np.abs(samples.sum(axis=2) - x_test).mean()
    assert resim < 0.1
    assert calibration_error(samples, theta_true).value < 0.05
    np.testing.assert_allclose(samples[..., 0].std(axis=1).mean(), np.sqrt(0.5), rtol=0.15)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"num_blockz": 3}, TypeError, "unknown BidirectionalINN settings"),
        ({"dtype": torch.float16}, ValueError, "dtype must be torch.float32 or torch.float64"),
    ],
)
def test_invalid_construction(kwargs, error, match):
    with pytest.raises(error, match=match):
        BidirectionalINN(**kwargs)


def test_invalid_use(trained):
    with pytest.raises(RuntimeError, match="not trained yet"):
        BidirectionalINN().sample([[0.0, 1.0]], 10)
    with pytest.raises(ValueError, match=r"x_obs must have shape \(n, 2\)"):
        trained.sample([[0.0, 1.0, 2.0]], 10)
    with pytest.raises(ValueError, match="num_samples must be a positive integer"):
        trained.sample([[0.0, 1.0]], 0)
    with pytest.raises(ValueError, match="x_obs must be finite"):
        trained.sample([[0.0, np.nan]], 10)
    with pytest.raises(ValueError, match="not both"):
        BidirectionalINN().fit(np.zeros((5, 4)), np.zeros((5, 2)), simulator=KinematicsSimulator())
    with pytest.raises(ValueError, match="same number of rows"):
        BidirectionalINN().fit(np.zeros((5, 4)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="width must be >="):
        rng = np.random.default_rng(0)
        BidirectionalINN(width=3).fit(rng.random((50, 4)), rng.random((50, 2)), training=QUICK)
    with pytest.raises(ValueError, match="loss weight y must be a finite number >= 0"):
        LossWeights(y=-1.0)
    with pytest.raises(ValueError, match="unknown loss terms"):
        LossWeights.only("w")


def test_config_round_trips_through_json():
    config = INNConfig(num_blocks=3, weights=LossWeights.only("x"))
    assert INNConfig.from_json(config.to_json()) == config
