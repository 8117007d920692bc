"""Corner plots of one observation's posterior, and several methods overlaid."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from sbinn.report.plots import plot_corner, plot_posterior_overlay


def step_patches(ax):
    return [p for p in ax.patches if hasattr(p, "get_xy")]


def vertical_lines(ax):
    return [line.get_xdata()[0] for line in ax.get_lines() if np.ptp(line.get_xdata()) == 0]


@pytest.fixture
def samples():
    rng = np.random.default_rng(0)
    # Observation 1 sits far from observation 0, so the plotted one can be told apart.
    return rng.normal(size=(2, 300, 3)) + np.array([0.0, 5.0])[:, None, None]


def test_corner_draws_the_chosen_observation_with_truth_and_prior(samples):
    truth = np.array([[0.0, 0.1, 0.2], [5.1, 4.9, 5.2]])
    prior = np.random.default_rng(1).uniform(-10, 10, size=(1000, 3))
    fig = plot_corner(
        samples, truth, observation=1, prior_samples=prior, parameter_names=["a", "b", "c"]
    )
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 9
    for k in range(3):
        diagonal = fig.axes[4 * k]
        assert len(step_patches(diagonal)) == 2  # prior and posterior
        assert vertical_lines(diagonal) == pytest.approx([truth[1, k]])
        low, high = diagonal.get_xlim()
        assert low <= -9.9 and high >= 9.9  # the prior's range is shown
        tallest = max(p.get_xy()[:, 1].max() for p in step_patches(diagonal))
        assert diagonal.get_ylim()[1] >= tallest
    assert [fig.axes[6 + k].get_xlabel() for k in range(3)] == ["a", "b", "c"]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "posterior",
        "prior",
        "true value",
    ]


def test_corner_of_one_observation_given_as_2d(samples):
    fig = plot_corner(samples[1])
    assert len(fig.axes) == 9
    low, high = fig.axes[0].get_xlim()
    assert low < 5.0 < high and low > 0.0  # observation 1, not 0


def test_corner_with_one_parameter_draws_its_truth():
    fig = plot_corner(np.random.default_rng(0).normal(size=(200, 1)), [0.3])
    assert len(fig.axes) == 1
    assert vertical_lines(fig.axes[0]) == pytest.approx([0.3])


def test_corner_of_a_constant_parameter_still_has_a_range():
    samples = np.random.default_rng(0).normal(size=(100, 2))
    samples[:, 1] = 2.0
    fig = plot_corner(samples)
    low, high = fig.axes[3].get_xlim()
    assert low < 2.0 < high


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"observation": 2}, ValueError, "observation"),
        ({"parameter_names": ["a", "b"]}, ValueError, "parameter_names must have 3"),
        ({"prior_samples": np.zeros((50, 2))}, ValueError, "prior_samples"),
        ({"prior_samples": np.zeros((2, 3))}, ValueError, "more samples than parameters"),
        ({"bins": 0}, ValueError, "bins"),
    ],
)
def test_corner_rejects_bad_arguments(samples, kwargs, error, match):
    with pytest.raises(error, match=match):
        plot_corner(samples, **kwargs)


def test_corner_rejects_nan_samples_and_too_few_samples(samples):
    samples[0, 3, 1] = np.nan
    with pytest.raises(ValueError, match="finite"):
        plot_corner(samples)
    with pytest.raises(ValueError, match="more samples than parameters"):
        plot_corner(np.zeros((3, 3)))


@pytest.fixture
def methods():
    rng = np.random.default_rng(2)
    return {"cINN": rng.normal(size=(200, 3)), "ABC": rng.normal(1.0, 2.0, size=(50, 3))}


def test_marginal_overlay_has_one_histogram_per_method_and_the_truth(methods):
    fig = plot_posterior_overlay(methods, [0.0, 0.5, 1.0], parameter_names=["a", "b", "c"])
    assert len(fig.axes) == 3
    for k, ax in enumerate(fig.axes):
        assert len(step_patches(ax)) == 2
        assert vertical_lines(ax) == pytest.approx([[0.0, 0.5, 1.0][k]])
        assert ax.get_xlabel() == "abc"[k]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["cINN", "ABC", "true value"]


def test_corner_overlay_draws_each_method_on_the_diagonal(methods):
    fig = plot_posterior_overlay(methods, None, kind="corner")
    assert len(fig.axes) == 9
    assert all(len(step_patches(fig.axes[4 * k])) == 2 for k in range(3))
    assert [fig.axes[6 + k].get_xlabel() for k in range(3)] == ["theta_1", "theta_2", "theta_3"]


def test_overlay_takes_the_observation_from_3d_samples():
    rng = np.random.default_rng(3)
    samples = {"m": rng.normal(size=(2, 100, 1)) + np.array([0.0, 8.0])[:, None, None]}
    fig = plot_posterior_overlay(samples, np.array([[0.0], [8.0]]), observation=1)
    assert vertical_lines(fig.axes[0]) == pytest.approx([8.0])
    assert fig.axes[0].get_xlim()[0] > 3.0


@pytest.mark.parametrize(
    ("methods", "kwargs", "error", "match"),
    [
        (np.zeros((10, 2)), {}, TypeError, "mapping"),
        ({}, {}, TypeError, "mapping"),
        ({"a": np.zeros((10, 2)), "b": np.zeros((10, 3))}, {}, ValueError, "same dim_theta"),
        ({"a": np.zeros((10, 2))}, {"kind": "violin"}, ValueError, "kind must be one of"),
        ({"a": np.zeros((10, 2))}, {"parameter_names": ["x"]}, ValueError, "parameter_names"),
        ({"a": np.zeros((2, 2))}, {"kind": "corner"}, ValueError, "more samples"),
    ],
)
def test_overlay_rejects_bad_arguments(methods, kwargs, error, match):
    with pytest.raises(error, match=match):
        plot_posterior_overlay(methods, **kwargs)


def test_corner_fits_each_histogram_axis_to_its_tallest_layer():
    rng = np.random.default_rng(4)
    # A prior narrower than the posterior: corner alone would fit the y-axis to the posterior.
    fig = plot_corner(rng.normal(size=(400, 2)), prior_samples=0.1 * rng.normal(size=(400, 2)))
    for diagonal in (fig.axes[0], fig.axes[3]):
        tallest = max(p.get_xy()[:, 1].max() for p in step_patches(diagonal))
        assert diagonal.get_ylim()[1] >= tallest
