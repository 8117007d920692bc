"""Shared latent builders for the tests of ``sbinn.methods.inn_latent*``."""

from __future__ import annotations

import torch

from sbinn.methods.inn_latent_mixture import GaussianMixtureLatent, mixture_means
from sbinn.methods.inn_latents import StandardNormalLatent, StudentTLatent


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def mixture(dim_y=2, dim_z=2, shares=(0.1, 0.3, 0.6), **kwargs) -> GaussianMixtureLatent:
    """A mixture whose weights are ``shares`` for every y (bias set, weights zero)."""
    kwargs.setdefault("means", mixture_means(len(shares), dim_z, spread=5.0))
    latent = GaussianMixtureLatent(dim_y, dim_z, **kwargs)
    with torch.no_grad():
        latent.weight_network[-1].bias.copy_(torch.log(torch.tensor(shares)))
    return latent


LATENTS = {
    "normal": lambda dim_y, dim_z: StandardNormalLatent(dim_y, dim_z),
    "student_t": lambda dim_y, dim_z: StudentTLatent(dim_y, dim_z, degrees_of_freedom=3.0),
    "gaussian_mixture": lambda dim_y, dim_z: GaussianMixtureLatent(
        dim_y, dim_z, means=mixture_means(2, dim_z)
    ),
}
