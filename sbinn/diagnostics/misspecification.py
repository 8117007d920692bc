r"""Misspecification check: is an observation something the prior and simulator produce?

An amortised posterior is only trained on the prior predictive distribution
:math:`p(x) = \int p(x \mid \theta)\, p(\theta)\, d\theta`. For an observation
far outside it (a parameter outside the prior, or physics the simulator lacks)
the network extrapolates and its posterior, however confident, means nothing.
This check flags such observations with a split-conformal p-value (Vovk et al.,
2005; Angelopoulos and Bates, 2023), calibrated on held-out simulations.

Held-out prior-predictive simulations :math:`x_{1..N}`, never used in training,
are split at random into a reference and a calibration part. Each coordinate
is standardised robustly by the reference part's median and scaled median
absolute deviation, so that heavy tails and a few outliers do not set the
scale. The score of a point :math:`x` is its mean Euclidean distance to its
:math:`k` nearest reference points, :math:`s(x)`, large in regions the prior
predictive rarely reaches. With the calibration scores
:math:`s_1, \dots, s_n`, the p-value of an observation is

.. math:: p(x) = \frac{1 + \#\{j : s_j \ge s(x)\}}{1 + n}.

The score function depends only on the reference part, so if :math:`x` is a
fresh draw from the prior predictive, :math:`s(x)` and the calibration scores
are exchangeable and :math:`P(p(x) \le \alpha) \le \alpha` for every level
:math:`\alpha`: at most a fraction :math:`\alpha` of well-specified
observations are flagged, on average over calibration sets. The smallest
p-value is :math:`1/(1 + n)`, so a level :math:`\alpha` needs
:math:`n \ge 1/\alpha - 1` calibration simulations.

A ``summary`` callable, e.g. a trained network's summary or conditioning
network wrapped to map arrays to arrays, moves the check into summary space:
the scores are then computed on ``summary(x)``, which must return a finite
``(n, d)`` array. Without a summary, observations must be vectors ``(n, dim_x)``.
Sets, and any observation that needs a separate mask, are out of scope unless
a summary turns each into one vector.

Examples:
    >>> rng = np.random.default_rng(0)
    >>> check = PriorPredictiveCheck().fit(rng.normal(size=(2000, 2)))
    >>> check.flags(np.array([[0.0, 0.5], [8.0, 0.0]])).tolist()
    [False, True]
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.neighbors import NearestNeighbors

from sbinn._validation import (
    as_2d_float_array,
    check_positive_int,
    check_probability,
    to_numpy,
)
from sbinn.diagnostics.bootstrap import (
    DEFAULT_CONFIDENCE,
    DEFAULT_NUM_RESAMPLES,
    bootstrap_interval,
    describe_interval,
)
from sbinn.diagnostics.result import MetricResult
from sbinn.simulator import SeedLike, as_generator

__all__ = ["PriorPredictiveCheck", "flagged_fraction"]

# Scales the median absolute deviation to the standard deviation of a normal distribution.
_MAD_TO_STD = 1.4826

Summary = Callable[[object], object]


def _robust_scale(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    center = np.median(points, axis=0)
    scale = _MAD_TO_STD * np.median(np.abs(points - center), axis=0)
    # A coordinate with more than half its values tied has no MAD; its std, or else 1, stands in.
    std = points.std(axis=0)
    scale = np.where(scale > 0, scale, np.where(std > 0, std, 1.0))
    return center, scale


class PriorPredictiveCheck:
    """Split-conformal check of observations against held-out prior-predictive simulations.

    Args:
        num_neighbors: ``k``, the number of nearest reference points whose mean
            distance is the score.
        summary: Optional callable mapping a batch of observations to a finite
            array ``(n, d)``; the check then works on the summaries.

    Examples:
        >>> rng = np.random.default_rng(1)
        >>> check = PriorPredictiveCheck(num_neighbors=3).fit(rng.normal(size=(999, 1)), seed=2)
        >>> check.num_calibration, float(check.p_values([[100.0]])[0])
        (500, 0.001996007984031936)
    """

    def __init__(self, *, num_neighbors: int = 5, summary: Summary | None = None) -> None:
        self.num_neighbors = check_positive_int(num_neighbors, "num_neighbors")
        if summary is not None and not callable(summary):
            raise TypeError(
                "summary must be a callable mapping observations to an (n, d) array, "
                f"or None, got {type(summary).__name__}"
            )
        self.summary = summary
        self._neighbors: NearestNeighbors | None = None

    def _features(self, x: object, name: str) -> np.ndarray:
        dim = None if self._neighbors is None else self._center.size
        if self.summary is None:
            return as_2d_float_array(x, dim, name)
        return as_2d_float_array(to_numpy(self.summary(x)), dim, f"summary({name})")

    def fit(
        self, x_reference: object, *, calibration_fraction: float = 0.5, seed: SeedLike = 0
    ) -> PriorPredictiveCheck:
        """Fit on held-out prior-predictive simulations, never used in training.

        Args:
            x_reference: Simulations ``(n, dim_x)`` (or whatever ``summary`` takes)
                from the prior predictive distribution.
            calibration_fraction: Fraction of the simulations, drawn at random,
                that calibrate the p-values; the rest are the reference points.
            seed: Seed or Generator for the random split.

        Returns:
            The check itself, fitted.

        Raises:
            ValueError: on NaN or inf, a wrong shape, or too few simulations for
                ``num_neighbors`` reference points and one calibration point.
        """
        self._neighbors = None  # a failed refit leaves the check unfitted, not half-fitted
        features = self._features(x_reference, "x_reference")
        fraction = check_probability(
            calibration_fraction, "calibration_fraction", include_one=False
        )
        n = features.shape[0]
        num_calibration = round(fraction * n)
        if num_calibration < 1 or n - num_calibration < self.num_neighbors:
            raise ValueError(
                f"x_reference must hold enough simulations for at least one calibration point "
                f"and num_neighbors={self.num_neighbors} reference points with "
                f"calibration_fraction={fraction:g}, got {n} simulation(s)"
            )
        order = as_generator(seed).permutation(n)
        calibration, reference = (
            features[order[:num_calibration]],
            features[order[num_calibration:]],
        )
        self._center, self._scale = _robust_scale(reference)
        neighbors = NearestNeighbors(n_neighbors=self.num_neighbors)
        neighbors.fit((reference - self._center) / self._scale)
        self._neighbors = neighbors
        self._calibration_scores = np.sort(self._scores(calibration))
        return self

    @property
    def is_fitted(self) -> bool:
        """Whether :meth:`fit` has been called successfully."""
        return self._neighbors is not None

    def _require_fitted(self) -> NearestNeighbors:
        if self._neighbors is None:
            raise RuntimeError(
                "PriorPredictiveCheck is not fitted: call .fit(x_reference) with held-out "
                "prior-predictive simulations first"
            )
        return self._neighbors

    @property
    def num_calibration(self) -> int:
        """Number of calibration simulations; p-values are multiples of ``1/(1 + n)``."""
        self._require_fitted()
        return self._calibration_scores.size

    @property
    def calibration_scores(self) -> np.ndarray:
        """Sorted scores of the calibration simulations."""
        self._require_fitted()
        return self._calibration_scores.copy()

    def _scores(self, features: np.ndarray) -> np.ndarray:
        distances, _ = self._require_fitted().kneighbors((features - self._center) / self._scale)
        return distances.mean(axis=1)

    def scores(self, x_obs: object) -> np.ndarray:
        """Mean standardised distance of each observation to its ``k`` nearest reference points.

        Args:
            x_obs: Observations ``(n_obs, dim_x)`` (or whatever ``summary`` takes).

        Returns:
            Array ``(n_obs,)``; larger means further from the prior predictive.
        """
        self._require_fitted()
        return self._scores(self._features(x_obs, "x_obs"))

    def p_values(self, x_obs: object) -> np.ndarray:
        """Conformal p-values ``(1 + #{calibration scores >= score}) / (1 + n_calibration)``.

        Args:
            x_obs: Observations ``(n_obs, dim_x)`` (or whatever ``summary`` takes).

        Returns:
            Array ``(n_obs,)`` in ``[1/(1 + n), 1]``; small values are evidence that
            an observation is not from the prior predictive distribution.

        Examples:
            >>> check = PriorPredictiveCheck(num_neighbors=1).fit(np.arange(10.0)[:, None])
            >>> check.num_calibration, check.p_values([[1000.0]]).round(3).tolist()
            (5, [0.167])
        """
        scores = self.scores(x_obs)
        calibration = self._calibration_scores
        at_least = calibration.size - np.searchsorted(calibration, scores, side="left")
        return (1.0 + at_least) / (1.0 + calibration.size)

    def flags(self, x_obs: object, *, level: float = 0.05) -> np.ndarray:
        """Flag observations whose p-value is at most ``level``.

        Args:
            x_obs: Observations ``(n_obs, dim_x)`` (or whatever ``summary`` takes).
            level: Significance level; at most this fraction of well-specified
                observations is flagged, on average.

        Returns:
            Boolean array ``(n_obs,)``, True where the observation looks misspecified.

        Raises:
            ValueError: when ``level`` is below the smallest attainable p-value
                ``1/(1 + n_calibration)``, so that nothing could ever be flagged.
        """
        return self.p_values(x_obs) <= self._check_level(level)

    def _check_level(self, level: object) -> float:
        level = check_probability(level, "level", include_one=False)
        smallest = 1.0 / (1.0 + self.num_calibration)
        if level < smallest:
            raise ValueError(
                f"level={level:g} is below the smallest attainable p-value "
                f"1/(1 + n_calibration) = {smallest:.3g}, so nothing could be flagged; fit on "
                f"at least {int(np.ceil(1 / level - 1))} calibration simulations"
            )
        return level


def flagged_fraction(
    check: PriorPredictiveCheck,
    x_obs: object,
    *,
    level: float = 0.05,
    num_resamples: int = DEFAULT_NUM_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: SeedLike = 0,
) -> MetricResult:
    """Fraction of observations a fitted :class:`PriorPredictiveCheck` flags at ``level``.

    For well-specified observations (fresh prior-predictive draws) the fraction
    is at most ``level`` on average; much more says the observations, or some
    of them, lie outside what the prior and simulator produce.

    Args:
        check: A fitted check.
        x_obs: Observations ``(n_obs, dim_x)`` (or whatever the check's ``summary`` takes).
        level: Significance level of each observation's test.
        num_resamples: Bootstrap resamples of the observations.
        confidence: Mass of the bootstrap interval (default 0.68, i.e. ±1σ).
        seed: Seed for the bootstrap.

    Returns:
        A :class:`MetricResult` named ``"flagged_fraction"`` whose ``details`` hold
        the ``"p_values"``, the ``"level"`` and the ``"expected_if_well_specified"``
        fraction ``floor(level (1 + n)) / (1 + n)``.

    Examples:
        >>> rng = np.random.default_rng(3)
        >>> check = PriorPredictiveCheck().fit(rng.normal(size=(2000, 2)))
        >>> result = flagged_fraction(check, rng.normal(size=(400, 2)) + 10.0)
        >>> result.name, result.value
        ('flagged_fraction', 1.0)
    """
    if not isinstance(check, PriorPredictiveCheck):
        raise TypeError(f"check must be a PriorPredictiveCheck, got {type(check).__name__}")
    level = check._check_level(level)
    p_values = check.p_values(x_obs)
    flags = p_values <= level
    low, high = bootstrap_interval(
        flags.astype(np.float64), num_resamples=num_resamples, confidence=confidence, seed=seed
    )
    n_calibration = check.num_calibration
    expected = np.floor(level * (1 + n_calibration)) / (1 + n_calibration)
    method = (
        f"Fraction of {flags.size} observations whose split-conformal p-value, from the mean "
        f"robustly standardised distance to the {check.num_neighbors} nearest held-out "
        f"prior-predictive simulations calibrated on {n_calibration} others, is at most "
        f"{level:g}; {describe_interval(num_resamples, confidence)}."
    )
    return MetricResult(
        name="flagged_fraction",
        value=float(flags.mean()),
        low=low,
        high=high,
        method=method,
        details={
            "level": level,
            "p_values": p_values.tolist(),
            "num_flagged": int(flags.sum()),
            "num_observations": int(flags.size),
            "num_calibration": n_calibration,
            "expected_if_well_specified": float(expected),
        },
    )
