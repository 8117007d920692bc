"""Inference methods, one per module. Every one samples as ``sample(x_obs, num_samples)``."""

from sbinn.methods._stability_check import StabilityWarning
from sbinn.methods.abc import RejectionABC
from sbinn.methods.abc_smc import SMCABC
from sbinn.methods.cinn import CINN
from sbinn.methods.dropout_regression import DropoutRegression
from sbinn.methods.inn import BidirectionalINN

__all__ = [
    "CINN",
    "SMCABC",
    "BidirectionalINN",
    "DropoutRegression",
    "RejectionABC",
    "StabilityWarning",
]
