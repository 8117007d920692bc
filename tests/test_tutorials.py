"""The tutorials run top to bottom, at their small budget, as notebooks.

Every ``tutorials/NN_name.py`` is a jupytext "percent" script. Each test reads one with
jupytext, executes it in a fresh Jupyter kernel with ``SBINN_TUTORIAL_SMALL=1`` (the budget
parameter every tutorial reads in its ``parameters`` cell) and the Agg backend, in a
temporary working directory, and fails with the failing cell's source and error.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).parents[1]
TUTORIALS = sorted((ROOT / "tutorials").glob("[0-9][0-9]_*.py"))
# The acceptance bound for one tutorial at its small budget, in seconds.
SMALL_BUDGET_LIMIT_S = 180


def _ids(paths: list[Path]) -> list[str]:
    return [path.stem for path in paths]


def _parameter_cells(notebook) -> list:
    return [
        cell
        for cell in notebook.cells
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", [])
    ]


def test_tutorials_are_found():
    assert TUTORIALS, "no tutorials/NN_name.py found"


@pytest.mark.parametrize("path", TUTORIALS, ids=_ids(TUTORIALS))
def test_tutorial_has_one_budget_parameter_and_no_outputs(path):
    notebook = jupytext.read(path)
    cells = _parameter_cells(notebook)
    assert len(cells) == 1, f"{path.name}: {len(cells)} cells tagged 'parameters', expected 1"
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code_cells[0] is cells[0], f"{path.name}: the first code cell must be 'parameters'"
    assert "SMALL =" in cells[0].source, f"{path.name}: the parameters cell must define SMALL"
    assert "SBINN_TUTORIAL_SMALL" in cells[0].source
    for cell in code_cells:
        assert not cell.get("outputs") and cell.get("execution_count") is None, (
            f"{path.name}: stored with outputs"
        )
    assert notebook.metadata["jupytext"]["text_representation"]["format_name"] == "percent"


def test_no_notebook_in_tutorials_holds_outputs():
    """Notebooks made from the scripts (``jupytext --to notebook``) must not be stored run."""
    import nbformat

    for path in sorted((ROOT / "tutorials").glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            assert not cell.get("outputs"), f"{path.name} holds outputs"


@pytest.mark.parametrize("path", TUTORIALS, ids=_ids(TUTORIALS))
def test_tutorial_runs_at_small_budget(path, tmp_path, monkeypatch):
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    monkeypatch.setenv("SBINN_TUTORIAL_SMALL", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    python_path = os.environ.get("PYTHONPATH")
    monkeypatch.setenv(
        "PYTHONPATH", str(ROOT) if not python_path else os.pathsep.join([str(ROOT), python_path])
    )
    notebook = jupytext.read(path)
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=600,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    start = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as error:
        message = re.sub(r"\x1b\[[0-9;]*m", "", str(error))  # the traceback's colours
        pytest.fail(f"{path.name} failed at small budget. {message}", pytrace=False)
    elapsed = time.perf_counter() - start
    print(f"{path.name}: {elapsed:.1f} s at small budget")
    assert elapsed <= SMALL_BUDGET_LIMIT_S, (
        f"{path.name} took {elapsed:.0f} s at small budget (limit {SMALL_BUDGET_LIMIT_S} s)"
    )
