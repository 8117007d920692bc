"""Simulation throughput with 1 and 2 local worker processes (issue 9: "≥ 1.7× with 2 workers
on a simulator costing ≥ 1 ms per call").

The simulator integrates a damped oscillator with explicit Euler steps in plain Python, one
parameter vector at a time: CPU-bound and holding the GIL, like a user's unvectorised legacy
code, so only processes can run it in parallel. Its cost per call is measured and recorded.

Both pools are started before timing and reused, so the ratio compares steady-state
throughput; pool start-up is timed separately. Repeats alternate 1 and 2 workers so that
machine noise hits both alike, and the medians are reported. Run on an otherwise idle machine:

    .venv/bin/python benchmarks/parallel_scaling.py \
        --json benchmarks/results/parallel_scaling.json \
        --markdown benchmarks/results/parallel_scaling.md
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

from sbinn.function_simulator import FunctionSimulator
from sbinn.parallel_backends import LocalProcesses, default_num_workers
from sbinn.priors import JointPrior, Uniform
from sbinn.simulation_stream import run_simulations

STEPS = 7000  # about 1.2 ms per call on the project machines (the target needs >= 1 ms)


def oscillator(theta: np.ndarray) -> np.ndarray:
    """Position and velocity after STEPS Euler steps of x'' = -k x - c x'."""
    k, c = float(theta[0]), float(theta[1])
    x, v, dt = 1.0, 0.0, 1e-3
    for _ in range(STEPS):
        v += dt * (-k * x - c * v)
        x += dt * v
    return np.array([x, v])


def make_simulator() -> FunctionSimulator:
    prior = JointPrior({"k": Uniform(1.0, 10.0), "c": Uniform(0.0, 1.0)})
    return FunctionSimulator(
        oscillator, prior, observation_shape=2, vectorized=False, name="euler_oscillator"
    )


def throughput(simulator, num: int, chunk_size: int, backend) -> float:
    start = time.perf_counter()
    run_simulations(simulator, num, seed=0, chunk_size=chunk_size, backend=backend, progress=False)
    return num / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--num-simulations", type=int, default=4000)
    parser.add_argument("--chunk-size", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()
    simulator = make_simulator()
    theta = simulator.prior.sample(200, np.random.default_rng(0))
    start = time.perf_counter()
    simulator.simulate(theta)
    cost_ms = 1e3 * (time.perf_counter() - start) / len(theta)

    rates: dict[str, list[float]] = {"in_process": [], "1_worker": [], "2_workers": []}
    startup_s = {}
    with LocalProcesses(1) as one, LocalProcesses(2) as two:
        for name, pool in (("1_worker", one), ("2_workers", two)):
            start = time.perf_counter()
            run_simulations(simulator, 2, seed=0, chunk_size=1, backend=pool, progress=False)
            startup_s[name] = time.perf_counter() - start
        for _ in range(args.repeats):
            for name, backend in (
                ("in_process", "inprocess"),
                ("1_worker", one),
                ("2_workers", two),
            ):
                rates[name].append(
                    throughput(simulator, args.num_simulations, args.chunk_size, backend)
                )
    medians = {name: statistics.median(values) for name, values in rates.items()}
    ratios = [b / a for a, b in zip(rates["1_worker"], rates["2_workers"], strict=True)]
    record = {
        "benchmark": "parallel_scaling",
        "simulator_cost_ms_per_call": cost_ms,
        "num_simulations": args.num_simulations,
        "chunk_size": args.chunk_size,
        "repeats": args.repeats,
        "cores_available": default_num_workers(),
        "simulations_per_s": rates,
        "median_simulations_per_s": medians,
        "speedup_2_over_1_per_repeat": ratios,
        "median_speedup_2_over_1": statistics.median(ratios),
        "pool_startup_s": startup_s,
        "target_speedup": 1.7,
    }
    print(json.dumps(record, indent=2))
    if args.json:
        args.json.write_text(json.dumps(record, indent=2) + "\n")
    if args.markdown:
        startup = ", ".join(f"{k.replace('_', ' ')} {v:.1f} s" for k, v in startup_s.items())
        rows = "\n".join(
            f"| {name.replace('_', ' ')} | {medians[name]:.0f} | "
            f"{min(values):.0f}–{max(values):.0f} |"
            for name, values in rates.items()
        )
        args.markdown.write_text(
            "# Simulation throughput, 1 vs 2 local worker processes\n\n"
            f"Simulator: Euler oscillator, {cost_ms:.2f} ms per call, "
            f"{args.num_simulations} simulations in chunks of {args.chunk_size}, "
            f"{args.repeats} alternating repeats, {default_num_workers()} cores.\n\n"
            "| backend | median simulations/s | range |\n|---|---|---|\n"
            f"{rows}\n\n"
            f"Median speed-up of 2 workers over 1: **{statistics.median(ratios):.2f}×** "
            f"(target ≥ 1.7×; per repeat {', '.join(f'{r:.2f}' for r in ratios)}). "
            f"Pool start-up, not in the rates: "
            f"{startup}.\n"
        )


if __name__ == "__main__":
    main()
