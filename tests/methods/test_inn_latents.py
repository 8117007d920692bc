"""Latent distributions of the bidirectional INN: normal, Student-t and the Gaussian mixture."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sbinn.methods.inn_latent_mixture import GaussianMixtureLatent, mixture_means
from sbinn.methods.inn_latents import StandardNormalLatent, StudentTLatent
from tests.methods.latent_support import LATENTS, mixture, seeded

# ---------------------------------------------------------------- shapes and seeds


@pytest.mark.parametrize("kind", LATENTS)
@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(1, 6),
    num=st.integers(1, 5),
    dim_y=st.integers(1, 4),
    dim_z=st.integers(1, 4),
)
def test_every_latent_has_the_documented_shapes(kind, n, num, dim_y, dim_z):
    latent = LATENTS[kind](dim_y, dim_z)
    y = torch.randn(n, dim_y)
    z = latent.sample(y, num, generator=seeded(0))
    assert z.shape == (n, num, dim_z) and torch.isfinite(z).all()
    reference = latent.reference(y, generator=seeded(0))
    assert reference.shape == (n, dim_y + dim_z)
    assert torch.equal(reference[:, :dim_y], y)
    log_p = latent.log_prob(z[:, 0], y)
    assert log_p.shape == (n,) and torch.isfinite(log_p).all()


@pytest.mark.parametrize("kind", LATENTS)
def test_samples_repeat_with_the_seed_and_change_with_it(kind):
    latent = LATENTS[kind](3, 2)
    y = torch.randn(7, 3)
    first = latent.sample(y, 4, generator=seeded(5))
    assert torch.equal(first, latent.sample(y, 4, generator=seeded(5)))
    assert not torch.allclose(first, latent.sample(y, 4, generator=seeded(6)))
    torch.manual_seed(1)
    global_first = latent.sample(y, 4)
    torch.manual_seed(1)
    assert torch.equal(global_first, latent.sample(y, 4))


@pytest.mark.parametrize("kind", ["normal", "student_t"])
def test_latents_without_a_discrete_part_ignore_hard(kind):
    latent, y = LATENTS[kind](1, 2), torch.zeros(3, 1)
    soft = latent.sample(y, 4, generator=seeded(0))
    assert torch.equal(soft, latent.sample(y, 4, generator=seeded(0), hard=True))


def test_hard_mixture_samples_repeat_with_the_seed():
    latent = mixture()
    y = torch.zeros(3, 2)
    first = latent.sample(y, 6, generator=seeded(2), hard=True)
    assert torch.equal(first, latent.sample(y, 6, generator=seeded(2), hard=True))


def test_the_standard_normal_latent_draws_the_stream_the_inn_draws_today():
    # inn.py draws torch.randn(rows, dim_z) from the generator; the latent must draw the same
    # numbers so that switching to it leaves every seeded result unchanged.
    z = StandardNormalLatent(2, 3).sample(torch.zeros(5, 2), 4, generator=seeded(9))
    assert torch.equal(z.reshape(20, 3), torch.randn(20, 3, generator=seeded(9)))


# ---------------------------------------------------------------- densities


@settings(max_examples=20, deadline=None)
@given(
    r=st.integers(1, 4),
    dim_z=st.integers(1, 3),
    std=st.floats(0.1, 2.0),
    seed=st.integers(0, 1000),
)
def test_mixture_log_prob_equals_torch_distributions(r, dim_z, std, seed):
    torch.manual_seed(seed)
    means = torch.randn(r, dim_z, dtype=torch.float64)
    latent = GaussianMixtureLatent(2, dim_z, means=means, std=std).double()
    torch.nn.init.normal_(latent.weight_network[-1].weight)
    y, z = torch.randn(10, 2, dtype=torch.float64), 2 * torch.randn(10, dim_z, dtype=torch.float64)
    reference = torch.distributions.MixtureSameFamily(
        torch.distributions.Categorical(probs=latent.weights(y)),
        torch.distributions.Independent(
            torch.distributions.Normal(means.expand(10, r, dim_z), std), 1
        ),
    )
    assert torch.allclose(latent.log_prob(z, y), reference.log_prob(z), atol=1e-10)


def test_mixture_density_integrates_to_one():
    latent = mixture(shares=(0.2, 0.3, 0.5), means=mixture_means(3, 2, spread=1.5), std=0.5)
    latent = latent.double()
    grid = torch.linspace(-6, 6, 601, dtype=torch.float64)
    z = torch.cartesian_prod(grid, grid)
    density = latent.log_prob(z, torch.zeros(len(z), 2, dtype=torch.float64)).detach().exp()
    assert float(density.sum() * (grid[1] - grid[0]) ** 2) == pytest.approx(1.0, abs=1e-4)


def test_standard_normal_log_prob_equals_torch_distributions():
    z = torch.randn(10, 3)
    expected = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(dim=1)
    assert torch.allclose(StandardNormalLatent(1, 3).log_prob(z, torch.zeros(10, 1)), expected)


@pytest.mark.parametrize("nu", [1.0, 2.5, 30.0])
def test_student_t_log_prob_equals_torch_and_scipy(nu):
    latent = StudentTLatent(1, 2, degrees_of_freedom=nu, scale=1.5).double()
    z = 4 * torch.randn(50, 2, dtype=torch.float64)
    got = latent.log_prob(z, torch.zeros(50, 1, dtype=torch.float64))
    expected = torch.distributions.StudentT(nu, scale=1.5).log_prob(z).sum(dim=1)
    assert torch.allclose(got, expected, atol=1e-10)
    by_scipy = stats.t(nu, scale=1.5).logpdf(z.numpy()).sum(axis=1)
    np.testing.assert_allclose(got.numpy(), by_scipy, atol=1e-10)


@pytest.mark.parametrize("nu", [1.0, 3.0, 30.0])
def test_student_t_samples_follow_scipy(nu):
    # 40 000 coordinates: a KS p-value below 1e-3 would flag a wrong sampler; the same
    # test rejects a scale 5% off, so it has power at this sample size.
    latent = StudentTLatent(1, 4, degrees_of_freedom=nu, scale=1.5)
    z = latent.sample(torch.zeros(1000, 1), 10, generator=seeded(0)).flatten().double().numpy()
    assert stats.kstest(z, stats.t(nu, scale=1.5).cdf).pvalue > 1e-3
    assert stats.kstest(z, stats.t(nu, scale=1.05 * 1.5).cdf).pvalue < 1e-3


def test_student_t_samples_scale_differentiably():
    latent = StudentTLatent(1, 2, scale=2.0)
    assert torch.equal(
        latent.sample(torch.zeros(3, 1), 2, generator=seeded(1)),
        2.0 * StudentTLatent(1, 2).sample(torch.zeros(3, 1), 2, generator=seeded(1)),
    )


def test_sparsity_penalty_is_one_for_one_hot_and_r_for_uniform_weights():
    assert mixture(shares=(1 - 1e-12, 1e-12)).sparsity(torch.zeros(4, 2)).item() == (
        pytest.approx(1.0, abs=1e-5)
    )
    assert mixture(shares=(1 / 3, 1 / 3, 1 / 3)).sparsity(torch.zeros(4, 2)).item() == (
        pytest.approx(3.0)
    )


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: StandardNormalLatent(0, 2), ValueError, "dim_y must be a positive integer, got 0"),
        (
            lambda: StandardNormalLatent(2, -1),
            ValueError,
            "dim_z must be a positive integer, got -1",
        ),
        (
            lambda: StudentTLatent(2, 1.5),
            TypeError,
            "dim_z must be a positive integer, got float 1.5",
        ),
        (
            lambda: StudentTLatent(1, 1, degrees_of_freedom=0),
            ValueError,
            "degrees_of_freedom must be a finite number > 0, got 0",
        ),
        (
            lambda: StudentTLatent(1, 1, scale=float("inf")),
            ValueError,
            "scale must be a finite number > 0, got inf",
        ),
        (
            lambda: mixture(temperature=0.0),
            ValueError,
            "temperature must be a finite number > 0, got 0",
        ),
        (
            lambda: mixture(temperature=-0.1),
            ValueError,
            "temperature must be a finite number > 0, got -0.1",
        ),
        (
            lambda: mixture(temperature=float("nan")),
            ValueError,
            "temperature must be a finite number > 0, got nan",
        ),
        (
            lambda: mixture(temperature="0.1"),
            TypeError,
            "temperature must be a finite number > 0, got str '0.1'",
        ),
        (
            lambda: mixture(temperature=True),
            TypeError,
            "temperature must be a finite number > 0, got bool True",
        ),
        (
            lambda: mixture(temperature=0.1, final_temperature=0.2),
            ValueError,
            r"final_temperature must lie in \(0, temperature\] = \(0, 0.1\], got 0.2",
        ),
        (lambda: mixture(std=0), ValueError, "std must be a finite number > 0, got 0"),
        (
            lambda: GaussianMixtureLatent(1, 3, means=mixture_means(2, 2)),
            ValueError,
            r"means must have shape \(num_components, dim_z=3\), got \(2, 2\)",
        ),
        (
            lambda: GaussianMixtureLatent(1, 2, means=torch.tensor([[0.0, float("nan")]])),
            ValueError,
            "means must be finite, got NaN or inf",
        ),
        (
            lambda: GaussianMixtureLatent(1, 2, means=mixture_means(2, 2), num_hidden_layers=-1),
            ValueError,
            "num_hidden_layers must be a non-negative integer, got -1",
        ),
        (
            lambda: mixture_means(5, 2),
            ValueError,
            r"'axes' fits at most 2 \* dim_z = 4 components in dim_z=2, got num_components=5",
        ),
        (
            lambda: mixture_means(5, 2, "corners"),
            ValueError,
            r"fits at most 2 \*\* dim_z = 4 components in dim_z=2, got num_components=5",
        ),
        (
            lambda: mixture_means(2, 2, "circle"),
            ValueError,
            "placement must be one of 'axes', 'corners'; got 'circle'",
        ),
    ],
)
def test_construction_errors_say_what_was_expected_and_given(make, error, message):
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize("kind", LATENTS)
@pytest.mark.parametrize(
    ("y", "error", "message"),
    [
        (torch.zeros(4, 2), ValueError, r"y must have shape \(n, dim_y=3\), got \(4, 2\)"),
        (torch.zeros(3), ValueError, r"y must have shape \(n, dim_y=3\), got \(3,\)"),
        (
            torch.tensor([[0.0, 0.0, 0.0], [0.0, float("nan"), 0.0]]),
            ValueError,
            r"y must be finite, got NaN or inf in 1 row\(s\), first at row 1",
        ),
        (torch.tensor([[0.0, float("inf"), 0.0]]), ValueError, "y must be finite"),
        (
            torch.zeros(2, 3, dtype=torch.long),
            TypeError,
            "y must be a floating-point tensor, got torch.int64",
        ),
        (np.zeros((2, 3)), TypeError, "y must be a torch.Tensor, got ndarray"),
    ],
)
def test_bad_observations_are_refused_by_every_method(kind, y, error, message):
    latent = LATENTS[kind](3, 2)
    for call in (
        lambda: latent.sample(y, 2),
        lambda: latent.reference(y),
        lambda: latent.log_prob(torch.zeros(len(y), 2), y),
    ):
        with pytest.raises(error, match=type(latent).__name__ + ": " + message):
            call()


@pytest.mark.parametrize("kind", LATENTS)
def test_bad_sample_counts_and_latents_are_refused(kind):
    latent = LATENTS[kind](1, 2)
    y = torch.zeros(4, 1)
    with pytest.raises(ValueError, match="num must be a positive integer, got 0"):
        latent.sample(y, 0)
    with pytest.raises(
        ValueError, match=r"z must have shape \(n=4, dim_z=2\) to match y, got \(4, 3\)"
    ):
        latent.log_prob(torch.zeros(4, 3), y)
    with pytest.raises(
        ValueError, match=r"z must have shape \(n=4, dim_z=2\) to match y, got \(3, 2\)"
    ):
        latent.log_prob(torch.zeros(3, 2), y)


def test_mixture_runtime_settings_are_checked():
    latent = mixture()
    with pytest.raises(ValueError, match="temperature must be a finite number > 0, got 0"):
        latent.temperature = 0
    with pytest.raises(ValueError, match="temperature must be a finite number > 0, got -1"):
        latent.relaxed_one_hot(torch.zeros(1, 2), temperature=-1)
    with pytest.raises(ValueError, match=r"progress must lie in \[0, 1\], got 1.5"):
        latent.anneal(1.5)
    assert latent.temperature == 0.1  # a refused setting leaves the old one
