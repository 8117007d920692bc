"""Colour–magnitude sets: the cINN with a set network against rejection ABC on summaries.

Issue 7's ``cluster-cmd`` benchmark. Both methods get the same simulations of
``ClusterCMDSimulator`` (n_max 2000, default prior):

- **cINN**: ``CINN(conditioning="deepset")`` (and/or ``"set_transformer"``) trained on the
  NaN-padded sets themselves, one network for every star count, with the prior's box as
  ``parameter_bounds``; ``--steps`` gradient steps over the training simulations.
- **ABC**: quantile rejection ABC on the hand-made summaries of
  :mod:`simulators.cluster_cmd.summaries` (standardised Euclidean distance), keeping for each
  test cluster the ``--num-samples`` nearest of the same simulations.

Test clusters are prior draws kept, an equal number per bin of observed star count
(20–50, 50–200, 200–800, 800–2000), so the bins are compared on equal footing. Choosing
test clusters by a function of the observation leaves a calibrated posterior calibrated
within each bin. Reported per method, overall and per bin: calibration error
(:func:`sbinn.diagnostics.calibration_error`) with its bootstrap interval, the RMSE of the
posterior mean per parameter (also as a fraction of the prior's standard deviation), and
the mean posterior standard deviation; plus the wall times. The overall RMSE is over the
stratified test set, not over the prior.

Both methods are also compared, by C2ST, with a large-budget ABC reference on a few test
clusters per bin (:mod:`sbinn.benchmark.reference`: quantile ABC on the same summaries,
``--reference-simulations`` fresh simulations, 10⁶ by default at about 1 ms each with the
summaries). The cINN carries issue 8's ``stability`` entry.

Run by hand. The full run at the defaults (50 000 simulations, 20 000 steps of 256 sets,
DeepSet only) should take about 2 hours on one thread of this project's loaded 2-core
machine (0.31–0.37 s per step in smoke runs) and peak near 6 GB of memory (peak RSS was
0.93 GB at 2000 simulations and 1.50 GB at 8000); both are extrapolations, not
measurements. On the same machine a SetTransformer step took about 10 times a DeepSet step
(sets padded to 2000 stars), so ``--conditioning set_transformer`` wants ``--device cuda``
or far fewer steps::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/cluster_cmd.py

A smoke run::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/cluster_cmd.py --simulations 2000 \\
        --steps 200 --num-test 50 --num-samples 100 --reference-simulations 20000 \\
        --out /tmp/cluster_cmd_smoke

Results go to ``benchmarks/results/cluster_cmd.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import time
from pathlib import Path

import numpy as np
import torch
from _common import RESULTS, environment_record, publish

from sbinn.benchmark.reference import abc_reference, c2st_against_reference
from sbinn.diagnostics import calibration_error
from sbinn.diagnostics.stability_summary import stability_summary
from sbinn.methods.abc import RejectionABC
from sbinn.methods.cinn import CINN, CINNConfig, TrainingConfig
from simulators.cluster_cmd import ClusterCMDSimulator, set_mask
from simulators.cluster_cmd.evaluation import STAR_BINS, star_bin
from simulators.cluster_cmd.summaries import CMDSummarySimulator, cmd_summaries

_VALIDATION_FRACTION = 0.1
_SIMULATION_CHUNK = 5000


def simulate(sim: ClusterCMDSimulator, num: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``num`` prior draws and their sets (failed ones dropped), in chunks to bound memory."""
    parts = [
        sim.sample_joint(min(_SIMULATION_CHUNK, num - lo), seed=np.random.default_rng([seed, lo]))
        for lo in range(0, num, _SIMULATION_CHUNK)
    ]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def test_clusters(sim: ClusterCMDSimulator, num_test: int, seed: int):
    """An equal number of prior-drawn test clusters per star-count bin."""
    per_bin = math.ceil(num_test / len(STAR_BINS))
    thetas, xs = [[] for _ in STAR_BINS], [[] for _ in STAR_BINS]
    for attempt in range(100):
        rng = np.random.default_rng([seed, attempt])
        theta, x = sim.sample_joint(max(4 * num_test, 1000), seed=rng)
        bins = star_bin(set_mask(x).sum(axis=1))
        for i in range(len(STAR_BINS)):
            room = per_bin - sum(map(len, thetas[i]))
            rows = np.flatnonzero(bins == i)[:room]
            thetas[i].append(theta[rows])
            xs[i].append(x[rows])
        if all(sum(map(len, t)) == per_bin for t in thetas):
            break
    else:
        raise RuntimeError(f"could not fill every star-count bin with {per_bin} test clusters")
    return tuple(np.concatenate([a for part in parts for a in part]) for parts in (thetas, xs))


