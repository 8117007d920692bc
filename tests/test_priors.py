"""Priors: normalisation, sampling, support, names and configuration."""

import json

import numpy as np
import pytest
from scipy import integrate, stats

from sbinn.priors import (
    JointPrior,
    LogUniform,
    Normal,
    Prior,
    TruncatedNormal,
    Uniform,
)

INF = np.inf


def density(prior):
    """Scalar density of a one-dimensional prior, for scipy quadrature."""
    return lambda t: float(np.exp(prior.log_prob(np.array([[t]]))[0]))


def reference(prior):
    """The frozen scipy distribution of each column of a single-family factor."""
    p = prior.parameters
    if isinstance(prior, Normal):
        return [stats.norm(m, s) for m, s in zip(p["loc"], p["scale"], strict=True)]
    if isinstance(prior, Uniform):
        return [stats.uniform(lo, hi - lo) for lo, hi in zip(p["low"], p["high"], strict=True)]
    if isinstance(prior, LogUniform):
        return [stats.loguniform(lo, hi) for lo, hi in zip(p["low"], p["high"], strict=True)]
    return [
        stats.truncnorm((lo - m) / s, (hi - m) / s, m, s)
        for m, s, lo, hi in zip(p["loc"], p["scale"], p["low"], p["high"], strict=True)
    ]


# --- normalisation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prior", "pieces"),
    [
        (Normal(1.5, 0.3), [(-INF, 1.5), (1.5, INF)]),
        (Normal(-40.0, 7.0), [(-INF, -40.0), (-40.0, INF)]),
        (Uniform(-2.0, 3.0), [(-3.0, -2.0), (-2.0, 3.0), (3.0, 4.0)]),
        (Uniform(1e-3, 2e-3), [(1e-3, 2e-3)]),
        (LogUniform(1e-3, 1e4), [(10.0**k, 10.0 ** (k + 1)) for k in range(-3, 4)]),
        (LogUniform(2.0, 3.0), [(1.0, 2.0), (2.0, 3.0), (3.0, 4.0)]),
        (TruncatedNormal(0.5, 2.0, -1.0, 3.0), [(-2.0, -1.0), (-1.0, 0.5), (0.5, 3.0), (3.0, 4.0)]),
        (TruncatedNormal(1.0, 0.5, 0.0, INF), [(-1.0, 0.0), (0.0, 1.0), (1.0, INF)]),
        (TruncatedNormal(1.0, 0.5, -INF, 2.0), [(-INF, 1.0), (1.0, 2.0), (2.0, 3.0)]),
        (TruncatedNormal(0.0, 1.0, -INF, INF), [(-INF, 0.0), (0.0, INF)]),
        (TruncatedNormal(0.0, 1.0, 3.0, INF), [(3.0, 4.0), (4.0, INF)]),
        (TruncatedNormal(0.0, 0.1, 1.0, 1.5), [(1.0, 1.1), (1.1, 1.5)]),
    ],
    ids=repr,
)
def test_density_integrates_to_one(prior, pieces):
    f = density(prior)
    total = 0.0
    for a, b in pieces:
        value, error = integrate.quad(f, a, b, epsabs=1e-11, epsrel=1e-10, limit=200)
        assert error < 1e-7
        total += value
    assert total == pytest.approx(1.0, abs=1e-6)


def test_joint_density_integrates_to_one_with_dblquad():
    prior = JointPrior({"a": Normal(2.0, 0.5), "b": Uniform(-1.0, 3.0)})

    def f(b, a):
        return float(np.exp(prior.log_prob(np.array([[a, b]]))[0]))

    value, error = integrate.dblquad(f, -3.0, 7.0, -1.0, 3.0, epsabs=1e-8, epsrel=1e-8)
    assert error < 1e-6
    assert value == pytest.approx(1.0, abs=1e-7)


def gauss_legendre_2d(prior, pieces_a, pieces_b, order=80):
    """Tensor-product Gauss-Legendre integral of a 2-D prior density over pieces of the plane."""
    nodes, weights = np.polynomial.legendre.leggauss(order)
    total = 0.0
    for a_low, a_high in pieces_a:
        a = (a_high - a_low) / 2 * nodes + (a_high + a_low) / 2
        wa = (a_high - a_low) / 2 * weights
        for b_low, b_high in pieces_b:
            b = (b_high - b_low) / 2 * nodes + (b_high + b_low) / 2
            wb = (b_high - b_low) / 2 * weights
            grid = np.stack(np.meshgrid(a, b, indexing="ij"), axis=-1).reshape(-1, 2)
            dens = np.exp(prior.log_prob(grid)).reshape(order, order)
            total += wa @ dens @ wb
    return total


