"""The Gaussian-mixture latent: Gumbel-softmax sampling, gradients and the weight network."""

from __future__ import annotations

import math

import pytest
import torch
from scipy import stats

from sbinn.methods.inn_latent_mixture import GaussianMixtureLatent, gumbel_noise, mixture_means
from sbinn.mmd import InverseMultiquadratic, mmd2
from tests.methods.latent_support import mixture, seeded

# ---------------------------------------------------------------- Gumbel-softmax


def test_gumbel_softmax_indicators_approach_one_hot_as_temperature_falls():
    latent = mixture(shares=(0.3, 0.7))
    y = torch.zeros(1, 2)
    gap = {}
    for t in (1.0, 0.1, 0.01):
        s = latent.relaxed_one_hot(y, 5000, temperature=t, generator=seeded(0))[0]
        assert torch.allclose(s.sum(dim=1), torch.ones(5000))
        gap[t] = float((1 - s.detach().max(dim=1).values).mean())
    assert gap[1.0] > gap[0.1] > gap[0.01]
    # Mean distance from the nearest corner: 0.13 at t=1 would fail the last bound.
    assert gap[1.0] > 0.1 and gap[0.01] < 0.01


def test_relaxed_components_are_drawn_with_the_mixture_weights():
    # The arg max of the relaxed indicator is exactly Categorical(p) at any temperature.
    # 40 000 draws: the share's standard error is <= 0.0025; tolerance 0.012 (~5 sigma).
    shares = torch.tensor([0.1, 0.3, 0.6])
    latent = mixture(shares=tuple(shares.tolist()))
    s = latent.relaxed_one_hot(torch.zeros(1, 2), 40_000, temperature=0.1, generator=seeded(3))
    counts = torch.bincount(s[0].argmax(dim=1), minlength=3) / 40_000
    assert torch.allclose(counts, shares, atol=0.012)


@pytest.mark.parametrize("hard", [False, True])
def test_latent_samples_fall_into_components_with_the_mixture_weights(hard):
    # Means 10 apart with std 0.3: assigning a sample to its nearest mean recovers its
    # component. An affine weight network with logits (2y, 0, -2y): weights 1/3 each at
    # y = 0 and (0.87, 0.12, 0.02) at y = 1. Tolerance as above.
    latent = GaussianMixtureLatent(
        1, 2, means=mixture_means(3, 2, spread=5.0), std=0.3, temperature=0.05, num_hidden_layers=0
    )
    with torch.no_grad():
        latent.weight_network[-1].weight.copy_(torch.tensor([[2.0], [0.0], [-2.0]]))
    y = torch.tensor([[0.0], [1.0]])
    z = latent.sample(y, 40_000, generator=seeded(4), hard=hard)
    nearest = torch.cdist(z, latent.means.expand(2, 3, 2)).argmin(dim=2)
    shares = torch.stack([torch.bincount(row, minlength=3) / 40_000 for row in nearest])
    assert torch.allclose(shares, latent.weights(y).detach(), atol=0.012)


def test_gumbel_noise_matches_the_gumbel_distribution():
    g = gumbel_noise((20_000,), torch.zeros(()), seeded(0)).numpy()
    assert stats.kstest(g, stats.gumbel_r.cdf).pvalue > 1e-3
    assert stats.kstest(g, stats.norm.cdf).pvalue < 1e-6  # the check has power


def test_temperature_anneals_geometrically_and_is_settable():
    latent = mixture(temperature=0.1, final_temperature=0.01)
    latent.anneal(0.0)
    assert latent.temperature == pytest.approx(0.1)
    latent.anneal(0.5)
    assert latent.temperature == pytest.approx(math.sqrt(0.1 * 0.01))
    latent.anneal(1.0)
    assert latent.temperature == pytest.approx(0.01)
    constant = mixture(temperature=0.2)
    constant.anneal(0.9)
    assert constant.temperature == 0.2
    constant.temperature = 0.05
    assert constant.temperature == 0.05


