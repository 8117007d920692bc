r"""Hand-made summary statistics of a colour–magnitude set, for ABC and for people.

An astronomer reading a cluster's colour–magnitude diagram (CMD) looks at a handful of
features; these are the ones computed here, vectorised over a batch of NaN-padded sets
``(n, n_max, 3)`` of (V, B−V, σ_V) as :class:`~simulators.cluster_cmd.ClusterCMDSimulator`
returns them.

**The turn-off.** Along the main sequence stars get bluer as they get brighter, until the
stars that are leaving it turn redder onto the subgiant and giant branches. The bluest point
of the bright main sequence, the *turn-off*, is the classic age clock: older clusters turn
off at lower mass, hence fainter and redder. Its estimate here: stars are binned in V on a
fixed grid (0.4 mag bins); among bins holding at least 3 stars and 2 % of the cluster, the one
with the bluest median colour is the turn-off, and its median V and median B−V are
``v_turnoff`` and ``bv_turnoff``. For old clusters this is the turn-off proper. For young
ones, whose upper main sequence is nearly vertical in B−V and sparsely populated, it lands
near the brightest well-populated part of the main sequence: still a feature that moves with
age and distance, but not a turn-off an observer would mark.

**Relative to the turn-off** (so free of distance and, for colours, of reddening):

- ``frac_bright``, ``dv_bright``, ``dbv_bright``: the share of stars more than 0.75 mag
  brighter than the turn-off (subgiants, giants, core-He burners; the upper main sequence
  of young clusters), and their median V and B−V minus the turn-off's. The magnitude gap
  between turn-off and giants and the colour gap between turn-off and giant branch are the
  "vertical" and "horizontal" methods of relative cluster ages; metal-rich giant branches
  are also redder. 0 when there are no such stars.
- ``dbv_ms1..3``, ``frac_ms1..3``: median colour minus the turn-off colour, and share of
  stars, in the slices 0.5–1.5, 1.5–2.5 and 2.5–3.5 mag below the turn-off. The slope of the
  main sequence below the turn-off depends on [Fe/H] (metal-poor dwarfs are bluer at a given
  luminosity) and on age; the shares trace the luminosity function, hence how far the
  magnitude limit reaches below the turn-off. An empty slice repeats the previous slice's
  colour (0 for the first), and its share of 0 says so.

**Whole-set statistics:**

- ``log_n_stars``: log10 of the observed stars, the cluster's mass once distance, age and
  the magnitude limit are known (it saturates at ``n_max``, like the set itself).
- ``v_q02``, ``v_q10``, ``v_q50``: V quantiles; the bright end (giants, upper main
  sequence) is set by distance, extinction and age, the median by where the luminosity
  function meets the magnitude limit.
- ``bv_q05`` … ``bv_q95``: B−V quantiles. The blue edge is the turn-off or upper main
  sequence shifted by the reddening E(B−V) = A_V/3.1; the red quantiles are the lower main
  sequence and giants.

σ_V is not summarised: it is a fixed function of V (the photometric error law), so it adds
nothing to the distance between two sets.

All statistics are order statistics and counts of the real stars, so they do not change
when the stars are permuted or when the padding length changes. A set without stars (a
failed simulation) gives a row of NaN, sbinn's mark of a failed simulation.

:class:`CMDSummarySimulator` wraps a :class:`~simulators.cluster_cmd.ClusterCMDSimulator`
so that its observations are these summaries: rejection ABC
(:class:`~sbinn.methods.abc.RejectionABC`) then runs on them unchanged, with its default
distance, the Euclidean distance on summaries standardised by their prior-predictive
standard deviation.

Examples:
    >>> from simulators.cluster_cmd import ClusterCMDSimulator
    >>> _, x = ClusterCMDSimulator(n_max=500).sample_joint(4, seed=0)
    >>> s = cmd_summaries(x)
    >>> s.shape == (4, len(SUMMARY_NAMES))
    True
    >>> bool(np.all(s[:, 0] == np.log10((~np.isnan(x[..., 0])).sum(axis=1))))
    True
"""

