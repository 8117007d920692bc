"""The invertibility checks at the end of fit: recorded, optional, and loud when they fail."""

from __future__ import annotations

import warnings

import pytest
import torch

from sbinn.methods._stability_check import StabilityWarning, check_after_training
from sbinn.methods.cinn import CINN
from sbinn.methods.inn import BidirectionalINN
from sbinn.train import TrainingConfig
from simulators.kinematics import KinematicsSimulator

QUICK = TrainingConfig(num_epochs=1, progress=False)


def trained(kind, **fit):
    sim = KinematicsSimulator()
    estimator = (
        CINN(num_blocks=2, hidden_features=16, seed=0)
        if kind == "cinn"
        else BidirectionalINN(num_blocks=2, hidden_features=16, seed=0)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", StabilityWarning)
        return estimator.fit(simulator=sim, num_simulations=600, training=QUICK, **fit)


@pytest.mark.parametrize("kind", ["cinn", "inn"])
def test_fit_records_the_checks(kind):
    stability = trained(kind).stability
    assert stability["checked"] is True
    assert stability["observations"] == "the last training observations"
    assert stability["training"]["round_trip_x"]["non_finite_fraction"] == 0.0
    assert stability["reliability"]["flagged_fraction"] == 0.0


@pytest.mark.parametrize("kind", ["cinn", "inn"])
def test_checks_can_be_switched_off(kind):
    assert trained(kind, check_stability=False).stability == {
        "checked": False,
        "reason": "check_stability=False",
    }


def test_a_network_with_non_finite_outputs_warns_and_says_what_failed():
    cinn = trained("cinn")
    sim = KinematicsSimulator()
    theta, x = sim.sample_joint(300, seed=3)
    with torch.no_grad():
        for parameter in cinn.model.flow.parameters():
            parameter.fill_(float("nan"))
    with pytest.warns(StabilityWarning, match="failed its invertibility checks after training"):
        result = check_after_training(cinn, theta, x, seed=0)
    assert result["checked"] is False and "could not run" in result["reason"]


def test_too_few_pairs_are_not_checked():
    cinn = trained("cinn")
    theta, x = KinematicsSimulator().sample_joint(50, seed=3)
    assert check_after_training(cinn, theta, x) == {
        "checked": False,
        "reason": "only 50 training pairs",
    }


def test_each_failed_check_is_named():
    from sbinn.methods._stability_check import _problems

    summary = {
        "training": {
            "non_finite_forward_fraction": 0.25,
            "round_trip_z": {"non_finite_fraction": 0.0},
        },
        "samples": {"round_trip_z": {"non_finite_fraction": 0.5}},
        "reliability": {"flagged_fraction": 0.125},
    }
    assert _problems(summary) == [
        "25.0% of training points map to inf/NaN",
        "50.0% of sample round trips are not finite",
        "12.5% of checked observations are flagged unreliable",
    ]
