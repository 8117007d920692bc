import numpy as np
import pytest
from scipy import integrate

from simulators.cluster_cmd.imf import KroupaIMF


def _log_slope(masses: np.ndarray, low: float, high: float) -> float:
    """Least-squares slope of log dN/dm against log m over ``[low, high]`` (log bins)."""
    edges = np.geomspace(low, high, 9)
    counts, _ = np.histogram(masses, edges)
    density = counts / np.diff(edges)
    centres = np.sqrt(edges[1:] * edges[:-1])
    weights = np.sqrt(counts)  # Poisson: error of log density ~ 1/sqrt(count)
    slope, _ = np.polyfit(np.log(centres), np.log(density), 1, w=weights)
    return float(slope)


def test_samples_follow_the_kroupa_slopes():
    masses = KroupaIMF(0.01, 100.0).sample(600_000, np.random.default_rng(0))
    # Kroupa (2001) eq. 2: alpha = 0.3, 1.3, 2.3 below 0.08, 0.08-0.5, above 0.5 Msun.
    assert _log_slope(masses, 0.012, 0.075) == pytest.approx(-0.3, abs=0.03)
    assert _log_slope(masses, 0.085, 0.48) == pytest.approx(-1.3, abs=0.03)
    assert _log_slope(masses, 0.52, 20.0) == pytest.approx(-2.3, abs=0.03)


def test_density_is_normalised_continuous_and_gives_the_mean_mass():
    imf = KroupaIMF()
    breaks = [0.5]
    total = integrate.quad(imf.pdf, 0.1, 100.0, points=breaks, limit=200)[0]
    mean = integrate.quad(lambda m: m * imf.pdf(m), 0.1, 100.0, points=breaks, limit=200)[0]
    assert total == pytest.approx(1.0, rel=1e-6)
    assert imf.mean_mass == pytest.approx(mean, rel=1e-6)
    assert imf.pdf(0.5 - 1e-9) == pytest.approx(imf.pdf(0.5 + 1e-9), rel=1e-6)
    masses = imf.sample(400_000, np.random.default_rng(1))
    assert masses.mean() == pytest.approx(imf.mean_mass, rel=0.01)


def test_cdf_and_ppf_are_inverse():
    imf = KroupaIMF()
    u = np.linspace(0.0, 1.0, 101)
    np.testing.assert_allclose(imf.cdf(imf.ppf(u)), u, atol=1e-10)
    assert imf.cdf(0.05) == 0.0 and imf.cdf(500.0) == 1.0


def test_truncated_draws_stay_in_range_and_keep_the_shape():
    imf = KroupaIMF()
    rng = np.random.default_rng(2)
    low = rng.uniform(0.2, 1.0, 50_000)
    masses = imf.sample_between(low, 3.0, rng)
    assert np.all((masses >= low) & (masses <= 3.0))
    # Draws above 0.6 Msun are a pure alpha = 2.3 power law whatever the lower bound.
    assert _log_slope(imf.sample_between(np.full(200_000, 0.6), 50.0, rng), 0.6, 50.0) == (
        pytest.approx(-2.3, abs=0.03)
    )


@pytest.mark.parametrize(
    ("m_min", "m_max"), [(0.001, 100.0), (1.0, 1.0), (2.0, 1.0), (0.1, np.inf)]
)
def test_bad_mass_range_says_what_is_needed(m_min, m_max):
    with pytest.raises(ValueError, match=r"need 0\.01 <= m_min < m_max"):
        KroupaIMF(m_min, m_max)
