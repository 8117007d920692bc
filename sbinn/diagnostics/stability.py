r"""Stability of an invertible network: round trips, Jacobian conditioning, per-block log-dets,
and a per-observation reliability flag.

An invertible network can stop being invertible in floating point while its training loss
looks fine (Behrmann et al. 2021): an inverse whose Jacobian has huge singular values
amplifies rounding errors, and on unusual inputs it may return inf or NaN. The checks
measure this where it matters, at the training data and at the points a posterior sampler
feeds to the inverse. This module gathers them; each lives in a small module of its own:

- :func:`round_trip`: :math:`\lVert f^{-1}(f(x)) - x \rVert` or
  :math:`\lVert f(f^{-1}(z)) - z \rVert` per point, and the share of non-finite outputs
  (:mod:`sbinn.diagnostics.stability_roundtrip`);
- :func:`jacobian_spectrum`: extreme singular values and condition numbers of the forward
  or inverse Jacobian, by exact SVD or by power iteration
  (:mod:`sbinn.diagnostics.stability_jacobian`);
- :func:`block_log_dets`: every block's :math:`\log|\det J|` over a batch, which shows
  where the network stretches or squeezes, and :func:`reliability_flags`: which
  observations' samples went where the training data never took the network (the rule is
  in :mod:`sbinn.diagnostics.stability_checks`);
- :func:`stability_summary`: all of these for a trained bidirectional INN or cINN, as JSON
  (:mod:`sbinn.diagnostics.stability_summary`).

Examples:
    >>> import torch
    >>> from sbinn.nn import InvertibleNetwork
    >>> _ = torch.manual_seed(0)
    >>> net = InvertibleNetwork.coupling_stack(2, 3, hidden_features=8)
    >>> x = torch.randn(200, 2)
    >>> there, back = round_trip(net, x, start="x"), round_trip(net, net(x)[0], start="z")
    >>> kappa = jacobian_spectrum(net, x).condition_number
    >>> bool(there.errors.max() < 1e-5), bool(back.errors.max() < 1e-5), bool(kappa.min() >= 1)
    (True, True, True)
"""

from __future__ import annotations

from sbinn.diagnostics.stability_checks import (
    BlockLogDets,
    ReliabilityFlags,
    block_log_dets,
    reliability_flags,
)
from sbinn.diagnostics.stability_jacobian import (
    EXACT_MAX_DIM,
    JacobianSpectrum,
    jacobian_spectrum,
)
from sbinn.diagnostics.stability_roundtrip import QUANTILE_LEVELS, RoundTrip, round_trip
from sbinn.diagnostics.stability_summary import stability_summary

__all__ = [
    "EXACT_MAX_DIM",
    "QUANTILE_LEVELS",
    "BlockLogDets",
    "JacobianSpectrum",
    "ReliabilityFlags",
    "RoundTrip",
    "block_log_dets",
    "jacobian_spectrum",
    "reliability_flags",
    "round_trip",
    "stability_summary",
]
