r"""Singular values and condition numbers of an invertible network's Jacobians.

The largest singular value :math:`\sigma_1(J_f(x))` bounds how much the network can stretch
a small error at :math:`x`; the smallest, :math:`\sigma_d`, how much it squeezes, and
:math:`1/\sigma_d` is how much the inverse stretches errors back (Behrmann et al. 2021,
Fig. 1 and eq. 5). Their ratio, the condition number :math:`\kappa = \sigma_1/\sigma_d`, is
the same for :math:`f` at :math:`x` and for :math:`f^{-1}` at :math:`f(x)`, because
:math:`J_{f^{-1}}(f(x)) = J_f(x)^{-1}`.

Two ways of computing them, both per point:

- **exact**: the full :math:`d \times d` Jacobian from :math:`d` backward passes (the network
  maps rows independently, so one pass gives row :math:`i` of every point's Jacobian), then
  an SVD in float64. Cheap for small :math:`d`.
- **power**: power iteration on :math:`J^\top J` with Jacobian-vector products
  (:func:`torch.func.jvp`, :func:`torch.func.vjp`), which never forms :math:`J`:
  :math:`v \leftarrow J^\top J v / \lVert J^\top J v \rVert`, :math:`\sigma_1 \approx
  \lVert J v \rVert`. The smallest singular value comes from the inverse,
  :math:`\sigma_d(J_f(x)) = 1 / \sigma_1(J_{f^{-1}}(f(x)))`, by the same iteration.

Examples:
    >>> import torch
    >>> from sbinn.nn import InvertibleNetwork
    >>> _ = torch.manual_seed(0)
    >>> net = InvertibleNetwork.coupling_stack(3, 2, hidden_features=8).double()
    >>> for p in net.parameters():
    ...     _ = torch.nn.init.normal_(p, std=0.3)
    >>> x = torch.randn(5, 3, dtype=torch.float64)
    >>> exact = jacobian_spectrum(net, x, method="exact")
    >>> power = jacobian_spectrum(net, x, method="power", num_iterations=500)
    >>> bool(np.allclose(exact.condition_number, power.condition_number, rtol=1e-3))
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from torch.func import jvp, vjp

from sbinn._validation import check_positive_int
from sbinn.diagnostics.stability_roundtrip import (
    as_network_inputs,
    check_network,
    chunks,
    evaluating,
    maps,
    quantile_summary,
)
from sbinn.nn.base import InvertibleModule

__all__ = ["EXACT_MAX_DIM", "JacobianSpectrum", "jacobian_spectrum"]

EXACT_MAX_DIM = 32
_DIRECTIONS = ("forward", "inverse")
_METHODS = ("auto", "exact", "power")
_CHUNK = 4096


@dataclass(frozen=True)
class JacobianSpectrum:
    """Largest and smallest singular values of the Jacobian at each point.

    Attributes:
        direction: ``"forward"`` (:math:`J_f` at the points) or ``"inverse"``
            (:math:`J_{f^{-1}}` at the points).
        largest: :math:`\\sigma_1` per point; NaN where the Jacobian was not finite.
        smallest: :math:`\\sigma_d` per point; NaN where the Jacobian was not finite.
        method: One sentence: how they were computed.
        singular_values: All singular values ``(n, d)``, descending, for the exact method.
    """

    direction: str
    largest: np.ndarray
    smallest: np.ndarray
    method: str
    singular_values: np.ndarray | None = None

    @property
    def condition_number(self) -> np.ndarray:
        """:math:`\\sigma_1 / \\sigma_d` per point; ``+inf`` where it could not be computed."""
        with np.errstate(divide="ignore", invalid="ignore"):
            kappa = self.largest / self.smallest
        return np.where(np.isfinite(kappa), kappa, np.inf)

    def to_json(self) -> dict:
        """Quantiles of the condition number, the extreme singular values, the method."""

        def finite(value: float) -> float | None:
            return float(value) if np.isfinite(value) else None

        kappa = quantile_summary(self.condition_number)
        return {
            "direction": self.direction,
            "num_points": int(self.largest.size),
            "condition_number": {k: finite(v) for k, v in kappa.items()},
            "largest_singular_value_max": finite(np.nanmax(self.largest, initial=-np.inf)),
            "smallest_singular_value_min": finite(np.nanmin(self.smallest, initial=np.inf)),
            "non_finite_fraction": float(np.mean(np.isnan(self.largest))),
            "method": self.method,
        }


def _exact_jacobians(function, x: Tensor, c: Tensor | None) -> Tensor:
    """``(n, d, d)`` Jacobians of a row-wise map, one backward pass per output feature."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        y = function(x, c)
        rows = [
            torch.autograd.grad(y[:, i].sum(), x, retain_graph=i < y.shape[1] - 1)[0]
            for i in range(y.shape[1])
        ]
    return torch.stack(rows, dim=1)


def _exact(function, x: Tensor, c: Tensor | None) -> np.ndarray:
    jacobians = _exact_jacobians(function, x, c).detach().double()
    values = torch.full(jacobians.shape[:2], torch.nan, dtype=torch.float64)
    finite = torch.isfinite(jacobians).flatten(1).all(dim=1)
    if finite.any():
        values[finite] = torch.linalg.svdvals(jacobians[finite]).cpu()
    return values.numpy()