def scores(samples: np.ndarray, theta: np.ndarray, names, prior_std: np.ndarray) -> dict:
    """Calibration error, posterior-mean RMSE and mean posterior std of one set of samples."""
    calibration = calibration_error(samples, theta, parameter_names=names)
    rmse = np.sqrt(np.mean((samples.mean(axis=1) - theta) ** 2, axis=0))
    return {
        "num_test": len(theta),
        "calibration_error": calibration.value,
        "calibration_interval": [calibration.low, calibration.high],
        "calibration_per_parameter": calibration.per_dimension,
        "rmse": dict(zip(names, rmse.tolist(), strict=True)),
        "rmse_over_prior_std": dict(zip(names, (rmse / prior_std).tolist(), strict=True)),
        "mean_posterior_std": dict(
            zip(names, samples.std(axis=1).mean(axis=0).tolist(), strict=True)
        ),
    }


def evaluate(samples: np.ndarray, theta: np.ndarray, bins: np.ndarray, sim) -> dict:
    names = sim.parameter_names
    prior_std = np.asarray(sim.prior.bounds)[:, 1] - np.asarray(sim.prior.bounds)[:, 0]
    prior_std = prior_std / np.sqrt(12.0)  # every factor of the default prior is uniform
    return {
        "overall": scores(samples, theta, names, prior_std),
        "per_star_bin": {
            f"{low}-{high}": scores(samples[bins == i], theta[bins == i], names, prior_std)
            for i, (low, high) in enumerate(STAR_BINS)
        },
    }


def run_cinn(conditioning, sim, theta, x, x_test, args) -> tuple[np.ndarray, dict]:
    bounds = tuple(tuple(map(float, b)) for b in np.asarray(sim.prior.bounds))
    config = CINNConfig(conditioning=conditioning, parameter_bounds=bounds)
    cinn = CINN(config, device=args.device, seed=args.seed)
    steps_per_epoch = math.ceil(len(theta) * (1 - _VALIDATION_FRACTION) / args.batch_size)
    epochs = max(1, round(args.steps / steps_per_epoch))
    training = TrainingConfig(
        num_epochs=epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        validation_fraction=_VALIDATION_FRACTION,
        progress=False,
    )
    cinn.fit(theta, x, training=training)
    samples = cinn.sample(x_test, args.num_samples, seed=args.seed + 1)
    # Issue 8's entry: reference pairs are training simulations; every tenth test cluster is
    # checked, so every star-count bin is represented.
    stability = stability_summary(cinn, theta[:256], x[:256], x_test[::10], seed=args.seed)
    return samples, {
        "stability": {"checked": True} | stability,
        "steps": cinn.history.steps,
        "epochs": epochs,
        "best_epoch": cinn.history.best_epoch,
        "validation_nll": cinn.history.validation_loss,
        "time_s": {"training": cinn.time_s["training"], "sampling": cinn.time_s["sampling"]},
        "settings": cinn.settings(),
    }


def run_abc(sim, theta, summaries, s_test, args) -> tuple[np.ndarray, dict]:
    # Slightly above num_samples / N, so that ceil(num_samples / q) is exactly N.
    quantile = min(1.0, args.num_samples / len(theta) * (1 + 1e-9))
    abc = RejectionABC(CMDSummarySimulator(sim), mode="quantile", quantile=quantile, progress=False)
    samples = abc.sample(s_test, args.num_samples, reference=(theta, summaries))
    return samples, {
        "quantile": quantile,
        "epsilon_median": float(np.median(abc.last_run.epsilon)),
        "time_s": {"sampling": abc.last_run.time_s},
        "settings": abc.settings(),
    }