# ---------------------------------------------------------------- gradients


def test_relaxed_samples_carry_gradients_to_the_weight_network_and_learned_means():
    latent = mixture(dim_y=3, shares=(0.2, 0.8), learn_means=True, means=mixture_means(2, 2))
    y = torch.randn(64, 3)
    latent.sample(y, 8, generator=seeded(0))[..., 0].sum().backward()
    assert latent.means.grad is not None and latent.means.grad.abs().sum() > 0
    last = latent.weight_network[-1]
    assert last.weight.grad.abs().sum() > 0 and last.bias.grad.abs().sum() > 0


def test_the_whole_weight_network_trains_once_its_output_layer_is_nonzero():
    latent = GaussianMixtureLatent(3, 2, means=mixture_means(2, 2))
    torch.nn.init.normal_(latent.weight_network[-1].weight)
    latent.reference(torch.randn(64, 3), generator=seeded(0))[:, 3].sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in latent.parameters())


def test_fixed_means_are_a_buffer_and_hard_samples_skip_the_weight_network():
    latent = mixture(shares=(0.5, 0.5), means=mixture_means(2, 2))
    assert "means" in dict(latent.named_buffers())
    assert all(name.startswith("weight_network") for name, _ in latent.named_parameters())
    z = latent.sample(torch.randn(16, 2), 4, generator=seeded(0), hard=True)
    assert not z.requires_grad


def test_a_trained_mixture_survives_a_state_dict_round_trip():
    latent = GaussianMixtureLatent(2, 2, means=mixture_means(2, 2), learn_means=True)
    torch.nn.init.normal_(latent.weight_network[-1].weight)
    with torch.no_grad():
        latent.means.add_(1.0)
    fresh = GaussianMixtureLatent(2, 2, means=mixture_means(2, 2), learn_means=True)
    fresh.load_state_dict(latent.state_dict())
    y = torch.randn(5, 2)
    assert torch.equal(fresh.weights(y), latent.weights(y))
    assert torch.equal(fresh.means, latent.means)


# ---------------------------------------------------------------- the toy demonstration


def test_the_weight_network_recovers_known_mode_shares_through_the_latent_mmd():
    # Three labels (one-hot y) whose latents come from the two-component mixture with known
    # shares. Only the weight network is trained, through the L_z-style MMD between data
    # [y, z] and the mixture's reference [y, z] (Gumbel-softmax draws, t annealed 0.1 ->
    # 0.03), as in the INN loss. Each batch holds every label with exact component counts.
    # Over torch seeds 0-7 (data seeds 1-8) the largest error was 0.029; ~3 s of CPU.
    shares = torch.tensor([[0.5, 0.5], [0.2, 0.8], [0.9, 0.1]])
    means = mixture_means(2, 2)
    torch.manual_seed(0)
    latent = GaussianMixtureLatent(3, 2, means=means, std=0.3, final_temperature=0.03)
    labels = torch.eye(3)
    assert (latent.weights(labels) - shares).abs().max() > 0.3  # untrained: equal weights
    steps, per_label = 300, 120
    optimizer = torch.optim.Adam(latent.parameters(), lr=0.05)
    schedule = torch.optim.lr_scheduler.ExponentialLR(optimizer, (0.002 / 0.05) ** (1 / steps))
    kernel, g = InverseMultiquadratic(scales=(0.5,)), seeded(1)
    y = labels.repeat_interleave(per_label, dim=0)
    component = torch.cat(
        [torch.arange(per_label) >= round(float(p) * per_label) for p in shares[:, 0]]
    )
    for step in range(steps):
        z = means[component.long()] + 0.3 * torch.randn(len(y), 2, generator=g)
        latent.anneal(step / steps)
        loss = mmd2(torch.cat([y, z], dim=1), latent.reference(y, generator=g), kernel)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
    assert (latent.weights(labels) - shares).abs().max() < 0.05
