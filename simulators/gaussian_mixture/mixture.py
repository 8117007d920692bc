r"""The 8-mode Gaussian mixture with colour labels of Ardizzone et al. (2019), thesis §4.2.1.

Parameters are 2-D points :math:`\theta` drawn from 8 equal-weight Gaussian components
on a circle. Following Hagemann & Neumayer (2021, §5) the means are

.. math::

    \mu_i = \bigl(\cos\tfrac{\pi}{8}(2i-1),\ \sin\tfrac{\pi}{8}(2i-1)\bigr) / \sin\tfrac{\pi}{8},
    \qquad \Sigma_i = 0.04\,I_2, \quad i = 1..8,

so neighbouring modes are 2 apart, ten standard deviations. The colour labels follow the
thesis: four adjacent components are red, the next two blue, then one green and one purple.
The observation is the one-hot colour of the component that generated :math:`\theta`.

The simulator draws that component from its posterior responsibility
:math:`p(i \mid \theta)`, which together with the mixture prior is exactly the generative
process "pick a component, then a point". Hence the true posterior
:math:`p(\theta \mid \text{colour})` is the equal-weight mixture of that colour's components,
available through :meth:`MixturePrior.posterior_sample`.

Examples:
    >>> import numpy as np
    >>> sim = GaussianMixtureSimulator()
    >>> theta, x = sim.sample_joint(4, seed=0)
    >>> x.sum(axis=1).tolist()
    [1.0, 1.0, 1.0, 1.0]
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

from sbinn._validation import as_2d_float_array
from sbinn.priors import Prior
from sbinn.simulator import Simulator

__all__ = ["COLOURS", "COMPONENT_COLOURS", "GaussianMixtureSimulator", "MixturePrior"]

COLOURS = ("red", "blue", "green", "purple")
# Component i (counter-clockwise from angle pi/8) has colour COLOURS[COMPONENT_COLOURS[i]].
COMPONENT_COLOURS = (0, 0, 0, 0, 1, 1, 2, 3)
_NUM_COMPONENTS = 8
_STD = 0.2


def _component_means() -> np.ndarray:
    angles = np.pi / 8 * (2 * np.arange(1, _NUM_COMPONENTS + 1) - 1)
    return np.stack([np.cos(angles), np.sin(angles)], axis=1) / np.sin(np.pi / 8)


class MixturePrior(Prior):
    """Equal-weight isotropic Gaussian mixture over 2-D points."""

    names = ("theta_1", "theta_2")

    def __init__(self) -> None:
        self.means = _component_means()
        self.std = _STD

    def sample_components(self, components: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Draw one point from each listed component index."""
        return self.means[components] + self.std * rng.standard_normal((len(components), 2))

    def sample(self, num_samples: int, rng: np.random.Generator) -> np.ndarray:
        return self.sample_components(rng.integers(0, _NUM_COMPONENTS, num_samples), rng)

    def component_log_likelihoods(self, theta: np.ndarray) -> np.ndarray:
        """``log N(theta | mu_i, std^2 I)`` for every component, shape ``(n, 8)``."""
        theta = self._check_theta(theta)
        sq = ((theta[:, None, :] - self.means[None]) ** 2).sum(axis=2)
        return -0.5 * sq / self.std**2 - np.log(2 * np.pi * self.std**2)

    def log_prob(self, theta: np.ndarray) -> np.ndarray:
        return logsumexp(self.component_log_likelihoods(theta), axis=1) - np.log(_NUM_COMPONENTS)

    def posterior_sample(
        self, colour: int, num_samples: int, rng: np.random.Generator
    ) -> np.ndarray:
        """Exact samples of ``p(theta | colour)``: the colour's components, equally weighted."""
        if colour not in range(len(COLOURS)):
            raise ValueError(f"colour must be an index in 0..{len(COLOURS) - 1}, got {colour}")
        members = np.flatnonzero(np.asarray(COMPONENT_COLOURS) == colour)
        return self.sample_components(rng.choice(members, num_samples), rng)

    def to_config(self) -> dict:
        """The mixture's means and standard deviation, as JSON."""
        return {"family": "MixturePrior", "means": self.means.tolist(), "std": self.std}


class GaussianMixtureSimulator(Simulator):
    """One-hot colour label of the mixture component that generated a 2-D point."""

    name = "gaussian_mixture"
    version = "1"

    def __init__(self) -> None:
        super().__init__(MixturePrior(), len(COLOURS), COLOURS)

    def _simulate(self, theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        log_resp = self.prior.component_log_likelihoods(theta)
        resp = np.exp(log_resp - logsumexp(log_resp, axis=1, keepdims=True))
        # Inverse-CDF draw of one component per row, vectorised.
        u = rng.random((theta.shape[0], 1))
        component = np.minimum((resp.cumsum(axis=1) < u).sum(axis=1), _NUM_COMPONENTS - 1)
        return np.eye(len(COLOURS))[np.asarray(COMPONENT_COLOURS)[component]]

    def true_posterior_sample(
        self, x_obs: np.ndarray, num_samples: int, seed: int | None = None
    ) -> np.ndarray:
        """Exact posterior samples ``(n_obs, num_samples, 2)`` for one-hot observations."""
        x_obs = as_2d_float_array(x_obs, len(COLOURS), "x_obs")
        if not np.all(np.isin(x_obs, (0.0, 1.0))) or not np.all(x_obs.sum(axis=1) == 1):
            raise ValueError("x_obs must be one-hot colour vectors, e.g. [1, 0, 0, 0] for red")
        rng = np.random.default_rng(seed)
        colours = x_obs.argmax(axis=1)
        return np.stack([self.prior.posterior_sample(c, num_samples, rng) for c in colours])
