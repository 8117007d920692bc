"""The report's short stability table: one row per method whose network was checked.

The benchmark puts each learned method's :func:`sbinn.diagnostics.stability_summary` into
its ``method_info["stability"]``. The full entry is in the report's JSON and its method
details; the summary shows the few numbers a reader needs to decide whether to trust the
invertible part: the worst round trip at the training data and at the sampled points, the
conditioning there, and the share of observations flagged.

Examples:
    >>> info = {"cinn": {"stability": {"checked": True,
    ...     "training": {"round_trip_z": {"error": {"max": 1e-6}, "non_finite_fraction": 0.0}},
    ...     "samples": {"round_trip_z": {"error": {"max": 2e-6}, "non_finite_fraction": 0.0},
    ...                 "jacobian_inverse": {"condition_number": {"q99": 3.0}}},
    ...     "reliability": {"flagged_fraction": 0.01, "num_observations": 100}}}}
    >>> "<td>1%</td>" in stability_table(info)[0]
    True
    >>> stability_table({"abc": {}})
    []
"""

from __future__ import annotations

from collections.abc import Mapping

from sbinn.report.html import table

__all__ = ["stability_table"]

_HEADER = [
    "method",
    "round trip, training (max)",
    "round trip, samples (max)",
    "non-finite samples",
    "condition number, samples (99%)",
    "flagged observations",
]


def _number(value: object) -> str:
    # The summary writes infinite values as null.
    return "inf" if value is None else f"{value:.2g}"


def stability_table(method_info: Mapping[str, Mapping]) -> list[str]:
    """HTML parts: a table and a note, or nothing when no method's network was checked."""
    rows = []
    for name, info in method_info.items():
        stability = info.get("stability") or {}
        if not stability.get("checked"):
            continue
        samples, reliability = stability["samples"], stability["reliability"]
        rows.append(
            [
                name,
                _number(stability["training"]["round_trip_z"]["error"]["max"]),
                _number(samples["round_trip_z"]["error"]["max"]),
                f"{100 * samples['round_trip_z']['non_finite_fraction']:.2g}%",
                _number(samples["jacobian_inverse"]["condition_number"]["q99"]),
                f"{100 * reliability['flagged_fraction']:.2g}%",
            ]
        )
    if not rows:
        return []
    note = (
        '<p class="note">Invertibility in the network\'s standardised units: '
        "|f(f⁻¹(z)) − z| from the training points' images and from the latent points the "
        "sampler inverts; an observation is flagged when its samples' round trips or "
        "condition numbers leave what the training data showed (details under Methods).</p>"
    )
    return [table(_HEADER, rows), note]
