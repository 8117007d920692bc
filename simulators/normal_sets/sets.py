r"""Sets of i.i.d. normal draws of varying size, with the exact normal-inverse-gamma posterior.

Each simulation draws a set size :math:`n` and then :math:`x_1..x_n \sim \mathcal{N}(\mu,
\sigma^2)` for :math:`\theta = (\mu, \log\sigma)` under the conjugate prior of
:class:`~simulators.normal_sets.conjugate.NormalInverseGammaPrior`. The posterior is
normal-inverse-gamma (see :mod:`simulators.normal_sets.conjugate`), so the exact answer is
known for every set, and the posterior width of :math:`\mu` shrinks like
:math:`1/\sqrt n`: one training set teaches a set summary network sets of every size.

**Set sizes.** By default :math:`n` is log-uniform on the integers ``n_min..n_max``:
:math:`n = \lfloor e^u \rfloor` with :math:`u \sim U(\log n_{\min}, \log(n_{\max}+1))`, so
:math:`P(n) = \log(1 + 1/n) / \log((n_{\max}+1)/n_{\min})`. Each decade of :math:`n`, and so
each decade of posterior precision, gets equal weight; ``set_size_law="uniform"`` draws
:math:`n` uniformly instead, which puts most simulations on large, easy sets.

**Padding.** A batch of sets is one float array ``(n_sims, n_max, 1)``; set :math:`i` fills
the first :math:`n_i` entries of its row and the rest are NaN. :func:`set_mask` recovers the
boolean mask ``(n_sims, n_max)`` as ``~isnan``. NaN padding keeps an observation a single
array, so :meth:`~sbinn.simulator.Simulator.simulate` and
:meth:`~sbinn.simulator.Simulator.sample_joint` work unchanged. The base class reads NaN as
a failed simulation, so :meth:`NormalSetsSimulator.valid_mask` narrows failure to what
padding cannot produce: an inf, a NaN before the last present entry, or no entry at all
(``simulate`` turns a failed row into all-NaN). The layout, ``(sets, length, features)``
with a mask that is True for present entries, is the one set summary networks take; pass
the mask explicitly, and fill the padding before pooling by multiplying with the mask,
since NaN times 0 is NaN: ``np.where(mask[..., None], x, 0.0)``.

Examples:
    >>> import numpy as np
    >>> sim = NormalSetsSimulator(n_min=5, n_max=20)
    >>> theta, x = sim.sample_joint(4, seed=0)
    >>> x.shape
    (4, 20, 1)
    >>> sizes = set_mask(x).sum(axis=1)
    >>> bool(np.all((sizes >= 5) & (sizes <= 20)))
    True
    >>> sim.true_posterior_sample(x, None, 100, seed=1).shape
    (4, 100, 2)
"""

from __future__ import annotations

import numpy as np

from sbinn._validation import (
    as_2d_float_array,
    check_nonnegative_int,
    check_positive_int,
    to_numpy,
)
from sbinn.simulator import SeedLike, Simulator, as_generator
from simulators.normal_sets.conjugate import NormalInverseGamma, NormalInverseGammaPrior

__all__ = ["SET_SIZE_LAWS", "NormalSetsSimulator", "set_mask"]

SET_SIZE_LAWS = ("log_uniform", "uniform")


def set_mask(x: np.ndarray) -> np.ndarray:
    """Boolean mask ``(n, length)`` of the present entries of NaN-padded sets ``(n, length, 1)``.

    Examples:
        >>> set_mask(np.array([[[1.0], [np.nan]]])).tolist()
        [[True, False]]
    """
    x = to_numpy(x)
    if x.ndim != 3 or x.shape[2] != 1:
        raise ValueError(f"sets must have shape (n, length, 1), got shape {x.shape}")
    return ~np.isnan(x[..., 0])


