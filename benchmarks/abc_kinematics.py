"""Quantile rejection ABC on inverse kinematics at 10^7 simulations: speed, memory, calibration.

Measures, for the foundation issue's acceptance check:

1. wall time and peak resident memory of quantile ABC with 10^7 simulations for a batch of
   10 observations (each repeat in a fresh process, so the peak memory is that run's own);
2. the calibration and re-simulation errors of that ABC posterior over 200 test observations.

Run by hand (takes about two minutes on 2 cores)::

    .venv/bin/python benchmarks/abc_kinematics.py

Results go to ``benchmarks/results/abc_kinematics.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
from _common import RESULTS, publish

NUM_SIMULATIONS = 10_000_000
NUM_SAMPLES = 1000


def abc_posteriors(num_obs: int, seed: int, data_seed: int):
    """Quantile ABC for ``num_obs`` test observations; returns what the two runs report."""
    from sbinn.methods.abc import RejectionABC
    from simulators.kinematics import KinematicsSimulator

    simulator = KinematicsSimulator()
    theta_true, x_obs = simulator.sample_joint(num_obs, seed=data_seed)
    abc = RejectionABC(
        simulator, mode="quantile", quantile=NUM_SAMPLES / NUM_SIMULATIONS, progress=False
    )
    start = time.perf_counter()
    samples = abc.sample(x_obs, NUM_SAMPLES, seed=seed)
    wall = time.perf_counter() - start
    return simulator, theta_true, x_obs, samples, wall, abc.last_run


def one_run(num_obs: int, seed: int) -> dict:
    _, _, _, samples, wall, run = abc_posteriors(num_obs, seed, data_seed=10_000 + seed)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "wall_s": wall,
        "peak_rss_mb": peak_mb,
        "simulations": run.num_simulations,
        "samples_shape": list(samples.shape),
        "median_epsilon": float(np.median(run.epsilon)),
    }


def calibration_run(num_obs: int, seed: int) -> dict:
    from sbinn.diagnostics import calibration_error, resimulation_error

    simulator, theta_true, x_obs, samples, wall, run = abc_posteriors(
        num_obs, seed, data_seed=20_000 + seed
    )
    calibration = calibration_error(samples, theta_true, parameter_names=simulator.parameter_names)
    resim_mean, resim_median = resimulation_error(samples, x_obs, simulator, seed=seed)
    return {
        "num_test_observations": num_obs,
        "wall_s": wall,
        "calibration_error": calibration.to_json(),
        "resimulation_error_mean": resim_mean.to_json(),
        "resimulation_error_median": resim_median.to_json(),
        "median_epsilon": float(np.median(run.epsilon)),
        "calibration_method": calibration.method,
    }


def exact_posterior_floor(num_obs: int, dim: int, replicates: int = 50) -> dict:
    """Calibration error that *exact* posterior samples score with this many test observations.

    With few observations the inlier fractions are coarse and noisy, so even a perfect
    posterior scores above 0. A conjugate Gaussian model gives exact samples to measure it.
    """
    from sbinn.diagnostics import calibration_error

    values = []
    for seed in range(replicates):
        rng = np.random.default_rng(seed)
        theta = rng.normal(size=(num_obs, dim))
        x = theta + 0.5 * rng.normal(size=(num_obs, dim))
        mean, std = x / 1.25, np.sqrt(0.25 / 1.25)
        samples = mean[:, None, :] + std * rng.normal(size=(num_obs, NUM_SAMPLES, dim))
        values.append(calibration_error(samples, theta, num_resamples=10).value)
    low, median, high = np.percentile(values, [16, 50, 84])
    return {"value": float(median), "low": float(low), "high": float(high)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--one-run", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_run is not None:
        print(json.dumps(one_run(10, args.one_run)))
        return

    runs = []
    for repeat in range(args.repeats):
        out = subprocess.run(
            [sys.executable, __file__, "--one-run", str(repeat)],
            check=True,
            capture_output=True,
            text=True,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"repeat {repeat}: {runs[-1]['wall_s']:.2f} s, {runs[-1]['peak_rss_mb']:.0f} MB")
    calibration = calibration_run(200, seed=0)
    calibration["exact_posterior_calibration_error"] = exact_posterior_floor(200, 4)
    record = {
        "benchmark": "abc_kinematics",
        "date": time.strftime("%Y-%m-%d"),
        "machine": {
            "cpus": len(__import__("os").sched_getaffinity(0)),
            "python": platform.python_version(),
        },
        "setting": {
            "simulator": "kinematics (noise-free, thesis eqs. 4.3-4.4)",
            "mode": "quantile",
            "num_simulations": NUM_SIMULATIONS,
            "num_samples": NUM_SAMPLES,
            "quantile": NUM_SAMPLES / NUM_SIMULATIONS,
        },
        "batch_of_10": {
            "wall_s_median": statistics.median(r["wall_s"] for r in runs),
            "peak_rss_mb_max": max(r["peak_rss_mb"] for r in runs),
            "runs": runs,
        },
        "calibration_200": calibration,
    }
    publish(RESULTS / "abc_kinematics", record, to_markdown(record))


def to_markdown(record: dict) -> str:
    batch = record["batch_of_10"]
    cal = record["calibration_200"]

    def fmt(metric: dict, percent: bool = False) -> str:
        if percent:
            return (
                f"{100 * metric['value']:.2f}% "
                f"[{100 * metric['low']:.2f}, {100 * metric['high']:.2f}]%"
            )
        return f"{metric['value']:.4g} [{metric['low']:.4g}, {metric['high']:.4g}]"

    return "\n".join(
        [
            "# Quantile ABC on inverse kinematics, 10^7 simulations",
            "",
            f"Measured {record['date']} on {record['machine']['cpus']} CPU cores with "
            "`.venv/bin/python benchmarks/abc_kinematics.py`.",
            "",
            "| measurement | value | target |",
            "|---|---|---|",
            f"| wall time, batch of 10 observations (median of {len(batch['runs'])}) | "
            f"{batch['wall_s_median']:.2f} s | ≤ 60 s |",
            f"| peak resident memory (max over runs, whole process) | "
            f"{batch['peak_rss_mb_max']:.0f} MB | < 2000 MB |",
            f"| wall time, 200 observations | {cal['wall_s']:.2f} s | |",
            f"| calibration error, 200 observations (68% bootstrap interval) | "
            f"{fmt(cal['calibration_error'], percent=True)} | recorded |",
            "| same, for exact posterior samples (noise floor at 200 observations; "
            "median and 16-84% over 50 replicates) | "
            f"{fmt(cal['exact_posterior_calibration_error'], percent=True)} | |",
            f"| mean re-simulation error | {fmt(cal['resimulation_error_mean'])} | |",
            f"| median re-simulation error | {fmt(cal['resimulation_error_median'])} | |",
            f"| median effective ε (standardised units) | {cal['median_epsilon']:.4f} | |",
            "",
        ]
    )


if __name__ == "__main__":
    main()
