"""Wall time of cINN sampling: 4096 samples for each of 1000 kinematics observations.

The target of issue 4 is at most 10 s on 2 CPU cores. Training quality does not change the
cost of a pass, so each network is trained only briefly here. Measured for the network of
the kinematics benchmark task (``TASK_SETTINGS["kinematics"].cinn``, the library default
6 x 64 x 2) and for the same network twice as wide, which the task used before: its hidden
128 x 128 matrix products alone take longer than the target. The process CPU time is
recorded next to the wall time: on a machine shared with other jobs, CPU time over the
thread count is the better estimate for idle cores.

Run by hand on a quiet machine::

    .venv/bin/python benchmarks/cinn_sampling_speed.py
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from _common import RESULTS, environment_record, publish

from sbinn.benchmark.tasks import TASK_SETTINGS
from sbinn.methods.cinn import CINN, CINNConfig, TrainingConfig
from simulators.kinematics import KinematicsSimulator


def measure(config: CINNConfig, x, repeats: int) -> dict:
    cinn = CINN(config, seed=0).fit(
        simulator=KinematicsSimulator(),
        num_simulations=5000,
        training=TrainingConfig(num_epochs=1, progress=False),
    )
    wall, cpu = [], []
    for repeat in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        samples = cinn.sample(x, 4096, seed=repeat)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
    return {
        "samples_shape": list(samples.shape),
        "wall_s": [round(t, 3) for t in wall],
        "median_wall_s": round(statistics.median(wall), 3),
        "cpu_s": [round(t, 3) for t in cpu],
        "config": config.to_json(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    _, x = KinematicsSimulator().sample_joint(1000, seed=1)
    record = environment_record("threads", "machine", "processor", "torch", threads=args.threads)
    record["networks"] = {
        "kinematics task": measure(TASK_SETTINGS["kinematics"].cinn, x, args.repeats),
        "width 128": measure(CINNConfig(hidden_features=128), x, args.repeats),
    }
    lines = [
        "| network | blocks × width × hidden layers | median wall [s] | runs [s] |",
        "|---|---|---|---|",
    ]
    for name, entry in record["networks"].items():
        c = entry["config"]
        shape = f"{c['num_blocks']} × {c['hidden_features']} × {c['num_hidden_layers']}"
        runs = ", ".join(f"{t:.2f}" for t in entry["wall_s"])
        lines.append(f"| {name} | {shape} | {entry['median_wall_s']:.2f} | {runs} |")
    header = (
        f"cINN sampling, 1000 kinematics observations × 4096 samples, {args.threads} threads\n\n"
    )
    publish(RESULTS / "cinn_sampling_speed", record, header + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
