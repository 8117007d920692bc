"""The 8-mode Gaussian mixture with colour labels (Ardizzone's thesis §4.2.1)."""

from simulators.gaussian_mixture.evaluation import label_fidelity, plot_label_posteriors
from simulators.gaussian_mixture.mixture import (
    COLOURS,
    COMPONENT_COLOURS,
    GaussianMixtureSimulator,
    MixturePrior,
)

__all__ = [
    "COLOURS",
    "COMPONENT_COLOURS",
    "GaussianMixtureSimulator",
    "MixturePrior",
    "label_fidelity",
    "plot_label_posteriors",
]
