r"""The normal-inverse-gamma family over :math:`(\mu, \log\sigma)` and its conjugate update.

A normal-inverse-gamma distribution :math:`\mathrm{NIG}(m, \kappa, \alpha, \beta)` is

.. math::

    \sigma^2 \sim \mathrm{InvGamma}(\alpha, \beta), \qquad
    \mu \mid \sigma^2 \sim \mathcal{N}(m, \sigma^2 / \kappa).

Parameters are written :math:`\theta = (\mu, s)` with :math:`s = \log\sigma`, which is
unconstrained, so an invertible network needs no constraint on its output. The change of
variables :math:`\sigma^2 = e^{2s}`, :math:`|d\sigma^2/ds| = 2e^{2s}`, gives the density

.. math::

    \log p(\mu, s) = \log\mathcal{N}(\mu; m, e^{2s}/\kappa)
        + \log\mathrm{InvGamma}(e^{2s}; \alpha, \beta) + \log 2 + 2s.

Given i.i.d. draws :math:`x_1..x_n \sim \mathcal{N}(\mu, \sigma^2)` with mean :math:`\bar x`,
the posterior is again normal-inverse-gamma with

.. math::

    \kappa_n = \kappa + n, \quad m_n = \frac{\kappa m + n\bar x}{\kappa_n}, \quad
    \alpha_n = \alpha + \frac n2, \quad
    \beta_n = \beta + \frac12\sum_i (x_i - \bar x)^2 + \frac{\kappa n (\bar x - m)^2}{2\kappa_n}.

The marginal of :math:`\mu` is a Student-t with :math:`2\alpha` degrees of freedom,
location :math:`m` and scale :math:`\sqrt{\beta / (\alpha\kappa)}`; its standard deviation is
:math:`\sqrt{\beta / ((\alpha - 1)\kappa)}` for :math:`\alpha > 1`.

Examples:
    >>> import numpy as np
    >>> prior = NormalInverseGamma(0.0, 1.0, 3.0, 2.0)
    >>> posterior = prior.update(np.array([[1.0, 2.0, 3.0]]), np.ones((1, 3), dtype=bool))
    >>> posterior.mu.tolist(), posterior.kappa.tolist(), posterior.alpha.tolist()
    ([1.5], [4.0], [4.5])
    >>> posterior.sample(10, np.random.default_rng(0)).shape
    (1, 10, 2)
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from sbinn._validation import check_nonnegative_int
from sbinn.priors import Prior

__all__ = ["NormalInverseGamma", "NormalInverseGammaPrior"]


def _check_masked(values: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(values, dtype=float)
    mask = np.asarray(mask)
    if mask.dtype != np.bool_:
        raise TypeError(f"mask must be a boolean array, got dtype {mask.dtype}")
    if values.ndim != 2 or mask.shape != values.shape:
        raise ValueError(
            f"values and mask must both have shape (n_obs, length), "
            f"got {values.shape} and {mask.shape}"
        )
    empty = np.flatnonzero(~mask.any(axis=1))
    if empty.size:
        raise ValueError(
            f"every set needs at least one present entry; {empty.size} set(s) are empty, "
            f"first at row {empty[0]}"
        )
    if not np.all(np.isfinite(values[mask])):
        raise ValueError("set values must be finite wherever mask is True")
    return values, mask


@dataclass(frozen=True)
class NormalInverseGamma:
    r"""Normal-inverse-gamma hyperparameters, each a float64 array of one common batch shape.

    Args:
        mu: Location :math:`m` of :math:`\mu`.
        kappa: Pseudo-count :math:`\kappa > 0` of the location.
        alpha: Shape :math:`\alpha > 0` of :math:`\sigma^2`.
        beta: Scale :math:`\beta > 0` of :math:`\sigma^2`.
    """

    mu: np.ndarray
    kappa: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray

    def __post_init__(self) -> None:
        fields = ("mu", "kappa", "alpha", "beta")
        values = {k: np.asarray(getattr(self, k), dtype=float) for k in fields}
        for key, value in values.items():
            if not np.all(np.isfinite(value)):
                raise ValueError(f"NormalInverseGamma: {key} must be finite, got {value.tolist()}")
            if key != "mu" and np.any(value <= 0):
                raise ValueError(f"NormalInverseGamma: {key} must be > 0, got {value.tolist()}")
        for key, value in zip(values, np.broadcast_arrays(*values.values()), strict=True):
            object.__setattr__(self, key, value.copy())

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Shape of the hyperparameter arrays: ``()`` for one distribution."""
        return self.mu.shape

    def sample(self, num_samples: int, rng: np.random.Generator) -> np.ndarray:
        r"""Draws of :math:`(\mu, \log\sigma)`, shape ``(*batch_shape, num_samples, 2)``."""
        n = check_nonnegative_int(num_samples, "num_samples")
        shape = (*self.batch_shape, n)
        gamma = rng.gamma(self.alpha[..., None], size=shape)
        # log sigma = (log beta - log gamma) / 2 stays finite where sigma^2 itself would overflow.
        log_sigma = 0.5 * (np.log(self.beta[..., None]) - np.log(gamma))
        mu = self.mu[..., None] + np.exp(log_sigma) / np.sqrt(self.kappa[..., None]) * (
            rng.standard_normal(shape)
        )
        return np.stack([mu, log_sigma], axis=-1)

    def log_prob(self, theta: np.ndarray) -> np.ndarray:
        """Log-density of draws ``(*batch_shape, m, 2)`` of ``(mu, log_sigma)``.

        Returns:
            Array ``(*batch_shape, m)``.
        """
        theta = np.asarray(theta, dtype=float)
        if theta.ndim != len(self.batch_shape) + 2 or theta.shape[-1] != 2:
            raise ValueError(
                f"theta must have shape (*{self.batch_shape}, m, 2), got shape {theta.shape}"
            )
        mu, log_sigma = theta[..., 0], theta[..., 1]
        m, kappa, alpha, beta = (v[..., None] for v in (self.mu, self.kappa, self.alpha, self.beta))
        log_var = 2 * log_sigma
        inv_var = np.exp(-log_var)
        log_normal = 0.5 * (np.log(kappa / (2 * np.pi)) - log_var - kappa * (mu - m) ** 2 * inv_var)
        log_inv_gamma = (
            alpha * np.log(beta) - special.gammaln(alpha) - (alpha + 1) * log_var - beta * inv_var
        )
        return log_normal + log_inv_gamma + np.log(2.0) + log_var

    def update(self, values: np.ndarray, mask: np.ndarray) -> NormalInverseGamma:
        """Posterior after observing each row's masked values; batch shape ``(n_obs,)``.

        Args:
            values: Draws ``(n_obs, length)``; entries where ``mask`` is False are ignored.
            mask: Boolean ``(n_obs, length)``, True for the draws that are present.
        """
        if self.batch_shape != ():
            raise ValueError(f"update needs a single prior, got batch shape {self.batch_shape}")
        values, mask = _check_masked(values, mask)
        n = mask.sum(axis=1)
        mean = np.where(mask, values, 0.0).sum(axis=1) / n
        squares = np.where(mask, (values - mean[:, None]) ** 2, 0.0).sum(axis=1)
        kappa = self.kappa + n
        return NormalInverseGamma(
            mu=(self.kappa * self.mu + n * mean) / kappa,
            kappa=kappa,
            alpha=self.alpha + n / 2,
            beta=self.beta + 0.5 * squares + self.kappa * n * (mean - self.mu) ** 2 / (2 * kappa),
        )

    def mu_marginal(self) -> stats.distributions.rv_frozen:
        r"""The Student-t marginal of :math:`\mu` as a frozen scipy distribution."""
        scale = np.sqrt(self.beta / (self.alpha * self.kappa))
        return stats.t(df=2 * self.alpha, loc=self.mu, scale=scale)

    def mu_std(self) -> np.ndarray:
        r"""Standard deviation of :math:`\mu`, :math:`\sqrt{\beta/((\alpha-1)\kappa)}`.

        It is infinite where :math:`\alpha \le 1`.
        """
        safe = np.where(self.alpha > 1, self.alpha - 1, 1.0)
        return np.where(self.alpha > 1, np.sqrt(self.beta / (safe * self.kappa)), np.inf)


