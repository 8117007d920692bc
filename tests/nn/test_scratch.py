from __future__ import annotations

import threading

import pytest
import torch

from sbinn.nn import MLP, SharedCondition
from sbinn.nn.scratch import MAX_ELEMENTS, hidden_buffer
from sbinn.nn.subnet import ACTIVATIONS


def test_a_slot_hands_out_the_same_memory_on_one_thread():
    like = torch.zeros(1)
    with torch.inference_mode():
        first = hidden_buffer(0, 6, 5, like)
        again = hidden_buffer(0, 4, 5, like)
        other_slot = hidden_buffer(1, 6, 5, like)
        wider = hidden_buffer(0, 6, 7, like)
    assert first.shape == (6, 5) and again.shape == (4, 5)
    assert first.data_ptr() == again.data_ptr()
    assert other_slot.data_ptr() != first.data_ptr()
    assert wider.data_ptr() != first.data_ptr()
    assert first.is_contiguous() and again.is_contiguous()


def test_a_slot_grows_when_more_rows_are_needed():
    with torch.inference_mode():
        small = hidden_buffer(0, 2, 3, torch.zeros(1, dtype=torch.float64))
        large = hidden_buffer(0, 50, 3, torch.zeros(1, dtype=torch.float64))
    assert small.dtype == large.dtype == torch.float64
    assert large.shape == (50, 3)


def test_no_buffer_outside_inference_mode_or_when_too_large():
    like = torch.zeros(1)
    assert hidden_buffer(0, 4, 4, like) is None
    with torch.no_grad():
        assert hidden_buffer(0, 4, 4, like) is None
    with torch.inference_mode():
        assert hidden_buffer(0, MAX_ELEMENTS + 1, 1, like) is None
        assert hidden_buffer(0, MAX_ELEMENTS, 1, like) is not None


def test_threads_get_their_own_buffers():
    buffers = []

    def take() -> None:
        with torch.inference_mode():
            # Kept alive here, so that a finished thread's memory cannot be handed out again.
            buffers.append(hidden_buffer(0, 8, 8, torch.zeros(1)))

    threads = [threading.Thread(target=take) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    take()
    assert len({buffer.data_ptr() for buffer in buffers}) == 3


def _trained_looking_mlp(activation: str, num_hidden_layers: int) -> MLP:
    torch.manual_seed(0)
    mlp = MLP(5, 3, hidden_features=16, num_hidden_layers=num_hidden_layers, activation=activation)
    # The last layer starts at zero, which would hide a wrong hidden pass.
    torch.nn.init.normal_(mlp.layers[-1].weight)
    torch.nn.init.normal_(mlp.layers[-1].bias)
    return mlp


@pytest.mark.parametrize("num_hidden_layers", [0, 1, 3])
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_inference_through_buffers_equals_the_autograd_pass(activation, num_hidden_layers):
    mlp = _trained_looking_mlp(activation, num_hidden_layers)
    x = torch.randn(37, 5)
    expected = mlp(x)
    with torch.inference_mode():
        got = mlp(x)
        again = mlp(2 * x)  # reuses the buffers of the first call
    assert torch.equal(got, expected.detach())
    assert torch.equal(again, mlp(2 * x).detach())
    assert got.data_ptr() != again.data_ptr()  # outputs are never buffers


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_shared_condition_through_buffers_equals_the_dense_pass(activation):
    mlp = _trained_looking_mlp(activation, 2)
    h, values = torch.randn(12, 2), torch.randn(3, 3)
    expected = mlp(torch.cat([h, SharedCondition(values, 4).dense()], dim=1))
    with torch.inference_mode():
        got = mlp.with_shared_condition(h, SharedCondition(values, 4))
    torch.testing.assert_close(got, expected.detach())


def test_training_still_gets_gradients_after_an_inference_pass():
    mlp = _trained_looking_mlp("tanh", 2)
    x = torch.randn(8, 5)
    with torch.inference_mode():
        mlp(x)
    mlp(x).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in mlp.parameters())
