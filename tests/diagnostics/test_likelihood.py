"""Held-out NLL: the exact density scores the entropy, a wrong one scores worse."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from sbinn.diagnostics import heldout_nll


def test_the_true_density_scores_the_entropy_and_a_wrong_one_scores_higher():
    rng = np.random.default_rng(1)
    theta = rng.normal(size=20_000)
    right = heldout_nll(norm.logpdf(theta))
    too_narrow = heldout_nll(norm.logpdf(theta, scale=0.5))
    shifted = heldout_nll(norm.logpdf(theta, loc=1.0))
    entropy = 0.5 * np.log(2 * np.pi * np.e)
    assert right.value == pytest.approx(entropy, abs=0.02)
    # KL(N(0,1) || N(0, 0.25)) = 0.81 nats, KL(N(0,1) || N(1,1)) = 0.5 nats.
    assert too_narrow.value - right.value == pytest.approx(0.807, abs=0.05)
    assert shifted.value - right.value == pytest.approx(0.5, abs=0.05)
    assert too_narrow.low > right.high


def test_the_interval_is_reproducible_and_brackets_the_value():
    values = np.random.default_rng(2).normal(size=300)
    first, second = heldout_nll(values, seed=3), heldout_nll(values, seed=3)
    assert (first.low, first.high) == (second.low, second.high)
    assert first.low <= first.value <= first.high
    assert first.to_json()["value"] == pytest.approx(-values.mean())


def test_zero_density_at_a_true_parameter_gives_infinite_nll():
    result = heldout_nll([-1.0, -np.inf])
    assert result.value == np.inf
    assert result.to_json()["value"] is None


@pytest.mark.parametrize(
    ("log_prob", "match"),
    [
        (np.zeros((3, 2)), r"shape \(n_obs,\), got \(3, 2\)"),
        (np.zeros(0), r"got \(0,\)"),
        ([0.0, np.nan, 1.0], "1 NaN or \\+inf value\\(s\\) \\(first at index 1\\)"),
        ([np.inf], "NaN or \\+inf"),
    ],
)
def test_bad_log_prob_is_refused(log_prob, match):
    with pytest.raises(ValueError, match=match):
        heldout_nll(log_prob)
