"""Every public function and class has a docstring (issue 10).

Public means: named in a module's ``__all__`` anywhere in ``sbinn/`` or ``simulators/``,
and, for a class, each public method and property the class defines itself. An override
inherits the docstring of the method it overrides (as ``help()`` and the API reference
show it), so a contract such as ``Prior.sample`` is documented once, on the base class.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import sbinn
import simulators

PACKAGES = (sbinn, simulators)
SKIPPED_MODULES = ("simulators.cluster_cmd.data",)


def _modules():
    for package in PACKAGES:
        yield package
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if info.name.startswith(SKIPPED_MODULES):
                continue
            yield importlib.import_module(info.name)


def _is_ours(obj) -> bool:
    return getattr(obj, "__module__", "").split(".")[0] in {"sbinn", "simulators"}


def _public_methods(cls):
    """Public methods and properties that ``cls`` itself defines (not inherited ones)."""
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        if isinstance(member, property) or inspect.isfunction(member):
            yield name


def _undocumented(qualname: str, obj) -> list[str]:
    missing = [] if inspect.getdoc(obj) else [qualname]
    if inspect.isclass(obj):
        # ``inspect.getdoc`` falls back to the overridden method's docstring, so an
        # override of a documented contract (``Prior.sample``, ``Simulator.settings``)
        # counts as documented there, as in ``help()`` and the API reference.
        missing += [
            f"{qualname}.{name}"
            for name in _public_methods(obj)
            if not inspect.getdoc(getattr(obj, name))
        ]
    return missing


def public_objects():
    """``(qualified name, object)`` for every function and class in an ``__all__``."""
    seen = set()
    for module in _modules():
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)) or not _is_ours(obj):
                continue
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            yield f"{obj.__module__}.{obj.__qualname__}", obj


def test_public_objects_are_found():
    names = {name for name, _ in public_objects()}
    assert "sbinn.function_simulator.FunctionSimulator" in names
    assert "sbinn.diagnostics.calibration.calibration_error" in names
    assert len(names) > 100


def test_every_public_function_and_class_has_a_docstring():
    offenders = sorted(
        missing for name, obj in public_objects() for missing in _undocumented(name, obj)
    )
    assert not offenders, f"{len(offenders)} public objects without a docstring:\n" + "\n".join(
        offenders
    )
