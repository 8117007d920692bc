"""Input checks and layout shared by the plot modules."""

import numpy as np
import pytest

from sbinn.report.plots._common import (
    as_method_samples,
    check_theta_true,
    one_observation,
    panel_grid,
)


def test_lone_array_has_no_label_and_mapping_keeps_order():
    assert as_method_samples(np.zeros((2, 3, 1)))[0][0] is None
    pairs = as_method_samples({"b": np.zeros((2, 3, 1)), "a": np.zeros((2, 4, 1))})
    assert [label for label, _ in pairs] == ["b", "a"]


@pytest.mark.parametrize(
    ("samples", "error", "match"),
    [
        ({}, ValueError, "at least one method"),
        ({1: np.zeros((2, 3, 1))}, TypeError, "method names"),
        ({"a": np.zeros((2, 3, 1)), "b": np.zeros((2, 3, 2))}, ValueError, r"samples\['b'\]"),
        (np.zeros((3, 2)), ValueError, r"samples\[None\]"),
        (np.full((2, 3, 1), np.nan), ValueError, "finite"),
    ],
    ids=["empty", "non-str key", "dims differ", "2-D", "nan"],
)
def test_bad_method_samples_are_rejected(samples, error, match):
    with pytest.raises(error, match=match):
        as_method_samples(samples)


def test_theta_true_must_match_observations_and_names_the_method():
    with pytest.raises(ValueError, match=r"samples\['cINN'\].*shape \(4, 1\), got shape \(3, 1\)"):
        check_theta_true(np.zeros((3, 1)), np.zeros((4, 5, 1)), "cINN")


def test_one_observation_picks_the_row_and_accepts_one_truth_vector():
    samples = np.arange(24.0).reshape(2, 4, 3)
    chosen, truth = one_observation(samples, [1.0, 2.0, 3.0], 1)
    assert np.array_equal(chosen, samples[1])
    assert truth.tolist() == [1.0, 2.0, 3.0]
    chosen, truth = one_observation(samples[0], None, 0)
    assert np.array_equal(chosen, samples[0]) and truth is None


@pytest.mark.parametrize(
    ("samples", "truth", "observation", "error", "match"),
    [
        (np.zeros((4, 2)), None, 1, ValueError, r"\[0, 1\)"),
        (np.zeros((3, 4, 2)), None, -1, ValueError, r"\[0, 3\)"),
        (np.zeros((3, 4, 2)), None, True, TypeError, "integer index"),
        (np.zeros((3, 4, 2)), np.zeros((2, 2)), 0, ValueError, r"\(3, 2\)"),
        (np.zeros((3, 4, 2)), np.zeros(3), 0, ValueError, "theta_true"),
    ],
)
def test_one_observation_rejects_bad_indices_and_truths(samples, truth, observation, error, match):
    with pytest.raises(error, match=match):
        one_observation(samples, truth, observation)


def test_panel_grid_removes_unused_cells():
    fig, axes = panel_grid(5, ncols=2)
    assert len(fig.axes) == len(axes) == 5
    with pytest.raises(ValueError, match="ncols"):
        panel_grid(3, ncols=0)
