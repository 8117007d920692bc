"""The cINN with a DeepSet on sets of 5 to 500 normal draws: calibration and 1/√n shrinkage.

Acceptance checks of issue 4 for set-valued observations, with one network for every set
size (``simulators/normal_sets``, exact normal-inverse-gamma posterior):

1. calibration error ≤ 1% for test sets of exactly n = 5, 50 and 500 elements;
2. the posterior standard deviation of μ shrinks like 1/√n: the slope of log(mean std)
   against log n is within 10% of −0.5 (the exact posterior's own slope is printed too:
   the prior's pseudo-observation bends it slightly at n = 5);
3. permuting the elements of a set moves the samples (same seed) by at most 1e-5.

Run by hand (several minutes on 2 cores)::

    .venv/bin/python benchmarks/cinn_sets.py

Results go to ``benchmarks/results/cinn_sets.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from _common import RESULTS, environment_record, publish

from sbinn.diagnostics import calibration_error
from sbinn.diagnostics.stability_summary import stability_summary
from sbinn.methods.cinn import CINN, TrainingConfig
from simulators.normal_sets import NormalSetsSimulator

SET_SIZES = (5, 50, 500)
CALIBRATION_TOLERANCE = 0.01
SLOPE_TOLERANCE = 0.1


def slope(values: list[float]) -> float:
    return float(np.polyfit(np.log(SET_SIZES), np.log(values), 1)[0])


def evaluate(cinn: CINN, sim: NormalSetsSimulator, args: argparse.Namespace) -> dict:
    theta = sim.prior.sample(args.num_test, np.random.default_rng(2024))
    per_size = {}
    for n in SET_SIZES:
        padded, _ = sim.simulate_sets(theta, np.random.default_rng(n), set_sizes=n)
        padded = padded[:, :n]
        start = time.perf_counter()
        samples = cinn.sample(padded, args.num_samples, seed=n)
        wall = time.perf_counter() - start
        calibration = calibration_error(samples, theta, parameter_names=sim.parameter_names)
        posterior = sim.posterior(padded)
        per_size[n] = {
            "calibration_error": calibration.value,
            "calibration_interval": [calibration.low, calibration.high],
            "calibration_per_parameter": calibration.per_dimension,
            "mean_std_mu_model": float(samples[:, :, 0].std(axis=1).mean()),
            "mean_std_mu_exact": float(sim.posterior_std_mu(padded).mean()),
            "mean_abs_error_of_posterior_mean_mu": float(
                np.abs(samples[:, :, 0].mean(axis=1) - posterior.mu).mean()
            ),
            "sampling_s": wall,
        }
    padded, _ = sim.simulate_sets(theta[:20], np.random.default_rng(7), set_sizes=60)
    padded = padded[:, :60]
    shuffled = padded[:, np.random.default_rng(8).permutation(60)]
    moved = np.abs(cinn.sample(shuffled, 500, seed=3) - cinn.sample(padded, 500, seed=3)).max()
    model_slope = slope([per_size[n]["mean_std_mu_model"] for n in SET_SIZES])
    return {
        "per_set_size": per_size,
        "slope_log_std_mu_model": model_slope,
        "slope_log_std_mu_exact": slope([per_size[n]["mean_std_mu_exact"] for n in SET_SIZES]),
        "permutation_max_abs_change": float(moved),
        "pass": {
            "calibration": all(
                per_size[n]["calibration_error"] <= CALIBRATION_TOLERANCE for n in SET_SIZES
            ),
            "slope": abs(model_slope + 0.5) <= SLOPE_TOLERANCE * 0.5,
            "permutation": bool(moved <= 1e-5),
        },
    }


def stability(cinn: CINN, sim: NormalSetsSimulator) -> dict:
    """Issue 8's stability entry: reference pairs are fresh draws from the training
    distribution; the checked observations are fresh sets of every size."""
    theta, x = sim.sample_joint(256, seed=54321)
    _, x_obs = sim.sample_joint(100, seed=54322)
    return {"checked": True} | stability_summary(cinn, theta, x, x_obs, seed=0)


def markdown(record: dict) -> str:
    r = record["result"]
    lines = [
        "# cINN + DeepSet on normal sets (one network for n = 5 … 500)",
        "",
        f"{record['num_simulations']:,} online simulations ({record['simulations_per_epoch']:,} "
        f"per epoch), {record['num_test']:,} test sets per size, "
        f"{record['num_samples']} samples each. Training {record['time_s']['training']:.0f} s.",
        "",
        "| n | calibration error | 68% interval | std μ model | std μ exact | |mean μ err| |",
        "|---|---|---|---|---|---|",
    ]
    for n, v in r["per_set_size"].items():
        low, high = v["calibration_interval"]
        lines.append(
            f"| {n} | {100 * v['calibration_error']:.2f}% | {100 * low:.2f}–{100 * high:.2f}% | "
            f"{v['mean_std_mu_model']:.4f} | {v['mean_std_mu_exact']:.4f} | "
            f"{v['mean_abs_error_of_posterior_mean_mu']:.4f} |"
        )
    lines += [
        "",
        f"Slope of log std μ vs log n: model {r['slope_log_std_mu_model']:.3f}, "
        f"exact {r['slope_log_std_mu_exact']:.3f} (target −0.5 ± 10%).",
        f"Largest change of a sample when a set is permuted: "
        f"{r['permutation_max_abs_change']:.2e}.",
        f"Pass: {r['pass']}.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # 1 M (3900 steps) left n = 5 at 0.89% in one run and 1.38% in another; 2 M passed twice.
    parser.add_argument("--num-simulations", type=int, default=2_000_000)
    parser.add_argument("--simulations-per-epoch", type=int, default=20_000)
    parser.add_argument("--num-test", type=int, default=4000)
    parser.add_argument("--num-samples", type=int, default=500)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="of the network and its training")
    parser.add_argument("--out", type=Path, default=RESULTS / "cinn_sets")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    sim = NormalSetsSimulator(n_min=5, n_max=500)
    cinn = CINN(seed=args.seed, conditioning="deepset")
    cinn.fit(
        simulator=sim,
        num_simulations=args.num_simulations,
        online=True,
        simulations_per_epoch=args.simulations_per_epoch,
        training=TrainingConfig(num_epochs=1, learning_rate=2e-3, progress=False),
    )
    record = {
        "task": "normal_sets (n_min 5, n_max 500, log-uniform set sizes)",
        "num_simulations": cinn.num_simulations,
        "simulations_per_epoch": args.simulations_per_epoch,
        "num_test": args.num_test,
        "num_samples": args.num_samples,
        "result": evaluate(cinn, sim, args),
        "stability": stability(cinn, sim),
        "validation_nll": cinn.history.validation_loss,
        "time_s": dict(cinn.time_s),
        "wall_s": time.perf_counter() - start,
        "settings": cinn.settings(),
        "environment": environment_record(
            "python", "torch", "threads", "machine", threads=args.threads
        ),
    }
    publish(args.out, record, markdown(record))


if __name__ == "__main__":
    main()
