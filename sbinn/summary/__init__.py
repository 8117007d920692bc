r"""Summary networks: they turn an observation into the condition of a conditional INN.

Vectors go through :class:`MLPSummary`, spectra through :class:`Conv1dSummary`, and
sets of any size (stars in a cluster) through :class:`DeepSet` or
:class:`SetTransformer`. A batch of sets is padded to one tensor
``(batch, max_set_size, element_features)`` with a bool ``mask`` marking the real
elements; :func:`pad_sets` builds both from a list of arrays. Every network has
``out_features``, the width of the summary it returns.

Examples:
    >>> import torch
    >>> from sbinn.summary import DeepSet, pad_sets
    >>> _ = torch.manual_seed(0)
    >>> x, mask = pad_sets([torch.randn(3, 2), torch.randn(7, 2)])
    >>> net = DeepSet(element_features=2, out_features=5).eval()
    >>> net(x, mask).shape
    torch.Size([2, 5])
    >>> torch.allclose(net(x[:1, :3]), net(x, mask)[:1], atol=1e-6)
    True
"""

from sbinn.summary.conv1d import Conv1dSummary
from sbinn.summary.deepset import POOLINGS, DeepSet
from sbinn.summary.masks import check_set_batch, pad_sets
from sbinn.summary.mlp import MLPSummary
from sbinn.summary.set_transformer import SetTransformer

__all__ = [
    "POOLINGS",
    "Conv1dSummary",
    "DeepSet",
    "MLPSummary",
    "SetTransformer",
    "check_set_batch",
    "pad_sets",
]
