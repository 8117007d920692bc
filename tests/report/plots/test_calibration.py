"""Calibration curves α_inl − α with bootstrap bands."""

import numpy as np
import pytest
from matplotlib.collections import PolyCollection

from sbinn.diagnostics import calibration_curve
from sbinn.report.plots import plot_calibration_curves
from tests.report.support import gaussian_posteriors

ALPHAS = np.linspace(0.05, 0.95, 19)


def bands(ax):
    return [c for c in ax.collections if isinstance(c, PolyCollection)]


def test_one_panel_per_parameter_with_the_diagnostics_curve():
    theta, _, samples = gaussian_posteriors(dim=3)
    fig = plot_calibration_curves(samples, theta, alphas=ALPHAS, parameter_names=["a", "b", "c"])
    assert len(fig.axes) == 3
    assert [ax.get_title() for ax in fig.axes] == ["a", "b", "c"]
    _, expected = calibration_curve(samples, theta, alphas=ALPHAS)
    for k, ax in enumerate(fig.axes):
        lines = ax.get_lines()
        assert len(lines) == 2  # zero line and the curve
        assert np.allclose(lines[1].get_xdata(), ALPHAS)
        assert np.allclose(lines[1].get_ydata(), expected[:, k])
        assert len(bands(ax)) == 1
    assert not fig.legends  # one method: nothing to tell apart


def test_band_brackets_the_curve_and_can_be_switched_off():
    theta, _, samples = gaussian_posteriors(num_obs=100, dim=1, scale=0.5)
    fig = plot_calibration_curves(samples, theta, alphas=ALPHAS, num_resamples=100)
    ax = fig.axes[0]
    curve = ax.get_lines()[1].get_ydata()
    assert np.mean(curve) < -0.1  # over-confident posterior: below zero
    band = bands(ax)[0].get_paths()[0].vertices
    for alpha, value in zip(ALPHAS, curve, strict=True):
        at = band[np.isclose(band[:, 0], alpha), 1]
        assert at.min() - 1e-12 <= value <= at.max() + 1e-12
        assert at.max() - at.min() > 0
    fig = plot_calibration_curves(samples, theta, alphas=ALPHAS, num_resamples=None)
    assert bands(fig.axes[0]) == []


def test_several_methods_get_a_curve_and_a_legend_entry_each():
    theta, _, exact = gaussian_posteriors(dim=2)
    _, _, narrow = gaussian_posteriors(dim=2, scale=0.3, num_samples=30)
    fig = plot_calibration_curves({"exact": exact, "narrow": narrow}, theta, alphas=ALPHAS)
    for ax in fig.axes:
        assert len(ax.get_lines()) == 3
        assert len(bands(ax)) == 2
        assert ax.get_lines()[2].get_ydata().mean() < ax.get_lines()[1].get_ydata().mean()
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["exact", "narrow"]


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"theta_true": np.zeros((59, 2))}, ValueError, r"one row per observation"),
        ({"parameter_names": ["a"]}, ValueError, "parameter_names must have 2"),
        ({"alphas": [0.5, 1.0]}, ValueError, "alphas"),
        ({"confidence": 1.0}, ValueError, "confidence"),
        ({"num_resamples": 0}, ValueError, "num_resamples"),
        ({"ncols": -1}, ValueError, "ncols"),
    ],
)
def test_bad_arguments_are_rejected(change, error, match):
    theta, _, samples = gaussian_posteriors()
    kwargs = {"theta_true": theta} | change
    with pytest.raises(error, match=match):
        plot_calibration_curves(samples, **kwargs)


def test_nan_samples_are_rejected():
    theta, _, samples = gaussian_posteriors()
    samples[5, 0, 1] = np.nan
    with pytest.raises(ValueError, match="finite"):
        plot_calibration_curves({"m": samples}, theta)
