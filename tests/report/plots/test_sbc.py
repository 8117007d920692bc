"""SBC rank histograms and ECDF differences with their bands."""

import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.patches import Polygon

from sbinn.diagnostics.sbc import sbc_ecdf_band
from sbinn.report.plots import plot_sbc
from sbinn.simulator import as_generator
from tests.report.support import gaussian_posteriors


def histogram_counts(ax):
    """Bar heights of the step histograms, one array per method."""
    counts = []
    for patch in ax.patches:
        if isinstance(patch, Polygon):
            y = patch.get_xy()[:, 1]
            counts.append(y[1:-1:2])  # a step outline visits each bar's top twice
    return counts


def ecdf_curves(ax):
    return [line for line in ax.get_lines() if len(line.get_xdata()) > 2]


def test_both_kinds_stack_a_histogram_over_an_ecdf_per_parameter():
    theta, _, samples = gaussian_posteriors(num_obs=80, dim=3)
    fig = plot_sbc(samples, theta, parameter_names=["a", "b", "c"], num_bins=8)
    assert len(fig.axes) == 6
    histograms = [ax for ax in fig.axes if ax.get_xlabel() == "fractional rank"]
    ecdfs = [ax for ax in fig.axes if ax.get_xlabel() == "z"]
    assert [ax.get_title() for ax in histograms] == ["a", "b", "c"]
    for ax in histograms:
        (counts,) = histogram_counts(ax)
        assert counts.size == 8 and counts.sum() == 80
    _, band_stream = as_generator(0).spawn(2)
    z, lower, upper = sbc_ecdf_band(80, confidence=0.95, seed=band_stream)
    for ax in ecdfs:
        (curve,) = ecdf_curves(ax)
        assert np.allclose(curve.get_xdata(), z)
        assert curve.get_ydata()[-1] == pytest.approx(0.0)  # F(1) − 1
        (band,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
        outline = band.get_paths()[0].vertices[:, 1]
        assert outline.max() == pytest.approx(upper.max())
        assert outline.min() == pytest.approx(lower.min())


@pytest.mark.parametrize(("kind", "label"), [("histogram", "fractional rank"), ("ecdf", "z")])
def test_single_kinds_draw_one_panel_per_parameter(kind, label):
    theta, _, samples = gaussian_posteriors(num_obs=40, dim=2)
    fig = plot_sbc(samples, theta, kind=kind)
    assert [ax.get_xlabel() for ax in fig.axes] == [label, label]


def test_over_confident_posterior_gives_a_u_shape_and_leaves_the_band():
    theta, _, samples = gaussian_posteriors(num_obs=200, dim=1, scale=0.3)
    fig = plot_sbc(samples, theta, num_bins=10)
    histogram, ecdf = fig.axes
    (counts,) = histogram_counts(histogram)
    assert counts[0] + counts[-1] > 3 * (counts[4] + counts[5])
    (curve,) = ecdf_curves(ecdf)
    band = ecdf.collections[0].get_paths()[0].vertices
    assert curve.get_ydata().max() > band[:, 1].max()


def test_calibrated_posterior_stays_in_the_ecdf_band():
    theta, _, samples = gaussian_posteriors(num_obs=200, dim=1, seed=5)
    fig = plot_sbc(samples, theta, kind="ecdf")
    (curve,) = ecdf_curves(fig.axes[0])
    band = fig.axes[0].collections[0].get_paths()[0].vertices
    assert band[:, 1].min() < curve.get_ydata().min()
    assert curve.get_ydata().max() < band[:, 1].max()


def test_several_methods_are_overlaid_with_a_legend():
    theta, _, exact = gaussian_posteriors(num_obs=50, dim=2)
    _, _, narrow = gaussian_posteriors(num_obs=50, dim=2, scale=0.3, num_samples=20)
    fig = plot_sbc({"exact": exact, "narrow": narrow}, theta)
    assert len(fig.axes) == 4
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["exact", "narrow"]
    histogram = fig.axes[0]
    assert [c.sum() for c in histogram_counts(histogram)] == [50, 50]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"kind": "violin"}, ValueError, "kind must be one of"),
        ({"num_bins": 0}, ValueError, "num_bins"),
        ({"confidence": 0.0}, ValueError, "confidence"),
        ({"parameter_names": ["a"]}, ValueError, "parameter_names"),
        ({"theta_true": np.zeros((3, 2))}, ValueError, "one row per observation"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, error, match):
    theta, _, samples = gaussian_posteriors(num_obs=20)
    with pytest.raises(error, match=match):
        plot_sbc(samples, **({"theta_true": theta} | kwargs))


def test_parameters_wrap_into_rows_of_ncols():
    theta, _, samples = gaussian_posteriors(num_obs=20, dim=3)
    fig = plot_sbc(samples, theta, ncols=2)
    assert len(fig.axes) == 6
    with pytest.raises(ValueError, match="ncols"):
        plot_sbc(samples, theta, ncols=0)
