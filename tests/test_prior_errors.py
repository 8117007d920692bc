"""Priors: every construction and use error names what was expected and what was given."""

import re

import numpy as np
import pytest
from scipy import stats

from sbinn.priors import (
    Distribution,
    JointPrior,
    LogUniform,
    Normal,
    Prior,
    TruncatedNormal,
    Uniform,
)
from tests.test_priors import ALL_PRIORS

INF = np.inf


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: Normal(0.0, 0.0), ValueError, "Normal: scale must be > 0, got [0.0]"),
        (
            lambda: Normal(0.0, [1.0, -1.0]),
            ValueError,
            "Normal: scale must be > 0, got [1.0, -1.0]",
        ),
        (
            lambda: TruncatedNormal(0.0, -2.0, 0.0, 1.0),
            ValueError,
            "TruncatedNormal: scale must be > 0, got [-2.0]",
        ),
        (
            lambda: Uniform(1.0, 1.0),
            ValueError,
            "Uniform: need low < high, got low=[1.0], high=[1.0]",
        ),
        (
            lambda: Uniform([0.0, 2.0], 1.0),
            ValueError,
            "Uniform: need low < high, got low=[0.0, 2.0], high=[1.0, 1.0]",
        ),
        (lambda: Uniform(-1e308, 1e308), ValueError, "Uniform: high - low must be a finite float"),
        (
            lambda: TruncatedNormal(0.0, 1.0, 1.0, 1.0),
            ValueError,
            "TruncatedNormal: need low < high, got low=[1.0], high=[1.0]",
        ),
        (
            lambda: TruncatedNormal(0.0, 1.0, INF, INF),
            ValueError,
            "TruncatedNormal: need low < high",
        ),
        (
            lambda: LogUniform(0.0, 1.0),
            ValueError,
            "LogUniform: need 0 < low < high, got low=[0.0], high=[1.0]",
        ),
        (
            lambda: LogUniform(-1.0, 1.0),
            ValueError,
            "LogUniform: need 0 < low < high, got low=[-1.0]",
        ),
        (
            lambda: LogUniform(2.0, 1.0),
            ValueError,
            "LogUniform: need 0 < low < high, got low=[2.0], high=[1.0]",
        ),
        (lambda: Normal(np.nan, 1.0), ValueError, "Normal: loc must be finite, got nan"),
        (lambda: Normal(0.0, INF), ValueError, "Normal: scale must be finite, got inf"),
        (lambda: Uniform(-INF, 1.0), ValueError, "Uniform: low must be finite, got -inf"),
        (
            lambda: LogUniform(1.0, [10.0, INF]),
            ValueError,
            "LogUniform: high must be finite, got [10.0, inf]",
        ),
        (
            lambda: TruncatedNormal(INF, 1.0, 0.0, 1.0),
            ValueError,
            "TruncatedNormal: loc must be finite, got inf",
        ),
        (
            lambda: TruncatedNormal(0.0, 1.0, np.nan, 1.0),
            ValueError,
            "TruncatedNormal: low must be finite, got nan",
        ),
        (
            lambda: Normal([0.0, 1.0], [1.0, 2.0, 3.0]),
            ValueError,
            "Normal: parameter shapes {'loc': (2,), 'scale': (3,)} do not broadcast",
        ),
        (
            lambda: Normal([[0.0, 1.0]], 1.0),
            ValueError,
            "Normal: loc must be a scalar or a 1-D array, got shape (1, 2)",
        ),
        (
            lambda: Uniform(0.0, np.ones((2, 2))),
            ValueError,
            "Uniform: high must be a scalar or a 1-D array, got shape (2, 2)",
        ),
        (
            lambda: Normal([], 1.0),
            ValueError,
            "Normal: needs at least one parameter, got empty arrays {'loc': (0,), 'scale': ()}",
        ),
        (
            lambda: Normal("a", 1.0),
            TypeError,
            "Normal: loc must be a real number or a 1-D array of them, got str 'a'",
        ),
        (
            lambda: Uniform(0.0, None),
            TypeError,
            "Uniform: high must be a real number or a 1-D array of them, got NoneType None",
        ),
        (
            lambda: LogUniform(True, 2.0),
            TypeError,
            "LogUniform: low must be a real number or a 1-D array of them, got bool True",
        ),
        (lambda: Normal(1j, 1.0), TypeError, "Normal: loc must be a real number"),
    ],
)
def test_distribution_errors_name_expected_and_given(make, error, message):
    with pytest.raises(error, match=re.escape(message)):
        make()


@pytest.mark.parametrize(
    ("factors", "error", "message"),
    [
        (
            [Normal(0.0, 1.0)],
            TypeError,
            "JointPrior expects a non-empty mapping {name: Distribution}, got list",
        ),
        (Normal(0.0, 1.0), TypeError, "got Normal"),
        (
            {},
            ValueError,
            "JointPrior expects a non-empty mapping {name: Distribution}, got an empty mapping",
        ),
        (
            {"a": stats.norm(0, 1)},
            TypeError,
            "JointPrior: factor 'a' must be a Distribution (Normal, Uniform, LogUniform, "
            "TruncatedNormal), got rv_continuous_frozen",
        ),
        (
            {"a": JointPrior({"b": Normal(0.0, 1.0)})},
            TypeError,
            "factor 'a' must be a Distribution",
        ),
        (
            {1: Normal(0.0, 1.0)},
            TypeError,
            "JointPrior: factor names must be non-empty strings, got 1",
        ),
        ({"": Normal(0.0, 1.0)}, TypeError, "factor names must be non-empty strings, got ''"),
    ],
)
def test_joint_prior_errors(factors, error, message):
    with pytest.raises(error, match=re.escape(message)):
        JointPrior(factors)


@pytest.mark.parametrize("prior", ALL_PRIORS, ids=repr)
@pytest.mark.parametrize("shape", [(4, 7), (7,), (2, 3, 1)])
def test_log_prob_rejects_wrong_theta_shape(prior, shape):
    message = f"theta must have shape (n, {prior.dim}) or ({prior.dim},), got shape {shape}"
    with pytest.raises(ValueError, match=re.escape(message)):
        prior.log_prob(np.zeros(shape))


def test_log_prob_rejects_non_numeric_theta():
    with pytest.raises(TypeError, match="theta must be a numeric array, got dtype <U1"):
        Normal(0.0, 1.0).log_prob(np.array([["a"]]))


@pytest.mark.parametrize("prior", ALL_PRIORS, ids=repr)
def test_num_samples_checks(prior):
    rng = np.random.default_rng(0)
    assert prior.sample(0, rng).shape == (0, prior.dim)
    assert prior.sample(np.int64(3), rng).shape == (3, prior.dim)
    with pytest.raises(ValueError, match="num_samples must be a non-negative integer, got -1"):
        prior.sample(-1, rng)
    with pytest.raises(
        TypeError, match=re.escape("num_samples must be a non-negative integer, got float 2.0")
    ):
        prior.sample(2.0, rng)
    with pytest.raises(
        TypeError, match="num_samples must be a non-negative integer, got bool True"
    ):
        prior.sample(True, rng)


def test_prior_is_abstract():
    with pytest.raises(TypeError):
        Prior()
    assert issubclass(Normal, Distribution)
