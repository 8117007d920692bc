r"""Per-block log-determinants and the per-observation reliability flag.

**The reliability rule.** Let :math:`t_e` and :math:`t_\kappa` be ``tolerance`` (default
10) times the ``quantile`` (default 0.99) of the round-trip errors and of the condition
numbers at reference points from the training distribution. An observation is flagged when
any of its samples' round trip was not finite, or when more than ``max_exceeding`` (default
10%) of its samples have a round-trip error above :math:`t_e`, or more than that share a
condition number above :math:`t_\kappa`. Samples that behave like the training data exceed
even the bare quantile with probability about 1%, so with 32 samples per observation a
well-behaved observation is flagged with probability below 0.1% per criterion (binomial
tail :math:`P(\mathrm{Bin}(32, 0.01) \ge 4)`). The factor ``tolerance`` is there because
float32 round-trip errors near :math:`10^{-7}` are rounding noise that varies by a factor of
a few from point to point, and condition numbers of 2.4 against 2.1 say nothing; the
failures this flag is for (Behrmann et al. 2021) are orders of magnitude. A reference whose
errors are all exactly 0 (a float64 network on easy points) makes every rounding error
exceed; pass ``tolerance`` with a floor in mind there.

Examples:
    >>> import torch
    >>> from sbinn.nn import InvertibleNetwork
    >>> _ = torch.manual_seed(0)
    >>> net = InvertibleNetwork.coupling_stack(2, 3, hidden_features=8)
    >>> stats = block_log_dets(net, torch.randn(50, 2))
    >>> [row["block"] for row in stats.to_json()][:2]
    ['AffineCoupling', 'RandomOrthogonalMixing']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from sbinn.diagnostics.stability_roundtrip import as_network_inputs, evaluating
from sbinn.nn import InvertibleNetwork

__all__ = ["BlockLogDets", "ReliabilityFlags", "block_log_dets", "reliability_flags"]


@dataclass(frozen=True)
class BlockLogDets:
    """Every block's :math:`\\log|\\det J|` at every point of a batch.

    Attributes:
        blocks: Class name of each block, in order.
        values: ``(num_blocks, n)`` log-determinants.
    """

    blocks: list[str]
    values: np.ndarray

    def to_json(self) -> list[dict]:
        """One ``{"index", "block", "mean", "std", "min", "max"}`` per block (NaN -> None)."""
        out = []
        for index, (name, row) in enumerate(zip(self.blocks, self.values, strict=True)):
            stats = {}
            for key, value in (
                ("mean", row.mean()),
                ("std", row.std()),
                ("min", row.min()),
                ("max", row.max()),
            ):
                stats[key] = float(value) if np.isfinite(value) else None
            out.append({"index": index, "block": name} | stats)
        return out


def block_log_dets(
    network: InvertibleNetwork, points: object, condition: object = None
) -> BlockLogDets:
    """Run ``points`` forward through the chain and keep every block's log-determinant.

    Args:
        network: An :class:`~sbinn.nn.InvertibleNetwork` (a chain of blocks); it runs in
            eval mode.
        points: Inputs ``(n, network.dim)``.
        condition: ``(n, network.cond_dim)`` for a conditional network, else ``None``.

    Raises:
        TypeError: if ``network`` is not an :class:`~sbinn.nn.InvertibleNetwork`.
        ValueError: on points or condition of the wrong shape, or non-finite points.

    Examples:
        >>> from sbinn.nn import ActNorm
        >>> net = InvertibleNetwork([ActNorm(2)])
        >>> block_log_dets(net, [[0.0, 1.0], [2.0, 3.0]]).to_json()[0]["mean"]
        0.0
    """
    if not isinstance(network, InvertibleNetwork):
        raise TypeError(
            "block_log_dets needs an sbinn.nn.InvertibleNetwork (a chain of blocks), got "
            f"{type(network).__name__}"
        )
    x, c = as_network_inputs(network, points, condition)
    with evaluating(network), torch.no_grad():
        values = network.block_log_dets(x, c)
    return BlockLogDets(
        blocks=[type(block).__name__ for block in network.blocks],
        values=np.stack([v.double().cpu().numpy() for v in values]),
    )


def _as_values(value: object, ndim: int, name: str) -> np.ndarray:
    array = np.asarray(value, dtype=np.float64)
    if array.ndim != ndim or array.size == 0:
        shape = "(n,)" if ndim == 1 else "(n_obs, num_samples)"
        raise ValueError(f"{name} must be a non-empty array of shape {shape}, got {array.shape}")
    return np.where(np.isnan(array), np.inf, array)


@dataclass(frozen=True)
class ReliabilityFlags:
    """Which observations' samples left the range the training data showed.

    Attributes:
        flags: ``(n_obs,)`` True where the observation's samples are not to be trusted.
        error_exceeding: Share of each observation's samples above the error threshold.
        condition_exceeding: Share above the condition-number threshold.
        non_finite: Share of each observation's samples with a non-finite round trip.
        error_threshold: ``tolerance`` times the reference round-trip error quantile.
        condition_threshold: ``tolerance`` times the reference condition-number quantile.
        method: The rule, in one sentence.
    """

    flags: np.ndarray
    error_exceeding: np.ndarray
    condition_exceeding: np.ndarray
    non_finite: np.ndarray
    error_threshold: float
    condition_threshold: float
    method: str

    @property
    def flagged_fraction(self) -> float:
        """Share of observations flagged."""
        return float(np.mean(self.flags))

    def to_json(self) -> dict:
        """Flagged share, the thresholds, the flagged observations' indices and the rule."""

        def finite(value: float) -> float | None:
            return float(value) if np.isfinite(value) else None

        return {
            "num_observations": int(self.flags.size),
            "flagged_fraction": self.flagged_fraction,
            "flagged": np.flatnonzero(self.flags).tolist(),
            "error_threshold": finite(self.error_threshold),
            "condition_threshold": finite(self.condition_threshold),
            "rule": self.method,
        }


