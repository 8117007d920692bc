"""Standardisation of simulation sets."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from sbinn.data import Standardizer


def test_round_trip_and_moments():
    data = np.random.default_rng(0).normal([1.0, -5.0, 100.0], [0.1, 2.0, 30.0], (500, 3))
    standardizer = Standardizer.fit(data)
    scaled = standardizer.transform(data)
    np.testing.assert_allclose(scaled.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(scaled.std(axis=0), 1.0)
    np.testing.assert_allclose(standardizer.inverse(scaled), data)
    tensor = torch.as_tensor(data)
    torch.testing.assert_close(
        standardizer.inverse_tensor(standardizer.transform_tensor(tensor)), tensor
    )


def test_constant_columns_are_left_unscaled():
    data = np.c_[np.arange(10.0), np.full(10, 3.0)]
    standardizer = Standardizer.fit(data)
    assert standardizer.scale[1] == 1.0
    assert np.all(np.isfinite(standardizer.transform(data)))


def test_log_abs_det_matches_the_jacobian():
    data = np.random.default_rng(1).normal(0, [2.0, 0.5], (100, 2))
    standardizer = Standardizer.fit(data)
    jacobian = np.diag(1 / standardizer.scale)
    assert standardizer.log_abs_det == pytest.approx(np.linalg.slogdet(jacobian)[1])


def test_config_round_trip_through_json():
    standardizer = Standardizer.fit(np.random.default_rng(2).normal(size=(20, 3)))
    again = Standardizer.from_config(json.loads(json.dumps(standardizer.to_config())))
    np.testing.assert_array_equal(again.mean, standardizer.mean)
    np.testing.assert_array_equal(again.scale, standardizer.scale)


@pytest.mark.parametrize(
    ("data", "error", "match"),
    [
        (np.zeros((1, 3)), ValueError, "at least 2 rows"),
        (np.array([[np.nan, 1.0], [1.0, 2.0]]), ValueError, "must be finite"),
        (np.zeros(3), ValueError, r"must have shape \(n, d\)"),
    ],
)
def test_invalid_data_is_rejected(data, error, match):
    with pytest.raises(error, match=match):
        Standardizer.fit(data)
