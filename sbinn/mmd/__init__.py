r"""Maximum mean discrepancy (MMD): kernels and estimators for comparing sample sets.

For a kernel :math:`k`, the squared MMD between distributions :math:`P` and
:math:`Q` is

.. math::
    \mathrm{MMD}^2(P, Q) = \mathbb{E}_{x, x' \sim P}\, k(x, x')
        + \mathbb{E}_{y, y' \sim Q}\, k(y, y') - 2\, \mathbb{E}_{x \sim P, y \sim Q}\, k(x, y),

the squared distance between the mean embeddings of :math:`P` and :math:`Q` in
the kernel's feature space (Gretton et al., 2012). For characteristic kernels
(all of those here) it is zero iff :math:`P = Q`. It needs only samples, is
differentiable in both sample sets, and so serves as the distribution-matching
loss of the bidirectional INN (Ardizzone's thesis §4.1.3) and as a diagnostic.
The kernel sets what "different" means; see each kernel's docstring for when
to use it, and :mod:`sbinn.mmd.estimators` for the biased and unbiased
estimators.

Examples:
    >>> import torch
    >>> from sbinn.mmd import InverseMultiquadratic, mmd2
    >>> _ = torch.manual_seed(0)
    >>> x = torch.randn(200, 3, requires_grad=True)
    >>> loss = mmd2(x, torch.randn(200, 3) + 2.0, InverseMultiquadratic(scales=(0.2, 1.0)))
    >>> loss.backward()
    >>> bool(loss > 0) and bool(torch.isfinite(x.grad).all())
    True
"""

from __future__ import annotations

from sbinn.mmd.distances import squared_distances
from sbinn.mmd.estimators import mmd2
from sbinn.mmd.kernels import (
    ExponentialDistance,
    Gaussian,
    InverseMultiquadratic,
    Kernel,
    PowerDistance,
    kernel_from_config,
)

__all__ = [
    "ExponentialDistance",
    "Gaussian",
    "InverseMultiquadratic",
    "Kernel",
    "PowerDistance",
    "kernel_from_config",
    "mmd2",
    "squared_distances",
]
