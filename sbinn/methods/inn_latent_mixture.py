r"""The Gaussian-mixture latent of Hagemann & Neumayer (2021) for the bidirectional INN.

.. math::

    z \mid y \sim \sum_{k=1}^{r} p_k(y)\, \mathcal{N}(\mu_k, \sigma^2 I),

with mixture weights :math:`p(y) = \mathrm{softmax}(w(y))` from a small network :math:`w`
of the observation, means :math:`\mu_k` fixed or learned, and one shared standard deviation
:math:`\sigma`. With one latent mode per posterior mode the inverse network no longer has to
split a single Gaussian, and its Lipschitz constant stays bounded (their §3, Example 1).

The weights are trained through the losses that compare latents: a draw must be
differentiable in :math:`w`. Algorithm 1 of the paper relaxes the component choice with the
Gumbel-softmax trick (Jang et al. 2017; Maddison et al. 2017): with :math:`G_k` i.i.d.
Gumbel(0, 1), :math:`\arg\max_k(\log p_k + G_k)` is distributed as the component index, and
replacing the arg max by :math:`s = \mathrm{softmax}((\log p + G)/t)` gives a point of the
simplex that tends to that corner as the temperature :math:`t \to 0`. The latent is then

.. math::

    z = \sum_k s_k \mu_k + \sigma \varepsilon, \qquad \varepsilon \sim \mathcal{N}(0, I).

The paper uses :math:`t \approx 0.1`, lowered during training
(:meth:`~GaussianMixtureLatent.anneal`).
For posterior sampling after training, ``hard=True`` takes the arg max itself: exact
mixture draws, with no gradient to :math:`w`.

Default means follow the paper's experiments: ``"axes"`` puts them at :math:`\pm a e_j`
(inverse kinematics: :math:`(\pm 2, 0)`, :math:`\sigma = 0.3`), ``"corners"`` at vertices of
the cube :math:`\{-a, a\}^{d_z}` (8 modes: :math:`(\pm 4, \pm 4)`, :math:`\sigma = 1`).

Examples:
    >>> latent = GaussianMixtureLatent(dim_y=3, dim_z=2, means=mixture_means(2, 2))
    >>> latent.weights(torch.zeros(1, 3))  # the weight network starts uniform
    tensor([[0.5000, 0.5000]], grad_fn=<SoftmaxBackward0>)
    >>> y = torch.zeros(4, 3)
    >>> latent.sample(y, 10, generator=torch.Generator().manual_seed(0)).shape
    torch.Size([4, 10, 2])
"""

from __future__ import annotations

import itertools
import math

import torch
from torch import Tensor, nn

from sbinn._validation import check_nonnegative_int, check_positive_int
from sbinn.methods.inn_latents import LatentDistribution, check_positive_number
from sbinn.nn.base import check_choice

__all__ = ["PLACEMENTS", "GaussianMixtureLatent", "gumbel_noise", "mixture_means"]

PLACEMENTS = ("axes", "corners")


