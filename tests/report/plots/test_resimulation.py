"""Histograms of re-simulation errors."""

import numpy as np
import pytest

from sbinn.diagnostics import resimulation_distances
from sbinn.function_simulator import FunctionSimulator
from sbinn.report.plots import plot_resimulation_errors
from sbinn.simulator import SimulationError, as_generator
from tests.report.support import doubling_simulator


@pytest.fixture
def setup():
    rng = np.random.default_rng(0)
    theta = rng.normal(size=(10, 2))
    x = 2 * theta
    close = theta[:, None] + 0.05 * rng.normal(size=(10, 30, 2))
    far = theta[:, None] + rng.normal(size=(10, 20, 2))
    return x, close, far


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_one_histogram_and_median_line_per_method(setup):
    x, close, far = setup
    simulator = doubling_simulator()
    fig = plot_resimulation_errors({"close": close, "far": far}, x, simulator, bins=15)
    (ax,) = fig.axes
    medians = [np.median(resimulation_distances(s, x, simulator)) for s in (close, far)]
    assert legend_texts(ax) == [
        f"close (median {medians[0]:.2g})",
        f"far (median {medians[1]:.2g})",
    ]
    assert len(ax.patches) == 2
    dashed = [line.get_xdata()[0] for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert dashed == pytest.approx(medians)
    for patch in ax.patches:  # normalised to unit area on the shared bins
        xy = patch.get_xy()
        tops, edges = xy[1:-1:2, 1], np.unique(xy[:, 0])
        assert np.sum(tops * np.diff(edges)) == pytest.approx(1.0)


def test_noise_streams_follow_the_seed(setup):
    x, close, _ = setup
    prior = doubling_simulator().prior
    noisy = FunctionSimulator(lambda t, rng: 2 * t + rng.normal(size=t.shape), prior)
    fig = plot_resimulation_errors(close, x, noisy, seed=7)
    (stream,) = as_generator(7).spawn(1)
    expected = np.median(resimulation_distances(close, x, noisy, seed=stream))
    assert legend_texts(fig.axes[0]) == [f"median {expected:.2g}"]
    again = plot_resimulation_errors(close, x, noisy, seed=7)
    assert legend_texts(again.axes[0]) == legend_texts(fig.axes[0])


def test_failures_are_counted_in_the_legend_and_all_failing_raises(setup):
    x, close, _ = setup
    failing = doubling_simulator(fail_above=1.0)
    num_failed = int((close[:, :, 0] > 1.0).sum())
    assert num_failed > 0
    fig = plot_resimulation_errors(close, x, failing)
    assert legend_texts(fig.axes[0])[0].endswith(f", {num_failed} failed")
    with pytest.raises(SimulationError, match=r"'m' failed"):
        plot_resimulation_errors({"m": close}, x, doubling_simulator(fail_above=-10.0))


def test_log_scale_bins_span_the_errors(setup):
    x, close, far = setup
    fig = plot_resimulation_errors(
        {"close": close, "far": far}, x, doubling_simulator(), log_scale=True
    )
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    pooled = np.concatenate(
        [resimulation_distances(s, x, doubling_simulator()).ravel() for s in (close, far)]
    )
    low, high = ax.patches[0].get_xy()[:, 0].min(), ax.patches[0].get_xy()[:, 0].max()
    assert low == pytest.approx(pooled.min()) and high == pytest.approx(pooled.max())


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"bins": 0}, ValueError, "bins"),
        ({"x_obs": np.zeros((9, 2))}, ValueError, "x_obs"),
        ({"simulator": object()}, TypeError, "Simulator"),
        ({"samples": np.zeros((10, 5, 3))}, ValueError, "dim_theta=2"),
    ],
)
def test_bad_arguments_are_rejected(setup, kwargs, error, match):
    x, close, _ = setup
    arguments = {"samples": close, "x_obs": x, "simulator": doubling_simulator()} | kwargs
    with pytest.raises(error, match=match):
        plot_resimulation_errors(**arguments)
