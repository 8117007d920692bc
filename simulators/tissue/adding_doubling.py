r"""Reflectance and transmittance of a layered turbid slab by the adding-doubling method.

The slab sits in air (index 1) above and a medium of index ``n_below`` (air by default)
underneath, and is lit by a collimated beam at normal incidence. Each layer has its own
absorption :math:`\mu_a`, scattering :math:`\mu_s`, Henyey-Greenstein anisotropy :math:`g`,
refractive index :math:`n` and thickness :math:`d`. Layers are solved by doubling
(:mod:`simulators.tissue.layer`), and the layers and the Fresnel interfaces between them
(including total internal reflection) are combined by adding:

.. math::

    R_{12} &= R_1 + T_1' R_2 (I - R_1' R_2)^{-1} T_1, &
    T_{12} &= T_2 (I - R_1' R_2)^{-1} T_1, \\
    R_{12}' &= R_2' + T_2 R_1' (I - R_2 R_1')^{-1} T_2', &
    T_{12}' &= T_1' (I - R_2 R_1')^{-1} T_2',

where primes mark light arriving from below. This solves the radiative transfer equation
to quadrature accuracy (about 1e-4 with the default points); it is not a diffusion
approximation.

**Specular reflection.** The returned ``reflectance`` is the total reflectance minus the
specular reflection of the beam at the air-tissue surface, :math:`((n_1 - 1)/(n_1 + 1))^2`,
which is returned on its own as ``specular``. This is MCML's diffuse reflectance
:math:`R_d`: light that is reflected unscattered by deeper interfaces still counts in it.
``transmittance`` is total: diffuse plus the unscattered beam.

Reference: S. A. Prahl, M. J. C. van Gemert, A. J. Welch, "Determining the optical properties
of turbid media by using the adding-doubling method", Appl. Opt. 32, 559-568 (1993);
S. A. Prahl, "The adding-doubling method", in Optical-Thermal Response of Laser-Irradiated
Tissue, A. J. Welch and M. J. C. van Gemert, eds. (Plenum, 1995), pp. 101-129.

Example:
    >>> out = slab_rt(mu_a=10.0, mu_s=90.0, g=0.75, n=1.0, thickness=0.02)  # MCML's slab
    >>> round(float(out.reflectance), 3), round(float(out.transmittance), 3)
    (0.097, 0.661)
    >>> out = slab_rt([[1.0, 5.0]], [[100.0, 200.0]], 0.9, [[1.4, 1.36]], [[0.01, 0.2]])
    >>> out.reflectance.shape
    (1,)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from simulators.tissue.layer import layer_matrices
from simulators.tissue.quadrature import DirectionGrid, direction_grid, fresnel_reflectance

__all__ = ["SlabOptics", "slab_rt"]


class SlabOptics(NamedTuple):
    """Result of :func:`slab_rt`, each array of the batch shape.

    Attributes:
        reflectance: Diffuse reflectance, without the specular reflection at the top surface.
        transmittance: Total transmittance into the medium below, unscattered beam included.
        specular: Specular reflection at the top surface; ``reflectance + specular`` is the
            total reflectance and ``1 - reflectance - specular - transmittance`` the
            absorbed fraction.
    """

    reflectance: np.ndarray
    transmittance: np.ndarray
    specular: np.ndarray


Operators = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""``(R, R', T, T')`` of a layer or stack; primes are for light arriving from below."""


Interface = tuple[np.ndarray, np.ndarray, np.ndarray]
"""Diagonals ``(m, k)`` of ``(R, R', T)`` of a Fresnel interface; ``T' = T``."""


def _add_layer(top: Operators, r: np.ndarray, t: np.ndarray) -> Operators:
    """``top`` above a symmetric layer ``(R, R, T, T)``, with one inverse.

    The upward flux between the two needs :math:`(I - R R_1')^{-1}`, which is
    :math:`I + R (I - R_1' R)^{-1} R_1'`: the inverse the downward flux needs.
    """
    r1, r1b, t1, t1b = top
    between = np.linalg.inv(np.eye(r.shape[-1]) - r1b @ r)
    down = between @ t1  # downward flux between the two, per input from above
    up = t + r @ (between @ (r1b @ t))  # upward flux between the two, per input from below
    return r1 + t1b @ (r @ down), r + t @ (r1b @ up), t @ down, t1b @ up


def _add_interface(top: Operators, interface: Interface) -> Operators:
    """``top`` above an interface; its diagonal matrices act by scaling rows or columns."""
    r1, r1b, t1, t1b = top
    r2, r2b, t2 = interface
    between = np.linalg.inv(np.eye(r1.shape[-1]) - r1b * r2[:, None, :])
    down = between @ t1
    up = (np.eye(r1.shape[-1]) + r2[:, :, None] * (between @ r1b)) * t2[:, None, :]
    r12 = r1 + (t1b * r2[:, None, :]) @ down
    r12b = _diag(r2b) + t2[:, :, None] * (r1b @ up)
    return r12, r12b, t2[:, :, None] * down, t1b @ up