@pytest.mark.parametrize(
    ("factors", "pieces_a", "pieces_b"),
    [
        (
            {"a": TruncatedNormal(0.5, 1.0, 0.0, INF), "b": LogUniform(0.1, 10.0)},
            [(0.0, 0.5), (0.5, 3.0), (3.0, 16.0)],
            [(0.1, 1.0), (1.0, 10.0)],
        ),
        (
            {"a": Uniform(-1.0, 2.0), "b": TruncatedNormal(0.0, 2.0, -INF, 1.0)},
            [(-1.0, 2.0)],
            [(-30.0, -4.0), (-4.0, 0.0), (0.0, 1.0)],
        ),
        (
            {"a": LogUniform(1e-2, 1e2), "b": Normal(-3.0, 0.1)},
            [(10.0**k, 10.0 ** (k + 1)) for k in range(-2, 2)],
            [(-5.0, -3.0), (-3.0, -1.0)],
        ),
    ],
    ids=["truncnorm-loguniform", "uniform-truncnorm", "loguniform-normal"],
)
def test_joint_density_integrates_to_one_in_2d(factors, pieces_a, pieces_b):
    prior = JointPrior(factors)
    assert gauss_legendre_2d(prior, pieces_a, pieces_b) == pytest.approx(1.0, abs=1e-9)


def test_joint_density_on_grid_is_zero_outside_support_and_normalised():
    prior = JointPrior({"a": Uniform(-1.0, 2.0), "b": LogUniform(1.0, 100.0)})
    a = np.linspace(-1.5, 2.5, 401)
    log_b = np.linspace(-1.0, np.log(200.0), 401)
    grid_a, grid_log_b = np.meshgrid(a, log_b, indexing="ij")
    theta = np.stack([grid_a.ravel(), np.exp(grid_log_b.ravel())], axis=1)
    dens = np.exp(prior.log_prob(theta)).reshape(grid_a.shape)
    outside = (grid_a < -1) | (grid_a > 2) | (np.exp(grid_log_b) < 1) | (np.exp(grid_log_b) > 100)
    assert np.all(dens[outside] == 0)
    # integrate in (a, log b): the Jacobian of b = exp(log b) is b
    jacobian = np.exp(grid_log_b)
    da, dlb = a[1] - a[0], log_b[1] - log_b[0]
    assert np.sum(dens * jacobian) * da * dlb == pytest.approx(1.0, abs=0.02)


# --- log_prob against scipy, samples against the CDF ----------------------------------------

FACTORS = [
    Normal([0.0, 10.0], [1.0, 3.0]),
    Uniform([-1.0, 5.0], [1.0, 5.5]),
    LogUniform([1e-2, 1e5], [1e2, 10**7.5]),
    TruncatedNormal(
        [0.0, 1.0, 1.0, 0.5], [1.0, 0.5, 0.5, 2.0], [-1.0, 0.0, -INF, -INF], [2.0, INF, 2.0, INF]
    ),
    TruncatedNormal(0.0, 1.0, 2.5, 4.0),
]


