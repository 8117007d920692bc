import numpy as np
import pytest

from sbinn.methods.abc import RejectionABC
from simulators.cluster_cmd import ClusterCMDSimulator, set_mask
from simulators.cluster_cmd.summaries import SUMMARY_NAMES, CMDSummarySimulator, cmd_summaries

COLUMN = {name: i for i, name in enumerate(SUMMARY_NAMES)}


@pytest.fixture(scope="module")
def sim():
    return ClusterCMDSimulator()


@pytest.fixture(scope="module")
def prior_sets(sim):
    return sim.sample_joint(300, seed=11)


def _rich(sim, log_age=9.6, feh=0.0, mu=10.0, a_v=0.0, copies=6, seed=0):
    """Summaries of rich clusters (log mass 3.7) with the given parameters."""
    theta = np.tile([log_age, feh, mu, a_v, 3.7], (copies, 1))
    return cmd_summaries(sim.simulate(theta, seed))


def test_shapes_and_finite(prior_sets):
    _, x = prior_sets
    s = cmd_summaries(x)
    assert s.shape == (len(x), len(SUMMARY_NAMES)) == (300, 20)
    assert np.isfinite(s).all()
    np.testing.assert_array_equal(s[:, COLUMN["log_n_stars"]], np.log10(set_mask(x).sum(1)))
    shares = s[:, [COLUMN[k] for k in ("frac_bright", "frac_ms1", "frac_ms2", "frac_ms3")]]
    assert np.all(shares >= 0) and np.all(shares.sum(1) <= 1)


def test_chunking_does_not_change_the_result(prior_sets):
    _, x = prior_sets
    np.testing.assert_array_equal(cmd_summaries(x, chunk_size=7), cmd_summaries(x))


def test_invariant_to_padding_length(prior_sets):
    _, x = prior_sets
    x = x[:50]
    longest = int(set_mask(x).sum(1).max())
    longer = np.concatenate([x, np.full((50, 300, 3), np.nan)], axis=1)
    reference = cmd_summaries(x)
    np.testing.assert_array_equal(cmd_summaries(x[:, :longest]), reference)
    np.testing.assert_array_equal(cmd_summaries(longer), reference)


def test_invariant_to_permuting_stars_and_padding(prior_sets):
    _, x = prior_sets
    x = x[:50]
    rng = np.random.default_rng(3)
    # Every set gets its own permutation of all rows, so padding ends up between stars too.
    order = np.argsort(rng.random(x.shape[:2]), axis=1)
    shuffled = np.take_along_axis(x, order[..., None], axis=1)
    np.testing.assert_array_equal(cmd_summaries(shuffled), cmd_summaries(x))


def test_empty_set_gives_nan_row_and_single_star_is_finite():
    star = [15.0, 0.6, 0.01]
    x = np.full((2, 4, 3), np.nan)
    x[1, 2] = star
    s = cmd_summaries(x)
    assert np.isnan(s[0]).all()
    assert np.isfinite(s[1]).all()
    assert s[1, COLUMN["v_turnoff"]] == 15.0 and s[1, COLUMN["bv_turnoff"]] == 0.6


def test_turn_off_of_a_toy_diagram():
    """A main sequence reddening below V = 15 and a redder giant branch above it."""
    v_ms = np.linspace(15.0, 19.0, 200)
    v_giants = np.linspace(12.0, 14.0, 20)
    stars = np.concatenate(
        [
            np.stack([v_ms, 0.5 + 0.1 * (v_ms - 15.0), np.full(200, 0.01)], 1),
            np.stack([v_giants, np.full(20, 1.0), np.full(20, 0.01)], 1),
        ]
    )
    s = cmd_summaries(stars[None])[0]
    assert s[COLUMN["v_turnoff"]] == pytest.approx(15.2, abs=0.25)
    assert s[COLUMN["bv_turnoff"]] == pytest.approx(0.52, abs=0.03)
    assert s[COLUMN["frac_bright"]] == pytest.approx(20 / 220)
    assert s[COLUMN["dbv_bright"]] == pytest.approx(0.48, abs=0.03)
    # Slices 1 mag wide, centred 1, 2, 3 mag below the turn-off: colour steps of 0.1 mag.
    ms = [s[COLUMN[f"dbv_ms{k}"]] for k in (1, 2, 3)]
    np.testing.assert_allclose(ms, [0.1, 0.2, 0.3], atol=0.03)


