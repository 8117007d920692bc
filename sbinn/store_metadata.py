"""What a :class:`~sbinn.store.SimulationStore` records about how it was written, and checks.

The record lives in the attributes of the store's root zarr group under
:data:`METADATA_KEY`. The fields in :data:`CONFIGURATION_FIELDS` decide every simulation in
the store, so a store is only ever filled by a simulator whose record matches them
exactly; the others are informative.

Example:
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

import sbinn
from sbinn.simulator import Simulator

__all__ = [
    "CONFIGURATION_FIELDS",
    "FORMAT_VERSION",
    "METADATA_KEY",
    "StoreFormatError",
    "StoreMismatchError",
    "check_metadata",
    "configuration_differences",
    "store_metadata",
]

FORMAT_VERSION = 1
METADATA_KEY = "sbinn_simulation_store"
CONFIGURATION_FIELDS = ("simulator", "seed", "chunk_size", "with_noise")


class StoreFormatError(ValueError):
    """A path holds no sbinn simulation store, or one whose record is damaged."""


class StoreMismatchError(ValueError):
    """A store was written by a different simulator configuration than the one given."""


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
