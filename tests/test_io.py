"""Versioned estimator files: round trip, and refusal of corrupted or foreign files."""

from __future__ import annotations

import pytest
import torch

from sbinn.io import load_estimator, save_estimator


def test_round_trip(tmp_path):
    path = tmp_path / "model.sbinn"
    save_estimator(path, "demo", {"a": [1, 2], "b": "x"}, {"w": torch.arange(3.0)})
    config, state = load_estimator(path, "demo")
    assert config == {"a": [1, 2], "b": "x"}
    torch.testing.assert_close(state["w"], torch.arange(3.0))
    assert not list(tmp_path.glob("*.partial"))


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no saved estimator"):
        load_estimator(tmp_path / "nothing.sbinn", "demo")


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        (b"garbage bytes", "not a readable sbinn estimator file"),
        ({"some": "dict"}, "not an sbinn estimator file"),
        ({"tag": "sbinn-estimator", "format": 99, "kind": "demo"}, "file format 99"),
        (
            {"tag": "sbinn-estimator", "format": 1, "kind": "other", "config": "{}", "state": {}},
            "holds a 'other' estimator, expected 'demo'",
        ),
    ],
)
def test_foreign_or_corrupted_files_are_refused(tmp_path, payload, match):
    path = tmp_path / "model.sbinn"
    if isinstance(payload, bytes):
        path.write_bytes(payload)
    else:
        torch.save(payload, path)
    with pytest.raises(ValueError, match=match):
        load_estimator(path, "demo")


def test_truncated_file_is_refused(tmp_path):
    path = tmp_path / "model.sbinn"
    save_estimator(path, "demo", {}, {"w": torch.randn(1000)})
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match="not a readable"):
        load_estimator(path, "demo")
