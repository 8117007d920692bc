"""The multispectral camera: band grid, boxcar averaging, noise statistics and features."""

from __future__ import annotations

import numpy as np
import pytest

from simulators.tissue.camera import (
    BAND_CENTRES_NM,
    MultispectralCamera,
    add_multiplicative_noise,
    band_average,
    band_wavelengths,
    l1_normalise,
    wirkert_features,
)


def test_band_centres_are_those_of_issue_6():
    assert BAND_CENTRES_NM == (470.0, 480.0, 511.0, 560.0, 580.0, 600.0, 660.0, 700.0)
    assert MultispectralCamera().num_bands == 8


@pytest.mark.parametrize("points", [1, 3, 4, 5, 10])
def test_grid_is_the_midpoint_rule_inside_each_band(points):
    grid = band_wavelengths(points).reshape(8, points)
    np.testing.assert_allclose(grid.mean(axis=1), BAND_CENTRES_NM, atol=1e-12)
    assert np.all(grid >= np.array(BAND_CENTRES_NM)[:, None] - 5)
    assert np.all(grid <= np.array(BAND_CENTRES_NM)[:, None] + 5)
    np.testing.assert_allclose(np.diff(grid, axis=1), 10 / points, atol=1e-12)
    # The outermost node sits half a sub-interval inside the band edge.
    np.testing.assert_allclose(grid[:, 0], np.array(BAND_CENTRES_NM) - 5 + 5 / points)


def test_default_grid_has_three_points_per_band():
    grid = band_wavelengths()
    assert grid.shape == (24,)
    np.testing.assert_allclose(grid[:3], [470 - 10 / 3, 470, 470 + 10 / 3])


def test_constant_and_linear_spectra_average_exactly():
    grid = band_wavelengths(4)
    constant = np.full((3, grid.size), 0.42)
    np.testing.assert_allclose(band_average(constant, 4), 0.42, atol=1e-15)
    slope, offset = np.array([[1e-3], [-2e-4]]), np.array([[0.1], [0.5]])
    linear = offset + slope * grid
    expected = offset + slope * np.array(BAND_CENTRES_NM)
    np.testing.assert_allclose(band_average(linear, 4), expected, atol=1e-13)


def test_band_average_approximates_the_exact_boxcar_of_a_smooth_spectrum():
    def spectrum(wavelength):
        return 0.3 + 0.1 * np.sin(wavelength / 15.0)

    fine = np.linspace(-5, 5, 20_001)
    exact = np.array([spectrum(c + fine).mean() for c in BAND_CENTRES_NM])
    coarse = band_average(spectrum(band_wavelengths(3)), 3)[0]
    finer = band_average(spectrum(band_wavelengths(9)), 9)[0]
    assert np.max(np.abs(coarse - exact)) < 2e-3
    assert np.max(np.abs(finer - exact)) < np.max(np.abs(coarse - exact)) / 5


def test_band_average_reads_one_dimensional_input_as_one_spectrum():
    assert band_average(np.ones(24)).shape == (1, 8)


def test_noise_recovers_the_snr_and_is_unbiased():
    values = np.tile(np.linspace(0.05, 0.6, 8), (200_000, 1))
    noisy = add_multiplicative_noise(values, 20.0, np.random.default_rng(3))
    np.testing.assert_allclose(noisy.mean(axis=0) / noisy.std(axis=0), 20.0, rtol=0.01)
    np.testing.assert_allclose(noisy.mean(axis=0), values[0], rtol=1e-3)


def test_noise_accepts_one_snr_per_band():
    snr = np.array([5.0, 10.0, 20.0, 40.0, 80.0, 100.0, 200.0, 400.0])
    noisy = add_multiplicative_noise(np.full((100_000, 8), 0.5), snr, np.random.default_rng(4))
    np.testing.assert_allclose(noisy.std(axis=0), 0.5 / snr, rtol=0.02)


def test_noise_is_reproducible_with_a_seeded_generator():
    values = np.full((5, 8), 0.3)
    first = add_multiplicative_noise(values, 10.0, np.random.default_rng(7))
    second = add_multiplicative_noise(values, 10.0, np.random.default_rng(7))
    other = add_multiplicative_noise(values, 10.0, np.random.default_rng(8))
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)
    np.testing.assert_array_equal(values, 0.3)  # input left untouched


def test_l1_normalisation_sums_to_one_and_removes_a_scale():
    values = np.random.default_rng(0).uniform(0.01, 0.8, size=(50, 8))
    normalised = l1_normalise(values)
    np.testing.assert_allclose(normalised.sum(axis=1), 1.0, atol=1e-14)
    np.testing.assert_allclose(l1_normalise(3.7 * values), normalised, atol=1e-15)


def test_wirkert_features_follow_the_ipcai2016_transform():
    values = np.random.default_rng(1).uniform(0.01, 0.8, size=(20, 8))
    absorbance = -np.log(values / values.sum(axis=1, keepdims=True))
    expected = absorbance / np.linalg.norm(absorbance, axis=1, keepdims=True)
    np.testing.assert_allclose(wirkert_features(values), expected, atol=1e-14)
    np.testing.assert_allclose(wirkert_features(0.5 * values), expected, atol=1e-14)


def test_wirkert_features_clip_negative_and_large_values():
    features = wirkert_features([[-0.1, 0.2, 1.5, 0.3]])
    assert np.all(np.isfinite(features))
    np.testing.assert_allclose(features, wirkert_features([[1e-5, 0.2, 1.0, 0.3]]))