def test_m67_like_turn_off(sim):
    """4 Gyr, solar, unreddened at mu = 10: turn-off near M_V 3.7, B-V 0.55 (as M67)."""
    s = _rich(sim, log_age=np.log10(4e9))
    assert np.median(s[:, COLUMN["v_turnoff"]]) - 10.0 == pytest.approx(3.7, abs=0.3)
    assert np.median(s[:, COLUMN["bv_turnoff"]]) == pytest.approx(0.55, abs=0.05)


def test_older_clusters_turn_off_fainter_and_redder(sim):
    ages = (9.2, 9.5, 9.8, 10.05)
    columns = [COLUMN["v_turnoff"], COLUMN["bv_turnoff"]]
    turnoff = np.array([np.median(_rich(sim, log_age=a)[:, columns], axis=0) for a in ages])
    assert np.all(np.diff(turnoff[:, 0]) > 0), turnoff
    assert np.all(np.diff(turnoff[:, 1]) > 0), turnoff


def test_distance_and_extinction_shift_the_turn_off(sim):
    near, far = _rich(sim, mu=10.0), _rich(sim, mu=11.0, seed=1)
    v_shift = np.median(far[:, COLUMN["v_turnoff"]]) - np.median(near[:, COLUMN["v_turnoff"]])
    assert v_shift == pytest.approx(1.0, abs=0.2)
    red = _rich(sim, a_v=0.93, seed=2)
    colour_shift = np.median(red[:, COLUMN["bv_turnoff"]] - near[:, COLUMN["bv_turnoff"]])
    assert colour_shift == pytest.approx(0.3, abs=0.05)
    # Colours measured from the turn-off are free of reddening.
    gap = [COLUMN["dbv_ms1"], COLUMN["dbv_ms2"]]
    np.testing.assert_allclose(np.median(red[:, gap], 0), np.median(near[:, gap], 0), atol=0.04)


def test_more_massive_clusters_have_more_stars(sim):
    theta = np.array([[9.5, -0.5, 13.0, 0.3, m] for m in (2.4, 3.0, 3.6)])
    s = cmd_summaries(sim.simulate(np.repeat(theta, 4, axis=0), 5))
    log_n = np.median(s[:, COLUMN["log_n_stars"]].reshape(3, 4), axis=1)
    assert np.all(np.diff(log_n) > 0.4)


@pytest.mark.parametrize(
    ("x", "error", "match"),
    [
        (np.zeros((2, 5)), ValueError, r"shape \(n, n_max, 3\), got shape \(2, 5\)$"),
        (np.zeros((4, 3)), ValueError, r"for one set use x\[None\]"),
        (np.zeros((1, 4, 2)), ValueError, "got shape"),
        (np.full((1, 2, 3), np.inf), ValueError, "must not contain inf"),
        (np.array([[[15.0, np.nan, 0.01]]]), ValueError, "some but not all"),
        (np.array([[["a", "b", "c"]]]), TypeError, "real numeric array"),
        (np.zeros((1, 2, 3), dtype=complex), TypeError, "real numeric array"),
    ],
)
def test_bad_input_is_refused(x, error, match):
    with pytest.raises(error, match=match):
        cmd_summaries(x)


def test_bad_chunk_size_is_refused():
    with pytest.raises(ValueError, match="chunk_size must be a positive integer"):
        cmd_summaries(np.zeros((1, 2, 3)), chunk_size=0)


def test_summary_simulator_feeds_rejection_abc(sim, prior_sets):
    summary_sim = CMDSummarySimulator(sim)
    assert summary_sim.observation_names == SUMMARY_NAMES
    assert summary_sim.settings()["sets"]["n_max"] == 2000
    theta, x = prior_sets
    reference = (theta, cmd_summaries(x))
    abc = RejectionABC(summary_sim, mode="quantile", quantile=0.1, progress=False)
    samples = abc.sample(cmd_summaries(x[:3]), num_samples=30, reference=reference)
    assert samples.shape == (3, 30, 5)
    # Each observation is its own nearest reference simulation: distance 0 is kept.
    assert np.all(abc.last_run.epsilon > 0)
    assert all(np.any(np.all(samples[i] == theta[i], axis=1)) for i in range(3))


def test_summary_simulator_simulates_and_refuses_other_simulators():
    summary_sim = CMDSummarySimulator(ClusterCMDSimulator(n_max=200))
    theta, s = summary_sim.sample_joint(5, seed=4)
    assert s.shape == (len(theta), 20) and np.isfinite(s).all()
    with pytest.raises(TypeError, match="must be a ClusterCMDSimulator"):
        CMDSummarySimulator(summary_sim)
