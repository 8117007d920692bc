"""Behrmann et al.'s 2-D regression toy over many seeds: issue 8's evidence (b) judged on the
median, not on one seed.

Single-seed runs (``behrmann_regression_clip*``) showed that whether the unregularised model
loses invertibility at all swings by orders of magnitude with the seed of the initialisation
and of the batches (the data are the same at every seed). This script trains the baseline and
a few regularised variants of ``behrmann_regression.py`` at each seed, with the same settings,
and reports per seed and as medians over seeds: the reduction of the mean reconstruction error
and of the max condition number, and the supervised MSE ratio, against the baseline of the
same seed. The target (both reductions ≥ 10⁴, MSE ratio ≤ 1.1) is checked per seed and on the
medians.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/behrmann_regression_seeds.py --clip 1e-3``
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch
from _common import RESULTS, environment_record, publish
from behrmann_regression import (
    BASELINE,
    add_training_arguments,
    chosen_variants,
    meets_target,
    run_variants,
    toy_sets,
    verdicts,
)

DEFAULT_VARIANTS = ("nf1e-8", "nf1e-5", "fd1e-8")
RATIOS = ("reconstruction_error_reduction", "condition_number_reduction", "supervised_mse_ratio")


def summarise(per_seed: dict[int, dict]) -> dict:
    """Per variant: the median of each ratio over seeds and how many seeds meet the target."""
    names = {name for seed in per_seed.values() for name in seed["verdicts"]}
    summary = {}
    for name in sorted(names):
        rows = [seed["verdicts"][name] for seed in per_seed.values() if name in seed["verdicts"]]
        medians = {key: statistics.median(row[key] for row in rows) for key in RATIOS}
        summary[name] = medians | {
            "seeds": len(rows),
            "seeds_meeting_target": sum(row["meets_target"] for row in rows),
            "median_meets_target": meets_target(*(medians[key] for key in RATIOS)),
        }
    return summary


def markdown(record: dict) -> str:
    s = record["settings"]
    lines = [
        "# Behrmann et al.'s 2-D regression toy over seeds",
        "",
        f"Seeds {s['seeds'][0]}–{s['seeds'][-1]}, each: {s['blocks']} affine coupling blocks, "
        f"{s['steps']} Adam steps of {s['batch']} (lr {s['lr']} → 1e-4 cosine), float32, "
        + (f"gradient norm clipped to {s['clip']:g}" if s.get("clip") else "no clipping")
        + " (settings of `behrmann_regression.py`). Ratios against the baseline "
        f"`{BASELINE}` of the same seed.",
        "",
        "## Baseline per seed",
        "",
        "| seed | supervised MSE | rec. error mean | cond. max |",
        "|---|---|---|---|",
    ]
    for seed, run in record["per_seed"].items():
        base = run["results"][BASELINE]
        lines.append(
            f"| {seed} | {base['supervised_mse']:.3g} | "
            f"{base['reconstruction_error_mean']:.3g} | {base['condition_number_max']:.3g} |"
        )
    lines += [
        "",
        "## Regularised variants per seed (rec. reduction / cond. reduction / MSE ratio)",
        "",
        "| seed | " + " | ".join(record["summary"]) + " |",
        "|---|" + "---|" * len(record["summary"]),
    ]
    for seed, run in record["per_seed"].items():
        cells = []
        for name in record["summary"]:
            v = run["verdicts"].get(name)
            cells.append(
                "–"
                if v is None
                else f"{v[RATIOS[0]]:.3g}× / {v[RATIOS[1]]:.3g}× / {v[RATIOS[2]]:.3g}"
                + (" ✓" if v["meets_target"] else "")
            )
        lines.append(f"| {seed} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Medians over seeds (target: both reductions ≥ 10⁴, MSE ratio ≤ 1.1)",
        "",
        "| model | rec. error reduction | cond. max reduction | MSE ratio | seeds meeting target | "
        "median meets target |",
        "|---|---|---|---|---|---|",
    ]
    for name, v in record["summary"].items():
        lines.append(
            f"| {name} | {v[RATIOS[0]]:.3g}× | {v[RATIOS[1]]:.3g}× | {v[RATIOS[2]]:.3g} | "
            f"{v['seeds_meeting_target']} of {v['seeds']} | "
            f"{'yes' if v['median_meets_target'] else 'no'} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_training_arguments(parser, ",".join(DEFAULT_VARIANTS))
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0 … N−1")
    parser.add_argument("--out", type=Path, default=RESULTS / "behrmann_regression_seeds")
    args = parser.parse_args()
    chosen = chosen_variants(parser, args)
    if args.seeds < 1:
        parser.error(f"--seeds must be ≥ 1, got {args.seeds}")
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    train_data, test_x, test_y = toy_sets()
    per_seed = {}
    for seed in range(args.seeds):
        run_args = argparse.Namespace(**(vars(args) | {"seed": seed}))
        results = run_variants(chosen, train_data, test_x, test_y, run_args, verbose=False)
        per_seed[seed] = {"results": results, "verdicts": verdicts(results)}
        print(seed, per_seed[seed]["verdicts"], flush=True)
    record = {
        "task": "Behrmann et al. (2021) App. F 2-D regression toy, over seeds",
        "settings": vars(args)
        | {"out": str(args.out), "seeds": list(range(args.seeds))}
        | {"num_train": 10_000, "num_test": 2000},
        "per_seed": per_seed,
        "summary": summarise(per_seed),
        "wall_s": time.perf_counter() - start,
        "environment": environment_record(
            "python", "torch", "threads", "machine", threads=args.threads
        ),
    }
    publish(args.out, record, markdown(record))


if __name__ == "__main__":
    main()
