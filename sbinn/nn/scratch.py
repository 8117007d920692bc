r"""Reused per-thread buffers for the hidden layers of inference passes on the CPU.

Drawing thousands of posterior samples pushes many equal chunks through the same small
subnetworks, and every hidden layer's output is a fresh tensor of a few MB. The C
allocator serves blocks of that size from memory it has just mapped or trimmed, so each
one costs zero-filled page faults: perf put a third of the kinematics sampling time in the
kernel (``clear_page``, ``exc_page_fault``) on this project's 2-core machine, more than the
matrix products. An inference pass keeps no hidden activations, so two buffers per thread,
written alternately, can hold all of them.

Buffers are used only in inference mode (autograd and later in-place updates of inference
tensors rule out anything else), only on the CPU (CUDA has its own caching allocator), and
only up to :data:`MAX_ELEMENTS` per buffer, since they live as long as their thread.
The sampling threads of :mod:`sbinn._chunk_threads` end with each call, and their buffers
with them.

Examples:
    >>> with torch.inference_mode():
    ...     a = hidden_buffer(0, rows=4, width=3, like=torch.zeros(1))
    ...     b = hidden_buffer(0, rows=2, width=3, like=torch.zeros(1))
    >>> a.shape, b.shape, a.data_ptr() == b.data_ptr()
    (torch.Size([4, 3]), torch.Size([2, 3]), True)
    >>> hidden_buffer(0, rows=4, width=3, like=torch.zeros(1)) is None  # not inference mode
    True
"""

from __future__ import annotations

import threading

import torch
from torch import Tensor

__all__ = ["MAX_ELEMENTS", "hidden_buffer"]

#: Largest buffer handed out, in elements (4 MB of float32, 8192 rows of 128); larger
#: layers allocate.
MAX_ELEMENTS = 1 << 20

_local = threading.local()


def hidden_buffer(slot: int, rows: int, width: int, like: Tensor) -> Tensor | None:
    """A contiguous ``(rows, width)`` buffer of ``like``'s dtype for hidden layer ``slot``.

    The same ``(slot, width, dtype)`` returns the same memory on the same thread, so a
    caller must be done with a slot's previous contents before asking again. ``None``
    means "allocate a fresh tensor": outside inference mode, off the CPU, or too large.

    Args:
        slot: Which of the alternating buffers (callers use 0 and 1).
        rows: Rows needed.
        width: Columns needed.
        like: A tensor giving the dtype and device.
    """
    if (
        not torch.is_inference_mode_enabled()
        or like.device.type != "cpu"
        or rows * width > MAX_ELEMENTS
    ):
        return None
    buffers: dict = _local.__dict__.setdefault("buffers", {})
    key = (slot, width, like.dtype)
    buffer = buffers.get(key)
    if buffer is None or buffer.shape[0] < rows:
        buffer = buffers[key] = torch.empty(rows, width, dtype=like.dtype)
    return buffer[:rows]
