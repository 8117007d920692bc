"""Training checkpoints of :func:`sbinn.train.train`: written atomically, read without pickle.

A checkpoint holds the model, optimiser and schedule states, the history, the loop's
position and torch's random state, so that an interrupted run resumes where it stopped.
It is read with ``weights_only=True``: a checkpoint is data, never code.
"""

from __future__ import annotations

from pathlib import Path

import torch

__all__ = ["load_checkpoint", "save_checkpoint"]

_CHECKPOINT_FORMAT = 1


def save_checkpoint(path: Path, model, optimizer, scheduler, history, state) -> None:
    """Write the training state to ``path`` atomically (a partial file, then a rename)."""
    payload = {
        "format": _CHECKPOINT_FORMAT,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "history": history.to_json(),
        "state": {k: v for k, v in state.items() if k != "best_state"},
        "best_state": state["best_state"],
        "torch_rng": torch.get_rng_state(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    torch.save(payload, partial)
    partial.replace(path)


def load_checkpoint(path: Path, model, optimizer, scheduler, history, state) -> None:
    """Restore what :func:`save_checkpoint` wrote into the given objects, in place."""
    try:
        # weights_only: a checkpoint is data, never code, even if the file is not ours.
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise ValueError(
            f"cannot resume from {path}: not a readable sbinn checkpoint ({error}). "
            "Delete it or pass resume=False."
        ) from error
    if not isinstance(payload, dict) or payload.get("format") != _CHECKPOINT_FORMAT:
        raise ValueError(f"cannot resume from {path}: not an sbinn training checkpoint")
    try:
        model.load_state_dict(payload["model"])
    except RuntimeError as error:
        raise ValueError(
            f"cannot resume from {path}: it was written for a different model ({error})"
        ) from error
    optimizer.load_state_dict(payload["optimizer"])
    scheduler.load_state_dict(payload["scheduler"])
    for key, value in payload["history"].items():
        setattr(history, key, value)
    state.update(payload["state"])
    state["best_state"] = payload["best_state"]
    torch.set_rng_state(payload["torch_rng"])
