"""The latent distributions wired into the bidirectional INN: the default keeps earlier results,
a mixture latent trains with the network, is saved and loaded with it, and samples."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from sbinn.io import load_estimator
from sbinn.methods.inn import BidirectionalINN, INNConfig, LossWeights, TrainingConfig
from sbinn.methods.inn_latent_config import LatentConfig
from sbinn.methods.inn_latent_mixture import GaussianMixtureLatent, mixture_means
from sbinn.methods.inn_latents import StandardNormalLatent, StudentTLatent
from sbinn.methods.inn_loss import BidirectionalLoss
from sbinn.nn import InvertibleNetwork
from simulators.kinematics import KinematicsSimulator

MIXTURE = LatentConfig(kind="gaussian_mixture", temperature=0.5, final_temperature=0.1)
LATENTS = {
    "normal": LatentConfig(),
    "student_t": LatentConfig(kind="student_t", degrees_of_freedom=4.0),
    "gaussian_mixture": MIXTURE,
}


def small_fit(seed: int = 3, epochs: int = 2, **overrides) -> BidirectionalINN:
    inn = BidirectionalINN(num_blocks=2, hidden_features=16, seed=seed, **overrides)
    return inn.fit(
        simulator=KinematicsSimulator(),
        num_simulations=400,
        training=TrainingConfig(num_epochs=epochs, batch_size=100, progress=False),
    )


# --- the default latent keeps earlier results -------------------------------------------------

# Measured on commit e92a6ff, before the latent was wired in (torch's random stream, one
# thread): last training loss and the first two samples for x = (0.5, 1.5), seed 1.
BEFORE_WIRING = {
    "unpadded": (
        {},
        306.94952392578125,
        [
            [-0.23872629573817544, -0.15479011762746722, -0.17391586088409167, 0.02157261861759737],
            [-0.1998531501960014, -0.2372258012228879, 0.11067184778769057, -0.1298653881693697],
        ],
    ),
    "padded": (
        {"width": 6, "dim_z": 3},
        170.04988479614258,
        [
            [-0.12037914673237718, -0.3183066035711378, -0.3065976916984877, -0.10688400124042138],
            [-0.18716590213798068, -0.14862897451890575, -0.3378739516407148, 0.17242402293732734],
        ],
    ),
}


@pytest.mark.parametrize("case", sorted(BEFORE_WIRING))
def test_default_latent_reproduces_the_results_from_before_the_wiring(case):
    overrides, last_loss, first_samples = BEFORE_WIRING[case]
    inn = small_fit(**overrides)
    assert isinstance(inn.latent, StandardNormalLatent)
    assert inn.history.train_loss[-1] == pytest.approx(last_loss, rel=1e-5)
    samples = inn.sample([[0.5, 1.5]], 4, seed=1)
    np.testing.assert_allclose(samples[0, :2], first_samples, rtol=1e-4, atol=1e-6)


def test_default_latent_equals_an_explicit_standard_normal_latent_in_the_loss():
    torch.manual_seed(0)
    net = InvertibleNetwork.coupling_stack(6, num_blocks=2, hidden_features=8)
    batch = (torch.randn(32, 4), torch.randn(32, 2))
    kwargs = {"dim_theta": 4, "dim_y": 2, "dim_z": 3, "weights": LossWeights()}
    values = []
    for latent in (None, StandardNormalLatent(2, 3)):
        torch.manual_seed(1)
        loss, parts = BidirectionalLoss(net, latent=latent, **kwargs)(batch, progress=0.3)
        values.append((loss.item(), parts))
    assert values[0] == values[1]
    assert set(values[0][1]) == {"y", "z", "x", "pad", "reconstruction"}


# --- configuration ----------------------------------------------------------------------------


def test_config_with_a_mixture_latent_round_trips_through_json_text():
    config = INNConfig(num_blocks=3, latent=MIXTURE, weights=LossWeights(sparsity=0.5))
    assert INNConfig.from_json(json.loads(json.dumps(config.to_json()))) == config


def test_config_json_from_before_latents_loads_with_the_normal_latent():
    old = INNConfig().to_json()
    del old["latent"]
    del old["weights"]["sparsity"]
    config = INNConfig.from_json(old)
    assert config.latent == LatentConfig()
    assert config.weights.sparsity == 0.0


def test_config_refuses_sparsity_without_a_mixture_and_a_latent_that_is_no_config():
    with pytest.raises(ValueError, match="needs latent=LatentConfig"):
        INNConfig(weights=LossWeights(sparsity=1.0), latent=LatentConfig(kind="student_t"))
    with pytest.raises(TypeError, match="latent must be a LatentConfig"):
        INNConfig(latent="gaussian_mixture")
    with pytest.raises(ValueError, match="unknown LatentConfig fields"):
        INNConfig.from_json(INNConfig().to_json() | {"latent": {"kind": "normal", "k": 2}})


def test_loss_refuses_a_latent_of_other_widths_and_sparsity_without_weights():
    net = InvertibleNetwork.coupling_stack(4, num_blocks=1, hidden_features=8)
    kwargs = {"dim_theta": 4, "dim_y": 2, "dim_z": 2}
    with pytest.raises(ValueError, match=r"latent has \(dim_y, dim_z\) = \(2, 3\)"):
        BidirectionalLoss(net, weights=LossWeights(), latent=StudentTLatent(2, 3), **kwargs)
    with pytest.raises(ValueError, match="needs a latent with mixture weights"):
        BidirectionalLoss(net, weights=LossWeights(sparsity=1.0), **kwargs)


# --- a mixture latent trains with the network -------------------------------------------------


@pytest.mark.parametrize("term", ["z", "x"])
def test_latent_terms_send_gradients_to_the_mixture_weights(term):
    torch.manual_seed(0)
    net = InvertibleNetwork.coupling_stack(4, num_blocks=2, hidden_features=8)
    latent = GaussianMixtureLatent(2, 2, means=mixture_means(2, 2), temperature=0.5)
    loss_fn = BidirectionalLoss(
        net, dim_theta=4, dim_y=2, dim_z=2, weights=LossWeights.only(term), latent=latent
    )
    loss, _ = loss_fn((torch.randn(64, 4), torch.randn(64, 2)), progress=1.0)
    loss.backward()
    grads = [p.grad for p in latent.weight_network.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0


def test_fit_trains_the_mixture_weights_and_anneals_the_temperature():
    inn = small_fit(latent=MIXTURE, weights=LossWeights(sparsity=0.1))
    last = inn.latent.weight_network[-1]
    # The last layer starts at zero (equal weights): only training can move it.
    assert float(last.weight.detach().abs().sum()) > 0
    assert inn.latent.temperature == pytest.approx(0.1)
    assert "sparsity" in inn.history.components[-1]


def test_mixture_latent_checkpoints_and_resumes(tmp_path):
    path = tmp_path / "run.pt"
    training = TrainingConfig(
        num_epochs=2, batch_size=100, progress=False, checkpoint_path=path, checkpoint_every=2
    )
    first = BidirectionalINN(num_blocks=2, hidden_features=16, seed=0, latent=MIXTURE)
    first.fit(simulator=KinematicsSimulator(), num_simulations=400, training=training)
    again = BidirectionalINN(num_blocks=2, hidden_features=16, seed=0, latent=MIXTURE)
    again.fit(simulator=KinematicsSimulator(), num_simulations=400, training=training)
    for a, b in zip(first.latent.parameters(), again.latent.parameters(), strict=True):
        assert torch.equal(a, b)
    for a, b in zip(first.network.parameters(), again.network.parameters(), strict=True):
        assert torch.equal(a, b)


# --- sampling, saving and loading -------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(LATENTS))
def test_every_latent_kind_samples_finite_posteriors_of_the_right_shape(kind):
    inn = small_fit(epochs=1, latent=LATENTS[kind])
    samples = inn.sample([[0.5, 1.5], [1.0, 1.0], [0.0, 1.8]], 50, seed=0)
    assert samples.shape == (3, 50, 4)
    assert np.isfinite(samples).all()
    assert not inn.latent.training


def test_mixture_posterior_samples_are_exact_mixture_draws():
    inn = small_fit(epochs=1, latent=MIXTURE)
    y = torch.zeros(1, 2)
    z = inn.latent.sample(y, 4000, generator=torch.Generator().manual_seed(0), hard=True)[0]
    # Hard draws sit at a component mean plus N(0, 0.3^2) noise, never between the means.
    nearest = (z[:, None, :] - inn.latent.means[None]).norm(dim=2).min(dim=1).values
    assert float(nearest.max()) < 6 * 0.3 * 2**0.5


def test_save_and_load_round_trip_with_a_mixture_latent(tmp_path):
    inn = small_fit(latent=MIXTURE)
    path = tmp_path / "inn.sbinn"
    inn.save(path)
    _, state = load_estimator(path, BidirectionalINN.kind)
    assert {k for k in state if k.startswith("latent.")} == {
        "latent." + k for k in inn.latent.state_dict()
    }
    loaded = BidirectionalINN.load(path)
    assert loaded.config.latent == MIXTURE
    for key, value in inn.latent.state_dict().items():
        assert torch.equal(loaded.latent.state_dict()[key], value)
    x_obs = [[0.5, 1.5], [1.0, 1.0]]
    np.testing.assert_array_equal(loaded.sample(x_obs, 30, seed=2), inn.sample(x_obs, 30, seed=2))


def test_files_with_the_normal_latent_keep_the_earlier_format(tmp_path):
    inn = small_fit(epochs=1)
    path = tmp_path / "inn.sbinn"
    inn.save(path)
    _, state = load_estimator(path, BidirectionalINN.kind)
    # No latent tensors: the file is what the INN wrote before latents, and loads the same.
    assert set(state) == set(inn.network.state_dict())
    loaded = BidirectionalINN.load(path)
    np.testing.assert_array_equal(
        loaded.sample([[0.5, 1.5]], 20, seed=0), inn.sample([[0.5, 1.5]], 20, seed=0)
    )
