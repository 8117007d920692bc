r"""The padding loss of Hagemann & Neumayer (2021, §4) for an INN with a learned latent.

When the parameter side ``x`` (sbinn's :math:`\theta`) and the output side ``[y, z]`` have
different widths, both are padded to a common width with small Gaussian noise: zero padding
would leave the training data on a subspace and invertibility uncontrolled off it. The
padded coordinates take no part in :math:`\mathcal{L}_y, \mathcal{L}_z, \mathcal{L}_x`, so
the network could hide information in them (their Fig. 2c/d: with the padding zeroed the
latent fit falls apart). Three terms stop that. With padded inputs
:math:`x_i = (x_{\text{data}}, x_{\text{pad}})`, fresh padding noise
:math:`z_{i,\text{pad}}` and, in sbinn's layout, outputs
:math:`T(x) = (T_y, T_z, T_{\text{pad}})`:

.. math::

    \mathcal{L}_{\text{pad}} =
      \underbrace{\lvert T_{\text{pad}}(x_i) - z_{i,\text{pad}} \rvert^2}_{\text{pad forward}}
    + \underbrace{\lvert x_i - T^{-1}(T_y(x_i), T_z(x_i), z_{i,\text{pad}})
                  \rvert^2}_{\text{reconstruction}}
    + \underbrace{\lvert T^{-1}_{\text{pad}}(y_i, z_i, z_{i,\text{pad}})
                  \rvert^2}_{\text{pad backward}}.

``pad_forward`` keeps the output padding at noise level; ``reconstruction`` asks the inverse
to rebuild the input although the output padding was replaced, so nothing the inverse needs
can live there; ``pad_backward`` keeps the padding of backward samples, generated from
:math:`z_i \sim p(z \mid y_i)`, at zero. The first two come from Ardizzone et al. (2019).
The third depends on :math:`z_i` differentiably, so it also trains the latent's weight
network. Each is a squared norm per sample, averaged over the batch.

The objective in :mod:`sbinn.methods.inn_loss` uses the same three ideas with small
differences: it asks for zero output padding (in expectation the same gradient, since the
noise is independent with mean 0), reconstructs ``[θ, 0]`` rather than the noisy padded
input, and adds observation noise before the reconstruction. Like here, its backward ``z``
comes from the configured latent (``INNConfig.latent``), drawn differentiably.

Examples:
    >>> from sbinn.methods.inn_latents import StandardNormalLatent
    >>> from sbinn.nn import InvertibleNetwork
    >>> _ = torch.manual_seed(0)
    >>> net = InvertibleNetwork.coupling_stack(4, num_blocks=2, hidden_features=8)
    >>> theta, y = torch.randn(16, 2), torch.randn(16, 1)
    >>> terms = padding_terms(net, theta, y, StandardNormalLatent(1, 1), pad_noise=0.01)
    >>> sorted(terms)
    ['pad_backward', 'pad_forward', 'reconstruction']
"""

from __future__ import annotations

from typing import Protocol

import torch
from torch import Tensor

from sbinn.methods.inn_latents import LatentDistribution

__all__ = ["InvertibleMap", "padding_terms"]


class InvertibleMap(Protocol):
    """What :func:`padding_terms` needs of the network (an :class:`~sbinn.nn.InvertibleNetwork`)."""

    dim: int

    def __call__(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """The forward map: ``(y, log_det)``."""
        ...

    def inverse(self, y: Tensor) -> tuple[Tensor, Tensor]:
        """The inverse map: ``(x, log_det)``."""
        ...


def _squared_norm(values: Tensor) -> Tensor:
    return (values**2).sum(dim=1).mean()


def padding_terms(
    network: InvertibleMap,
    theta: Tensor,
    y: Tensor,
    latent: LatentDistribution,
    *,
    pad_noise: float,
    generator: torch.Generator | None = None,
) -> dict[str, Tensor]:
    r"""The three padding terms for a batch, each present only where its padding exists.

    Args:
        network: Invertible map of width ``network.dim`` from ``[θ, pad]`` to ``[y, z, pad]``.
        theta: Parameters ``(n, dim_θ)``; padded here with noise of scale ``pad_noise``.
        y: Observations ``(n, latent.dim_y)`` conditioning the backward latents.
        latent: Draws the backward latents :math:`z_i \sim p(z \mid y_i)` (relaxed draws,
            so that ``pad_backward`` trains a mixture's weights).
        pad_noise: Standard deviation of the padding noise on both sides.
        generator: Source of the padding noise and latent draws.

    Returns:
        ``pad_forward`` and ``reconstruction`` when the output side is padded,
        ``pad_backward`` when the parameter side is; scalar tensors.

    Raises:
        ValueError: if ``theta`` and ``y`` disagree in rows, or ``[y, z]`` or ``θ`` is wider
            than the network.
    """
    width, dim_y, dim_z = network.dim, latent.dim_y, latent.dim_z
    y = latent.check_y(y)
    if theta.ndim != 2 or theta.shape[0] != y.shape[0]:
        raise ValueError(
            f"theta must have shape (n={y.shape[0]}, dim_theta) to match y, "
            f"got {tuple(theta.shape)}"
        )
    pad_in, pad_out = width - theta.shape[1], width - dim_y - dim_z
    if pad_in < 0 or pad_out < 0:
        raise ValueError(
            f"network width {width} must be >= dim_theta={theta.shape[1]} and "
            f">= dim_y + dim_z = {dim_y + dim_z}"
        )
    n = theta.shape[0]

    def noise(cols: int) -> Tensor:
        return pad_noise * torch.randn(
            n, cols, generator=generator, device=theta.device, dtype=theta.dtype
        )

    terms: dict[str, Tensor] = {}
    if pad_out:
        inputs = torch.cat([theta, noise(pad_in)], dim=1)
        out, _ = network(inputs)
        z_pad = noise(pad_out)
        terms["pad_forward"] = _squared_norm(out[:, dim_y + dim_z :] - z_pad)
        rebuilt, _ = network.inverse(torch.cat([out[:, : dim_y + dim_z], noise(pad_out)], 1))
        terms["reconstruction"] = _squared_norm(rebuilt - inputs)
    if pad_in:
        z = latent.sample(y, 1, generator=generator)[:, 0]
        generated, _ = network.inverse(torch.cat([y, z, noise(pad_out)], dim=1))
        terms["pad_backward"] = _squared_norm(generated[:, theta.shape[1] :])
    return terms
