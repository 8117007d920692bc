"""The adding-doubling solver against iadpython, the MCML benchmark slab and energy balance."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from simulators.tissue.adding_doubling import slab_rt
from simulators.tissue.quadrature import direction_grid, gauss_unit, radau_unit

# Single slabs: absorption, scattering (1/cm), anisotropy, index and thickness (cm) of tissue.
GRID = list(
    itertools.product((0.1, 5.0, 30.0), (20.0, 200.0), (0.0, 0.8, 0.95), (1.0, 1.4), (0.01, 0.1))
)


def iad_total_rt(mu_a, mu_s, g, n, d, n_slides=1.0):
    """Total reflectance (specular included) and transmittance from iadpython at 16 points."""
    iad = pytest.importorskip("iadpython")
    sample = iad.Sample(
        a=mu_s / (mu_a + mu_s),
        b=(mu_a + mu_s) * d,
        g=g,
        n=n,
        n_above=n_slides,
        n_below=n_slides,
        quad_pts=16,
    )
    r, t, _, _ = sample.rt()
    return float(r), float(t)


def test_single_slabs_agree_with_iadpython():
    expected = np.array([iad_total_rt(*case) for case in GRID])
    mu_a, mu_s, g, n, d = (np.array(v)[:, None] for v in zip(*GRID, strict=True))
    out = slab_rt(mu_a, mu_s, g, n, d)
    np.testing.assert_allclose(out.reflectance + out.specular, expected[:, 0], rtol=0, atol=1e-3)
    np.testing.assert_allclose(out.transmittance, expected[:, 1], rtol=0, atol=1e-3)


@pytest.mark.parametrize("case", [(1.0, 100.0, 0.9, 1.4, 0.1), (10.0, 50.0, 0.5, 1.33, 0.02)])
def test_stack_with_glass_slides_agrees_with_iadpython(case):
    # iadpython stacks only clear slides on a slab: that is a three-layer stack with three
    # refractive indices, so it exercises the Fresnel interfaces between layers.
    mu_a, mu_s, g, n, d = case
    expected = iad_total_rt(*case, n_slides=1.5)
    out = slab_rt([0.0, mu_a, 0.0], [0.0, mu_s, 0.0], g, [1.5, n, 1.5], [0.1, d, 0.1])
    assert abs(out.reflectance + out.specular - expected[0]) < 1e-3
    assert abs(out.transmittance - expected[1]) < 1e-3


@pytest.mark.parametrize("n", [1.0, 1.4])
def test_a_slab_split_into_two_equal_layers_is_the_same_slab(n):
    whole = slab_rt(2.0, 150.0, 0.9, n, 0.08)
    halves = slab_rt([2.0, 2.0], [150.0, 150.0], 0.9, [n, n], [0.05, 0.03])
    np.testing.assert_allclose(halves.reflectance, whole.reflectance, atol=1e-9)
    np.testing.assert_allclose(halves.transmittance, whole.transmittance, atol=1e-9)


def test_mcml_benchmark_slab():
    # Wang, Jacques & Zheng, "MCML - Monte Carlo modeling of light transport in multi-layered
    # tissues", Comput. Methods Programs Biomed. 47, 131-146 (1995), and the MCML manual
    # (Wang & Jacques 1992, §"Computation results"): mu_a = 10/cm, mu_s = 90/cm, g = 0.75,
    # d = 0.02 cm, matched index. MCML: Rd = 0.09734, Tt = 0.66096; van de Hulst's tables:
    # Rd = 0.09739, Tt = 0.66096.
    out = slab_rt(10.0, 90.0, 0.75, 1.0, 0.02)
    assert abs(out.reflectance - 0.09739) < 1e-4
    assert abs(out.transmittance - 0.66096) < 1e-4
    assert abs(out.reflectance - 0.09734) < 5e-4  # MCML's own standard error is ~3e-4
    assert out.specular == 0.0


def test_non_absorbing_stacks_conserve_energy():
    rng = np.random.default_rng(0)
    shape = (40, 3)
    out = slab_rt(
        0.0,
        rng.uniform(1, 500, shape),
        rng.uniform(-0.5, 0.97, shape),
        rng.uniform(1.0, 1.55, shape),
        rng.uniform(0.001, 0.3, shape),
        n_below=rng.choice([1.0, 1.33, 1.5], shape[0]),
    )
    np.testing.assert_allclose(out.reflectance + out.specular + out.transmittance, 1.0, atol=1e-6)


def test_reflectance_and_absorption_are_fractions_and_grow_as_expected():
    rng = np.random.default_rng(1)
    shape = (60, 3)
    mu_s = rng.uniform(10, 2000, shape)
    args = (
        rng.uniform(0.8, 0.95, shape),
        rng.uniform(1.33, 1.54, shape),
        rng.uniform(0.002, 0.2, shape),
    )
    low = slab_rt(rng.uniform(0.1, 5, shape), mu_s, *args)
    high = slab_rt(np.full(shape, 50.0), mu_s, *args)
    for out in (low, high):
        absorbed = 1.0 - out.reflectance - out.specular - out.transmittance
        assert np.all((out.reflectance >= 0) & (out.reflectance <= 1))
        assert np.all((absorbed >= 0) & (absorbed <= 1))
    assert np.all(high.reflectance < low.reflectance)


def test_specular_reflection_is_the_fresnel_term_of_the_top_surface():
    out = slab_rt(1e4, 0.0, 0.0, [1.4, 1.0], [1.0, 1.0])  # opaque, non-scattering
    assert out.specular == pytest.approx((0.4 / 2.4) ** 2)
    assert abs(out.reflectance) < 1e-12 and abs(out.transmittance) < 1e-12


def test_clear_slab_transmits_the_beam_between_two_fresnel_surfaces():
    r = ((1.5 - 1) / 2.5) ** 2
    attenuation = np.exp(-2.0)
    out = slab_rt(2.0, 0.0, 0.0, 1.5, 1.0)
    expected_t = (1 - r) ** 2 * attenuation / (1 - r**2 * attenuation**2)
    # The diamond start approximates exp(-dtau) to third order: ~1e-5 after doubling.
    assert out.transmittance == pytest.approx(expected_t, abs=2e-5)


def test_batch_rows_do_not_depend_on_their_neighbours():
    rng = np.random.default_rng(2)
    shape = (7, 5, 2)
    mu_a, mu_s = rng.uniform(0.1, 20, shape), rng.uniform(10, 500, shape)
    g, n, d = rng.uniform(0.7, 0.95, (7, 1, 2)), rng.uniform(1.3, 1.5, (7, 1, 2)), 0.05
    batch = slab_rt(mu_a, mu_s, g, n, d, chunk_size=4)
    assert batch.reflectance.shape == (7, 5)
    alone = slab_rt(mu_a[3, 2], mu_s[3, 2], g[3, 0], n[3, 0], d)
    assert batch.reflectance[3, 2] == pytest.approx(float(alone.reflectance), abs=1e-9)


def test_results_do_not_depend_on_the_number_of_threads():
    rng = np.random.default_rng(3)
    shape = (50, 4, 3)
    args = (
        rng.uniform(0.1, 20, shape),
        rng.uniform(10, 500, shape),
        rng.uniform(0.7, 0.95, shape),
        rng.uniform(1.33, 1.54, shape),
        rng.uniform(0.002, 0.2, shape),
    )
    one = slab_rt(*args, chunk_size=16, workers=1)
    three = slab_rt(*args, chunk_size=16, workers=3)
    np.testing.assert_array_equal(three.reflectance, one.reflectance)
    np.testing.assert_array_equal(three.transmittance, one.transmittance)


def test_eigen_and_doubling_layers_give_the_same_stacks():
    rng = np.random.default_rng(4)
    shape = (60, 3)
    args = (
        rng.uniform(0.0, 50, shape),
        rng.uniform(1, 1000, shape),
        rng.uniform(-0.5, 0.97, shape),
        rng.uniform(1.0, 1.55, shape),
        rng.uniform(0.001, 0.3, shape),
    )
    below = rng.choice([1.0, 1.33, 1.5], shape[0])
    eigen = slab_rt(*args, n_below=below, method="eigen")
    doubled = slab_rt(*args, n_below=below, method="doubling")
    # Within the diamond start's error; the eigen-decomposition is exact in tau.
    np.testing.assert_allclose(eigen.reflectance, doubled.reflectance, atol=2e-5)
    np.testing.assert_allclose(eigen.transmittance, doubled.transmittance, atol=2e-5)


@pytest.mark.parametrize("gap", [1e-3, 1e-7, 1e-12, 0.0])
def test_nearly_equal_indices_conserve_energy(gap):
    # A band of directions between two almost equal indices has nearly grazing bins.
    out = slab_rt(
        0.0, [466.0, 58.0, 364.0], [0.96, 0.46, 0.18], [1.4 + gap, 1.34, 1.4], [0.26, 0.1, 0.17]
    )
    assert abs(out.reflectance + out.specular + out.transmittance - 1.0) < 1e-6


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"g": 1.0}, "g must be finite and in"),
        ({"n": 0.9}, "n must be finite and >= 1"),
        ({"mu_a": -1.0}, "mu_a must be finite and >= 0"),
        ({"mu_s": np.nan}, "mu_s must be finite"),
        ({"mu_a": np.ones(3), "mu_s": np.ones(2)}, "must broadcast together"),
        ({"workers": 0}, "workers >= 1"),
        ({"interlayer_points": 0}, "interlayer_points"),
        ({"method": "fast"}, "method must be one of"),
    ],
)
def test_bad_inputs_are_rejected_with_a_clear_message(kwargs, message):
    args = {"mu_a": 1.0, "mu_s": 10.0, "g": 0.9, "n": 1.4, "thickness": 0.1} | kwargs
    with pytest.raises(ValueError, match=message):
        slab_rt(**args)


@pytest.mark.parametrize("num_points", [2, 5, 9])
def test_quadratures_are_exact_for_their_degree(num_points):
    for (nodes, weights), degree in (
        (gauss_unit(num_points), 2 * num_points - 1),
        (radau_unit(num_points), 2 * num_points - 2),
    ):
        assert nodes.min() > 0 and nodes.max() <= 1
        np.testing.assert_allclose(weights @ nodes**degree, 1.0 / (degree + 1), atol=1e-13)


def test_cached_quadrature_rules_are_not_changed_by_callers():
    grid = direction_grid(np.array([[1.4]]), cone_points=4, trapped_points=2)
    grid.u[:] = 0.0  # the grid owns its arrays: the cached rules stay as they were
    again = direction_grid(np.array([[1.4]]), cone_points=4, trapped_points=2)
    nodes, _ = radau_unit(4)
    np.testing.assert_allclose(again.u[0, :4], 1.0 - nodes**2)
    nodes[:] = 0.0  # the public rules are fresh copies
    assert radau_unit(4)[0][0] == 1.0


def test_fewer_interlayer_points_keep_tissue_stacks_and_the_bin_count_drops():
    # Three tissue layers of different indices on more tissue: the bands between indices
    # get 4 Gauss points by default instead of 6, which must not move R or T visibly.
    layers = (
        [[0.5, 3.0, 20.0], [5.0, 1.0, 0.2]],
        [[150.0, 80.0, 200.0], [60.0, 300.0, 120.0]],
        [[0.9, 0.8, 0.95], [0.85, 0.9, 0.8]],
        [[1.36, 1.45, 1.38], [1.52, 1.33, 1.41]],
        [[0.05, 0.02, 0.1], [0.002, 0.08, 0.04]],
    )
    below = [1.38, 1.41]
    coarse = slab_rt(*layers, n_below=below)
    fine = slab_rt(*layers, n_below=below, interlayer_points=6)
    np.testing.assert_allclose(coarse.reflectance, fine.reflectance, rtol=0, atol=1e-4)
    np.testing.assert_allclose(coarse.transmittance, fine.transmittance, rtol=0, atol=1e-4)
    breakpoints = np.array([[1.36, 1.45, 1.38]])
    assert direction_grid(breakpoints, 8, 6, 4).u.shape == (1, 8 + 6 + 2 * 4)
    assert direction_grid(breakpoints, 8, 6).u.shape == (1, 8 + 3 * 6)
