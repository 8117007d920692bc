r"""Reflection and transmission matrices of homogeneous layers by doubling.

All matrices act on *fluxes* in the direction bins of
:class:`~simulators.tissue.quadrature.DirectionGrid`: entry ``[i, j]`` is the flux leaving in
bin ``i`` per unit flux arriving in bin ``j``. In this basis adding layers is ordinary matrix
algebra and energy conservation reads "columns of ``R + T`` sum to one".

**Phase function.** Henyey-Greenstein with anisotropy :math:`g`, delta-M truncated at order
:math:`K` (Wiscombe 1977): the forward peak :math:`f = g^K` is folded into the unscattered
beam, :math:`a' = a(1-f)/(1-af)`, :math:`\tau' = (1-af)\tau`, and the azimuthally averaged
phase function is the Legendre sum
:math:`h(\mu,\mu') = \sum_{k<K} (2k+1)\,\frac{g^k - f}{1 - f}\,P_k(\mu)P_k(\mu')`.
Each column of the discrete :math:`h` is rescaled so that it integrates to one on the
quadrature, which makes a non-absorbing layer conserve energy to rounding error.

**Radiative transfer in flux form.** For downward fluxes :math:`F_i` in a layer,

.. math::

    \frac{dF^+}{d\tau} = -A F^+ + B F^-, \qquad
    A = \mathrm{diag}(1/\mu) - a\,\mathrm{diag}(w)\,h^{++}\,\mathrm{diag}(1/2\mu), \quad
    B = a\,\mathrm{diag}(w)\,h^{+-}\,\mathrm{diag}(1/2\mu),

and the same with the roles of up and down swapped. A thin layer of thickness
:math:`\Delta\tau` is started with the diamond (trapezoidal) scheme: with
:math:`C = (I + \tfrac{\Delta\tau}{2}A)^{-1}\tfrac{\Delta\tau}{2}B` and
:math:`D = (I + \tfrac{\Delta\tau}{2}A)^{-1}(I - \tfrac{\Delta\tau}{2}A)`,
:math:`T = (I - C^2)^{-1}(D + C^2)` and :math:`R = C(I + T)`. Doubling then gives
:math:`T_2 = T(I - R^2)^{-1}T` and :math:`R_2 = R + T(I - R^2)^{-1}RT`.

This is the adding-doubling method of Prahl, van Gemert & Welch, Appl. Opt. 32, 559 (1993),
written here in a flux basis; it solves the transport equation, not its diffusion limit.

Example:
    >>> import numpy as np
    >>> from simulators.tissue.quadrature import direction_grid
    >>> grid = direction_grid(np.array([[1.0]]))
    >>> mu, present = grid.cosines(np.array([1.0]))
    >>> r, t = layer_matrices(grid, mu, present, np.array([1.0]), np.array([2.0]), np.array([1.0]),
    ...                        np.array([0.8]))
    >>> round(float(r[0, :, 0].sum() + t[0, :, 0].sum()), 10)  # no absorption: R + T = 1
    1.0
"""

from __future__ import annotations

import numpy as np

from simulators.tissue.quadrature import DirectionGrid

__all__ = ["START_THICKNESS", "delta_m", "doubling", "layer_matrices", "redistribution"]

START_THICKNESS = 2.0**-6
"""Optical thickness below which a layer is started with the diamond scheme."""


def delta_m(
    albedo: np.ndarray, tau: np.ndarray, g: np.ndarray, order: int
) -> tuple[np.ndarray, np.ndarray]:
    """Delta-M scaled albedo and optical thickness for Henyey-Greenstein of order ``order``."""
    f = g**order
    af = albedo * f
    scaled_albedo = np.divide(albedo - af, 1.0 - af, out=np.zeros_like(af), where=af < 1.0)
    return scaled_albedo, (1.0 - af) * tau


def _legendre(mu: np.ndarray, order: int) -> np.ndarray:
    """``P_k(mu)`` for ``k < order``, shape ``(m, order, k)`` for ``mu`` ``(m, k)``."""
    p = np.empty((mu.shape[0], order, mu.shape[1]))
    p[:, 0] = 1.0
    if order > 1:
        p[:, 1] = mu
    for k in range(2, order):
        p[:, k] = ((2 * k - 1) * mu * p[:, k - 1] - (k - 1) * p[:, k - 2]) / k
    return p


def redistribution(
    g: np.ndarray, mu: np.ndarray, weight: np.ndarray, order: int
) -> tuple[np.ndarray, np.ndarray]:
    """Delta-M Henyey-Greenstein ``h(mu_i, mu_j)`` and ``h(mu_i, -mu_j)``, each ``(m, k, k)``.

    ``weight`` are the quadrature weights in ``mu`` (zero for bins absent from the layer);
    every column is normalised so that ``sum_i weight_i (h++ + h+-)_ij = 2``.
    """
    f = g[:, None] ** order
    k = np.arange(order)
    moments = (2 * k + 1) * (g[:, None] ** k - f) / (1.0 - f)
    p = _legendre(mu, order)
    weighted = moments[:, :, None] * p
    h_same = np.einsum("mki,mkj->mij", p, weighted)
    h_opposite = np.einsum("mki,mkj->mij", p, weighted * ((-1.0) ** k)[None, :, None])
    total = np.einsum("mi,mij->mj", weight, h_same + h_opposite)
    scale = np.divide(2.0, total, out=np.zeros_like(total), where=total > 0)
    return h_same * scale[:, None, :], h_opposite * scale[:, None, :]