def _set_values(padded: np.ndarray) -> np.ndarray:
    padded = to_numpy(padded)
    if padded.ndim != 3 or padded.shape[2] != 1 or 0 in padded.shape:
        raise ValueError(f"padded must have shape (n_obs, length, 1), got shape {padded.shape}")
    return as_2d_float_array(padded[..., 0], None, "padded", allow_nan=True)


class NormalSetsSimulator(Simulator):
    """Sets of ``n_min..n_max`` i.i.d. ``N(mu, sigma^2)`` draws, NaN-padded to ``n_max``.

    Args:
        n_min: Smallest set size drawn during simulation (>= 1).
        n_max: Largest set size, and the padded length of every observation.
        set_size_law: ``"log_uniform"`` (default) or ``"uniform"`` on ``n_min..n_max``.
        prior: Prior over ``(mu, log_sigma)``; defaults to ``NormalInverseGammaPrior()``.
        max_failure_fraction: Largest tolerated fraction of failed simulations.
    """

    name = "normal_sets"
    version = "1"

    def __init__(
        self,
        n_min: int = 5,
        n_max: int = 500,
        *,
        set_size_law: str = "log_uniform",
        prior: NormalInverseGammaPrior | None = None,
        max_failure_fraction: float = 0.1,
    ) -> None:
        n_min = check_positive_int(n_min, "n_min")
        n_max = check_positive_int(n_max, "n_max")
        if n_max < n_min:
            raise ValueError(f"need n_min <= n_max, got n_min={n_min}, n_max={n_max}")
        if set_size_law not in SET_SIZE_LAWS:
            raise ValueError(f"set_size_law must be one of {SET_SIZE_LAWS}, got {set_size_law!r}")
        prior = NormalInverseGammaPrior() if prior is None else prior
        if not isinstance(prior, NormalInverseGammaPrior):
            raise TypeError(
                f"prior must be a NormalInverseGammaPrior, got {type(prior).__name__}; "
                "the exact posterior needs the conjugate prior"
            )
        super().__init__(prior, (n_max, 1), max_failure_fraction=max_failure_fraction)
        self.n_min = n_min
        self.n_max = n_max
        self.set_size_law = set_size_law

    def sample_set_sizes(self, num_sets: int, rng: SeedLike = None) -> np.ndarray:
        """Draw ``num_sets`` set sizes from the set-size law, as an int array."""
        num_sets = check_nonnegative_int(num_sets, "num_sets")
        rng = as_generator(rng)
        if self.set_size_law == "uniform":
            return rng.integers(self.n_min, self.n_max + 1, size=num_sets)
        u = rng.uniform(np.log(self.n_min), np.log(self.n_max + 1), size=num_sets)
        return np.clip(np.floor(np.exp(u)).astype(int), self.n_min, self.n_max)

    def _check_set_sizes(self, set_sizes: int | np.ndarray, num_sets: int) -> np.ndarray:
        sizes = np.asarray(set_sizes)
        if sizes.dtype == np.bool_ or not np.issubdtype(sizes.dtype, np.integer):
            raise TypeError(f"set_sizes must be integers, got {set_sizes!r}")
        if sizes.ndim > 1 or (sizes.ndim == 1 and sizes.shape[0] != num_sets):
            raise ValueError(
                f"set_sizes must be one integer or one per parameter vector ({num_sets}), "
                f"got shape {sizes.shape}"
            )
        if np.any(sizes < 1) or np.any(sizes > self.n_max):
            raise ValueError(
                f"set_sizes must lie in 1..{self.n_max} (n_max), got {np.unique(sizes).tolist()}"
            )
        return np.broadcast_to(sizes, (num_sets,)).astype(int)

    def _draw(self, theta: np.ndarray, sizes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        # Drawing all n_max entries, then blanking, makes the draws of the first entries of a
        # set independent of its size: the same seed gives nested sets for growing n.
        noise = rng.standard_normal((theta.shape[0], self.n_max))
        with np.errstate(over="ignore"):
            x = theta[:, :1] + np.exp(theta[:, 1:]) * noise
        x[np.arange(self.n_max) >= sizes[:, None]] = np.nan
        return x[..., None]

    def _simulate(self, theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return self._draw(theta, self.sample_set_sizes(theta.shape[0], rng), rng)

    def valid_mask(self, x: np.ndarray) -> np.ndarray:
        """Successful simulations: no inf, NaN only as trailing padding, at least one entry."""
        values = x[..., 0]
        present = ~np.isnan(values)
        sizes = present.sum(axis=1)
        trailing = present == (np.arange(values.shape[1]) < sizes[:, None])
        return trailing.all(axis=1) & (sizes >= 1) & ~np.isinf(values).any(axis=1)

    def simulate_sets(
        self,
        theta: np.ndarray,
        rng: SeedLike = None,
        set_sizes: int | np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Simulate sets, optionally of given sizes, and return them with their mask.

        Args:
            theta: Parameters ``(n, 2)`` as ``(mu, log_sigma)``, or one vector.
            rng: Seed or Generator.
            set_sizes: None to draw sizes from the set-size law (then the sets equal
                ``simulate(theta, rng)``), one int for every set, e.g. 50 for test
                observations, or one int per row. Sizes may lie anywhere in ``1..n_max``.

        Returns:
            ``(padded, mask)``: NaN-padded sets ``(n, n_max, 1)`` and the boolean mask
            ``(n, n_max)``. A failed row is all NaN with an all-False mask.

        Examples:
            >>> sim = NormalSetsSimulator(n_max=10)
            >>> padded, mask = sim.simulate_sets([[0.0, 0.0], [1.0, -1.0]], 0, set_sizes=[3, 7])
            >>> mask.sum(axis=1).tolist()
            [3, 7]
        """
        theta = as_2d_float_array(theta, self.dim_parameters, "theta")
        rng = as_generator(rng)
        if set_sizes is None:
            sizes = self.sample_set_sizes(theta.shape[0], rng)
        else:
            sizes = self._check_set_sizes(set_sizes, theta.shape[0])
        x = self._draw(theta, sizes, rng)
        x[~self.valid_mask(x)] = np.nan
        return x, set_mask(x)

    def posterior(self, padded: np.ndarray, mask: np.ndarray | None = None) -> NormalInverseGamma:
        """Exact normal-inverse-gamma posterior of each set, batch shape ``(n_obs,)``.

        Args:
            padded: Sets ``(n_obs, length, 1)``; any ``length``, not only ``n_max``.
            mask: Boolean ``(n_obs, length)``, True for present entries; None reads NaN
                entries as padding. Masked-out entries are ignored whatever their value.
        """
        values = _set_values(padded)
        mask = ~np.isnan(values) if mask is None else mask
        return self.prior.hyperparameters.update(values, mask)

    def true_posterior_sample(
        self,
        padded: np.ndarray,
        mask: np.ndarray | None,
        num_samples: int,
        seed: SeedLike = None,
    ) -> np.ndarray:
        """Exact posterior samples ``(n_obs, num_samples, 2)`` of ``(mu, log_sigma)``."""
        num_samples = check_positive_int(num_samples, "num_samples")
        return self.posterior(padded, mask).sample(num_samples, as_generator(seed))

    def posterior_std_mu(self, padded: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        r"""Exact posterior standard deviation of ``mu`` per set, shape ``(n_obs,)``.

        The marginal is a Student-t with :math:`2\alpha_n` degrees of freedom and scale
        :math:`\sqrt{\beta_n/(\alpha_n\kappa_n)}`; its standard deviation is that scale times
        :math:`\sqrt{\alpha_n/(\alpha_n - 1)}`.
        """
        return self.posterior(padded, mask).mu_std()

    def settings(self) -> dict:
        return super().settings() | {
            "n_min": self.n_min,
            "n_max": self.n_max,
            "set_size_law": self.set_size_law,
            "padding": "nan",
        }
