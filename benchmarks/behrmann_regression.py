"""Behrmann et al.'s (2021, §4.2 and App. F) 2-D regression toy: an affine INN trained only on a
supervised loss loses invertibility; the normalising-flow term and the bi-directional
finite-difference penalty restore it (issue 8, evidence (b)).

Data as in the paper: :math:`(x_1, y_1) \\sim \\mathcal{N}(0, \\mathrm{diag}(1, 10^{-24}))`,
:math:`(x_2, y_2) \\sim \\mathcal{N}(0, [[1, 1], [1, 1]])`, so :math:`y = (\\approx 0, x_2)`: the
network must squeeze :math:`x_1` onto a line, and nothing in the MSE stops its Jacobian from
becoming singular. The paper's model is a Glow of 24 one-sided affine couplings with a
sigmoid scale in (0, 1), hidden width 10, full-batch Adam at 1e-4 for 40 000 steps (their
``toy_2d_regression.py``). That is ~2 h on one CPU thread here, so this script uses 4 sbinn
coupling blocks (each transforms both halves, with ActNorm and a random rotation), the same
subnetworks (2 hidden layers of 10, ReLU), batches of 1000 and Adam at 1e-2 with a cosine
decay to 1e-4 over 3000 steps. sbinn's couplings scale by :math:`\\exp(\\alpha\\tanh(s/\\alpha))`;
with the library default :math:`\\alpha = 2` they stay nearly invertible on this toy (one row
shows it), so the "unregularised affine INN" here uses the loose clamp :math:`\\alpha = 8`,
which, like Glow's sigmoid, lets a block shrink a direction by orders of magnitude.

Metrics on 2000 fresh test points, network in float32 as trained: the supervised MSE
(mean over points and both outputs, as ``torch.nn.MSELoss``), the reconstruction error
:math:`\\lVert F^{-1}(F(x)) - x \\rVert` (mean, median, max) and the condition number
:math:`\\sigma_1/\\sigma_2` of the forward Jacobian, computed with ``torch.func.jacrev`` on a
float64 copy of the trained weights (so that the Jacobian itself carries no float32 rounding),
as median and max over the test points and at the point with the largest reconstruction error
(the paper's choice).

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/behrmann_regression.py``
"""

from __future__ import annotations

import argparse
import copy
import math
import time
from pathlib import Path

import numpy as np
import torch
from _common import RESULTS, environment_record, publish

from sbinn.methods.inn_regularisers import finite_difference_penalty, flow_nll
from sbinn.nn import InvertibleNetwork

