r"""Maps from a bounded parameter space onto the real line, for flows that need all of it.

A normalising flow puts mass on all of :math:`\mathbb{R}^d`. A posterior on a bounded prior
support, such as a fraction in :math:`[0, 1]`, has a density that drops to zero at the
bounds; a flow then spends capacity on the sharp edges and still leaks samples over them,
which shows as mis-calibration (the flow is too wide near the edge) and as samples the
simulator rejects. Learning :math:`y = T(\theta)` instead, with

.. math::

    T(\theta) = \begin{cases}
        \operatorname{logit}\frac{\theta - a}{b - a} & a < \theta < b \\
        \log(\theta - a) & a < \theta \\
        -\log(b - \theta) & \theta < b \\
        \theta & \text{unbounded,}
    \end{cases}

removes both problems: every flow sample maps back inside the support, and densities
follow from :math:`\log q(\theta) = \log q(y) + \log\lvert\det \partial T / \partial\theta\rvert`
with the diagonal Jacobian

.. math::

    \log\Big\lvert\frac{\partial T}{\partial\theta}\Big\rvert = \begin{cases}
        -\log(b - a) - \log u - \log(1 - u), \; u = \frac{\theta - a}{b - a} & \text{both}\\
        -\log(\theta - a) \;\text{or}\; -\log(b - \theta) & \text{one side.}
    \end{cases}

This is what the ``sbi`` package does for box priors by default; here it is a choice,
:attr:`sbinn.methods.cinn_config.CINNConfig.parameter_bounds`.

Examples:
    >>> support = BoundedSupport.from_bounds([[0.0, 1.0], [0.1, None], [None, None]])
    >>> theta = np.array([[0.5, 1.1, -3.0]])
    >>> y, log_det = support.forward(theta)
    >>> np.round(y, 4).tolist(), round(float(log_det[0]), 4)
    ([[0.0, 0.0, -3.0]], 1.3863)
    >>> support.inverse(y).tolist()
    [[0.5, 1.1, -3.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sbinn._validation import as_2d_float_array

__all__ = ["BoundedSupport"]


@dataclass(frozen=True)
class BoundedSupport:
    """Per-parameter bounds ``low < theta < high``; ``-inf``/``inf`` for an open side."""

    low: np.ndarray
    high: np.ndarray

    @classmethod
    def from_bounds(cls, bounds: Sequence[Sequence[float | None]]) -> BoundedSupport:
        """From ``[(low, high), ...]``, ``None`` or ``±inf`` for an open side.

        Raises:
            ValueError: for a malformed list, NaN, or ``low >= high``.
        """
        try:
            pairs = [
                (-np.inf if lo is None else float(lo), np.inf if hi is None else float(hi))
                for lo, hi in bounds
            ]
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"bounds must be a sequence of (low, high) pairs, None for an open side; "
                f"got {bounds!r}"
            ) from error
        if not pairs:
            raise ValueError("bounds must name at least one parameter, got an empty sequence")
        low, high = (np.array(side) for side in zip(*pairs, strict=True))
        if np.any(np.isnan(low) | np.isnan(high)) or np.any(low >= high):
            bad = next(i for i, (lo, hi) in enumerate(pairs) if not lo < hi)
            raise ValueError(f"bounds must have low < high, got {pairs[bad]} for parameter {bad}")
        return cls(low=low, high=high)

    @classmethod
    def for_parameters(
        cls, bounds: Sequence[Sequence[float | None]] | None, dim_theta: int
    ) -> BoundedSupport | None:
        """:meth:`from_bounds` for an estimator's ``parameter_bounds`` setting: ``None``
        stays ``None``, and the bounds must name each of the ``dim_theta`` parameters.

        Examples:
            >>> BoundedSupport.for_parameters([[0.0, 1.0]], 2)
            Traceback (most recent call last):
            ...
            ValueError: parameter_bounds name 1 parameter(s), theta has 2
        """
        if bounds is None:
            return None
        if len(bounds) != dim_theta:
            raise ValueError(
                f"parameter_bounds name {len(bounds)} parameter(s), theta has {dim_theta}"
            )
        return cls.from_bounds(bounds)

    def to_config(self) -> list[list[float | None]]:
        """JSON-serialisable ``[[low, high], ...]`` with ``None`` for open sides."""
        return [
            [None if np.isinf(lo) else float(lo), None if np.isinf(hi) else float(hi)]
            for lo, hi in zip(self.low, self.high, strict=True)
        ]

    @property
    def dim(self) -> int:
        """The number of parameters."""
        return self.low.shape[0]

    def contains(self, theta: np.ndarray) -> np.ndarray:
        """Rows of ``theta`` strictly inside the support, shape ``(n,)``."""
        theta = as_2d_float_array(theta, self.dim, "theta")
        return np.all((theta > self.low) & (theta < self.high), axis=1)

    def forward(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(T(theta), log|det dT/dtheta|)`` for rows strictly inside the support.

        Raises:
            ValueError: if a row lies on or outside a bound.
        """
        theta = as_2d_float_array(theta, self.dim, "theta")
        outside = ~self.contains(theta)
        if np.any(outside):
            row = int(np.flatnonzero(outside)[0])
            raise ValueError(
                f"{int(outside.sum())} row(s) of theta lie on or outside the parameter bounds "
                f"{self.to_config()}, e.g. row {row}: {theta[row].tolist()}"
            )
        y, log_det = theta.copy(), np.zeros(theta.shape[0])
        both, lower, upper = self._sides()
        if np.any(both):
            width = self.high[both] - self.low[both]
            u = (theta[:, both] - self.low[both]) / width
            y[:, both] = np.log(u) - np.log1p(-u)
            log_det -= (np.log(width) + np.log(u) + np.log1p(-u)).sum(axis=1)
        if np.any(lower):
            shifted = theta[:, lower] - self.low[lower]
            y[:, lower] = np.log(shifted)
            log_det -= np.log(shifted).sum(axis=1)
        if np.any(upper):
            shifted = self.high[upper] - theta[:, upper]
            y[:, upper] = -np.log(shifted)
            log_det -= np.log(shifted).sum(axis=1)
        return y, log_det

    def inverse(self, y: np.ndarray) -> np.ndarray:
        """``theta = T^{-1}(y)``; every row lands inside the support (up to rounding at the
        bounds of float64)."""
        y = np.asarray(y, dtype=np.float64)
        theta = y.copy()
        both, lower, upper = self._sides()
        if np.any(both):
            # 1 / (1 + exp(-y)) written to avoid overflow warnings for large |y|.
            u = np.exp(-np.logaddexp(0.0, -y[..., both]))
            theta[..., both] = self.low[both] + (self.high[both] - self.low[both]) * u
        if np.any(lower):
            theta[..., lower] = self.low[lower] + np.exp(y[..., lower])
        if np.any(upper):
            theta[..., upper] = self.high[upper] - np.exp(-y[..., upper])
        return theta

    def _sides(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        finite_low, finite_high = np.isfinite(self.low), np.isfinite(self.high)
        return finite_low & finite_high, finite_low & ~finite_high, ~finite_low & finite_high
