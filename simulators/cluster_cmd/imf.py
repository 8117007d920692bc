r"""The Kroupa (2001) initial mass function: a broken power law, sampled by its inverse CDF.

Kroupa (2001, MNRAS 322, 231, eq. 2) gives :math:`\xi(m) \propto m^{-\alpha_i}` with

=====================  ==============
mass range [Msun]      :math:`\alpha`
=====================  ==============
0.01 – 0.08            0.3
0.08 – 0.5             1.3
0.5 – ∞                2.3
=====================  ==============

continuous at the breaks. :class:`KroupaIMF` restricts it to ``[m_min, m_max]``; the default
0.1–100 Msun is the range the stellar tracks cover (Hurley et al. 2000 fitted SSE from
0.1 Msun up), so "cluster mass" means the initial mass in stars of 0.1–100 Msun. Within each
segment the CDF is analytic, so a draw is :math:`m = F^{-1}(u)` for :math:`u \sim U(0, 1)`.
:meth:`KroupaIMF.sample_between` draws from the IMF truncated to a mass range per draw, which is
how the simulator skips stars too faint to be seen.

Examples:
    >>> imf = KroupaIMF()
    >>> round(imf.mean_mass, 3)
    0.638
    >>> m = imf.sample(100_000, np.random.default_rng(0))
    >>> bool((m.min() >= 0.1) and (m.max() <= 100.0))
    True
"""

from __future__ import annotations

import numpy as np

__all__ = ["KROUPA_BREAKS", "KROUPA_SLOPES", "KroupaIMF"]

KROUPA_BREAKS = (0.01, 0.08, 0.5)
"""Lower ends (Msun) of the Kroupa (2001) power-law segments."""

KROUPA_SLOPES = (0.3, 1.3, 2.3)
r"""Exponents :math:`\alpha_i` of :math:`\xi(m) \propto m^{-\alpha_i}` (Kroupa 2001, eq. 2)."""


def _power_integral(a: np.ndarray, b: np.ndarray, power: np.ndarray) -> np.ndarray:
    """:math:`\\int_a^b m^{power - 1}\\, dm`; no Kroupa slope makes ``power`` zero."""
    return (b**power - a**power) / power


class KroupaIMF:
    """Kroupa (2001) IMF on ``[m_min, m_max]`` (Msun), normalised to one star.

    Args:
        m_min: Lowest stellar mass (>= 0.01 Msun, the lower end of Kroupa's fit).
        m_max: Highest stellar mass (> m_min).
    """

    def __init__(self, m_min: float = 0.1, m_max: float = 100.0) -> None:
        m_min, m_max = float(m_min), float(m_max)
        if not (np.isfinite(m_min) and np.isfinite(m_max)) or not 0.01 <= m_min < m_max:
            raise ValueError(f"need 0.01 <= m_min < m_max (Msun), got m_min={m_min}, m_max={m_max}")
        self.m_min, self.m_max = m_min, m_max
        edges = [m_min, *[b for b in KROUPA_BREAKS if m_min < b < m_max], m_max]
        self._low = np.array(edges[:-1])
        self._high = np.array(edges[1:])
        self._alpha = np.array(
            [KROUPA_SLOPES[np.searchsorted(KROUPA_BREAKS, a, side="right") - 1] for a in self._low]
        )
        # Continuity at the breaks fixes the ratio of the segment amplitudes.
        amplitude = np.ones(len(self._low))
        for i in range(1, len(self._low)):
            amplitude[i] = amplitude[i - 1] * self._low[i] ** (self._alpha[i] - self._alpha[i - 1])
        numbers = amplitude * _power_integral(self._low, self._high, 1.0 - self._alpha)
        masses = amplitude * _power_integral(self._low, self._high, 2.0 - self._alpha)
        total = numbers.sum()
        self._amplitude = amplitude / total
        self._cdf_low = np.concatenate([[0.0], np.cumsum(numbers / total)[:-1]])
        self.mean_mass = float(masses.sum() / total)
        """Mean stellar mass (Msun) of the IMF on ``[m_min, m_max]``."""

    def __repr__(self) -> str:
        return f"KroupaIMF(m_min={self.m_min}, m_max={self.m_max})"

    def _segment(self, m: np.ndarray) -> np.ndarray:
        return np.clip(np.searchsorted(self._low, m, side="right") - 1, 0, len(self._low) - 1)

    def pdf(self, m: np.ndarray) -> np.ndarray:
        """Probability density per Msun (0 outside ``[m_min, m_max]``)."""
        m = np.asarray(m, dtype=float)
        i = self._segment(m)
        inside = (m >= self.m_min) & (m <= self.m_max)
        safe = np.where(inside, m, 1.0)
        return np.where(inside, self._amplitude[i] * safe ** -self._alpha[i], 0.0)

    def cdf(self, m: np.ndarray) -> np.ndarray:
        """Fraction of stars with mass below ``m``.

        Examples:
            >>> KroupaIMF().cdf([0.1, 0.5, 100.0]).round(3).tolist()
            [0.0, 0.729, 1.0]
        """
        m = np.clip(np.asarray(m, dtype=float), self.m_min, self.m_max)
        i = self._segment(m)
        return self._cdf_low[i] + self._amplitude[i] * _power_integral(
            self._low[i], m, 1.0 - self._alpha[i]
        )

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF: the mass below which a fraction ``u`` of the stars lie."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        i = np.clip(np.searchsorted(self._cdf_low, u, side="right") - 1, 0, len(self._low) - 1)
        power = 1.0 - self._alpha[i]
        rest = (u - self._cdf_low[i]) / self._amplitude[i]
        m = (self._low[i] ** power + power * rest) ** (1.0 / power)
        return np.clip(m, self.m_min, self.m_max)

    def sample(self, num_stars: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``num_stars`` stellar masses (Msun)."""
        return self.ppf(rng.uniform(size=int(num_stars)))

    def sample_between(
        self, m_low: np.ndarray, m_high: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Draw one mass per entry from the IMF truncated to ``[m_low, m_high]`` (broadcast).

        Examples:
            >>> imf = KroupaIMF()
            >>> m = imf.sample_between(np.full(1000, 2.0), 3.0, np.random.default_rng(0))
            >>> bool(m.min() >= 2.0 and m.max() <= 3.0)
            True
        """
        start, stop = self.cdf(m_low), self.cdf(m_high)
        shape = np.broadcast_shapes(np.shape(start), np.shape(stop))
        return self.ppf(start + (stop - start) * rng.uniform(size=shape))
