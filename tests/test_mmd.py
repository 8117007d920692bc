"""MMD kernels and estimators: statistical behaviour, a slow reference, gradients and distances.

The statistical tests use fixed seeds and compare against several standard errors, so
they are deterministic and fail only when an estimator or kernel is wrong (a biased
"unbiased" estimator, a kernel blind to shifts, a wrong sign).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sbinn.mmd import (
    ExponentialDistance,
    Gaussian,
    InverseMultiquadratic,
    Kernel,
    PowerDistance,
    mmd2,
    squared_distances,
)
from tests.mmd_support import KERNELS, ids, kinds


def reference_kernel(kernel: Kernel, a: np.ndarray, b: np.ndarray) -> float:
    r = math.sqrt(sum((ai - bi) ** 2 for ai, bi in zip(a, b, strict=True)))
    if isinstance(kernel, InverseMultiquadratic):
        return sum(h**2 / (h**2 + r**2) for h in kernel.scales)
    if isinstance(kernel, Gaussian):
        return sum(math.exp(-(r**2) / (2 * h**2)) for h in kernel.scales)
    if isinstance(kernel, ExponentialDistance):
        return math.exp(-r / kernel.scale)
    if isinstance(kernel, PowerDistance):
        return -(r**kernel.power)
    raise AssertionError(kernel)


def reference_gram(kernel: Kernel, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    gram = np.empty((len(a), len(b)))
    for i in range(len(a)):
        for j in range(len(b)):
            gram[i, j] = reference_kernel(kernel, a[i], b[j])
    return gram


def reference_mmd2(kernel: Kernel, x: np.ndarray, y: np.ndarray, unbiased: bool) -> float:
    def within(a: np.ndarray) -> float:
        total, count = 0.0, 0
        for i in range(len(a)):
            for j in range(len(a)):
                if unbiased and i == j:
                    continue
                total += reference_kernel(kernel, a[i], a[j])
                count += 1
        return total / count

    return within(x) + within(y) - 2 * reference_gram(kernel, x, y).mean()


def tiny_case() -> tuple[np.ndarray, np.ndarray]:
    """Small samples with a duplicate within x and a point shared by x and y."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(6, 3))
    y = rng.normal(size=(5, 3)) + 0.5
    x[4] = x[1]
    y[0] = x[2]
    return x, y


@ids
@pytest.mark.parametrize("unbiased", [False, True])
def test_matches_double_loop_reference(kernel: Kernel, unbiased: bool) -> None:
    x, y = tiny_case()
    expected = reference_mmd2(kernel, x, y, unbiased)
    got = mmd2(torch.from_numpy(x), torch.from_numpy(y), kernel, unbiased=unbiased)
    assert got.dtype == torch.float64 and got.shape == ()
    assert float(got) == pytest.approx(expected, rel=1e-10, abs=1e-12)


@ids
def test_gram_matches_double_loop_reference(kernel: Kernel) -> None:
    x, y = tiny_case()
    for a, b in ((x, y), (x, x), (y, x)):
        gram = kernel(torch.from_numpy(a), torch.from_numpy(b))
        np.testing.assert_allclose(gram.numpy(), reference_gram(kernel, a, b), rtol=1e-10)


@kinds
def test_unbiased_averages_to_zero_for_equal_distributions_biased_does_not(
    kernel: Kernel,
) -> None:
    generator = torch.Generator().manual_seed(0)
    repetitions, n, dim = 200, 30, 2
    samples = torch.randn(repetitions, 2, n, dim, generator=generator, dtype=torch.float64)
    unbiased = torch.stack([mmd2(x, y, kernel, unbiased=True) for x, y in samples])
    biased = torch.stack([mmd2(x, y, kernel) for x, y in samples])

    unbiased_se = unbiased.std() / math.sqrt(repetitions)
    assert abs(float(unbiased.mean())) < 4 * float(unbiased_se)
    assert bool((unbiased < 0).any()), "an unbiased estimate must scatter on both sides of 0"
    biased_se = biased.std() / math.sqrt(repetitions)
    assert float(biased.mean()) > 4 * float(biased_se)
    assert bool((biased >= 0).all())


