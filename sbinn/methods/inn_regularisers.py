r"""Stabilising terms for the bidirectional INN: keep the network invertible in floating point.

An INN trained only on supervised and MMD terms has no reason to keep its inverse tame: where
the forward map must squeeze a direction (a deterministic forward model loses information),
the Jacobian's smallest singular value can drift towards 0 and the inverse then amplifies
rounding errors without bound (Behrmann et al. 2021, "exploding inverses"). Three optional
terms counter this; each has weight 0 by default, which leaves training exactly as without it.

**Bi-directional finite differences** (Behrmann et al. 2021, §3.3.1). For a map :math:`F`,
:math:`\sup_{\lVert v \rVert = 1} \lVert J_F(u) v \rVert` is the local Lipschitz constant at
:math:`u`. With one random unit direction per row and a finite step :math:`\varepsilon`,

.. math::

    R_\mathrm{FD} = \mathbb{E}\Bigl[\tfrac{1}{\varepsilon}\lVert F(u) - F(u + \varepsilon v)\rVert
        + \tfrac{1}{\varepsilon}\lVert F^{-1}(w) - F^{-1}(w + \varepsilon v')\rVert\Bigr],

penalises large singular values of both the forward Jacobian at the training inputs
:math:`u` and the inverse Jacobian at the latent points :math:`w` the backward pass samples
from. :math:`\varepsilon = 0.1` (the paper's choice) is large enough that the difference does
not cancel catastrophically in float32. The term costs four network passes, so it may be
applied every ``fd_every`` training steps only (the paper found every 5 or 10 steps as
stabilising as every step). Validation passes skip it: it is random and says nothing about
the fit.

**Normalising-flow term** (Behrmann et al. 2021, §3.3.2). The negative log-likelihood

.. math::

    R_\mathrm{NF}
    = \mathbb{E}\bigl[-\log \mathcal{N}(F(u); 0, I) - \log\lvert\det J_F(u)\rvert\bigr]
    = \mathbb{E}\bigl[\tfrac12 \lVert F(u) \rVert^2 - \textstyle\sum_i \log\sigma_i(u)\bigr]
      + \tfrac{d}{2}\log 2\pi

contains :math:`-\sum_i \log \sigma_i`, which punishes a vanishing singular value
:math:`\sigma_i` of the forward Jacobian far more than it rewards a large one. What the
density is over: :math:`u = [\theta, \eta]` is the network's whole padded input, the
standardised parameters (with ``latent_noise``, also the simulator's noise draws) and the
padding noise :math:`\eta \sim \mathcal{N}(0, \text{pad\_noise}^2 I)`; the base density
:math:`\mathcal{N}(0, I)` is put on the whole output :math:`[y, z, \text{pad}]`. That model
is misspecified for the bidirectional INN on purpose: :math:`y` must equal the observation,
which is not standard normal, and the narrow padding noise makes the NLL reward expanding
the padding directions. With a small weight (Behrmann et al. use :math:`10^{-8}` on their
regression toy) the term regularises the Jacobian without competing with the fit.

**L2 on subnet weights.** :math:`R_{L2} = \sum_W \lVert W \rVert_F^2` over the weight
matrices of the coupling subnetworks (biases excluded: they shift, they do not stretch).
Smaller weights bound the subnetworks' Lipschitz constants and with them the couplings'
(Behrmann et al. 2021, Lemmas 5 and 6). Unlike ``TrainingConfig.weight_decay`` it leaves
every other parameter (ActNorm) alone, and it enters the loss, so Adam treats it like
the other terms (coupled L2, not AdamW's decoupled decay).

Examples:
    >>> import torch
    >>> from sbinn.nn import InvertibleNetwork
    >>> _ = torch.manual_seed(0)
    >>> net = InvertibleNetwork.coupling_stack(2, 2, hidden_features=8)
    >>> u = torch.randn(64, 2)
    >>> round(finite_difference_penalty(net, u, u).item(), 6)  # a fresh stack is a rotation
    2.0
    >>> subnet_l2(net).item() > 0
    True
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn

from sbinn.nn import MLP, InvertibleNetwork

__all__ = [
    "StabiliserTerms",
    "Stabilisers",
    "finite_difference_penalty",
    "flow_nll",
    "subnet_l2",
    "subnet_weights",
]


def _unit_directions(like: Tensor, generator: torch.Generator | None) -> Tensor:
    """One direction per row, uniform on the unit sphere (normalised Gaussian, Muller 1959)."""
    v = torch.randn(like.shape, generator=generator, device=like.device, dtype=like.dtype)
    return v / v.norm(dim=1, keepdim=True).clamp_min(torch.finfo(like.dtype).tiny)


def finite_difference_penalty(
    network: InvertibleNetwork,
    u: Tensor,
    w: Tensor,
    epsilon: float = 0.1,
    generator: torch.Generator | None = None,
    bound: float = 0.0,
) -> Tensor:
    r"""Bi-directional finite-difference estimate of the local Lipschitz constants, batch mean.

    Args:
        network: An unconditional invertible network.
        u: Points ``(batch, dim)`` at which the forward map is probed.
        w: Points ``(batch', dim)`` at which the inverse map is probed.
        epsilon: Step size :math:`\varepsilon > 0`.
        generator: Source of the random directions; torch's global one if ``None``.
        bound: Local Lipschitz estimates up to ``bound`` cost nothing: each row contributes
            :math:`\max(0, \hat L - \text{bound})`. 0 (the default) is Behrmann et al.'s
            plain mean. A bound leaves alone the stretching a task needs (a forward map that
            must squeeze a direction 100-fold has an inverse that stretches it 100-fold) and
            acts only on the explosions beyond it.

    Returns:
        Scalar :math:`\mathbb{E}\lVert F(u) - F(u + \varepsilon v)\rVert/\varepsilon +
        \mathbb{E}\lVert F^{-1}(w) - F^{-1}(w + \varepsilon v')\rVert/\varepsilon`; 2 for an
        isometry. With a bound, the same means of the excess over it.

    Raises:
        ValueError: if ``epsilon`` is not a finite number > 0, or ``bound`` not one >= 0.

    Examples:
        >>> from sbinn.nn import ActNorm
        >>> net = InvertibleNetwork([ActNorm(2)])
        >>> with torch.no_grad():
        ...     _ = net.blocks[0].log_scale.fill_(math.log(3.0))
        >>> net.blocks[0].initialized.fill_(True)
        tensor(True)
        >>> x = torch.randn(5, 2)
        >>> round(finite_difference_penalty(net, x, x).item(), 4)  # 3 forward + 1/3 inverse
        3.3333
        >>> round(finite_difference_penalty(net, x, x, bound=1.0).item(), 4)  # excess of 3 over 1
        2.0
    """
    if isinstance(epsilon, bool) or not (
        isinstance(epsilon, int | float) and math.isfinite(epsilon) and epsilon > 0
    ):
        raise ValueError(f"epsilon must be a finite number > 0, got {epsilon!r}")
    bound = _check_weight(bound, "bound")
    forward_a, _ = network(u)
    forward_b, _ = network(u + epsilon * _unit_directions(u, generator))
    inverse_a, _ = network.inverse(w)
    inverse_b, _ = network.inverse(w + epsilon * _unit_directions(w, generator))
    forward = ((forward_a - forward_b).norm(dim=1) / epsilon - bound).clamp_min(0).mean()
    inverse = ((inverse_a - inverse_b).norm(dim=1) / epsilon - bound).clamp_min(0).mean()
    return forward + inverse


def flow_nll(out: Tensor, log_det: Tensor) -> Tensor:
    r"""Mean negative log-likelihood :math:`-\log\mathcal{N}(F(u); 0, I) - \log|\det J_F(u)|`.

    Args:
        out: Network outputs :math:`F(u)`, ``(batch, dim)``.
        log_det: :math:`\log|\det J_F(u)|`, ``(batch,)``.

    Returns:
        Scalar, in nats per sample (the :math:`\frac{d}{2}\log 2\pi` included).

    Examples:
        >>> round(flow_nll(torch.zeros(3, 2), torch.zeros(3)).item(), 4)  # log(2π)
        1.8379
    """
    gaussian = 0.5 * out.square().sum(dim=1) + 0.5 * out.shape[1] * math.log(2.0 * math.pi)
    return (gaussian - log_det).mean()


def subnet_weights(network: nn.Module) -> Iterator[Tensor]:
    """The weight matrices (no biases) of every coupling subnetwork in ``network``.

    Examples:
        >>> net = InvertibleNetwork.coupling_stack(4, 2, hidden_features=8, num_hidden_layers=1)
        >>> [tuple(w.shape) for w in subnet_weights(net)][:2]
        [(8, 2), (4, 8)]
        >>> len(list(subnet_weights(net)))  # 2 blocks x 2 subnets x 2 layers
        8
    """
    for module in network.modules():
        if isinstance(module, MLP):
            for layer in module.layers:
                if isinstance(layer, nn.Linear):
                    yield layer.weight


def subnet_l2(network: nn.Module) -> Tensor:
    """Sum of the squared coupling-subnetwork weights, :math:`\\sum_W \\lVert W\\rVert_F^2`.

    Raises:
        ValueError: if ``network`` has no coupling subnetwork.

    Examples:
        >>> from sbinn.nn import ActNorm
        >>> subnet_l2(InvertibleNetwork([ActNorm(2)]))
        Traceback (most recent call last):
        ...
        ValueError: subnet_l2 needs a network with coupling subnetworks; InvertibleNetwork has none
    """
    weights = list(subnet_weights(network))
    if not weights:
        raise ValueError(
            "subnet_l2 needs a network with coupling subnetworks; "
            f"{type(network).__name__} has none"
        )
    return sum((w.square().sum() for w in weights[1:]), weights[0].square().sum())


def _check_weight(value: object, name: str) -> float:
    if isinstance(value, bool) or not (
        isinstance(value, int | float) and math.isfinite(value) and value >= 0
    ):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Stabilisers:
    """Weights and settings of the stabilising terms; the defaults switch all of them off.

    Attributes:
        fd_weight: Weight of the bi-directional finite-difference penalty (0: off). Its
            value is the mean of two local Lipschitz estimates, about 2 for an isometry.
        fd_epsilon: Finite-difference step, in standardised units.
        fd_every: Apply the finite-difference penalty every this many training steps.
        fd_bound: Local Lipschitz estimates up to this cost nothing (0: the plain mean);
            see :func:`finite_difference_penalty`.
        nf_weight: Weight of the normalising-flow NLL of the padded inputs (0: off).
        subnet_l2: Weight of the L2 penalty on the coupling subnetworks' weights (0: off).

    Examples:
        >>> Stabilisers(nf_weight=1e-8).active
        True
        >>> Stabilisers.from_json(Stabilisers(fd_weight=0.1, fd_every=5).to_json())
        Stabilisers(fd_weight=0.1, fd_epsilon=0.1, fd_every=5, fd_bound=0.0, nf_weight=0.0, \
subnet_l2=0.0)
        >>> Stabilisers(fd_every=0)
        Traceback (most recent call last):
        ...
        ValueError: fd_every must be an int >= 1, got 0
    """

    fd_weight: float = 0.0
    fd_epsilon: float = 0.1
    fd_every: int = 1
    fd_bound: float = 0.0
    nf_weight: float = 0.0
    subnet_l2: float = 0.0

    def __post_init__(self) -> None:
        for name in ("fd_weight", "fd_bound", "nf_weight", "subnet_l2"):
            object.__setattr__(self, name, _check_weight(getattr(self, name), name))
        eps = self.fd_epsilon
        if isinstance(eps, bool) or not (
            isinstance(eps, int | float) and math.isfinite(eps) and eps > 0
        ):
            raise ValueError(f"fd_epsilon must be a finite number > 0, got {eps!r}")
        object.__setattr__(self, "fd_epsilon", float(eps))
        every = self.fd_every
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"fd_every must be an int >= 1, got {every!r}")

    @property
    def active(self) -> bool:
        """Whether any term has a non-zero weight."""
        return bool(self.fd_weight or self.nf_weight or self.subnet_l2)

    @property
    def weights(self) -> dict[str, float]:
        """Loss-term name -> weight, for the terms :class:`StabiliserTerms` returns."""
        return {"fd": self.fd_weight, "nf": self.nf_weight, "subnet_l2": self.subnet_l2}

    def to_json(self) -> dict:
        """JSON-serialisable form."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict | None) -> Stabilisers:
        """Inverse of :meth:`to_json`; ``None`` (files saved before this option) is the default."""
        return cls() if data is None else cls(**data)


class StabiliserTerms:
    """Computes the unweighted stabilising terms of one training batch.

    Counts its training calls (those with gradients enabled) to apply the finite-difference
    penalty every ``fd_every`` steps; the count restarts with the object, also on resuming.

    Args:
        network: The bidirectional INN.
        stabilisers: Which terms, with which settings.

    Examples:
        >>> net = InvertibleNetwork.coupling_stack(2, 1, hidden_features=4)
        >>> terms = StabiliserTerms(net, Stabilisers(fd_weight=1.0, fd_every=2, subnet_l2=1.0))
        >>> u = torch.randn(8, 2)
        >>> [sorted(terms(u, u)) for _ in range(3)]
        [['fd', 'subnet_l2'], ['subnet_l2'], ['fd', 'subnet_l2']]
    """

    def __init__(self, network: InvertibleNetwork, stabilisers: Stabilisers) -> None:
        self.network = network
        self.stabilisers = stabilisers
        self.calls = 0

    def __call__(
        self, u: Tensor, w: Tensor, forward: tuple[Tensor, Tensor] | None = None
    ) -> dict[str, Tensor]:
        """Terms at padded inputs ``u`` and latent points ``w``.

        ``forward`` is ``network(u)`` when the caller has computed it already.
        """
        s = self.stabilisers
        terms: dict[str, Tensor] = {}
        training = torch.is_grad_enabled()
        if s.fd_weight and training:
            if self.calls % s.fd_every == 0:
                terms["fd"] = finite_difference_penalty(
                    self.network, u, w, s.fd_epsilon, bound=s.fd_bound
                )
            self.calls += 1
        if s.nf_weight:
            terms["nf"] = flow_nll(*(forward if forward is not None else self.network(u)))
        if s.subnet_l2:
            terms["subnet_l2"] = subnet_l2(self.network)
        return terms