# (key, name, clamp, stabiliser, weight, FD bound, FD step ε): the paper's NF λ = 1e-8 and larger
# ones, since 3000 steps give a tiny weight far less time to act than the paper's 40 000 (1e-5 and
# 3e-5 added after a first run showed the change between 1e-6 and 1e-4); FD weights around where a
# first run (λ = 1e-6) already cut the reconstruction error 10⁴-fold. The plain FD mean also
# charges the stretching the fit needs: an MSE of 3e-6 (the baseline's) means squeezing x₁ about
# 400-fold (MSE ≈ s²/2 over the two outputs), so the inverse must stretch 400-fold. The bounded
# variants charge only local Lipschitz estimates above 1000 (chosen before the run as 2.5x that
# need), and 3000 to show the sensitivity.
VARIANTS = (
    ("plain2", "unregularised, clamp 2 (library default)", 2.0, None, 0.0, 0.0, 0.1),
    ("plain8", "unregularised, clamp 8", 8.0, None, 0.0, 0.0, 0.1),
    ("nf1e-8", "NF λ=1e-8, clamp 8", 8.0, "nf", 1e-8, 0.0, 0.1),
    ("nf1e-7", "NF λ=1e-7, clamp 8", 8.0, "nf", 1e-7, 0.0, 0.1),
    ("nf1e-6", "NF λ=1e-6, clamp 8", 8.0, "nf", 1e-6, 0.0, 0.1),
    ("nf1e-5", "NF λ=1e-5, clamp 8", 8.0, "nf", 1e-5, 0.0, 0.1),
    ("nf3e-5", "NF λ=3e-5, clamp 8", 8.0, "nf", 3e-5, 0.0, 0.1),
    ("nf1e-4", "NF λ=1e-4, clamp 8", 8.0, "nf", 1e-4, 0.0, 0.1),
    ("fd1e-8", "FD λ=1e-8 every 5 steps, clamp 8", 8.0, "fd", 1e-8, 0.0, 0.1),
    ("fd1e-7", "FD λ=1e-7 every 5 steps, clamp 8", 8.0, "fd", 1e-7, 0.0, 0.1),
    ("fd1e-6", "FD λ=1e-6 every 5 steps, clamp 8", 8.0, "fd", 1e-6, 0.0, 0.1),
    ("fdb1000", "FD bound 1000, λ=1e-3 every 5 steps, clamp 8", 8.0, "fd", 1e-3, 1000.0, 0.1),
    ("fdb3000", "FD bound 3000, λ=1e-3 every 5 steps, clamp 8", 8.0, "fd", 1e-3, 3000.0, 0.1),
    ("fdb1000e", "FD bound 1000, ε=1e-3, λ=1e-8, clamp 8", 8.0, "fd", 1e-8, 1e3, 1e-3),
    ("fdb500e", "FD bound 500, ε=1e-3, λ=1e-7, clamp 8", 8.0, "fd", 1e-7, 5e2, 1e-3),
)
# The two ε = 1e-3 variants came from the gradient-clipping runs (behrmann_regression_clip):
# the inverse is probed at the training outputs, whose y₁ spread is about 2e-3 at the
# baseline's fit, so a step of 0.1 lands where no training output lies and the secant charges
# more than the local stretch the fit needs.
# The committed 3000-step record ran every variant but NF 1e-7, which was added for the longer
# run: there the NF term's equilibrium squeeze (MSE about λ/2, see below) must fall under the
# baseline's MSE for the target to be reachable at all.
DEFAULT_VARIANTS = tuple(
    key for key, *_ in VARIANTS if key not in ("nf1e-7", "fdb1000e", "fdb500e")
)
BASELINE_KEY = "plain8"
BASELINE = "unregularised, clamp 8"
FD_EVERY = 5


