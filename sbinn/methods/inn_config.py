"""Architecture and objective settings of the bidirectional INN,
:class:`~sbinn.methods.inn.BidirectionalINN`.

Examples:
    >>> from sbinn.methods.inn_latent_config import LatentConfig
    >>> config = INNConfig(num_blocks=4, latent=LatentConfig(kind="gaussian_mixture"))
    >>> INNConfig.from_json(config.to_json()) == config
    True
    >>> old = {k: v for k, v in INNConfig().to_json().items() if k != "latent"}
    >>> INNConfig.from_json(old).latent.kind
    'normal'
    >>> INNConfig(weights=LossWeights(sparsity=1.0))
    Traceback (most recent call last):
    ...
    ValueError: weights.sparsity > 0 penalises mixture weights: ...
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from sbinn.methods.inn_latent_config import LatentConfig
from sbinn.methods.inn_loss import LossWeights
from sbinn.methods.inn_regularisers import Stabilisers
from sbinn.mmd import InverseMultiquadratic
from sbinn.support import BoundedSupport

__all__ = ["INNConfig"]


@dataclass(frozen=True)
class INNConfig:
    r"""Architecture and objective of a :class:`~sbinn.methods.inn.BidirectionalINN`.

    Attributes:
        dim_z: Latent width; default ``dim θ − dim x`` (at least 1), where ``dim θ``
            counts the noise draws of ``latent_noise``.
        width: Width of both network sides; default ``max(dim θ, dim x + dim z)``.
        num_blocks: Coupling blocks (each followed by a fixed random rotation).
        hidden_features: Width of the subnetworks.
        num_hidden_layers: Hidden layers per subnetwork.
        activation: Subnetwork activation.
        coupling: ``"affine"`` or ``"additive"``.
        clamp: Soft-clamp bound of the affine log-scales.
        clamp_kind: Scale function, ``"tanh"``, ``"atan"`` or ``"sigmoid"`` (:mod:`sbinn.nn.scale`).
        weights: Loss weights; zeros switch terms off for ablations.
        stabilisers: Finite-difference, normalising-flow and subnet-L2 terms
            (:mod:`sbinn.methods.inn_regularisers`); all off by default.
        kernel_z: MMD kernel configuration on the output side.
        kernel_x: MMD kernel configuration on the parameter side.
        y_noise: Training noise on the (standardised) observations.
        pad_noise: Noise amplitude in the padding.
        x_ramp_start: Initial factor of the backward MMD term.
        x_ramp_end: Fraction of training after which that term has full weight.
        latent_noise: Append the simulator's standard-normal noise draws to θ as latent
            parameters (``fit(..., noise=...)``, or a simulator with ``noise_dimension > 0``).
            The network assumes a deterministic forward process; with noisy observations
            that holds only for ``(θ, noise) -> x``. Without the draws it would explain each
            noisy observation by θ alone and return too narrow posteriors. Sampling
            integrates the draws out by dropping them.
        parameter_bounds: ``[(low, high), ...]`` per parameter (``None`` for an open side),
            typically the prior's support: the network then learns the parameters mapped
            onto the real line (:mod:`sbinn.support`), so backward samples stay inside the
            support and flat marginals need no sharp edges. ``None``: no mapping.
        resimulations_per_step: Backward samples per training step that are run through
            the simulator and join the supervised loss (:mod:`sbinn.methods.inn_resimulation`);
            needs ``fit(simulator=...)`` and no ``latent_noise``. They count towards
            ``num_simulations``. 0: off.
        latent: The latent distribution :math:`p(z \mid x)`
            (:class:`~sbinn.methods.inn_latent_config.LatentConfig`); standard normal by
            default. A Gaussian mixture with weights from a network of ``x``
            (Hagemann & Neumayer 2021) is trained with the INN.
    """

    dim_z: int | None = None
    width: int | None = None
    num_blocks: int = 6
    hidden_features: int = 128
    num_hidden_layers: int = 2
    activation: str = "leaky_relu"
    coupling: str = "affine"
    clamp: float = 2.0
    clamp_kind: str = "tanh"
    weights: LossWeights = field(default_factory=LossWeights)
    stabilisers: Stabilisers = field(default_factory=Stabilisers)
    kernel_z: dict = field(
        default_factory=lambda: InverseMultiquadratic(scales=(0.2, 0.5, 1.2)).to_config()
    )
    kernel_x: dict = field(
        default_factory=lambda: InverseMultiquadratic(scales=(0.2, 0.5, 1.2)).to_config()
    )
    y_noise: float = 0.01
    pad_noise: float = 0.01
    x_ramp_start: float = 1e-3
    x_ramp_end: float = 0.5
    latent_noise: bool = False
    parameter_bounds: tuple[tuple[float | None, float | None], ...] | None = None
    resimulations_per_step: int = 0
    latent: LatentConfig = field(default_factory=LatentConfig)

    def __post_init__(self) -> None:
        steps = self.resimulations_per_step
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise ValueError(f"resimulations_per_step must be an int >= 0, got {steps!r}")
        if self.parameter_bounds is not None:
            bounds = BoundedSupport.from_bounds(self.parameter_bounds).to_config()
            object.__setattr__(self, "parameter_bounds", tuple(tuple(b) for b in bounds))
        if not isinstance(self.latent, LatentConfig):
            raise TypeError(f"latent must be a LatentConfig, got {type(self.latent).__name__}")
        if self.weights.sparsity and self.latent.kind != "gaussian_mixture":
            raise ValueError(
                "weights.sparsity > 0 penalises mixture weights: it needs "
                f"latent=LatentConfig(kind='gaussian_mixture'), got kind={self.latent.kind!r}"
            )

    def to_json(self) -> dict:
        """JSON-serialisable form."""
        bounds = self.parameter_bounds
        return asdict(self) | {
            "parameter_bounds": None if bounds is None else [list(b) for b in bounds],
            "latent": self.latent.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict) -> INNConfig:
        """Inverse of :meth:`to_json`; files written before ``latent`` existed load with
        the standard normal latent they were trained with."""
        bounds = data.get("parameter_bounds")
        return cls(
            **(
                data
                | {
                    "weights": LossWeights(**data["weights"]),
                    "stabilisers": Stabilisers.from_json(data.get("stabilisers")),
                    "parameter_bounds": None if bounds is None else tuple(map(tuple, bounds)),
                    "latent": LatentConfig.from_json(data.get("latent", {})),
                }
            )
        )