def _beam_through_interface(top: Operators, interface: Interface) -> tuple[np.ndarray, np.ndarray]:
    """Reflectance and transmittance ``(m, k)`` of ``top`` above ``interface`` for light
    arriving from above in bin 0 alone, by one solve with a single right-hand side."""
    r1, r1b, t1, t1b = top
    r2, _, t2 = interface
    eye = np.eye(r1.shape[-1])
    down = np.linalg.solve(eye - r1b * r2[:, None, :], t1[:, :, :1])[:, :, 0]
    return r1[:, :, 0] + np.einsum("mij,mj->mi", t1b * r2[:, None, :], down), t2 * down


def _interface(
    n_upper: np.ndarray,
    n_lower: np.ndarray,
    upper: tuple[np.ndarray, np.ndarray],
    lower: tuple[np.ndarray, np.ndarray],
) -> Interface:
    (mu_u, present_u), (mu_l, present_l) = upper, lower
    both = present_u & present_l
    r = np.where(
        both,
        fresnel_reflectance(
            n_upper[:, None], n_lower[:, None], np.where(both, mu_u, 1.0), np.where(both, mu_l, 1.0)
        ),
        0.0,
    )
    # A bin that exists on one side only is totally reflected back into it.
    r_down = np.where(both, r, present_u.astype(float))
    r_up = np.where(both, r, present_l.astype(float))
    return r_down, r_up, np.where(both, 1.0 - r, 0.0)


def _diag(values: np.ndarray) -> np.ndarray:
    return values[:, :, None] * np.eye(values.shape[1])


def _distinct_columns(breakpoints: np.ndarray) -> np.ndarray:
    """Drop indices that repeat another one (or air) in every row: their bands are empty."""
    keep = []
    for j in range(breakpoints.shape[1]):
        column = breakpoints[:, j]
        if np.all(column == 1.0) or any(np.all(column == breakpoints[:, k]) for k in keep):
            continue
        keep.append(j)
    return breakpoints[:, keep]


def _solve_chunk(
    mu_a: np.ndarray,
    mu_s: np.ndarray,
    g: np.ndarray,
    n: np.ndarray,
    d: np.ndarray,
    n_below: np.ndarray,
    cone_points: int,
    trapped_points: int,
) -> SlabOptics:
    m, num_layers = mu_a.shape
    breakpoints = np.concatenate([n, np.minimum(n_below, n.max(axis=1))[:, None]], axis=1)
    grid = direction_grid(_distinct_columns(breakpoints), cone_points, trapped_points)
    media = [grid.cosines(np.ones(m))]
    media += [grid.cosines(n[:, layer]) for layer in range(num_layers)]
    media.append(grid.cosines(n_below))
    for layer in range(1, num_layers + 1):
        # Bins trapped in a layer by total internal reflection on both sides only ever hold
        # light that the layer scatters; in a clear layer they would make adding singular.
        mu, present = media[layer]
        reachable = media[layer - 1][1] | media[layer + 1][1]
        scatters = (mu_s[:, layer - 1] * d[:, layer - 1] > 0)[:, None]
        media[layer] = (mu, present & (reachable | scatters))

    mu_t = mu_a + mu_s
    tau = (mu_t * d).T.reshape(-1)
    albedo = np.divide(mu_s, mu_t, out=np.zeros_like(mu_t), where=mu_t > 0).T.reshape(-1)
    stacked = np.tile(grid.u, (num_layers, 1)), np.tile(grid.weight, (num_layers, 1))
    layer_grid = DirectionGrid(*stacked, grid.order)
    cosines = np.concatenate([mu for mu, _ in media[1:-1]])
    present = np.concatenate([p for _, p in media[1:-1]])
    r, t = layer_matrices(
        layer_grid, cosines, present, n.T.reshape(-1), tau, albedo, g.T.reshape(-1)
    )
    r, t = r.reshape(num_layers, m, *r.shape[1:]), t.reshape(num_layers, m, *t.shape[1:])

    indices = [np.ones(m), *n.T, n_below]
    r_down, r_up, t_in = _interface(indices[0], indices[1], media[0], media[1])
    stack = _diag(r_down), _diag(r_up), _diag(t_in), _diag(t_in)
    for layer in range(num_layers):
        stack = _add_layer(stack, r[layer], t[layer])
        below = _interface(
            indices[layer + 1], indices[layer + 2], media[layer + 1], media[layer + 2]
        )
        if layer < num_layers - 1:
            stack = _add_interface(stack, below)
    # Bin 0 is normal incidence, where the collimated beam enters.
    beam_r, beam_t = _beam_through_interface(stack, below)
    total_r = np.einsum("mi,mi->m", beam_r, media[0][1])
    total_t = np.einsum("mi,mi->m", beam_t, media[-1][1])
    specular = ((n[:, 0] - 1.0) / (n[:, 0] + 1.0)) ** 2
    return SlabOptics(total_r - specular, total_t, specular)