def reference_rows(num_test: int, per_bin: int) -> np.ndarray:
    """The first ``per_bin`` test clusters of every star-count bin (tests are bin-ordered)."""
    size = num_test // len(STAR_BINS)
    return np.array([i * size + j for i in range(len(STAR_BINS)) for j in range(per_bin)])


def against_reference(samples: np.ndarray, rows: np.ndarray, reference, seed: int) -> dict:
    """C2ST of one method's samples against the large-budget ABC reference."""
    result = c2st_against_reference(samples[rows], reference, seed=seed)
    return {"value": result.value, "interval": [result.low, result.high]}


def row(name: str, result: dict) -> str:
    cells = [f"{100 * result['overall']['calibration_error']:.2f}%"]
    cells += [f"{100 * v['calibration_error']:.2f}%" for v in result["per_star_bin"].values()]
    cells += [f"{v:.2f}" for v in result["overall"]["rmse_over_prior_std"].values()]
    return f"| {name} | " + " | ".join(cells) + " |"


def bin_rows(name: str, result: dict) -> list[str]:
    lines = []
    for stars, v in result["per_star_bin"].items():
        low, high = v["calibration_interval"]
        cells = [f"{100 * v['calibration_error']:.2f}% ({100 * low:.2f}–{100 * high:.2f}%)"]
        cells += [f"{e:.2f}" for e in v["rmse_over_prior_std"].values()]
        lines.append(f"| {name} | {stars} | " + " | ".join(cells) + " |")
    return lines


def reference_lines(record: dict) -> list[str]:
    reference = record.get("reference")
    if reference is None:
        return []
    lines = [
        f"C2ST against a large-budget ABC reference: quantile ABC on the same summaries, "
        f"{reference['simulations']:,} simulations, {reference['samples_per_observation']} "
        f"kept per cluster (median ε {reference['epsilon_median']:.3f}), on "
        f"{reference['observations']} test clusters ({reference['per_bin']} per star-count "
        f"bin); {reference['time_s']:.0f} s. 0.5 means indistinguishable. The reference is "
        "the posterior given the summaries, not the posterior given the whole set, so a "
        "network that uses more of the set than the summaries do is *expected* to differ "
        "from it (sharper where the set carries more information).",
        "",
        "| method | C2ST vs reference | 68% interval |",
        "|---|---|---|",
    ]
    for name, m in record["methods"].items():
        c2st = m.get("c2st_vs_reference")
        if c2st is not None:
            low, high = c2st["interval"]
            lines.append(f"| {name} | {c2st['value']:.3f} | {low:.3f}–{high:.3f} |")
    return [*lines, ""]


