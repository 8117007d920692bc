r"""Held-out negative log-likelihood: how much density a method puts on the true parameters.

For test pairs :math:`(\theta_i^*, x_i^*)` drawn from the joint, the mean
:math:`-\frac1n \sum_i \log q(\theta_i^* \mid x_i^*)` estimates
:math:`\mathbb{E}_{p(x)}\,\mathrm{KL}(p(\theta \mid x) \Vert q(\theta \mid x))` plus the
expected posterior entropy, which no method can beat. Lower is better, in nats. Only methods
with a density (the cINN) have it; sample-based methods (ABC, the bidirectional INN) do not.
On a simulator without noise the posterior has no density (kinematics: a 2-D manifold in a
4-D space), the NLL is unbounded below, and only differences between methods mean anything.

Examples:
    >>> import numpy as np
    >>> from scipy.stats import norm
    >>> theta = np.random.default_rng(0).normal(size=4000)
    >>> result = heldout_nll(norm.logpdf(theta))
    >>> round(result.value, 1)  # the entropy of N(0, 1): 1.42 nats
    1.4
    >>> bool(result.low < result.value < result.high)
    True
"""

from __future__ import annotations

import numpy as np

from sbinn._validation import to_numpy
from sbinn.diagnostics.bootstrap import (
    DEFAULT_CONFIDENCE,
    DEFAULT_NUM_RESAMPLES,
    bootstrap_interval,
    describe_interval,
)
from sbinn.diagnostics.result import MetricResult
from sbinn.simulator import SeedLike

__all__ = ["heldout_nll"]


def heldout_nll(
    log_prob: object,
    *,
    num_resamples: int = DEFAULT_NUM_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: SeedLike = 0,
) -> MetricResult:
    r"""Mean of :math:`-\log q(\theta^* \mid x^*)` over test pairs, with a bootstrap interval.

    Args:
        log_prob: :math:`\log q(\theta_i^* \mid x_i^*)`, one value per test pair ``(n_obs,)``.
        num_resamples: Bootstrap resamples of the test pairs.
        confidence: Mass of the bootstrap interval (default 0.68, i.e. ±1σ).
        seed: Seed of the bootstrap.

    Raises:
        ValueError: if ``log_prob`` is not 1-D, is empty, or holds NaN or +inf. A value of
            ``-inf`` (zero density at a true parameter) is allowed and makes the NLL ``inf``.
    """
    values = np.asarray(to_numpy(log_prob), dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(
            f"log_prob must be one value per test pair, shape (n_obs,), got {values.shape}"
        )
    bad = np.isnan(values) | (values == np.inf)
    if bad.any():
        raise ValueError(
            f"log_prob has {int(bad.sum())} NaN or +inf value(s) (first at index "
            f"{int(np.argmax(bad))}); a density must be finite or -inf"
        )
    nll = -values
    if np.isinf(nll).any():
        value = low = high = float("inf")
    else:
        value = float(nll.mean())
        low, high = bootstrap_interval(
            nll, num_resamples=num_resamples, confidence=confidence, seed=seed
        )
    return MetricResult(
        name="heldout_nll",
        value=value,
        low=low,
        high=high,
        method="Mean of -log q(theta* | x*) over the test pairs, in nats; "
        + describe_interval(num_resamples, confidence),
        details={"num_test_pairs": int(values.size)},
    )
