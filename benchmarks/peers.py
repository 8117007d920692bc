"""sbinn against its peers: the INN, the cINN, rejection ABC and the ``sbi`` package's NPE.

Issue 9, part 3. On the same tasks and simulation budgets, every method of a (task,
budget) row trains on the same simulations (one seeded bank per row, cached and timed
once) and is scored on the same test observations:

- C2ST against a reference posterior on the first ``--num-c2st`` test observations
  (analytic for ``linear_gaussian`` and ``normal_sets``, a large-budget quantile ABC
  otherwise), with sbinn's :func:`~sbinn.diagnostics.c2st_per_observation`;
- calibration error on all ``--num-test`` test observations;
- re-simulation error where the task defines one;
- wall times of simulation (the row's bank), training and sampling, and the peak resident
  memory of the process that ran the cell.

Every (task, budget, method) cell runs in a fresh subprocess with a wall-clock cap, so its
peak memory is its own and a failure or a timeout costs only that cell. The parent rewrites
the JSON and the Markdown table after every cell; a rerun skips cells already recorded
unless ``--force``. Run it in the peer environment (``benchmarks/peer_env.sh``), one
thread::

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 benchmarks/.venv-peers/bin/python benchmarks/peers.py \\
        --tasks kinematics linear_gaussian normal_sets tissue star_cluster \\
        --budgets 1000 10000 --methods inn cinn abc npe smc \\
        --json benchmarks/results/peers.json --markdown benchmarks/results/peers.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _peers_table import markdown  # noqa: E402
from _peers_tasks import C2ST_MAX_ITER, TASKS, load_bank, load_reference, load_test_set  # noqa: E402

METHODS = ("inn", "cinn", "abc", "smc", "npe")
SEED = 0


def _cell_key(task: str, budget: int, method: str) -> str:
    return f"{task}/{budget}/{method}"


def _commit() -> str:
    """The commit of the code that runs this cell (a long run may span commits)."""
    return subprocess.run(
        ["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _metrics(task, for_c2st, samples, theta_test, x_test, reference) -> dict:
    from sbinn.benchmark.scoring import score_samples
    from sbinn.diagnostics import c2st_per_observation, calibration_error

    sim = task.make()
    found = {
        "c2st": c2st_per_observation(
            for_c2st,
            reference,
            max_observations=len(for_c2st),
            seed=SEED,
            max_iter=C2ST_MAX_ITER,
        ),
        "calibration_error": calibration_error(
            samples, theta_test, parameter_names=sim.parameter_names
        ),
    }
    if task.resimulate is not None:
        scored, _ = score_samples(
            sim,
            samples,
            theta_test,
            x_test,
            seed=SEED,
            resimulate=task.resimulate,
            resimulated_samples=task.resimulated_samples,
        )
        found |= {k: v for k, v in scored.items() if k.startswith("resimulation")}
    return {name: result.to_json() for name, result in found.items()}


def run_cell(args: argparse.Namespace) -> dict:
    """One (task, budget, method) cell, in this process."""
    import torch
    from _peers_methods import RUNNERS, NotApplicable

    torch.set_num_threads(1)
    task, budget, method = TASKS[args.cell[0]], int(args.cell[1]), args.cell[2]
    theta_test, x_test = (a[: args.num_test] for a in load_test_set(task, args.cache))
    reference = load_reference(task, args.cache, args.num_c2st, scale=args.reference_scale)
    bank = load_bank(task, budget, args.cache)
    try:
        # Issue 8: sbinn's networks check their stability on the first 100 test observations.
        sample, training_s, details = RUNNERS[method](
            task, bank, seed=SEED, max_epochs=args.max_epochs, x_check=x_test[:100]
        )
    except NotApplicable as reason:
        return {"status": "n/a", "reason": str(reason)}
    start = time.perf_counter()
    for_c2st = sample(x_test[: args.num_c2st], args.num_samples)
    samples = sample(x_test, args.num_calibration_samples)
    sampling_s = time.perf_counter() - start
    start = time.perf_counter()
    metrics = _metrics(task, for_c2st, samples, theta_test, x_test, reference["samples"])
    return {
        "status": "ok",
        "metrics": metrics,
        "time_s": {
            "simulation": round(bank["seconds"], 3),
            "training": round(training_s, 3),
            "sampling": round(sampling_s, 3),
            "scoring": round(time.perf_counter() - start, 3),
        },
        "peak_rss_mb": _peak_rss_mb(),
        "git_commit": _commit(),
        "simulations": bank["num_simulated"],
        "training_pairs": len(bank["theta"]),
        "samples_per_observation": {
            "c2st": int(for_c2st.shape[1]),
            "calibration": int(samples.shape[1]),
        },
        "details": details,
    }


def prepare(args: argparse.Namespace) -> dict:
    """Test set, reference and the training bank of one (task, budget), in this process."""
    task, budget = TASKS[args.prepare[0]], int(args.prepare[1])
    load_test_set(task, args.cache)
    reference = load_reference(task, args.cache, args.num_c2st, scale=args.reference_scale)
    bank = load_bank(task, budget, args.cache)
    return {
        "reference": reference["record"],
        "bank": {
            "simulations": bank["num_simulated"],
            "successful": len(bank["theta"]),
            "time_s": round(bank["seconds"], 3),
            "seed": bank["seed"],
        },
        "simulator_settings": task.make().settings(),
        "notes": task.notes,
        "peak_rss_mb": _peak_rss_mb(),
    }


def _child(args: argparse.Namespace, role: list[str], timeout: float) -> dict:
    """Run this script for one cell or one preparation in a fresh process."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out.json"
        command = [sys.executable, str(Path(__file__).resolve()), *role, "--out", str(out)]
        command += ["--cache", str(args.cache), "--num-test", str(args.num_test)]
        command += ["--num-c2st", str(args.num_c2st), "--num-samples", str(args.num_samples)]
        command += ["--reference-scale", str(args.reference_scale)]
        command += ["--num-calibration-samples", str(args.num_calibration_samples)]
        if args.max_epochs is not None:
            command += ["--max-epochs", str(args.max_epochs)]
        environment = os.environ | {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        start = time.perf_counter()
        try:
            # sbi writes TensorBoard logs to ./sbi-logs: keep them out of the repository.
            done = subprocess.run(
                command,
                env=environment,
                timeout=timeout,
                capture_output=True,
                text=True,
                cwd=folder,
            )
        except subprocess.TimeoutExpired:
            return {"status": "timed out", "reason": f"timed out after {timeout:.0f} s"}
        wall = round(time.perf_counter() - start, 2)
        if done.returncode != 0 or not out.exists():
            tail = (done.stderr or done.stdout)[-2000:]
            return {"status": "error", "reason": tail.strip(), "wall_s": wall}
        return json.loads(out.read_text()) | {"wall_s": wall}


def _header(args: argparse.Namespace) -> dict:
    from importlib import metadata

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    commit = _commit()
    return {
        "machine": f"{cpu}, {os.cpu_count()} cores (shared with other jobs)",
        "threads": "1 (OMP_NUM_THREADS=MKL_NUM_THREADS=1, torch.set_num_threads(1))",
        "python": platform.python_version(),
        "versions": {name: version(name) for name in ("torch", "sbi", "sbinn", "numpy")},
        "git_commit": commit,
        "settings": {
            "num_test": args.num_test,
            "num_c2st": args.num_c2st,
            "num_samples": args.num_samples,
            "num_calibration_samples": args.num_calibration_samples,
            "cell_timeout_s": args.timeout,
            "max_epochs": args.max_epochs,
            "reference_scale": args.reference_scale,
            "c2st_max_iter": C2ST_MAX_ITER,
        },
    }


def _write(record: dict, args: argparse.Namespace) -> None:
    for path, text in (
        (args.json, json.dumps(record, indent=2, default=float) + "\n"),
        (args.markdown, markdown(record)),
    ):
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(text)
        os.replace(temporary, path)


def merge(parts: list[Path], args: argparse.Namespace) -> None:
    """Fold the records of runs made in parallel (each with its own ``--json``, started
    from a copy of the main record) into ``args.json``: of two records of a cell the later
    finished one wins, rows are taken from the parts, runs are appended, and a not-run
    reason is dropped once its cell has been run."""
    record = json.loads(args.json.read_text()) if args.json.exists() else {"cells": {}}
    runs = {(run["started"], run["command"]) for run in record.get("runs", [])}
    for path in parts:
        part = json.loads(path.read_text())
        for key, cell in part.get("cells", {}).items():
            # Parts start as copies of one record: the most recently finished cell wins.
            if cell.get("finished", "") >= record["cells"].get(key, {}).get("finished", ""):
                record["cells"][key] = cell
        record.setdefault("rows", {}).update(part.get("rows", {}))
        for run in part.get("runs", []):
            if (run["started"], run["command"]) not in runs:
                record.setdefault("runs", []).append(run)
                runs.add((run["started"], run["command"]))
    not_run = record.get("not_run", {})
    for key in [k for k in not_run if k in record["cells"]]:
        del not_run[key]
    record["runs"].sort(key=lambda run: run["started"])
    _write(record, args)


def run_all(args: argparse.Namespace) -> None:
    record = json.loads(args.json.read_text()) if args.json.exists() else {"cells": {}}
    record.setdefault("rows", {})
    command = " ".join(["python benchmarks/peers.py", *sys.argv[1:]])
    record.setdefault("runs", []).append(
        {
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": command,
            "load_average_start": [round(x, 2) for x in os.getloadavg()],
        }
        | _header(args)
    )
    _write(record, args)
    for budget in args.budgets:
        for name in args.tasks:
            row = f"{name}/{budget}"
            pending = [
                m
                for m in args.methods
                if args.force or _cell_key(name, budget, m) not in record["cells"]
            ]
            if not pending:
                continue
            print(f"[{datetime.now(UTC):%H:%M:%S}] prepare {row}", flush=True)
            prepared = _child(args, ["--prepare", name, str(budget)], args.timeout)
            record["rows"][row] = prepared
            _write(record, args)
            for method in pending:
                key = _cell_key(name, budget, method)
                if prepared.get("status") in ("error", "timed out"):
                    cell = {"status": "not run", "reason": f"preparation: {prepared['reason']}"}
                else:
                    print(f"[{datetime.now(UTC):%H:%M:%S}] run {key}", flush=True)
                    cell = _child(args, ["--cell", name, str(budget), method], args.timeout)
                cell["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
                record["cells"][key] = cell
                _write(record, args)
                print(f"    {cell['status']} {cell.get('reason', '')[-300:]}", flush=True)
    record["runs"][-1]["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    record["runs"][-1]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    _write(record, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--budgets", nargs="+", type=int, default=[1000, 10000])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--json", type=Path, default=HERE / "results" / "peers.json")
    parser.add_argument("--markdown", type=Path, default=HERE / "results" / "peers.md")
    parser.add_argument("--cache", type=Path, default=HERE / ".cache" / "peers")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per cell")
    parser.add_argument("--force", action="store_true", help="rerun cells already recorded")
    parser.add_argument("--num-test", type=int, default=500)
    parser.add_argument("--num-c2st", type=int, default=10)
    parser.add_argument("--num-samples", type=int, default=1000, help="per C2ST observation")
    parser.add_argument(
        "--num-calibration-samples", type=int, default=200, help="per test observation"
    )
    parser.add_argument("--max-epochs", type=int, default=None, help="cap (smoke runs)")
    parser.add_argument(
        "--reference-scale", type=float, default=1.0, help="shrink ABC references (smoke runs)"
    )
    parser.add_argument(
        "--mark-not-run",
        nargs=2,
        action="append",
        metavar=("CELL_OR_BUDGET", "REASON"),
        help="record why cells (TASK/BUDGET/METHOD, or a budget) were not run, then exit",
    )
    parser.add_argument(
        "--merge", nargs="+", type=Path, metavar="PART_JSON", help="fold parallel runs in"
    )
    parser.add_argument("--cell", nargs=3, metavar=("TASK", "BUDGET", "METHOD"))
    parser.add_argument("--prepare", nargs=2, metavar=("TASK", "BUDGET"))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    args.cache = args.cache.resolve()
    if args.merge:
        merge(args.merge, args)
    elif args.mark_not_run:
        record = json.loads(args.json.read_text()) if args.json.exists() else {"cells": {}}
        record.setdefault("not_run", {}).update(dict(args.mark_not_run))
        _write(record, args)
    elif args.cell or args.prepare:
        import warnings

        from sklearn.exceptions import ConvergenceWarning

        # The C2ST classifiers stop at C2ST_MAX_ITER epochs by design.
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        result = run_cell(args) if args.cell else prepare(args)
        args.out.write_text(json.dumps(result, default=float))
    else:
        run_all(args)


if __name__ == "__main__":
    main()
