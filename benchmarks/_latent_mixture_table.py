"""The Markdown report of ``benchmarks/latent_mixture.py``: result tables and the verdict.

The report is written from the script's record alone. The label sets, the kinematics
observations and the sample count live here because the report states them; the script
imports them from here. Like ``_common``, this module is imported as a top-level module
(``from _latent_mixture_table import ...``): running ``python benchmarks/latent_mixture.py``
puts this folder on ``sys.path``.
"""

from __future__ import annotations

import numpy as np

from simulators.gaussian_mixture import COLOURS, COMPONENT_COLOURS

__all__ = [
    "ARM_OBSERVATIONS",
    "LABEL_SETS",
    "NULL_REPEATS",
    "NUM_SAMPLES",
    "RESOLVED_SIGMAS",
    "WEIGHT_TARGET",
    "compare_to_gaussian",
    "counts_markdown",
    "markdown",
    "verdict",
]

LABEL_SETS = {
    "thesis labels": tuple(COMPONENT_COLOURS),
    "spread labels": (0, 1, 0, 2, 0, 1, 0, 3),
}
ARM_OBSERVATIONS = np.array([[0.0, 1.5], [0.5, 1.5]])
NUM_SAMPLES = 2000
# Pairs of independent exact reference sets behind the MMD² noise level of the 8-mode problem.
NULL_REPEATS = 10
# A mixture's MMD² counts as lower than the Gaussian's only by more than this many noise
# standard deviations.
RESOLVED_SIGMAS = 2
# Issue 8 (c): learned weights within this of the true mode shares.
WEIGHT_TARGET = 0.05


def compare_to_gaussian(gaussian: float, mixture: float, noise: float) -> str:
    """ "lower", "higher" or "within noise": the mixture's MMD² against the Gaussian's, with
    ``RESOLVED_SIGMAS`` noise standard deviations as the margin.

    Example:
        >>> compare_to_gaussian(0.05, 0.02, 0.01), compare_to_gaussian(0.05, 0.04, 0.01)
        ('lower', 'within noise')
    """
    gap = (gaussian - mixture) / noise
    if gap > RESOLVED_SIGMAS:
        return "lower"
    if gap < -RESOLVED_SIGMAS:
        return "higher"
    return "within noise"


def counts_markdown(counts: dict[str, dict[str, int]], column: str) -> list[str]:
    """The "Counts" section of the pooled reports: one row per key, its verdicts counted.

    Example:
        >>> counts_markdown({"(0.0, 1.5)": {"lower": 1, "higher": 4}}, "verdicts")[-1]
        '| (0.0, 1.5) | higher 4, lower 1 |'
    """
    lines = ["", "## Counts", "", f"| {column} | counts |", "|---|---|"]
    for key, value in counts.items():
        text = ", ".join(f"{name} {count}" for name, count in sorted(value.items()))
        lines.append(f"| {key} | {text} |")
    return lines


def null_markdown(record: dict) -> list[str]:
    """The MMD² noise table of the 8-mode problem, where the record has one."""
    if "null_mmd" not in record:
        return []
    lines = [
        "",
        f"MMD² estimator noise: between two independent exact reference sets of {NUM_SAMPLES} "
        f"samples, mean ± standard deviation over {NULL_REPEATS} pairs. An exact sampler "
        "scores like "
        "this; a difference between the latents below about two standard deviations is not "
        "resolved.",
        "",
        "| label set | " + " | ".join(COLOURS) + " |",
        "|---|" + "---|" * len(COLOURS),
    ]
    for set_name, levels in record["null_mmd"].items():
        cells = [f"{levels[c]['mean']:.4f} ± {levels[c]['std']:.4f}" for c in COLOURS]
        lines.append(f"| {set_name} | " + " | ".join(cells) + " |")
    return lines


def kinematics_null_markdown(record: dict) -> list[str]:
    """The kinematics MMD² noise table, where the record has one."""
    if "kinematics_null_mmd" not in record:
        return []
    cells = [
        f"{tuple(y)}: {level['mean']:.4f} ± {level['std']:.4f}"
        for y, level in zip(ARM_OBSERVATIONS.tolist(), record["kinematics_null_mmd"], strict=True)
    ]
    return [
        "",
        f"Kinematics MMD² noise: between two independent ABC reference sets ({NUM_SAMPLES} of "
        f"{record['settings']['abc_simulations']} simulations each), mean ± standard deviation "
        f"over {NULL_REPEATS} pairs: " + "; ".join(cells) + ". It is the scatter of the "
        "estimator and of ABC, not ABC's bias.",
    ]


