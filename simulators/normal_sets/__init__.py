"""Set-valued observations: i.i.d. normal draws of varying size under a conjugate prior."""

from simulators.normal_sets.conjugate import NormalInverseGamma, NormalInverseGammaPrior
from simulators.normal_sets.sets import SET_SIZE_LAWS, NormalSetsSimulator, set_mask

__all__ = [
    "SET_SIZE_LAWS",
    "NormalInverseGamma",
    "NormalInverseGammaPrior",
    "NormalSetsSimulator",
    "set_mask",
]
