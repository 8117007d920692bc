r"""Round trips through an invertible network: is the inverse still the inverse in floating point?

An invertible network :math:`f` is invertible on paper; in floating point every pass adds a
rounding error that the other pass amplifies by up to its Lipschitz constant (Behrmann et
al. 2021, §2). The round trip measures what is left of invertibility at given points:

.. math::

    e_x(x) = \lVert f^{-1}(f(x)) - x \rVert_2, \qquad
    e_z(z) = \lVert f(f^{-1}(z)) - z \rVert_2 .

A point whose round trip produced NaN or inf counts as non-finite and gets the error
:math:`+\infty`, so quantiles over all points see it as the worst case.

Examples:
    >>> import torch
    >>> from sbinn.nn import InvertibleNetwork
    >>> _ = torch.manual_seed(0)
    >>> net = InvertibleNetwork.coupling_stack(3, 2, hidden_features=8)
    >>> result = round_trip(net, torch.randn(100, 3), start="x")
    >>> result.non_finite_fraction, bool(result.quantiles()["max"] < 1e-5)
    (0.0, True)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from sbinn._validation import check_positive_int, to_numpy
from sbinn.nn.base import InvertibleModule

__all__ = ["QUANTILE_LEVELS", "RoundTrip", "round_trip"]

QUANTILE_LEVELS = (0.5, 0.9, 0.99, 1.0)
_STARTS = ("x", "z")
_CHUNK = 65_536


def check_network(network: object) -> InvertibleModule:
    """Return ``network`` if it is an sbinn invertible module, else raise saying so."""
    if not isinstance(network, InvertibleModule):
        raise TypeError(
            "network must be an sbinn.nn.InvertibleModule (e.g. an InvertibleNetwork) with "
            f"forward(x, c) -> (z, log_det) and inverse(z, c), got {type(network).__name__}"
        )
    return network


def network_dtype(network: InvertibleModule) -> tuple[torch.dtype, torch.device]:
    """The dtype and device of the network's parameters (float32 on the CPU if it has none)."""
    for tensor in (*network.parameters(), *network.buffers()):
        if tensor.is_floating_point():
            return tensor.dtype, tensor.device
    return torch.get_default_dtype(), torch.device("cpu")


def as_network_inputs(
    network: InvertibleModule, points: object, condition: object, name: str = "points"
) -> tuple[Tensor, Tensor | None]:
    """``points`` ``(n, dim)`` and ``condition`` ``(n, cond_dim)`` as finite tensors in the
    network's dtype and device, or an error saying which shape was expected."""
    dtype, device = network_dtype(network)
    array = to_numpy(points)
    if array.ndim != 2 or array.shape[1] != network.dim:
        raise ValueError(
            f"{name} must have shape (n, {network.dim}) for a network of dim {network.dim}, "
            f"got shape {array.shape}"
        )
    if array.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one point, got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.number) or not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite numbers; got dtype {array.dtype} or NaN/inf")
    x = torch.as_tensor(array.astype(np.float64), device=device).to(dtype)
    if network.cond_dim == 0:
        if condition is not None:
            raise ValueError(
                f"the network is unconditional (cond_dim=0): condition must be None, got "
                f"shape {np.shape(to_numpy(condition))}"
            )
        return x, None
    if condition is None:
        raise ValueError(
            f"the network is conditional (cond_dim={network.cond_dim}): pass condition of "
            f"shape ({array.shape[0]}, {network.cond_dim})"
        )
    c = to_numpy(condition)
    if c.shape != (array.shape[0], network.cond_dim):
        raise ValueError(
            f"condition must have shape ({array.shape[0]}, {network.cond_dim}), one row per "
            f"point, got shape {c.shape}"
        )
    return x, torch.as_tensor(c.astype(np.float64), device=device).to(dtype)


@contextmanager
def evaluating(network: torch.nn.Module) -> Iterator[None]:
    """Run ``network`` in eval mode (no ActNorm initialisation, no dropout), then restore."""
    was_training = network.training
    network.eval()
    try:
        yield
    finally:
        network.train(was_training)


def maps(network: InvertibleModule, direction: str) -> tuple[Callable, Callable]:
    """``(map, its inverse)`` as functions ``(points, condition) -> points``."""

    def forward(x: Tensor, c: Tensor | None) -> Tensor:
        return network(x, c)[0]

    def inverse(z: Tensor, c: Tensor | None) -> Tensor:
        return network.inverse(z, c)[0]

    return (forward, inverse) if direction == "forward" else (inverse, forward)


