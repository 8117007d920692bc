r"""Activation normalisation: a learnable per-feature affine map with data-dependent start.

.. math::

    y = (x + b) \odot e^{\ell}, \qquad x = y \odot e^{-\ell} - b, \qquad
    \log |\det \partial y / \partial x| = \textstyle\sum_i \ell_i.

On the first :meth:`~ActNorm.forward` call in training mode, :math:`b` and
:math:`\ell` are set from that batch, :math:`b = -\hat\mu` and
:math:`\ell = -\log(\hat\sigma + \varepsilon)`, so that the batch comes out with
zero mean and unit standard deviation per feature (Kingma & Dhariwal 2018). Later
blocks then see inputs of order one whatever the scale of the data. Until then
:math:`b = \ell = 0` and the map is the identity, in either direction. The
``initialized`` flag is a buffer, so a loaded state dict is not re-initialised.

Examples:
    >>> _ = torch.manual_seed(0)
    >>> norm = ActNorm(2)
    >>> y, _ = norm(5.0 + 3.0 * torch.randn(1000, 2))
    >>> [round(v, 3) for v in y.mean(0).tolist()], [round(v, 3) for v in y.std(0).tolist()]
    ([0.0, 0.0], [1.0, 1.0])
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import Tensor, nn

from sbinn.nn.base import InvertibleModule

__all__ = ["ActNorm"]


class ActNorm(InvertibleModule):
    r"""Per-feature learnable shift and log-scale, initialised to standardise the first batch.

    A first training batch of a single row carries no spread to standardise with, so
    initialisation waits for a batch of at least two rows.

    Args:
        dim: Number of features.
        eps: Added to the batch standard deviation, so constant features stay finite.

    Attributes:
        bias: The shift :math:`b`, shape ``(dim,)``.
        log_scale: The log-scale :math:`\ell`, shape ``(dim,)``.
        initialized: Boolean buffer, true once the data-dependent initialisation ran.

    Examples:
        >>> norm = ActNorm(3).eval()
        >>> y, log_det = norm(torch.ones(2, 3))
        >>> y.tolist(), log_det.tolist(), bool(norm.initialized)
        ([[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]], [0.0, 0.0], False)
    """

    initialized: Tensor

    def __init__(self, dim: int, *, eps: float = 1e-6) -> None:
        super().__init__(dim)
        if isinstance(eps, bool) or not isinstance(eps, numbers.Real):
            raise TypeError(f"eps must be a positive number, got {type(eps).__name__}")
        if not (math.isfinite(eps) and eps > 0):
            raise ValueError(f"eps must be a positive finite number, got {eps}")
        self.eps = float(eps)
        self.bias = nn.Parameter(torch.zeros(self.dim))
        self.log_scale = nn.Parameter(torch.zeros(self.dim))
        self.register_buffer("initialized", torch.tensor(False))

    @torch.no_grad()
    def initialize(self, x: Tensor) -> None:
        """Set the parameters so that the batch ``x`` comes out standardised; mark initialised.

        Raises:
            ValueError: if ``x`` is not of shape ``(batch, dim)`` with ``batch >= 2``.
        """
        self._check_inputs(x, None, "ActNorm.initialize", "x")
        if x.shape[0] < 2:
            raise ValueError(
                f"ActNorm.initialize needs a batch of at least 2 rows to estimate the spread, "
                f"got {x.shape[0]}"
            )
        x = x.detach()
        self.bias.copy_(-x.mean(dim=0))
        self.log_scale.copy_(-torch.log(x.std(dim=0, correction=0) + self.eps))
        self.initialized.fill_(True)

    def _forward(self, x: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        if self.training and x.shape[0] > 1 and not self.initialized:
            self.initialize(x)
        y = (x + self.bias) * torch.exp(self.log_scale)
        return y, x.new_zeros(x.shape[0]) + self.log_scale.sum()

    def _inverse(self, y: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        x = y * torch.exp(-self.log_scale) - self.bias
        return x, y.new_zeros(y.shape[0]) - self.log_scale.sum()
