"""Re-simulated backward samples in the INN's supervised loss: wiring, budget and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sbinn.data import Standardizer
from sbinn.function_simulator import FunctionSimulator
from sbinn.methods.inn import BidirectionalINN, INNConfig, TrainingConfig
from sbinn.methods.inn_loss import BidirectionalLoss, LossWeights
from sbinn.methods.inn_resimulation import BackwardResimulator
from sbinn.nn import InvertibleNetwork
from sbinn.priors import JointPrior, Normal, Uniform
from simulators.kinematics import KinematicsSimulator

QUICK = TrainingConfig(num_epochs=1, batch_size=100, progress=False)
UNIT = Standardizer(np.zeros(2), np.ones(2))


def test_training_spends_and_counts_the_resimulations():
    inn = BidirectionalINN(num_blocks=2, hidden_features=16, resimulations_per_step=7, seed=0)
    training = TrainingConfig(num_epochs=3, batch_size=100, progress=False)
    inn.fit(simulator=KinematicsSimulator(), num_simulations=1000, training=training)
    # 3 epochs of 900 training pairs at batch 100; validation must not simulate, and
    # samples far outside the training data are not simulated either.
    assert 1000 + 7 * 3 * 9 * 0.9 <= inn.num_simulations <= 1000 + 7 * 3 * 9
    assert all("resimulation" in terms for terms in inn.history.components)


def test_without_resimulation_the_budget_is_the_training_set():
    inn = BidirectionalINN(num_blocks=2, hidden_features=16, seed=0)
    inn.fit(simulator=KinematicsSimulator(), num_simulations=1000, training=QUICK)
    assert inn.num_simulations == 1000
    assert all("resimulation" not in terms for terms in inn.history.components)


def test_the_term_is_the_forward_models_squared_error_at_detached_backward_samples():
    torch.manual_seed(0)
    network = InvertibleNetwork.coupling_stack(2, 2, hidden_features=16, seed=0)
    asked = []

    def resimulate(theta):
        asked.append(theta)
        return 3.0 * theta[:, :1], torch.ones(len(theta), dtype=torch.bool)

    loss = BidirectionalLoss(
        network,
        dim_theta=2,
        dim_y=1,
        dim_z=1,
        weights=LossWeights.only("y"),
        resimulate=resimulate,
        resimulations_per_step=5,
    )
    batch = (torch.randn(20, 2), torch.randn(20, 1))
    total, terms = loss(batch, progress=1.0)
    (proposals,) = asked
    assert proposals.shape == (5, 2) and not proposals.requires_grad
    with torch.no_grad():
        predicted = network(proposals)[0][:, :1]
    by_hand = ((predicted - 3.0 * proposals[:, :1]) ** 2).sum(dim=1).mean()
    assert terms["resimulation"] == pytest.approx(by_hand.item(), rel=1e-5)
    assert total.item() == pytest.approx(50.0 * (terms["y"] + terms["resimulation"]), rel=1e-5)
    with torch.no_grad():
        _, validation_terms = loss(batch, progress=1.0)
    assert "resimulation" not in validation_terms and len(asked) == 1


def test_rows_outside_the_prior_or_failed_by_the_simulator_are_unanswered():
    def simulate(theta):
        x = np.column_stack([theta[:, 0], theta[:, 1]])
        x[theta[:, 0] > 0.5] = np.nan
        return x

    prior = JointPrior({"a": Uniform(0.0, 1.0), "b": Normal(0.0, 1.0)})
    resimulate = BackwardResimulator(FunctionSimulator(simulate, prior), UNIT, UNIT, None, 0)
    theta = torch.tensor([[0.2, 0.0], [0.8, 1.0], [1.5, 0.0], [float("nan"), 0.0]])
    x, answered = resimulate(theta)
    assert answered.tolist() == [True, False, False, False]
    assert torch.isfinite(x).all()
    np.testing.assert_allclose(x[0].numpy(), [0.2, 0.0], atol=1e-7)
    assert resimulate.count == 2  # the NaN answer still cost a simulation


def test_resimulation_needs_the_simulator_itself():
    sim = KinematicsSimulator()
    theta, x = sim.sample_joint(200, seed=0)
    inn = BidirectionalINN(num_blocks=2, hidden_features=8, resimulations_per_step=4)
    with pytest.raises(ValueError, match=r"needs fit\(simulator=\.\.\.\)"):
        inn.fit(theta, x, training=QUICK)


def test_resimulation_refuses_latent_noise():
    inn = BidirectionalINN(
        num_blocks=2, hidden_features=8, resimulations_per_step=4, latent_noise=True
    )
    with pytest.raises(ValueError, match="latent_noise=False"):
        inn.fit(simulator=KinematicsSimulator(), num_simulations=200, training=QUICK)


@pytest.mark.parametrize("bad", [-1, 2.5, True, "3"])
def test_resimulations_per_step_must_be_a_non_negative_int(bad):
    with pytest.raises(ValueError, match="resimulations_per_step must be an int >= 0"):
        INNConfig(resimulations_per_step=bad)
