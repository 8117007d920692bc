"""The on-disk format of a :class:`~sbinn.store.SimulationStore`: its arrays and its record.

A store is a zarr v3 group with float64 arrays ``theta (n, dim_parameters)``,
``x (n, *observation_shape)`` and, optionally, ``noise (n, noise_dimension)``, chunked
along their first axis like the simulation chunks, and an int64 array ``num_failed`` with
one element per chunk, each in its own zarr chunk: the number of failed simulations of a
written chunk, :data:`NOT_WRITTEN` for the others.

The record of how the store was written lives in the attributes of the store's root zarr group under
:data:`METADATA_KEY`. The fields in :data:`CONFIGURATION_FIELDS` decide every simulation in
the store, so a store is only ever filled by a simulator whose record matches them
exactly; the others are informative.

Examples:
    >>> from sbinn.function_simulator import FunctionSimulator
    >>> from sbinn.priors import JointPrior, Normal
    >>> sim = FunctionSimulator(lambda t: t, JointPrior({"a": Normal(0, 1)}), name="shift")
    >>> record = store_metadata(sim, seed=1, chunk_size=10, with_noise=False)
    >>> other = store_metadata(sim, seed=2, chunk_size=10, with_noise=False)
    >>> configuration_differences(record, other)
    ['seed: store 1, given 2']
"""

from __future__ import annotations

import datetime
import json
import numbers
from pathlib import Path

import numpy as np
import zarr

import sbinn
from sbinn.simulator import Simulator

__all__ = [
    "CONFIGURATION_FIELDS",
    "FORMAT_VERSION",
    "METADATA_KEY",
    "NOT_WRITTEN",
    "RecordedSimulator",
    "StoreFormatError",
    "StoreMismatchError",
    "check_layout",
    "check_metadata",
    "check_seed",
    "configuration_differences",
    "create_layout",
    "open_group",
    "store_metadata",
]

FORMAT_VERSION = 1
METADATA_KEY = "sbinn_simulation_store"
CONFIGURATION_FIELDS = ("simulator", "seed", "chunk_size", "with_noise")
NOT_WRITTEN = -1


class StoreFormatError(ValueError):
    """A path holds no sbinn simulation store, or one whose record is damaged."""


class StoreMismatchError(ValueError):
    """A store was written by a different simulator configuration than the one given."""


class RecordedSimulator:
    """What a :class:`~sbinn.simulation_failures.FailureTracker` needs, from a store's record."""

    def __init__(self, record: dict) -> None:
        self.name = record["simulator"]["name"]
        self.max_failure_fraction = record["max_failure_fraction"]
        self.last_exception = None

    @staticmethod
    def valid_mask(x: np.ndarray) -> np.ndarray:
        """Failed simulations are stored as all-NaN rows."""
        return ~np.all(np.isnan(x), axis=tuple(range(1, x.ndim)))


def check_seed(seed: object) -> int:
    """A store's root seed: a non-negative int, or ``None`` for one drawn from the OS."""
    if seed is None:
        return int(np.random.SeedSequence().entropy % 2**63)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative int or None, got {seed!r}")
    return int(seed)


def _to_json(value: object) -> object:
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} {value!r} is not JSON-serialisable")


def store_metadata(simulator: Simulator, *, seed: int, chunk_size: int, with_noise: bool) -> dict:
    """The record of a new store, as it will read back from its JSON attributes."""
    try:
        settings = json.loads(json.dumps(simulator.settings(), default=_to_json))
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"simulator {simulator.name!r}: settings() must be JSON-serialisable to be "
            f"recorded in a store ({error})"
        ) from error
    return {
        "format_version": FORMAT_VERSION,
        "sbinn_version": sbinn.__version__,
        "created_utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "simulator": settings,
        "seed": int(seed),
        "chunk_size": int(chunk_size),
        "with_noise": bool(with_noise),
        "noise_dimension": simulator.noise_dimension if with_noise else 0,
        "max_failure_fraction": simulator.max_failure_fraction,
        "num_simulations": 0,
    }


def _is_int(value: object, minimum: int) -> bool:
    return not isinstance(value, bool) and isinstance(value, numbers.Integral) and value >= minimum


_CHECKS = {
    "format_version": lambda v: _is_int(v, 1),
    "simulator": lambda v: (
        isinstance(v, dict)
        and isinstance(v.get("name"), str)
        and isinstance(v.get("parameter_names"), list)
        and len(v["parameter_names"]) > 0
        and isinstance(v.get("observation_shape"), list)
        and all(_is_int(s, 1) for s in v["observation_shape"])
    ),
    "seed": lambda v: _is_int(v, 0),
    "chunk_size": lambda v: _is_int(v, 1),
    "with_noise": lambda v: isinstance(v, bool),
    "noise_dimension": lambda v: _is_int(v, 0),
    "max_failure_fraction": lambda v: isinstance(v, numbers.Real) and 0 <= v <= 1,
    "num_simulations": lambda v: _is_int(v, 0),
}


