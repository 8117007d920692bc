"""The 8-mode mixture: component layout, colour frequencies, exact posterior and prior density."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from simulators.gaussian_mixture import (
    COLOURS,
    COMPONENT_COLOURS,
    GaussianMixtureSimulator,
    MixturePrior,
    label_fidelity,
    plot_label_posteriors,
)


def test_components_lie_on_a_circle_two_apart():
    means = MixturePrior().means
    radius = np.linalg.norm(means, axis=1)
    np.testing.assert_allclose(radius, 1 / np.sin(np.pi / 8))
    neighbour = np.linalg.norm(means - np.roll(means, 1, axis=0), axis=1)
    np.testing.assert_allclose(neighbour, 2.0)


def test_colour_frequencies_follow_the_number_of_components_per_colour():
    _, x = GaussianMixtureSimulator().sample_joint(40_000, seed=0)
    counts = x.sum(axis=0)
    expected = np.bincount(COMPONENT_COLOURS, minlength=len(COLOURS)) / 8 * len(x)
    assert stats.chisquare(counts, expected).pvalue > 1e-3


def test_the_red_colour_covers_four_adjacent_components():
    means = MixturePrior().means
    red = means[np.asarray(COMPONENT_COLOURS) == 0]
    gaps = np.linalg.norm(np.diff(red, axis=0), axis=1)
    np.testing.assert_allclose(gaps, 2.0)


def test_observation_is_the_colour_of_the_nearest_component_away_from_boundaries():
    sim = GaussianMixtureSimulator()
    prior = sim.prior
    theta = prior.means + 0.1
    x = sim.simulate(theta, rng=0)
    np.testing.assert_array_equal(x.argmax(axis=1), COMPONENT_COLOURS)


def test_exact_posterior_samples_sit_on_the_components_of_their_colour():
    sim = GaussianMixtureSimulator()
    x_obs = np.eye(4)
    samples = sim.true_posterior_sample(x_obs, 4000, seed=0)
    nearest = np.linalg.norm(samples[..., None, :] - sim.prior.means, axis=3).argmin(axis=2)
    for colour in range(4):
        members = np.flatnonzero(np.asarray(COMPONENT_COLOURS) == colour)
        assert set(np.unique(nearest[colour])) == set(members)
        frequencies = np.bincount(nearest[colour], minlength=8)[members] / 4000
        np.testing.assert_allclose(frequencies, 1 / len(members), atol=0.03)


def test_prior_density_integrates_to_one_and_matches_samples():
    prior = MixturePrior()
    grid = np.linspace(-4.0, 4.0, 401)
    xx, yy = np.meshgrid(grid, grid)
    density = np.exp(prior.log_prob(np.c_[xx.ravel(), yy.ravel()]))
    assert density.sum() * (grid[1] - grid[0]) ** 2 == pytest.approx(1.0, abs=1e-3)
    samples = prior.sample(50_000, np.random.default_rng(1))
    np.testing.assert_allclose(samples.mean(axis=0), 0.0, atol=0.05)


def test_true_posterior_rejects_non_one_hot_observations():
    with pytest.raises(ValueError, match="one-hot"):
        GaussianMixtureSimulator().true_posterior_sample([[0.5, 0.5, 0.0, 0.0]], 10)
    with pytest.raises(ValueError, match=r"x_obs must have shape \(n, 4\)"):
        GaussianMixtureSimulator().true_posterior_sample([[1.0, 0.0]], 10)


def test_label_fidelity_is_perfect_for_exact_samples_and_catches_leaks():
    sim = GaussianMixtureSimulator()
    x_obs = np.repeat(np.eye(4), 5, axis=0)
    exact = sim.true_posterior_sample(x_obs, 2000, seed=0)
    result = label_fidelity(exact, x_obs)
    for colour in COLOURS:
        # A 3-sigma disc holds 1 - exp(-4.5) = 98.9% of a 2-D Gaussian.
        assert result[colour]["inside_fraction"] == pytest.approx(1 - np.exp(-4.5), abs=0.005)
        assert result[colour]["max_share_error"] < 0.03
    # Half of the red samples moved onto a purple component; all blue mass on one component.
    broken = exact.copy()
    broken[:5, :1000] = sim.prior.means[7]
    blue_members = np.flatnonzero(np.asarray(COMPONENT_COLOURS) == 1)
    broken[5:10] = sim.prior.means[blue_members[0]]
    result = label_fidelity(broken, x_obs)
    assert result["red"]["inside_fraction"] == pytest.approx(0.5, abs=0.01)
    assert result["blue"]["max_share_error"] == pytest.approx(0.5)


def test_label_fidelity_catches_samples_smeared_between_modes():
    sim = GaussianMixtureSimulator()
    x_obs = np.repeat(np.eye(4)[:1], 5, axis=0)
    red = sim.prior.means[np.asarray(COMPONENT_COLOURS) == 0]
    # Points along the arcs between neighbouring red modes: nearest to a red mode, in none.
    t = np.linspace(0.35, 0.65, 600)[:, None]  # >= 0.7 = 3.5 sigma from either mode
    arcs = np.concatenate([(1 - t) * red[i] + t * red[i + 1] for i in range(3)])
    samples = np.broadcast_to(arcs, (5, *arcs.shape))
    assert label_fidelity(samples, x_obs)["red"]["inside_fraction"] == 0.0


def test_label_fidelity_rejects_wrong_shapes():
    with pytest.raises(ValueError, match=r"samples must have shape \(2, num_samples, 2\)"):
        label_fidelity(np.zeros((2, 10, 3)), np.eye(4)[:2])


def test_figure_is_written(tmp_path):
    sim = GaussianMixtureSimulator()
    truth = sim.true_posterior_sample(np.eye(4), 100, seed=0)
    path = tmp_path / "fig.png"
    plot_label_posteriors({"ground truth": truth, "copy": truth}, str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
