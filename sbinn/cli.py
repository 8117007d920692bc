"""The ``sbinn`` command line.

``sbinn benchmark SIMULATOR`` compares inference methods on a simulator, prints a table in
the layout of the thesis' Table 4.1, and writes every number with ``--json``.

Examples:
    >>> main(["benchmark", "kinematics", "--num-test", "10", "--num-samples", "20",
    ...       "--simulations", "2000", "--quiet"])  # doctest: +ELLIPSIS
    kinematics: 10 test observations, seed 0
    method  mean re-sim. err. ...
    0
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sbinn.benchmark import METHODS, SIMULATORS, TASK_SETTINGS, format_table, run_benchmark

__all__ = ["main"]

_DEFAULT_METHODS = ("abc", "inn", "cinn")


def _positive_int(text: str) -> int:
    try:
        value = int(float(text)) if "e" in text.lower() else int(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from error
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _simulator_name(text: str) -> str:
    name = text.replace("-", "_")
    if name not in SIMULATORS:
        raise argparse.ArgumentTypeError(
            f"unknown simulator {text!r}; expected one of {', '.join(sorted(SIMULATORS))}"
        )
    return name


def _method_names(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in METHODS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown method {', '.join(unknown) or repr(text)}; expected from "
            f"{', '.join(sorted(METHODS))}"
        )
    return names


def _default_methods(simulator: str) -> list[str]:
    """ABC, the INN and the cINN, less those the task cannot run (the INN on sets)."""
    runnable = TASK_SETTINGS[simulator].methods
    return [name for name in _DEFAULT_METHODS if runnable is None or name in runnable]


def _write_atomically(path: Path, text: str) -> None:
    # A temporary name first, so an interrupted run never leaves half a file.
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    partial.replace(path)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sbinn", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    bench = commands.add_parser(
        "benchmark", help="compare inference methods on a simulator and report the metrics"
    )
    bench.add_argument(
        "simulator",
        type=_simulator_name,
        help=f"one of {', '.join(sorted(SIMULATORS))} ('-' and '_' are interchangeable)",
    )
    bench.add_argument(
        "--methods",
        nargs="+",
        type=_method_names,
        default=None,
        help=f"methods to compare, from {', '.join(sorted(METHODS))}, separated by spaces or "
        "commas (default: abc inn cinn, the thesis' Table 4.1 with the cINN; about 30 min on "
        "2 CPU cores for kinematics; cluster-cmd, whose observations are sets: abc cinn)",
    )
    bench.add_argument("--num-test", type=_positive_int, default=1000, help="test observations")
    bench.add_argument(
        "--num-samples", type=_positive_int, default=1000, help="posterior samples per observation"
    )
    bench.add_argument(
        "--simulations",
        type=_positive_int,
        default=None,
        help="simulation budget of every method (default: a per-method budget)",
    )
    bench.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    bench.add_argument("--json", type=Path, default=None, help="write all numbers to this file")
    bench.add_argument(
        "--markdown", type=Path, default=None, help="write the table as Markdown to this file"
    )
    bench.add_argument(
        "--figure", type=Path, default=None, help="write the task's figure (PNG), where it has one"
    )
    bench.add_argument(
        "--report",
        type=Path,
        default=None,
        help="write the HTML calibration report here (and its numbers next to it, as .json)",
    )
    bench.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``sbinn`` command; returns the process exit code."""
    args = _parser().parse_args(argv)
    outputs = (
        ("--json", args.json),
        ("--markdown", args.markdown),
        ("--figure", args.figure),
        ("--report", args.report),
    )
    for option, path in outputs:
        if path is not None and not path.parent.exists():
            print(f"sbinn: directory of {option} {path} does not exist", file=sys.stderr)
            return 2
    if args.report is not None and args.report.suffix.lower() not in (".html", ".htm"):
        print(f"sbinn: --report needs an .html path, got {args.report}", file=sys.stderr)
        return 2
    if args.report is not None and args.json == args.report.with_suffix(".json"):
        print(
            f"sbinn: the report writes its numbers to {args.json}; give --json another path",
            file=sys.stderr,
        )
        return 2
    if args.methods is None:
        methods = _default_methods(args.simulator)
    else:
        methods = list(dict.fromkeys(name for group in args.methods for name in group))
    record = run_benchmark(
        args.simulator,
        methods,
        num_test_observations=args.num_test,
        num_posterior_samples=args.num_samples,
        num_simulations=args.simulations,
        seed=args.seed,
        progress=False if args.quiet else None,
        figure=args.figure,
        report=args.report,
    )
    table = format_table(record)
    print(table)
    if args.json is not None:
        _write_atomically(args.json, json.dumps(record, indent=2) + "\n")
    if args.markdown is not None:
        _write_atomically(args.markdown, f"```text\n{table}\n```\n")
    for _, path in outputs:
        if path is not None:
            print(f"wrote {path}")
    if args.report is not None:
        print(f"wrote {args.report.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