def _diamond_start(
    a_matrix: np.ndarray, b_matrix: np.ndarray, tau: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    half = (tau / 2.0)[:, None, None]
    eye = np.eye(a_matrix.shape[-1])
    # (I + hA)^-1 (I - hA) = 2 (I + hA)^-1 - I: one inverse serves both C and D.
    plus_inverse = np.linalg.inv(eye + half * a_matrix)
    c = plus_inverse @ (half * b_matrix)
    cc = c @ c
    t = np.linalg.solve(eye - cc, 2.0 * plus_inverse - eye + cc)
    return c @ (eye + t), t


def doubling(r: np.ndarray, t: np.ndarray, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Double each symmetric layer ``steps[i]`` times; ``r``, ``t`` are ``(m, k, k)``.

    With :math:`Y = (I - R^2)^{-1} T`, and since :math:`R` commutes with
    :math:`(I - R^2)^{-1}`, a step is :math:`T_2 = TY` and :math:`R_2 = R + TRY`: one solve
    and three matrix products.
    """
    order = np.argsort(-steps, kind="stable")
    # Layers sorted by decreasing steps: those still doubling are a leading slice, a view.
    r, t = r[order], t[order]
    counts = np.sort(steps)[::-1]
    eye = np.eye(r.shape[-1])
    for step in range(int(counts.max(initial=0))):
        rows = int(np.count_nonzero(counts > step))
        rr, tt = r[:rows], t[:rows]
        y = np.linalg.solve(eye - rr @ rr, tt)
        products = np.stack([tt @ rr, tt]) @ y
        r[:rows] += products[0]
        t[:rows] = products[1]
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    return r[inverse], t[inverse]


def layer_matrices(
    grid: DirectionGrid,
    mu: np.ndarray,
    present: np.ndarray,
    n: np.ndarray,
    tau: np.ndarray,
    albedo: np.ndarray,
    g: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Flux reflection and transmission ``(m, k, k)`` of homogeneous layers.

    Args:
        grid: Direction bins.
        mu: Cosines of the bins in each layer ``(m, k)`` (from ``grid.cosines(n)``).
        present: Which bins propagate in each layer ``(m, k)``.
        n: Refractive index of each layer ``(m,)``.
        tau: Optical thickness ``(mu_a + mu_s) * d`` of each layer ``(m,)``.
        albedo: Single-scattering albedo ``mu_s / (mu_a + mu_s)`` ``(m,)``.
        g: Henyey-Greenstein anisotropy ``(m,)``, in ``(-1, 1)``; ``None`` for isotropic.

    Returns:
        ``(R, T)``, the same seen from above and from below; bins absent from a layer have
        zero rows and columns.
    """
    g = np.zeros_like(tau) if g is None else g
    albedo, tau = delta_m(albedo, tau, g, grid.order)
    m, k = mu.shape
    # Bins are sorted by u = s**2, so the bins present in a layer are a prefix of them; the
    # matrices are solved on that prefix alone, which for the shallower bands of a stack of
    # several indices is much smaller (solves cost ~ k**3).
    size = present.sum(axis=1)
    size[np.any(present != (np.arange(k) < size[:, None]), axis=1)] = k
    r, t = np.zeros((m, k, k)), np.zeros((m, k, k))
    for p in np.unique(size[size > 0]):
        rows = np.flatnonzero(size == p)
        r[rows, :p, :p], t[rows, :p, :p] = _homogeneous(
            grid.weight[rows, :p],
            mu[rows, :p],
            present[rows, :p],
            n[rows],
            tau[rows],
            albedo[rows],
            g[rows],
            grid.order,
        )
    return r, t


def _homogeneous(
    weight: np.ndarray,
    mu: np.ndarray,
    present: np.ndarray,
    n: np.ndarray,
    tau: np.ndarray,
    albedo: np.ndarray,
    g: np.ndarray,
    order: int,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`layer_matrices` after delta-M scaling, on the bins given."""
    inv_mu = np.divide(1.0, mu, out=np.zeros_like(mu), where=present)
    mu_weight = weight * inv_mu / (2.0 * n[:, None] ** 2)
    # The phase function does not depend on absorption or thickness: across wavelengths
    # most layers share it.
    key = np.concatenate([g[:, None], mu, mu_weight], axis=1)
    unique, index = np.unique(key, axis=0, return_inverse=True)
    k = mu.shape[1]
    h_same, h_opposite = redistribution(
        unique[:, 0], unique[:, 1 : k + 1], unique[:, k + 1 :], order
    )
    index = index.reshape(-1)
    h_same, h_opposite = h_same[index], h_opposite[index]
    # Scattering from bin j into bin i per unit optical depth, in the flux basis.
    gain = (albedo[:, None] * mu_weight)[:, :, None] * (inv_mu / 2.0)[:, None, :]
    a_matrix = inv_mu[:, :, None] * np.eye(k) - gain * h_same
    b_matrix = gain * h_opposite
    steps = np.ceil(np.log2(np.maximum(tau, START_THICKNESS) / START_THICKNESS)).astype(int)
    r, t = _diamond_start(a_matrix, b_matrix, tau / 2.0**steps)
    r, t = doubling(r, t, steps)
    mask = (present[:, :, None] & present[:, None, :]).astype(float)
    return r * mask, t * mask
