r"""Coupling blocks: invertible maps whose expressive parts never need inverting.

The input is split as :math:`x = [x_1, x_2]`, :math:`x_1` holding the first
:math:`\lfloor d/2 \rfloor` features. Each half is transformed element-wise with
coefficients predicted by a subnetwork from the other half and the condition
:math:`c` (Ardizzone 2022, §2.2.1 and §3.2). The affine (GLOW / real-NVP) block is

.. math::

    y_2 = x_2 \odot e^{\tilde s_2(x_1, c)} + t_2(x_1, c), \qquad
    y_1 = x_1 \odot e^{\tilde s_1(y_2, c)} + t_1(y_2, c),

with bounded log-scales :math:`\tilde s = \log g(s)`: by default the soft clamp
:math:`\alpha \tanh(s/\alpha)`, see :mod:`sbinn.nn.scale` for the other choices.
The inverse runs the steps backwards, re-using the subnetworks forwards:

.. math::

    x_1 = (y_1 - t_1(y_2, c)) \odot e^{-\tilde s_1(y_2, c)}, \qquad
    x_2 = (y_2 - t_2(x_1, c)) \odot e^{-\tilde s_2(x_1, c)}.

Each step has a block-triangular Jacobian, so
:math:`\log |\det \partial y / \partial x| = \sum_i \tilde s_{1,i} + \sum_j \tilde s_{2,j}`.
The additive (NICE) block drops the scales, :math:`y_2 = x_2 + t_2(x_1, c)`,
:math:`y_1 = x_1 + t_1(y_2, c)`, and preserves volume: its log-determinant is 0.
Both start as the identity, because their subnetworks start at zero output.

Examples:
    >>> _ = torch.manual_seed(0)
    >>> block = AffineCoupling(4, cond_dim=2, hidden_features=16)
    >>> x, c = torch.randn(8, 4), torch.randn(8, 2)
    >>> y, log_det = block(x, c)
    >>> torch.equal(y, x), log_det.abs().max().item()
    (True, 0.0)
"""

from __future__ import annotations

import torch
from torch import Tensor

from sbinn.nn.base import InvertibleModule
from sbinn.nn.scale import check_scale, checked_log_scale
from sbinn.nn.shared_condition import SharedCondition
from sbinn.nn.subnet import MLP

__all__ = ["AdditiveCoupling", "AffineCoupling"]