def markdown(record: dict) -> str:
    s = record["settings"]
    if s.get("null_only"):
        title = "# MMD² estimator noise (Hagemann & Neumayer 2021 experiments)"
        return "\n".join([title, *null_markdown(record), *kinematics_null_markdown(record)]) + "\n"
    # The paper's 8-mode budget is 10^6 simulations; smaller runs say they are reduced.
    paper_budget = s["mode_simulations"] >= 1_000_000
    lines = [
        "# Gaussian vs Gaussian-mixture latent (Hagemann & Neumayer 2021), "
        + ("8 modes at the paper's simulation budget" if paper_budget else "small budget"),
        "",
        f"One seed ({s['seed']}), one CPU thread, total {s['total_s']:.0f} s. "
        + ("Budget close to" if paper_budget else "Reduced budget, far below")
        + " the paper's and the benchmark task's (10^6 simulations, 6 blocks of "
        f"width 128, ~9000 steps): 8 modes {s['mode_simulations']} simulations, "
        f"{s['mode_blocks']} coupling blocks with subnetworks of width 64, "
        f"{s['mode_epochs']} epochs of batch 500 (2% held out for validation); kinematics "
        f"{s['arm_simulations']} simulations, {s['arm_blocks']} blocks of width 64, "
        f"{s['arm_epochs']} epochs of batch 500; Adam 3e-3 -> 3e-5; mixture temperature "
        "0.2 -> 0.05, no sparsity term; "
        + (
            "latent `mixture8` (not the paper's): 8 components (σ = 1) on a circle of radius 5 "
            "at the modes' angles; "
            if "mixture8" in s.get("mode_latents", ())
            else ""
        )
        + (
            f"L2 penalty λ = {s['subnet_l2']:g} on the coupling-subnetwork weights (every "
            "INN, both latents). "
            if s.get("subnet_l2")
            else "no weight penalty. "
        )
        + (
            f"Latent likelihood term L_nll with weight {s['nll']:g} (every INN, both latents). "
            if s.get("nll")
            else ""
        )
        + "ABC reference for "
        f"kinematics: nearest {NUM_SAMPLES} of {s['abc_simulations']} simulations. "
        f"{NUM_SAMPLES} posterior samples per observation. MMD²: unbiased, Gaussian kernel of "
        "median-heuristic width. Weight error: max |sorted p(y) − sorted true shares|.",
        "",
        "## 8 modes (reference: exact posterior = rejection ABC with ε = 0)",
        "",
        "| label set | latent | colour | MMD² | inside 3σ of right colour | max mode-share error "
        "| re-sim error | learned weights | weight error |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key, entry in record["results"].items():
        if not key.startswith("8 modes"):
            continue
        _, set_name, latent = key.split(", ")
        for colour in COLOURS:
            m = entry["per_colour"][colour]
            weights = entry.get("weights", {}).get(colour)
            error = entry.get("weight_error", {}).get(colour)
            lines.append(
                f"| {set_name} | {latent} | {colour} | {entry['mmd'][colour]:.4f} "
                f"| {m['inside_fraction']:.3f} | {m['max_share_error']:.3f} "
                f"| {m['resimulation_error']:.4f} "
                f"| {'—' if weights is None else ', '.join(f'{w:.2f}' for w in weights)} "
                f"| {'—' if error is None else f'{error:.3f}'} |"
            )
    lines += null_markdown(record)
    lines += ["", "## Kinematics, bimodal rail prior (reference: rejection ABC)", ""]
    if "abc_rail_share_positive" not in s:
        lines.append("Not run (`--skip kinematics`).")
    else:
        lines += [
            f"ABC: share of samples with h > 0 {s['abc_rail_share_positive']}, re-simulation "
            f"error {[round(v, 5) for v in s['abc_resimulation_error']]}.",
            *kinematics_null_markdown(record),
            "",
            "| latent | observation | MMD² | re-sim error | share h > 0 | learned weights "
            "| weight error vs ABC |",
            "|---|---|---|---|---|---|---|",
        ]
    for key, entry in record["results"].items():
        if not key.startswith("kinematics"):
            continue
        for i, y in enumerate(ARM_OBSERVATIONS.tolist()):
            weights = entry.get("weights")
            error = entry.get("weight_error_vs_abc_rail_shares")
            lines.append(
                f"| {key.split(', ')[1]} | {tuple(y)} | {entry['mmd'][i]:.4f} "
                f"| {entry['resimulation_error'][i]:.4f} | {entry['rail_share_positive'][i]:.3f} "
                f"| {'—' if weights is None else ', '.join(f'{w:.2f}' for w in weights[i])} "
                f"| {'—' if error is None else f'{error[i]:.3f}'} |"
            )
    lines += [
        "",
        "## Stability of the invertible network (issue 8)",
        "",
        "Round trips z → θ → z at the sampler's own latent draws for the evaluated "
        "observations (32 each) and the inverse Jacobian's condition number there, in the "
        "network's standardised units; observations flagged by the reliability rule.",
        "",
        "| run | sample round trip q99 | max | inverse condition number q99 | max | flagged |",
        "|---|---|---|---|---|---|",
    ]
    for key, entry in record["results"].items():
        samples = entry["stability"]["samples"]
        trip, cond = samples["round_trip_z"]["error"], samples["jacobian_inverse"]
        cond = cond["condition_number"]
        reliability = entry["stability"]["reliability"]
        lines.append(
            f"| {key} | {_number(trip['q99'])} | {_number(trip['max'])} "
            f"| {_number(cond['q99'])} | {_number(cond['max'])} "
            f"| {len(reliability['flagged'])} of {reliability['num_observations']} |"
        )
    lines += ["", *record.get("verdict", []), ""]
    return "\n".join(lines)


def _number(value: float | None) -> str:
    return "not finite" if value is None else f"{value:.2g}"


def verdict(record: dict) -> list[str]:
    """The issue's targets, each stated as met or missed from the numbers above."""
    r = record["results"]
    out = ["## Targets (issue 8, evidence (c))", ""]
    for set_name in LABEL_SETS:
        g, m = r[f"8 modes, {set_name}, gaussian"], r[f"8 modes, {set_name}, mixture"]
        # With a noise level, "lower" must exceed two of its standard deviations; records
        # from before it existed keep their plain comparison.
        noise = record.get("null_mmd", {}).get(set_name)
        margin = {c: RESOLVED_SIGMAS * noise[c]["std"] if noise else 0.0 for c in COLOURS}
        worse = [c for c in COLOURS if m["mmd"][c] >= g["mmd"][c] - margin[c]]
        out.append(
            f"- 8 modes, {set_name}: mixture MMD² lower "
            + ("by more than twice the noise " if noise else "")
            + f"for {4 - len(worse)}/4 colours "
            f"(mean {np.mean(list(m['mmd'].values())):.4f} vs Gaussian "
            f"{np.mean(list(g['mmd'].values())):.4f}) — "
            + ("met" if not worse else f"missed for {', '.join(worse)}")
            + f"; weights within {WEIGHT_TARGET:g} of the true shares: max error "
            f"{max(m['weight_error'].values()):.3f} — "
            + ("met" if max(m["weight_error"].values()) <= WEIGHT_TARGET else "missed")
        )
    g, m = r["kinematics, gaussian"], r["kinematics, mixture"]
    noise = record.get("kinematics_null_mmd")
    bimodal = (
        compare_to_gaussian(g["mmd"][0], m["mmd"][0], noise[0]["std"]) == "lower"
        if noise
        else m["mmd"][0] < g["mmd"][0]
    )
    out.append(
        f"- kinematics, y = (0, 1.5) (bimodal): mixture MMD² {m['mmd'][0]:.4f} vs Gaussian "
        f"{g['mmd'][0]:.4f}"
        + (" (lower must exceed twice the noise)" if noise else "")
        + " — "
        + ("met" if bimodal else "missed")
    )
    out.append(
        f"- kinematics, ỹ = (0.5, 1.5) (unimodal, no target): mixture MMD² {m['mmd'][1]:.4f} "
        f"vs Gaussian {g['mmd'][1]:.4f}"
    )
    return out
