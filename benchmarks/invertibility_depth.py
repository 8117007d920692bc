"""Behrmann et al.'s Fig. 1: round-trip error against depth, affine and additive, float32/64.

Evidence (a) of issue 8. The toy (:mod:`sbinn.diagnostics.stability_toy`) stacks K
couplings that leave x1 alone and map x2 to 0.1·x2 + 0.123456789 (affine) or
x2 + 0.123456789 (additive), starting from (1, 1); the blocks are sbinn's own couplings
with constant subnetworks, the affine ones with the soft clamp opened to 10^4 ("unclamped").
For every depth, kind and dtype it records the round-trip error |f^-1(f(x)) - x| (and the
other way round from f(x)), and the extreme singular values and condition number of the
forward Jacobian (exact SVD in float64 of the Jacobian computed in the network's dtype).
Nothing is trained and nothing is random: every number is the same on every run.

Run by hand (seconds, CPU)::

    .venv/bin/python benchmarks/invertibility_depth.py

Results go to ``benchmarks/results/invertibility_depth.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from _common import RESULTS, environment_record, publish

from sbinn.diagnostics.stability import jacobian_spectrum, round_trip
from sbinn.diagnostics.stability_toy import TOY_SCALE, TOY_SHIFT, UNCLAMPED, behrmann_toy

START = [[1.0, 1.0]]
DTYPES = {"float32": torch.float32, "float64": torch.float64}
KINDS = ("affine", "additive")
TABLE_DEPTHS = (1, 2, 4, 6, 8, 10, 12, 14, 16, 17, 20, 30, 40, 50, 60)


def _finite(value: float) -> float | None:
    return float(value) if abs(value) < float("inf") else None


def measure(depth: int, kind: str, dtype: str) -> dict:
    net = behrmann_toy(depth, coupling=kind, dtype=DTYPES[dtype])
    there = round_trip(net, START, start="x")
    with torch.no_grad():
        z = net(torch.tensor(START, dtype=DTYPES[dtype]))[0]
    back = round_trip(net, z, start="z") if bool(torch.isfinite(z).all()) else None
    spectrum = jacobian_spectrum(net, START, method="exact")
    return {
        "depth": depth,
        "coupling": kind,
        "dtype": dtype,
        "round_trip_error_x": _finite(there.errors[0]),
        "round_trip_error_z": None if back is None else _finite(back.errors[0]),
        "sigma_max": _finite(spectrum.largest[0]),
        "sigma_min": _finite(spectrum.smallest[0]),
        "condition_number": _finite(spectrum.condition_number[0]),
    }


def _cell(value: float | None) -> str:
    return "inf/NaN" if value is None else f"{value:.2g}"


def _first_depth(runs: list[dict], kind: str, dtype: str, test) -> str:
    depths = [r["depth"] for r in runs if (r["coupling"], r["dtype"]) == (kind, dtype) and test(r)]
    return str(min(depths)) if depths else "beyond the largest depth run"


def _findings(runs: list[dict]) -> str:
    """The prose under the table, read off the runs rather than written in advance."""

    def big(r: dict) -> bool:
        return r["round_trip_error_x"] is None or r["round_trip_error_x"] > 0.1

    def broken(r: dict) -> bool:
        return r["round_trip_error_x"] is None

    def worst(kind: str, dtype: str) -> str:
        errors = [
            r["round_trip_error_x"] for r in runs if (r["coupling"], r["dtype"]) == (kind, dtype)
        ]
        return "inf/NaN" if None in errors else f"{max(errors):.2g}"

    return (
        "The affine stack's smallest singular value is 0.1^K, so its inverse multiplies the "
        "forward pass's rounding error by 10^K; the additive stack is volume preserving and "
        "keeps only the rounding of its sums. Measured: the affine round-trip error first "
        f"exceeds 0.1 at depth {_first_depth(runs, 'affine', 'float32', big)} in float32 and "
        f"at depth {_first_depth(runs, 'affine', 'float64', big)} in float64; it is first "
        f"not finite at depth {_first_depth(runs, 'affine', 'float32', broken)} (float32) and "
        f"{_first_depth(runs, 'affine', 'float64', broken)} (float64). The additive stack's "
        f"largest error over all depths is {worst('additive', 'float32')} (float32) and "
        f"{worst('additive', 'float64')} (float64). Full per-depth numbers, including the "
        "round trip from f(x) and both singular values, are in the JSON."
    )


def markdown(record: dict) -> str:
    runs = {(r["depth"], r["coupling"], r["dtype"]): r for r in record["runs"]}
    combos = [(kind, dtype) for kind in KINDS for dtype in DTYPES]
    lines = [
        "# Round-trip error against depth (Behrmann et al. 2021, Fig. 1)",
        "",
        f"Input (1, 1); each block maps x2 to {TOY_SCALE}·x2 + {TOY_SHIFT} (affine, soft clamp "
        f"{UNCLAMPED:g}, i.e. unclamped) or x2 + {TOY_SHIFT} (additive) and leaves x1 alone. "
        "Error: |f⁻¹(f(x)) − x|₂. Condition number of the forward Jacobian, exact SVD; "
        "inf/NaN: the value overflowed.",
        "",
        "| depth | "
        + " | ".join(f"error {kind} {dtype}" for kind, dtype in combos)
        + " | condition number affine float32 | condition number affine float64 |",
        "|---:|" + "---:|" * (len(combos) + 2),
    ]
    for depth in record["table_depths"]:
        cells = [_cell(runs[depth, kind, dtype]["round_trip_error_x"]) for kind, dtype in combos]
        kappa = [_cell(runs[depth, "affine", dtype]["condition_number"]) for dtype in DTYPES]
        lines.append(f"| {depth} | " + " | ".join(cells + kappa) + " |")
    lines += ["", _findings(record["runs"]), ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-depth", type=int, default=60)
    parser.add_argument("--out", type=Path, default=RESULTS / "invertibility_depth")
    args = parser.parse_args()
    torch.set_num_threads(1)
    start = time.perf_counter()
    runs = [
        measure(depth, kind, dtype)
        for kind in KINDS
        for dtype in DTYPES
        for depth in range(1, args.max_depth + 1)
    ]
    record = {
        "task": "Behrmann et al. 2021, Fig. 1 toy (sbinn.diagnostics.stability_toy)",
        "start": START[0],
        "scale": TOY_SCALE,
        "shift": TOY_SHIFT,
        "clamp": UNCLAMPED,
        "table_depths": [d for d in TABLE_DEPTHS if d <= args.max_depth],
        "runs": runs,
        "wall_s": round(time.perf_counter() - start, 3),
        "environment": environment_record("python", "torch", "numpy", "machine", threads=1),
    }
    publish(args.out, record, markdown(record))


if __name__ == "__main__":
    main()
