"""Cost per simulated colour–magnitude cluster, batched (issue 7 asks for <= 5 ms).

``ClusterCMDSimulator().simulate`` runs on batches of prior draws, one call per batch, on
one thread. Each batch size is timed as the median of a few repeats (the best is recorded
too); process CPU time and the load average before and after are recorded, since the
machine may be shared. The observed-star counts of the timed draws are recorded with the
timings, because the cost grows with the number of stars. Run by hand::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/cluster_cmd_speed.py

Results go to ``benchmarks/results/cluster_cmd_speed.{json,md}``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from _common import RESULTS, environment_record, load_average, load_note, publish, timings

from simulators.cluster_cmd import ClusterCMDSimulator, set_mask


def measure(sim: ClusterCMDSimulator, batch: int, repeats: int) -> dict:
    """Time ``repeats`` calls of ``simulate`` on one batch of prior draws."""
    rng = np.random.default_rng(batch)
    theta = sim.prior.sample(batch, rng)
    sim.simulate(theta[:8], rng)  # warm the table cache and the code paths
    wall, cpu = [], []
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        x = sim.simulate(theta, rng)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
    counts = set_mask(x).sum(axis=1)
    median = statistics.median(wall)
    return {
        "batch": batch,
        **timings(wall, cpu),
        "median_wall_s": round(median, 4),
        "ms_per_cluster": round(1e3 * median / batch, 3),
        "best_ms_per_cluster": round(1e3 * min(wall) / batch, 3),
        "clusters_per_s": round(batch / median, 1),
        "observed_stars": {
            "median": int(np.median(counts)),
            "p5": int(np.percentile(counts, 5)),
            "p95": int(np.percentile(counts, 95)),
            "max": int(counts.max()),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[64, 256, 1024])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    sim = ClusterCMDSimulator()
    record = environment_record(
        "machine", "processor", "cpus", "numpy", "OMP_NUM_THREADS", simulator=sim.settings()
    )
    record["load_average_before"] = load_average()
    record["runs"] = [measure(sim, batch, args.repeats) for batch in args.batches]
    record["load_average_after"] = load_average()
    lines = [
        "| batch | ms per cluster (median) | best | clusters per s | observed stars "
        "(median, 5–95 %, max) |",
        "|---|---|---|---|---|",
    ]
    for run in record["runs"]:
        stars = run["observed_stars"]
        lines.append(
            f"| {run['batch']} | {run['ms_per_cluster']:.3f} | {run['best_ms_per_cluster']:.3f} "
            f"| {run['clusters_per_s']:.0f} | {stars['median']}, {stars['p5']}–{stars['p95']}, "
            f"{stars['max']} |"
        )
    header = (
        f"Colour–magnitude clusters (n_max={sim.n_max}, V limit {sim.v_limit}) simulated per "
        f"second on prior draws, one batched call; median of {args.repeats} runs; "
        f"{load_note(record)}; issue 7 target: <= 5 ms per cluster\n\n"
    )
    text = header + "\n".join(lines) + "\n"
    publish(RESULTS / "cluster_cmd_speed", record, text, write=not args.no_write)


if __name__ == "__main__":
    main()
