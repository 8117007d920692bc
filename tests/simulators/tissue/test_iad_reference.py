import itertools

import numpy as np
import pytest

from simulators.tissue.adding_doubling import slab_rt
from simulators.tissue.iad_reference import stack_rt

# Three tissue-like layers (thin and absorbing over thick and scattering, and the reverse).
STACKS = [
    ([2.0, 8.0, 0.5], [150.0, 90.0, 300.0], [0.9, 0.85, 0.95], [0.01, 0.05, 0.3]),
    ([0.5, 8.0, 2.0], [300.0, 90.0, 150.0], [0.95, 0.85, 0.9], [0.3, 0.05, 0.01]),
    ([25.0, 0.2, 3.0], [40.0, 120.0, 60.0], [0.7, 0.0, 0.8], [0.02, 0.02, 0.1]),
]


def test_one_layer_is_iadpythons_own_slab():
    iad = pytest.importorskip("iadpython")
    mu_a, mu_s, g, n, d = 10.0, 50.0, 0.5, 1.33, 0.02
    sample = iad.Sample(
        a=mu_s / (mu_a + mu_s), b=(mu_a + mu_s) * d, g=g, n=n, n_above=1, n_below=1, quad_pts=16
    )
    expected = sample.rt()[:2]
    np.testing.assert_allclose(stack_rt([mu_a], [mu_s], [g], n, [d]), expected, rtol=1e-12)


@pytest.mark.parametrize(("stack", "n"), itertools.product(STACKS, [1.0, 1.4]))
def test_stacks_of_different_layers_agree_with_the_tissue_solver(stack, n):
    """Acceptance (issue 6): stacked layers within 1e-3 of iadpython."""
    pytest.importorskip("iadpython")
    mu_a, mu_s, g, d = stack
    reflectance, transmittance = stack_rt(mu_a, mu_s, g, n, d)
    ours = slab_rt(mu_a, mu_s, g, [n] * 3, d)
    assert abs(float(ours.reflectance + ours.specular) - reflectance) < 1e-3
    assert abs(float(ours.transmittance) - transmittance) < 1e-3


def test_the_stack_is_seen_from_its_top():
    """Reversing the layers changes what comes back: the stack is not symmetrised (the second
    stack of :data:`STACKS` is the first reversed, and both agree with the tissue solver)."""
    pytest.importorskip("iadpython")
    mu_a, mu_s, g, d = STACKS[0]
    forward = stack_rt(mu_a, mu_s, g, 1.4, d)
    backward = stack_rt(mu_a[::-1], mu_s[::-1], g[::-1], 1.4, d[::-1])
    assert abs(forward[0] - backward[0]) > 0.1


def test_layers_of_unequal_counts_are_rejected():
    with pytest.raises(ValueError, match=r"equally long .*got shapes \[\(2,\), \(1,\)"):
        stack_rt([1.0, 2.0], [100.0], [0.9, 0.9], 1.4, [0.1, 0.1])