def slab_rt(
    mu_a: np.ndarray | float,
    mu_s: np.ndarray | float,
    g: np.ndarray | float,
    n: np.ndarray | float,
    thickness: np.ndarray | float,
    *,
    n_below: np.ndarray | float = 1.0,
    cone_points: int = 8,
    trapped_points: int = 6,
    chunk_size: int = 1024,
) -> SlabOptics:
    """Diffuse reflectance and total transmittance of layered slabs for normal incidence.

    The layer properties broadcast against each other; their last axis runs over layers,
    top first, and the leading axes are the batch (e.g. parameter sets × wavelengths).
    A scalar or 0-d input is a single layer of a single slab.

    Args:
        mu_a: Absorption coefficients, 1/length, >= 0.
        mu_s: Scattering coefficients, 1/length, >= 0.
        g: Henyey-Greenstein anisotropies, in ``(-1, 1)``.
        n: Refractive indices, >= 1.
        thickness: Layer thicknesses, in the length unit of ``mu_a`` and ``mu_s``, >= 0.
        n_below: Refractive index of the medium under the slab, >= 1, of the batch shape.
        cone_points: Radau points in the escape cone into air.
        trapped_points: Gauss points in each band of directions beyond a critical angle.
        chunk_size: Slabs solved at once; bounds memory at roughly
            ``chunk_size * layers * 10 * bins**2 * 8`` bytes.

    Returns:
        :class:`SlabOptics` with arrays of the batch shape.

    Raises:
        ValueError: when an input is out of range or the shapes do not broadcast.
    """
    arrays = {
        "mu_a": mu_a,
        "mu_s": mu_s,
        "g": g,
        "n": n,
        "thickness": thickness,
    }
    arrays = {name: np.asarray(value, dtype=float) for name, value in arrays.items()}
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays.values()))
    except ValueError as error:
        shapes = {name: a.shape for name, a in arrays.items()}
        raise ValueError(
            f"layer properties must broadcast together, got shapes {shapes}"
        ) from error
    shape = shape or (1,)
    batch_shape = shape[:-1]
    flat = {k: np.broadcast_to(a, shape).reshape(-1, shape[-1]) for k, a in arrays.items()}
    below = np.asarray(n_below, dtype=float)
    try:
        below = np.broadcast_to(below, batch_shape).reshape(-1)
    except ValueError as error:
        raise ValueError(
            f"n_below must broadcast to the batch shape {batch_shape}, got shape {below.shape}"
        ) from error
    _check_ranges(flat, below)
    if cone_points < 2 or trapped_points < 1 or chunk_size < 1:
        raise ValueError(
            "cone_points must be >= 2, trapped_points >= 1 and chunk_size >= 1, got "
            f"{cone_points}, {trapped_points}, {chunk_size}"
        )
    rows = flat["mu_a"].shape[0]
    parts = [
        _solve_chunk(
            *(flat[k][i : i + chunk_size] for k in ("mu_a", "mu_s", "g", "n", "thickness")),
            below[i : i + chunk_size],
            cone_points,
            trapped_points,
        )
        for i in range(0, rows, chunk_size)
    ]
    return SlabOptics(
        *(
            np.concatenate([getattr(p, f) for p in parts]).reshape(batch_shape)
            for f in SlabOptics._fields
        )
    )


def _check_ranges(flat: dict[str, np.ndarray], n_below: np.ndarray) -> None:
    checks = {
        "mu_a": (flat["mu_a"] >= 0, ">= 0"),
        "mu_s": (flat["mu_s"] >= 0, ">= 0"),
        "g": ((flat["g"] > -1) & (flat["g"] < 1), "in (-1, 1)"),
        "n": (flat["n"] >= 1, ">= 1"),
        "thickness": (flat["thickness"] >= 0, ">= 0"),
        "n_below": (n_below >= 1, ">= 1"),
    }
    values = flat | {"n_below": n_below}
    for name, (ok, expected) in checks.items():
        ok = ok & np.isfinite(values[name])
        if not np.all(ok):
            bad = values[name][~ok].reshape(-1)[0]
            raise ValueError(f"{name} must be finite and {expected}, got {bad}")
