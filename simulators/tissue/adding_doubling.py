r"""Reflectance and transmittance of a layered turbid slab by the adding-doubling method.

The slab sits in air (index 1) above and a medium of index ``n_below`` (air by default)
underneath, and is lit by a collimated beam at normal incidence. Each layer has its own
absorption :math:`\mu_a`, scattering :math:`\mu_s`, Henyey-Greenstein anisotropy :math:`g`,
refractive index :math:`n` and thickness :math:`d`. Layers are solved on their own
(:mod:`simulators.tissue.layer`, by eigen-decomposition or doubling), and the layers and the
Fresnel interfaces between them (including total internal reflection) are combined by adding.
Only the reflection :math:`B` of everything below a level is needed to go up one level:
over a layer :math:`(R, T)`, the same from both sides,

.. math::

    X = (I - R B)^{-1} T, \qquad B \leftarrow R + T B X,

where :math:`X` is the downward flux under the layer per flux arriving on it from above
(interfaces alike, with diagonal matrices). So the stack is added bottom-up, one solve per
layer or interface, and the beam, which enters in the normal-incidence bin alone, is then
carried down through the :math:`X` as a vector for the transmittance. Interfaces between equal
indices are skipped, and each level works on the bins its medium has (a prefix of them).
This solves the radiative transfer equation to quadrature accuracy (about 1e-4 with the
default points); it is not a diffusion approximation.

**Batches.** Slabs are solved in chunks of ``chunk_size``: small chunks keep the arrays in
cache (128 slabs were fastest on a 2-core machine, ~1.4x faster than 1024) and can be spread
over threads. Each slab's result depends on its chunk only through rounding, never on the
number of threads. Every chunk allocates and frees its temporaries anew, so glibc's heap is
kept from shrinking between chunks (:func:`~simulators.tissue._allocator.keep_freed_heap`).

**Specular reflection.** The returned ``reflectance`` is the total reflectance minus the
specular reflection of the beam at the air-tissue surface, :math:`((n_1 - 1)/(n_1 + 1))^2`,
which is returned on its own as ``specular``. This is MCML's diffuse reflectance
:math:`R_d`: light that is reflected unscattered by deeper interfaces still counts in it.
``transmittance`` is total: diffuse plus the unscattered beam.

Reference: S. A. Prahl, M. J. C. van Gemert, A. J. Welch, "Determining the optical properties
of turbid media by using the adding-doubling method", Appl. Opt. 32, 559-568 (1993);
S. A. Prahl, "The adding-doubling method", in Optical-Thermal Response of Laser-Irradiated
Tissue, A. J. Welch and M. J. C. van Gemert, eds. (Plenum, 1995), pp. 101-129.

Examples:
    >>> out = slab_rt(mu_a=10.0, mu_s=90.0, g=0.75, n=1.0, thickness=0.02)  # MCML's slab
    >>> round(float(out.reflectance), 3), round(float(out.transmittance), 3)
    (0.097, 0.661)
    >>> out = slab_rt([[1.0, 5.0]], [[100.0, 200.0]], 0.9, [[1.4, 1.36]], [[0.01, 0.2]])
    >>> out.reflectance.shape
    (1,)
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import NamedTuple

import numpy as np
import torch

from simulators.tissue._allocator import keep_freed_heap
from simulators.tissue.layer import METHODS, layer_matrices
from simulators.tissue.quadrature import DirectionGrid, direction_grid, fresnel_reflectance

__all__ = ["SlabOptics", "default_workers", "slab_rt"]


def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.linalg.solve`` of stacked matrices, through torch: its LU (MKL) of many small
    matrices took 0.6x the CPU time of numpy's at 14 bins, and as much at 20 and 26."""
    return torch.linalg.solve(torch.from_numpy(a), torch.from_numpy(b)).numpy()


def default_workers() -> int:
    """Threads :func:`slab_rt` uses by default: the CPUs this process may run on, at most 4.

    NumPy's batched matrix products and LAPACK calls release the GIL, so chunks solved in
    threads can run in parallel; more than 4 threads is untried (the cap is a guess).
    """
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cpus or 1, 4))


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


Interface = tuple[np.ndarray, np.ndarray, np.ndarray]
"""Diagonals ``(m, k)`` of ``(R, R', T)`` of a Fresnel interface; ``T' = T``."""


