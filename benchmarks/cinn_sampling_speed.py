"""Wall time of cINN sampling: 4096 samples for each of 1000 kinematics observations.

The target of issue 4 is at most 10 s on 2 CPU cores with the default network. Training
quality does not change the cost of a pass, so the network is trained only briefly here.
The process CPU time is printed next to the wall time: on a machine shared with other
jobs, CPU time divided by the thread count is the better estimate for idle cores.

Run by hand on a quiet machine::

    .venv/bin/python benchmarks/cinn_sampling_speed.py
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from sbinn.methods.cinn import CINN, TrainingConfig
from simulators.kinematics import KinematicsSimulator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    simulator = KinematicsSimulator()
    cinn = CINN(seed=0).fit(
        simulator=simulator,
        num_simulations=5000,
        training=TrainingConfig(num_epochs=1, progress=False),
    )
    _, x = simulator.sample_joint(1000, seed=1)
    times, cpu_times = [], []
    for repeat in range(args.repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        samples = cinn.sample(x, 4096, seed=repeat)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    print(
        json.dumps(
            {
                "samples_shape": list(samples.shape),
                "wall_s": times,
                "best_s": min(times),
                # CPU seconds over all threads: on a busy machine, this over the thread count
                # is what the wall time would be on idle cores.
                "cpu_s": cpu_times,
                "threads": args.threads,
                "config": cinn.settings()["config"],
            }
        )
    )


if __name__ == "__main__":
    main()
