"""Scoring of the cluster_cmd benchmark: stratified test sets, summary distances, star bins."""

from __future__ import annotations

import numpy as np
import pytest

from sbinn.diagnostics import calibration_error, resimulation_distances
from simulators.cluster_cmd import ClusterCMDSimulator, set_mask
from simulators.cluster_cmd.evaluation import (
    STAR_BINS,
    StandardisedSummaries,
    star_bin,
    star_bin_calibration,
    stratified_test_set,
    summary_view,
)


@pytest.fixture(scope="module")
def sim():
    return ClusterCMDSimulator()


@pytest.fixture(scope="module")
def view(sim):
    return StandardisedSummaries(sim, num_scale_simulations=500)


def sets_with_counts(counts) -> np.ndarray:
    """NaN-padded sets holding ``counts`` identical stars (only the mask matters here)."""
    x = np.full((len(counts), 2000, 3), np.nan)
    for row, count in enumerate(counts):
        x[row, :count] = [15.0, 0.6, 0.01]
    return x


def test_star_bins_include_their_lower_edge_and_the_last_its_upper():
    counts = np.array([19, 20, 49, 50, 199, 200, 799, 800, 2000, 2001])
    assert star_bin(counts).tolist() == [-1, 0, 0, 1, 1, 2, 2, 3, 3, -1]


def test_the_test_set_fills_every_bin_equally_in_random_order(sim):
    theta, x = stratified_test_set(sim, 9, seed=4)
    bins = star_bin(set_mask(x).sum(axis=1))
    assert theta.shape == (9, 5) and x.shape == (9, 2000, 3)
    assert np.bincount(bins, minlength=len(STAR_BINS)).tolist() == [3, 2, 2, 2]
    assert np.any(np.diff(bins) < 0)  # shuffled: the first clusters are not all small ones
    # The truths belong to the sets: re-drawing with the same seed reproduces both.
    theta_again, x_again = stratified_test_set(sim, 9, seed=4)
    np.testing.assert_array_equal(theta, theta_again)
    np.testing.assert_array_equal(x, x_again)


@pytest.mark.parametrize(
    ("simulator", "num", "match"),
    [
        (ClusterCMDSimulator(n_max=500), 8, "n_max 500 cannot hold; use n_max >= 800"),
        (ClusterCMDSimulator(), 3, "at least 4 clusters"),
        (ClusterCMDSimulator(), 0, "num must be"),
    ],
)
def test_impossible_test_sets_are_refused_at_once(simulator, num, match):
    with pytest.raises(ValueError, match=match):
        stratified_test_set(simulator, num, seed=0)


def test_standardised_summaries_have_unit_prior_predictive_spread(sim, view):
    _, own = sim.sample_joint(500, seed=0)  # the view's own scale simulations
    s = view.summarise(own)
    assert s.shape == (500, 20)
    np.testing.assert_allclose(s.mean(axis=0), 0.0, atol=1e-9)
    np.testing.assert_allclose(s.std(axis=0), 1.0, rtol=1e-9)
    _, fresh = sim.sample_joint(500, seed=11)
    assert 0.85 < np.median(view.summarise(fresh).std(axis=0)) < 1.15
    assert view.settings()["standardisation"]["simulations"] == 500


def test_a_set_is_at_distance_zero_from_its_own_permuted_and_repadded_copy(sim, view):
    _, x = sim.sample_joint(3, seed=2)
    stars = set_mask(x)[0]
    shuffled = np.full((1, 2500, 3), np.nan)
    order = np.random.default_rng(0).permutation(int(stars.sum()))
    shuffled[0, : stars.sum()] = x[0, stars][order]
    assert np.linalg.norm(view.summarise(shuffled) - view.summarise(x[:1])) < 1e-12
    assert np.linalg.norm(view.summarise(x[1:2]) - view.summarise(x[:1])) > 0.1


def test_resimulating_the_truth_lands_nearer_than_prior_draws(sim, view):
    theta, x = stratified_test_set(sim, 24, seed=1)
    observed = view.summarise(x)
    truth = resimulation_distances(theta[:, None], observed, view, seed=0)
    others = sim.prior.sample(24 * 4, np.random.default_rng(5)).reshape(24, 4, 5)
    prior = resimulation_distances(others, observed, view, seed=0)
    # Independent prior draws sit about sqrt(2 * 20) ~ 6 apart; the truth only differs by
    # its noise (Poisson star counts, IMF draws, photometry).
    assert np.nanmean(truth) < 0.6 * np.nanmean(prior)
    assert 4.0 < np.nanmean(prior) < 9.0


def test_the_summary_view_is_built_once_per_simulator_and_only_for_cluster_sets(sim):
    assert summary_view(sim) is summary_view(sim)
    with pytest.raises(TypeError, match="must be a ClusterCMDSimulator"):
        summary_view(object())


def test_per_bin_calibration_scores_only_the_clusters_of_each_bin(sim):
    counts = [30, 40, 45, 100, 150, 190, 300, 500, 700, 900, 1500, 2000, 5]
    x = sets_with_counts(counts)
    rng = np.random.default_rng(0)
    theta = sim.prior.sample(len(counts), rng)
    # Samples off the truth by a different amount in each bin, so every bin scores apart.
    offset = np.repeat([0.0, 0.5, 3.0, 1.0, 0.0], [3, 3, 3, 3, 1])[:, None, None]
    samples = theta[:, None] + rng.normal(offset, 1.0, size=(len(counts), 200, 5))
    metrics = star_bin_calibration(sim, samples, theta, x, seed=0)
    assert list(metrics) == [f"calibration_error_{lo}-{hi}_stars" for lo, hi in STAR_BINS]
    values = []
    for i, (lo, hi) in enumerate(STAR_BINS):
        rows = slice(3 * i, 3 * i + 3)
        expected = calibration_error(
            samples[rows], theta[rows], parameter_names=sim.parameter_names, seed=0
        )
        found = metrics[f"calibration_error_{lo}-{hi}_stars"]
        assert (found.value, found.low, found.high) == (expected.value, expected.low, expected.high)
        assert f"3 test clusters with {lo}-{hi} observed stars" in found.method
        values.append(found.value)
    assert len(set(values)) == len(STAR_BINS)


def test_per_bin_calibration_skips_empty_bins_and_checks_its_inputs(sim):
    x = sets_with_counts([30, 35])
    theta = sim.prior.sample(2, np.random.default_rng(0))
    samples = np.repeat(theta[:, None], 10, axis=1)
    assert list(star_bin_calibration(sim, samples, theta, x, seed=0)) == [
        "calibration_error_20-50_stars"
    ]
    with pytest.raises(ValueError, match="one row per test cluster, got 2, 1 and 2"):
        star_bin_calibration(sim, samples, theta[:1], x, seed=0)
