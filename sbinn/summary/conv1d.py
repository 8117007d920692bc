r"""A 1-D convolutional summary network for spectra and other signals on a regular grid.

Each stage is a same-length convolution, an activation and a max pooling that halves
the length. The last feature map is flattened, not pooled globally, before a linear
head: where a feature sits on the grid (the wavelength of an emission line) is
information about :math:`\theta` that a global pooling would throw away.
Max pooling keeps the height of narrow peaks that average pooling would smear.

Examples:
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> net = Conv1dSummary(100, 8)
    >>> net(torch.randn(4, 100)).shape
    torch.Size([4, 8])
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from torch import Tensor, nn

from sbinn._validation import check_positive_int
from sbinn.nn.base import check_choice
from sbinn.nn.subnet import ACTIVATIONS
from sbinn.summary.mlp import check_finite

__all__ = ["Conv1dSummary"]


class Conv1dSummary(nn.Module):
    """Convolution, activation and pooling stages, then a linear head.

    Args:
        length: Number of grid points of a signal, ``>= 1``.
        out_features: Summary width, ``>= 1``.
        channels: Output channels of each convolution stage; at least one stage.
        kernel_size: Width of every convolution kernel, ``>= 1``. Convolutions pad
            to keep the length, so any width works.
        in_channels: Channels per grid point (1 for a single spectrum).
        activation: One of ``"relu"``, ``"leaky_relu"``, ``"elu"``, ``"silu"``, ``"tanh"``.

    Attributes:
        length: Number of grid points.
        in_channels: Channels per grid point.
        out_features: Summary width.
        features: The ``nn.Sequential`` of convolution stages.
        head: The linear layer on the flattened last feature map.

    Examples:
        >>> import torch
        >>> net = Conv1dSummary(9, 2, channels=(4,), kernel_size=3, in_channels=2)
        >>> net(torch.zeros(5, 2, 9)).shape
        torch.Size([5, 2])
        >>> net.head.in_features  # 4 channels times ceil(9 / 2) points
        20
        >>> net(torch.zeros(5, 9))
        Traceback (most recent call last):
        ...
        ValueError: Conv1dSummary expects x of shape (batch, 2, 9), got (5, 9)
    """

    def __init__(
        self,
        length: int,
        out_features: int,
        channels: Sequence[int] = (16, 32),
        kernel_size: int = 5,
        in_channels: int = 1,
        activation: str = "leaky_relu",
    ) -> None:
        self.length = check_positive_int(length, "length")
        self.out_features = check_positive_int(out_features, "out_features")
        self.in_channels = check_positive_int(in_channels, "in_channels")
        kernel_size = check_positive_int(kernel_size, "kernel_size")
        if isinstance(channels, str | int) or not isinstance(channels, Sequence) or not channels:
            raise ValueError(
                f"channels must be a non-empty sequence of positive integers, got {channels!r}"
            )
        channels = [check_positive_int(c, "every entry of channels") for c in channels]
        act = ACTIVATIONS[check_choice(activation, "activation", ACTIVATIONS)]
        super().__init__()

        stages: list[nn.Module] = []
        width, length = self.in_channels, self.length
        for out in channels:
            if kernel_size % 2:
                conv = [nn.Conv1d(width, out, kernel_size, padding=kernel_size // 2)]
            else:
                # padding="same" would also work, but copies the input and warns on even kernels.
                half = kernel_size // 2
                conv = [nn.ConstantPad1d((half - 1, half), 0.0), nn.Conv1d(width, out, kernel_size)]
            # ceil_mode keeps a last odd point and never pools a length-1 map to nothing.
            stages += [*conv, act(), nn.MaxPool1d(2, ceil_mode=True)]
            width, length = out, math.ceil(length / 2)
        self.features = nn.Sequential(*stages)
        self.head = nn.Linear(width * length, self.out_features)

    def forward(self, x: Tensor) -> Tensor:
        """Map ``x`` of shape ``(batch, in_channels, length)`` to ``(batch, out_features)``.

        With ``in_channels == 1`` the channel axis may be left out: ``(batch, length)``.
        """
        if not isinstance(x, Tensor) or not x.is_floating_point():
            given = f"dtype {x.dtype}" if isinstance(x, Tensor) else type(x).__name__
            raise TypeError(f"Conv1dSummary expects x to be a floating-point tensor, got {given}")
        given = tuple(x.shape)
        if self.in_channels == 1 and x.ndim == 2:
            x = x[:, None, :]
        if x.ndim != 3 or x.shape[1:] != (self.in_channels, self.length):
            expected = f"(batch, {self.in_channels}, {self.length})"
            if self.in_channels == 1:
                expected = f"(batch, {self.length}) or {expected}"
            raise ValueError(f"Conv1dSummary expects x of shape {expected}, got {given}")
        check_finite(x, "Conv1dSummary")
        return self.head(self.features(x).flatten(start_dim=1))

    def extra_repr(self) -> str:
        return (
            f"length={self.length}, in_channels={self.in_channels}, "
            f"out_features={self.out_features}"
        )