@ids
@pytest.mark.parametrize("unbiased", [False, True])
def test_grows_monotonically_with_mean_shift(kernel: Kernel, unbiased: bool) -> None:
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(100, 3, generator=generator, dtype=torch.float64)
    y = torch.randn(100, 3, generator=generator, dtype=torch.float64)
    direction = torch.tensor([1.0, -1.0, 0.5], dtype=torch.float64)
    shifts = [0.0, 0.3, 0.6, 1.0, 2.0, 4.0]
    values = [float(mmd2(x, y + s * direction, kernel, unbiased=unbiased)) for s in shifts]
    assert np.all(np.diff(values) > 0), values


@ids
@pytest.mark.parametrize("unbiased", [False, True])
def test_symmetric(kernel: Kernel, unbiased: bool) -> None:
    generator = torch.Generator().manual_seed(2)
    x = torch.randn(40, 4, generator=generator, dtype=torch.float64)
    y = 1.5 * torch.randn(25, 4, generator=generator, dtype=torch.float64) + 0.3
    forward = mmd2(x, y, kernel, unbiased=unbiased)
    backward = mmd2(y, x, kernel, unbiased=unbiased)
    assert float(forward) == pytest.approx(float(backward), rel=1e-12, abs=1e-14)


@ids
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_biased_mmd_of_a_set_with_itself_is_zero(kernel: Kernel, dtype: torch.dtype) -> None:
    x = torch.randn(50, 3, generator=torch.Generator().manual_seed(4), dtype=dtype)
    assert float(mmd2(x, x, kernel)) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(
    "kernel",
    [InverseMultiquadratic(scales=(0.2, 1.0)), InverseMultiquadratic(scales=1.0), Gaussian()],
    ids=repr,
)
def test_detects_a_change_of_variance(kernel: Kernel) -> None:
    generator = torch.Generator().manual_seed(5)

    def sample() -> torch.Tensor:
        return torch.randn(120, 2, generator=generator, dtype=torch.float64)

    null = torch.stack([mmd2(sample(), sample(), kernel, unbiased=True) for _ in range(30)])
    wider = mmd2(sample(), 2.0 * sample(), kernel, unbiased=True)
    assert float(wider) > float(null.mean() + 6 * null.std())


@ids
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("unbiased", [False, True])
def test_gradients_finite_with_shared_and_duplicate_points(
    kernel: Kernel, dtype: torch.dtype, unbiased: bool
) -> None:
    generator = torch.Generator().manual_seed(6)
    base = torch.randn(40, 3, generator=generator, dtype=dtype)
    base[7] = base[3]
    cases = [
        (base, base.clone()),
        (base, torch.cat([base[:15], torch.randn(10, 3, generator=generator, dtype=dtype)])),
    ]
    for x, y in cases:
        x = x.clone().requires_grad_(True)
        y = y.clone().requires_grad_(True)
        grad_x, grad_y = torch.autograd.grad(mmd2(x, y, kernel, unbiased=unbiased), (x, y))
        assert bool(torch.isfinite(grad_x).all()) and bool(torch.isfinite(grad_y).all())