def _largest_by_power(
    function, x: Tensor, c: Tensor | None, iterations: int, tol: float, generator
) -> np.ndarray:
    """:math:`\\sigma_1` per row by power iteration on :math:`J^\\top J`."""

    def at_points(points: Tensor) -> Tensor:
        return function(points, c)

    v = torch.randn(x.shape, generator=generator, dtype=torch.float64).to(x)
    v = v / torch.linalg.vector_norm(v, dim=1, keepdim=True)
    _, pullback = vjp(at_points, x)
    sigma = torch.zeros(x.shape[0], dtype=torch.float64, device=x.device)
    for _ in range(iterations):
        jv = jvp(at_points, (x,), (v,))[1]
        new_sigma = torch.linalg.vector_norm(jv.double(), dim=1)
        w = pullback(jv)[0]
        norm = torch.linalg.vector_norm(w, dim=1, keepdim=True)
        # A row that reached an exact zero keeps its vector: J v = 0 means σ1 = 0 there.
        v = torch.where(norm > 0, w / norm.clamp_min(torch.finfo(w.dtype).tiny), v)
        converged = torch.abs(new_sigma - sigma) <= tol * new_sigma
        sigma = new_sigma
        if bool(converged.all()):
            break
    sigma = torch.where(torch.isfinite(sigma), sigma, torch.nan)
    return sigma.detach().cpu().numpy()


def jacobian_spectrum(
    network: InvertibleModule,
    points: object,
    condition: object = None,
    *,
    direction: str = "forward",
    method: str = "auto",
    num_iterations: int = 100,
    tolerance: float = 1e-6,
    seed: int = 0,
    chunk_size: int = _CHUNK,
) -> JacobianSpectrum:
    r"""Largest and smallest singular values of the network's Jacobian at each point.

    Args:
        network: An :class:`~sbinn.nn.InvertibleModule` that maps rows independently (every
            sbinn block does); it runs in eval mode.
        points: ``(n, network.dim)``: inputs :math:`x` for ``direction="forward"``, outputs
            :math:`z` for ``direction="inverse"``.
        condition: ``(n, network.cond_dim)`` for a conditional network, else ``None``.
        direction: ``"forward"``: :math:`J_f(x)`; ``"inverse"``: :math:`J_{f^{-1}}(z)`.
        method: ``"exact"`` (full Jacobian and SVD), ``"power"`` (power iteration on
            Jacobian-vector products), or ``"auto"``: exact up to
            :data:`EXACT_MAX_DIM` features, power iteration above.
        num_iterations: Most power iterations (each one forward-mode and one reverse-mode
            product), for each of the two extreme singular values.
        tolerance: The iteration stops once every point's estimate changed by at most this
            relative amount in one step.
        seed: Seed of the power iteration's random start vectors.
        chunk_size: Points per pass.

    Returns:
        A :class:`JacobianSpectrum`.

    Raises:
        TypeError: if ``network`` is not an invertible module.
        ValueError: on an unknown ``direction`` or ``method``, points or condition of the
            wrong shape, non-finite points, or a tolerance that is not positive.

    Examples:
        >>> from sbinn.nn import ActNorm
        >>> norm = ActNorm(2)
        >>> with torch.no_grad():
        ...     _ = norm.log_scale.copy_(torch.tensor([0.0, np.log(4.0)]))
        >>> spectrum = jacobian_spectrum(norm, [[1.0, 1.0]], direction="inverse")
        >>> spectrum.largest.tolist(), spectrum.smallest.tolist(), spectrum.condition_number
        ([1.0], [0.25], array([4.]))
    """
    network = check_network(network)
    if direction not in _DIRECTIONS:
        raise ValueError(f"direction must be 'forward' or 'inverse', got {direction!r}")
    if method not in _METHODS:
        raise ValueError(f"method must be 'auto', 'exact' or 'power', got {method!r}")
    num_iterations = check_positive_int(num_iterations, "num_iterations")
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    if not (isinstance(tolerance, float | int) and tolerance > 0):
        raise ValueError(f"tolerance must be a positive number, got {tolerance!r}")
    x, c = as_network_inputs(network, points, condition)
    if method == "auto":
        method = "exact" if network.dim <= EXACT_MAX_DIM else "power"
    function, inverse = maps(network, direction)
    largest, smallest = np.empty(x.shape[0]), np.empty(x.shape[0])
    singular_values = np.empty((x.shape[0], network.dim)) if method == "exact" else None
    generator = torch.Generator().manual_seed(seed)
    with evaluating(network):
        for rows in chunks(x.shape[0], chunk_size):
            part_c = None if c is None else c[rows]
            if method == "exact":
                values = _exact(function, x[rows], part_c)
                singular_values[rows] = values
                largest[rows], smallest[rows] = values[:, 0], values[:, -1]
                continue
            largest[rows] = _largest_by_power(
                function, x[rows], part_c, num_iterations, tolerance, generator
            )
            with torch.no_grad():
                image = function(x[rows], part_c)
            # σ_d(J) = 1 / σ_1(J^-1), the inverse's Jacobian taken at the image point.
            inverse_largest = _largest_by_power(
                inverse, image, part_c, num_iterations, tolerance, generator
            )
            with np.errstate(divide="ignore"):
                smallest[rows] = 1.0 / inverse_largest
    if method == "exact":
        how = f"exact: full Jacobian from {network.dim} backward passes, SVD in float64"
    else:
        how = (
            f"power iteration on J^T J with Jacobian-vector products (at most "
            f"{num_iterations} steps, relative tolerance {tolerance:g}); the smallest "
            "singular value is 1 / the largest of the inverse's Jacobian at the image point"
        )
    what = "J_f at the points" if direction == "forward" else "J_f^-1 at the points"
    return JacobianSpectrum(
        direction=direction,
        largest=largest,
        smallest=smallest,
        method=f"Singular values of {what} ({x.dtype}); {how}.",
        singular_values=singular_values,
    )
