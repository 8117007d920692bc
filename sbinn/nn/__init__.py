r"""Invertible building blocks: couplings with soft clamping, fixed mixings, ActNorm, networks.

Every block is an :class:`InvertibleModule`: ``forward(x, c=None)`` returns
``(y, log_det)`` and ``inverse(y, c=None)`` returns ``(x, log_det)``, with
``log_det`` of shape ``(batch,)``. :class:`InvertibleNetwork` chains blocks and
:meth:`InvertibleNetwork.coupling_stack` builds the usual
[coupling, random orthogonal mixing] stack.

Examples:
    >>> import torch
    >>> from sbinn.nn import InvertibleNetwork
    >>> _ = torch.manual_seed(0)
    >>> net = InvertibleNetwork.coupling_stack(2, num_blocks=4, hidden_features=32)
    >>> z, log_det = net(torch.randn(16, 2))
    >>> z.shape, log_det.shape
    (torch.Size([16, 2]), torch.Size([16]))
"""

from sbinn.nn.actnorm import ActNorm
from sbinn.nn.base import InvertibleModule
from sbinn.nn.clamp import soft_clamp
from sbinn.nn.coupling import AdditiveCoupling, AffineCoupling
from sbinn.nn.mixing import Permutation, RandomOrthogonalMixing
from sbinn.nn.network import InvertibleNetwork
from sbinn.nn.scale import log_scale
from sbinn.nn.shared_condition import SharedCondition
from sbinn.nn.subnet import MLP

__all__ = [
    "MLP",
    "ActNorm",
    "AdditiveCoupling",
    "AffineCoupling",
    "InvertibleModule",
    "InvertibleNetwork",
    "Permutation",
    "RandomOrthogonalMixing",
    "SharedCondition",
    "log_scale",
    "soft_clamp",
]
