"""Export of posterior samples, observations and re-simulations to ArviZ."""

import arviz as az
import numpy as np
import pandas as pd
import pytest

from sbinn.function_simulator import FunctionSimulator
from sbinn.priors import JointPrior, Normal
from sbinn.report.arviz_export import to_inference_data
from sbinn.simulator import SimulationError, SimulationFailureWarning
from tests.report.support import doubling_simulator


@pytest.fixture
def samples():
    return np.random.default_rng(0).normal(size=(3, 40, 2))


def test_observations_are_a_dimension_of_every_parameter(samples):
    idata = to_inference_data(samples, parameter_names=["mu", "sigma"])
    assert idata.groups() == ["posterior"]
    assert idata.posterior["mu"].dims == ("chain", "draw", "observation")
    assert dict(idata.posterior.sizes) == {"chain": 1, "draw": 40, "observation": 3}
    assert np.array_equal(idata.posterior["sigma"].values[0], samples[:, :, 1].T)
    assert idata.posterior.attrs["inference_library"] == "sbinn"


def test_summary_has_one_row_per_parameter_and_observation(samples):
    summary = az.summary(to_inference_data(samples, parameter_names=["mu", "sigma"]))
    assert isinstance(summary, pd.DataFrame)
    assert list(summary.index) == ["mu[0]", "mu[1]", "mu[2]", "sigma[0]", "sigma[1]", "sigma[2]"]
    assert np.allclose(summary["mean"].to_numpy(), samples.mean(axis=1).T.ravel(), atol=1e-3)
    assert summary["r_hat"].isna().all()  # one chain: r_hat is undefined


def test_one_observation_given_as_2d_has_no_observation_dimension(samples):
    idata = to_inference_data(samples[1], x_obs=[0.5, 1.0], simulator=doubling_simulator())
    assert idata.posterior["p0"].dims == ("chain", "draw")
    assert list(az.summary(idata, kind="stats").index) == ["p0", "p1"]
    assert idata.observed_data["x"].dims == ("x_dim_0",)
    assert idata.posterior_predictive["x"].shape == (1, 40, 2)
    assert np.allclose(idata.posterior_predictive["x"].values[0], 2 * samples[1])


def test_plot_posterior_draws_one_panel_per_parameter_and_observation(samples):
    axes = az.plot_posterior(to_inference_data(samples))
    assert np.size(axes) == 6
    assert {ax.get_title() for ax in np.ravel(axes)} >= {"theta_1\n0", "theta_2\n2"}


def test_all_groups_with_simulator_names_and_predictive_draws(samples):
    simulator = doubling_simulator()
    x_obs = np.arange(6.0).reshape(3, 2)
    prior = np.random.default_rng(1).normal(size=(25, 2))
    idata = to_inference_data(
        samples, x_obs=x_obs, simulator=simulator, prior_samples=prior, num_predictive=10
    )
    assert sorted(idata.groups()) == [
        "observed_data",
        "posterior",
        "posterior_predictive",
        "prior",
    ]
    assert list(idata.posterior.data_vars) == ["p0", "p1"]
    assert idata.observed_data["x"].dims == ("observation", "x_dim_0")
    assert list(idata.observed_data["x_dim_0"].values) == ["y0", "y1"]
    assert np.array_equal(idata.observed_data["x"].values, x_obs)
    predictive = idata.posterior_predictive["x"]
    assert predictive.dims == ("chain", "draw", "observation", "x_dim_0")
    assert predictive.shape == (1, 10, 3, 2)
    # Draw d of observation i is the simulation of posterior draw d of observation i.
    assert np.allclose(predictive.values[0], 2 * np.moveaxis(samples[:, :10], 0, 1))
    assert idata.posterior_predictive.attrs["num_failed_simulations"] == 0
    assert idata.prior["p1"].shape == (1, 25)
    assert np.size(az.plot_ppc(idata, num_pp_samples=5)) == 1


def test_failed_simulations_are_nan_counted_and_warned(samples):
    simulator = doubling_simulator(fail_above=1.0)
    num_failed = int((samples[:, :, 0] > 1.0).sum())
    with pytest.warns(SimulationFailureWarning, match=f"{num_failed} of 120"):
        idata = to_inference_data(samples, simulator=simulator)
    predictive = idata.posterior_predictive["x"].values[0]
    failed = np.isnan(predictive).all(axis=-1)
    assert failed.sum() == num_failed == idata.posterior_predictive.attrs["num_failed_simulations"]
    assert np.array_equal(failed, (samples[:, :, 0] > 1.0).T)
    with pytest.raises(SimulationError, match="all 120"):
        to_inference_data(samples, simulator=doubling_simulator(fail_above=-10.0))


def test_precomputed_predictive_and_non_flat_observations():
    prior = JointPrior({"a": Normal(0.0, 1.0)})
    simulator = FunctionSimulator(
        lambda t: np.repeat(t[:, :, None], 6, axis=2).reshape(-1, 2, 3), prior
    )
    rng = np.random.default_rng(2)
    samples = rng.normal(size=(4, 15, 1))
    predictive = simulator.simulate(samples.reshape(-1, 1)).reshape(4, 15, 2, 3)
    x_obs = rng.normal(size=(4, 6))  # flat observations of simulator shape (2, 3) are reshaped
    by_simulator = to_inference_data(samples, x_obs=x_obs, simulator=simulator)
    precomputed = to_inference_data(
        samples, x_obs=x_obs.reshape(4, 2, 3), posterior_predictive=predictive
    )
    for idata in (by_simulator, precomputed):
        assert idata.posterior_predictive["x"].dims == (
            "chain",
            "draw",
            "observation",
            "x_dim_0",
            "x_dim_1",
        )
        assert idata.observed_data["x"].shape == (4, 2, 3)
    assert np.array_equal(
        by_simulator.posterior_predictive["x"].values, precomputed.posterior_predictive["x"].values
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"x_obs": np.zeros((2, 2))}, ValueError, "n_obs = 3"),
        ({"x_obs": np.full((3, 2), np.nan)}, ValueError, "x_obs must be finite"),
        ({"parameter_names": ["a"]}, ValueError, "parameter_names must have 2"),
        ({"x_obs": np.zeros((3, 2)), "observation_names": ["u"]}, ValueError, "observation_names"),
        ({"observation_names": ["u", "v"]}, ValueError, "neither was given"),
        ({"prior_samples": np.zeros((5, 3))}, ValueError, "prior_samples"),
        ({"simulator": "f"}, TypeError, "Simulator"),
        ({"simulator": doubling_simulator(3)}, ValueError, "takes 3 parameters"),
        (
            {"simulator": doubling_simulator(), "posterior_predictive": np.zeros((3, 4, 2))},
            ValueError,
            "not both",
        ),
        ({"posterior_predictive": np.zeros((3, 4))}, ValueError, "posterior_predictive"),
        (
            {"posterior_predictive": np.zeros((3, 4, 2)), "x_obs": np.zeros((3, 5))},
            ValueError,
            "shape",
        ),
        ({"num_predictive": 0}, ValueError, "num_predictive"),
    ],
)
def test_bad_arguments_are_rejected(samples, kwargs, error, match):
    with pytest.raises(error, match=match):
        to_inference_data(samples, **kwargs)


@pytest.mark.parametrize("shape", [(40,), (2, 3, 40, 2)])
def test_samples_of_the_wrong_rank_are_rejected(shape):
    with pytest.raises(ValueError, match=r"\(num_samples, dim_theta\)"):
        to_inference_data(np.zeros(shape))
