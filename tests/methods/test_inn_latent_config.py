"""LatentConfig: building latents, JSON round trips and errors."""

from __future__ import annotations

import json

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sbinn.methods.inn_latent_config import LatentConfig
from sbinn.methods.inn_latents import StandardNormalLatent, StudentTLatent

# ---------------------------------------------------------------- configuration


def test_the_default_config_is_the_standard_normal_latent():
    latent = LatentConfig().build(dim_y=2, dim_z=3)
    assert type(latent) is StandardNormalLatent and latent.dim_z == 3


def test_configs_build_their_latents_with_the_given_settings():
    t = LatentConfig(kind="student_t", degrees_of_freedom=3, scale=0.5).build(1, 2)
    assert isinstance(t, StudentTLatent) and (t.degrees_of_freedom, t.scale) == (3.0, 0.5)
    gmm = LatentConfig(
        kind="gaussian_mixture",
        num_components=4,
        placement="corners",
        spread=4.0,
        std=1.0,
        learn_means=True,
        temperature=0.2,
        final_temperature=0.05,
        num_hidden_layers=0,
    ).build(4, 2)
    assert torch.equal(gmm.means.detach().abs(), torch.full((4, 2), 4.0))
    assert isinstance(gmm.means, torch.nn.Parameter)
    assert (gmm.std, gmm.temperature, gmm.final_temperature) == (1.0, 0.2, 0.05)
    assert len(gmm.weight_network) == 1  # affine
    explicit = LatentConfig(kind="gaussian_mixture", means=[[0, 1], [2, 3], [4, 5]]).build(1, 2)
    assert explicit.num_components == 3
    assert torch.equal(explicit.means, torch.tensor([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]))


configs = st.one_of(
    st.just(LatentConfig()),
    st.builds(
        LatentConfig,
        kind=st.just("student_t"),
        degrees_of_freedom=st.floats(0.1, 100),
        scale=st.floats(0.1, 10),
    ),
    st.builds(
        LatentConfig,
        kind=st.just("gaussian_mixture"),
        num_components=st.integers(1, 4),
        std=st.floats(0.05, 2),
        learn_means=st.booleans(),
        temperature=st.floats(0.05, 1),
        hidden_features=st.integers(1, 64),
        num_hidden_layers=st.integers(0, 3),
    ),
    st.builds(
        LatentConfig,
        kind=st.just("gaussian_mixture"),
        means=st.lists(st.tuples(st.floats(-5, 5), st.floats(-5, 5)), min_size=1, max_size=5),
    ),
)


@settings(max_examples=40, deadline=None)
@given(config=configs)
def test_configs_round_trip_through_json(config):
    text = json.dumps(config.to_json())
    assert LatentConfig.from_json(json.loads(text)) == config
    latent = config.build(dim_y=2, dim_z=2)
    assert latent.sample(torch.zeros(3, 2), 2).shape == (3, 2, 2)


@pytest.mark.parametrize(
    ("settings_", "error", "message"),
    [
        (
            {"kind": "gmm"},
            ValueError,
            "kind must be one of 'normal', 'student_t', 'gaussian_mixture'; got 'gmm'",
        ),
        (
            {"kind": "normal", "num_components": 3},
            ValueError,
            "num_components applies only to kind='gaussian_mixture', got it with kind='normal'",
        ),
        (
            {"kind": "gaussian_mixture", "degrees_of_freedom": 3.0},
            ValueError,
            "degrees_of_freedom applies only to kind='student_t', got it with kind='gaussian_mixt",
        ),
        (
            {"kind": "student_t", "degrees_of_freedom": -2},
            ValueError,
            "degrees_of_freedom must be a finite number > 0, got -2",
        ),
        (
            {"kind": "gaussian_mixture", "temperature": 0},
            ValueError,
            "temperature must be a finite number > 0, got 0",
        ),
        (
            {"kind": "gaussian_mixture", "final_temperature": 0.5},
            ValueError,
            r"final_temperature must lie in \(0, temperature\] = \(0, 0.1\], got 0.5",
        ),
        (
            {"kind": "gaussian_mixture", "num_components": 0},
            ValueError,
            "num_components must be a positive integer, got 0",
        ),
        (
            {"kind": "gaussian_mixture", "placement": "grid"},
            ValueError,
            "placement must be one of 'axes', 'corners'; got 'grid'",
        ),
        (
            {"kind": "gaussian_mixture", "learn_means": "yes"},
            TypeError,
            "learn_means must be a bool, got 'yes'",
        ),
        (
            {"kind": "gaussian_mixture", "means": [[0, 1], [2]]},
            ValueError,
            r"equal-length, non-empty rows, got row lengths \[2, 1\]",
        ),
        (
            {"kind": "gaussian_mixture", "means": [[0, float("nan")]]},
            ValueError,
            "means must be finite",
        ),
        (
            {"kind": "gaussian_mixture", "means": [[0], [1]], "num_components": 3},
            ValueError,
            "num_components=3 disagrees with the 2 rows of means",
        ),
        (
            {"kind": "gaussian_mixture", "means": [[0], [1]], "spread": 4.0},
            ValueError,
            "placement and spread place default means; they cannot be combined with explicit means",
        ),
        (
            {"kind": "gaussian_mixture", "means": [1, 2]},
            TypeError,
            "means must be a sequence of equal-length sequences of numbers, got",
        ),
    ],
)
def test_config_errors_say_what_was_expected_and_given(settings_, error, message):
    with pytest.raises(error, match=message):
        LatentConfig(**settings_)


def test_config_build_and_json_errors():
    config = LatentConfig(kind="gaussian_mixture", means=[[0.0, 1.0], [1.0, 0.0]])
    with pytest.raises(ValueError, match="means have width 2, but the latent has dim_z=3"):
        config.build(dim_y=1, dim_z=3)
    with pytest.raises(ValueError, match="placement 'axes' fits at most 2 \\* dim_z = 2"):
        LatentConfig(kind="gaussian_mixture", num_components=3).build(dim_y=1, dim_z=1)
    with pytest.raises(ValueError, match=r"unknown LatentConfig fields \['temprature'\]"):
        LatentConfig.from_json({"kind": "gaussian_mixture", "temprature": 0.1})
