"""C2ST and MMD against reference draws of the exact posterior: an exact posterior passes,
an over-confident and a biased one are caught (issue 5's rule for every diagnostic)."""

import pytest

from sbinn.diagnostics import c2st_per_observation, posterior_mmd
from tests.diagnostics.gaussian_support import linear_gaussian

NUM_OBS, HALF = 8, 2000


def candidate_and_reference(**miscalibration):
    """Draws of a reported posterior and independent exact draws for the same observations."""
    exact, _, _ = linear_gaussian(NUM_OBS, 2 * HALF, seed=3, dim=2)
    reported, _, _ = linear_gaussian(NUM_OBS, 2 * HALF, seed=3, dim=2, **miscalibration)
    # Same seed: same observations; the second half's noise is independent of the first's.
    return reported[:, HALF:], exact[:, :HALF]


CASES = {"exact": {}, "over-confident": {"scale": 0.5}, "biased": {"shift": 1.0}}


@pytest.fixture(scope="module")
def mmd():
    return {
        name: posterior_mmd(*candidate_and_reference(**c), max_samples=800, seed=0)
        for name, c in CASES.items()
    }


def test_mmd_of_the_exact_posterior_is_compatible_with_zero(mmd):
    exact = mmd["exact"]  # the interval is ±1σ: allow three
    assert abs(exact.value) <= 3 * (exact.high - exact.low) / 2, exact


@pytest.mark.parametrize("name", ["over-confident", "biased"])
def test_mmd_flags_wrong_posteriors(mmd, name):
    assert mmd[name].low > 10 * max(mmd["exact"].high, 1e-4), (name, mmd[name], mmd["exact"])


@pytest.mark.parametrize(
    ("name", "low", "high"), [("exact", 0.45, 0.55), ("over-confident", 0.6, 1), ("biased", 0.6, 1)]
)
def test_c2st_passes_the_exact_posterior_and_flags_wrong_ones(name, low, high):
    result = c2st_per_observation(
        *candidate_and_reference(**CASES[name]), max_observations=1, seed=0
    )
    assert low <= result.value <= high, (name, result)
