"""Single-layer matrices: the eigen-decomposition against doubling and the exact exponential."""

from __future__ import annotations

import numpy as np
import pytest

from simulators.tissue.layer import layer_matrices
from simulators.tissue.quadrature import direction_grid


def layers(n, tau, albedo, g):
    """Flux (R, T) of layers of indices ``n`` in a grid with bands up to 1.5, both methods."""
    n = np.asarray(n, dtype=float)
    grid = direction_grid(np.stack([n, np.full(n.shape, 1.5)], axis=1))
    mu, present = grid.cosines(n)
    args = (grid, mu, present, n, np.asarray(tau), np.asarray(albedo), np.asarray(g))
    return layer_matrices(*args, method="eigen"), layer_matrices(*args, method="doubling"), grid


def exact(n, tau, albedo, g):
    """(R, T) of one layer: the matrix exponential of the flux equations for a thin layer
    (where its growing exponentials stay small), then exact doubling."""
    from scipy.linalg import expm

    from simulators.tissue.layer import delta_m, doubling, redistribution

    grid = direction_grid(np.array([[n, 1.5]]))
    mu, present = grid.cosines(np.array([n]))
    k = int(present.sum())
    mu, weight = mu[:, :k], grid.weight[:, :k]
    a, tau = delta_m(np.array([albedo]), np.array([tau]), np.array([g]), grid.order)
    flux_weight = weight / (2.0 * n**2 * mu)
    h_same, h_opposite = redistribution(np.array([g]), mu, flux_weight, grid.order)
    gain = (a[0] * flux_weight[0])[:, None] * (1.0 / (2.0 * mu[0]))[None, :]
    a_matrix = np.diag(1.0 / mu[0]) - gain * h_same[0]
    b_matrix = gain * h_opposite[0]
    steps = 12
    phi = expm(np.block([[-a_matrix, b_matrix], [-b_matrix, a_matrix]]) * tau[0] / 2**steps)
    r = -np.linalg.solve(phi[k:, k:], phi[k:, :k])
    r, t = doubling(r[None], (phi[:k, :k] + phi[:k, k:] @ r)[None], np.array([steps]))
    return r[0], t[0]


@pytest.mark.parametrize(
    ("n", "tau", "albedo", "g"),
    [(1.0, 0.7, 0.9, 0.5), (1.4, 2.0, 0.99, 0.9), (1.33, 0.3, 1.0, -0.3)],
)
def test_eigen_solution_is_the_exact_exponential(n, tau, albedo, g):
    (r, t), _, _ = layers([n], [tau], [albedo], [g])
    r_exact, t_exact = exact(n, tau, albedo, g)
    k = r_exact.shape[0]
    np.testing.assert_allclose(r[0, :k, :k], r_exact, rtol=0, atol=1e-11)
    np.testing.assert_allclose(t[0, :k, :k], t_exact, rtol=0, atol=1e-11)


def test_eigen_agrees_with_doubling_where_the_diamond_start_is_accurate():
    rng = np.random.default_rng(0)
    m = 300
    n, g = rng.uniform(1.0, 1.5, m), rng.uniform(-0.5, 0.97, m)
    tau, albedo = 10 ** rng.uniform(-3, 3, m), rng.uniform(0.0, 1.0, m)
    (r, t), (r_ref, t_ref), grid = layers(n, tau, albedo, g)
    # The diamond start is off for bins with dtau / mu >~ 1 (~1e-2 at mu ~ 0.02), so compare
    # the flux that leaves for the normal-incidence beam, and weight the rest by the bins.
    np.testing.assert_allclose(r[:, :, 0], r_ref[:, :, 0], atol=2e-5)
    np.testing.assert_allclose(t[:, :, 0], t_ref[:, :, 0], atol=2e-5)
    diffuse = grid.weight / grid.weight.sum(axis=1, keepdims=True)
    for x, x_ref in ((r, r_ref), (t, t_ref)):
        assert np.abs(np.einsum("mij,mj->mi", x - x_ref, diffuse)).max() < 1e-3


def test_non_absorbing_layers_conserve_energy_at_any_thickness():
    tau = np.array([0.0, 1e-3, 1.0, 1e2, 1e4, 1e6])
    (r, t), _, grid = layers(np.full(tau.size, 1.4), tau, np.ones(tau.size), np.full(tau.size, 0.9))
    columns = (r + t).sum(axis=1)
    present = grid.cosines(np.full(tau.size, 1.4))[1]
    np.testing.assert_allclose(columns[present], 1.0, atol=1e-9)


def test_limits_of_thickness():
    (r, t), _, _ = layers([1.4, 1.4], [0.0, 1e5], [0.8, 0.8], [0.9, 0.9])
    k = 14  # bins present in n = 1.4 with the default points
    np.testing.assert_allclose(r[0], 0.0, atol=1e-15)
    np.testing.assert_allclose(t[0, :k, :k], np.eye(k), atol=1e-15)
    assert np.all(np.isfinite(r)) and np.abs(t[1]).max() < 1e-12
    assert 0.0 < r[1, :k, 0].sum() < 1.0


def test_unknown_method_is_rejected():
    grid = direction_grid(np.array([[1.4]]))
    mu, present = grid.cosines(np.array([1.4]))
    with pytest.raises(ValueError, match="method must be one of"):
        layer_matrices(grid, mu, present, np.array([1.4]), np.ones(1), np.ones(1), method="x")
