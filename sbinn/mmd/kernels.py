r"""Kernels for maximum mean discrepancy, as small callables ``kernel(x, y) -> (n, m)``.

Every kernel here is a function of the Euclidean distance :math:`r = \|x - y\|_2`
only. A call checks the inputs, computes the matrix of squared distances once
(:func:`~sbinn.mmd.distances.squared_distances`) and maps it elementwise.
Each kernel's docstring says when to use it.

Examples:
    >>> import torch
    >>> x = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    >>> InverseMultiquadratic(scales=(1.0,))(x, x)
    tensor([[1.0000, 0.0385],
            [0.0385, 1.0000]])
    >>> kernel_from_config(ExponentialDistance(scale=2.0).to_config())
    ExponentialDistance(scale=2.0)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor

from sbinn.mmd.distances import check_samples, power_of_squared, squared_distances

__all__ = [
    "ExponentialDistance",
    "Gaussian",
    "InverseMultiquadratic",
    "Kernel",
    "PowerDistance",
    "kernel_from_config",
]


def _check_positive(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a positive real number, got {type(value).__name__}")
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value}")
    return value


def _check_scales(scales: object) -> tuple[float, ...]:
    if isinstance(scales, numbers.Real) and not isinstance(scales, bool):
        scales = (scales,)
    if isinstance(scales, str) or not isinstance(scales, Iterable):
        raise TypeError(
            f"scales must be a positive number or a sequence of them, got {type(scales).__name__}"
        )
    scales = tuple(scales)
    if len(scales) == 0:
        raise ValueError("scales must contain at least one scale, got an empty sequence")
    return tuple(_check_positive(scale, f"scales[{i}]") for i, scale in enumerate(scales))


class Kernel:
    """Base class: a kernel ``k(x, y)`` that depends on ``||x - y||`` only.

    Subclasses implement :meth:`from_squared_distances`; calling the kernel
    checks the inputs and returns the Gram matrix.
    """

    name: ClassVar[str]

    def __call__(self, x: Tensor, y: Tensor) -> Tensor:
        """Gram matrix ``K[i, j] = k(x[i], y[j])`` of shape ``(n, m)``.

        Args:
            x: Samples, shape ``(n, d)``.
            y: Samples, shape ``(m, d)``, same dtype and device as ``x``.

        Raises:
            TypeError: on non-tensors, non-float dtypes or mixed dtypes.
            ValueError: on wrong shapes, mixed devices, or NaN/inf values.
        """
        check_samples(x, y)
        return self.from_squared_distances(squared_distances(x, y))

    def from_squared_distances(self, sq: Tensor) -> Tensor:
        """Kernel values for a tensor of squared distances (elementwise)."""
        raise NotImplementedError

    def to_config(self) -> dict[str, Any]:
        """JSON-ready settings; :func:`kernel_from_config` rebuilds the kernel."""
        raise NotImplementedError


@dataclass(frozen=True)
class InverseMultiquadratic(Kernel):
    r"""Inverse multiquadratic kernel :math:`k(r) = \sum_h h^2 / (h^2 + r^2)`.

    The default for training losses (Ardizzone's thesis §4.1.3, after
    Tolstikhin et al., 2017). Its tails decay only like :math:`1/r^2`, so
    samples far from the target still feel a pull: the loss keeps useful
    gradients early in training, when the two distributions barely overlap,
    where a Gaussian kernel's gradient vanishes. :math:`h` sets the resolution:
    structure finer than :math:`h` is blurred, and a too-large :math:`h` makes
    the peak too broad to see details. The thesis (appendix B.5) used
    :math:`h = 0.2` (Gaussian mixture), 1.2 (inverse kinematics) and 1
    (multispectral tissue). Several scales, e.g.
    ``(0.05, 0.2, 0.9)``, hedge the choice at a cost linear in their number.
    :math:`k(0)` equals the number of scales.

    Args:
        scales: One positive width or a sequence of them; the kernel is the sum.

    Examples:
        >>> kernel = InverseMultiquadratic(scales=(0.2, 1.0))
        >>> kernel(torch.zeros(1, 2), torch.tensor([[0.0, 0.0], [1.0, 0.0]]))
        tensor([[2.0000, 0.5385]])
    """

    name: ClassVar[str] = "InverseMultiquadratic"
    scales: tuple[float, ...] = (0.2,)

    def __post_init__(self) -> None:
        object.__setattr__(self, "scales", _check_scales(self.scales))

    def from_squared_distances(self, sq: Tensor) -> Tensor:
        out = torch.zeros_like(sq)
        for h in self.scales:
            out = out + h**2 / (h**2 + sq)
        return out

    def to_config(self) -> dict[str, Any]:
        return {"kernel": self.name, "scales": list(self.scales)}


@dataclass(frozen=True)
class Gaussian(Kernel):
    r"""Gaussian (RBF) kernel :math:`k(r) = \sum_h \exp(-r^2 / (2 h^2))`.

    The classic choice for two-sample tests and for diagnostics on samples that
    already overlap: smooth, characteristic, and with the best-understood
    statistics. Its tails are light, so two points more than a few :math:`h`
    apart contribute neither value nor gradient: as a training loss it stalls
    when the distributions are far apart or have outliers (use
    :class:`InverseMultiquadratic` there). A common width is the median
    pairwise distance of the pooled samples; several scales cover unknown
    structure at linear extra cost. :math:`k(0)` equals the number of scales.

    Args:
        scales: One positive width (standard deviation) or a sequence of them.

    Examples:
        >>> Gaussian(scales=1.0)(torch.zeros(1, 1), torch.tensor([[0.0], [2.0]]))
        tensor([[1.0000, 0.1353]])
    """

    name: ClassVar[str] = "Gaussian"
    scales: tuple[float, ...] = (1.0,)

    def __post_init__(self) -> None:
        object.__setattr__(self, "scales", _check_scales(self.scales))

    def from_squared_distances(self, sq: Tensor) -> Tensor:
        out = torch.zeros_like(sq)
        for h in self.scales:
            out = out + torch.exp(sq * (-0.5 / h**2))
        return out

    def to_config(self) -> dict[str, Any]:
        return {"kernel": self.name, "scales": list(self.scales)}


@dataclass(frozen=True)
class ExponentialDistance(Kernel):
    r"""Exponential kernel of the Euclidean distance, :math:`k(r) = \exp(-r / h)`.

    Also called the Laplacian or Matérn-1/2 kernel; note that it uses the
    Euclidean norm, not the L1 norm of e.g. scikit-learn's ``laplacian_kernel``.
    The cusp at :math:`r = 0` makes it sensitive to fine, local structure, and
    its gradient keeps unit size however close two points are. Its tails are
    lighter than :class:`InverseMultiquadratic`'s but heavier than a
    Gaussian's. For :math:`h` much larger than the data spread,
    :math:`k \approx 1 - r/h` and the MMD approaches the energy distance
    divided by :math:`h` (see :class:`PowerDistance` with power 1). The
    default :math:`h = 7.1` is the latent-space kernel of the thesis'
    star-cluster experiment (appendix B.5.4); choose :math:`h` for your data.
    At :math:`r = 0` the gradient is taken as 0.

    Args:
        scale: Positive length scale :math:`h`.

    Examples:
        >>> ExponentialDistance(scale=1.0)(torch.zeros(1, 2), torch.tensor([[3.0, 4.0]]))
        tensor([[0.0067]])
    """

    name: ClassVar[str] = "ExponentialDistance"
    scale: float = 7.1

    def __post_init__(self) -> None:
        object.__setattr__(self, "scale", _check_positive(self.scale, "scale"))

    def from_squared_distances(self, sq: Tensor) -> Tensor:
        return torch.exp(power_of_squared(sq, 0.5) * (-1.0 / self.scale))

    def to_config(self) -> dict[str, Any]:
        return {"kernel": self.name, "scale": self.scale}


@dataclass(frozen=True)
class PowerDistance(Kernel):
    r"""Distance-power kernel :math:`k(r) = -r^{\beta}`, :math:`0 < \beta < 2`.

    The heavy-tailed kernel of the thesis' star-cluster experiment (appendix
    B.5.4, :math:`\beta = 1/4`), chosen there because the inverse
    multiquadratic's peak was too broad to capture the prior's details. It has
    no width to tune: rescaling the data by :math:`a` rescales the MMD by
    :math:`a^{\beta}`, so the loss magnitude depends on data units and its
    weight must be tuned. Small :math:`\beta` gives a sharp cusp at 0 (fine
    local structure) and tails that never flatten, so far-away samples keep
    their gradients. At :math:`r = 0` the gradient, infinite in theory, is
    taken as 0.

    The kernel is only *conditionally* positive definite:
    :math:`\sum_{ij} c_i c_j k(z_i, z_j) \ge 0` only when :math:`\sum_i c_i = 0`.
    The MMD's weights sum to zero, so :math:`\mathrm{MMD}^2` is the generalised
    energy distance (Székely and Rizzo)

    .. math::
        2\,\mathbb{E}\|X - Y\|^{\beta} - \mathbb{E}\|X - X'\|^{\beta}
            - \mathbb{E}\|Y - Y'\|^{\beta},

    nonnegative and zero iff the distributions agree (given finite
    :math:`\beta`-moments). Consequences: Gram values are
    :math:`\le 0` and Gram matrices are not positive semidefinite, so do not
    use this kernel where one must be (Cholesky, kernel ridge regression); any
    constant added to :math:`k` cancels in both estimators, so
    :math:`c - r^{\beta}` gives the same MMD; the biased estimator is the
    energy distance between the two empirical distributions (hence
    :math:`\ge 0`), while the unbiased one is unbiased for the energy distance
    and can be negative. :math:`\beta = 2` is excluded: the MMD would then
    compare only the means.

    Args:
        power: Exponent :math:`\beta` in :math:`(0, 2)`.

    Examples:
        >>> PowerDistance(power=0.5)(torch.zeros(1, 2), torch.tensor([[3.0, 4.0], [0.0, 0.0]]))
        tensor([[-2.2361, 0.0000]])
    """

    name: ClassVar[str] = "PowerDistance"
    power: float = 0.25

    def __post_init__(self) -> None:
        if isinstance(self.power, bool) or not isinstance(self.power, numbers.Real):
            raise TypeError(f"power must be a real number, got {type(self.power).__name__}")
        power = float(self.power)
        if not 0 < power < 2:
            raise ValueError(f"power must lie in the open interval (0, 2), got {power}")
        object.__setattr__(self, "power", power)

    def from_squared_distances(self, sq: Tensor) -> Tensor:
        return -power_of_squared(sq, 0.5 * self.power)

    def to_config(self) -> dict[str, Any]:
        return {"kernel": self.name, "power": self.power}


_KERNELS: dict[str, type[Kernel]] = {
    cls.name: cls for cls in (InverseMultiquadratic, Gaussian, ExponentialDistance, PowerDistance)
}


def kernel_from_config(config: Mapping[str, Any]) -> Kernel:
    """Rebuild a kernel from :meth:`Kernel.to_config` output.

    Raises:
        ValueError: when ``config["kernel"]`` names no known kernel.
        TypeError: on settings the kernel does not take.
    """
    settings = dict(config)
    name = settings.pop("kernel", None)
    if name not in _KERNELS:
        raise ValueError(f"config['kernel'] must be one of {sorted(_KERNELS)}, got {name!r}")
    if "scales" in settings and isinstance(settings["scales"], list):
        settings["scales"] = tuple(settings["scales"])
    return _KERNELS[name](**settings)
