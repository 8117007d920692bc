r"""Latent distributions :math:`p(z \mid y)` for the bidirectional INN.

The bidirectional INN (:mod:`sbinn.methods.inn`) maps parameters to ``[y, z]`` and
generates posterior samples as :math:`\theta = g(y^*, z)`. Ardizzone et al. (2019) take
:math:`z \sim \mathcal{N}(0, I)`, independent of :math:`y`. Hagemann & Neumayer (2021)
show that this choice forces the inverse to tear one Gaussian blob into several modes when
the posterior is multimodal, so :math:`\mathrm{Lip}(g)` explodes and samples land between
the modes; their consistency theorem holds for any latent, also one that depends on
:math:`y`. This module gives every latent one interface:

- :meth:`LatentDistribution.sample` draws ``num`` latents per observation, differentiably
  with respect to the latent's own parameters (reparameterised);
- :meth:`LatentDistribution.log_prob` is the exact log-density :math:`\log p(z \mid y)`;
- :meth:`LatentDistribution.reference` is the target ``[y, z]`` of the latent MMD term
  :math:`\mathcal{L}_z`, whose gradient trains a learned latent along with the network;
- :meth:`LatentDistribution.anneal` receives the training progress (the Gaussian mixture
  lowers its Gumbel-softmax temperature with it).

:class:`StandardNormalLatent` is the default and reproduces the current behaviour,
:class:`StudentTLatent` has heavier tails, and the Gaussian mixture of Hagemann & Neumayer
lives in :mod:`sbinn.methods.inn_latent_mixture`.
:class:`~sbinn.methods.inn_latent_config.LatentConfig` names one of them and builds it.

Examples:
    >>> latent = StandardNormalLatent(dim_y=2, dim_z=3)
    >>> y = torch.zeros(4, 2)
    >>> latent.sample(y, 5, generator=torch.Generator().manual_seed(0)).shape
    torch.Size([4, 5, 3])
    >>> latent.reference(y).shape
    torch.Size([4, 5])
    >>> latent.log_prob(torch.zeros(4, 3), y)[0].item()  # -3/2 log(2 pi)
    -2.7568...
"""

from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod

import torch
from torch import Tensor, nn

from sbinn._validation import check_positive_int

__all__ = [
    "LatentDistribution",
    "StandardNormalLatent",
    "StudentTLatent",
    "check_positive_number",
]


