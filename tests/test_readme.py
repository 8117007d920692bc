"""The README's Python examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).parents[1] / "README.md"


def test_readme_python_blocks_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the report example writes calibration.html
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README has no python examples"
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    assert namespace["samples"].shape == (5, 200, 2)
    assert namespace["amortised"].shape == (5, 200, 2)
    assert namespace["log_density"].shape == (5,)
    assert (tmp_path / "calibration.html").exists() and (tmp_path / "calibration.json").exists()
