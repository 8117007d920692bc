"""The padding terms of Hagemann & Neumayer (2021) for the bidirectional INN."""

from __future__ import annotations

import pytest
import torch

from sbinn.methods.inn_latent_mixture import mixture_means
from sbinn.methods.inn_latent_padding import padding_terms
from sbinn.methods.inn_latents import StandardNormalLatent
from tests.methods.latent_support import mixture, seeded

# ---------------------------------------------------------------- the paper's padding terms


class Linear:
    """An invertible linear map ``x -> x A`` with the network's call signature."""

    def __init__(self, dim: int, seed: int = 0) -> None:
        torch.manual_seed(seed)
        self.dim = dim
        self.matrix = torch.eye(dim) + 0.3 * torch.randn(dim, dim)

    def __call__(self, x):
        return x @ self.matrix, torch.zeros(len(x))

    def inverse(self, y):
        return y @ torch.linalg.inv(self.matrix), torch.zeros(len(y))


def test_padding_terms_equal_a_hand_computation():
    net, latent = Linear(5), mixture(dim_y=1, dim_z=2, shares=(0.4, 0.6), means=mixture_means(2, 2))
    theta, y = torch.randn(30, 2), torch.randn(30, 1)
    terms = padding_terms(net, theta, y, latent, pad_noise=0.1, generator=seeded(7))

    g = seeded(7)  # the same draws in the documented order
    inputs = torch.cat([theta, 0.1 * torch.randn(30, 3, generator=g)], dim=1)
    out = inputs @ net.matrix
    z_pad = 0.1 * torch.randn(30, 2, generator=g)
    pad_forward = ((out[:, 3:] - z_pad) ** 2).sum(dim=1).mean()
    replaced = torch.cat([out[:, :3], 0.1 * torch.randn(30, 2, generator=g)], dim=1)
    reconstruction = ((net.inverse(replaced)[0] - inputs) ** 2).sum(dim=1).mean()
    z = latent.sample(y, 1, generator=g)[:, 0]
    backward = net.inverse(torch.cat([y, z, 0.1 * torch.randn(30, 2, generator=g)], dim=1))[0]
    pad_backward = (backward[:, 2:] ** 2).sum(dim=1).mean()

    assert terms["pad_forward"].item() == pytest.approx(pad_forward.item(), rel=1e-5)
    assert terms["reconstruction"].item() == pytest.approx(reconstruction.item(), rel=1e-5)
    assert terms["pad_backward"].item() == pytest.approx(pad_backward.item(), rel=1e-5)
    assert terms["reconstruction"].item() > 1e-4  # the replaced padding carried information


def test_padding_terms_appear_only_where_there_is_padding():
    latent = StandardNormalLatent(1, 1)
    only_input_padded = padding_terms(
        Linear(2), torch.randn(4, 1), torch.randn(4, 1), latent, pad_noise=0.01
    )
    assert set(only_input_padded) == {"pad_backward"}
    only_output_padded = padding_terms(
        Linear(3), torch.randn(4, 3), torch.randn(4, 1), latent, pad_noise=0.01
    )
    assert set(only_output_padded) == {"pad_forward", "reconstruction"}


def test_the_backward_padding_term_trains_the_mixture_weights():
    latent = mixture(dim_y=1, dim_z=2, shares=(0.5, 0.5), means=mixture_means(2, 2))
    terms = padding_terms(
        Linear(4),
        torch.randn(32, 2),
        torch.randn(32, 1),
        latent,
        pad_noise=0.01,
        generator=seeded(0),
    )
    terms["pad_backward"].backward()
    assert latent.weight_network[-1].bias.grad.abs().sum() > 0


def test_padding_terms_reject_mismatched_widths():
    latent = StandardNormalLatent(2, 2)
    with pytest.raises(
        ValueError, match=r"width 3 must be >= dim_theta=2 and >= dim_y \+ dim_z = 4"
    ):
        padding_terms(Linear(3), torch.randn(4, 2), torch.randn(4, 2), latent, pad_noise=0.01)
    with pytest.raises(ValueError, match=r"theta must have shape \(n=4, dim_theta\).*got \(5, 2\)"):
        padding_terms(Linear(5), torch.randn(5, 2), torch.randn(4, 2), latent, pad_noise=0.01)
