"""Small Gaussian posteriors and simulators shared by the report tests."""

import numpy as np

from sbinn.function_simulator import FunctionSimulator
from sbinn.priors import JointPrior, Normal

NOISE = 0.5


def gaussian_posteriors(num_obs=60, num_samples=50, dim=2, *, scale=1.0, seed=0):
    """Conjugate Gaussian model: prior N(0, I), x = θ + N(0, NOISE² I).

    Returns ``(theta, x, samples)``; the samples are the exact posterior with its
    standard deviation multiplied by ``scale`` (``scale < 1``: over-confident).
    """
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=(num_obs, dim))
    x = theta + NOISE * rng.normal(size=(num_obs, dim))
    post_std = NOISE / np.sqrt(1 + NOISE**2)
    noise = rng.normal(size=(num_obs, num_samples, dim))
    samples = (x / (1 + NOISE**2))[:, None, :] + scale * post_std * noise
    return theta, x, samples


def doubling_simulator(dim=2, *, fail_above=None):
    """Deterministic ``x = 2θ``; rows with ``θ_1 > fail_above`` fail (NaN)."""

    def double(theta):
        x = 2.0 * theta
        if fail_above is not None:
            x[theta[:, 0] > fail_above] = np.nan
        return x

    prior = JointPrior({f"p{k}": Normal(0.0, 1.0) for k in range(dim)})
    return FunctionSimulator(double, prior, observation_names=[f"y{k}" for k in range(dim)])
