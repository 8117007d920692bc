"""Which latent distribution the bidirectional INN uses, and its settings.

Examples:
    >>> config = LatentConfig(kind="gaussian_mixture", num_components=4, placement="corners",
    ...                       spread=4.0, std=1.0, final_temperature=0.02)
    >>> LatentConfig.from_json(config.to_json()) == config
    True
    >>> config.build(dim_y=4, dim_z=2).num_components
    4
    >>> LatentConfig(kind="gmm")
    Traceback (most recent call last):
    ...
    ValueError: kind must be one of 'normal', 'student_t', 'gaussian_mixture'; got 'gmm'
    >>> LatentConfig(kind="normal", std=1.0)
    Traceback (most recent call last):
    ...
    ValueError: std applies only to kind='gaussian_mixture', got it with kind='normal'
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import torch

from sbinn._validation import check_nonnegative_int, check_positive_int
from sbinn.methods.inn_latent_mixture import PLACEMENTS, GaussianMixtureLatent, mixture_means
from sbinn.methods.inn_latents import (
    LatentDistribution,
    StandardNormalLatent,
    StudentTLatent,
    check_positive_number,
)
from sbinn.nn.base import check_choice

__all__ = ["KINDS", "LatentConfig"]

KINDS = ("normal", "student_t", "gaussian_mixture")

_SETTINGS = {
    "normal": (),
    "student_t": ("degrees_of_freedom", "scale"),
    "gaussian_mixture": (
        "num_components",
        "means",
        "placement",
        "spread",
        "std",
        "learn_means",
        "temperature",
        "final_temperature",
        "hidden_features",
        "num_hidden_layers",
    ),
}


@dataclass(frozen=True)
class LatentConfig:
    """A latent distribution by name, with its settings.

    A setting that the chosen ``kind`` does not use must keep its default: silently ignoring
    it would hide a typo in the kind. The mixture defaults are the paper's inverse
    kinematics latent, :math:`p_1(y) N((-2, 0), 0.09 I) + p_2(y) N((2, 0), 0.09 I)`.

    Attributes:
        kind: ``"normal"`` (standard normal, the default), ``"student_t"`` or
            ``"gaussian_mixture"`` (Hagemann & Neumayer 2021).
        degrees_of_freedom: Student-t degrees of freedom, fixed, > 0.
        scale: Student-t scale, > 0.
        num_components: Mixture components; ``None``: the number of ``means`` if given,
            else 2.
        means: Explicit component means ``((μ_11, ..., μ_1d), ...)``; ``None``: placed by
            ``placement`` and ``spread`` (:func:`~sbinn.methods.inn_latent_mixture.mixture_means`).
        placement: ``"axes"`` or ``"corners"``.
        spread: Distance of the placed means from the origin along each used axis.
        std: Shared component standard deviation.
        learn_means: Train the means along with the network.
        temperature: Initial Gumbel-softmax temperature (the paper: about 0.1).
        final_temperature: Temperature at the end of training, reached geometrically; in
            ``(0, temperature]``; ``None``: constant.
        hidden_features: Hidden width of the mixture-weight network.
        num_hidden_layers: Hidden layers of the mixture-weight network (0: affine).
    """

    kind: str = "normal"
    degrees_of_freedom: float = 5.0
    scale: float = 1.0
    num_components: int | None = None
    means: tuple[tuple[float, ...], ...] | None = None
    placement: str = "axes"
    spread: float = 2.0
    std: float = 0.3
    learn_means: bool = False
    temperature: float = 0.1
    final_temperature: float | None = None
    hidden_features: int = 32
    num_hidden_layers: int = 1

    def __post_init__(self) -> None:
        check_choice(self.kind, "kind", KINDS)
        for item in fields(self):
            if item.name == "kind" or item.name in _SETTINGS[self.kind]:
                continue
            if getattr(self, item.name) != item.default:
                raise ValueError(
                    f"{item.name} applies only to "
                    f"{self._owner(item.name)}, got it with kind={self.kind!r}"
                )
        for name in ("degrees_of_freedom", "scale", "spread", "std", "temperature"):
            object.__setattr__(self, name, check_positive_number(getattr(self, name), name))
        if self.final_temperature is not None:
            final = check_positive_number(self.final_temperature, "final_temperature")
            if final > self.temperature:
                raise ValueError(
                    "final_temperature must lie in (0, temperature] = "
                    f"(0, {self.temperature}], got {final}"
                )
            object.__setattr__(self, "final_temperature", final)
        check_choice(self.placement, "placement", PLACEMENTS)
        if not isinstance(self.learn_means, bool):
            raise TypeError(f"learn_means must be a bool, got {self.learn_means!r}")
        check_positive_int(self.hidden_features, "hidden_features")
        check_nonnegative_int(self.num_hidden_layers, "num_hidden_layers")
        if self.kind == "gaussian_mixture":
            self._resolve_components()

    @staticmethod
    def _owner(name: str) -> str:
        return " or ".join(f"kind={k!r}" for k, names in _SETTINGS.items() if name in names)

    def _resolve_components(self) -> None:
        count = self.num_components
        if count is not None:
            count = check_positive_int(count, "num_components")
        if self.means is None:
            object.__setattr__(self, "num_components", 2 if count is None else count)
            return
        if self.placement != "axes" or self.spread != 2.0:
            raise ValueError(
                "placement and spread place default means; they cannot be combined with "
                f"explicit means, got placement={self.placement!r}, spread={self.spread}"
            )
        try:
            rows = tuple(tuple(float(v) for v in row) for row in self.means)
        except TypeError as error:
            raise TypeError(
                f"means must be a sequence of equal-length sequences of numbers, got {self.means!r}"
            ) from error
        widths = {len(row) for row in rows}
        if not rows or len(widths) != 1 or 0 in widths:
            raise ValueError(
                "means must be a non-empty sequence of equal-length, non-empty rows, got "
                f"row lengths {[len(row) for row in rows]}"
            )
        if not all(math.isfinite(v) for row in rows for v in row):
            raise ValueError(f"means must be finite, got {rows}")
        if count is not None and count != len(rows):
            raise ValueError(f"num_components={count} disagrees with the {len(rows)} rows of means")
        object.__setattr__(self, "means", rows)
        object.__setattr__(self, "num_components", len(rows))

    def build(self, dim_y: int, dim_z: int) -> LatentDistribution:
        """The latent for observations of width ``dim_y`` and latents of width ``dim_z``."""
        if self.kind == "normal":
            return StandardNormalLatent(dim_y, dim_z)
        if self.kind == "student_t":
            return StudentTLatent(
                dim_y, dim_z, degrees_of_freedom=self.degrees_of_freedom, scale=self.scale
            )
        if self.means is None:
            means = mixture_means(self.num_components, dim_z, self.placement, self.spread)
        else:
            means = torch.tensor(self.means)
            if means.shape[1] != dim_z:
                raise ValueError(
                    f"means have width {means.shape[1]}, but the latent has dim_z={dim_z}"
                )
        return GaussianMixtureLatent(
            dim_y,
            dim_z,
            means=means,
            std=self.std,
            learn_means=self.learn_means,
            temperature=self.temperature,
            final_temperature=self.final_temperature,
            hidden_features=self.hidden_features,
            num_hidden_layers=self.num_hidden_layers,
        )

    def to_json(self) -> dict:
        """JSON-serialisable form."""
        means = None if self.means is None else [list(row) for row in self.means]
        return asdict(self) | {"means": means}

    @classmethod
    def from_json(cls, data: dict) -> LatentConfig:
        """Inverse of :meth:`to_json`; unknown keys are an error."""
        known = {item.name for item in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"unknown LatentConfig fields {unknown}; expected from {sorted(known)}"
            )
        means = data.get("means")
        return cls(**(data | {"means": None if means is None else tuple(map(tuple, means))}))
