"""The bidirectional INN's optional latent likelihood term L_nll (``LossWeights.nll``)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from sbinn.diagnostics import calibration_error
from sbinn.function_simulator import FunctionSimulator
from sbinn.methods.inn import BidirectionalINN, LossWeights, TrainingConfig
from sbinn.methods.inn_loss import BidirectionalLoss
from sbinn.nn import InvertibleNetwork
from sbinn.priors import JointPrior, Normal

NLL_ONLY = LossWeights(y=0.0, z=0.0, x=0.0, pad=0.0, reconstruction=0.0, nll=1.0)


def _perturbed(dim: int) -> InvertibleNetwork:
    torch.manual_seed(0)
    net = InvertibleNetwork.coupling_stack(dim, 2, hidden_features=8)
    with torch.no_grad():
        for p in net.parameters():
            p.normal_(std=0.2)
    return net


def test_without_padding_the_term_is_the_change_of_variables_nll_of_z():
    net = _perturbed(3)
    loss = BidirectionalLoss(net, dim_theta=3, dim_y=1, dim_z=2, weights=NLL_ONLY)
    theta, y = torch.randn(50, 3), torch.randn(50, 1)
    _, components = loss((theta, y), progress=1.0)
    out, log_det = net(theta)
    gaussian = 0.5 * (out[:, 1:] ** 2).sum(1) + math.log(2 * math.pi)
    assert components["nll"] == pytest.approx((gaussian - log_det).mean().item(), rel=1e-5)
    assert set(components) == {"nll"}


def test_output_padding_is_charged_at_the_padding_width():
    net = _perturbed(4)
    loss = BidirectionalLoss(net, dim_theta=3, dim_y=1, dim_z=2, weights=NLL_ONLY, pad_noise=0.1)
    theta, y = torch.randn(50, 3), torch.randn(50, 1)
    torch.manual_seed(1)
    _, components = loss((theta, y), progress=1.0)
    torch.manual_seed(1)
    torch.randn(50, 1)  # the loss draws its y noise before the padding noise
    inputs = torch.cat([theta, 0.1 * torch.randn(50, 1)], dim=1)
    out, log_det = net(inputs)
    expected = (
        0.5 * (out[:, 1:3] ** 2).sum(1)
        + math.log(2 * math.pi)
        + 0.5 * (out[:, 3] / 0.1) ** 2
        - log_det
    ).mean()
    assert components["nll"] == pytest.approx(expected.item(), rel=1e-5)


def test_a_negative_weight_is_refused():
    with pytest.raises(ValueError, match="loss weight nll must be a finite number >= 0"):
        LossWeights(nll=-1.0)


def test_padding_without_width_is_refused():
    with pytest.raises(ValueError, match=r"pad_noise, which must then be > 0, got pad_noise=0\.0"):
        BidirectionalLoss(
            _perturbed(4), dim_theta=3, dim_y=1, dim_z=2, weights=NLL_ONLY, pad_noise=0.0
        )


def test_the_likelihood_term_in_place_of_the_latent_mmd_learns_a_calibrated_posterior():
    # theta ~ N(0, I_2), x = theta_1 + theta_2: theta_1 | x ~ N(x / 2, 1 / 2).
    prior = JointPrior({"theta": Normal(0.0, [1.0, 1.0])})
    sim = FunctionSimulator(lambda t: t.sum(axis=1, keepdims=True), prior)
    inn = BidirectionalINN(
        num_blocks=3, hidden_features=32, seed=0, weights=LossWeights(z=0.0, nll=1.0)
    )
    inn.fit(
        simulator=sim,
        num_simulations=8000,
        training=TrainingConfig(num_epochs=25, batch_size=250, learning_rate=2e-3, progress=False),
    )
    assert "nll" in inn.history.components[0] and "z" not in inn.history.components[0]
    theta_true, x_test = sim.sample_joint(300, seed=11)
    samples = inn.sample(x_test, 300, seed=0)
    assert np.abs(samples.sum(axis=2) - x_test).mean() < 0.1
    assert calibration_error(samples, theta_true).value < 0.05
    np.testing.assert_allclose(samples[..., 0].std(axis=1).mean(), np.sqrt(0.5), rtol=0.15)
