"""Bootstrap intervals over test observations, and the result object that carries them."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from sbinn.diagnostics import MetricResult, bootstrap_interval, bootstrap_replicates
from sbinn.diagnostics import bootstrap as bootstrap_module
from sbinn.diagnostics.bootstrap import interval_around, metric_on_all, percentile_interval


def test_interval_contains_the_mean_and_has_the_normal_width():
    values = np.random.default_rng(0).normal(size=2000)
    low, high = bootstrap_interval(values, seed=1)
    assert low < values.mean() < high
    # A 68% interval of a mean spans about two standard errors.
    standard_error = values.std() / np.sqrt(values.size)
    assert high - low == pytest.approx(2 * standard_error, rel=0.15)


def test_percentile_interval_of_raw_replicates_contains_a_smooth_metric():
    squared = np.random.default_rng(2).exponential(size=(500, 3))
    replicates = bootstrap_replicates(squared, lambda m: np.sqrt(m.sum(axis=1)), seed=0)
    low, high = percentile_interval(replicates)
    assert low < np.sqrt(squared.mean(axis=0).sum()) < high


def test_interval_narrows_with_more_observations():
    rng = np.random.default_rng(3)
    few = bootstrap_interval(rng.normal(size=100), seed=0)
    many = bootstrap_interval(rng.normal(size=2500), seed=0)
    # Widths shrink like 1/sqrt(n): a factor of 5 here.
    assert (many[1] - many[0]) < (few[1] - few[0]) / 3


def test_higher_confidence_is_wider():
    values = np.random.default_rng(4).normal(size=300)
    narrow = bootstrap_interval(values, confidence=0.68, seed=0)
    wide = bootstrap_interval(values, confidence=0.95, seed=0)
    assert wide[0] < narrow[0] and narrow[1] < wide[1]


def test_seeds_reproduce():
    values = np.random.default_rng(5).normal(size=(200, 2))
    statistic = lambda m: m[:, 0] - m[:, 1]  # noqa: E731
    first = bootstrap_interval(values, statistic, seed=7)
    assert bootstrap_interval(values, statistic, seed=7) == first
    assert bootstrap_interval(values, statistic, seed=np.random.default_rng(7)) == first
    assert bootstrap_interval(values, statistic, seed=8) != first


def test_resamples_draw_observations_with_replacement():
    # One observation of value 1 among zeros: each resample's mean is (times drawn) / n.
    values = np.zeros(10)
    values[3] = 1.0
    replicates = bootstrap_replicates(values, num_resamples=4000, seed=0)
    draws = replicates * values.size
    assert np.allclose(draws, np.round(draws))
    assert draws.mean() == pytest.approx(1.0, abs=0.05)  # Binomial(10, 1/10) has mean 1
    assert draws.var() == pytest.approx(0.9, abs=0.08)  # and variance 0.9


def test_chunked_resampling_matches_in_distribution(monkeypatch):
    values = np.random.default_rng(6).normal(size=400)
    whole = bootstrap_interval(values, seed=0, num_resamples=2000)
    monkeypatch.setattr(bootstrap_module, "_MAX_COUNT_ENTRIES", 400 * 7)
    replicates = bootstrap_replicates(values, seed=0, num_resamples=2000)
    assert replicates.shape == (2000,)
    chunked = percentile_interval(replicates)
    assert np.allclose(chunked, whole, atol=0.1 * (whole[1] - whole[0]))


def test_interval_is_widened_to_reach_a_boundary_value():
    # |mean| of zero-mean noise: every resample adds noise, so resampled values exceed the
    # observed one and the raw percentile interval can miss it.
    values = np.array([-1.0, 1.0] * 50)
    statistic = lambda m: np.abs(m)  # noqa: E731
    replicates = bootstrap_replicates(values, statistic, seed=0)
    raw_low, _ = percentile_interval(replicates)
    assert metric_on_all(values, statistic) == 0.0
    assert raw_low > 0.0
    low, _, widened = interval_around(0.0, replicates)
    assert low == 0.0 and widened
    assert bootstrap_interval(values, statistic, seed=0)[0] == 0.0


def test_vector_metrics_use_replicates():
    values = np.random.default_rng(9).normal(size=(50, 3))
    assert bootstrap_replicates(values, num_resamples=20).shape == (20, 3)
    with pytest.raises(ValueError, match=r"needs a scalar metric.*got shape \(20, 3\)"):
        bootstrap_interval(values, num_resamples=20)


def test_invalid_arguments_raise():
    with pytest.raises(ValueError, match="num_resamples must be a positive integer, got 0"):
        bootstrap_interval(np.ones(5), num_resamples=0)
    with pytest.raises(ValueError, match=r"confidence must lie in \(0, 1\), got 1.5"):
        bootstrap_interval(np.ones(5), confidence=1.5)
    with pytest.raises(ValueError, match=r"n_obs >= 1, got shape \(0,\)"):
        bootstrap_interval(np.ones(0))
    with pytest.raises(ValueError, match=r"one value \(or row\) per resample"):
        bootstrap_interval(np.ones(5), lambda m: m.sum())


def test_metric_result_json_is_strict_and_native():
    result = MetricResult(
        "rmse",
        np.float64(0.5),
        np.float32(0.25),
        np.nan,
        "How it was computed.",
        per_dimension={"a": np.float64(0.5)},
    )
    payload = result.to_json()
    assert payload == {"value": 0.5, "low": 0.25, "high": None, "per_dimension": {"a": 0.5}}
    assert type(payload["value"]) is float and type(payload["per_dimension"]["a"]) is float
    json.dumps(payload, allow_nan=False)
    assert "per_dimension" not in MetricResult("m", 1.0, 0.0, 2.0, "x").to_json()
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.value = 1.0  # type: ignore[misc]
    assert str(result).startswith("rmse = 0.5 [0.25, ")
