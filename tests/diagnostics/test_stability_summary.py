"""The stability summary of trained estimators: its shape, its consistency, its errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from sbinn.diagnostics.stability import round_trip, stability_summary
from sbinn.methods.cinn import CINN
from sbinn.methods.inn import BidirectionalINN
from sbinn.train import TrainingConfig
from simulators.kinematics import KinematicsSimulator

TINY = TrainingConfig(num_epochs=2, batch_size=128, progress=False)


@pytest.fixture(scope="module")
def simulator():
    return KinematicsSimulator()


@pytest.fixture(scope="module")
def reference(simulator):
    return simulator.sample_joint(128, seed=7)


@pytest.fixture(scope="module", params=["inn", "cinn"])
def estimator(request, simulator):
    if request.param == "inn":
        model = BidirectionalINN(num_blocks=2, hidden_features=16, seed=0)
    else:
        model = CINN(num_blocks=2, hidden_features=16, summary_features=4, seed=0)
    return model.fit(simulator=simulator, num_simulations=1000, training=TINY)


def test_the_summary_has_its_documented_shape_and_is_strict_json(estimator, reference):
    theta, x = reference
    summary = stability_summary(estimator, theta, x, x[:6], samples_per_observation=16)
    assert set(summary) == {
        "network",
        "training",
        "samples",
        "block_log_det",
        "reliability",
        "method",
        "time_s",
    }
    assert summary["network"]["dtype"] == "float32"
    assert summary["training"]["num_points"] == 128
    assert summary["training"]["round_trip_x"]["start"] == "x"
    assert summary["training"]["round_trip_z"]["start"] == "z"
    assert summary["samples"]["round_trip_z"]["num_points"] == 6 * 16
    assert summary["reliability"]["num_observations"] == 6
    # 2 blocks of [coupling, mixing]
    assert [row["block"] for row in summary["block_log_det"]] == [
        "AffineCoupling",
        "RandomOrthogonalMixing",
    ] * 2
    json.dumps(summary, allow_nan=False)


def test_training_round_trips_are_the_networks_own(estimator, reference):
    theta, x = reference
    summary = stability_summary(estimator, theta, x, x[:2], num_reference=50)
    # The INN's input for θ: standardised and padded with zeros to the network's width.
    if isinstance(estimator, BidirectionalINN):
        network = estimator.network
        u = estimator.theta_scaler.transform(theta[:50])
        u = np.concatenate([u, np.zeros((50, network.dim - u.shape[1]))], axis=1)
        direct = round_trip(network, u).quantiles()
        assert summary["training"]["round_trip_x"]["error"] == direct
    assert summary["training"]["num_points"] == 50
    for side in ("round_trip_x", "round_trip_z"):
        assert summary["training"][side]["error"]["max"] < 1e-3  # a float32 network


def test_observations_like_the_training_data_are_rarely_flagged(estimator, reference):
    theta, x = reference
    summary = stability_summary(estimator, theta, x, x[:40], samples_per_observation=32)
    assert summary["reliability"]["flagged_fraction"] <= 0.1


def test_observations_far_outside_the_training_range_are_flagged(estimator, reference):
    # Measured on these networks: the inverse's condition number at the samples goes from
    # about 1 to about 900-1500, and the round-trip error from 1e-6 to 1e-4 (cINN) and
    # 0.3 (INN), against thresholds of about 10 and 5e-6.
    theta, x = reference
    summary = stability_summary(estimator, theta, x, 1e4 * x[:10])
    assert summary["reliability"]["flagged_fraction"] == 1.0


def test_at_most_max_observations_are_checked(estimator, reference):
    theta, x = reference
    summary = stability_summary(
        estimator, theta, x, x, max_observations=3, samples_per_observation=2
    )
    assert summary["samples"]["num_observations"] == 3
    assert summary["samples"]["round_trip_z"]["num_points"] == 6


def test_other_estimators_and_untrained_ones_are_refused(reference):
    theta, x = reference
    with pytest.raises(TypeError, match="needs a trained sbinn BidirectionalINN or CINN, got"):
        stability_summary(object(), theta, x, x)
    with pytest.raises(ValueError, match="BidirectionalINN is not trained yet"):
        stability_summary(BidirectionalINN(), theta, x, x)
    with pytest.raises(ValueError, match="CINN is not trained yet"):
        stability_summary(CINN(), theta, x, x)


def test_bad_reference_data_are_refused(estimator, reference):
    theta, x = reference
    with pytest.raises(ValueError, match="same number of rows, got 128 and 127"):
        stability_summary(estimator, theta, x[:-1], x)
    with pytest.raises(ValueError, match="samples_per_observation"):
        stability_summary(estimator, theta, x, x, samples_per_observation=0)
    with pytest.raises(ValueError, match="theta"):
        stability_summary(estimator, theta[:, :2], x, x)


def test_noise_draws_are_for_an_inn_with_latent_noise(simulator, reference):
    theta, x = reference
    cinn = CINN(num_blocks=1, hidden_features=8, summary_features=2, seed=0)
    cinn.fit(simulator=simulator, num_simulations=300, training=TINY)
    with pytest.raises(ValueError, match="a CINN takes none"):
        stability_summary(cinn, theta, x, x, noise=np.zeros((128, 1)))


def test_an_inn_with_a_mixture_latent_is_checked_at_its_own_latent_draws():
    from sbinn.diagnostics.stability_summary import _inn_latents
    from sbinn.methods.inn_latent_config import LatentConfig

    latent = LatentConfig(kind="gaussian_mixture", num_components=2, spread=8.0, std=0.1)
    inn = BidirectionalINN(num_blocks=1, hidden_features=8, seed=0, latent=latent)
    inn.fit(
        simulator=KinematicsSimulator(),
        num_simulations=300,
        training=TrainingConfig(num_epochs=1, batch_size=100, progress=False),
    )
    y = np.zeros((400, inn.dims["x"]))
    z = _inn_latents(inn, y, np.random.default_rng(0))
    # The sampler's draws sit at the components (8 from the origin), not at N(0, I) ones.
    assert z.shape == (400, inn.dims["z"])
    assert np.all(np.abs(np.linalg.norm(z, axis=1) - 8.0) < 1.0)
    theta, x = KinematicsSimulator().sample_joint(256, seed=1)
    summary = stability_summary(inn, theta, x, y[:4], samples_per_observation=16)
    assert summary["samples"]["round_trip_z"]["num_points"] == 4 * 16


def test_a_padded_inn_reports_the_input_padding_its_inverse_returns(simulator, reference):
    theta, x = reference
    inn = BidirectionalINN(num_blocks=2, hidden_features=16, width=8, seed=0)
    inn.fit(simulator=simulator, num_simulations=1000, training=TINY)
    summary = stability_summary(inn, theta, x, x[:5], samples_per_observation=8, seed=3)
    padding = summary["samples"]["input_padding"]
    assert padding["pad_noise"] == inn.config.pad_noise
    assert padding["non_finite_fraction"] == 0.0
    # The same number from the network directly, at the sampler's points [y*, z, 0].
    rng = np.random.default_rng(3)
    y = np.repeat(inn.x_scaler.transform(x[:5]), 8, axis=0)
    z = rng.standard_normal((len(y), inn.dims["z"]))
    points = np.concatenate([y, z, np.zeros((len(y), 8 - y.shape[1] - z.shape[1]))], axis=1)
    with torch.no_grad():
        inputs = inn.network.eval().inverse(torch.as_tensor(points, dtype=torch.float32))[0]
    rms = inputs[:, inn.dims["theta"] :].pow(2).mean(dim=1).sqrt().double().numpy()
    assert padding["rms_median"] == pytest.approx(float(np.median(rms)), rel=1e-5)
    # Observations far outside the training range send the inverse off the zero-padding
    # slice, and the padding it returns shows it.
    shifted = stability_summary(inn, theta, x, 50 * x[:5], samples_per_observation=8, seed=3)
    assert shifted["samples"]["input_padding"]["rms_median"] > 10 * padding["rms_median"]


def test_inns_without_padding_and_cinns_report_no_input_padding(estimator, reference):
    theta, x = reference
    summary = stability_summary(estimator, theta, x, x[:2], samples_per_observation=4)
    assert "input_padding" not in summary["samples"]
