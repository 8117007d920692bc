"""Recovery plots: posterior estimate against the true value."""

import numpy as np
import pytest

from sbinn.report.plots import plot_recovery
from tests.report.support import gaussian_posteriors


def test_std_bars_around_the_posterior_mean():
    theta, _, samples = gaussian_posteriors(num_obs=20, dim=2)
    fig = plot_recovery(samples, theta, parameter_names=["m", "b"])
    assert len(fig.axes) == 2
    for k, ax in enumerate(fig.axes):
        (container,) = ax.containers
        points, _, (bars,) = container.lines
        assert np.allclose(points.get_xdata(), theta[:, k])
        assert np.allclose(points.get_ydata(), samples[:, :, k].mean(axis=1))
        segments = np.array(bars.get_segments())
        half_widths = (segments[:, 1, 1] - segments[:, 0, 1]) / 2
        assert np.allclose(half_widths, samples[:, :, k].std(axis=1))
        assert ax.get_xlabel() == f"true {'mb'[k]}"
    assert fig.axes[0].get_ylabel() == "posterior mean"


def test_interval_bars_around_the_posterior_median():
    theta, _, samples = gaussian_posteriors(num_obs=10, dim=1)
    samples = np.exp(samples)  # skewed: the mean is not the median
    fig = plot_recovery(samples, theta, error_bars="interval", level=0.5)
    points, _, (bars,) = fig.axes[0].containers[0].lines
    assert np.allclose(points.get_ydata(), np.median(samples[:, :, 0], axis=1))
    segments = np.array(bars.get_segments())
    quartiles = np.quantile(samples[:, :, 0], [0.25, 0.75], axis=1)
    assert np.allclose(segments[:, 0, 1], quartiles[0])
    assert np.allclose(segments[:, 1, 1], quartiles[1])
    assert fig.axes[0].get_ylabel() == "posterior median"


def test_several_methods_share_the_panels_with_a_legend():
    theta, _, a = gaussian_posteriors(num_obs=15, dim=3)
    _, _, b = gaussian_posteriors(num_obs=15, dim=3, scale=2.0, num_samples=20)
    fig = plot_recovery({"a": a, "b": b}, theta)
    assert len(fig.axes) == 3
    assert all(len(ax.containers) == 2 for ax in fig.axes)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["a", "b"]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"error_bars": "hdi"}, ValueError, "error_bars must be one of"),
        ({"level": 1.5}, ValueError, "level"),
        ({"parameter_names": ["a", "b", "c"]}, ValueError, "parameter_names"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, error, match):
    theta, _, samples = gaussian_posteriors(num_obs=5)
    with pytest.raises(error, match=match):
        plot_recovery(samples, theta, **kwargs)


def test_mismatched_truth_is_rejected():
    theta, _, samples = gaussian_posteriors(num_obs=5)
    with pytest.raises(ValueError, match=r"shape \(5, 2\), got shape \(4, 2\)"):
        plot_recovery(samples, theta[:4])
    with pytest.raises(ValueError, match="theta_true must be finite"):
        plot_recovery(samples, np.full((5, 2), np.nan))
