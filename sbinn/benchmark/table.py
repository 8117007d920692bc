"""The benchmark record as a text table in the layout of the thesis' Tables 4.1 and 4.2.

Examples:
    >>> record = {"simulator": "kinematics", "num_test_observations": 2, "seed": 0,
    ...     "methods": {"abc": {"simulations": 10, "time_s": {"simulation": 1.0},
    ...     "metrics": {"calibration_error": {"value": 0.01, "low": 0.0, "high": 0.02}}}}}
    >>> print(format_table(record))  # doctest: +NORMALIZE_WHITESPACE
    kinematics: 2 test observations, seed 0
    method  mean re-sim. err.  median re-sim. err.  calibration err.  simulations  time [s]
    abc     -                  -                    1.00% ±1.00%      10           1.0
"""

from __future__ import annotations

__all__ = ["format_table"]

_RESIMULATION = ("resimulation_error_mean", "resimulation_error_median")
_FIXED = (*_RESIMULATION, "calibration_error", "heldout_nll")
_HEADERS = {
    "resimulation_error_mean": "mean re-sim. err.",
    "resimulation_error_median": "median re-sim. err.",
    "calibration_error": "calibration err.",
    "heldout_nll": "held-out NLL",
}


def _cell(metrics: dict, key: str) -> str:
    if key not in metrics:
        return "-"
    m = metrics[key]
    if m["value"] is None:
        return "inf" if key == "heldout_nll" else "n/a"
    half = (m["high"] - m["low"]) / 2
    if key.startswith("calibration_error"):
        return f"{100 * m['value']:.2f}% ±{100 * half:.2f}%"
    return f"{m['value']:.4f} ±{half:.4f}"


def format_table(record: dict) -> str:
    """One row per method: re-simulation and calibration errors, the held-out NLL where a
    method has a density, task metrics such as MAP errors, simulations and wall time."""
    methods = record["methods"]
    present = {key for entry in methods.values() for key in entry["metrics"]}
    # Task metrics (e.g. MAP errors) come first, as in Table 4.2; the NLL only when a
    # method has one.
    extra = sorted(present - set(_FIXED), key=_extra_order)
    keys = extra + [k for k in _FIXED if k != "heldout_nll" or k in present]
    header = ["method", *(_HEADERS.get(k, k.replace("_", " ")) for k in keys)]
    header += ["simulations", "time [s]"]
    rows = [header]
    for name, entry in methods.items():
        cells = [_cell(entry["metrics"], key) for key in keys]
        time_s = f"{sum(entry['time_s'].values()):.1f}"
        rows.append([name, *cells, str(entry["simulations"]), time_s])
    noise = record.get("simulation_noise")
    if noise:
        rows.append(["simulation noise", *(_cell(noise, key) for key in keys), "", ""])
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [
        f"{record['simulator']}: {record['num_test_observations']} test observations, "
        f"seed {record['seed']}"
    ]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    floor = record.get("calibration_noise_floor")
    if floor:
        lines.append(
            f"calibration err. of exact posterior samples on {floor['num_observations']} test "
            f"observations (the floor): mean {100 * floor['mean']:.2f}%, 10-90% "
            f"{100 * floor['quantile_10']:.2f}-{100 * floor['quantile_90']:.2f}%"
        )
    directions = [
        f"{name} {_direction(entry['calibration_direction'])}"
        for name, entry in methods.items()
        if "calibration_direction" in entry
    ]
    if directions:
        lines.append("calibration direction: " + "; ".join(directions))
    if noise:
        lines.append(
            "simulation noise: re-simulation error of the true parameters (the floor); "
            + _resimulated(record.get("resimulation", {"at": "map"}))
        )
    for name, entry in methods.items():
        for metric, groups in entry.get("task_metrics", {}).items():
            lines.append(f"{name} {metric}: " + _format_groups(groups))
    return "\n".join(lines)


def _direction(direction: dict) -> str:
    """How many parameters a method's posteriors are too narrow or too wide in, from the
    signed mean of α_inl − α; within ±0.5% counts as neither."""
    signed = list(direction["mean_signed"].values())
    narrow, wide = sum(v < -0.005 for v in signed), sum(v > 0.005 for v in signed)
    return (
        f"too narrow in {narrow}, too wide in {wide} of {len(signed)} parameters "
        f"(mean α_inl − α {100 * min(signed):+.1f}% to {100 * max(signed):+.1f}%)"
    )


def _extra_order(key: str) -> tuple:
    """Alphabetical, but the numbers in a key in numeric order (20-50 before 200-800)."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in key.replace("-", "_").split("_")
    )


def _resimulated(resimulation: dict) -> str:
    if resimulation["at"] == "map":
        text = "re-simulation errors are at each method's MAP estimate"
    else:
        per = resimulation.get("samples_per_observation")
        text = f"re-simulation errors are at {per or 'all'} posterior samples per observation"
    space = resimulation.get("space", "observations")
    return text + ("" if space == "observations" else f", distances in {space.replace('_', ' ')}")


def _format_groups(groups: dict) -> str:
    """``{"red": {"inside_fraction": 0.98, ...}}`` as ``red inside_fraction=0.980 ...``."""
    parts = []
    for group, values in groups.items():
        if not isinstance(values, dict):
            parts.append(
                f"{group}={values:.3g}" if isinstance(values, float) else f"{group}={values}"
            )
            continue
        shown = " ".join(
            f"{key}={value:.3f}" if isinstance(value, float) else f"{key}={value}"
            for key, value in values.items()
            if key != "num_samples"
        )
        parts.append(f"{group} {shown}")
    return "; ".join(parts)
