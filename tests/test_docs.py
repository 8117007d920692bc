"""The documentation site builds with warnings treated as errors (issue 10).

``mkdocs build --strict`` renders every page, the API reference from the docstrings
(mkdocstrings, Google style) and checks every link; any warning fails the build. The build
needs no network: MathJax is loaded by the reader's browser, not at build time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _mkdocs() -> list[str]:
    beside_python = Path(sys.executable).with_name("mkdocs")
    if beside_python.exists():
        return [str(beside_python)]
    found = shutil.which("mkdocs")
    if found is None:
        pytest.skip("mkdocs is not installed (pip install 'sbinn[dev]')")
    return [found]


def test_site_builds_without_warnings(tmp_path):
    environment = {
        **os.environ,
        "NO_MKDOCS_2_WARNING": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    site = tmp_path / "site"
    completed = subprocess.run(
        [*_mkdocs(), "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    log = completed.stdout + completed.stderr
    warnings = [line for line in log.splitlines() if "WARNING" in line or "ERROR" in line]
    assert completed.returncode == 0 and not warnings, "mkdocs build --strict failed:\n" + log
    for page in ("index.html", "api/methods/index.html", "concepts/conditional-inn/index.html"):
        assert (site / page).is_file(), page
    reference = (site / "api" / "diagnostics" / "index.html").read_text(encoding="utf-8")
    assert "sbinn.diagnostics.calibration_error" in reference
