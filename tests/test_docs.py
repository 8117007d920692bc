"""The documentation site builds with warnings treated as errors (issue 10).

``mkdocs build --strict`` renders every page, the API reference from the docstrings
(mkdocstrings, Google style) and checks every link; any warning fails the build. The build
needs no network: MathJax is loaded by the reader's browser, not at build time.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
API = ROOT / "docs" / "api"


def _mkdocs() -> list[str]:
    beside_python = Path(sys.executable).with_name("mkdocs")
    if beside_python.exists():
        return [str(beside_python)]
    found = shutil.which("mkdocs")
    if found is None:
        pytest.skip("mkdocs is not installed (pip install 'sbinn[dev]')")
    return [found]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site, built once for this module's tests."""
    return _build(tmp_path_factory.mktemp("docs"))


def _build(tmp_path: Path) -> Path:
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
    return site


def test_site_builds_without_warnings(site):
    for page in ("index.html", "api/methods/index.html", "concepts/conditional-inn/index.html"):
        assert (site / page).is_file(), page
    reference = (site / "api" / "diagnostics" / "index.html").read_text(encoding="utf-8")
    assert "sbinn.diagnostics.calibration_error" in reference


def _documented_modules() -> list[str]:
    return [
        line.removeprefix("::: ").strip()
        for page in sorted(API.glob("*.md"))
        for line in page.read_text(encoding="utf-8").splitlines()
        if line.startswith("::: ")
    ]


def test_api_reference_shows_every_public_function_and_class(site):
    anchors = set()
    for page in (site / "api").rglob("*.html"):
        anchors |= set(re.findall(r'id="([\w.]+)"', page.read_text(encoding="utf-8")))
    missing = []
    for name in _documented_modules():
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            continue  # a single object, such as sbinn.diagnostics.tarp.tarp
        for public in getattr(module, "__all__", ()):
            obj = getattr(module, public)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            own = f"{obj.__module__}.{obj.__qualname__}"
            if f"{name}.{public}" not in anchors and own not in anchors:
                missing.append(f"{name}.{public}")
    assert not missing, "not in the API reference:\n" + "\n".join(missing)