@pytest.mark.parametrize("prior", FACTORS, ids=repr)
def test_log_prob_matches_scipy_inside_and_outside_support(prior):
    rng = np.random.default_rng(1)
    references = reference(prior)
    bounds = prior.bounds
    low = np.where(np.isfinite(bounds[:, 0]), bounds[:, 0], -20.0)
    high = np.where(np.isfinite(bounds[:, 1]), bounds[:, 1], 20.0)
    width = high - low
    theta = rng.uniform(low - 0.2 * width, high + 0.2 * width, size=(200, prior.dim))
    theta[:, np.isfinite(bounds[:, 0]) & (bounds[:, 0] > 0)] = np.abs(
        theta[:, np.isfinite(bounds[:, 0]) & (bounds[:, 0] > 0)]
    )
    expected = sum(ref.logpdf(theta[:, j]) for j, ref in enumerate(references))
    np.testing.assert_allclose(prior.log_prob(theta), expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("prior", FACTORS, ids=repr)
def test_samples_follow_the_distribution(prior):
    theta = prior.sample(4000, np.random.default_rng(2024))
    assert theta.shape == (4000, prior.dim)
    for j, ref in enumerate(reference(prior)):
        assert stats.kstest(theta[:, j], ref.cdf).pvalue > 1e-3, f"column {j}"


def test_kolmogorov_smirnov_check_has_power():
    """The threshold used above does reject a sample from the wrong distribution."""
    theta = Normal(0.15, 1.0).sample(4000, np.random.default_rng(2024))
    assert stats.kstest(theta[:, 0], stats.norm(0.0, 1.0).cdf).pvalue < 1e-3


def test_joint_samples_follow_each_factor():
    prior = JointPrior(
        {"n": Normal(3.0, 2.0), "u": Uniform([0.0, 10.0], [1.0, 20.0]), "l": LogUniform(1.0, 1e3)}
    )
    theta = prior.sample(4000, np.random.default_rng(7))
    references = [
        stats.norm(3, 2),
        stats.uniform(0, 1),
        stats.uniform(10, 10),
        stats.loguniform(1, 1e3),
    ]
    for j, ref in enumerate(references):
        assert stats.kstest(theta[:, j], ref.cdf).pvalue > 1e-3, prior.names[j]


ALL_PRIORS = [
    *FACTORS,
    JointPrior({"a": Normal(0.0, 1.0), "b": LogUniform(1.0, [10.0, 100.0])}),
]


@pytest.mark.parametrize("prior", ALL_PRIORS, ids=repr)
def test_samples_are_inside_bounds_with_finite_log_prob(prior):
    theta = prior.sample(5000, np.random.default_rng(3))
    bounds = prior.bounds
    assert np.all((theta >= bounds[:, 0]) & (theta <= bounds[:, 1]))
    assert np.all(np.isfinite(prior.log_prob(theta)))


@pytest.mark.parametrize("prior", ALL_PRIORS, ids=repr)
def test_seeds_reproduce_and_differ(prior):
    a = prior.sample(50, np.random.default_rng(11))
    b = prior.sample(50, np.random.default_rng(11))
    c = prior.sample(50, np.random.default_rng(12))
    np.testing.assert_array_equal(a, b)
    assert not np.any(a == c)


@pytest.mark.parametrize(
    "prior",
    [
        LogUniform(1.2345e5, 1.2345e5 * (1 + 1e-13)),
        TruncatedNormal(0.3, 0.7, 0.1, 0.1 + 1e-12),
        Uniform(0.1, 0.1 + 1e-14),
    ],
    ids=repr,
)
def test_samples_of_narrow_priors_stay_inside_bounds(prior):
    theta = prior.sample(20_000, np.random.default_rng(0))
    assert np.all((theta >= prior.bounds[:, 0]) & (theta <= prior.bounds[:, 1]))
    assert np.all(np.isfinite(prior.log_prob(theta)))


# --- support ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prior", "outside", "edges"),
    [
        (Uniform(-1.0, 2.0), [-1.0 - 1e-12, 2.0 + 1e-12, INF, -INF, np.nan], [-1.0, 2.0]),
        (LogUniform(0.5, 8.0), [0.0, -1.0, 0.4999, 8.0001, INF, np.nan], [0.5, 8.0]),
        (TruncatedNormal(0.0, 1.0, -0.5, 1.5), [-0.5001, 1.5001, -INF, INF], [-0.5, 1.5]),
        (TruncatedNormal(0.0, 1.0, 0.0, INF), [-1e-9, -INF], [0.0, 1e6]),
    ],
    ids=repr,
)
def test_log_prob_is_minus_inf_outside_support_and_finite_on_edges(prior, outside, edges):
    assert np.all(prior.log_prob(np.array(outside)[:, None]) == -INF)
    assert np.all(np.isfinite(prior.log_prob(np.array(edges)[:, None])))


def test_normal_log_prob_at_infinity_is_minus_inf():
    assert np.all(Normal(0.0, 1.0).log_prob(np.array([[INF], [-INF]])) == -INF)


def test_joint_log_prob_is_minus_inf_if_any_coordinate_is_outside():
    prior = JointPrior({"a": Uniform(0.0, 1.0), "b": Normal(0.0, 1.0), "c": LogUniform(1.0, 2.0)})
    theta = np.array([[0.5, 0.0, 1.5], [1.5, 0.0, 1.5], [0.5, 0.0, 2.5], [0.5, 1e3, 1.5]])
    log_prob = prior.log_prob(theta)
    assert np.isfinite(log_prob[0])
    assert log_prob[1] == log_prob[2] == -INF
    assert log_prob[3] < -1e5