def test_camera_pipeline_integrates_adds_noise_and_normalises():
    camera = MultispectralCamera(points_per_band=3, snr=30.0, normalisation="l1")
    reflectance = np.tile(np.linspace(0.1, 0.5, 24), (4, 1))
    observed = camera.observe(reflectance, np.random.default_rng(0))
    assert observed.shape == (4, 8)
    np.testing.assert_allclose(observed.sum(axis=1), 1.0, atol=1e-14)
    assert not np.allclose(observed[0], observed[1])  # independent noise per spectrum
    repeat = camera.observe(reflectance, np.random.default_rng(0))
    np.testing.assert_array_equal(observed, repeat)


def test_noise_free_camera_returns_the_band_averages():
    camera = MultispectralCamera()
    reflectance = np.random.default_rng(2).uniform(0, 1, size=(3, 24))
    np.testing.assert_array_equal(
        camera.observe(reflectance, np.random.default_rng(0)), band_average(reflectance, 3)
    )
    features = MultispectralCamera(normalisation="wirkert").observe(
        reflectance, np.random.default_rng(0)
    )
    np.testing.assert_allclose(features, wirkert_features(band_average(reflectance, 3)))


def test_settings_are_json_friendly():
    settings = MultispectralCamera(snr=(10.0,) * 8, normalisation="wirkert").settings()
    assert settings["snr"] == [10.0] * 8
    assert settings["points_per_band"] == 3
    assert settings["normalisation"] == "wirkert"
    assert MultispectralCamera(snr=np.int64(5)).snr == 5.0


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: band_wavelengths(0), ValueError, "points_per_band must be a positive integer"),
        (lambda: band_wavelengths(2.5), TypeError, "points_per_band"),
        (lambda: band_wavelengths(3, centres_nm=()), ValueError, "centres_nm must be"),
        (lambda: band_wavelengths(3, centres_nm=(-470.0,)), ValueError, "positive wavelengths"),
        (lambda: band_wavelengths(3, width_nm=0.0), ValueError, "width_nm must be"),
        (lambda: band_wavelengths(3, width_nm="10"), TypeError, "width_nm must be a real"),
        (lambda: band_average(np.ones((2, 25)), 3), ValueError, "n_bands \\* points_per_band"),
        (lambda: band_average(np.ones((2, 3, 8))), ValueError, "shape"),
        (lambda: band_average(np.full((2, 24), np.nan)), ValueError, "must be finite"),
        (lambda: band_average(np.array([["a"] * 24])), TypeError, "numeric"),
        (lambda: add_multiplicative_noise(np.ones((2, 8)), 0.0, _RNG), ValueError, "snr"),
        (lambda: add_multiplicative_noise(np.ones((2, 8)), -5.0, _RNG), ValueError, "> 0"),
        (lambda: add_multiplicative_noise(np.ones((2, 8)), np.inf, _RNG), ValueError, "finite"),
        (lambda: add_multiplicative_noise(np.ones((2, 8)), np.nan, _RNG), ValueError, "finite"),
        (lambda: add_multiplicative_noise(np.ones((2, 8)), [1.0, 2.0], _RNG), ValueError, "(8,)"),
        (lambda: add_multiplicative_noise(np.ones((2, 8)), "10", _RNG), TypeError, "snr"),
        (lambda: add_multiplicative_noise(np.ones((2, 8)), True, _RNG), TypeError, "snr"),
        (lambda: add_multiplicative_noise(np.ones((2, 8)), 10.0, 0), TypeError, "Generator"),
        (lambda: add_multiplicative_noise(np.ones(8), 10.0, _RNG), ValueError, "shape"),
        (lambda: add_multiplicative_noise([[np.nan] * 8], 10.0, _RNG), ValueError, "finite"),
        (lambda: l1_normalise(np.zeros((3, 8))), ValueError, "non-zero L1 norm"),
        (lambda: l1_normalise([[np.inf, 1.0]]), ValueError, "finite"),
        (lambda: wirkert_features([[0.5]]), ValueError, "at least two bands"),
        (lambda: wirkert_features([[np.nan, 0.5]]), ValueError, "finite"),
        (lambda: MultispectralCamera(normalisation="l2"), ValueError, "normalisation must be"),
        (lambda: MultispectralCamera(snr=0), ValueError, "snr"),
        (lambda: MultispectralCamera(points_per_band=0), ValueError, "points_per_band"),
        (lambda: MultispectralCamera(width_nm=-1.0), ValueError, "width_nm"),
        (lambda: MultispectralCamera().integrate(np.ones((2, 40))), ValueError, "\\(n, 24\\)"),
        (lambda: MultispectralCamera().observe(np.ones((2, 24)), None), TypeError, "Generator"),
        (
            lambda: MultispectralCamera().observe_given_noise(np.ones((2, 24)), np.ones((2, 8))),
            ValueError,
            "snr=None",
        ),
        (
            lambda: MultispectralCamera(snr=10.0).observe_given_noise(
                np.ones((2, 24)), np.ones((3, 8))
            ),
            ValueError,
            "one row per spectrum, got 3 rows for 2",
        ),
        (
            lambda: MultispectralCamera(snr=10.0).observe_given_noise(
                np.ones((2, 24)), np.ones((2, 7))
            ),
            ValueError,
            "noise must have shape",
        ),
    ],
)
def test_errors_say_what_was_expected(call, error, match):
    with pytest.raises(error, match=match):
        call()


_RNG = np.random.default_rng(0)
