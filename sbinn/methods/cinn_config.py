"""Architecture settings of the conditional INN, :class:`~sbinn.methods.cinn.CINN`.

Examples:
    >>> config = CINNConfig(conditioning="deepset", discrete_parameters=[2])
    >>> CINNConfig.from_json(config.to_json()) == config
    True
    >>> CINNConfig(conditioning="cnn")
    Traceback (most recent call last):
    ...
    ValueError: conditioning must be one of 'mlp', 'conv1d', ...; got 'cnn'
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from sbinn._validation import check_positive_int
from sbinn.methods.cinn_conditioning import CONDITIONINGS
from sbinn.nn.base import check_choice
from sbinn.support import BoundedSupport

__all__ = ["CINNConfig"]


@dataclass(frozen=True)
class CINNConfig:
    """Architecture of a :class:`CINN`.

    Attributes:
        num_blocks: Conditional coupling blocks (each followed by a fixed random rotation).
        hidden_features: Width of the coupling subnetworks.
        num_hidden_layers: Hidden layers per coupling subnetwork.
        activation: Subnetwork activation.
        coupling: ``"affine"`` or ``"additive"``.
        clamp: Soft-clamp bound of the affine log-scales.
        clamp_kind: Scale function, ``"tanh"``, ``"atan"`` or ``"sigmoid"`` (:mod:`sbinn.nn.scale`).
        actnorm: ActNorm at the start of every block.
        conditioning: ``"mlp"``, ``"conv1d"``, ``"deepset"``, ``"set_transformer"`` or
            ``"none"`` (the standardised x is the condition: an ablation). ``None`` picks
            ``"deepset"`` for 3-D observations (NaN-padded sets) and ``"mlp"`` otherwise.
        summary_features: Width of the condition the conditioning network returns.
        summary_hidden_features: Hidden width of the MLP, DeepSet and SetTransformer.
        summary_hidden_layers: Hidden layers of the MLP summary. One trains faster than two:
            the coupling subnetworks add depth after it (on a 5-D linear-Gaussian task the
            gap to the exact posterior after 8 epochs fell from 0.86 to 0.16 nats).
        discrete_parameters: Indices of integer-valued parameters: dequantised with
            ``U(-1/2, 1/2)`` noise in training, rounded when sampled.
        observation_noise: Standard deviation of Gaussian noise added to the standardised
            observations of every training batch. For a simulator without noise the
            posterior lies on a manifold and has no density; maximum likelihood then keeps
            squeezing across the manifold, at the expense of the distribution along it. A
            little noise gives the posterior a width the network can reach, at a cost in
            sharpness: on kinematics, 0.01 brought calibration from 2.25% to 0.90% and
            raised the mean re-simulation error from 0.0058 to 0.0086.
        observation_noise_final: If given, the observation noise decays geometrically from
            ``observation_noise`` to this value over training: the wide start keeps the
            flow from squeezing across the manifold early, the narrow end fits the
            posterior of (nearly) noiseless observations. ``None``: constant noise.
        parameter_bounds: ``[(low, high), ...]`` per parameter (``None`` for an open side),
            typically the prior's support: the flow then learns the parameters mapped onto
            the real line (:mod:`sbinn.support`), so no sample leaves the support and
            densities near a bound are not smeared (the training losses are then NLLs of
            the mapped parameters; :meth:`CINN.log_prob` is in the user's units). ``None``:
            the flow works on the parameters themselves.
    """

    num_blocks: int = 6
    hidden_features: int = 64
    num_hidden_layers: int = 2
    activation: str = "leaky_relu"
    coupling: str = "affine"
    clamp: float = 2.0
    clamp_kind: str = "tanh"
    actnorm: bool = False
    conditioning: str | None = None
    summary_features: int = 32
    summary_hidden_features: int = 64
    summary_hidden_layers: int = 1
    discrete_parameters: tuple[int, ...] = ()
    observation_noise: float = 0.0
    observation_noise_final: float | None = None
    parameter_bounds: tuple[tuple[float | None, float | None], ...] | None = None

    def __post_init__(self) -> None:
        noise = self.observation_noise
        if (
            isinstance(noise, bool)
            or not isinstance(noise, int | float)
            or not (math.isfinite(noise) and noise >= 0)
        ):
            raise ValueError(f"observation_noise must be a number >= 0, got {noise!r}")
        object.__setattr__(self, "observation_noise", float(noise))
        final = self.observation_noise_final
        if final is not None:
            if (
                isinstance(final, bool)
                or not isinstance(final, int | float)
                or not (0 < final <= noise)
            ):
                raise ValueError(
                    "observation_noise_final must be a number in (0, observation_noise] = "
                    f"(0, {noise}], got {final!r}"
                )
            object.__setattr__(self, "observation_noise_final", float(final))
        if self.conditioning is not None:
            check_choice(self.conditioning, "conditioning", CONDITIONINGS)
        for name in ("summary_features", "summary_hidden_features"):
            check_positive_int(getattr(self, name), name)
        indices = tuple(self.discrete_parameters)
        if any(
            isinstance(i, bool) or not isinstance(i, int | np.integer) or i < 0 for i in indices
        ):
            raise ValueError(
                f"discrete_parameters must be parameter indices (integers >= 0), got {indices!r}"
            )
        if len(set(indices)) != len(indices):
            raise ValueError(f"discrete_parameters must not repeat an index, got {indices}")
        object.__setattr__(self, "discrete_parameters", tuple(int(i) for i in indices))
        if self.parameter_bounds is not None:
            bounds = BoundedSupport.from_bounds(self.parameter_bounds).to_config()
            clash = [i for i in indices if i < len(bounds) and bounds[i] != [None, None]]
            if clash:
                raise ValueError(
                    f"discrete_parameters {clash} cannot also be bounded: rounding and the "
                    "logit map do not mix; give them (None, None)"
                )
            object.__setattr__(self, "parameter_bounds", tuple(tuple(b) for b in bounds))

    def to_json(self) -> dict:
        """JSON-serialisable form."""
        bounds = self.parameter_bounds
        return asdict(self) | {
            "discrete_parameters": list(self.discrete_parameters),
            "parameter_bounds": None if bounds is None else [list(b) for b in bounds],
        }

    @classmethod
    def from_json(cls, data: dict) -> CINNConfig:
        """Inverse of :meth:`to_json`."""
        bounds = data.get("parameter_bounds")
        return cls(
            **(
                data
                | {
                    "discrete_parameters": tuple(data["discrete_parameters"]),
                    "parameter_bounds": None if bounds is None else tuple(map(tuple, bounds)),
                }
            )
        )
