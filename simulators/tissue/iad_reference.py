"""Layered slabs computed with iadpython, Prahl's own adding-doubling, for tests and timing.

``iadpython.Sample`` solves one slab, optionally between glass slides. Its building blocks
add layers, though, so this module stacks layers of **one refractive index** with them
(the quadrature follows from the index and must be shared by the layers it adds), then puts
the air interfaces on both sides the way ``Sample.rt_matrices`` does for an uneven pair of
slides. That gives the tissue solver a reference for stacks of layers with different
optics, and the speed benchmark an iadpython computation of as many layers as the tissue
simulator's spectra have.

``iadpython.simple_layer_matrices`` also stacks layers, but returns the reflection of the
stack seen from *below* and treats it as the same from both sides, which holds only for
symmetric stacks; here every adding step keeps both sides (``iadpython.add_layers``).

iadpython is a test-only dependency of the project: calling :func:`stack_rt` without it
raises ``ModuleNotFoundError``.

Examples:
    >>> r, t = stack_rt([1.0, 5.0], [100.0, 80.0], [0.9, 0.8], 1.4, [0.01, 0.05])
    >>> bool(0 < r < 1 and 0 < t < 1)
    True
"""

from __future__ import annotations

import copy

import numpy as np

__all__ = ["stack_rt"]


def stack_rt(
    mu_a: list[float] | np.ndarray,
    mu_s: list[float] | np.ndarray,
    g: list[float] | np.ndarray,
    n: float,
    thickness: list[float] | np.ndarray,
    *,
    quad_pts: int = 16,
) -> tuple[float, float]:
    """Total reflectance (specular included) and total transmittance of layers in air.

    Args:
        mu_a: Absorption coefficient of each layer, top first [1/length].
        mu_s: Scattering coefficient of each layer [1/length].
        g: Henyey-Greenstein anisotropy of each layer.
        n: The refractive index of every layer.
        thickness: Thickness of each layer [length].
        quad_pts: iadpython's quadrature points.

    Returns:
        ``(reflectance, transmittance)`` for normal incidence.

    Raises:
        ValueError: if the layer properties are not equally long, or there is no layer.
    """
    layers = [np.atleast_1d(np.asarray(v, dtype=float)) for v in (mu_a, mu_s, g, thickness)]
    if len({v.shape for v in layers}) != 1 or layers[0].ndim != 1 or layers[0].size == 0:
        raise ValueError(
            "mu_a, mu_s, g and thickness must be 1-D and equally long (one value per layer), "
            f"got shapes {[v.shape for v in layers]}"
        )
    import iadpython  # test-only dependency: imported only when used

    sample = iadpython.Sample(n=n, n_above=1.0, n_below=1.0, quad_pts=quad_pts)
    sample.update_quadrature()
    down = None
    for absorption, scattering, anisotropy, depth in zip(*layers, strict=True):
        layer = copy.copy(sample)
        extinction = absorption + scattering
        layer.a = scattering / extinction if extinction > 0 else 0.0
        layer.b = extinction * depth
        layer.g = anisotropy
        r, t = iadpython.combine.simple_single_layer_matrices(layer)
        # (R01, R10, T01, T10) of the stack so far: 0 is its top, the new layer goes below.
        down = (r, r, t, t) if down is None else iadpython.add_layers(sample, *down, r, r, t, t)
    top = iadpython.start.boundary_layer(sample, top=True)
    r23, r32, t23, t32 = iadpython.start.boundary_layer(sample, top=False)
    with_top = iadpython.add_slide_above(sample, *top, *down)
    r03, _, t03, _ = iadpython.add_slide_below(sample, *with_top, r23, r32, t23, t32)
    reflectance, transmittance, _, _ = sample.UX1_and_UXU(r03, t03)
    return float(reflectance), float(transmittance)