def chunks(n: int, size: int = _CHUNK) -> Iterator[slice]:
    """Row slices of at most ``size`` rows covering ``range(n)``."""
    for lo in range(0, n, size):
        yield slice(lo, min(lo + size, n))


def quantile_summary(values: np.ndarray, levels: Sequence[float] = QUANTILE_LEVELS) -> dict:
    """``{"q50": ..., "q90": ..., "max": ...}``: quantiles that are sample values, so that an
    infinite value is reported as infinite rather than interpolated into NaN."""
    values = np.where(np.isnan(values), np.inf, values)
    out = {}
    for level in levels:
        key = "max" if level == 1.0 else f"q{100 * level:g}"
        out[key] = float(np.quantile(values, level, method="inverted_cdf"))
    return out


@dataclass(frozen=True)
class RoundTrip:
    """Per-point round-trip errors of an invertible network.

    Attributes:
        start: ``"x"`` for :math:`x \\to z \\to x`, ``"z"`` for :math:`z \\to x \\to z`.
        errors: Euclidean round-trip error per point, ``+inf`` where it was not finite.
        method: One sentence: how the errors were computed.
    """

    start: str
    errors: np.ndarray
    method: str

    @property
    def non_finite_fraction(self) -> float:
        """Share of points whose round trip produced NaN or inf."""
        return float(np.mean(~np.isfinite(self.errors)))

    def quantiles(self, levels: Sequence[float] = QUANTILE_LEVELS) -> dict[str, float]:
        """Quantiles of the errors over all points (non-finite ones count as infinite)."""
        return quantile_summary(self.errors, levels)

    def to_json(self) -> dict:
        """Quantiles, non-finite share and point count; infinite values become ``None``."""
        quantiles = {k: (v if np.isfinite(v) else None) for k, v in self.quantiles().items()}
        return {
            "start": self.start,
            "num_points": int(self.errors.size),
            "non_finite_fraction": self.non_finite_fraction,
            "error": quantiles,
        }


def round_trip(
    network: InvertibleModule,
    points: object,
    condition: object = None,
    *,
    start: str = "x",
    chunk_size: int = _CHUNK,
) -> RoundTrip:
    r"""Run ``points`` through the network and back; return the per-point Euclidean error.

    Args:
        network: An :class:`~sbinn.nn.InvertibleModule`; it runs in eval mode.
        points: ``(n, network.dim)``: inputs :math:`x` (``start="x"``) or outputs :math:`z`
            (``start="z"``), in the network's own (e.g. standardised) units.
        condition: ``(n, network.cond_dim)`` for a conditional network, else ``None``.
        start: ``"x"``: :math:`x \to f(x) \to f^{-1}(f(x))`; ``"z"``: the other way round.
        chunk_size: Rows per pass.

    Returns:
        A :class:`RoundTrip`.

    Raises:
        TypeError: if ``network`` is not an invertible module.
        ValueError: on an unknown ``start``, points or condition of the wrong shape, or
            non-finite points.

    Examples:
        >>> from sbinn.nn import ActNorm
        >>> round_trip(ActNorm(2), [[1.0, 2.0]], start="z").errors.tolist()
        [0.0]
    """
    network = check_network(network)
    if start not in _STARTS:
        raise ValueError(f"start must be 'x' or 'z', got {start!r}")
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    x, c = as_network_inputs(network, points, condition)
    there, back = maps(network, "forward" if start == "x" else "inverse")
    errors = np.empty(x.shape[0])
    with evaluating(network), torch.no_grad():
        for rows in chunks(x.shape[0], chunk_size):
            part_c = None if c is None else c[rows]
            returned = back(there(x[rows], part_c), part_c)
            error = torch.linalg.vector_norm((returned - x[rows]).double(), dim=1)
            finite = torch.isfinite(returned).all(dim=1)
            errors[rows] = torch.where(finite, error, torch.inf).cpu().numpy()
    route = "x -> f(x) -> f^-1(f(x))" if start == "x" else "z -> f^-1(z) -> f(f^-1(z))"
    return RoundTrip(
        start=start,
        errors=errors,
        method=(
            f"Euclidean distance of {route} from the start point, in the network's units "
            f"and dtype ({x.dtype}); +inf where the round trip was not finite."
        ),
    )
