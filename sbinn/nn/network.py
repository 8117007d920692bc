r"""A chain of invertible blocks, and the standard coupling stack.

For blocks :math:`f_1, \dots, f_K` the network is
:math:`z = f_K \circ \dots \circ f_1(x)`. By the chain rule its Jacobian is the
product of the blocks' Jacobians, so the log-determinants add up:

.. math::

    \log \left|\det \frac{\partial z}{\partial x}\right|
    = \sum_{k=1}^{K} \log \left|\det \frac{\partial h_k}{\partial h_{k-1}}\right|,
    \qquad h_0 = x,\; h_k = f_k(h_{k-1}).

The inverse runs :math:`f_K^{-1}, \dots, f_1^{-1}`. The condition :math:`c` goes
to every conditional block (``cond_dim > 0``) and to no other.

Examples:
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> net = InvertibleNetwork.coupling_stack(4, 3, cond_dim=2, hidden_features=16)
    >>> x, c = torch.randn(10, 4), torch.randn(10, 2)
    >>> z, log_det = net(x, c)
    >>> x_back, log_det_back = net.inverse(z, c)
    >>> torch.allclose(x_back, x, atol=1e-5), z.shape, log_det.shape
    (True, torch.Size([10, 4]), torch.Size([10]))
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from torch import Tensor, nn

from sbinn._validation import check_positive_int
from sbinn.nn.actnorm import ActNorm
from sbinn.nn.base import InvertibleModule, check_choice, check_seed
from sbinn.nn.coupling import AdditiveCoupling, AffineCoupling
from sbinn.nn.mixing import RandomOrthogonalMixing
from sbinn.nn.scale import check_scale

__all__ = ["COUPLINGS", "InvertibleNetwork"]

COUPLINGS = ("affine", "additive")


def _check_blocks(blocks: Sequence[InvertibleModule]) -> tuple[int, int]:
    """Return the shared ``(dim, cond_dim)`` of ``blocks``, or raise naming the first misfit."""
    if len(blocks) == 0:
        raise ValueError("InvertibleNetwork needs at least one block, got 0")
    for index, block in enumerate(blocks):
        if not isinstance(block, InvertibleModule):
            raise TypeError(
                f"InvertibleNetwork block {index} must be an InvertibleModule, "
                f"got {type(block).__name__}"
            )
    first = blocks[0]
    for index, block in enumerate(blocks):
        if block.dim != first.dim:
            raise ValueError(
                f"InvertibleNetwork blocks must share dim: block 0 ({type(first).__name__}) "
                f"has dim {first.dim}, block {index} ({type(block).__name__}) has dim {block.dim}"
            )
    conditional = [(i, b) for i, b in enumerate(blocks) if b.cond_dim > 0]
    if not conditional:
        return first.dim, 0
    first_index, first_conditional = conditional[0]
    for index, block in conditional:
        if block.cond_dim != first_conditional.cond_dim:
            raise ValueError(
                f"InvertibleNetwork conditional blocks must share cond_dim: block {first_index} "
                f"({type(first_conditional).__name__}) has cond_dim {first_conditional.cond_dim}, "
                f"block {index} ({type(block).__name__}) has cond_dim {block.cond_dim}"
            )
    return first.dim, first_conditional.cond_dim


class InvertibleNetwork(InvertibleModule):
    """Chain invertible blocks; log-determinants add up.

    Args:
        blocks: Invertible blocks, all of the same ``dim``; the conditional ones
            (``cond_dim > 0``) all of the same ``cond_dim``, which becomes the
            network's.

    Examples:
        >>> import torch
        >>> from sbinn.nn import ActNorm, Permutation
        >>> net = InvertibleNetwork([ActNorm(3), Permutation(3, seed=0)])
        >>> z, log_det = net(torch.randn(5, 3))
        >>> len(net.blocks), net.cond_dim, len(net.block_log_dets(z))
        (2, 0, 2)
    """

    def __init__(self, blocks: Sequence[InvertibleModule]) -> None:
        blocks = list(blocks)
        dim, cond_dim = _check_blocks(blocks)
        super().__init__(dim, cond_dim)
        self.blocks = nn.ModuleList(blocks)

    @classmethod
    def coupling_stack(
        cls,
        dim: int,
        num_blocks: int,
        *,
        cond_dim: int = 0,
        coupling: str = "affine",
        hidden_features: int = 128,
        num_hidden_layers: int = 2,
        activation: str = "relu",
        clamp: float = 2.0,
        clamp_kind: str = "tanh",
        actnorm: bool = False,
        seed: int = 0,
    ) -> InvertibleNetwork:
        """Build ``num_blocks`` × [ActNorm (optional), coupling, random orthogonal mixing].

        The mixing matrices are seeded from ``seed``, so equal seeds give equal
        mixings; the subnetworks draw their initial weights from torch's global
        generator (seed it with :func:`torch.manual_seed`).

        Args:
            dim: Number of features, ``>= 2``.
            num_blocks: Number of [coupling, mixing] blocks, ``>= 1``.
            cond_dim: Conditioning features of every coupling (0 = unconditional).
            coupling: ``"affine"`` (:class:`AffineCoupling`) or ``"additive"``
                (:class:`AdditiveCoupling`).
            hidden_features: Width of the subnetworks' hidden layers.
            num_hidden_layers: Number of hidden layers per subnetwork.
            activation: Subnetwork activation, see :class:`~sbinn.nn.subnet.MLP`.
            clamp: Soft-clamp bound of the affine log-scales (ignored by additive couplings).
            clamp_kind: Scale function of the affine couplings, ``"tanh"``, ``"atan"`` or
                ``"sigmoid"`` (see :mod:`sbinn.nn.scale`; ignored by additive couplings).
            actnorm: Put an :class:`ActNorm` at the start of every block.
            seed: Seed from which the mixings' seeds are derived.

        Raises:
            TypeError: on arguments of the wrong type.
            ValueError: on an unknown option string or an out-of-range number.

        Examples:
            >>> net = InvertibleNetwork.coupling_stack(3, 2, coupling="additive", actnorm=True)
            >>> [type(block).__name__ for block in net.blocks]  # doctest: +NORMALIZE_WHITESPACE
            ['ActNorm', 'AdditiveCoupling', 'RandomOrthogonalMixing',
             'ActNorm', 'AdditiveCoupling', 'RandomOrthogonalMixing']
        """
        num_blocks = check_positive_int(num_blocks, "num_blocks")
        coupling = check_choice(coupling, "coupling", COUPLINGS)
        clamp, clamp_kind = check_scale(clamp, clamp_kind)
        if not isinstance(actnorm, bool):
            raise TypeError(f"actnorm must be True or False, got {type(actnorm).__name__}")
        # SeedSequence spreads neighbouring seeds (0, 1, ...) into unrelated mixing streams.
        mixing_seeds = np.random.SeedSequence(check_seed(seed)).generate_state(num_blocks)

        subnet = {
            "cond_dim": cond_dim,
            "hidden_features": hidden_features,
            "num_hidden_layers": num_hidden_layers,
            "activation": activation,
        }
        blocks: list[InvertibleModule] = []
        for mixing_seed in mixing_seeds:
            if actnorm:
                blocks.append(ActNorm(dim))
            if coupling == "affine":
                blocks.append(AffineCoupling(dim, clamp=clamp, clamp_kind=clamp_kind, **subnet))
            else:
                blocks.append(AdditiveCoupling(dim, **subnet))
            blocks.append(RandomOrthogonalMixing(dim, seed=int(mixing_seed)))
        return cls(blocks)

    def inverse(self, z: Tensor, c: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Return ``(x, log|det dx/dz|)``, the log-determinant of shape ``(batch,)``."""
        self._check_inputs(z, c, "InvertibleNetwork.inverse", "z")
        return self._inverse(z, c)

    def block_log_dets(self, x: Tensor, c: Tensor | None = None) -> list[Tensor]:
        """Run forward and return each block's log-determinant, each of shape ``(batch,)``.

        Their sum is the network's log-determinant; a block whose values dwarf the
        others' is where the network stretches or squeezes space most.
        """
        self._check_inputs(x, c, "InvertibleNetwork.block_log_dets", "x")
        return self._run_forward(x, c)[1]

    def _run_forward(self, x: Tensor, c: Tensor | None) -> tuple[Tensor, list[Tensor]]:
        log_dets = []
        for block in self.blocks:
            x, log_det = block(x, c if block.cond_dim > 0 else None)
            log_dets.append(log_det)
        return x, log_dets

    def _forward(self, x: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        z, log_dets = self._run_forward(x, c)
        return z, sum(log_dets[1:], log_dets[0])

    def _inverse(self, z: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        log_det = z.new_zeros(z.shape[0])
        # The network checked z and c; each block's own checks would repeat them per block.
        for block in reversed(self.blocks):
            z, block_log_det = block._inverse(z, c if block.cond_dim > 0 else None)
            log_det = log_det + block_log_det
        return z, log_det
