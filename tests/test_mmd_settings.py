"""MMD kernels and estimators: settings, records and every error path."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from sbinn.mmd import (
    ExponentialDistance,
    Gaussian,
    InverseMultiquadratic,
    Kernel,
    PowerDistance,
    kernel_from_config,
    mmd2,
)
from tests.mmd_support import ids


@ids
def test_config_round_trips_through_json(kernel: Kernel) -> None:
    config = json.loads(json.dumps(kernel.to_config()))
    assert kernel_from_config(config) == kernel
    assert repr(kernel_from_config(config)) == repr(kernel)


def test_repr_and_settings_normalisation() -> None:
    assert repr(InverseMultiquadratic()) == "InverseMultiquadratic(scales=(0.2,))"
    assert repr(Gaussian(scales=np.array([1, 2]))) == "Gaussian(scales=(1.0, 2.0))"
    assert repr(ExponentialDistance()) == "ExponentialDistance(scale=7.1)"
    assert repr(PowerDistance()) == "PowerDistance(power=0.25)"
    assert InverseMultiquadratic(scales=1) == InverseMultiquadratic(scales=[1.0])


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: InverseMultiquadratic(scales=0.0), ValueError, r"scales\[0\] must be a positive"),
        (lambda: InverseMultiquadratic(scales=(0.2, -1)), ValueError, r"scales\[1\].*-1.0"),
        (lambda: Gaussian(scales=()), ValueError, "at least one scale"),
        (lambda: Gaussian(scales=float("nan")), ValueError, "positive finite number, got nan"),
        (lambda: Gaussian(scales=float("inf")), ValueError, "positive finite"),
        (lambda: Gaussian(scales="0.2"), TypeError, "sequence of them, got str"),
        (lambda: Gaussian(scales=True), TypeError, "got bool"),
        (lambda: ExponentialDistance(scale=0), ValueError, "scale must be a positive"),
        (lambda: ExponentialDistance(scale=(1.0,)), TypeError, "scale must be a positive real"),
        (lambda: PowerDistance(power=0), ValueError, r"open interval \(0, 2\), got 0.0"),
        (lambda: PowerDistance(power=2), ValueError, r"open interval \(0, 2\), got 2.0"),
        (lambda: PowerDistance(power=float("nan")), ValueError, "open interval"),
        (lambda: PowerDistance(power="1"), TypeError, "power must be a real number"),
        (lambda: kernel_from_config({"kernel": "RBF"}), ValueError, "must be one of"),
        (lambda: kernel_from_config({"scale": 1.0}), ValueError, "got None"),
        (lambda: kernel_from_config({"kernel": "Gaussian", "h": 1}), TypeError, "h"),
    ],
)
def test_bad_kernel_settings_raise(make, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        make()


def _nan_at_row_2() -> torch.Tensor:
    x = torch.randn(5, 2)
    x[2, 1] = float("nan")
    return x


@pytest.mark.parametrize(
    ("x", "y", "kwargs", "error", "match"),
    [
        (torch.zeros(5), torch.zeros(4, 5), {}, ValueError, r"x must be a 2-D .* got shape \(5,\)"),
        (
            torch.zeros(4, 3),
            torch.zeros(4, 2),
            {},
            ValueError,
            r"expected shape \(m, 3\), got shape \(4, 2\)",
        ),
        (torch.zeros(2, 2, 2), torch.zeros(2, 2), {}, ValueError, r"got shape \(2, 2, 2\)"),
        (_nan_at_row_2(), torch.zeros(3, 2), {}, ValueError, "x must be finite.*first at row 2"),
        (torch.zeros(3, 2), torch.full((3, 2), math.inf), {}, ValueError, "y must be finite"),
        (torch.zeros(1, 2), torch.zeros(3, 2), {"unbiased": True}, ValueError, "at least 2"),
        (torch.zeros(3, 2), torch.zeros(1, 2), {"unbiased": True}, ValueError, "y with shape"),
        (torch.zeros(0, 2), torch.zeros(3, 2), {}, ValueError, "at least 1 sample"),
        (torch.zeros(3, 2), torch.zeros(3, 2, dtype=torch.float64), {}, TypeError, "same dtype"),
        (torch.zeros(3, 2, dtype=torch.int64), torch.zeros(3, 2), {}, TypeError, "floating"),
        (np.zeros((3, 2)), torch.zeros(3, 2), {}, TypeError, "torch.as_tensor"),
        (torch.zeros(3, 2), torch.zeros(3, 2), {"unbiased": 1}, TypeError, "must be a bool"),
        (
            torch.zeros(3, 2),
            torch.zeros(3, 2),
            {"kernel": Gaussian},
            TypeError,
            r"e.g. Gaussian\(\), got the class",
        ),
        (
            torch.zeros(3, 2),
            torch.zeros(3, 2),
            {"kernel": "imq"},
            TypeError,
            "kernel must be callable",
        ),
        (
            torch.zeros(3, 2),
            torch.zeros(4, 2),
            {"kernel": lambda a, b: torch.zeros(3, 3)},
            ValueError,
            r"Gram matrix of shape \(4, 4\), got \(3, 3\)",
        ),
    ],
)
def test_bad_inputs_raise(x, y, kwargs: dict, error: type[Exception], match: str) -> None:
    kernel = kwargs.pop("kernel", InverseMultiquadratic())
    with pytest.raises(error, match=match):
        mmd2(x, y, kernel, **kwargs)


def test_calling_a_kernel_checks_its_inputs() -> None:
    with pytest.raises(ValueError, match=r"expected shape \(m, 2\), got shape \(3, 1\)"):
        Gaussian()(torch.zeros(3, 2), torch.zeros(3, 1))
