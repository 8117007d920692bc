"""Argument handling shared by the trained estimators (:class:`~sbinn.methods.inn.BidirectionalINN`,
:class:`~sbinn.methods.cinn.CINN`): settings overrides, dtype and the ``fit`` data source.

Example:
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

from sbinn.simulator import Simulator

__all__ = ["check_data_source", "check_float_dtype", "configure"]

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