def mixture_means(
    num_components: int, dim_z: int, placement: str = "axes", spread: float = 2.0
) -> Tensor:
    r"""Well-separated component means ``(num_components, dim_z)``.

    Args:
        num_components: :math:`r \ge 1`.
        dim_z: Latent width.
        placement: ``"axes"``: :math:`-a e_1, a e_1, -a e_2, \dots` (at most
            :math:`2 d_z` components); ``"corners"``: the first :math:`r` vertices of
            :math:`\{-a, a\}^{d_z}` in binary order (at most :math:`2^{d_z}`).
        spread: :math:`a > 0`.

    Examples:
        >>> mixture_means(2, 2)
        tensor([[-2.,  0.],
                [ 2.,  0.]])
        >>> mixture_means(4, 2, "corners", spread=4.0)
        tensor([[-4., -4.],
                [ 4., -4.],
                [-4.,  4.],
                [ 4.,  4.]])
    """
    r = check_positive_int(num_components, "num_components")
    dim_z = check_positive_int(dim_z, "dim_z")
    check_choice(placement, "placement", PLACEMENTS)
    spread = check_positive_number(spread, "spread")
    capacity = 2 * dim_z if placement == "axes" else 2**dim_z
    if r > capacity:
        rule = "2 * dim_z" if placement == "axes" else "2 ** dim_z"
        raise ValueError(
            f"placement {placement!r} fits at most {rule} = {capacity} components in "
            f"dim_z={dim_z}, got num_components={r}; give means explicitly"
        )
    means = torch.zeros(r, dim_z)
    for k in range(r):
        if placement == "axes":
            means[k, k // 2] = spread if k % 2 else -spread
        else:
            means[k] = torch.tensor([spread if (k >> j) & 1 else -spread for j in range(dim_z)])
    return means


def gumbel_noise(shape: tuple[int, ...], like: Tensor, generator=None) -> Tensor:
    """Gumbel(0, 1) draws ``-log(-log U)`` with the dtype and device of ``like``."""
    u = torch.rand(shape, generator=generator, device=like.device, dtype=like.dtype)
    # U = 0 would give -inf, and a row of them a NaN softmax.
    return -torch.log(-torch.log(u.clamp_min(torch.finfo(like.dtype).tiny)))


class GaussianMixtureLatent(LatentDistribution):
    r"""Gaussian mixture with weights :math:`p(y)` from a network, sampled by Gumbel-softmax.

    Args:
        dim_y: Observation width (input of the weight network).
        dim_z: Latent width.
        means: Component means ``(r, dim_z)``, e.g. from :func:`mixture_means`.
        std: Shared component standard deviation :math:`\sigma > 0`.
        learn_means: Train the means with the network (a parameter) instead of fixing them
            (a buffer). Either way they are saved with the state dict.
        temperature: Initial Gumbel-softmax temperature :math:`t > 0`.
        final_temperature: Temperature reached at the end of training, approached
            geometrically by :meth:`anneal`; in ``(0, temperature]``. ``None``: constant.
        hidden_features: Width of the weight network's hidden layers.
        num_hidden_layers: Hidden layers of the weight network; 0 makes it affine.

    Attributes:
        weight_network: Maps ``y`` to the logits of :math:`p(y)`. Its last layer starts at
            zero, so training starts from equal weights.
    """

    def __init__(
        self,
        dim_y: int,
        dim_z: int,
        *,
        means: Tensor,
        std: float = 0.3,
        learn_means: bool = False,
        temperature: float = 0.1,
        final_temperature: float | None = None,
        hidden_features: int = 32,
        num_hidden_layers: int = 1,
    ) -> None:
        super().__init__(dim_y, dim_z)
        means = torch.as_tensor(means, dtype=torch.get_default_dtype())
        if means.ndim != 2 or means.shape[1] != self.dim_z or means.shape[0] < 1:
            raise ValueError(
                f"means must have shape (num_components, dim_z={self.dim_z}), "
                f"got {tuple(means.shape)}"
            )
        if not bool(torch.isfinite(means).all()):
            raise ValueError("means must be finite, got NaN or inf")
        if learn_means:
            self.means = nn.Parameter(means.clone())
        else:
            self.register_buffer("means", means.clone())
        self.num_components = means.shape[0]
        self.std = check_positive_number(std, "std")
        self.initial_temperature = check_positive_number(temperature, "temperature")
        self.temperature = self.initial_temperature
        if final_temperature is not None:
            final_temperature = check_positive_number(final_temperature, "final_temperature")
            if final_temperature > self.initial_temperature:
                raise ValueError(
                    "final_temperature must lie in (0, temperature] = "
                    f"(0, {self.initial_temperature}], got {final_temperature}"
                )
        self.final_temperature = final_temperature
        hidden = check_positive_int(hidden_features, "hidden_features")
        depth = check_nonnegative_int(num_hidden_layers, "num_hidden_layers")
        widths = [self.dim_y] + [hidden] * depth + [self.num_components]
        layers: list[nn.Module] = []
        for a, b in itertools.pairwise(widths):
            layers += [nn.Linear(a, b), nn.SiLU()]
        self.weight_network = nn.Sequential(*layers[:-1])
        nn.init.zeros_(self.weight_network[-1].weight)
        nn.init.zeros_(self.weight_network[-1].bias)

    @property
    def temperature(self) -> float:
        """Current Gumbel-softmax temperature; settable (a finite number > 0)."""
        return self._temperature

    @temperature.setter
    def temperature(self, value: float) -> None:
        self._temperature = check_positive_number(value, "temperature")

    def anneal(self, progress: float) -> None:
        r"""Set :math:`t = t_0 (t_1 / t_0)^{\text{progress}}` when a final temperature is set."""
        if isinstance(progress, bool) or not (0.0 <= float(progress) <= 1.0):
            raise ValueError(f"progress must lie in [0, 1], got {progress!r}")
        if self.final_temperature is not None:
            ratio = self.final_temperature / self.initial_temperature
            self.temperature = self.initial_temperature * ratio ** float(progress)

    def log_weights(self, y: Tensor) -> Tensor:
        r""":math:`\log p(y)`, shape ``(n, r)``."""
        return torch.log_softmax(self.weight_network(self.check_y(y)), dim=1)

    def weights(self, y: Tensor) -> Tensor:
        """Mixture weights :math:`p(y)`, shape ``(n, r)``; rows sum to 1."""
        return torch.softmax(self.weight_network(self.check_y(y)), dim=1)

    def relaxed_one_hot(
        self,
        y: Tensor,
        num: int = 1,
        *,
        temperature: float | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Gumbel-softmax component indicators ``(n, num, r)`` (Algorithm 1, steps 1–5).

        Args:
            temperature: Overrides the current :attr:`temperature`.

        Examples:
            >>> latent = GaussianMixtureLatent(1, 1, means=mixture_means(2, 1))
            >>> s = latent.relaxed_one_hot(torch.zeros(1, 1), 1000, temperature=0.01)
            >>> bool((s.max(dim=2).values > 0.99).float().mean() > 0.95)
            True
        """
        t = (
            self.temperature
            if temperature is None
            else check_positive_number(temperature, "temperature")
        )
        num = check_positive_int(num, "num")
        log_p = self.log_weights(y)[:, None, :]
        g = gumbel_noise((y.shape[0], num, self.num_components), log_p, generator)
        # softmax subtracts the row maximum, the paper's guard against overflow at small t.
        return torch.softmax((log_p + g) / t, dim=2)

    def sample(
        self,
        y: Tensor,
        num: int = 1,
        *,
        generator: torch.Generator | None = None,
        hard: bool = False,
    ) -> Tensor:
        """Draw ``num`` latents per row of ``y``, shape ``(n, num, dim_z)``.

        Args:
            hard: Take the Gumbel arg max, i.e. exact mixture draws (for posterior sampling
                after training), instead of the Gumbel-softmax relaxation. Gradients then
                reach the means but not the weight network.
        """
        y = self.check_y(y)
        num = check_positive_int(num, "num")
        if not hard:
            return self._sample(y, num, generator)
        log_p = self.log_weights(y)[:, None, :]
        g = gumbel_noise((y.shape[0], num, self.num_components), log_p, generator)
        component = (log_p + g).argmax(dim=2)
        return self.means[component] + self.std * self._normal(
            (y.shape[0], num, self.dim_z), y, generator
        )

    def _sample(self, y: Tensor, num: int, generator: torch.Generator | None) -> Tensor:
        s = self.relaxed_one_hot(y, num, generator=generator)
        eps = self._normal((y.shape[0], num, self.dim_z), y, generator)
        return s @ self.means + self.std * eps

    def _log_prob(self, z: Tensor, y: Tensor) -> Tensor:
        sq = ((z[:, None, :] - self.means[None]) ** 2).sum(dim=2)
        log_normal = -0.5 * sq / self.std**2 - self.dim_z * (
            math.log(self.std) + 0.5 * math.log(2 * math.pi)
        )
        return torch.logsumexp(self.log_weights(y) + log_normal, dim=1)

    def sparsity(self, y: Tensor) -> Tensor:
        r"""The paper's sparsity-promoting penalty :math:`(\sum_k \sqrt{p_k(y)})^2`, row mean.

        It is 1 for one-hot weights and :math:`r` for uniform ones; adding it to the loss
        discourages the network from merging modes by spreading weight (their §4).
        """
        p = self.weights(y)
        # sqrt has an infinite slope at 0; an underflowed weight must not make a NaN gradient.
        return (p.clamp_min(torch.finfo(p.dtype).tiny).sqrt().sum(dim=1) ** 2).mean()

    def extra_repr(self) -> str:
        return (
            f"dim_y={self.dim_y}, dim_z={self.dim_z}, num_components={self.num_components}, "
            f"std={self.std}, temperature={self.temperature}, "
            f"learn_means={isinstance(self.means, nn.Parameter)}"
        )
