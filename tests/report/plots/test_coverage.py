"""Expected coverage curves of joint credible regions."""

import numpy as np
import pytest

from sbinn.diagnostics.coverage import expected_coverage
from sbinn.report.plots import plot_coverage
from tests.report.support import gaussian_posteriors

LEVELS = np.linspace(0.1, 0.9, 9)


def test_curve_is_the_diagnostics_coverage_with_a_band():
    theta, _, samples = gaussian_posteriors(num_obs=80)
    fig = plot_coverage(samples, theta, levels=LEVELS, num_resamples=50)
    (ax,) = fig.axes
    diagonal, curve = ax.get_lines()
    assert np.allclose(diagonal.get_ydata(), diagonal.get_xdata())
    result = expected_coverage(samples, theta, levels=LEVELS, num_resamples=50, confidence=0.95)
    assert np.allclose(curve.get_xdata(), LEVELS)
    assert np.allclose(curve.get_ydata(), result.details["coverage"])
    assert len(ax.collections) == 1
    assert ax.get_legend() is None


def test_methods_are_told_apart_and_over_confidence_lies_below_the_diagonal():
    theta, _, exact = gaussian_posteriors(num_obs=100)
    _, _, narrow = gaussian_posteriors(num_obs=100, scale=0.4, num_samples=30)
    fig = plot_coverage({"exact": exact, "narrow": narrow}, theta, levels=LEVELS, num_resamples=20)
    ax = fig.axes[0]
    _, exact_curve, narrow_curve = ax.get_lines()
    assert np.all(narrow_curve.get_ydata() < LEVELS)
    assert np.mean(np.abs(exact_curve.get_ydata() - LEVELS)) < 0.1
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["exact", "narrow"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"levels": [0.0, 0.5]}, "levels"),
        ({"theta_true": np.zeros((7, 2))}, "one row per observation"),
        ({"samples": np.zeros((10, 2))}, "samples"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, match):
    theta, _, samples = gaussian_posteriors(num_obs=10)
    with pytest.raises(ValueError, match=match):
        plot_coverage(**({"samples": samples, "theta_true": theta} | kwargs))