def test_joint_log_prob_is_sum_of_factors():
    factors = {"a": Normal([0.0, 1.0], 2.0), "b": TruncatedNormal(0.0, 1.0, -1.0, INF)}
    prior = JointPrior(factors)
    theta = prior.sample(20, np.random.default_rng(5))
    expected = factors["a"].log_prob(theta[:, :2]) + factors["b"].log_prob(theta[:, 2:])
    np.testing.assert_allclose(prior.log_prob(theta), expected)


def test_log_prob_accepts_a_single_vector():
    prior = JointPrior({"a": Normal(0.0, 1.0), "b": Uniform(0.0, 2.0)})
    expected = stats.norm.logpdf(0.3) - np.log(2.0)
    assert prior.log_prob(np.array([0.3, 1.0])) == pytest.approx([expected])


def test_wide_log_uniform_does_not_overflow():
    prior = LogUniform(1e-300, 1e300)
    assert prior.log_prob(np.array([[1.0]]))[0] == pytest.approx(-np.log(600 * np.log(10)))


# --- names, bounds and configuration --------------------------------------------------------


def test_joint_prior_expands_names_of_multidimensional_factors():
    factor = Uniform(0.0, [1.0, 2.0, 3.0])
    prior = JointPrior({"mass": LogUniform(1.0, 10.0), "a": factor, "z": Normal(0.0, 1.0)})
    assert prior.names == ("mass", "a_1", "a_2", "a_3", "z")
    assert prior.dim == 5
    assert factor.names == ("theta_1", "theta_2", "theta_3")


def test_distribution_default_names_and_dim():
    prior = Normal([0.0, 1.0], 1.0)
    assert prior.names == ("theta_1", "theta_2")
    assert prior.dim == 2
    assert isinstance(prior, Prior)


@pytest.mark.parametrize(
    ("factors", "duplicate"),
    [
        ({"a_1": Normal(0.0, 1.0), "a": Normal([0.0, 0.0], 1.0)}, "a_1"),
        ({"a": Normal([0.0, 0.0], 1.0), "a_2": Uniform(0.0, 1.0)}, "a_2"),
    ],
)
def test_joint_prior_rejects_duplicate_names(factors, duplicate):
    with pytest.raises(
        ValueError, match=rf"names must be unique.*\['{duplicate}'\] more than once"
    ):
        JointPrior(factors)


def test_bounds():
    prior = JointPrior(
        {
            "n": Normal(0.0, 1.0),
            "u": Uniform([0.0, -1.0], [1.0, 1.0]),
            "l": LogUniform(2.0, 3.0),
            "t": TruncatedNormal(0.0, 1.0, [-INF, 0.0], [1.0, INF]),
        }
    )
    expected = [[-INF, INF], [0.0, 1.0], [-1.0, 1.0], [2.0, 3.0], [-INF, 1.0], [0.0, INF]]
    np.testing.assert_array_equal(prior.bounds, expected)
    assert prior.bounds.shape == (prior.dim, 2)


def test_to_config_is_strict_json_including_infinite_bounds():
    prior = JointPrior(
        {
            "n": Normal(0.0, [1.0, 2.0]),
            "u": Uniform(-1.0, 1.0),
            "l": LogUniform(1e-3, 1e3),
            "t": TruncatedNormal(0.0, 1.0, -INF, INF),
        }
    )
    config = json.loads(json.dumps(prior.to_config(), allow_nan=False))
    assert list(config) == ["n", "u", "l", "t"]
    assert config["n"] == {"family": "Normal", "loc": [0.0, 0.0], "scale": [1.0, 2.0]}
    assert config["l"] == {"family": "LogUniform", "low": [1e-3], "high": [1e3]}
    assert config["t"]["low"] == ["-inf"] and config["t"]["high"] == ["inf"]
    assert float(config["t"]["low"][0]) == -INF


def test_repr_shows_parameters():
    assert repr(Normal(0.0, [1.0, 2.0])) == "Normal(loc=[0.0, 0.0], scale=[1.0, 2.0])"
    assert (
        repr(JointPrior({"a": Uniform(0, 1)}))
        == "JointPrior({'a': Uniform(low=[0.0], high=[1.0])})"
    )


def test_parameters_are_copied_from_the_caller():
    loc = np.array([0.0, 1.0])
    prior = Normal(loc, 1.0)
    loc[0] = 100.0
    assert prior.loc[0] == 0.0
