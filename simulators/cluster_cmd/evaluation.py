r"""Scoring of the ``cluster_cmd`` benchmark: sets, summaries and star-count bins (issue 7).

One trained network must handle clusters with 20 to 2000 observed stars, so the benchmark
reports its calibration across that range. Three pieces make the generic benchmark
machinery (:func:`sbinn.benchmark.run_benchmark`) fit colour–magnitude *sets*:

**Test set** (:func:`stratified_test_set`). Prior draws kept so that every bin of observed
star count in :data:`STAR_BINS` (20–50, 50–200, 200–800, 800–2000) holds the same number of
test clusters (±1), in random order. Choosing test clusters by a function of the
observation leaves a calibrated posterior calibrated within each bin, so the bins are
compared on equal footing. Overall metrics are over this stratified set, not over the prior.

**Summaries** (:class:`StandardisedSummaries`). The hand-made statistics of
:func:`~simulators.cluster_cmd.summaries.cmd_summaries`, centred and divided by their
prior-predictive standard deviation (1000 prior simulations with a fixed seed: a unit of
measurement, not a random quantity). ABC runs on them; because ABC standardises by the
spread of its own simulations, its distance is exactly the one on the raw summaries.

**Re-simulation error of a set.** Two sets of different stars cannot be compared row by
row, so the distance of a re-simulated cluster :math:`s(\hat\theta)` from the observed one
:math:`x^*` is the Euclidean distance between their standardised summary vectors,

.. math:: d = \Big\lVert \frac{S(s(\hat\theta)) - S(x^*)}{\sigma_S} \Big\rVert_2,

with :math:`S` the 20 summaries and :math:`\sigma_S` their prior-predictive standard
deviations. The number is in prior-predictive standard deviations over 20 dimensions: two
independent prior draws are about :math:`\sqrt{2 \cdot 20} \approx 6` apart, and
re-simulating a cluster's *true* parameters (the benchmark's ``simulation_noise``) gives the
floor set by the Poisson star counts, the IMF draw and the photometric noise. Summaries a
method cannot see in the sets (ABC) or that the set network ignores both count.

**Per-bin calibration** (:func:`star_bin_calibration`): the calibration error of the test
clusters of each bin, as metrics ``calibration_error_20-50_stars`` and so on.

Examples:
    >>> from simulators.cluster_cmd import ClusterCMDSimulator
    >>> theta, x = stratified_test_set(ClusterCMDSimulator(), 8, seed=0)
    >>> np.bincount(star_bin(set_mask(x).sum(axis=1))).tolist()
    [2, 2, 2, 2]
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache

import numpy as np

from sbinn._validation import check_positive_int
from sbinn.diagnostics import MetricResult, calibration_error
from sbinn.simulator import Simulator
from simulators.cluster_cmd.simulator import ClusterCMDSimulator, set_mask
from simulators.cluster_cmd.summaries import CMDSummarySimulator, cmd_summaries

__all__ = [
    "STAR_BINS",
    "StandardisedSummaries",
    "star_bin",
    "star_bin_calibration",
    "stratified_test_set",
    "summary_view",
]

STAR_BINS = ((20, 50), (50, 200), (200, 800), (800, 2000))
"""Bins of observed star count; each includes its lower edge, the last also its upper."""

_BATCH = 2000  # prior draws per attempt; the rarest bin (20-50) takes ~9% of them
_MAX_ATTEMPTS = 100
_SCALE_SIMULATIONS = 1000
_SIMULATION_CHUNK = 1000


def star_bin(counts: np.ndarray) -> np.ndarray:
    """Index into :data:`STAR_BINS` of each star count, -1 outside 20–2000.

    Examples:
        >>> star_bin(np.array([5, 20, 50, 799, 2000, 2001])).tolist()
        [-1, 0, 1, 2, 3, -1]
    """
    counts = np.asarray(counts)
    index = np.full(counts.shape, -1)
    for i, (low, high) in enumerate(STAR_BINS):
        upper = counts <= high if i == len(STAR_BINS) - 1 else counts < high
        index[(counts >= low) & upper] = i
    return index


def stratified_test_set(simulator: Simulator, num: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``num`` prior-drawn test clusters, an equal share (±1) in every bin of star count.

    Args:
        simulator: A :class:`~simulators.cluster_cmd.ClusterCMDSimulator`.
        num: Test clusters, at least one per bin of :data:`STAR_BINS`.
        seed: Seed of the prior draws and of the final shuffle.

    Returns:
        ``(theta, x)`` in random order, so that the first ``k`` clusters are a stratified
        sample too (the benchmark may re-simulate only the first ones).

    Raises:
        ValueError: for fewer test clusters than bins, for sets too short to hold the last
            bin, or if 100 batches of prior draws cannot fill a bin (a prior that never
            gives such star counts).

    Examples:
        >>> from simulators.cluster_cmd import ClusterCMDSimulator
        >>> stratified_test_set(ClusterCMDSimulator(), 3, seed=0)
        Traceback (most recent call last):
        ...
        ValueError: the cluster_cmd test set needs at least 4 clusters (one per star-count ...
    """
    num = check_positive_int(num, "num")
    if num < len(STAR_BINS):
        raise ValueError(
            f"the cluster_cmd test set needs at least {len(STAR_BINS)} clusters (one per "
            f"star-count bin), got {num}"
        )
    n_max = getattr(simulator, "n_max", STAR_BINS[-1][1])
    if n_max < STAR_BINS[-1][0]:
        raise ValueError(
            f"the star-count bins reach {STAR_BINS[-1][0]}-{STAR_BINS[-1][1]} stars, which sets "
            f"of n_max {n_max} cannot hold; use n_max >= {STAR_BINS[-1][0]}"
        )
    quota = [num // len(STAR_BINS) + (i < num % len(STAR_BINS)) for i in range(len(STAR_BINS))]
    kept: list[list[int]] = [[] for _ in STAR_BINS]
    thetas, xs = [], []
    for attempt in range(_MAX_ATTEMPTS):
        theta, x = simulator.sample_joint(_BATCH, seed=np.random.default_rng([seed, attempt]))
        bins = star_bin(set_mask(x).sum(axis=1))
        rows = []
        for i in range(len(STAR_BINS)):
            take = np.flatnonzero(bins == i)[: quota[i] - len(kept[i])]
            kept[i].extend(take)
            rows.extend(take)
        rows = np.sort(np.asarray(rows, dtype=int))
        thetas.append(theta[rows])
        xs.append(x[rows])
        if all(len(k) == q for k, q in zip(kept, quota, strict=True)):
            break
    else:
        short = [f"{lo}-{hi}" for (lo, hi), k, q in zip(STAR_BINS, kept, quota, strict=True)]
        raise ValueError(
            f"{_MAX_ATTEMPTS * _BATCH} prior draws did not fill the star-count bins "
            f"{[s for s, k, q in zip(short, kept, quota, strict=True) if len(k) < q]}"
        )
    order = np.random.default_rng([seed, _MAX_ATTEMPTS]).permutation(num)
    return np.concatenate(thetas)[order], np.concatenate(xs)[order]


class StandardisedSummaries(CMDSummarySimulator):
    """Cluster simulations observed through centred, prior-predictive-scaled summaries.

    The observations are ``(cmd_summaries(x) - mean) / std``, with the mean and standard
    deviation of the summaries of ``num_scale_simulations`` prior simulations (fixed seed).
    Euclidean distances between them are the benchmark's re-simulation distances.

    Args:
        simulator: The set simulator; default ``ClusterCMDSimulator()``.
        num_scale_simulations: Prior simulations behind the mean and standard deviation.
        seed: Their seed.

    Examples:
        >>> from simulators.cluster_cmd import ClusterCMDSimulator
        >>> view = StandardisedSummaries(ClusterCMDSimulator(n_max=300), num_scale_simulations=200)
        >>> _, x = view.sets.sample_joint(2000, seed=1)
        >>> bool(np.all(np.abs(view.summarise(x).std(axis=0) - 1) < 0.2))
        True
    """

    name = "cluster_cmd_standardised_summaries"
    version = "1"

    def __init__(
        self,
        simulator: ClusterCMDSimulator | None = None,
        *,
        num_scale_simulations: int = _SCALE_SIMULATIONS,
        seed: int = 0,
    ) -> None:
        super().__init__(simulator)
        self.num_scale_simulations = check_positive_int(
            num_scale_simulations, "num_scale_simulations"
        )
        self.seed = seed
        _, x = self.sets.sample_joint(self.num_scale_simulations, seed=seed)
        summaries = cmd_summaries(x)
        self.mean = summaries.mean(axis=0)
        std = summaries.std(axis=0)
        # A summary constant over the prior carries no distance information; avoid /0.
        self.std = np.where(std > 0, std, 1.0)

    def summarise(self, x: np.ndarray) -> np.ndarray:
        """Standardised summaries ``(n, 20)`` of NaN-padded sets ``(n, n_max, 3)``."""
        return (cmd_summaries(x) - self.mean) / self.std

    def _simulate(self, theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        # In chunks: 10^4 padded sets would hold 480 MB, their summaries 1.6 MB.
        return np.concatenate(
            [
                self.summarise(self.sets.simulate(theta[lo : lo + _SIMULATION_CHUNK], rng))
                for lo in range(0, len(theta), _SIMULATION_CHUNK)
            ]
        )

    def settings(self) -> dict:
        return super().settings() | {
            "standardisation": {
                "simulations": self.num_scale_simulations,
                "seed": self.seed,
                "std": self.std.tolist(),
            }
        }


@lru_cache(maxsize=4)
def summary_view(simulator: ClusterCMDSimulator) -> StandardisedSummaries:
    """The :class:`StandardisedSummaries` of ``simulator``, built once per simulator object
    (the ABC runner and the scoring both need it, and its scale costs 1000 simulations)."""
    if not isinstance(simulator, ClusterCMDSimulator):
        raise TypeError(f"simulator must be a ClusterCMDSimulator, got {type(simulator).__name__}")
    return StandardisedSummaries(simulator)


def star_bin_calibration(
    simulator: Simulator,
    samples: np.ndarray,
    theta_true: np.ndarray,
    x_obs: np.ndarray,
    seed: int,
) -> dict[str, MetricResult]:
    """Calibration error of the test clusters in each bin of :data:`STAR_BINS`.

    Args:
        simulator: Names the parameters.
        samples: Posterior samples ``(n_obs, num_samples, dim_theta)``.
        theta_true: True parameters ``(n_obs, dim_theta)``.
        x_obs: The observed sets ``(n_obs, n_max, 3)``; their star counts pick the bins.
        seed: Seed of the bootstraps.

    Returns:
        ``{"calibration_error_20-50_stars": MetricResult, ...}`` for every bin holding a
        test cluster, in bin order.

    Raises:
        ValueError: if samples, truths and sets disagree in number.

    Examples:
        >>> from simulators.cluster_cmd import ClusterCMDSimulator
        >>> sim = ClusterCMDSimulator()
        >>> theta, x = stratified_test_set(sim, 8, seed=0)
        >>> samples = sim.prior.sample(8 * 50, np.random.default_rng(0)).reshape(8, 50, 5)
        >>> list(star_bin_calibration(sim, samples, theta, x, seed=0))[:2]
        ['calibration_error_20-50_stars', 'calibration_error_50-200_stars']
    """
    bins = star_bin(set_mask(x_obs).sum(axis=1))
    samples, theta_true = np.asarray(samples), np.asarray(theta_true)
    if not len(samples) == len(theta_true) == len(bins):
        raise ValueError(
            f"samples, theta_true and x_obs need one row per test cluster, got "
            f"{len(samples)}, {len(theta_true)} and {len(bins)}"
        )
    metrics = {}
    for i, (low, high) in enumerate(STAR_BINS):
        rows = bins == i
        if not rows.any():
            continue
        name = f"calibration_error_{low}-{high}_stars"
        found = calibration_error(
            samples[rows], theta_true[rows], parameter_names=simulator.parameter_names, seed=seed
        )
        metrics[name] = dataclasses.replace(
            found,
            name=name,
            method=f"{found.method} Only the {int(rows.sum())} test clusters with {low}-{high} "
            "observed stars.",
        )
    return metrics
