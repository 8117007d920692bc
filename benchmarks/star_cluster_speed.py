"""Cost per emission-line simulation of ``StarClusterSimulator``, batched.

Issue 7 asks for at most 1 ms per emission-line simulation, batched. This times
``StarClusterSimulator().simulate`` on batches of prior draws (the default 100-step shell
integration, the MAPPINGS grid lookup, attenuation and noise), the median of a few repeats
(the best is recorded too), with process CPU time and the load average next to the wall
time, and writes ``benchmarks/results/star_cluster_speed.{json,md}``. Run by hand::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/star_cluster_speed.py
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from _common import RESULTS, environment_record, load_average, load_note, publish, timings

from simulators.star_cluster import StarClusterSimulator


def measure(batch: int, repeats: int) -> dict:
    """Wall and CPU time of ``repeats`` batched calls on ``batch`` prior draws."""
    sim = StarClusterSimulator()
    theta = sim.prior.sample(batch, np.random.default_rng(1))
    sim.simulate(theta[:16], 0)  # build the feedback tables and load the grid first
    wall, cpu = [], []
    for repeat in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        x = sim.simulate(theta, repeat)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
    median = statistics.median(wall)
    return {
        "batch": batch,
        **timings(wall, cpu),
        "median_ms_per_simulation": round(1e3 * median / batch, 4),
        "best_ms_per_simulation": round(1e3 * min(wall) / batch, 4),
        "failed_fraction": round(float(np.mean(~np.isfinite(x).all(axis=1))), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    record = environment_record(
        "machine",
        "processor",
        "cpus",
        "numpy",
        "OMP_NUM_THREADS",
        settings=StarClusterSimulator().settings(),
    )
    record["load_average_before"] = load_average()
    record["runs"] = [measure(batch, args.repeats) for batch in args.batches]
    record["load_average_after"] = load_average()
    lines = [
        "| batch | median ms / simulation | best ms / simulation | failed fraction |",
        "|---|---|---|---|",
    ]
    for run in record["runs"]:
        lines.append(
            f"| {run['batch']} | {run['median_ms_per_simulation']:.3f} "
            f"| {run['best_ms_per_simulation']:.3f} | {run['failed_fraction']:.3f} |"
        )
    header = (
        f"StarClusterSimulator cost per emission-line simulation (target: <= 1 ms), batched, "
        f"median of {args.repeats} runs; {load_note(record)}\n\n"
    )
    text = header + "\n".join(lines) + "\n"
    publish(RESULTS / "star_cluster_speed", record, text, write=not args.no_write)


if __name__ == "__main__":
    main()
