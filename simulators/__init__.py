"""Domain simulators for sbinn, each a small package with a documented prior.

- :mod:`simulators.kinematics`: the articulated arm on a rail (Ardizzone's thesis §4.2.2).
- :mod:`simulators.gaussian_mixture`: the 8-mode, 4-colour Gaussian mixture (thesis §4.2.1).
"""

__all__: list[str] = []