def check_metadata(attributes: dict, where: str) -> dict:
    """Return the store record in a root group's ``attributes``, or explain what is wrong.

    Raises:
        StoreFormatError: if there is no record, a field is missing or malformed, or the
            store was written in a newer format.
    """
    if METADATA_KEY not in attributes:
        raise StoreFormatError(
            f"{where} is a zarr group but not an sbinn simulation store "
            f"(no {METADATA_KEY!r} attribute)"
        )
    record = attributes[METADATA_KEY]
    if not isinstance(record, dict):
        raise StoreFormatError(f"{where}: the store record is damaged (not a JSON object)")
    bad = [name for name, ok in _CHECKS.items() if name not in record or not ok(record[name])]
    if bad:
        shown = {name: record.get(name, "<missing>") for name in bad}
        raise StoreFormatError(f"{where}: the store record is damaged; bad field(s): {shown}")
    if record["format_version"] > FORMAT_VERSION:
        raise StoreFormatError(
            f"{where} was written in store format {record['format_version']} by sbinn "
            f"{record.get('sbinn_version')}; this sbinn reads format {FORMAT_VERSION} only"
        )
    if record["with_noise"] != (record["noise_dimension"] > 0):
        raise StoreFormatError(
            f"{where}: the store record is damaged; with_noise={record['with_noise']} but "
            f"noise_dimension={record['noise_dimension']}"
        )
    return record


def _differences(stored: object, given: object, path: str) -> list[str]:
    if isinstance(stored, dict) and isinstance(given, dict):
        return [
            line
            for key in sorted(stored.keys() | given.keys(), key=str)
            for line in _differences(
                stored.get(key, "<absent>"), given.get(key, "<absent>"), f"{path}.{key}"
            )
        ]
    if stored != given:
        return [f"{path}: store {stored!r}, given {given!r}"]
    return []


def configuration_differences(stored: dict, given: dict) -> list[str]:
    """One line per field of :data:`CONFIGURATION_FIELDS` that differs, with both values."""
    return [
        line
        for field in CONFIGURATION_FIELDS
        for line in _differences(stored[field], given[field], field)
    ]


def _column_shapes(record: dict) -> dict[str, tuple[int, ...]]:
    """The shape of one row of each data array."""
    columns = {
        "theta": (len(record["simulator"]["parameter_names"]),),
        "x": tuple(record["simulator"]["observation_shape"]),
    }
    if record["with_noise"]:
        columns["noise"] = (record["noise_dimension"],)
    return columns


def create_layout(path: Path, record: dict) -> zarr.Group:
    """Create the empty arrays of a store at ``path``, then its record."""
    store = zarr.storage.LocalStore(str(path))
    for name, shape in _column_shapes(record).items():
        zarr.create_array(
            store,
            name=name,
            shape=(0, *shape),
            chunks=(record["chunk_size"], *shape),
            dtype="float64",
            fill_value=np.nan,
        )
    zarr.create_array(
        store, name="num_failed", shape=(0,), chunks=(1,), dtype="int64", fill_value=NOT_WRITTEN
    )
    # The record comes last: a directory without it is not (yet) a store.
    group = zarr.open_group(store, mode="r+")
    group.attrs[METADATA_KEY] = record
    return group


def open_group(path: Path) -> zarr.Group:
    """The root group of the store at ``path``, opened for reading and writing.

    Raises:
        FileNotFoundError: if ``path`` is not a directory.
        StoreFormatError: if it does not hold a readable zarr v3 group.
    """
    if not path.is_dir():
        raise FileNotFoundError(f"no simulation store at {path} (not a directory)")
    if not (path / "zarr.json").is_file():
        raise StoreFormatError(f"{path} is not an sbinn simulation store (no zarr.json)")
    try:
        node = zarr.open(store=str(path), mode="r+")
    except Exception as error:
        raise StoreFormatError(
            f"{path} is not a readable zarr v3 hierarchy: {type(error).__name__}: {error}"
        ) from error
    if not isinstance(node, zarr.Group):
        raise StoreFormatError(f"{path} is a zarr array, not an sbinn simulation store")
    return node


def check_layout(group: zarr.Group, record: dict, where: str) -> dict[str, zarr.Array]:
    """The arrays of a store, checked against its record.

    An array may be shorter than the record says (a growth interrupted before the arrays
    were resized), never longer.

    Raises:
        StoreFormatError: if an array is missing or has the wrong shape or chunks.
    """
    num_simulations, chunk_size = record["num_simulations"], record["chunk_size"]
    expected = {
        name: (num_simulations, shape, (chunk_size, *shape))
        for name, shape in _column_shapes(record).items()
    }
    expected["num_failed"] = (-(-num_simulations // chunk_size), (), (1,))
    arrays = {}
    for name, (rows, shape, chunks) in expected.items():
        array = group.get(name)
        if (
            not isinstance(array, zarr.Array)
            or array.shape[1:] != shape
            or array.chunks != chunks
            or array.shape[0] > rows
        ):
            found = "missing" if array is None else f"shape {array.shape}"
            raise StoreFormatError(
                f"{where}: the store is damaged; array {name!r} is {found}, expected "
                f"shape ({rows}, *{shape}) in chunks {chunks}"
            )
        arrays[name] = array
    return arrays