def markdown(record: dict) -> str:
    names = record["parameter_names"]
    bins = [f"{low}–{high}" for low, high in STAR_BINS]
    lines = [
        "# Colour–magnitude sets: cINN on the sets against ABC on summaries",
        "",
        f"{record['num_simulations']:,} simulations shared by every method "
        f"({record['num_failed']} failed), {record['num_test']:,} test clusters "
        f"({record['num_test'] // len(STAR_BINS)} per star-count bin), "
        f"{record['num_samples']} samples each. {record['label']}",
        "",
        "Calibration error (overall, then per bin of observed stars) and RMSE of the "
        "posterior mean / prior std:",
        "",
        "| method | all | " + " | ".join(bins) + " | " + " | ".join(names) + " |",
        "|---" * (2 + len(bins) + len(names)) + "|",
    ]
    lines += [row(name, m["scores"]) for name, m in record["methods"].items()]
    lines += [
        "",
        "Per bin of observed stars: calibration error (68% bootstrap interval) and RMSE of "
        "the posterior mean / prior std:",
        "",
        "| method | stars | calibration | " + " | ".join(names) + " |",
        "|---" * (3 + len(names)) + "|",
    ]
    for name, m in record["methods"].items():
        lines += bin_rows(name, m["scores"])
    lines += [
        "",
        *reference_lines(record),
        "Wall times (s; ABC's excludes computing the summaries, which is under 'summaries'): "
        + json.dumps({k: round(v, 1) for k, v in record["time_s"].items()}),
        "",
    ]
    for name, m in record["methods"].items():
        lines.append(f"- {name}: " + json.dumps({k: round(v, 2) for k, v in m["time_s"].items()}))
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulations", type=int, default=50_000)
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--num-test", type=int, default=2000)
    parser.add_argument("--num-samples", type=int, default=500)
    parser.add_argument(
        "--conditioning", nargs="+", default=["deepset"], choices=["deepset", "set_transformer"]
    )
    parser.add_argument(
        "--reference-simulations",
        type=int,
        default=1_000_000,
        help="budget of the ABC reference posterior; 0 skips the C2ST",
    )
    parser.add_argument(
        "--reference-per-bin", type=int, default=5, help="reference clusters per star-count bin"
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu", help="the cINN's: cpu, cuda or auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--label", default="", help="free text for the record, e.g. 'smoke run'")
    parser.add_argument("--out", type=Path, default=RESULTS / "cluster_cmd")
    args = parser.parse_args()
    if args.num_samples > args.simulations:
        parser.error("--num-samples must not exceed --simulations (ABC keeps that many)")
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    start = time.perf_counter()
    sim = ClusterCMDSimulator()
    times = {}
    tic = time.perf_counter()
    theta, x = simulate(sim, args.simulations, args.seed)
    times["simulation"] = time.perf_counter() - tic
    theta_test, x_test = test_clusters(sim, args.num_test, args.seed + 1000)
    bins = star_bin(set_mask(x_test).sum(axis=1))
    tic = time.perf_counter()
    summaries, s_test = cmd_summaries(x), cmd_summaries(x_test)
    times["summaries"] = time.perf_counter() - tic

    reference = rows = None
    if args.reference_simulations:
        rows = reference_rows(len(theta_test), args.reference_per_bin)
        reference = abc_reference(
            CMDSummarySimulator(sim),
            s_test[rows],
            num_samples=args.num_samples,
            num_simulations=args.reference_simulations,
            seed=args.seed + 2000,
            progress=None,
            chunk_size=_SIMULATION_CHUNK,
            max_workers=1,
        )

    def scored(samples: np.ndarray, info: dict) -> dict:
        info = info | {"scores": evaluate(samples, theta_test, bins, sim)}
        if reference is not None:
            info["c2st_vs_reference"] = against_reference(samples, rows, reference, args.seed)
        return info

    methods = {"abc_summaries": scored(*run_abc(sim, theta, summaries, s_test, args))}
    for conditioning in args.conditioning:
        samples, info = run_cinn(conditioning, sim, theta, x, x_test, args)
        methods[f"cinn_{conditioning}"] = scored(samples, info)
    times["total"] = time.perf_counter() - start
    record = {
        "task": "cluster_cmd (n_max 2000, default prior), test clusters stratified by star count",
        "label": args.label,
        "parameter_names": list(sim.parameter_names),
        "num_simulations": len(theta),
        "num_failed": args.simulations - len(theta),
        "num_test": len(theta_test),
        "num_samples": args.num_samples,
        "star_bins": [list(b) for b in STAR_BINS],
        "methods": methods,
        "reference": None
        if reference is None
        else reference.record() | {"per_bin": args.reference_per_bin, "rows": rows.tolist()},
        "time_s": times,
        "simulator": sim.settings(),
        "environment": environment_record(
            "python",
            "torch",
            "threads",
            "machine",
            "cpus",
            threads=args.threads,
            load_average_before_after=[load_before[0], os.getloadavg()[0]],
            peak_rss_gb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        ),
    }
    publish(args.out, record, markdown(record))


if __name__ == "__main__":
    main()
