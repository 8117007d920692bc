"""The conditional maximum-likelihood objective and the conditional flow it trains."""

from __future__ import annotations

import math

import pytest
import torch

from sbinn.methods.cinn_loss import (
    ConditionalFlow,
    ConditionalMaximumLikelihood,
    standard_normal_log_prob,
)
from sbinn.nn import InvertibleNetwork
from sbinn.summary import DeepSet, MLPSummary


def random_flow(dim: int, cond_dim: int, seed: int = 0) -> InvertibleNetwork:
    torch.manual_seed(seed)
    flow = InvertibleNetwork.coupling_stack(dim, 3, cond_dim=cond_dim, hidden_features=16)
    for p in flow.parameters():
        torch.nn.init.normal_(p, std=0.3)
    return flow.double()


def test_the_loss_is_the_mean_negative_log_density_in_user_units():
    model = ConditionalFlow(random_flow(3, 2), torch.nn.Flatten(), dim_theta=3)
    theta, x = torch.randn(50, 3, dtype=torch.float64), torch.randn(50, 2, dtype=torch.float64)
    loss, terms = ConditionalMaximumLikelihood(model, log_det_offset=-1.5)((theta, x), progress=0)
    z, log_det = model.flow(theta, x)
    by_hand = -(standard_normal_log_prob(z) + log_det - 1.5).mean()
    assert loss.item() == pytest.approx(by_hand.item()) and terms == {"nll": loss.item()}


def test_the_conditioning_network_is_trained_through_the_loss():
    model = ConditionalFlow(random_flow(2, 4), MLPSummary(3, 4).double(), dim_theta=2)
    theta, x = torch.randn(20, 2, dtype=torch.float64), torch.randn(20, 3, dtype=torch.float64)
    loss, _ = ConditionalMaximumLikelihood(model)((theta, x), progress=0)
    loss.backward()
    assert all(
        p.grad is not None and p.grad.abs().sum() > 0 for p in model.conditioner.parameters()
    )


def test_padded_log_prob_is_exact_when_the_padding_stays_independent():
    # A flow that leaves the padding alone: q(theta, eps | c) = q(theta | c) N(eps).
    torch.manual_seed(0)
    flow = InvertibleNetwork.coupling_stack(2, 1, cond_dim=1, hidden_features=8).double()
    coupling, mixing = flow.blocks
    with torch.no_grad():
        mixing.weight.copy_(torch.eye(2, dtype=torch.float64))
        # subnet2 (theta -> padding) stays zero; subnet1 transforms theta reading c only.
        torch.nn.init.normal_(coupling.subnet1.layers[-1].weight, std=0.5)
        coupling.subnet1.layers[0].weight[:, 0] = 0.0
    model = ConditionalFlow(flow, torch.nn.Flatten(), dim_theta=1)
    theta, c = torch.randn(7, 1, dtype=torch.float64), torch.randn(7, 1, dtype=torch.float64)
    generator = torch.Generator().manual_seed(0)
    estimate = model.log_prob(theta, c, num_pad_draws=5, generator=generator)
    zero_pad = model.joint_log_prob(model.pad(theta, torch.zeros(7, 1, dtype=torch.float64)), c)
    exact = zero_pad + 0.5 * math.log(2 * math.pi)
    torch.testing.assert_close(estimate, exact)


def test_dequantisation_noise_is_uniform_of_the_given_width():
    seen = []
    model = ConditionalFlow(random_flow(2, 1), torch.nn.Flatten(), dim_theta=2)
    model.joint_log_prob = lambda theta, c: seen.append(theta) or theta.new_zeros(len(theta))
    width = torch.tensor([0.5, 0.0], dtype=torch.float64)
    objective = ConditionalMaximumLikelihood(model, dequantisation=width)
    theta = torch.zeros(4000, 2, dtype=torch.float64)
    objective((theta, torch.zeros(4000, 1, dtype=torch.float64)), progress=0)
    noise = seen[0]
    assert noise[:, 1].abs().max() == 0
    assert noise[:, 0].abs().max() <= 0.25 and noise[:, 0].std() == pytest.approx(
        0.5 / 12**0.5, rel=0.05
    )


def test_sets_are_summarised_alike_in_any_grouping():
    torch.manual_seed(0)
    model = ConditionalFlow(random_flow(2, 3), DeepSet(1, 3).double(), dim_theta=2, set_valued=True)
    sizes = torch.tensor([3, 200, 17, 5, 64])
    x = torch.randn(5, 200, 1, dtype=torch.float64)
    mask = torch.arange(200) < sizes[:, None]
    grouped = model.condition(x, mask)
    one_by_one = torch.cat([model.conditioner(x[i : i + 1, : sizes[i]]) for i in range(5)])
    torch.testing.assert_close(grouped, one_by_one)


def test_observation_noise_is_gaussian_of_the_given_std_and_off_by_default():
    seen = []
    model = ConditionalFlow(random_flow(2, 2), torch.nn.Flatten(), dim_theta=2)
    model.condition = lambda x: seen.append(x) or x
    theta, x = torch.zeros(4000, 2, dtype=torch.float64), torch.zeros(4000, 2, dtype=torch.float64)
    ConditionalMaximumLikelihood(model)((theta, x), progress=0)
    ConditionalMaximumLikelihood(model, observation_noise=0.1)((theta, x), progress=0)
    assert seen[0].abs().max() == 0
    assert seen[1].std() == pytest.approx(0.1, rel=0.05) and seen[1].mean().abs() < 0.01


def test_annealed_observation_noise_decays_geometrically_to_its_final_value():
    seen = []
    model = ConditionalFlow(random_flow(2, 2), torch.nn.Flatten(), dim_theta=2)
    model.condition = lambda x: seen.append(x) or x
    objective = ConditionalMaximumLikelihood(
        model, observation_noise=0.1, observation_noise_final=0.001
    )
    assert [objective.noise_at(p) for p in (0.0, 0.5, 1.0)] == pytest.approx([0.1, 0.01, 0.001])
    theta, x = torch.zeros(4000, 2, dtype=torch.float64), torch.zeros(4000, 2, dtype=torch.float64)
    objective((theta, x), progress=0.5)
    assert seen[0].std() == pytest.approx(0.01, rel=0.05)


def test_sampled_pieces_cover_every_observation_in_order():
    from sbinn.methods.cinn_loss import _pieces

    for num_obs, num_samples, chunk in [(5, 3, 7), (3, 10, 4), (4, 8, 8), (1, 1, 1)]:
        rows = []
        for first, runs, repeats in _pieces(num_obs, num_samples, chunk):
            assert runs * repeats <= chunk
            rows += [obs for obs in range(first, first + runs) for _ in range(repeats)]
        assert rows == [obs for obs in range(num_obs) for _ in range(num_samples)]


def test_sampling_finishes_each_chunk_into_the_requested_dtype():
    model = ConditionalFlow(random_flow(3, 2).float(), torch.nn.Flatten(), dim_theta=3)
    c = torch.randn(5, 2)

    def draw(**options):
        with torch.inference_mode():
            generator = torch.Generator().manual_seed(0)
            return model.sample(c, 7, generator=generator, chunk=4, **options)

    plain = draw()
    finished = draw(finish=lambda theta: 2 * theta.double() + 1, dtype=torch.float64)
    assert plain.dtype == torch.float32 and finished.dtype == torch.float64
    assert finished.shape == plain.shape == (35, 3)
    torch.testing.assert_close(finished, 2 * plain.double() + 1)
