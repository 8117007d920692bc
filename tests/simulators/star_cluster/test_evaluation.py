import matplotlib
import numpy as np
import pytest

from simulators.star_cluster import StarClusterSimulator
from simulators.star_cluster.evaluation import (
    bimodality_coefficient,
    plot_star_cluster_posteriors,
)

matplotlib.use("Agg")


def test_bimodality_coefficient_separates_one_from_two_modes():
    rng = np.random.default_rng(1)
    normal = rng.normal(size=(1, 5000, 1))
    uniform = rng.uniform(size=(1, 5000, 1))
    two_modes = np.where(rng.uniform(size=(1, 5000, 1)) < 0.5, -3.0, 3.0) + normal
    b = bimodality_coefficient(np.concatenate([normal, uniform, two_modes]))[:, 0]
    assert b[0] == pytest.approx(1 / 3, abs=0.03)
    assert b[1] == pytest.approx(5 / 9, abs=0.03)
    # Sarle's threshold for "more than one mode" is the uniform's 5/9.
    assert b[2] > 5 / 9


def test_bimodality_coefficient_names_bad_shapes_and_is_nan_for_constants():
    with pytest.raises(ValueError, match=r"num_samples >= 4, dim\), got \(2, 3\)"):
        bimodality_coefficient(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"got \(1, 3, 1\)"):
        bimodality_coefficient(np.zeros((1, 3, 1)))
    assert np.isnan(bimodality_coefficient(np.ones((1, 10, 1)))).all()


def test_figure_shows_the_most_bimodal_age_posterior(tmp_path):
    sim = StarClusterSimulator()
    theta = sim.prior.sample(3, np.random.default_rng(0))
    rng = np.random.default_rng(2)
    samples = np.repeat(theta[:, None, :], 400, axis=1) * rng.uniform(0.95, 1.05, (3, 400, 6))
    age = sim.parameter_names.index("age")
    # Observation 1 gets two age solutions, 1 and 8 Myr.
    samples[1, :, age] = np.where(rng.uniform(size=400) < 0.5, 1.0, 8.0) + rng.normal(0, 0.2, 400)
    path = tmp_path / "corner.png"
    shown = plot_star_cluster_posteriors(
        sim, np.zeros((3, 10)), {"abc": samples, "cinn": samples}, path, theta_true=theta
    )
    assert shown == 1
    assert path.stat().st_size > 10_000


def test_figure_needs_methods_and_a_known_reference(tmp_path):
    sim = StarClusterSimulator()
    theta = sim.prior.sample(2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="at least one method"):
        plot_star_cluster_posteriors(
            sim, np.zeros((2, 10)), {}, tmp_path / "a.png", theta_true=theta
        )
    with pytest.raises(ValueError, match=r"reference must be one of \['abc'\], got 'inn'"):
        plot_star_cluster_posteriors(
            sim,
            np.zeros((2, 10)),
            {"abc": np.ones((2, 8, 6))},
            tmp_path / "a.png",
            theta_true=theta,
            reference="inn",
        )
