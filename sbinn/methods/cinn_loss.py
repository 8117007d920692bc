r"""Conditional maximum likelihood: the objective of the conditional INN (thesis §3.1-3.4).

A conditional coupling stack :math:`f(\,\cdot\,; c)` (eq. 3.10: every coupling subnetwork
reads the condition :math:`c` next to its half of the input) maps parameters
:math:`\theta \in \mathbb{R}^D` to a latent :math:`z = f(\theta; c)`, invertibly for every
:math:`c`. The condition is a learned summary :math:`c = \varphi(x)` of the observation.
With :math:`z \sim \mathcal{N}(0, I_D)` the change of variables (eq. 3.5) gives the density

.. math::

    \log q(\theta \mid x) = -\tfrac12 \lVert f(\theta; \varphi(x)) \rVert^2
        - \tfrac D2 \log 2\pi
        + \log \left| \det \frac{\partial f(\theta; \varphi(x))}{\partial \theta} \right|.

Minimising the conditional negative log-likelihood (eq. 3.8) over simulated pairs,

.. math::

    \mathcal{L} = \mathbb{E}_{p(\theta, x)}\bigl[-\log q(\theta \mid x)\bigr]
        = \mathbb{E}_{p(x)}\, \mathrm{KL}\bigl(p(\theta \mid x) \,\Vert\, q(\theta \mid x)\bigr)
        + \mathbb{E}_{p(x)}\, H\bigl[p(\theta \mid x)\bigr],

trains :math:`f` and :math:`\varphi` jointly: the second term does not depend on the
networks, so the minimum is the true posterior (Proposition 2) and the loss there is the
expected posterior entropy. Gradients flow through :math:`c` into :math:`\varphi`, which
therefore learns the features most informative about :math:`\theta` (Proposition 1).

The networks see standardised parameters :math:`u = (\theta - m) / s`; the density of
:math:`\theta` is :math:`\log q(u \mid x) - \sum_i \log s_i`. That constant is added to the
loss, so that its value is the NLL in nats of :math:`\theta` in the user's units, comparable
to a posterior entropy, while the gradients are unchanged.

**Noise padding.** A coupling needs :math:`D \ge 2`. A single parameter is padded with
:math:`\varepsilon \sim \mathcal{N}(0, 1)` and the flow learns :math:`q(\theta, \varepsilon
\mid x)`. Since :math:`\log q(\theta, \varepsilon \mid x) = \log q(\theta \mid x) + \log
q(\varepsilon \mid \theta, x)`, the padded loss
:math:`\mathbb{E}[-\log q(\theta, \varepsilon \mid x) + \log \mathcal{N}(\varepsilon)]
= \mathbb{E}[-\log q(\theta \mid x)] + \mathbb{E}\,\mathrm{KL}(\mathcal{N} \Vert
q(\varepsilon \mid \theta, x))` bounds the NLL from above and meets it when the padding
stays independent standard-normal noise.

**Dequantisation.** A discrete parameter is given noise :math:`\delta \sim U(-\tfrac12,
\tfrac12)` in every batch. The flow then models the density of the continuous
:math:`\theta + \delta`, which is the probability :math:`P(\theta = k \mid x)` spread over
:math:`[k - \tfrac12, k + \tfrac12]`; the loss bounds :math:`-\log P` from above (Theis et
al., 2016), and samples are rounded back.

Examples:
    >>> import torch
    >>> from sbinn.nn import InvertibleNetwork, SharedCondition
    >>> _ = torch.manual_seed(0)
    >>> flow = InvertibleNetwork.coupling_stack(2, 2, cond_dim=3, hidden_features=8)
    >>> model = ConditionalFlow(flow, torch.nn.Flatten(), dim_theta=2)
    >>> objective = ConditionalMaximumLikelihood(model)
    >>> theta, x = torch.zeros(5, 2), torch.zeros(5, 3)
    >>> loss, terms = objective((theta, x), progress=0.0)
    >>> round(loss.item(), 4)  # the identity flow at theta = 0: log(2 pi)
    1.8379
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import torch
from torch import Tensor, nn

from sbinn._chunk_threads import ChunkThreads
from sbinn.nn import InvertibleNetwork, SharedCondition

__all__ = ["ConditionalFlow", "ConditionalMaximumLikelihood", "standard_normal_log_prob"]


def standard_normal_log_prob(z: Tensor) -> Tensor:
    r""":math:`\log \mathcal{N}(z; 0, I)` per row.

    Examples:
        >>> round(standard_normal_log_prob(torch.zeros(1, 2)).item(), 4)
        -1.8379
    """
    return -0.5 * (z**2).sum(dim=1) - 0.5 * z.shape[1] * math.log(2 * math.pi)


def _pieces(num_obs: int, num_samples: int, chunk: int) -> Iterator[tuple[int, int, int]]:
    """``(first observation, observations, samples each)`` pieces of at most ``chunk`` rows
    that cover all samples, observation-major."""
    if num_samples >= chunk:
        for first in range(num_obs):
            for lo in range(0, num_samples, chunk):
                yield first, 1, min(chunk, num_samples - lo)
        return
    per_piece = chunk // num_samples
    for first in range(0, num_obs, per_piece):
        yield first, min(per_piece, num_obs - first), num_samples


class ConditionalFlow(nn.Module):
    r"""A conditioning network :math:`\varphi` and a conditional coupling stack :math:`f`.

    Args:
        flow: Conditional invertible network of width ``dim_theta + num_pad``.
        conditioner: Maps standardised observations (and a set mask) to ``flow.cond_dim``
            features.
        dim_theta: Number of parameters; the remaining ``flow.dim - dim_theta`` inputs are
            standard-normal noise padding.
        set_valued: The conditioner takes ``(x, mask)`` rather than ``x``.
    """

    def __init__(
        self,
        flow: InvertibleNetwork,
        conditioner: nn.Module,
        *,
        dim_theta: int,
        set_valued: bool = False,
    ) -> None:
        super().__init__()
        self.flow = flow
        self.conditioner = conditioner
        self.dim_theta = dim_theta
        self.num_pad = flow.dim - dim_theta
        self.set_valued = set_valued

    def condition(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """The condition :math:`c = \\varphi(x)`, shape ``(batch, flow.cond_dim)``."""
        if not self.set_valued:
            return self.conditioner(x)
        # Each set is summarised on its own, so sets can be summarised in groups of similar
        # length, each cut to its longest set: padding costs time and changes nothing.
        # With set sizes spread over decades (5 to 500), this saves most of the work.
        length = (mask * torch.arange(1, mask.shape[1] + 1, device=mask.device)).amax(dim=1)
        group = torch.log2(length.to(torch.float32)).ceil().to(torch.int64)
        order = torch.argsort(group, stable=True)
        parts = []
        for g in torch.unique(group).tolist():
            rows = order[group[order] == g]
            keep = int(length[rows].max())
            parts.append(self.conditioner(x[rows, :keep], mask[rows, :keep]))
        return torch.cat(parts)[torch.argsort(order)]

    def joint_log_prob(self, theta: Tensor, c: Tensor) -> Tensor:
        """:math:`\\log q(\\theta, \\varepsilon \\mid c)` of padded standardised parameters."""
        z, log_det = self.flow(theta, c)
        return standard_normal_log_prob(z) + log_det

    def pad(self, theta: Tensor, noise: Tensor | None = None) -> Tensor:
        """Append the padding: ``noise`` if given, else fresh standard-normal draws."""
        if not self.num_pad:
            return theta
        if noise is None:
            noise = torch.randn(
                theta.shape[0], self.num_pad, dtype=theta.dtype, device=theta.device
            )
        return torch.cat([theta, noise], dim=1)

    def sample(
        self,
        c: Tensor,
        num_samples: int,
        *,
        generator: torch.Generator,
        chunk: int = 65_536,
        finish: Callable[[Tensor], Tensor] | None = None,
        dtype: torch.dtype | None = None,
    ) -> Tensor:
        """``num_samples`` standardised draws :math:`f^{-1}(z; c_i)` per row of ``c``.

        Args:
            c: Conditions ``(n_obs, cond_dim)``.
            num_samples: Draws per condition.
            generator: Source of the latent draws.
            chunk: Rows per job of the sampling threads.
            finish: Applied to each chunk of draws on its thread (undoing the
                standardisation, say), so that the whole array is written once.
            dtype: Of the result; default ``c.dtype``.

        Returns:
            Tensor ``(len(c) * num_samples, dim_theta)`` on the CPU, observation-major.
        """
        out = torch.empty(len(c) * num_samples, self.dim_theta, dtype=dtype or c.dtype)

        def invert(z: Tensor, condition: SharedCondition, lo: int) -> None:
            theta, _ = self.flow.inverse(z, condition)
            theta = theta[:, : self.dim_theta]
            out[lo : lo + len(z)] = (theta if finish is None else finish(theta)).cpu()

        lo = 0
        # The draws are made here, in order, so the samples do not depend on the threads.
        with ChunkThreads(device=c.device) as threads:
            for first, runs, repeats in _pieces(len(c), num_samples, chunk):
                rows = runs * repeats
                z = torch.randn(
                    rows, self.flow.dim, generator=generator, device=c.device, dtype=c.dtype
                )
                # The samples of one observation share its condition: it enters each
                # coupling once per observation rather than once per sample.
                threads.submit(invert, z, SharedCondition(c[first : first + runs], repeats), lo)
                lo += rows
        return out

    def log_prob(
        self,
        theta: Tensor,
        c: Tensor,
        *,
        num_pad_draws: int,
        generator: torch.Generator,
        chunk: int = 65_536,
    ) -> Tensor:
        r""":math:`\log q(\theta \mid c)` of standardised parameters, on the CPU.

        With padding, the importance-sampling estimate :math:`\log \frac1K \sum_k
        q(\theta, \varepsilon_k \mid c) / \mathcal{N}(\varepsilon_k)` over ``K =
        num_pad_draws`` draws of the padding; without, exact (``num_pad_draws`` unused).
        """
        draws = num_pad_draws if self.num_pad else 1
        step = max(chunk // draws, 1)
        parts: list[Tensor | None] = [None] * -(-len(theta) // step)

        def evaluate(index: int, rows: Tensor, cond: SharedCondition, noise: Tensor) -> None:
            log_q = self.joint_log_prob(self.pad(rows, noise), cond)
            log_q = (log_q - standard_normal_log_prob(noise)).view(-1, draws)
            parts[index] = (torch.logsumexp(log_q, dim=1) - math.log(draws)).cpu()

        with ChunkThreads(device=c.device) as threads:
            for index, lo in enumerate(range(0, len(theta), step)):
                rows = theta[lo : lo + step].repeat_interleave(draws, dim=0)
                # The padding draws of one row share its condition, as samples do in `sample`.
                cond = SharedCondition(c[lo : lo + step], draws)
                noise = torch.randn(
                    len(rows), self.num_pad, generator=generator, device=c.device, dtype=c.dtype
                )
                threads.submit(evaluate, index, rows, cond, noise)
        return torch.cat(parts)


class ConditionalMaximumLikelihood:
    """The objective for :func:`sbinn.train.train`: mean NLL of a batch ``(theta, x[, mask])``.

    Args:
        model: The conditional flow; ``theta`` in a batch is standardised and unpadded.
        log_det_offset: :math:`-\\sum_i \\log s_i` of the parameters' standardisation, so
            that the loss is in the user's units.
        dequantisation: Width of the uniform noise per standardised parameter (``1 / s_i``
            for discrete parameters, 0 for continuous ones); ``None`` adds none.
        observation_noise: Standard deviation of Gaussian noise added to the standardised
            observations of every batch (0: none). See
            :attr:`~sbinn.methods.cinn_config.CINNConfig.observation_noise`.
        observation_noise_final: The noise at the end of training, reached by geometric
            decay; ``None``: constant noise.
    """

    def __init__(
        self,
        model: ConditionalFlow,
        *,
        log_det_offset: float = 0.0,
        dequantisation: Tensor | None = None,
        observation_noise: float = 0.0,
        observation_noise_final: float | None = None,
    ) -> None:
        self.model = model
        self.log_det_offset = log_det_offset
        self.dequantisation = dequantisation
        self.observation_noise = observation_noise
        self.observation_noise_final = observation_noise_final

    def noise_at(self, progress: float) -> float:
        """The observation noise at ``progress`` in [0, 1] of training."""
        start, final = self.observation_noise, self.observation_noise_final
        if final is None or not start:
            return start
        return start * (final / start) ** min(max(progress, 0.0), 1.0)

    def __call__(self, batch: tuple[Tensor, ...], *, progress: float) -> tuple[Tensor, dict]:
        theta, x, *mask = batch
        if self.dequantisation is not None:
            width = self.dequantisation.to(theta)
            theta = theta + (torch.rand_like(theta) - 0.5) * width
        noise = self.noise_at(progress)
        if noise:
            x = x + noise * torch.randn_like(x)
        padded = self.model.pad(theta)
        c = self.model.condition(x, *mask)
        log_q = self.model.joint_log_prob(padded, c) + self.log_det_offset
        if self.model.num_pad:
            log_q = log_q - standard_normal_log_prob(padded[:, self.model.dim_theta :])
        loss = -log_q.mean()
        return loss, {"nll": loss.item()}
