"""Colour–magnitude diagrams of star clusters as sets of member stars (issue 7).

- :mod:`simulators.cluster_cmd.simulator`: :class:`ClusterCMDSimulator`, (log age, [Fe/H],
  distance modulus, A_V, log mass) to the NaN-padded set of observed (V, B−V, σ_V).
- :mod:`simulators.cluster_cmd.imf`: the Kroupa (2001) initial mass function.
- :mod:`simulators.cluster_cmd.tracks`: isochrones from the shipped SSE table
  (Hurley et al. 2000 via COSMIC), interpolated in age and metallicity.
- :mod:`simulators.cluster_cmd.photometry`: bolometric corrections and colours (Torres 2010),
  extinction and photometric errors.
"""

from simulators.cluster_cmd.imf import KroupaIMF
from simulators.cluster_cmd.simulator import (
    FEATURE_NAMES,
    PARAMETER_NAMES,
    Catalogue,
    ClusterCMDSimulator,
    cluster_cmd_prior,
    set_mask,
)
from simulators.cluster_cmd.summaries import SUMMARY_NAMES, CMDSummarySimulator, cmd_summaries
from simulators.cluster_cmd.tracks import IsochroneGrid, Isochrones

__all__ = [
    "FEATURE_NAMES",
    "PARAMETER_NAMES",
    "SUMMARY_NAMES",
    "CMDSummarySimulator",
    "Catalogue",
    "ClusterCMDSimulator",
    "IsochroneGrid",
    "Isochrones",
    "KroupaIMF",
    "cluster_cmd_prior",
    "cmd_summaries",
    "set_mask",
]