def reliability_flags(
    reference_errors: object,
    reference_condition_numbers: object,
    sample_errors: object,
    sample_condition_numbers: object,
    *,
    quantile: float = 0.99,
    max_exceeding: float = 0.1,
    tolerance: float = 10.0,
) -> ReliabilityFlags:
    """Flag observations whose samples' round-trip errors or condition numbers exceed
    ``tolerance`` times the reference's ``quantile`` in more than ``max_exceeding`` of the
    samples (the rule is in the module docstring).

    Args:
        reference_errors: Round-trip errors ``(n,)`` at points from the training
            distribution (:attr:`RoundTrip.errors`).
        reference_condition_numbers: Condition numbers ``(m,)`` there
            (:attr:`JacobianSpectrum.condition_number`).
        sample_errors: Round-trip errors of the generated samples ``(n_obs, num_samples)``.
        sample_condition_numbers: Their condition numbers, same shape.
        quantile: Quantile of the reference values that a sample may reach, in (0, 1].
        max_exceeding: Share of an observation's samples that may exceed it, in [0, 1).
        tolerance: Factor on both reference quantiles, ``>= 1``.

    Raises:
        ValueError: on arrays of the wrong shape or out-of-range settings.

    Examples:
        >>> flags = reliability_flags(
        ...     np.full(100, 1e-7), np.full(100, 10.0),
        ...     [[1e-7, 1e-7], [1e-7, 1e-2]], [[10.0, 10.0], [10.0, 10.0]],
        ...     max_exceeding=0.25)
        >>> flags.flags.tolist(), flags.error_exceeding.tolist()
        ([False, True], [0.0, 0.5])
    """
    if not (isinstance(quantile, float | int) and 0 < quantile <= 1):
        raise ValueError(f"quantile must be in (0, 1], got {quantile!r}")
    if not (isinstance(max_exceeding, float | int) and 0 <= max_exceeding < 1):
        raise ValueError(f"max_exceeding must be in [0, 1), got {max_exceeding!r}")
    if not (isinstance(tolerance, float | int) and 1 <= tolerance < np.inf):
        raise ValueError(f"tolerance must be a finite number >= 1, got {tolerance!r}")
    ref_errors = _as_values(reference_errors, 1, "reference_errors")
    ref_kappa = _as_values(reference_condition_numbers, 1, "reference_condition_numbers")
    errors = _as_values(sample_errors, 2, "sample_errors")
    kappa = _as_values(sample_condition_numbers, 2, "sample_condition_numbers")
    if kappa.shape != errors.shape:
        raise ValueError(
            f"sample_condition_numbers must have the shape of sample_errors {errors.shape}, "
            f"got {kappa.shape}"
        )
    # Quantiles that are reference values: an infinite reference value stays infinite.
    error_threshold = tolerance * float(np.quantile(ref_errors, quantile, method="inverted_cdf"))
    condition_threshold = tolerance * float(np.quantile(ref_kappa, quantile, method="inverted_cdf"))
    error_exceeding = np.mean(errors > error_threshold, axis=1)
    condition_exceeding = np.mean(kappa > condition_threshold, axis=1)
    non_finite = np.mean(~np.isfinite(errors), axis=1)
    flags = (
        (non_finite > 0) | (error_exceeding > max_exceeding) | (condition_exceeding > max_exceeding)
    )
    return ReliabilityFlags(
        flags=flags,
        error_exceeding=error_exceeding,
        condition_exceeding=condition_exceeding,
        non_finite=non_finite,
        error_threshold=error_threshold,
        condition_threshold=condition_threshold,
        method=(
            f"An observation is flagged when a sample's round trip was not finite, or more "
            f"than {100 * max_exceeding:g}% of its {errors.shape[1]} samples have a round-trip "
            f"error or a Jacobian condition number above {tolerance:g} times the {quantile:g} "
            f"quantile of {ref_errors.size} reference points from the training distribution."
        ),
    )
