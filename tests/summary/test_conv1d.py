"""The 1-D convolutional summary network for spectra."""

from __future__ import annotations

import math

import pytest
import torch

from sbinn.summary import Conv1dSummary


@pytest.mark.parametrize("length", [1, 2, 7, 64, 101])
@pytest.mark.parametrize("channels", [(4,), (4, 8, 8)])
def test_any_length_gives_the_summary_width(length, channels):
    torch.manual_seed(0)
    net = Conv1dSummary(length, 3, channels=channels, kernel_size=4)
    assert (net.length, net.in_channels, net.out_features) == (length, 1, 3)
    final = length
    for _ in channels:
        final = math.ceil(final / 2)
    assert net.head.in_features == channels[-1] * final
    assert net(torch.randn(2, length)).shape == (2, 3)
    assert net(torch.randn(2, 1, length)).shape == (2, 3)


def test_several_input_channels():
    torch.manual_seed(0)
    net = Conv1dSummary(20, 5, in_channels=3)
    assert net(torch.randn(4, 3, 20)).shape == (4, 5)


def test_the_output_depends_on_where_a_line_sits():
    torch.manual_seed(0)
    net = Conv1dSummary(32, 4).eval()
    spectra = torch.zeros(2, 32)
    spectra[0, 8] = spectra[1, 24] = 1.0
    h = net(spectra)
    assert (h[0] - h[1]).abs().max() > 1e-4


def test_gradients_reach_every_parameter_and_the_input():
    torch.manual_seed(0)
    net = Conv1dSummary(16, 2, channels=(4, 8))
    x = torch.randn(3, 16, requires_grad=True)
    net(x).square().sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())
    assert x.grad.abs().sum() > 0


def test_float64():
    net = Conv1dSummary(10, 2).double()
    assert net(torch.zeros(1, 10, dtype=torch.float64)).dtype == torch.float64


ERRORS = {
    "length": (lambda: Conv1dSummary(0, 2), ValueError, "length must be .*, got 0"),
    "out_features": (lambda: Conv1dSummary(8, 0), ValueError, "out_features must be .*, got 0"),
    "in_channels": (
        lambda: Conv1dSummary(8, 2, in_channels=0),
        ValueError,
        "in_channels must be a positive integer, got 0",
    ),
    "kernel_size": (
        lambda: Conv1dSummary(8, 2, kernel_size=0),
        ValueError,
        "kernel_size must be a positive integer, got 0",
    ),
    "no channels": (
        lambda: Conv1dSummary(8, 2, channels=()),
        ValueError,
        r"channels must be a non-empty sequence of positive integers, got \(\)",
    ),
    "channels int": (
        lambda: Conv1dSummary(8, 2, channels=16),
        ValueError,
        "channels must be a non-empty sequence of positive integers, got 16",
    ),
    "channel zero": (
        lambda: Conv1dSummary(8, 2, channels=(16, 0)),
        ValueError,
        "every entry of channels must be a positive integer, got 0",
    ),
    "activation": (
        lambda: Conv1dSummary(8, 2, activation="gelu"),
        ValueError,
        "activation must be one of .*; got 'gelu'",
    ),
    "wrong length": (
        lambda: Conv1dSummary(8, 2)(torch.zeros(4, 9)),
        ValueError,
        r"Conv1dSummary expects x of shape \(batch, 8\) or \(batch, 1, 8\), got \(4, 9\)",
    ),
    "missing channel axis": (
        lambda: Conv1dSummary(8, 2, in_channels=2)(torch.zeros(4, 8)),
        ValueError,
        r"Conv1dSummary expects x of shape \(batch, 2, 8\), got \(4, 8\)",
    ),
    "single spectrum": (
        lambda: Conv1dSummary(8, 2)(torch.zeros(8)),
        ValueError,
        r"got \(8,\)",
    ),
    "integer input": (
        lambda: Conv1dSummary(8, 2)(torch.zeros(1, 8, dtype=torch.int32)),
        TypeError,
        "Conv1dSummary expects x to be a floating-point tensor, got dtype torch.int32",
    ),
    "inf": (
        lambda: Conv1dSummary(3, 2)(torch.tensor([[0.0, float("inf"), 0.0]])),
        ValueError,
        r"Conv1dSummary expects finite observations, got NaN or inf in 1 row\(s\), first at row 0",
    ),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_errors_say_what_was_expected_and_given(case):
    build, error, message = ERRORS[case]
    with pytest.raises(error, match=message):
        build()
