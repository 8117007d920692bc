r"""A fully connected summary network for observations that are plain vectors.

:class:`MLPSummary` maps an observation :math:`x \in \mathbb{R}^{n_\mathrm{in}}` to a
summary :math:`h(x) \in \mathbb{R}^{n_\mathrm{out}}` that conditions a cINN. Unlike
:class:`sbinn.nn.MLP`, whose last layer starts at zero so that couplings start as
the identity, every layer here keeps PyTorch's random initialisation: a summary
network that starts at zero would hand the cINN the same condition for every
observation.

Examples:
    >>> _ = torch.manual_seed(0)
    >>> net = MLPSummary(5, 3)
    >>> h = net(torch.randn(10, 5))
    >>> h.shape, bool(h.std(dim=0).min() > 0)
    (torch.Size([10, 3]), True)
"""

from __future__ import annotations

import itertools

import torch
from torch import Tensor, nn

from sbinn._validation import check_positive_int
from sbinn.nn.base import check_choice, check_nonnegative_int
from sbinn.nn.subnet import ACTIVATIONS

__all__ = ["MLPSummary"]


def build_mlp(
    in_features: int,
    out_features: int,
    hidden_features: int,
    num_hidden_layers: int,
    activation: str,
) -> nn.Sequential:
    """Linear layers with ``activation`` between them, randomly initialised throughout.

    Arguments are checked here, so that every summary network reports them alike.

    Examples:
        >>> [type(layer).__name__ for layer in build_mlp(2, 3, 8, 1, "elu")]
        ['Linear', 'ELU', 'Linear']
    """
    in_features = check_positive_int(in_features, "in_features")
    out_features = check_positive_int(out_features, "out_features")
    hidden_features = check_positive_int(hidden_features, "hidden_features")
    num_hidden_layers = check_nonnegative_int(num_hidden_layers, "num_hidden_layers")
    act = ACTIVATIONS[check_choice(activation, "activation", ACTIVATIONS)]
    widths = [in_features] + [hidden_features] * num_hidden_layers
    layers: list[nn.Module] = []
    for width_in, width_out in itertools.pairwise(widths):
        layers += [nn.Linear(width_in, width_out), act()]
    return nn.Sequential(*layers, nn.Linear(widths[-1], out_features))


def check_finite(x: Tensor, owner: str) -> None:
    """Raise when ``x`` holds NaN or inf, naming the first bad row of the batch."""
    finite = torch.isfinite(x).flatten(start_dim=1).all(dim=1)
    if not finite.all():
        rows = torch.nonzero(~finite).flatten().tolist()
        raise ValueError(
            f"{owner} expects finite observations, got NaN or inf in {len(rows)} row(s), "
            f"first at row {rows[0]}"
        )


class MLPSummary(nn.Module):
    """A multilayer perceptron summary of vector observations.

    Args:
        in_features: Observation width, ``>= 1``.
        out_features: Summary width, ``>= 1``.
        hidden_features: Width of each hidden layer, ``>= 1``.
        num_hidden_layers: Number of hidden layers, ``>= 0`` (0 gives one linear layer).
        activation: One of ``"relu"``, ``"leaky_relu"``, ``"elu"``, ``"silu"``, ``"tanh"``.

    Attributes:
        in_features: Observation width.
        out_features: Summary width.
        layers: The ``nn.Sequential`` of linear layers and activations.

    Examples:
        >>> net = MLPSummary(4, 2, hidden_features=16, num_hidden_layers=1)
        >>> [type(layer).__name__ for layer in net.layers]
        ['Linear', 'LeakyReLU', 'Linear']
        >>> net(torch.zeros(4))
        Traceback (most recent call last):
        ...
        ValueError: MLPSummary expects x of shape (batch, 4), got (4,); ...
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        hidden_features: int = 64,
        num_hidden_layers: int = 2,
        activation: str = "leaky_relu",
    ) -> None:
        super().__init__()
        self.layers = build_mlp(
            in_features, out_features, hidden_features, num_hidden_layers, activation
        )
        self.in_features, self.out_features = int(in_features), int(out_features)

    def forward(self, x: Tensor) -> Tensor:
        """Map ``x`` of shape ``(batch, in_features)`` to ``(batch, out_features)``."""
        if not isinstance(x, Tensor) or not x.is_floating_point():
            given = f"dtype {x.dtype}" if isinstance(x, Tensor) else type(x).__name__
            raise TypeError(f"MLPSummary expects x to be a floating-point tensor, got {given}")
        if x.ndim != 2 or x.shape[1] != self.in_features:
            hint = "; for one observation use x[None]" if x.shape == (self.in_features,) else ""
            raise ValueError(
                f"MLPSummary expects x of shape (batch, {self.in_features}), "
                f"got {tuple(x.shape)}{hint}"
            )
        check_finite(x, "MLPSummary")
        return self.layers(x)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"
