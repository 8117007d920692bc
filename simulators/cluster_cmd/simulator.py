r"""Colour–magnitude diagrams of star clusters: each observation is the set of detected stars.

A cluster of initial stellar mass :math:`M_\mathrm{cl}` has
:math:`N \sim \mathrm{Poisson}(M_\mathrm{cl} / \langle m \rangle)` stars with masses from the
Kroupa (2001) IMF on 0.1–100 Msun (:mod:`simulators.cluster_cmd.imf`,
:math:`\langle m \rangle = 0.638` Msun). Each star sits on the isochrone of the cluster's age
and [Fe/H] (:mod:`simulators.cluster_cmd.tracks`), which gives its luminosity and effective
temperature, hence :math:`M_V` and :math:`(B-V)_0` (:mod:`simulators.cluster_cmd.photometry`).
Then :math:`V = M_V + \mu + A_V` and :math:`B-V = (B-V)_0 + A_V/3.1`, and V and B get
Gaussian, magnitude-dependent errors. All stars are coeval; no binaries, no field stars.

**Detection.** A star is observed when its measured V is at most ``v_limit`` (the magnitude
at signal-to-noise 10) and its true V is at most ``v_limit + 1.5`` (signal-to-noise 2.5):
stars that faint are not detected however the noise falls. Stars fainter than that bound are
never drawn: by Poisson thinning, drawing :math:`N' \sim \mathrm{Poisson}(\lambda F)` stars
from the IMF restricted to the fraction :math:`F` of masses bright enough is the same in law
as drawing all :math:`N` stars and discarding the faint ones, and it makes the cost scale with
the stars that can be seen rather than with cluster mass.

**Observation.** ``(n_max, 3)`` per cluster, one row per observed star: measured V, measured
B−V and the V error :math:`\sigma_V` a catalogue would quote (evaluated at the measured V;
the colour error follows from the same law, see
:func:`~simulators.cluster_cmd.photometry.magnitude_error`). Rows are in random order and
NaN-padded after the last star, as in :mod:`simulators.normal_sets.sets`; :func:`set_mask`
recovers the mask. **Above n_max:** a cluster with more than ``n_max`` observed stars keeps a
uniformly random subset of ``n_max`` of them, so the diagram keeps its shape but the count
saturates; the default prior puts 2 % of its draws there (and 1 % below 20 stars;
measured on 20 000 draws). A cluster with no observed star is a failed simulation (an
all-NaN row).

**Prior** (:func:`cluster_cmd_prior`; all factors uniform, independent):

==================  ===============  =======================================================
parameter           range            why
==================  ===============  =======================================================
``log_age``         8.0 – 10.1       log10(age/yr): 0.1–12.6 Gyr, open clusters to old
                                     globulars; the isochrone table starts at 0.1 Gyr, and
                                     B−V loses its temperature leverage for the hot
                                     turn-offs of younger clusters.
``feh``             −2.0 – 0.0       [Fe/H]: metal-poor globulars to solar open clusters.
                                     Not above solar: there the SSE fits turn *hotter*
                                     with Z (1 Msun ZAMS: 5490 K at Z = 0.02, 5670 K at
                                     0.028, measured with COSMIC), so metal-rich turn-offs
                                     would come out bluer, not redder. The table reaches
                                     +0.15 for users who accept that.
``distance_mod``    9.5 – 15.0       :math:`\mu = 5\log_{10}(d/10\,\mathrm{pc})`: 0.8–10 kpc,
                                     disc clusters a ground-based survey resolves; nearer
                                     ones fill more than n_max rows.
``a_v``             0.0 – 1.5        V extinction (mag); typical of the solar neighbourhood
                                     to a few kpc in the disc.
``log_mass``        2.2 – 3.7        log10(initial stellar mass/Msun): 160–5000 Msun, poor
                                     open clusters to rich ones; with the other ranges it
                                     gives ~20 to ~2000 observed stars.
==================  ===============  =======================================================

Uniform in log age and in distance modulus are the customary uninformative choices of
isochrone fitting; uniform in log mass spreads the star counts over the decades the network
must handle.

Examples:
    >>> sim = ClusterCMDSimulator(n_max=500)
    >>> theta, x = sim.sample_joint(3, seed=0)
    >>> x.shape
    (3, 500, 3)
    >>> bool(np.all(set_mask(x).sum(axis=1) >= 1))
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sbinn._validation import check_positive_int, to_numpy
from sbinn.priors import JointPrior, Prior, Uniform
from sbinn.simulator import SeedLike, Simulator, as_generator
from simulators.cluster_cmd.imf import KroupaIMF
from simulators.cluster_cmd.photometry import (
    absolute_magnitude_v,
    colour_excess,
    intrinsic_colour,
    magnitude_error,
)
from simulators.cluster_cmd.tracks import IsochroneGrid

__all__ = [
    "DETECTION_MARGIN",
    "FEATURE_NAMES",
    "PARAMETER_NAMES",
    "Catalogue",
    "ClusterCMDSimulator",
    "cluster_cmd_prior",
    "set_mask",
]

PARAMETER_NAMES = ("log_age", "feh", "distance_mod", "a_v", "log_mass")
FEATURE_NAMES = ("V", "B_minus_V", "sigma_V")
DETECTION_MARGIN = 1.5
"""Stars whose true V exceeds ``v_limit`` by more than this (S/N < 2.5) are never detected."""

_LOG_MASS_MAX = 6.0  # beyond this a cluster has millions of visible stars: a cost guard


def cluster_cmd_prior() -> JointPrior:
    """The default prior over ``(log_age, feh, distance_mod, a_v, log_mass)``.

    Examples:
        >>> cluster_cmd_prior().names
        ('log_age', 'feh', 'distance_mod', 'a_v', 'log_mass')
    """
    return JointPrior(
        {
            "log_age": Uniform(8.0, 10.1),
            "feh": Uniform(-2.0, 0.0),
            "distance_mod": Uniform(9.5, 15.0),
            "a_v": Uniform(0.0, 1.5),
            "log_mass": Uniform(2.2, 3.7),
        }
    )


def set_mask(x: np.ndarray) -> np.ndarray:
    """Boolean mask ``(n, length)`` of the stars present in NaN-padded sets ``(n, length, 3)``.

    Examples:
        >>> set_mask(np.array([[[15.0, 0.6, 0.01], [np.nan] * 3]])).tolist()
        [[True, False]]
    """
    x = to_numpy(x)
    if x.ndim != 3 or x.shape[2] != len(FEATURE_NAMES):
        raise ValueError(f"sets must have shape (n, length, 3), got shape {x.shape}")
    return ~np.isnan(x[..., 0])


@dataclass(frozen=True)
class Catalogue:
    """All observed stars of a batch of clusters, flat and grouped by cluster.

    Attributes:
        cluster: Index of each star's cluster in the batch, non-decreasing.
        mass: Initial mass (Msun).
        v_true, bv_true: Apparent V and B−V before measurement errors.
        v, bv: Measured V and B−V.
        sigma_v: V error quoted for the measured V.
        counts: Observed stars per cluster, shape ``(batch,)``.
    """

    cluster: np.ndarray
    mass: np.ndarray
    v_true: np.ndarray
    bv_true: np.ndarray
    v: np.ndarray
    bv: np.ndarray
    sigma_v: np.ndarray
    counts: np.ndarray


class ClusterCMDSimulator(Simulator):
    """Sets of (V, B−V, σ_V) of the observed member stars of a star cluster.

    Args:
        n_max: Padded set length; clusters with more observed stars keep a random
            ``n_max`` of them.
        v_limit: V magnitude at signal-to-noise 10, the detection limit (10–28).
        sigma_floor: Calibration error added in quadrature to every magnitude (0–0.2 mag).
        prior: A prior over :data:`PARAMETER_NAMES`; default :func:`cluster_cmd_prior`.
        max_failure_fraction: Largest tolerated fraction of failed simulations.
    """

    name = "cluster_cmd"
    version = "1"

    def __init__(
        self,
        n_max: int = 2000,
        *,
        v_limit: float = 21.0,
        sigma_floor: float = 0.01,
        prior: Prior | None = None,
        max_failure_fraction: float = 0.1,
    ) -> None:
        n_max = check_positive_int(n_max, "n_max")
        v_limit, sigma_floor = (
            _check_range(v_limit, "v_limit", 10.0, 28.0),
            _check_range(sigma_floor, "sigma_floor", 0.0, 0.2),
        )
        prior = cluster_cmd_prior() if prior is None else prior
        if not isinstance(prior, Prior) or tuple(prior.names) != PARAMETER_NAMES:
            got = getattr(prior, "names", type(prior).__name__)
            raise ValueError(f"prior must be a Prior over {PARAMETER_NAMES}, got {got}")
        super().__init__(
            prior, (n_max, len(FEATURE_NAMES)), max_failure_fraction=max_failure_fraction
        )
        self.n_max, self.v_limit, self.sigma_floor = n_max, v_limit, sigma_floor
        self.imf = KroupaIMF()
        self.grid = IsochroneGrid.load()

    def _check_theta(self, theta: np.ndarray) -> None:
        limits = {
            "log_age": self.grid.log_age_range,
            "feh": self.grid.feh_range,
            "distance_mod": (0.0, 30.0),
            "a_v": (0.0, 10.0),
            "log_mass": (0.0, _LOG_MASS_MAX),
        }
        for column, (name, (low, high)) in zip(theta.T, limits.items(), strict=True):
            bad = (column < low) | (column > high)
            if np.any(bad):
                raise ValueError(
                    f"{name} must lie in [{low}, {high}], got {column[bad][:3].tolist()}"
                )

    def catalogue(self, theta: np.ndarray, rng: SeedLike = None) -> Catalogue:
        """Observed stars of each cluster, before padding and the ``n_max`` cut.

        Args:
            theta: Parameters ``(n, 5)`` in the order of :data:`PARAMETER_NAMES`.
            rng: Seed or Generator.

        Raises:
            ValueError: for a wrong shape, NaN, or a parameter outside what the model covers
                (the isochrone grid, 0 ≤ A_V ≤ 10, 0 ≤ μ ≤ 30, 0 ≤ log_mass ≤ 6).
        """
        theta = np.asarray(theta, dtype=float)
        if theta.ndim != 2 or theta.shape[1] != len(PARAMETER_NAMES) or np.isnan(theta).any():
            raise ValueError(
                f"theta must be a finite array of shape (n, {len(PARAMETER_NAMES)}), "
                f"got shape {theta.shape}" + (" with NaN" if np.isnan(theta).any() else "")
            )
        self._check_theta(theta)
        rng = as_generator(rng)
        log_age, feh, distance_mod, a_v, log_mass = theta.T
        iso = self.grid.interpolate(log_age, feh)
        shift = (distance_mod + a_v)[:, None]
        v_iso = absolute_magnitude_v(iso.log_l, iso.log_teff) + shift
        bv_iso = intrinsic_colour(iso.log_teff) + colour_excess(a_v)[:, None]

        # Along the lower main sequence V brightens with mass, so stars below the EEP before
        # the first one bright enough to be detected can never be seen.
        visible = v_iso <= self.v_limit + DETECTION_MARGIN
        first = np.where(visible.any(axis=1), visible.argmax(axis=1), -1)
        rows = np.arange(len(theta))
        m_low = np.where(first > 0, iso.mass[rows, np.maximum(first - 1, 0)], self.imf.m_min)
        m_high = iso.mass[:, -1]
        fraction = np.where(first >= 0, self.imf.cdf(m_high) - self.imf.cdf(m_low), 0.0)
        counts = rng.poisson(10.0**log_mass / self.imf.mean_mass * np.maximum(fraction, 0.0))

        cluster = np.repeat(rows, counts)
        mass = self.imf.sample_between(m_low[cluster], m_high[cluster], rng)
        # Offsetting each cluster's masses by 1000 Msun (> any stellar mass) makes one
        # increasing abscissa for the whole batch, so one np.interp serves every cluster.
        offset = 1000.0 * rows[:, None]
        abscissa, star_x = (iso.mass + offset).ravel(), mass + 1000.0 * cluster
        v_true = np.interp(star_x, abscissa, v_iso.ravel())
        bv_true = np.interp(star_x, abscissa, bv_iso.ravel())

        sigma_v_true = magnitude_error(v_true, self.v_limit, self.sigma_floor)
        sigma_b_true = magnitude_error(v_true + bv_true, self.v_limit, self.sigma_floor)
        noise = rng.standard_normal((2, len(mass)))
        v = v_true + sigma_v_true * noise[0]
        bv = bv_true + sigma_b_true * noise[1] - sigma_v_true * noise[0]
        seen = (v <= self.v_limit) & (v_true <= self.v_limit + DETECTION_MARGIN)
        return Catalogue(
            cluster=cluster[seen],
            mass=mass[seen],
            v_true=v_true[seen],
            bv_true=bv_true[seen],
            v=v[seen],
            bv=bv[seen],
            sigma_v=magnitude_error(v[seen], self.v_limit, self.sigma_floor),
            counts=np.bincount(cluster[seen], minlength=len(theta)),
        )

    def _simulate(self, theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        cat = self.catalogue(theta, rng)
        # Stars of a cluster come in i.i.d. random order, so the first n_max of them are a
        # uniformly random subset.
        start = np.concatenate([[0], np.cumsum(cat.counts)[:-1]])
        rank = np.arange(len(cat.cluster)) - start[cat.cluster]
        keep = rank < self.n_max
        x = np.full((len(theta), self.n_max, len(FEATURE_NAMES)), np.nan)
        x[cat.cluster[keep], rank[keep]] = np.stack([cat.v, cat.bv, cat.sigma_v], axis=1)[keep]
        return x

    def valid_mask(self, x: np.ndarray) -> np.ndarray:
        """Successful simulations: at least one star, finite stars, NaN only as trailing padding."""
        present = ~np.isnan(x[..., 0])
        sizes = present.sum(axis=1)
        trailing = present == (np.arange(x.shape[1]) < sizes[:, None])
        stars_finite = np.where(present[..., None], np.isfinite(x), np.isnan(x)).all(axis=(1, 2))
        return trailing.all(axis=1) & (sizes >= 1) & stars_finite

    def settings(self) -> dict:
        return super().settings() | {
            "n_max": self.n_max,
            "v_limit": self.v_limit,
            "sigma_floor": self.sigma_floor,
            "detection_margin": DETECTION_MARGIN,
            "features": list(FEATURE_NAMES),
            "padding": "nan",
            "imf": repr(self.imf),
            "isochrone_grid": {
                "feh": list(self.grid.feh_range),
                "log_age": list(self.grid.log_age_range),
                "source": "COSMIC 4.3.3 SSE (Hurley et al. 2000)",
            },
        }


def _check_range(value: object, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise TypeError(f"{name} must be a number in [{low}, {high}], got {type(value).__name__}")
    if not low <= float(value) <= high:
        raise ValueError(f"{name} must lie in [{low}, {high}], got {value}")
    return float(value)
