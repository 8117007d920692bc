"""Versioned saving and loading of trained estimators: weights plus a JSON configuration.

A file holds a format tag, the estimator kind, its configuration as a JSON string and the
tensors of its state. It is written with :func:`torch.save` and read back with
``weights_only=True``, so loading a file never runs code from it, whoever wrote it.
Writes go to a temporary name first, so an interrupted save never leaves a broken file.

Examples:
    >>> import tempfile, torch
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "model.sbinn"
    >>> save_estimator(path, "demo", {"width": 4}, {"w": torch.ones(2)})
    >>> config, state = load_estimator(path, "demo")
    >>> config, state["w"].tolist()
    ({'width': 4}, [1.0, 1.0])
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

__all__ = ["FORMAT_VERSION", "load_estimator", "save_estimator"]

FORMAT_VERSION = 1
_TAG = "sbinn-estimator"


def save_estimator(
    path: str | Path, kind: str, config: dict, state: dict[str, torch.Tensor]
) -> None:
    """Write an estimator's configuration and tensors to ``path``."""
    path = Path(path)
    payload = {
        "tag": _TAG,
        "format": FORMAT_VERSION,
        "kind": kind,
        "config": json.dumps(config),
        "state": {k: v.detach().cpu() for k, v in state.items()},
    }
    partial = path.with_name(path.name + ".partial")
    torch.save(payload, partial)
    partial.replace(path)


def load_estimator(path: str | Path, kind: str) -> tuple[dict, dict[str, torch.Tensor]]:
    """Read what :func:`save_estimator` wrote, checking the tag, version and kind.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: for corrupted or foreign files, other versions, or another kind.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no saved estimator at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise ValueError(f"{path} is not a readable sbinn estimator file ({error})") from error
    if not isinstance(payload, dict) or payload.get("tag") != _TAG:
        raise ValueError(f"{path} is not an sbinn estimator file")
    if payload.get("format") != FORMAT_VERSION:
        raise ValueError(
            f"{path} has sbinn file format {payload.get('format')}, this version reads "
            f"format {FORMAT_VERSION}"
        )
    if payload.get("kind") != kind:
        raise ValueError(f"{path} holds a {payload.get('kind')!r} estimator, expected {kind!r}")
    return json.loads(payload["config"]), payload["state"]
