"""Inference methods, one per module. Every one samples as ``sample(x_obs, num_samples)``."""

from sbinn.methods.abc import RejectionABC

__all__ = ["RejectionABC"]
