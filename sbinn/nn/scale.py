r"""Scale functions of affine couplings: the log-scale :math:`\log g(s)` from the raw :math:`s`.

An affine coupling multiplies half of its input by :math:`g(s) > 0`, where :math:`s` is
predicted by a subnetwork. The inverse divides by :math:`g(s)`, so its Lipschitz constant
grows with :math:`1 / \inf g` (Behrmann et al. 2021, Lemma 6): a scale that may approach 0
lets the inverse explode. sbinn offers three choices of :math:`\log g`:

.. math::

    \log g_\mathrm{tanh}(s) = \alpha \tanh(s / \alpha), \qquad
    \log g_\mathrm{atan}(s) = \tfrac{2\alpha}{\pi} \arctan(s / \alpha), \qquad
    g_\mathrm{sigmoid}(s) = \tfrac12 \bigl(1 + \sigma(s + 2)\bigr).

The soft clamps (``"tanh"``, ``"atan"``, :mod:`sbinn.nn.clamp`) bound the scale to
:math:`(e^{-\alpha}, e^{\alpha})` and are the identity map at :math:`s = 0`. The
``"sigmoid"`` scale is the "squashed sigmoid" of Behrmann et al. (2021, §3.2 and App. C):
Glow's scale :math:`\sigma(s + 2) \in (0, 1)` mapped onto :math:`(1/2, 1)`, which is
:math:`0.5\,\sigma(s + 2) + 0.5` in their code. Each coupling step then expands by at most 2
in the inverse direction, whatever the subnetwork predicts. Its trade-offs, both
consequences of :math:`g < 1`:

- every coupling step contracts volume (:math:`\log|\det| < 0`), so a stack of them can only
  widen a distribution through the shears of the shift terms, the mixings and ActNorm;
- a block does not start as the identity: at :math:`s = 0` the scale is
  :math:`(1 + \sigma(2))/2 \approx 0.940`. The bound ``alpha`` is not used.

Examples:
    >>> s = torch.tensor([-1e4, 0.0, 1e4])
    >>> log_scale(s, 2.0, "tanh").tolist()
    [-2.0, 0.0, 2.0]
    >>> [round(v, 4) for v in log_scale(s, 2.0, "sigmoid").exp().tolist()]
    [0.5, 0.9404, 1.0]
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from sbinn.nn.base import check_choice
from sbinn.nn.clamp import CLAMP_KINDS, check_clamp, checked_soft_clamp

__all__ = ["SCALE_KINDS", "check_scale", "checked_log_scale", "log_scale"]

SCALE_KINDS = (*CLAMP_KINDS, "sigmoid")

# Glow's offset: sigmoid(0 + 2) ≈ 0.88, so a fresh block scales by about 0.94, not by ~0.5.
_SIGMOID_OFFSET = 2.0


def check_scale(alpha: object, kind: object) -> tuple[float, str]:
    """Return ``(alpha, kind)``, checking that ``alpha`` is finite and > 0 and ``kind`` known.

    ``alpha`` is checked for every kind, so that a configuration stays valid when only its
    ``kind`` is switched.

    Examples:
        >>> check_scale(2, "sigmoid")
        (2.0, 'sigmoid')
        >>> check_scale(2.0, "softplus")
        Traceback (most recent call last):
        ...
        ValueError: scale kind must be one of 'tanh', 'atan', 'sigmoid'; got 'softplus'
    """
    kind = check_choice(kind, "scale kind", SCALE_KINDS)
    alpha, _ = check_clamp(alpha, "tanh")
    return alpha, kind


def log_scale(s: Tensor, alpha: float, kind: str = "tanh") -> Tensor:
    r"""The log-scale :math:`\log g(s)` of an affine coupling, element-wise.

    Args:
        s: Raw subnetwork outputs, any shape.
        alpha: Soft-clamp bound (``"tanh"``, ``"atan"``); unused by ``"sigmoid"``.
        kind: ``"tanh"``, ``"atan"`` or ``"sigmoid"``, see the module docstring.

    Returns:
        Tensor of the shape and dtype of ``s``; in :math:`(-\alpha, \alpha)` for the soft
        clamps and in :math:`(-\log 2, 0)` for ``"sigmoid"``.

    Raises:
        TypeError: if ``alpha`` is not a real number.
        ValueError: if ``alpha <= 0`` or not finite, or ``kind`` is unknown.

    Examples:
        >>> log_scale(torch.zeros(1), 1.0, "sigmoid").item() < 0
        True
    """
    alpha, kind = check_scale(alpha, kind)
    return checked_log_scale(s, alpha, kind)


def checked_log_scale(s: Tensor, alpha: float, kind: str) -> Tensor:
    """:func:`log_scale` for an ``alpha`` and ``kind`` already checked by
    :func:`check_scale`: couplings check them once, not on every call."""
    if kind == "sigmoid":
        return torch.log1p(torch.sigmoid(s + _SIGMOID_OFFSET)) - math.log(2.0)
    return checked_soft_clamp(s, alpha, kind)