def _over_layer(
    r: np.ndarray, t: np.ndarray, below: np.ndarray | None, below_diagonal: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A symmetric layer ``(R, T)`` above a stack that reflects ``below`` (``None``: the
    diagonal ``below_diagonal``): the reflection of both, and the downward flux under the
    layer per flux arriving on it from above, :math:`X = (I - R B)^{-1} T`."""
    if below is None:
        if not np.any(below_diagonal):  # nothing comes back: X = T
            return r, t
        rb, tb = r * below_diagonal[:, None, :], t * below_diagonal[:, None, :]
    else:
        rb, tb = r @ below, t @ below
    carry = _solve(np.eye(r.shape[-1]) - rb, t)
    return r + tb @ carry, carry


def _over_interface(
    interface: Interface, below: np.ndarray, size_above: int
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_over_layer` for an interface, whose diagonal matrices scale rows or columns.

    ``below`` covers the bins of the medium under the interface, the result the first
    ``size_above`` bins, those of the medium above; only bins of both cross it.
    """
    r_down, r_up, t = interface
    size_below = below.shape[-1]
    common = min(size_above, size_below)
    t = t[:, :common]
    # Only the columns of the bins that cross are needed: a solve for those, not an inverse.
    crossing = np.eye(size_below, common) * t[:, None, :]
    carry = np.zeros((below.shape[0], size_below, size_above))
    carry[:, :, :common] = _solve(np.eye(size_below) - r_up[:, :size_below, None] * below, crossing)
    reflection = r_down[:, :size_above, None] * np.eye(size_above)
    reflection[:, :common] += t[:, :, None] * (below[:, :common] @ carry)
    return reflection, carry


def _beam(
    r: list[np.ndarray], t: list[np.ndarray], interfaces: list[Interface], sizes: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Reflected and transmitted fluxes, ``(m, sizes[0])`` and ``(m, sizes[-1])``, of the
    beam in bin 0, for layers ``r[l]``, ``t[l]`` on their ``sizes[l + 1]`` bins.

    Bottom-up, only the reflection B of what lies below each level is carried up, as a full
    matrix; the beam enters in bin 0 alone, so the downward fluxes are vectors.
    """
    below, carries = None, []
    bottom = interfaces[-1][0][:, : sizes[-2]]
    for layer in reversed(range(len(r))):
        below, carry = _over_layer(r[layer], t[layer], below, bottom)
        carries.append(carry)
        r_down, r_up, _ = interfaces[layer]
        # An interface between equal indices reflects nothing and transmits everything.
        if layer > 0 and (np.any(r_down) or np.any(r_up)):
            below, carry = _over_interface(interfaces[layer], below, sizes[layer])
            carries.append(carry)
    r_down, r_up, t_in = interfaces[0]
    m, size = below.shape[:2]
    source = np.zeros((m, size, 1))
    source[:, 0, 0] = t_in[:, 0]  # bin 0 is normal incidence
    down = _solve(np.eye(size) - r_up[:, :size, None] * below, source)
    common = min(size, sizes[0])
    beam_r = r_down[:, : sizes[0]] * (np.arange(sizes[0]) == 0)
    beam_r[:, :common] += t_in[:, :common] * (below[:, :common] @ down)[:, :, 0]
    for carry in reversed(carries):
        down = carry @ down
    common = min(down.shape[1], sizes[-1])
    beam_t = np.zeros((m, sizes[-1]))
    beam_t[:, :common] = interfaces[-1][2][:, :common] * down[:, :common, 0]
    return beam_r, beam_t


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


def _prefix(present: np.ndarray) -> int:
    """Number of leading bins that hold every bin present in some row of ``present``."""
    return int(present.shape[1] - np.argmax(present[:, ::-1].any(axis=0))) if present.any() else 0


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
    points: tuple[int, int, int],
    method: str,
) -> SlabOptics:
    m, num_layers = mu_a.shape
    breakpoints = np.concatenate([n, np.minimum(n_below, n.max(axis=1))[:, None]], axis=1)
    grid = direction_grid(_distinct_columns(breakpoints), *points)
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
        layer_grid, cosines, present, n.T.reshape(-1), tau, albedo, g.T.reshape(-1), method
    )
    r, t = r.reshape(num_layers, m, *r.shape[1:]), t.reshape(num_layers, m, *t.shape[1:])

    indices = [np.ones(m), *n.T, n_below]
    interfaces = [
        _interface(indices[i], indices[i + 1], media[i], media[i + 1])
        for i in range(num_layers + 1)
    ]
    # Bins are sorted by u, so each medium's bins are (nearly always) a prefix of them:
    # adding is done on that prefix, much smaller above a denser layer.
    sizes = [_prefix(present) for _, present in media]
    r = [r[layer, :, : sizes[layer + 1], : sizes[layer + 1]] for layer in range(num_layers)]
    t = [t[layer, :, : sizes[layer + 1], : sizes[layer + 1]] for layer in range(num_layers)]
    beam_r, beam_t = _beam(r, t, interfaces, sizes)
    total_r = np.einsum("mi,mi->m", beam_r, media[0][1][:, : sizes[0]])
    total_t = np.einsum("mi,mi->m", beam_t, media[-1][1][:, : sizes[-1]])
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
    interlayer_points: int = 4,
    chunk_size: int = 128,
    method: str = "eigen",
    workers: int | None = None,
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
        trapped_points: Gauss points in the band of directions beyond the critical angle
            into air, up to the least refractive layer.
        interlayer_points: Gauss points in each further band, between two indices of the
            stack (:func:`~simulators.tissue.quadrature.direction_grid`).
        chunk_size: Slabs solved at once; bounds memory at roughly
            ``chunk_size * layers * 10 * bins**2 * 8`` bytes.
        method: How layers are solved, ``"eigen"`` or ``"doubling"``
            (:func:`~simulators.tissue.layer.layer_matrices`).
        workers: Threads that solve chunks side by side; ``None`` for
            :func:`default_workers`. Chunks are the same whatever the number of threads, so
            the result does not depend on it.

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
    workers = default_workers() if workers is None else workers
    counts = (cone_points, trapped_points, interlayer_points, chunk_size, workers)
    if cone_points < 2 or min(counts[1:]) < 1:
        raise ValueError(
            "cone_points must be >= 2, and trapped_points, interlayer_points, chunk_size and "
            f"workers >= 1, got {counts}"
        )
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    keep_freed_heap()
    rows = flat["mu_a"].shape[0]
    jobs = [
        partial(
            _solve_chunk,
            *(flat[k][i : i + chunk_size] for k in ("mu_a", "mu_s", "g", "n", "thickness")),
            below[i : i + chunk_size],
            (cone_points, trapped_points, interlayer_points),
            method,
        )
        for i in range(0, rows, chunk_size)
    ]
    if workers == 1 or len(jobs) == 1:
        parts = [job() for job in jobs]
    else:
        with ThreadPoolExecutor(min(workers, len(jobs))) as pool:
            parts = list(pool.map(lambda job: job(), jobs))
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
