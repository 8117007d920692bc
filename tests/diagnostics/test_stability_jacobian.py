"""Jacobian singular values: exact SVD, power iteration, and the toy's known spectrum."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from sbinn.diagnostics.stability import jacobian_spectrum
from sbinn.diagnostics.stability_toy import TOY_SCALE, UNCLAMPED, behrmann_toy
from sbinn.nn import InvertibleNetwork


def random_network(dim=3, cond_dim=0, seed=0):
    torch.manual_seed(seed)
    net = InvertibleNetwork.coupling_stack(dim, 3, cond_dim=cond_dim, hidden_features=16)
    for parameter in net.parameters():
        torch.nn.init.normal_(parameter, std=0.3)
    return net.double()


@pytest.mark.parametrize("direction", ["forward", "inverse"])
@pytest.mark.parametrize("cond_dim", [0, 2])
def test_power_iteration_agrees_with_the_exact_svd(direction, cond_dim):
    net = random_network(cond_dim=cond_dim, seed=cond_dim)
    generator = torch.Generator().manual_seed(5)
    x = torch.randn(20, 3, generator=generator, dtype=torch.float64)
    c = torch.randn(20, 2, generator=generator, dtype=torch.float64) if cond_dim else None
    exact = jacobian_spectrum(net, x, c, direction=direction, method="exact")
    power = jacobian_spectrum(
        net, x, c, direction=direction, method="power", num_iterations=2000, tolerance=1e-12
    )
    np.testing.assert_allclose(power.largest, exact.largest, rtol=1e-4)
    np.testing.assert_allclose(power.smallest, exact.smallest, rtol=1e-4)
    assert exact.singular_values.shape == (20, 3) and power.singular_values is None
    assert "exact" in exact.method and "power iteration" in power.method


def test_the_exact_jacobian_is_the_autograd_jacobian():
    net = random_network(seed=3)
    x = torch.randn(4, 3, dtype=torch.float64)
    spectrum = jacobian_spectrum(net, x, method="exact")
    for row, point in enumerate(x):
        jacobian = torch.autograd.functional.jacobian(lambda p: net(p[None])[0][0], point)
        expected = torch.linalg.svdvals(jacobian).numpy()
        np.testing.assert_allclose(spectrum.singular_values[row], expected, rtol=1e-10)


def test_the_smallest_singular_value_is_one_over_the_inverses_largest():
    net = random_network(seed=4)
    x = torch.randn(10, 3, dtype=torch.float64)
    forward = jacobian_spectrum(net, x, method="exact")
    inverse = jacobian_spectrum(net, net(x)[0].detach(), direction="inverse", method="exact")
    np.testing.assert_allclose(forward.smallest, 1 / inverse.largest, rtol=1e-10)
    np.testing.assert_allclose(forward.condition_number, inverse.condition_number, rtol=1e-10)


@pytest.mark.parametrize("depth", [1, 4, 8])
def test_the_toy_has_the_spectrum_of_behrmanns_figure_1(depth):
    # J_f = diag(1, a^K): sigma_1 = 1, sigma_d = a^K, condition number a^-K, where a is
    # the scale 0.1 after the (very wide) soft clamp: 0.1 to 4e-8 relative.
    scale = math.exp(UNCLAMPED * math.tanh(math.log(TOY_SCALE) / UNCLAMPED))
    assert scale == pytest.approx(0.1, rel=1e-7)
    net = behrmann_toy(depth, coupling="affine", dtype=torch.float64)
    spectrum = jacobian_spectrum(net, [[1.0, 1.0]])
    assert spectrum.largest[0] == pytest.approx(1.0, rel=1e-12)
    assert spectrum.smallest[0] == pytest.approx(scale**depth, rel=1e-9, abs=0)
    assert spectrum.condition_number[0] == pytest.approx(scale**-depth, rel=1e-9)


def test_auto_uses_power_iteration_only_above_the_exact_limit():
    small = jacobian_spectrum(random_network(seed=0), torch.randn(2, 3, dtype=torch.float64))
    assert "exact" in small.method
    wide = random_network(dim=40, seed=0)
    x = torch.randn(3, 40, dtype=torch.float64)
    auto = jacobian_spectrum(wide, x, num_iterations=3000, tolerance=1e-12)
    exact = jacobian_spectrum(wide, x, method="exact")
    assert "power iteration" in auto.method
    np.testing.assert_allclose(auto.condition_number, exact.condition_number, rtol=1e-3)


def test_an_overflowing_jacobian_is_not_finite_and_infinitely_ill_conditioned():
    net = behrmann_toy(60, coupling="affine")  # the inverse stretches by 10^60 > float32 max
    z = net(torch.ones(2, 2))[0]
    spectrum = jacobian_spectrum(net, z, direction="inverse")
    assert np.all(np.isnan(spectrum.largest)) and np.all(np.isinf(spectrum.condition_number))
    record = spectrum.to_json()
    assert record["non_finite_fraction"] == 1.0 and record["condition_number"]["max"] is None
    json.dumps(record, allow_nan=False)


def test_the_network_comes_back_in_training_mode():
    net = random_network(seed=0).train()
    jacobian_spectrum(net, torch.randn(2, 3, dtype=torch.float64), method="power")
    assert net.training


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"direction": "backward"}, "direction must be 'forward' or 'inverse', got 'backward'"),
        ({"method": "lanczos"}, "method must be 'auto', 'exact' or 'power', got 'lanczos'"),
        ({"num_iterations": 0}, "num_iterations"),
        ({"tolerance": 0.0}, "tolerance must be a positive number, got 0.0"),
        ({"chunk_size": -1}, "chunk_size"),
    ],
)
def test_bad_settings_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        jacobian_spectrum(behrmann_toy(1), [[1.0, 1.0]], **kwargs)