class _Coupling(InvertibleModule):
    """Splits the features in two and owns one subnetwork per half."""

    def __init__(
        self,
        dim: int,
        cond_dim: int,
        coefficients_per_feature: int,
        hidden_features: int,
        num_hidden_layers: int,
        activation: str,
    ) -> None:
        super().__init__(dim, cond_dim)
        if self.dim < 2:
            raise ValueError(
                f"{type(self).__name__} needs dim >= 2 to split the features in two, got dim={dim}"
            )
        self.split = self.dim // 2
        rest = self.dim - self.split
        mlp = {
            "hidden_features": hidden_features,
            "num_hidden_layers": num_hidden_layers,
            "activation": activation,
        }
        # subnet2 reads x1 and transforms x2; subnet1 reads y2 and transforms x1.
        self.subnet2 = MLP(self.split + self.cond_dim, coefficients_per_feature * rest, **mlp)
        self.subnet1 = MLP(rest + self.cond_dim, coefficients_per_feature * self.split, **mlp)

    def _halves(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return x[:, : self.split], x[:, self.split :]

    @staticmethod
    def _predict(subnet: MLP, h: Tensor, c: Tensor | SharedCondition | None) -> Tensor:
        if c is None:
            return subnet(h)
        if isinstance(c, SharedCondition):
            return subnet.with_shared_condition(h, c)
        return subnet(torch.cat([h, c], dim=1))


class AffineCoupling(_Coupling):
    r"""GLOW-style affine coupling that transforms both halves, with bounded log-scales.

    Args:
        dim: Number of features, ``>= 2``.
        cond_dim: Number of conditioning features concatenated to the subnetwork inputs.
        hidden_features: Width of the subnetworks' hidden layers.
        num_hidden_layers: Number of hidden layers per subnetwork.
        activation: Subnetwork activation, see :class:`~sbinn.nn.subnet.MLP`.
        clamp: Bound :math:`\alpha > 0` of the soft-clamped log-scales.
        clamp_kind: Scale function: ``"tanh"`` or ``"atan"`` (soft clamps, see
            :func:`~sbinn.nn.clamp.soft_clamp`) or ``"sigmoid"`` (Behrmann et al.'s scale in
            :math:`(1/2, 1)`, which ignores ``clamp``), see :mod:`sbinn.nn.scale`.

    Examples:
        >>> _ = torch.manual_seed(0)
        >>> block = AffineCoupling(3, hidden_features=8, clamp_kind="atan")
        >>> for p in block.parameters():
        ...     _ = torch.nn.init.normal_(p, std=0.5)
        >>> x = torch.randn(5, 3)
        >>> y, log_det = block(x)
        >>> x_back, log_det_back = block.inverse(y)
        >>> torch.allclose(x_back, x, atol=1e-6), torch.allclose(log_det_back, -log_det)
        (True, True)
    """

    def __init__(
        self,
        dim: int,
        *,
        cond_dim: int = 0,
        hidden_features: int = 128,
        num_hidden_layers: int = 2,
        activation: str = "relu",
        clamp: float = 2.0,
        clamp_kind: str = "tanh",
    ) -> None:
        super().__init__(dim, cond_dim, 2, hidden_features, num_hidden_layers, activation)
        self.clamp, self.clamp_kind = check_scale(clamp, clamp_kind)

    def _scale_shift(self, subnet: MLP, h: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        s, t = self._predict(subnet, h, c).chunk(2, dim=1)
        return checked_log_scale(s, self.clamp, self.clamp_kind), t

    def _forward(self, x: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        x1, x2 = self._halves(x)
        s2, t2 = self._scale_shift(self.subnet2, x1, c)
        y2 = x2 * torch.exp(s2) + t2
        s1, t1 = self._scale_shift(self.subnet1, y2, c)
        y1 = x1 * torch.exp(s1) + t1
        return torch.cat([y1, y2], dim=1), s1.sum(dim=1) + s2.sum(dim=1)

    def _inverse(self, y: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        y1, y2 = self._halves(y)
        s1, t1 = self._scale_shift(self.subnet1, y2, c)
        x1 = (y1 - t1) * torch.exp(-s1)
        s2, t2 = self._scale_shift(self.subnet2, x1, c)
        x2 = (y2 - t2) * torch.exp(-s2)
        return torch.cat([x1, x2], dim=1), -(s1.sum(dim=1) + s2.sum(dim=1))

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, clamp={self.clamp}, clamp_kind={self.clamp_kind!r}"


class AdditiveCoupling(_Coupling):
    """NICE-style additive coupling: volume preserving, log-determinant exactly 0.

    Args:
        dim: Number of features, ``>= 2``.
        cond_dim: Number of conditioning features concatenated to the subnetwork inputs.
        hidden_features: Width of the subnetworks' hidden layers.
        num_hidden_layers: Number of hidden layers per subnetwork.
        activation: Subnetwork activation, see :class:`~sbinn.nn.subnet.MLP`.

    Examples:
        >>> _ = torch.manual_seed(0)
        >>> block = AdditiveCoupling(5, cond_dim=1, hidden_features=8)
        >>> for p in block.parameters():
        ...     _ = torch.nn.init.normal_(p, std=0.5)
        >>> x, c = torch.randn(4, 5), torch.randn(4, 1)
        >>> y, log_det = block(x, c)
        >>> torch.allclose(block.inverse(y, c)[0], x, atol=1e-6), log_det.tolist()
        (True, [0.0, 0.0, 0.0, 0.0])
    """

    def __init__(
        self,
        dim: int,
        *,
        cond_dim: int = 0,
        hidden_features: int = 128,
        num_hidden_layers: int = 2,
        activation: str = "relu",
    ) -> None:
        super().__init__(dim, cond_dim, 1, hidden_features, num_hidden_layers, activation)

    def _forward(self, x: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        x1, x2 = self._halves(x)
        y2 = x2 + self._predict(self.subnet2, x1, c)
        y1 = x1 + self._predict(self.subnet1, y2, c)
        return torch.cat([y1, y2], dim=1), x.new_zeros(x.shape[0])

    def _inverse(self, y: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        y1, y2 = self._halves(y)
        x1 = y1 - self._predict(self.subnet1, y2, c)
        x2 = y2 - self._predict(self.subnet2, x1, c)
        return torch.cat([x1, x2], dim=1), y.new_zeros(y.shape[0])
