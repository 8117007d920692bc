"""What the hand-run benchmark scripts share: the environment of a run, and writing its results.

The scripts are run as ``.venv/bin/python benchmarks/NAME.py``, which puts this folder on
``sys.path``, so they import this module as ``from _common import ...``. (The test suite
neither collects nor doctests this folder; the examples below run all the same.)

Example:
    >>> record = environment_record("python", "cpus", "numpy", "OMP_NUM_THREADS", threads=2)
    >>> list(record)
    ['python', 'cpus', 'numpy', 'OMP_NUM_THREADS', 'threads']
    >>> record["threads"]
    2
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from sbinn._environment import package_versions

__all__ = [
    "RESULTS",
    "environment_record",
    "load_average",
    "load_note",
    "publish",
    "timings",
    "write_results",
]

RESULTS = Path(__file__).parent / "results"
"""Where the scripts write their results by default."""


def _environment_value(field: str, versions: dict[str, str]) -> object:
    """One field of :func:`environment_record` that the caller did not give a value for."""
    if field == "processor":
        return platform.processor()
    if field == "cpus":
        return os.cpu_count()
    if field.isupper():
        return os.environ.get(field)
    if field in versions:
        return versions[field]
    try:
        return metadata.version(field)
    except metadata.PackageNotFoundError:
        return "not installed"


def environment_record(*fields: str, **values: object) -> dict[str, object]:
    """The named facts about this machine and process, as a dict in the order named.

    A field given a value in ``values`` takes it (for settings of the run, such as the
    thread count it asked torch for). Any other field is looked up:

    - ``"processor"``: :func:`platform.processor`; ``"cpus"``: :func:`os.cpu_count`;
    - a name in upper case, such as ``"OMP_NUM_THREADS"``: that environment variable,
      ``None`` where it is not set;
    - ``"python"``, ``"machine"`` and a distribution's name, such as ``"numpy"``: from
      :func:`sbinn._environment.package_versions`, or for a distribution it does not list
      (``"iadpython"``) the installed version, ``"not installed"`` where there is none.

    Entries of ``values`` not named in ``fields`` follow the named ones.

    Example:
        >>> record = environment_record("processor", "no-such-distribution", note="x")
        >>> list(record), record["no-such-distribution"], record["note"]
        (['processor', 'no-such-distribution', 'note'], 'not installed', 'x')
    """
    versions = package_versions()
    record = {
        field: values[field] if field in values else _environment_value(field, versions)
        for field in fields
    }
    return record | {key: value for key, value in values.items() if key not in record}


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages, to 2 decimals.

    Example:
        >>> len(load_average())
        3
    """
    return [round(x, 2) for x in os.getloadavg()]


def load_note(record: dict) -> str:
    """``"N CPUs, load average B before and A after"`` from a speed record's fields
    ``cpus``, ``load_average_before`` and ``load_average_after`` (1-minute averages).

    Example:
        >>> load_note({"cpus": 2, "load_average_before": [1.5], "load_average_after": [2.0]})
        '2 CPUs, load average 1.5 before and 2.0 after'
    """
    return (
        f"{record['cpus']} CPUs, load average {record['load_average_before'][0]} before and "
        f"{record['load_average_after'][0]} after"
    )


def timings(wall: Sequence[float], cpu: Sequence[float], digits: int = 4) -> dict[str, list]:
    """The wall and process CPU times of repeated runs, in seconds, rounded to ``digits``.

    Example:
        >>> timings([0.123456, 0.2], [0.1, 0.19999], digits=3)
        {'wall_s': [0.123, 0.2], 'cpu_s': [0.1, 0.2]}
    """
    return {"wall_s": [round(t, digits) for t in wall], "cpu_s": [round(t, digits) for t in cpu]}


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary name next to ``path``, then rename it to ``path``, so
    that a reader never sees a half-written file and an interrupted run leaves the old one."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_results(path_stem: Path | str, record: dict, markdown: str) -> tuple[Path, Path]:
    """Write ``record`` as indented JSON to ``path_stem.json`` and ``markdown`` as it is to
    ``path_stem.md``, each atomically, creating the folder if needed; returns both paths.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     paths = write_results(Path(folder) / "sub" / "demo", {"a": 1}, "| a |\\n")
        ...     [p.name for p in paths], paths[0].read_text(), paths[1].read_text()
        (['demo.json', 'demo.md'], '{\\n  "a": 1\\n}\\n', '| a |\\n')
    """
    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    json_path, markdown_path = stem.with_suffix(".json"), stem.with_suffix(".md")
    _write_atomic(json_path, json.dumps(record, indent=2) + "\n")
    _write_atomic(markdown_path, markdown)
    return json_path, markdown_path


def publish(path_stem: Path | str, record: dict, markdown: str, *, write: bool = True) -> None:
    """Print ``markdown``, then, if ``write``, :func:`write_results` it and ``record``.

    Example:
        >>> publish("unused", {}, "| a |\\n", write=False)
        | a |
    """
    print(markdown.removesuffix("\n"))
    if write:
        write_results(path_stem, record, markdown)
