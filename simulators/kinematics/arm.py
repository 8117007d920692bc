r"""The articulated arm on a vertical rail of Ardizzone et al. (2019), thesis §4.2.2.

The arm slides along a vertical rail by :math:`x_1` and rotates at three joints by
:math:`x_2, x_3, x_4`. With segment lengths :math:`l = (0.5, 0.5, 1.0)` its end point is
(thesis eqs. 4.3-4.4, appendix B.3)

.. math::

    y_1 &= x_1 + l_1 \sin x_2 + l_2 \sin(x_3 - x_2) + l_3 \sin(x_4 - x_2 - x_3) \\
    y_2 &= l_1 \cos x_2 + l_2 \cos(x_3 - x_2) + l_3 \cos(x_4 - x_2 - x_3)

The prior is :math:`x_i \sim \mathcal{N}(0, \sigma_i^2)` with
:math:`\sigma = (0.25, 0.5, 0.5, 0.5)`, favouring a straight arm at the centre of the rail.
The posterior over poses for a given end point is often bimodal.

Reference: L. Ardizzone, J. Kruse, S. Wirkert, et al., "Analyzing inverse problems with
invertible neural networks", ICLR 2019.

Examples:
    >>> import numpy as np
    >>> end_point(np.zeros((1, 4))).tolist()
    [[0.0, 2.0]]
    >>> theta, y = KinematicsSimulator().sample_joint(3, seed=0)
    >>> y.shape
    (3, 2)
"""

from __future__ import annotations

import numpy as np

from sbinn._validation import as_2d_float_array
from sbinn.priors import JointPrior, Normal, Prior
from sbinn.simulator import Simulator

__all__ = ["ARM_LENGTHS", "PRIOR_SCALES", "KinematicsSimulator", "end_point", "joint_positions"]

ARM_LENGTHS = (0.5, 0.5, 1.0)
PRIOR_SCALES = (0.25, 0.5, 0.5, 0.5)


def joint_positions(theta: np.ndarray, lengths: tuple[float, float, float] = ARM_LENGTHS):
    """Positions of the rail joint, the two inner joints and the end point.

    Args:
        theta: Poses ``(n, 4)``: rail offset and three joint angles in radians.
        lengths: Segment lengths ``(l1, l2, l3)``.

    The result has shape ``(n, 4, 2)``: for each pose the ``(y1, y2)`` coordinates of the four
    points, from the rail to the end point. Useful for drawing arms.
    """
    theta = as_2d_float_array(theta, 4, "theta")
    offset, a2, a3, a4 = theta.T
    angles = np.stack([a2, a3 - a2, a4 - a2 - a3], axis=1)
    steps = np.stack([np.sin(angles), np.cos(angles)], axis=2) * np.asarray(lengths)[:, None]
    base = np.stack([offset, np.zeros_like(offset)], axis=1)[:, None, :]
    return np.concatenate([base, base + np.cumsum(steps, axis=1)], axis=1)


def end_point(theta: np.ndarray, lengths: tuple[float, float, float] = ARM_LENGTHS) -> np.ndarray:
    """End point ``(n, 2)`` of each pose in ``theta`` ``(n, 4)`` (thesis eqs. 4.3-4.4)."""
    theta = as_2d_float_array(theta, 4, "theta")
    l1, l2, l3 = lengths
    a = theta[:, 1]
    b = theta[:, 2] - theta[:, 1]
    c = theta[:, 3] - theta[:, 1] - theta[:, 2]
    y1 = theta[:, 0] + l1 * np.sin(a) + l2 * np.sin(b) + l3 * np.sin(c)
    y2 = l1 * np.cos(a) + l2 * np.cos(b) + l3 * np.cos(c)
    return np.stack([y1, y2], axis=1)


class KinematicsSimulator(Simulator):
    """Arm end point for a pose, with optional Gaussian observation noise.

    Args:
        noise_std: Standard deviation of isotropic Gaussian noise added to the end point
            (0 reproduces the thesis' noise-free forward process).
        lengths: Segment lengths ``(l1, l2, l3)``.
        prior: A prior over ``(rail offset, angle 1, angle 2, angle 3)``, e.g.
            :class:`~simulators.kinematics.rail_prior.BimodalRailPrior`; ``None``: the
            thesis' independent normals.
    """

    name = "kinematics"
    version = "1"

    def __init__(
        self,
        noise_std: float = 0.0,
        lengths: tuple[float, float, float] = ARM_LENGTHS,
        prior: Prior | None = None,
    ) -> None:
        if not np.isfinite(noise_std) or noise_std < 0:
            raise ValueError(f"noise_std must be a finite number >= 0, got {noise_std}")
        if len(lengths) != 3 or any(not np.isfinite(v) or v <= 0 for v in lengths):
            raise ValueError(f"lengths must be three positive numbers, got {lengths}")
        if prior is None:
            prior = JointPrior(
                {
                    "rail_offset": Normal(0.0, PRIOR_SCALES[0]),
                    "angle_1": Normal(0.0, PRIOR_SCALES[1]),
                    "angle_2": Normal(0.0, PRIOR_SCALES[2]),
                    "angle_3": Normal(0.0, PRIOR_SCALES[3]),
                }
            )
        elif not isinstance(prior, Prior) or prior.dim != 4:
            raise ValueError(
                "prior must be an sbinn Prior over 4 parameters (rail offset and three "
                f"angles), got {prior!r}"
            )
        super().__init__(prior, 2, ("end_y1", "end_y2"))
        self.noise_std = float(noise_std)
        self.lengths = tuple(float(v) for v in lengths)

    def _simulate(self, theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        y = end_point(theta, self.lengths)
        if self.noise_std > 0:
            y += self.noise_std * rng.standard_normal(y.shape)
        return y

    def settings(self) -> dict:
        return super().settings() | {"noise_std": self.noise_std, "lengths": list(self.lengths)}