def check_positive_number(value: object, name: str) -> float:
    """Return ``value`` as a float, requiring a finite real number > 0.

    Examples:
        >>> check_positive_number(float("nan"), "temperature")
        Traceback (most recent call last):
        ...
        ValueError: temperature must be a finite number > 0, got nan
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a finite number > 0, got {type(value).__name__} {value!r}")
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value}")
    return value


class LatentDistribution(nn.Module, ABC):
    """A distribution of the latent ``z`` (width ``dim_z``) given an observation ``y``.

    Subclasses implement :meth:`_sample` and :meth:`_log_prob` on checked inputs. A latent
    that ignores ``y`` still checks it: its rows fix the batch, device and dtype, and a
    wrong width or a NaN is a caller's bug best caught here.

    Args:
        dim_y: Observation width (the ``y`` part of the network's output side).
        dim_z: Latent width.
    """

    def __init__(self, dim_y: int, dim_z: int) -> None:
        super().__init__()
        self.dim_y = check_positive_int(dim_y, "dim_y")
        self.dim_z = check_positive_int(dim_z, "dim_z")

    def check_y(self, y: object) -> Tensor:
        """Return ``y`` if it is a finite floating tensor ``(n, dim_y)``, else raise."""
        name = type(self).__name__
        if not isinstance(y, Tensor):
            raise TypeError(f"{name}: y must be a torch.Tensor, got {type(y).__name__}")
        if y.ndim != 2 or y.shape[1] != self.dim_y:
            raise ValueError(
                f"{name}: y must have shape (n, dim_y={self.dim_y}), got {tuple(y.shape)}"
            )
        if not y.is_floating_point():
            raise TypeError(f"{name}: y must be a floating-point tensor, got {y.dtype}")
        finite = torch.isfinite(y).all(dim=1)
        if not bool(finite.all()):
            bad = torch.nonzero(~finite).flatten()
            raise ValueError(
                f"{name}: y must be finite, got NaN or inf in {bad.numel()} row(s), "
                f"first at row {int(bad[0])}"
            )
        return y

    def _check_z(self, z: object, rows: int) -> Tensor:
        name = type(self).__name__
        if not isinstance(z, Tensor):
            raise TypeError(f"{name}: z must be a torch.Tensor, got {type(z).__name__}")
        if z.ndim != 2 or z.shape != (rows, self.dim_z):
            raise ValueError(
                f"{name}: z must have shape (n={rows}, dim_z={self.dim_z}) to match y, "
                f"got {tuple(z.shape)}"
            )
        return z

    def sample(
        self,
        y: Tensor,
        num: int = 1,
        *,
        generator: torch.Generator | None = None,
        hard: bool = False,
    ) -> Tensor:
        """Draw ``num`` latents per row of ``y``, differentiably in the latent's parameters.

        Args:
            y: Observations ``(n, dim_y)``.
            num: Latents per observation.
            generator: Source of randomness (on ``y``'s device); ``None``: torch's global one.
            hard: Exact draws, for posterior sampling after training. Only a latent that
                relaxes a discrete choice for training (the mixture) draws differently;
                the others ignore it.

        Returns:
            Tensor ``(n, num, dim_z)``; ``.reshape(-1, dim_z)`` lines its rows up with
            ``y.repeat_interleave(num, dim=0)``.
        """
        y = self.check_y(y)
        num = check_positive_int(num, "num")
        return self._sample(y, num, generator)

    def log_prob(self, z: Tensor, y: Tensor) -> Tensor:
        r""":math:`\log p(z_i \mid y_i)` for rows ``z`` ``(n, dim_z)`` and ``y`` ``(n, dim_y)``."""
        y = self.check_y(y)
        return self._log_prob(self._check_z(z, y.shape[0]), y)

    def reference(self, y: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
        """The target ``[y, z]`` of the latent MMD term: one ``z ~ p(z | y)`` per row of ``y``.

        Gradients reach the latent's parameters through ``z``; ``y`` is passed through.
        """
        z = self.sample(y, 1, generator=generator)[:, 0]
        return torch.cat([y, z], dim=1)

    def anneal(self, progress: float) -> None:
        """Adjust to the fraction ``progress`` in [0, 1] of training done (default: nothing)."""

    def _normal(self, shape: tuple[int, ...], like: Tensor, generator) -> Tensor:
        return torch.randn(shape, generator=generator, device=like.device, dtype=like.dtype)

    @abstractmethod
    def _sample(self, y: Tensor, num: int, generator: torch.Generator | None) -> Tensor: ...

    @abstractmethod
    def _log_prob(self, z: Tensor, y: Tensor) -> Tensor: ...


class StandardNormalLatent(LatentDistribution):
    r""":math:`z \sim \mathcal{N}(0, I)`, independent of ``y``: the INN's original latent.

    Examples:
        >>> latent = StandardNormalLatent(dim_y=1, dim_z=2)
        >>> z = latent.sample(torch.zeros(2000, 1), generator=torch.Generator().manual_seed(1))
        >>> round(z.std().item(), 1)
        1.0
    """

    def _sample(self, y: Tensor, num: int, generator: torch.Generator | None) -> Tensor:
        return self._normal((y.shape[0], num, self.dim_z), y, generator)

    def _log_prob(self, z: Tensor, y: Tensor) -> Tensor:
        return -0.5 * (z**2).sum(dim=1) - 0.5 * self.dim_z * math.log(2 * math.pi)


class StudentTLatent(LatentDistribution):
    r"""Independent Student-t coordinates :math:`z_j = s\,T_j`, :math:`T_j \sim t_\nu`.

    Heavier tails than a Gaussian let the inverse map reach outlying parameters without
    stretching its Jacobian (Jaini et al., 2020, "Tails of Lipschitz triangular flows").
    The degrees of freedom :math:`\nu` are fixed; the scale :math:`s` multiplies a
    standard draw, so the sample is reparameterised in :math:`s`. Standard draws use
    Bailey's (1994) polar method, which needs only uniforms and so honours a
    ``generator``: with :math:`U, V \sim \mathcal{U}(-1, 1)` kept while
    :math:`W = U^2 + V^2 \le 1`, :math:`T = U \sqrt{\nu (W^{-2/\nu} - 1) / W}`.

    Args:
        dim_y: Observation width (``y`` is only checked).
        dim_z: Latent width.
        degrees_of_freedom: :math:`\nu > 0`; the variance is finite for :math:`\nu > 2`.
        scale: :math:`s > 0`.

    Examples:
        >>> latent = StudentTLatent(1, 1, degrees_of_freedom=4.0)
        >>> y = torch.zeros(1, 1)
        >>> ref = torch.distributions.StudentT(4.0).log_prob(torch.tensor(0.5))
        >>> torch.isclose(latent.log_prob(torch.tensor([[0.5]]), y)[0], ref).item()
        True
    """

    def __init__(
        self, dim_y: int, dim_z: int, *, degrees_of_freedom: float = 5.0, scale: float = 1.0
    ) -> None:
        super().__init__(dim_y, dim_z)
        self.degrees_of_freedom = check_positive_number(degrees_of_freedom, "degrees_of_freedom")
        self.scale = check_positive_number(scale, "scale")

    def _standard_t(self, count: int, like: Tensor, generator) -> Tensor:
        nu = self.degrees_of_freedom
        kept: list[Tensor] = []
        found = 0
        while found < count:
            # A pair lands in the unit disc with probability pi/4; draw enough for one pass.
            draws = int(1.35 * (count - found)) + 16
            # float64 uniforms: the tails come from W near 0, where float32 is coarse.
            uv = (
                2
                * torch.rand(
                    (draws, 2), generator=generator, device=like.device, dtype=torch.float64
                )
                - 1
            )
            w = (uv**2).sum(dim=1)
            inside = (w <= 1) & (w > 0)
            uv, w = uv[inside], w[inside]
            kept.append(uv[:, 0] * torch.sqrt(nu * (w ** (-2 / nu) - 1) / w))
            found += kept[-1].numel()
        return torch.cat(kept)[:count].to(like.dtype)

    def _sample(self, y: Tensor, num: int, generator: torch.Generator | None) -> Tensor:
        shape = (y.shape[0], num, self.dim_z)
        return self.scale * self._standard_t(math.prod(shape), y, generator).reshape(shape)

    def _log_prob(self, z: Tensor, y: Tensor) -> Tensor:
        nu, s = self.degrees_of_freedom, self.scale
        const = (
            math.lgamma((nu + 1) / 2)
            - math.lgamma(nu / 2)
            - 0.5 * math.log(nu * math.pi)
            - math.log(s)
        )
        per_coordinate = const - (nu + 1) / 2 * torch.log1p((z / s) ** 2 / nu)
        return per_coordinate.sum(dim=1)

    def extra_repr(self) -> str:
        return (
            f"dim_z={self.dim_z}, degrees_of_freedom={self.degrees_of_freedom}, scale={self.scale}"
        )
