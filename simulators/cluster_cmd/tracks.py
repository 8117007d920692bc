r"""Isochrones from the shipped SSE table, interpolated in age and metallicity.

The table ``data/isochrones_sse.npz`` holds isochrones computed with the single-star
evolution (SSE) formulae of Hurley, Pols & Tout (2000, MNRAS 315, 543) as implemented in
COSMIC (Breivik et al. 2020, ApJ 898, 71; ``cosmic-popsynth`` 4.3.3, MIT licence); the script
``data/make_isochrones.py`` that made it says how. It covers [Fe/H] from −2.0 to +0.15
(Z = 0.02 × 10^[Fe/H], the solar Z of the Pols et al. 1998 models the formulae were fitted
to) and log10(age/yr) from 8.0 to 10.15 in steps of 0.05.

Each isochrone is sampled at the same 135 equivalent evolutionary points (EEPs): 55 on the
main sequence, then 10 in the Hertzsprung gap, 30 on the giant branch, 20 in core-helium
burning, 15 on the early AGB and 5 on the thermally pulsing AGB, each phase at equal
fractions of its duration. Because the points are equivalent, the isochrone of any
(log age, [Fe/H]) inside the grid is the bilinear interpolation of the four neighbouring
isochrones point by point; initial mass increases along every isochrone, so a star's
luminosity and temperature follow by interpolating in initial mass. Stars more massive than
the last AGB point have left the AGB: post-AGB stars, white dwarfs or neutron stars, which
are not observed here (post-AGB stars live ~10^4 yr; white dwarfs are faint and hot, outside
the colour calibration). Binaries, rotation and blue stragglers are not modelled.

Examples:
    >>> grid = IsochroneGrid.load()
    >>> iso = grid.interpolate(np.log10([4e9]), [0.0])
    >>> iso.mass.shape
    (1, 135)
    >>> bool(np.all(np.diff(iso.mass, axis=1) >= 0))
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

__all__ = ["PHASE_NAMES", "IsochroneGrid", "Isochrones"]

_TABLE = Path(__file__).parent / "data" / "isochrones_sse.npz"
_AGB_MAX_LOG_TEFF = np.log10(8000.0)  # AGB stars are below ~5000 K; hotter ones left it

PHASE_NAMES = {
    1: "main sequence",
    2: "Hertzsprung gap",
    3: "giant branch",
    4: "core-helium burning",
    5: "early AGB",
    6: "thermally pulsing AGB",
}
"""SSE stellar types (Hurley et al. 2000, section 1) of the isochrone phases."""


@dataclass(frozen=True)
class Isochrones:
    """A batch of isochrones at the EEPs, each array of shape ``(batch, n_eep)``.

    Attributes:
        mass: Initial stellar mass (Msun), non-decreasing along each isochrone.
        log_l: :math:`\\log_{10} L/L_\\odot`.
        log_teff: :math:`\\log_{10} T_\\mathrm{eff}` (K).
        phase: SSE stellar type of each EEP (``(n_eep,)``; see :data:`PHASE_NAMES`).
    """

    mass: np.ndarray
    log_l: np.ndarray
    log_teff: np.ndarray
    phase: np.ndarray


@dataclass(frozen=True)
class IsochroneGrid:
    """The shipped isochrone table: ``(n_feh, n_age, n_eep)`` arrays on a regular grid."""

    feh: np.ndarray
    log_age: np.ndarray
    mass: np.ndarray
    log_l: np.ndarray
    log_teff: np.ndarray
    phase: np.ndarray

    @classmethod
    def load(cls, path: Path | str | None = None) -> IsochroneGrid:
        """Read the table (``None``: the shipped one, read once and cached)."""
        return _load(str(_TABLE if path is None else path))

    @property
    def feh_range(self) -> tuple[float, float]:
        """Smallest and largest [Fe/H] of the grid."""
        return float(self.feh[0]), float(self.feh[-1])

    @property
    def log_age_range(self) -> tuple[float, float]:
        """Smallest and largest log10(age/yr) of the grid."""
        return float(self.log_age[0]), float(self.log_age[-1])

    def interpolate(self, log_age: np.ndarray, feh: np.ndarray) -> Isochrones:
        """Bilinear interpolation of the isochrones at each ``(log_age, feh)`` pair.

        Args:
            log_age: log10(age/yr), shape ``(batch,)``, inside :attr:`log_age_range`.
            feh: [Fe/H], shape ``(batch,)``, inside :attr:`feh_range`.

        Raises:
            ValueError: for values outside the grid or mismatched shapes.
        """
        log_age = np.atleast_1d(np.asarray(log_age, dtype=float))
        feh = np.atleast_1d(np.asarray(feh, dtype=float))
        if log_age.ndim != 1 or log_age.shape != feh.shape:
            raise ValueError(
                f"log_age and feh must be 1-D of equal length, got shapes {log_age.shape} "
                f"and {feh.shape}"
            )
        for name, values, grid in (("log_age", log_age, self.log_age), ("feh", feh, self.feh)):
            bad = ~((values >= grid[0]) & (values <= grid[-1]))
            if np.any(bad):
                raise ValueError(
                    f"{name} must lie in [{grid[0]}, {grid[-1]}] (the isochrone grid), "
                    f"got {values[bad][:3].tolist()}"
                )
        i, wi = _bracket(self.feh, feh)
        j, wj = _bracket(self.log_age, log_age)
        weights = {
            (0, 0): (1 - wi) * (1 - wj),
            (0, 1): (1 - wi) * wj,
            (1, 0): wi * (1 - wj),
            (1, 1): wi * wj,
        }

        def blend(table: np.ndarray) -> np.ndarray:
            return sum(w[:, None] * table[i + di, j + dj] for (di, dj), w in weights.items())

        return Isochrones(blend(self.mass), blend(self.log_l), blend(self.log_teff), self.phase)


def _bracket(grid: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower grid index and linear weight of the upper neighbour for each value."""
    index = np.clip(np.searchsorted(grid, values, side="right") - 1, 0, len(grid) - 2)
    weight = (values - grid[index]) / (grid[index + 1] - grid[index])
    return index, weight


@cache
def _load(path: str) -> IsochroneGrid:
    with np.load(path, allow_pickle=False) as table:
        sizes = table["phase_sizes"]
        # Two main-sequence blocks (lower, upper), then one block per post-MS type 2..6.
        phase = np.repeat([1, 1, 2, 3, 4, 5, 6], sizes)
        # The last TP-AGB points of many isochrones fall on stars that have already shed
        # their envelope: white dwarfs (SSE type >= 10) or post-AGB stars crossing to them
        # at 10^4-10^5 K (still type 6 in SSE, for ~10^4 yr). Each takes the values of the
        # last AGB point before it, so those stars count as remnants and the isochrone ends
        # on the AGB; Torres' colours would not hold for them anyway.
        post_agb = (phase >= 5) & (table["log_teff"] > _AGB_MAX_LOG_TEFF)
        living = (table["kstar"] < 10) & ~post_agb
        last = np.maximum.accumulate(np.where(living, np.arange(living.shape[-1]), 0), axis=-1)

        def fill(name: str) -> np.ndarray:
            return np.take_along_axis(table[name].astype(float), last, axis=-1)

        return IsochroneGrid(
            feh=table["feh"].astype(float),
            log_age=table["log_age"].astype(float),
            mass=fill("mass"),
            log_l=fill("log_l"),
            log_teff=fill("log_teff"),
            phase=phase,
        )
