r"""A linear-Gaussian inverse problem with an exact Gaussian posterior.

Parameters :math:`\theta \in \mathbb{R}^d` have a Gaussian prior
:math:`\mathcal{N}(m_0, \Sigma_0)` (by default :math:`\mathcal{N}(0, I)`) and are observed
through a fixed matrix :math:`A \in \mathbb{R}^{d_x \times d}` with isotropic noise,

.. math::

    x = A\theta + \varepsilon, \qquad \varepsilon \sim \mathcal{N}(0, \sigma^2 I).

Conjugacy gives the posterior :math:`\mathcal{N}(m(x), \Sigma)` with

.. math::

    \Sigma = \bigl(\Sigma_0^{-1} + A^\top A / \sigma^2\bigr)^{-1}, \qquad
    m(x) = \Sigma \bigl(\Sigma_0^{-1} m_0 + A^\top x / \sigma^2\bigr).

The covariance does not depend on :math:`x`, so every observation's posterior has the
same differential entropy :math:`H = \tfrac12 \log\det(2\pi e\,\Sigma)` nats. That is the
expected negative log posterior density of held-out pairs :math:`(\theta, x)` under the
true posterior, the floor a perfect density estimator reaches.

The matrix has i.i.d. entries :math:`A_{ij} \sim \mathcal{N}(0, 1/d)` drawn from
``numpy.random.default_rng(seed)`` (see :func:`mixing_matrix`), so under the default prior
every noise-free observation component has unit variance on average, whatever :math:`d`.

Examples:
    >>> import numpy as np
    >>> sim = LinearGaussianSimulator(dim_theta=5, noise_std=0.1, seed=0)
    >>> theta, x = sim.sample_joint(3, seed=1)
    >>> means, cov = sim.posterior(x)
    >>> means.shape, cov.shape
    ((3, 5), (5, 5))
    >>> sim.true_posterior_sample(x, 100, seed=2).shape
    (3, 100, 5)
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy import linalg

from sbinn._validation import as_2d_float_array, check_nonnegative_int, check_positive_int
from sbinn.priors import Prior
from sbinn.simulator import Simulator

__all__ = ["GaussianPrior", "LinearGaussianSimulator", "mixing_matrix"]


def mixing_matrix(dim_x: int, dim_theta: int, seed: int) -> np.ndarray:
    """The forward matrix ``(dim_x, dim_theta)``: i.i.d. ``N(0, 1/dim_theta)`` entries.

    Examples:
        >>> bool(np.array_equal(mixing_matrix(3, 5, seed=0), mixing_matrix(3, 5, seed=0)))
        True
    """
    rng = np.random.default_rng(seed)
    return rng.standard_normal((dim_x, dim_theta)) / np.sqrt(dim_theta)


def _cholesky(cov: np.ndarray, name: str) -> np.ndarray:
    try:
        return linalg.cholesky(cov, lower=True)
    except linalg.LinAlgError as error:
        raise ValueError(f"{name} must be symmetric positive definite") from error


class GaussianPrior(Prior):
    r"""Multivariate normal prior :math:`\mathcal{N}(m_0, \Sigma_0)` over ``theta_1 ... theta_d``.

    Args:
        mean: Mean vector ``(d,)``.
        cov: Symmetric positive definite covariance ``(d, d)``.

    Examples:
        >>> prior = GaussianPrior(np.zeros(2), np.eye(2))
        >>> float(prior.log_prob(np.zeros((1, 2)))[0].round(4))
        -1.8379
    """

    def __init__(self, mean: np.ndarray, cov: np.ndarray) -> None:
        mean = np.asarray(mean, dtype=float)
        cov = np.asarray(cov, dtype=float)
        if mean.ndim != 1 or mean.size == 0:
            raise ValueError(f"mean must be a non-empty vector, got shape {mean.shape}")
        dim = mean.shape[0]
        if cov.shape != (dim, dim):
            raise ValueError(f"cov must have shape ({dim}, {dim}) to match mean, got {cov.shape}")
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(cov))):
            raise ValueError("mean and cov must be finite")
        if not np.allclose(cov, cov.T, rtol=1e-10, atol=1e-12):
            raise ValueError("cov must be symmetric positive definite, got an asymmetric matrix")
        self.mean = mean
        self.cov = cov
        self.cholesky = _cholesky(cov, "cov")
        self.names = tuple(f"theta_{i + 1}" for i in range(dim))

    def __repr__(self) -> str:
        return f"GaussianPrior(mean={self.mean.tolist()}, cov={self.cov.tolist()})"

    def sample(self, num_samples: int, rng: np.random.Generator) -> np.ndarray:
        n = check_nonnegative_int(num_samples, "num_samples")
        return self.mean + rng.standard_normal((n, self.dim)) @ self.cholesky.T

    def log_prob(self, theta: np.ndarray) -> np.ndarray:
        theta = self._check_theta(theta)
        white = linalg.solve_triangular(self.cholesky, (theta - self.mean).T, lower=True)
        log_det = 2 * np.log(np.diag(self.cholesky)).sum()
        return -0.5 * ((white**2).sum(axis=0) + log_det + self.dim * np.log(2 * np.pi))

    def to_config(self) -> dict:
        """JSON-serialisable description."""
        return {
            "family": "MultivariateNormal",
            "mean": self.mean.tolist(),
            "cov": self.cov.tolist(),
        }


def _check_noise_std(noise_std: float) -> float:
    if (
        isinstance(noise_std, bool)
        or not isinstance(noise_std, numbers.Real)
        or not np.isfinite(noise_std)
        or noise_std <= 0
    ):
        raise ValueError(f"noise_std must be a finite number > 0, got {noise_std!r}")
    return float(noise_std)


class LinearGaussianSimulator(Simulator):
    """``x = A theta + noise`` with a Gaussian prior and an exact Gaussian posterior.

    Args:
        dim_theta: Number of parameters ``d``.
        dim_x: Number of observed components; defaults to ``dim_theta``. Fewer than
            ``dim_theta`` leaves directions that only the prior constrains.
        noise_std: Standard deviation of the observation noise (> 0).
        seed: Seed of the forward matrix (see :func:`mixing_matrix`); not of the noise.
        prior_mean: Prior mean, a scalar or a ``(d,)`` vector; defaults to 0.
        prior_cov: Prior covariance ``(d, d)``; defaults to the identity.
    """

    name = "linear_gaussian"
    version = "1"

    def __init__(
        self,
        dim_theta: int = 5,
        dim_x: int | None = None,
        noise_std: float = 0.1,
        seed: int = 0,
        *,
        prior_mean: float | np.ndarray | None = None,
        prior_cov: np.ndarray | None = None,
    ) -> None:
        dim_theta = check_positive_int(dim_theta, "dim_theta")
        dim_x = dim_theta if dim_x is None else check_positive_int(dim_x, "dim_x")
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
        mean = np.zeros(dim_theta) if prior_mean is None else np.asarray(prior_mean, dtype=float)
        if mean.shape not in ((), (dim_theta,)):
            raise ValueError(
                f"prior_mean must be a scalar or a vector of length {dim_theta}, "
                f"got shape {mean.shape}"
            )
        mean = np.broadcast_to(mean, (dim_theta,)).copy()
        cov = np.eye(dim_theta) if prior_cov is None else prior_cov
        super().__init__(GaussianPrior(mean, cov), dim_x)
        self.noise_std = _check_noise_std(noise_std)
        self.seed = int(seed)
        self.matrix = mixing_matrix(dim_x, dim_theta, self.seed)
        precision = linalg.cho_solve((self.prior.cholesky, True), np.eye(dim_theta))
        precision += self.matrix.T @ self.matrix / self.noise_std**2
        self._posterior_cov = linalg.cho_solve(
            (_cholesky(precision, "precision"), True), np.eye(dim_theta)
        )
        self._posterior_cov = 0.5 * (self._posterior_cov + self._posterior_cov.T)
        self._posterior_cholesky = _cholesky(self._posterior_cov, "posterior covariance")
        self._prior_term = linalg.cho_solve((self.prior.cholesky, True), self.prior.mean)

    @property
    def noise_dimension(self) -> int:
        """One standard-normal draw per observed component: ``x = A theta + noise_std * e``.

        Exposing the draws lets the bidirectional INN take them as latent inputs
        (``INNConfig.latent_noise``); without them its forward map is deterministic and its
        posterior collapses onto ``{theta : A theta = x}``, narrower the better it fits.
        """
        return self.dim_observations

    def _simulate(self, theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return self._simulate_given_noise(
            theta, rng.standard_normal((theta.shape[0], self.dim_observations))
        )

    def _simulate_given_noise(self, theta: np.ndarray, noise: np.ndarray) -> np.ndarray:
        return theta @ self.matrix.T + self.noise_std * noise

    def posterior(self, x_obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact posterior of each observation.

        Args:
            x_obs: Observations ``(n_obs, dim_x)`` or one ``(dim_x,)``.

        Returns:
            ``(means, cov)``: means ``(n_obs, dim_theta)`` and the covariance
            ``(dim_theta, dim_theta)`` shared by all observations.
        """
        x_obs = as_2d_float_array(x_obs, self.dim_observations, "x_obs")
        natural = self._prior_term + x_obs @ self.matrix / self.noise_std**2
        return natural @ self._posterior_cov, self._posterior_cov.copy()

    def true_posterior_sample(
        self, x_obs: np.ndarray, num_samples: int, seed: int | None = None
    ) -> np.ndarray:
        """Exact posterior samples ``(n_obs, num_samples, dim_theta)``."""
        num_samples = check_positive_int(num_samples, "num_samples")
        means, _ = self.posterior(x_obs)
        rng = np.random.default_rng(seed)
        white = rng.standard_normal((means.shape[0], num_samples, self.dim_parameters))
        return means[:, None, :] + white @ self._posterior_cholesky.T

    def posterior_entropy(self) -> float:
        r"""Differential entropy :math:`\tfrac12\log\det(2\pi e\,\Sigma)` of the posterior, in nats.

        Examples:
            >>> sharp, broad = (LinearGaussianSimulator(noise_std=s) for s in (0.01, 1.0))
            >>> bool(sharp.posterior_entropy() < broad.posterior_entropy())
            True
        """
        log_det = 2 * np.log(np.diag(self._posterior_cholesky)).sum()
        return float(0.5 * (self.dim_parameters * np.log(2 * np.pi * np.e) + log_det))

    def settings(self) -> dict:
        # The matrix is recorded next to its seed: numpy does not promise identical random
        # streams across versions, and a benchmark record must name the exact problem.
        return super().settings() | {
            "dim_x": self.dim_observations,
            "noise_std": self.noise_std,
            "seed": self.seed,
            "matrix": self.matrix.tolist(),
        }
