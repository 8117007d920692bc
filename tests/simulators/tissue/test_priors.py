"""The tissue priors: names, documented ranges, densities and the per-layer expansion."""

from __future__ import annotations

import numpy as np
import pytest

from simulators.tissue.priors import (
    LAYER_QUANTITIES,
    SETTINGS,
    layer_parameters,
    tissue_prior,
    tissue_setting,
)

UM = 1e-4  # cm

# The ranges of the module docstring, written out independently: (low, high) per parameter.
DOCUMENTED = {
    "generic": {
        "sO2": (0.0, 1.0),
        **{f"v_hb_{k}": (0.0, 1.0) for k in (1, 2, 3)},
        **{f"a_mie_{k}": (0.1, np.inf) for k in (1, 2, 3)},
        **{f"g_{k}": (0.8, 0.95) for k in (1, 2, 3)},
        **{f"n_{k}": (1.33, 1.54) for k in (1, 2, 3)},
        **{f"d_{k}": (20 * UM, 2000 * UM) for k in (1, 2, 3)},
    },
    "colon": {
        "sO2": (0.0, 1.0),
        **{f"v_hb_{k}": (0.0, 0.1) for k in (1, 2, 3)},
        **{f"a_mie_{k}": (0.1, np.inf) for k in (1, 2, 3)},
        **{f"g_{k}": (0.8, 0.95) for k in (1, 2, 3)},
        "d_1": (600 * UM, 1010 * UM),
        "d_2": (415 * UM, 847 * UM),
        "d_3": (395 * UM, 603 * UM),
    },
}


@pytest.mark.parametrize("setting", SETTINGS)
def test_names_follow_the_documented_layout(setting):
    prior = tissue_prior(setting)
    assert prior.names == tuple(DOCUMENTED[setting])
    assert prior.names[0] == "sO2"


def test_default_setting_is_generic():
    assert tissue_prior().names == tissue_prior("generic").names


@pytest.mark.parametrize("setting", SETTINGS)
def test_bounds_and_samples_lie_in_the_documented_ranges(setting):
    prior = tissue_prior(setting)
    expected = np.array(list(DOCUMENTED[setting].values()))
    np.testing.assert_allclose(prior.bounds, expected, rtol=1e-12)
    theta = prior.sample(20_000, np.random.default_rng(0))
    assert theta.shape == (20_000, len(expected))
    assert np.all(theta >= expected[:, 0]) and np.all(theta <= expected[:, 1])
    # Each finite range is filled, not just respected.
    finite = np.isfinite(expected[:, 1])
    spread = (theta.max(axis=0) - theta.min(axis=0))[finite]
    assert np.all(spread > 0.95 * (expected[finite, 1] - expected[finite, 0]))


@pytest.mark.parametrize("setting", SETTINGS)
def test_a_mie_is_the_truncated_soft_tissue_normal(setting):
    prior = tissue_prior(setting)
    column = prior.names.index("a_mie_1")
    a_mie = prior.sample(100_000, np.random.default_rng(1))[:, column]
    # N(18.9, 10.2) truncated at 0.1 cm^-1 has mean 19.67 and sd 9.43 (3.3 % cut).
    assert abs(a_mie.mean() - 19.67) < 0.1
    assert abs(a_mie.std() - 9.43) < 0.1


@pytest.mark.parametrize("setting", SETTINGS)
def test_log_prob_is_finite_inside_and_minus_infinity_outside(setting):
    prior = tissue_prior(setting)
    theta = prior.sample(200, np.random.default_rng(2))
    assert np.all(np.isfinite(prior.log_prob(theta)))
    for i, (low, high) in enumerate(DOCUMENTED[setting].values()):
        below = theta[:3].copy()
        below[:, i] = low - 1e-3
        assert np.all(prior.log_prob(below) == -np.inf), prior.names[i]
        if np.isfinite(high):
            above = theta[:3].copy()
            above[:, i] = high + 1e-3
            assert np.all(prior.log_prob(above) == -np.inf), prior.names[i]


def test_uniform_part_of_the_density_matches_the_ranges():
    prior = tissue_prior("colon")
    theta = prior.sample(1, np.random.default_rng(3))
    widths = [
        high - low for name, (low, high) in DOCUMENTED["colon"].items() if "a_mie" not in name
    ]
    columns = [prior.names.index(f"a_mie_{k}") for k in (1, 2, 3)]
    a_mie = prior.factors["a_mie"].log_prob(theta[:, columns])
    np.testing.assert_allclose(prior.log_prob(theta), a_mie - np.log(widths).sum(), rtol=1e-12)


@pytest.mark.parametrize("setting", SETTINGS)
def test_layer_parameters_fill_in_the_fixed_constants(setting):
    prior = tissue_prior(setting)
    theta = prior.sample(5, np.random.default_rng(4))
    layers = layer_parameters(theta, setting)
    assert list(layers) == ["sO2", *LAYER_QUANTITIES]
    np.testing.assert_array_equal(layers["sO2"], theta[:, 0])
    for quantity in LAYER_QUANTITIES:
        assert layers[quantity].shape == (5, 3)
    np.testing.assert_array_equal(layers["b_mie"], 1.286)
    np.testing.assert_array_equal(
        layers["d"], theta[:, [prior.names.index(f"d_{k}") for k in (1, 2, 3)]]
    )
    if setting == "colon":
        np.testing.assert_array_equal(layers["n"], np.tile([1.36, 1.36, 1.38], (5, 1)))
        assert set(tissue_setting("colon").fixed) == {"b_mie", "n"}
    else:
        assert set(tissue_setting("generic").fixed) == {"b_mie"}


def test_layer_parameters_reads_one_vector_and_leaves_theta_alone():
    theta = tissue_prior("colon").sample(1, np.random.default_rng(5))[0]
    layers = layer_parameters(theta, "colon")
    layers["v_hb"][:] = -1.0
    assert np.all(theta >= 0)


@pytest.mark.parametrize("setting", ["skin", "Generic", "", None, 3])
def test_unknown_setting_lists_the_settings(setting):
    with pytest.raises(ValueError, match=r"expected one of \('generic', 'colon'\)"):
        tissue_prior(setting)


@pytest.mark.parametrize(
    ("theta", "match"),
    [
        (np.zeros((2, 16)), r"\(n, 13\)"),
        (np.full((2, 13), np.nan), "finite"),
    ],
)
def test_layer_parameters_checks_theta(theta, match):
    with pytest.raises(ValueError, match=match):
        layer_parameters(theta, "colon")