@ids
def test_kernel_of_zero_distance_has_finite_gradient(kernel: Kernel) -> None:
    sq = torch.tensor([0.0, 1e-30, 1.0, 4.0], dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(kernel.from_squared_distances(sq).sum(), sq)
    assert bool(torch.isfinite(grad).all())
    if isinstance(kernel, ExponentialDistance | PowerDistance):
        assert float(grad[0]) == 0.0, "the r and r^β kernels take the zero subgradient at r = 0"


@ids
def test_float32_gradients_agree_with_float64_despite_coincident_points(kernel: Kernel) -> None:
    """Rounding noise at zero distance would be amplified by the r and r^β kernels' slopes."""
    generator = torch.Generator().manual_seed(7)
    x = 3.0 * torch.randn(60, 5, generator=generator, dtype=torch.float64) + 10.0
    y = torch.cat([x[:20], torch.randn(30, 5, generator=generator, dtype=torch.float64) + 9.0])

    def gradients(dtype: torch.dtype) -> torch.Tensor:
        xs = x.to(dtype).requires_grad_(True)
        ys = y.to(dtype).requires_grad_(True)
        return torch.cat(torch.autograd.grad(mmd2(xs, ys, kernel), (xs, ys)))

    single, double = gradients(torch.float32), gradients(torch.float64)
    error = torch.linalg.norm(single.double() - double) / torch.linalg.norm(double)
    assert float(error) < 1e-3


@kinds
@pytest.mark.parametrize("unbiased", [False, True])
def test_gradients_match_finite_differences(kernel: Kernel, unbiased: bool) -> None:
    generator = torch.Generator().manual_seed(8)
    x = torch.randn(5, 2, generator=generator, dtype=torch.float64, requires_grad=True)
    y = torch.randn(4, 2, generator=generator, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda a, b: mmd2(a, b, kernel, unbiased=unbiased), (x, y), fast_mode=True
    )


@ids
def test_float32_and_float64_agree_and_keep_their_dtype(kernel: Kernel) -> None:
    generator = torch.Generator().manual_seed(9)
    x = torch.randn(100, 4, generator=generator, dtype=torch.float64)
    y = torch.randn(80, 4, generator=generator, dtype=torch.float64) + 0.5
    results = {
        dtype: mmd2(x.to(dtype), y.to(dtype), kernel) for dtype in (torch.float32, torch.float64)
    }
    for dtype, value in results.items():
        assert value.dtype == dtype
    assert float(results[torch.float32]) == pytest.approx(float(results[torch.float64]), rel=1e-4)


def test_accepts_any_gram_callable() -> None:
    x = torch.randn(20, 2, generator=torch.Generator().manual_seed(10))
    kernel = Gaussian(scales=0.7)
    assert float(mmd2(x, x + 1, lambda a, b: kernel(a, b))) == pytest.approx(
        float(mmd2(x, x + 1, kernel))
    )


@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    n=st.integers(1, 6),
    m=st.integers(1, 6),
    dim=st.integers(1, 3),
)
def test_biased_estimate_is_nonnegative_and_symmetric(data, n: int, m: int, dim: int) -> None:
    # Points on a grid: exact duplicates are likely, near-duplicates impossible.
    grid = st.integers(-12, 12).map(lambda v: v / 4)
    x = torch.from_numpy(data.draw(hnp.arrays(np.float64, (n, dim), elements=grid)))
    y = torch.from_numpy(data.draw(hnp.arrays(np.float64, (m, dim), elements=grid)))
    for kernel in KERNELS:
        value = float(mmd2(x, y, kernel))
        assert value >= -1e-12
        assert value == pytest.approx(float(mmd2(y, x, kernel)), abs=1e-12)


def test_squared_distances_are_exact_zero_for_coincident_points_and_never_negative() -> None:
    x = 1e3 + torch.randn(100, 10, generator=torch.Generator().manual_seed(11))
    sq = squared_distances(x, x)
    assert bool((sq.diagonal() == 0).all())
    assert bool((sq >= 0).all())
    exact = ((x[:, None, :].double() - x[None, :, :].double()) ** 2).sum(-1)
    torch.testing.assert_close(sq.double(), exact, rtol=1e-4, atol=0.0)


@ids
def test_float32_mmd_stays_nonnegative_when_a_few_samples_are_far_outliers(kernel: Kernel) -> None:
    # A diverging generator once produced batches like this: the bulk near 0 and a quarter of
    # the samples out at 1e4..1e6. Centring on the mean then made the float32 MMD -2.5,
    # a reward the optimiser chased.
    rng = torch.Generator().manual_seed(12)
    y = torch.randn(500, 4, generator=rng)
    x = torch.randn(500, 4, generator=rng)
    x[:125] *= 10 ** (4 + 2 * torch.rand(125, 1, generator=rng))
    biased32 = float(mmd2(x, y, kernel))
    biased64 = float(mmd2(x.double(), y.double(), kernel))
    assert biased32 >= -1e-6
    assert biased32 == pytest.approx(biased64, rel=1e-3, abs=1e-5)


def test_squared_distances_of_the_bulk_stay_accurate_next_to_huge_outliers() -> None:
    rng = torch.Generator().manual_seed(13)
    x = torch.randn(200, 3, generator=rng)
    x[:20] *= 1e6
    sq = squared_distances(x, x)
    exact = ((x[:, None, :].double() - x[None, :, :].double()) ** 2).sum(-1)
    torch.testing.assert_close(sq[20:, 20:].double(), exact[20:, 20:], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(sq.double(), exact, rtol=1e-4, atol=1e-5)
