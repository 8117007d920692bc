"""Emission lines of a young star cluster in its parent cloud (issue 7; Rahner et al. 2017).

- :mod:`simulators.star_cluster.simulator`: :class:`StarClusterSimulator`, parameters to
  10 log line luminosities, plus the derived shell radius, velocity and cluster age.
- :mod:`simulators.star_cluster.population`: the feedback (ionising photons, luminosity,
  winds, supernovae) of single stars from published relations, and the Kroupa IMF.
- :mod:`simulators.star_cluster.feedback_table`: that feedback summed over a Kroupa-IMF
  burst, tabulated in age and metallicity.
- :mod:`simulators.star_cluster.shell`: the shell dynamics (Weaver bubble, momentum phase,
  radiation and ionised-gas pressure, gravity, recollapse), batched RK4.
- :mod:`simulators.star_cluster.lines`: the MAPPINGS HII grid (Thomas et al. 2018),
  case-B Hβ, Cardelli et al. (1989) attenuation.
- :mod:`simulators.star_cluster.priors`: the prior.
"""

from simulators.star_cluster.feedback_table import FeedbackTable, feedback_table
from simulators.star_cluster.priors import star_cluster_prior
from simulators.star_cluster.shell import ShellSettings, ShellState, evolve_shell
from simulators.star_cluster.simulator import DERIVED_TARGETS, StarClusterSimulator

__all__ = [
    "DERIVED_TARGETS",
    "FeedbackTable",
    "ShellSettings",
    "ShellState",
    "StarClusterSimulator",
    "evolve_shell",
    "feedback_table",
    "star_cluster_prior",
]
