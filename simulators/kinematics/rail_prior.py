r"""The bimodal rail prior of Hagemann & Neumayer (2021, §5) for the arm on a rail.

The rail offset is an equal mixture of two narrow Gaussians, the joint angles are as in
:class:`~simulators.kinematics.KinematicsSimulator`'s default prior:

.. math::

    h \sim \tfrac12 \mathcal{N}(1, \tfrac{1}{64}) + \tfrac12 \mathcal{N}(-1, \tfrac{1}{64}),
    \qquad \theta_1, \theta_2, \theta_3 \sim \mathcal{N}(0, \tfrac14).

End points reachable from both rail modes then have a posterior with two well-separated
modes, the case where a Gaussian latent must tear its mass apart.

Examples:
    >>> import numpy as np
    >>> prior = BimodalRailPrior()
    >>> theta = prior.sample(4000, np.random.default_rng(0))
    >>> round(float(np.abs(theta[:, 0]).mean()), 1), round(float(theta[:, 1].std()), 1)
    (1.0, 0.5)
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from scipy.special import logsumexp

from sbinn._validation import check_nonnegative_int
from sbinn.priors import Prior

__all__ = ["BimodalRailPrior"]


class BimodalRailPrior(Prior):
    """Rail offset from two equal Gaussian modes at ``±rail_centre``, normal joint angles.

    Args:
        rail_centre: Distance of the two rail modes from 0 (the paper: 1).
        rail_std: Standard deviation of each rail mode (the paper: 1/8).
        angle_std: Standard deviation of each joint angle (the paper: 1/2).
    """

    names = ("rail_offset", "angle_1", "angle_2", "angle_3")

    def __init__(
        self, rail_centre: float = 1.0, rail_std: float = 0.125, angle_std: float = 0.5
    ) -> None:
        for name, value in (("rail_std", rail_std), ("angle_std", angle_std)):
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {value}")
        if not np.isfinite(rail_centre):
            raise ValueError(f"rail_centre must be finite, got {rail_centre}")
        self.rail_centre = float(rail_centre)
        self.rail_std = float(rail_std)
        self.angle_std = float(angle_std)

    def sample(self, num_samples: int, rng: np.random.Generator) -> np.ndarray:
        n = check_nonnegative_int(num_samples, "num_samples")
        sign = np.where(rng.random(n) < 0.5, -1.0, 1.0)
        rail = sign * self.rail_centre + self.rail_std * rng.standard_normal(n)
        angles = self.angle_std * rng.standard_normal((n, 3))
        return np.concatenate([rail[:, None], angles], axis=1)

    def log_prob(self, theta: np.ndarray) -> np.ndarray:
        theta = self._check_theta(theta)
        modes = np.stack(
            [
                stats.norm.logpdf(theta[:, 0], centre, self.rail_std)
                for centre in (-self.rail_centre, self.rail_centre)
            ],
            axis=1,
        )
        rail = logsumexp(modes, axis=1) - np.log(2.0)
        return rail + stats.norm.logpdf(theta[:, 1:], 0.0, self.angle_std).sum(axis=1)

    def to_config(self) -> dict:
        """JSON-serialisable description, for simulator records."""
        return {
            "family": type(self).__name__,
            "rail_centre": self.rail_centre,
            "rail_std": self.rail_std,
            "angle_std": self.angle_std,
        }