class NormalInverseGammaPrior(Prior):
    r"""Normal-inverse-gamma prior over ``theta = (mu, log_sigma)``.

    The defaults :math:`m_0 = 0, \kappa_0 = 1, \alpha_0 = 3, \beta_0 = 2` give
    :math:`E[\sigma^2] = \beta_0/(\alpha_0 - 1) = 1` and :math:`\mathrm{sd}[\sigma^2] = 1`,
    90% of the prior mass of :math:`\sigma` in 0.56..1.56, and :math:`\mu \mid \sigma \sim
    \mathcal{N}(0, \sigma^2)`: one prior observation's worth of information about the mean.

    Args:
        mu0: Prior location of the mean.
        kappa0: Pseudo-count of that location (> 0).
        alpha0: Shape of the inverse-gamma prior on the variance (> 0).
        beta0: Scale of the inverse-gamma prior on the variance (> 0).

    Examples:
        >>> import numpy as np
        >>> prior = NormalInverseGammaPrior()
        >>> prior.names
        ('mu', 'log_sigma')
        >>> prior.sample(3, np.random.default_rng(0)).shape
        (3, 2)
    """

    names = ("mu", "log_sigma")

    def __init__(
        self, mu0: float = 0.0, kappa0: float = 1.0, alpha0: float = 3.0, beta0: float = 2.0
    ) -> None:
        for key, value in {"mu0": mu0, "kappa0": kappa0, "alpha0": alpha0, "beta0": beta0}.items():
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"{key} must be a real number, got {type(value).__name__}")
        self.hyperparameters = NormalInverseGamma(mu0, kappa0, alpha0, beta0)

    def __repr__(self) -> str:
        h = self.hyperparameters
        return (
            f"NormalInverseGammaPrior(mu0={float(h.mu)}, kappa0={float(h.kappa)}, "
            f"alpha0={float(h.alpha)}, beta0={float(h.beta)})"
        )

    def sample(self, num_samples: int, rng: np.random.Generator) -> np.ndarray:
        return self.hyperparameters.sample(num_samples, rng)

    def log_prob(self, theta: np.ndarray) -> np.ndarray:
        return self.hyperparameters.log_prob(self._check_theta(theta))

    def to_config(self) -> dict:
        """JSON-serialisable description."""
        h = self.hyperparameters
        return {
            "family": "NormalInverseGamma",
            "parametrisation": ["mu", "log_sigma"],
            "mu0": float(h.mu),
            "kappa0": float(h.kappa),
            "alpha0": float(h.alpha),
            "beta0": float(h.beta),
        }
