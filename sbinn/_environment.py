"""The software a result was produced with, for records and reports.

Examples:
    >>> versions = package_versions()
    >>> sorted(versions)[:3]
    ['arviz', 'corner', 'machine']
"""

from __future__ import annotations

import platform
from importlib import metadata

__all__ = ["package_versions"]

# The distributions whose versions change sbinn's numbers or plots.
_DISTRIBUTIONS = (
    "sbinn",
    "numpy",
    "scipy",
    "torch",
    "scikit-learn",
    "matplotlib",
    "corner",
    "arviz",
)


def package_versions() -> dict[str, str]:
    """Python, the machine, and the installed version of each library sbinn computes with.

    A library that is not installed is reported as ``"not installed"`` rather than left out,
    so that two records always have the same keys.
    """
    versions = {"python": platform.python_version(), "machine": platform.machine()}
    for name in _DISTRIBUTIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
