"""The Markdown table of the peer benchmark, written from its JSON record alone."""

from __future__ import annotations

__all__ = ["markdown"]

TASK_ORDER = ("kinematics", "linear_gaussian", "normal_sets", "tissue", "star_cluster")
METHOD_ORDER = ("inn", "cinn", "abc", "smc", "npe")
BUDGETS = (1_000, 10_000, 100_000)
TARGET_BUDGET = 10_000


def _value(cell: dict, metric: str, percent: bool = False) -> str:
    found = cell.get("metrics", {}).get(metric)
    if not found or found.get("value") is None:
        return ""
    value = found["value"]
    return f"{100 * value:.2f}%" if percent else f"{value:.3g}"


def _seconds(cell: dict, key: str) -> str:
    value = cell.get("time_s", {}).get(key)
    return "" if value is None else f"{value:.1f}"


def _epochs(cell: dict) -> str:
    details = cell.get("details", {})
    run = details.get("epochs_run")
    if run is None:
        return ""
    planned = details.get("training", {}).get("num_epochs")
    return f"{run}" if planned is None else f"{run}/{planned}"


def _status(cell: dict | None, reason: str) -> str:
    if cell is None:
        return f"not run: {reason}" if reason else "not run"
    if cell["status"] == "ok":
        # Cells of one long run may span commits; older cells did not record theirs.
        return f"ok ({cell['git_commit']})" if "git_commit" in cell else "ok"
    text = cell.get("reason", "").strip().splitlines()
    text = text[-1] if text else ""
    return f"{cell['status']}: {text[:160]}".replace("|", "/")


def _acceptance(record: dict) -> list[str]:
    lines = [
        f"## Targets at {TARGET_BUDGET:,} simulations: sbinn's cINN against sbi's NPE",
        "",
        "Target: cINN C2ST ≤ NPE C2ST on every task, with cINN training time ≤ NPE's.",
        "",
        "| task | cINN C2ST | NPE C2ST | C2ST target | cINN training s | NPE training s "
        "| time target |",
        "|---|---|---|---|---|---|---|",
    ]
    cells = record["cells"]
    for task in TASK_ORDER:
        cinn = cells.get(f"{task}/{TARGET_BUDGET}/cinn")
        npe = cells.get(f"{task}/{TARGET_BUDGET}/npe")
        if cinn is None and npe is None:
            continue
        both = (cinn or {}).get("status") == "ok" and (npe or {}).get("status") == "ok"
        c2st_met = time_met = "not measured"
        if both:
            c, n = cinn["metrics"]["c2st"]["value"], npe["metrics"]["c2st"]["value"]
            c2st_met = "met" if c <= n else f"**missed** (+{c - n:.3f})"
            tc, tn = cinn["time_s"]["training"], npe["time_s"]["training"]
            time_met = "met" if tc <= tn else f"**missed** ({tc / tn:.1f}×)"
        lines.append(
            f"| {task} | {_value(cinn or {}, 'c2st')} | {_value(npe or {}, 'c2st')} | "
            f"{c2st_met} | {_seconds(cinn or {}, 'training')} | {_seconds(npe or {}, 'training')}"
            f" | {time_met} |"
        )
    return lines


def _short(cell: dict | None, metric: str, percent: bool = False) -> str:
    if cell is None:
        return "not run"
    if cell["status"] != "ok":
        return {"n/a": "n/a", "timed out": "timed out"}.get(cell["status"], cell["status"])
    return _value(cell, metric, percent)


def _overview(record: dict) -> list[str]:
    """C2ST and calibration error of every method, one line per (task, budget)."""
    cells = record["cells"]
    header = " | ".join(METHOD_ORDER)
    lines = [
        "## Overview: C2ST (calibration error) of every method",
        "",
        "0.5 is indistinguishable from the reference; see the cells below for why a cell "
        "is empty. Where the reference is itself quantile ABC (kinematics, tissue, star "
        "cluster), ABC's C2ST flatters it: ABC shares the reference's distance and so its "
        "bias, which a classifier cannot see; on these tasks the calibration error is the "
        "fairer comparison with ABC.",
        "",
        f"| task | sims | {header} |",
        "|---|---|" + "---|" * len(METHOD_ORDER),
    ]
    for task in TASK_ORDER:
        for budget in BUDGETS:
            found = [cells.get(f"{task}/{budget}/{m}") for m in METHOD_ORDER]
            if not any(found):
                continue
            shown = [
                f"{_short(c, 'c2st')} ({_value(c, 'calibration_error', percent=True)})"
                if c is not None and c["status"] == "ok"
                else _short(c, "c2st")
                for c in found
            ]
            lines.append(f"| {task} | {budget:,} | " + " | ".join(shown) + " |")
    return lines