def toy_data(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` pairs ``(x, y)`` of the paper's toy, float32."""
    rng = np.random.default_rng(seed)
    first = rng.multivariate_normal([0, 0], [[1, 0], [0, 1e-24]], size=n)
    second = rng.multivariate_normal([0, 0], [[1, 1], [1, 1]], size=n)
    x = np.stack([first[:, 0], second[:, 0]], axis=1)
    y = np.stack([first[:, 1], second[:, 1]], axis=1)
    return torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)


def train(
    clamp: float, stabiliser: str | None, weight: float, bound: float, epsilon: float, data, args
) -> tuple:
    """Train one network; return it and its wall time."""
    x, y = data
    torch.manual_seed(args.seed)
    network = InvertibleNetwork.coupling_stack(
        2,
        args.blocks,
        hidden_features=10,
        num_hidden_layers=2,
        activation="relu",
        clamp=clamp,
        actnorm=True,
        seed=args.seed,
    )
    optimizer = torch.optim.Adam(network.parameters(), lr=args.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, args.steps, eta_min=1e-4)
    batches = torch.Generator().manual_seed(args.seed)
    start = time.perf_counter()
    for step in range(args.steps):
        rows = torch.randint(0, len(x), (args.batch,), generator=batches)
        out, log_det = network(x[rows])
        loss = torch.nn.functional.mse_loss(out, y[rows])
        if stabiliser == "nf":
            loss = loss + weight * flow_nll(out, log_det)
        elif stabiliser == "fd" and step % FD_EVERY == 0:
            # Probe the inverse where it is used: at the outputs of the training points.
            penalty = finite_difference_penalty(
                network, x[rows], out.detach(), epsilon=epsilon, bound=bound
            )
            loss = loss + weight * penalty
        optimizer.zero_grad()
        loss.backward()
        if args.clip is not None:
            torch.nn.utils.clip_grad_norm_(network.parameters(), args.clip)
        optimizer.step()
        schedule.step()
    return network, time.perf_counter() - start


def evaluate(network: InvertibleNetwork, x: torch.Tensor, y: torch.Tensor) -> dict:
    """Supervised error, reconstruction error and forward condition numbers on ``(x, y)``."""
    with torch.no_grad():
        out, _ = network(x)
        rebuilt, _ = network.inverse(out)
    error = (rebuilt - x).norm(dim=1).double()
    finite = torch.isfinite(error)
    network64 = copy.deepcopy(network).double()
    with torch.no_grad():
        jacobians = torch.func.vmap(torch.func.jacrev(lambda v: network64(v[None])[0][0]))(
            x.double()
        )
    singular = torch.linalg.svdvals(jacobians)
    condition = singular[:, 0] / singular[:, -1]
    worst = int(torch.where(finite, error, torch.inf).argmax())
    return {
        "supervised_mse": float(torch.nn.functional.mse_loss(out, y)),
        "reconstruction_error_mean": float(error[finite].mean()),
        "reconstruction_error_median": float(error[finite].median()),
        "reconstruction_error_max": float(error.max()) if bool(finite.all()) else float("inf"),
        "non_finite_reconstructions": int((~finite).sum()),
        "condition_number_median": float(condition.median()),
        "condition_number_max": float(condition.max()),
        "condition_number_at_worst_reconstruction": float(condition[worst]),
        "smallest_singular_value_min": float(singular[:, -1].min()),
    }


def _reduction(before: float, after: float) -> float:
    """``before / after``, with 1 (no reduction) where both are infinite."""
    if math.isinf(before) and math.isinf(after):
        return 1.0
    return before / after


def meets_target(reconstruction_reduction: float, condition_reduction: float, mse_ratio: float):
    """Issue 8's target: both reductions ≥ 10⁴ and the supervised MSE ≤ 1.1× the baseline's."""
    return bool(reconstruction_reduction >= 1e4 and condition_reduction >= 1e4 and mse_ratio <= 1.1)


def verdicts(results: dict) -> dict:
    """Issue 8's target per regularised variant: ≥ 10⁴× lower mean reconstruction error and
    max condition number than the baseline, supervised MSE ≤ 1.1× the baseline's."""
    base = results[BASELINE]
    out = {}
    for name, r in results.items():
        if name == BASELINE or name.startswith("unregularised"):
            continue
        rec = _reduction(base["reconstruction_error_mean"], r["reconstruction_error_mean"])
        cond = _reduction(base["condition_number_max"], r["condition_number_max"])
        mse = r["supervised_mse"] / base["supervised_mse"]
        out[name] = {
            "reconstruction_error_reduction": rec,
            "condition_number_reduction": cond,
            "supervised_mse_ratio": mse,
            "meets_target": meets_target(rec, cond, mse),
        }
    return out


def markdown(record: dict) -> str:
    s = record["settings"]
    lines = [
        "# Behrmann et al.'s 2-D regression toy: exploding inverse and its regularisers",
        "",
        f"{s['blocks']} affine coupling blocks (ActNorm, random rotations, subnets 2×10 ReLU), "
        f"{s['steps']} Adam steps of {s['batch']} pairs (lr {s['lr']} → 1e-4 cosine), "
        f"{s['num_train']} training pairs, {s['num_test']} test points, float32, "
        + (f"gradient norm clipped to {s['clip']:g}. " if s.get("clip") else "no clipping. ")
        + "Condition number of the forward Jacobian (σ₁/σ₂, float64 copy of the weights); "
        "reconstruction error ‖F⁻¹(F(x)) − x‖.",
        "",
        "| model | supervised MSE | rec. error mean | rec. error max | cond. median | "
        "cond. max | cond. at worst rec. | train s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in record["results"].items():
        lines.append(
            f"| {name} | {r['supervised_mse']:.3g} | {r['reconstruction_error_mean']:.3g} | "
            f"{r['reconstruction_error_max']:.3g} | {r['condition_number_median']:.3g} | "
            f"{r['condition_number_max']:.3g} | "
            f"{r['condition_number_at_worst_reconstruction']:.3g} | {r['train_s']:.0f} |"
        )
    lines += [
        "",
        f"Against `{BASELINE}` (target: both reductions ≥ 10⁴, MSE ratio ≤ 1.1):",
        "",
        "| model | rec. error reduction | cond. max reduction | MSE ratio | target met |",
        "|---|---|---|---|---|",
    ]
    for name, v in record["verdicts"].items():
        lines.append(
            f"| {name} | {v['reconstruction_error_reduction']:.3g}× | "
            f"{v['condition_number_reduction']:.3g}× | {v['supervised_mse_ratio']:.3g} | "
            f"{'yes' if v['meets_target'] else 'no'} |"
        )
    return "\n".join(lines) + "\n"


def toy_sets() -> tuple:
    """The fixed training pairs (10 000) and test points (2000) every run of the toy uses."""
    return toy_data(10_000, seed=1111), *toy_data(2000, seed=2222)


def add_training_arguments(parser: argparse.ArgumentParser, default_variants: str) -> None:
    """The options a run of the toy shares with ``behrmann_regression_seeds.py``."""
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--blocks", type=int, default=4)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--clip",
        type=float,
        default=None,
        help="clip every step's gradient to this norm (default: no clipping, as the paper)",
    )
    parser.add_argument(
        "--variants",
        default=default_variants,
        help=f"comma-separated keys of the variants to train (the baseline {BASELINE_KEY!r} "
        f"always runs); all: {','.join(key for key, *_ in VARIANTS)}",
    )


def chosen_variants(parser: argparse.ArgumentParser, args: argparse.Namespace) -> set[str]:
    """The keys to train, the baseline included; a bad ``--clip`` or key is a usage error."""
    if args.clip is not None and not args.clip > 0:
        parser.error(f"--clip must be a number > 0, got {args.clip}")
    chosen = {BASELINE_KEY, *args.variants.split(",")}
    unknown = chosen - {key for key, *_ in VARIANTS}
    if unknown:
        parser.error(f"unknown variants {sorted(unknown)}; choose from the keys in --help")
    return chosen


def run_variants(chosen: set[str], train_data, test_x, test_y, args, verbose: bool) -> dict:
    """Train and evaluate each chosen variant at ``args.seed``; results by variant name."""
    results = {}
    for key, name, clamp, stabiliser, weight, bound, epsilon in VARIANTS:
        if key not in chosen:
            continue
        network, seconds = train(clamp, stabiliser, weight, bound, epsilon, train_data, args)
        results[name] = evaluate(network, test_x, test_y) | {
            "clamp": clamp,
            "stabiliser": stabiliser,
            "weight": weight,
            "fd_bound": bound,
            "fd_epsilon": epsilon,
            "train_s": seconds,
        }
        if verbose:
            print(name, results[name], flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_training_arguments(parser, ",".join(DEFAULT_VARIANTS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS / "behrmann_regression")
    args = parser.parse_args()
    chosen = chosen_variants(parser, args)
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    train_data, test_x, test_y = toy_sets()
    results = run_variants(chosen, train_data, test_x, test_y, args, verbose=True)
    record = {
        "task": "Behrmann et al. (2021) App. F 2-D regression toy",
        "settings": vars(args)
        | {"out": str(args.out), "num_train": 10_000, "num_test": 2000}
        | {"fd_every": FD_EVERY},
        "results": results,
        "verdicts": verdicts(results),
        "wall_s": time.perf_counter() - start,
        "environment": environment_record(
            "python", "torch", "threads", "machine", threads=args.threads
        ),
    }
    publish(args.out, record, markdown(record))


if __name__ == "__main__":
    main()