from __future__ import annotations

import numpy as np

from sbinn._validation import check_positive_int, to_numpy
from sbinn.simulator import Simulator
from simulators.cluster_cmd.simulator import FEATURE_NAMES, ClusterCMDSimulator

__all__ = ["SUMMARY_NAMES", "CMDSummarySimulator", "cmd_summaries"]

SUMMARY_NAMES = (
    "log_n_stars",
    "v_q02",
    "v_q10",
    "v_q50",
    "bv_q05",
    "bv_q25",
    "bv_q50",
    "bv_q75",
    "bv_q95",
    "v_turnoff",
    "bv_turnoff",
    "frac_bright",
    "dv_bright",
    "dbv_bright",
    "dbv_ms1",
    "dbv_ms2",
    "dbv_ms3",
    "frac_ms1",
    "frac_ms2",
    "frac_ms3",
)

_V_QUANTILES = (0.02, 0.10, 0.50)
_BV_QUANTILES = (0.05, 0.25, 0.50, 0.75, 0.95)
# A fixed V grid (not one anchored on the data) keeps the turn-off bins independent of any
# single star; -2 to 30 mag covers every distance and magnitude limit the simulator allows.
_GRID_START, _BIN_WIDTH, _NUM_BINS = -2.0, 0.4, 80
_MIN_BIN_STARS, _MIN_BIN_SHARE = 3, 0.02
_BRIGHT_OFFSET = 0.75
_MS_SLICES = 3  # 1-mag slices starting 0.5 mag below the turn-off
_CHUNK = 128  # fastest of 64-1024 on 4096 prior draws


def cmd_summaries(x: object, *, chunk_size: int = _CHUNK) -> np.ndarray:
    """Summary statistics ``(n, len(SUMMARY_NAMES))`` of NaN-padded CMD sets ``(n, n_max, 3)``.

    Args:
        x: Sets of (V, B−V, σ_V) per star, padded with all-NaN rows (any padding length,
            stars in any order).
        chunk_size: Sets summarised at once; bounds the memory of the sorts.

    Returns:
        One row of :data:`SUMMARY_NAMES` per set; all NaN for a set without stars.

    Raises:
        TypeError: for non-numeric input.
        ValueError: for a shape other than ``(n, length, 3)``, for inf, or for stars with
            some but not all features NaN.

    Examples:
        >>> star = [15.0, 0.6, 0.01]
        >>> s = cmd_summaries(np.array([[star, star, [np.nan] * 3]]))
        >>> dict(zip(SUMMARY_NAMES[:3], s[0, :3].round(3).tolist()))
        {'log_n_stars': 0.301, 'v_q02': 15.0, 'v_q10': 15.0}
        >>> cmd_summaries(np.zeros((2, 5)))
        Traceback (most recent call last):
        ...
        ValueError: x must hold NaN-padded sets of shape (n, n_max, 3), got shape (2, 5)
    """
    x = _check_sets(x)
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    present = ~np.isnan(x[..., 0])
    sizes = present.sum(axis=1)
    out = np.empty((x.shape[0], len(SUMMARY_NAMES)))
    # Sets of similar size go together and are cut to their largest member, so the sorts
    # cost what the stars cost, not what the padding costs (most sets are far below n_max).
    by_size = np.argsort(sizes, kind="stable")
    for lo in range(0, x.shape[0], chunk_size):
        rows = by_size[lo : lo + chunk_size]
        length = max(int(sizes[rows].max()), 1)
        by_v = np.argsort(x[rows, :, 0], axis=1)[:, :length]  # NaN (padding) sorts last
        out[rows] = _summarise(np.take_along_axis(x[rows], by_v[..., None], axis=1))
    return out


