"""Linear-Gaussian models with exact posteriors, and miscalibrated versions of them.

Prior θ ~ N(0, Σ₀), likelihood x = Aθ + N(0, σ²I): the posterior is N(μ, Σ) with
Σ = (Σ₀⁻¹ + AᵀA/σ²)⁻¹ and μ = ΣAᵀx/σ². With Σ = LLᵀ, the truth is θ* = μ + LW with
W ~ N(0, I). A reported posterior draws μ + L(shift + scale·ε): ``scale < 1`` is
over-confident, ``shift ≠ 0`` biased by ``shift`` posterior stds in whitened
coordinates. In one dimension with A = Σ₀ = 1 this is the conjugate model
N(x/(1+σ²), σ²/(1+σ²)).
"""

import numpy as np

NOISE = 0.5
# A correlated prior and a likelihood that sees mostly θ₁ + θ₂: posterior correlation ≈ −0.57.
CORRELATED_PRIOR = np.array([[1.0, 0.5], [0.5, 1.0]])
CORRELATED_FORWARD = np.array([[1.0, 1.0], [0.0, 0.5]])


def posterior_covariance(prior_cov, forward, noise=NOISE):
    return np.linalg.inv(np.linalg.inv(prior_cov) + forward.T @ forward / noise**2)


def linear_gaussian(num_obs, num_samples, *, seed, dim=1, scale=1.0, shift=0.0, correlated=None):
    """``(samples, theta, prior_samples)`` for the conjugate (dim 1..d) or correlated 2-D model.

    ``correlated`` defaults to True for ``dim == 2``. ``shift`` may be a vector (whitened).
    """
    correlated = dim == 2 if correlated is None else correlated
    if correlated:
        prior_cov, forward = CORRELATED_PRIOR, CORRELATED_FORWARD
    else:
        prior_cov, forward = np.eye(dim), np.eye(dim)
    rng = np.random.default_rng(seed)
    prior_chol = np.linalg.cholesky(prior_cov)
    theta = rng.normal(size=(num_obs, dim)) @ prior_chol.T
    x = theta @ forward.T + NOISE * rng.normal(size=(num_obs, dim))
    post_cov = posterior_covariance(prior_cov, forward)
    post_mean = x @ forward @ post_cov.T / NOISE**2
    chol = np.linalg.cholesky(post_cov)
    whitened = np.asarray(shift) + scale * rng.normal(size=(num_obs, num_samples, dim))
    # A flat (n·N, d) product: numpy is slow at many tiny stacked matrix products.
    samples = post_mean[:, None, :] + (whitened.reshape(-1, dim) @ chol.T).reshape(whitened.shape)
    prior_samples = rng.normal(size=(200_000, dim)) @ prior_chol.T
    return samples, theta, prior_samples


def marginal_shift(dim, shift, *, correlated=None):
    """The mean shift, in marginal posterior stds, of ``linear_gaussian(..., shift=shift)``."""
    correlated = dim == 2 if correlated is None else correlated
    if not correlated:
        return np.full(dim, float(shift))
    post_cov = posterior_covariance(CORRELATED_PRIOR, CORRELATED_FORWARD)
    chol = np.linalg.cholesky(post_cov)
    return chol @ np.full(2, float(shift)) / np.sqrt(np.diag(post_cov))
