"""Domain simulators for sbinn, each a small package with a documented prior.

- :mod:`simulators.kinematics`: the articulated arm on a rail (Ardizzone's thesis §4.2.2).
- :mod:`simulators.gaussian_mixture`: the 8-mode, 4-colour Gaussian mixture (thesis §4.2.1).
- :mod:`simulators.linear_gaussian`: ``x = Aθ + noise`` under a Gaussian prior, with the
  exact Gaussian posterior (ground truth for densities and calibration).
- :mod:`simulators.normal_sets`: sets of 5 to 500 i.i.d. draws from N(μ, σ²) under the
  conjugate normal-inverse-gamma prior, with the exact posterior (set-valued observations).
- :mod:`simulators.tissue`: multispectral camera bands of three-layer tissue by
  adding-doubling (Wirkert et al. 2016; thesis §4.2.3).
- :mod:`simulators.star_cluster`: emission lines of the HII region around a young cluster,
  from a 1-D feedback-driven shell (in the spirit of WARPFIELD) and the MAPPINGS HII grid.
- :mod:`simulators.cluster_cmd`: colour–magnitude sets of a cluster's observed member stars
  (Kroupa IMF, SSE isochrones, Torres 2010 colours), of 20 to 2000 stars.
"""

__all__: list[str] = []