class CMDSummarySimulator(Simulator):
    """A :class:`ClusterCMDSimulator` whose observations are :func:`cmd_summaries` vectors.

    For methods that need fixed-length, finite observations, such as rejection ABC. Failed
    cluster simulations (no observed star) become NaN rows and are dropped as usual.

    Args:
        simulator: The set simulator; default ``ClusterCMDSimulator()``.

    Examples:
        >>> sim = CMDSummarySimulator(ClusterCMDSimulator(n_max=300))
        >>> theta, s = sim.sample_joint(3, seed=1)
        >>> s.shape, sim.observation_names[:2]
        ((3, 20), ('log_n_stars', 'v_q02'))
    """

    name = "cluster_cmd_summaries"
    version = "1"

    def __init__(self, simulator: ClusterCMDSimulator | None = None) -> None:
        simulator = ClusterCMDSimulator() if simulator is None else simulator
        if not isinstance(simulator, ClusterCMDSimulator):
            raise TypeError(
                f"simulator must be a ClusterCMDSimulator, got {type(simulator).__name__}"
            )
        super().__init__(
            simulator.prior,
            len(SUMMARY_NAMES),
            SUMMARY_NAMES,
            max_failure_fraction=simulator.max_failure_fraction,
        )
        self.sets = simulator

    def _simulate(self, theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return cmd_summaries(self.sets.simulate(theta, rng))

    def settings(self) -> dict:
        return super().settings() | {
            "sets": self.sets.settings(),
            "summaries": list(SUMMARY_NAMES),
        }


def _check_sets(x: object) -> np.ndarray:
    x = to_numpy(x)
    if x.dtype == object or not np.issubdtype(x.dtype, np.number) or np.iscomplexobj(x):
        raise TypeError(f"x must be a real numeric array, got dtype {x.dtype}")
    if x.ndim != 3 or x.shape[2] != len(FEATURE_NAMES):
        hint = "; for one set use x[None]" if x.ndim == 2 and x.shape[-1] == 3 else ""
        raise ValueError(
            f"x must hold NaN-padded sets of shape (n, n_max, {len(FEATURE_NAMES)}), "
            f"got shape {x.shape}{hint}"
        )
    x = x.astype(np.float64, copy=False)
    if np.isinf(x).any():
        raise ValueError(f"x must not contain inf, found in {_rows(np.isinf(x))}")
    missing = np.isnan(x)
    partial = missing.any(axis=2) & ~missing.all(axis=2)
    if partial.any():
        raise ValueError(
            f"x has stars with some but not all of {FEATURE_NAMES} NaN in {_rows(partial)}; "
            "padding rows must be NaN in every feature"
        )
    return x


def _rows(bad: np.ndarray) -> str:
    rows = np.flatnonzero(bad.reshape(bad.shape[0], -1).any(axis=1))
    return f"{rows.size} set(s), first at set {rows[0]}"


def _summarise(x: np.ndarray) -> np.ndarray:
    """Summaries of sets whose stars are sorted by V, padding last."""
    v, bv = x[..., 0], x[..., 1]
    present = ~np.isnan(v)
    n = present.sum(axis=1)
    rows = np.arange(len(x))
    v_order = np.broadcast_to(np.arange(v.shape[1]), v.shape)
    bv_order = np.argsort(bv, axis=1)
    whole = np.zeros(v.shape, dtype=np.int64)
    v_q, _ = _grouped_quantiles(v, v_order, whole, 1, _V_QUANTILES)
    bv_q, _ = _grouped_quantiles(bv, bv_order, whole, 1, _BV_QUANTILES)

    v_bin = np.floor((np.where(present, v, _GRID_START) - _GRID_START) / _BIN_WIDTH)
    v_bin = np.clip(v_bin, 0, _NUM_BINS - 1).astype(np.int64)
    bin_bv, counts = _grouped_quantiles(bv, bv_order, v_bin, _NUM_BINS, (0.5,))
    bin_v, _ = _grouped_quantiles(v, v_order, v_bin, _NUM_BINS, (0.5,))
    eligible = counts >= np.maximum(_MIN_BIN_STARS, _MIN_BIN_SHARE * n)[:, None]
    # A set too small for any eligible bin falls back on its most populated bins.
    eligible |= ~eligible.any(axis=1, keepdims=True) & (counts == counts.max(axis=1)[:, None])
    turnoff = np.argmin(np.where(eligible, bin_bv[..., 0], np.inf), axis=1)
    v_to, bv_to = bin_v[rows, turnoff, 0], bin_bv[rows, turnoff, 0]

    # Group 0: well above the turn-off; groups 1..3: main-sequence slices below it.
    below = v - v_to[:, None] - 0.5
    group = np.where(
        (below >= 0) & (below < _MS_SLICES), np.floor(np.where(below >= 0, below, 0)) + 1, -1
    )
    group = np.where(v < v_to[:, None] - _BRIGHT_OFFSET, 0, group)
    group = np.where(present & (group >= 0), group, _MS_SLICES + 1).astype(np.int64)
    group_bv, group_n = _grouped_quantiles(bv, bv_order, group, _MS_SLICES + 1, (0.5,))
    group_v, _ = _grouped_quantiles(v, v_order, group, _MS_SLICES + 1, (0.5,))
    share = group_n / np.maximum(n, 1)[:, None]
    colour_gap = group_bv[..., 0] - bv_to[:, None]
    bright_dv = np.where(group_n[:, 0] > 0, group_v[:, 0, 0] - v_to, 0.0)
    bright_dbv = np.where(group_n[:, 0] > 0, colour_gap[:, 0], 0.0)
    ms_dbv = colour_gap[:, 1:].copy()
    previous = np.zeros(len(x))
    for k in range(_MS_SLICES):
        ms_dbv[:, k] = np.where(np.isnan(ms_dbv[:, k]), previous, ms_dbv[:, k])
        previous = ms_dbv[:, k]

    out = np.column_stack(
        [
            np.log10(np.maximum(n, 1)),
            v_q[:, 0],
            bv_q[:, 0],
            v_to,
            bv_to,
            share[:, 0],
            bright_dv,
            bright_dbv,
            ms_dbv,
            share[:, 1:],
        ]
    )
    out[n == 0] = np.nan
    return out


def _grouped_quantiles(
    values: np.ndarray, order: np.ndarray, groups: np.ndarray, num_groups: int, q: tuple
) -> tuple[np.ndarray, np.ndarray]:
    """Quantiles ``(n, num_groups, len(q))`` of ``values`` within each group, and the counts.

    ``order`` is ``argsort(values, axis=1)`` (NaN, i.e. absent stars, last); ``groups`` holds
    each star's group in ``[0, num_groups]``, where ``num_groups`` means "in no group". A
    stable sort by group of the value-sorted stars leaves every group's values sorted and
    contiguous, so every quantile of every group is one gather. Empty groups give NaN.
    """
    n, length = values.shape
    groups = np.where(np.isnan(values), num_groups, groups)
    grouped = np.take_along_axis(groups, order, axis=1)
    order = np.take_along_axis(order, np.argsort(grouped, axis=1, kind="stable"), axis=1)
    ordered = np.take_along_axis(values, order, axis=1)
    flat = (np.arange(n)[:, None] * (num_groups + 1) + groups).ravel()
    counts = np.bincount(flat, minlength=n * (num_groups + 1)).reshape(n, num_groups + 1)
    starts = (np.cumsum(counts, axis=1) - counts)[:, :num_groups, None]
    counts = counts[:, :num_groups]
    position = np.asarray(q) * np.maximum(counts[..., None] - 1, 0)
    low = np.floor(position)
    weight = position - low
    low = low.astype(np.int64)
    high = np.minimum(low + 1, np.maximum(counts[..., None] - 1, 0))
    pick = [
        np.take_along_axis(ordered, np.minimum(starts + i, length - 1).reshape(n, -1), axis=1)
        for i in (low, high)
    ]
    lower, upper = (p.reshape(position.shape) for p in pick)
    result = lower + weight * (upper - lower)
    return np.where(counts[..., None] > 0, result, np.nan), counts
