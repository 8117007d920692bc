r"""How well posterior samples for colour labels respect the mixture (thesis §4.2.1, Fig. 4.2).

For each colour, the samples of all observations with that colour are compared with the
colour's components. A sample *falls in* a component when it lies within
``radius_in_std = 3`` standard deviations of its mean, a disc holding
:math:`1 - e^{-4.5} = 98.9\%` of a 2-D Gaussian's mass; samples smeared between modes
(the mode-tearing failure of Hagemann & Neumayer 2021) fall in none. Two numbers
summarise them:

- ``inside_fraction``: the share of samples that fall in one of the colour's components
  (exact samples score about 0.989);
- ``max_share_error``: the largest absolute difference, over the colour's components,
  between a component's share of the samples that fall in them and its true share ``1 / k``.

Examples:
    >>> import numpy as np
    >>> from simulators.gaussian_mixture import GaussianMixtureSimulator
    >>> sim = GaussianMixtureSimulator()
    >>> x_obs = np.eye(4)
    >>> samples = sim.true_posterior_sample(x_obs, 2000, seed=0)
    >>> result = label_fidelity(samples, x_obs)
    >>> round(result["red"]["inside_fraction"], 2)
    0.99
"""

from __future__ import annotations

import numpy as np

from sbinn._validation import as_2d_float_array
from simulators.gaussian_mixture.mixture import COLOURS, COMPONENT_COLOURS, MixturePrior

__all__ = ["label_fidelity", "plot_label_posteriors"]


def label_fidelity(
    samples: np.ndarray, x_obs: np.ndarray, *, radius_in_std: float = 3.0
) -> dict[str, dict[str, float]]:
    """Per colour: share of samples inside the colour's components, and the worst share error."""
    samples = np.asarray(samples, dtype=float)
    x_obs = as_2d_float_array(x_obs, len(COLOURS), "x_obs")
    if samples.ndim != 3 or samples.shape[0] != x_obs.shape[0] or samples.shape[2] != 2:
        raise ValueError(
            f"samples must have shape ({x_obs.shape[0]}, num_samples, 2), got {samples.shape}"
        )
    prior = MixturePrior()
    squared = ((samples[..., None, :] - prior.means) ** 2).sum(axis=-1)
    nearest = squared.argmin(axis=-1)
    within = squared.min(axis=-1) <= (radius_in_std * prior.std) ** 2
    component_colour = np.asarray(COMPONENT_COLOURS)
    result = {}
    for colour, name in enumerate(COLOURS):
        rows = x_obs.argmax(axis=1) == colour
        chosen = nearest[rows].ravel()
        if chosen.size == 0:
            continue
        members = np.flatnonzero(component_colour == colour)
        inside = np.isin(chosen, members) & within[rows].ravel()
        chosen = np.where(inside, chosen, -1)
        shares = np.array([(chosen == m).sum() for m in members]) / max(inside.sum(), 1)
        result[name] = {
            "inside_fraction": float(inside.mean()),
            "max_share_error": float(np.abs(shares - 1 / members.size).max()),
            "num_samples": int(chosen.size),
        }
    return result


def plot_label_posteriors(rows: dict[str, np.ndarray], path: str, *, max_points: int = 3000):
    """Scatter posterior samples per colour label, one row per method (like thesis Fig. 4.2).

    Args:
        rows: Method name -> samples ``(4, num_samples, 2)``, one posterior per colour in
            the order of :data:`COLOURS` (put the ground truth first).
        path: PNG file to write.
        max_points: Points drawn per panel.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    means = MixturePrior().means
    fig, axes = plt.subplots(
        len(rows), len(COLOURS), figsize=(2.6 * len(COLOURS), 2.6 * len(rows)), squeeze=False
    )
    for r, (method, samples) in enumerate(rows.items()):
        for c, colour in enumerate(COLOURS):
            ax = axes[r, c]
            points = np.asarray(samples[c])[:max_points]
            ax.scatter(means[:, 0], means[:, 1], s=250, facecolors="none", edgecolors="0.8")
            ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.4, color=colour)
            ax.set(xlim=(-4, 4), ylim=(-4, 4), xticks=[], yticks=[], aspect="equal")
            if r == 0:
                ax.set_title(f"label: {colour}")
            if c == 0:
                ax.set_ylabel(method)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
