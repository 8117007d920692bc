"""Argument handling shared by the trained estimators (:class:`~sbinn.methods.inn.BidirectionalINN`,
:class:`~sbinn.methods.cinn.CINN`): settings overrides, dtype and the ``fit`` data source.

Examples:
    >>> from sbinn.methods.cinn_config import CINNConfig
    >>> configure("CINN", CINNConfig, None, {"num_blocks": 2}).num_blocks
    2
    >>> configure("CINN", CINNConfig, None, {"blocks": 2})
    Traceback (most recent call last):
    ...
    TypeError: unknown CINN settings ['blocks']; expected fields of CINNConfig: [...]
"""

from __future__ import annotations

from dataclasses import replace
from typing import TypeVar

import torch

from sbinn.data import Standardizer
from sbinn.io import load_estimator
from sbinn.simulator import Simulator
from sbinn.train import resolve_device

__all__ = ["TrainedEstimator", "check_data_source", "check_float_dtype", "configure"]

Config = TypeVar("Config")


def configure(
    owner: str, config_type: type[Config], config: Config | None, overrides: dict
) -> Config:
    """``config`` (or the default) with ``overrides`` applied; unknown fields are refused."""
    fields = set(config_type.__dataclass_fields__)
    unknown = set(overrides) - fields
    if unknown:
        raise TypeError(
            f"unknown {owner} settings {sorted(unknown)}; "
            f"expected fields of {config_type.__name__}: {sorted(fields)}"
        )
    return replace(config or config_type(), **overrides)


def check_float_dtype(dtype: object) -> torch.dtype:
    """``dtype`` if it is ``torch.float32`` or ``torch.float64``."""
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
    return dtype


def check_data_source(theta: object, x: object, simulator: object) -> None:
    """``fit`` takes either arrays ``(theta, x)`` or a simulator, never both or neither."""
    if simulator is None:
        if theta is None or x is None:
            raise ValueError("fit needs (theta, x) arrays or simulator=... with num_simulations")
        return
    if theta is not None or x is not None:
        raise ValueError("pass either (theta, x) or simulator=..., not both")
    if not isinstance(simulator, Simulator):
        raise TypeError(f"simulator must be an sbinn Simulator, got {type(simulator).__name__}")


class TrainedEstimator:
    """State every trained estimator starts with: its configuration, device, dtype and seed,
    and the record of its training (``history``, ``time_s``, ``num_simulations``).

    Subclasses set ``kind`` (the tag of saved files) and ``config_type`` (their settings
    dataclass) and add their own fields after calling ``super().__init__``.

    Args:
        config: Settings; keyword overrides may be passed instead.
        device: ``"cpu"`` (default), ``"cuda"`` or ``"auto"``.
        dtype: ``torch.float32`` (default) or ``torch.float64``.
        seed: Seeds the initial weights, the simulations and the training.
        **overrides: Fields of ``config_type``.
    """

    kind: str
    config_type: type

    def __init__(
        self,
        config: object = None,
        *,
        device: str = "cpu",
        dtype: torch.dtype = torch.float32,
        seed: int = 0,
        **overrides: object,
    ) -> None:
        self.config = configure(type(self).__name__, self.config_type, config, overrides)
        self.device = resolve_device(device)
        self.dtype = check_float_dtype(dtype)
        self.seed = seed
        self.theta_scaler: Standardizer | None = None
        self.dims: dict[str, int] = {}
        self.history = None
        self.time_s = {"simulation": 0.0, "training": 0.0, "sampling": 0.0}
        self.num_simulations = 0

    def _record(self) -> dict:
        """The part of ``settings()`` every estimator shares."""
        return {
            "method": self.kind,
            "seed": self.seed,
            "dtype": str(self.dtype),
            "config": self.config.to_json(),
        }

    @classmethod
    def _restore(cls, path, device: str) -> tuple[TrainedEstimator, dict, dict]:
        """An estimator rebuilt from a saved file's configuration and parameter scaling,
        with the saved configuration and tensors, for ``load`` to finish."""
        config, state = load_estimator(path, cls.kind)
        dtype = torch.float64 if config["dtype"] == "torch.float64" else torch.float32
        estimator = cls(
            cls.config_type.from_json(config["config"]),
            device=device,
            dtype=dtype,
            seed=config["seed"],
        )
        estimator.theta_scaler = Standardizer.from_config(config["theta_scaler"])
        return estimator, config, state
