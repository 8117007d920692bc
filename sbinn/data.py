r"""Simulation sets in memory, and their standardisation.

Learned methods train on standardised parameters and observations, so that kernel widths,
learning rates and clamps mean the same on every problem. :class:`Standardizer` keeps the
per-component mean and scale and knows its log-Jacobian
:math:`\log|\det \partial u/\partial v| = -\sum_i \log s_i`, which density estimators add
to report densities in the user's units.

Examples:
    >>> import numpy as np
    >>> data = np.array([[1.0, 10.0], [3.0, 30.0]])
    >>> standardizer = Standardizer.fit(data)
    >>> standardizer.transform(data).tolist()
    [[-1.0, -1.0], [1.0, 1.0]]
    >>> standardizer.inverse(standardizer.transform(data)).tolist()
    [[1.0, 10.0], [3.0, 30.0]]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from sbinn._validation import as_2d_float_array

__all__ = ["Standardizer"]

# Components with (almost) no spread, such as a constant padding or label column, are left
# unscaled rather than blown up.
_MIN_SCALE = 1e-12


@dataclass(frozen=True)
class Standardizer:
    """Per-component affine map ``u = (v - mean) / scale``."""

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, data: np.ndarray) -> Standardizer:
        """Mean and standard deviation of ``data`` ``(n, d)``, ignoring nothing."""
        data = as_2d_float_array(data, None, "data")
        if data.shape[0] < 2:
            raise ValueError(f"need at least 2 rows to standardise, got {data.shape[0]}")
        std = data.std(axis=0)
        return cls(mean=data.mean(axis=0), scale=np.where(std > _MIN_SCALE, std, 1.0))

    @classmethod
    def from_config(cls, config: dict) -> Standardizer:
        """Rebuild from :meth:`to_config` output."""
        return cls(mean=np.asarray(config["mean"], float), scale=np.asarray(config["scale"], float))

    def to_config(self) -> dict:
        """JSON-serialisable form."""
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist()}

    def transform(self, values: np.ndarray) -> np.ndarray:
        """Standardise ``values`` ``(..., d)``."""
        return (values - self.mean) / self.scale

    def inverse(self, values: np.ndarray) -> np.ndarray:
        """Undo :meth:`transform`."""
        return values * self.scale + self.mean

    def transform_tensor(self, values: torch.Tensor) -> torch.Tensor:
        """:meth:`transform` for a tensor, on its device and dtype."""
        mean = torch.as_tensor(self.mean, dtype=values.dtype, device=values.device)
        scale = torch.as_tensor(self.scale, dtype=values.dtype, device=values.device)
        return (values - mean) / scale

    def inverse_tensor(self, values: torch.Tensor) -> torch.Tensor:
        """:meth:`inverse` for a tensor, on its device and dtype."""
        mean = torch.as_tensor(self.mean, dtype=values.dtype, device=values.device)
        scale = torch.as_tensor(self.scale, dtype=values.dtype, device=values.device)
        return values * scale + mean

    @property
    def log_abs_det(self) -> float:
        """:math:`\\log|\\det|` of :meth:`transform` (the same for every point)."""
        return float(-np.log(self.scale).sum())
