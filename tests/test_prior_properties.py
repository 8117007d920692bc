"""Priors, property-based: for random factors and seeds, samples stay inside the bounds
with finite densities, uniform densities are flat, and a joint prior is the product of its
factors."""

import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sbinn.priors import JointPrior, LogUniform, Normal, TruncatedNormal, Uniform

INF = np.inf

finite = st.floats(-1e3, 1e3)
scale = st.floats(1e-3, 1e3)
dims = st.integers(1, 3)


@st.composite
def normals(draw):
    d = draw(dims)
    return Normal(
        draw(st.lists(finite, min_size=d, max_size=d)),
        draw(st.lists(scale, min_size=d, max_size=d)),
    )


@st.composite
def uniforms(draw):
    d = draw(dims)
    low = np.array(draw(st.lists(finite, min_size=d, max_size=d)))
    width = np.array(draw(st.lists(st.floats(1e-6, 1e3), min_size=d, max_size=d)))
    return Uniform(low, low + width)


@st.composite
def log_uniforms(draw):
    d = draw(dims)
    low = np.array(draw(st.lists(st.floats(1e-10, 1e5), min_size=d, max_size=d)))
    ratio = np.array(draw(st.lists(st.floats(1 + 1e-9, 1e8), min_size=d, max_size=d)))
    return LogUniform(low, low * ratio)


@st.composite
def truncated_normals(draw):
    loc, s = draw(finite), draw(scale)
    a = draw(st.one_of(st.just(-INF), st.floats(-20.0, 20.0)))
    width = draw(st.one_of(st.just(INF), st.floats(1e-3, 20.0)))
    low = loc + s * a if np.isfinite(a) else -INF
    high = low + s * width if np.isfinite(low) else loc + s * draw(st.floats(-20.0, 20.0))
    if not np.isfinite(width):
        high = INF
    return TruncatedNormal(loc, s, low, high)


any_factor = st.one_of(normals(), uniforms(), log_uniforms(), truncated_normals())


@settings(max_examples=60, deadline=None)
@given(prior=any_factor, seed=st.integers(0, 2**32 - 1))
def test_property_samples_inside_bounds_with_finite_log_prob(prior, seed):
    theta = prior.sample(64, np.random.default_rng(seed))
    bounds = prior.bounds
    assert theta.shape == (64, prior.dim)
    assert np.all((theta >= bounds[:, 0]) & (theta <= bounds[:, 1]))
    assert np.all(np.isfinite(prior.log_prob(theta)))


@settings(max_examples=40, deadline=None)
@given(prior=uniforms(), u=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=20))
def test_property_uniform_log_prob_is_constant_inside(prior, u):
    frac = np.asarray(u)[:, None] * np.ones(prior.dim)
    theta = np.clip(prior.low + frac * (prior.high - prior.low), prior.low, prior.high)
    expected = -np.sum(np.log(prior.high - prior.low))
    np.testing.assert_allclose(prior.log_prob(theta), expected, rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(factors=st.lists(any_factor, min_size=1, max_size=3), seed=st.integers(0, 2**32 - 1))
def test_property_joint_prior_is_product_of_factors(factors, seed):
    prior = JointPrior({f"p{i}": f for i, f in enumerate(factors)})
    assert prior.dim == sum(f.dim for f in factors)
    theta = prior.sample(16, np.random.default_rng(seed))
    expected = np.zeros(16)
    start = 0
    for f in factors:
        expected += f.log_prob(theta[:, start : start + f.dim])
        start += f.dim
    np.testing.assert_allclose(prior.log_prob(theta), expected)
    json.dumps(prior.to_config(), allow_nan=False)