def _task_section(record: dict, task: str) -> list[str]:
    rows = {key: value for key, value in record.get("rows", {}).items() if key.startswith(task)}
    cells = {k: v for k, v in record["cells"].items() if k.startswith(f"{task}/")}
    if not rows and not cells:
        return []
    lines = [f"### {task}", ""]
    prepared = next((r for r in rows.values() if "reference" in r), None)
    if prepared is not None:
        ref = prepared["reference"]
        if ref.get("method") == "analytic":
            text = f"analytic posterior, {ref['samples_per_observation']} samples"
            if "c2st_exact_vs_reference" in ref:
                text += (
                    f"; C2ST of another exact sample against it (the floor): "
                    f"{ref['c2st_exact_vs_reference']:.3f}"
                )
        else:
            text = (
                f"quantile ABC, nearest {ref['samples_per_observation']} of "
                f"{ref['simulations']:,} simulations (ε median {ref['epsilon_median']:.3g}), "
                f"{ref['time_s']:.0f} s"
            )
        lines += [
            f"Reference ({ref['observations']} observations): {text}. {prepared['notes']}.",
            "",
        ]
    not_run = record.get("not_run", {})
    lines += [
        "| sims | method | C2ST | calibration | re-sim. error | simulation s | training s "
        "| sampling s | peak RSS MB | epochs | status |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    seen = {int(key.split("/")[1]) for key in [*rows, *cells]}
    for budget in sorted(seen | set(BUDGETS)):
        row = rows.get(f"{task}/{budget}", {})
        for method in METHOD_ORDER:
            cell = cells.get(f"{task}/{budget}/{method}")
            reason = not_run.get(f"{task}/{budget}/{method}") or not_run.get(str(budget), "")
            if cell is None and not reason:
                continue
            simulation = row.get("bank", {}).get("time_s")
            cell = cell or None
            shown = cell or {}
            lines.append(
                f"| {budget:,} | {method} | {_value(shown, 'c2st')} | "
                f"{_value(shown, 'calibration_error', percent=True)} | "
                f"{_value(shown, 'resimulation_error_mean')} | "
                f"{'' if simulation is None else f'{simulation:.1f}'} | "
                f"{_seconds(shown, 'training')} | {_seconds(shown, 'sampling')} | "
                f"{shown.get('peak_rss_mb', '')} | {_epochs(shown)} | {_status(cell, reason)} |"
            )
    return [*lines, ""]


def markdown(record: dict) -> str:
    """The whole Markdown page of ``record``."""
    lines = ["# sbinn against its peers: INN, cINN, rejection ABC, sbi's NPE", ""]
    for run in record.get("runs", []):
        lines += [
            f"- Run started {run['started']}"
            + (f", finished {run['finished']}" if "finished" in run else " (unfinished)")
            + f": `{run['command']}`",
            f"  on {run['machine']}, {run['threads']}; commit {run['git_commit']}; "
            + ", ".join(f"{k} {v}" for k, v in run["versions"].items())
            + f"; load average at start {run['load_average_start'][0]}"
            + (f", at end {run['load_average_end'][0]}" if "load_average_end" in run else ""),
        ]
    if record.get("runs"):
        settings = record["runs"][-1]["settings"]
        lines += [
            "",
            f"Test set: {settings['num_test']} prior-predictive observations per task "
            f"(calibration error over all of them, {settings['num_calibration_samples']} "
            f"samples each); C2ST (sbinn's, sbibm's classifier but at most "
            f"{settings.get('c2st_max_iter', 10000)} epochs; 0.5 = indistinguishable) on the "
            f"first {settings['num_c2st']} with {settings['num_samples']} samples each, mean "
            "over observations. Sampling time covers both draws. ABC keeps the nearest 100 "
            "of the row's simulations per observation, so its C2ST compares 100 samples "
            "with 100 reference samples. SMC-ABC is not amortised: it spends the row's budget "
            "on every observation afresh (its simulations are in its sampling time) and "
            "keeps budget/10 particles (at most 1000). Every method of a row trains on the "
            "same seeded simulations; 'simulation s' is the time of simulating them once. Peak RSS "
            "is the cell's own process (fresh interpreter, so it includes torch and sbi). Epochs "
            "are run/planned (early stopping ends some sooner).",
        ]
    lines += ["", *_acceptance(record), "", *_overview(record), "", "## Every cell", ""]
    for task in TASK_ORDER:
        lines += _task_section(record, task)
    return "\n".join(lines) + "\n"
