"""Side-by-side benchmarks of inference methods on one simulator: the main job of ``sbinn``.

A benchmark draws held-out test pairs ``(theta*, x*)`` from the simulator, asks every method
for posterior samples of each ``x*``, and scores all methods with the same diagnostics
(calibration error and re-simulation error, thesis Table 4.1). The result is a plain dict
with a stable shape, written as JSON by the CLI::

    {"simulator": "kinematics", "num_test_observations": 1000, "seed": 0,
     "methods": {"abc": {"metrics": {"calibration_error": {"value": ..., "low": ..., "high": ...},
                                     "resimulation_error_mean": {...},
                                     "resimulation_error_median": {...}},
                         "time_s": {"simulation": ..., "training": ..., "sampling": ...},
                         "simulations": ...}}}

Keys may be added over time; none may be renamed.

Example:
    >>> result = run_benchmark("kinematics", ["abc"], num_test_observations=20,
    ...                        num_posterior_samples=50, num_simulations=20_000, progress=False)
    >>> sorted(result["methods"]["abc"]["metrics"])
    ['calibration_error', 'resimulation_error_mean', 'resimulation_error_median']
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sbinn._environment import package_versions
from sbinn._validation import check_positive_int
from sbinn.benchmark.runners import METHODS, MethodOutput
from sbinn.benchmark.tasks import SIMULATORS, TASK_SETTINGS
from sbinn.diagnostics import calibration_error, heldout_nll, resimulation_error

__all__ = [
    "METHODS",
    "SIMULATORS",
    "TASK_SETTINGS",
    "MethodOutput",
    "format_table",
    "run_benchmark",
]


def run_benchmark(
    simulator: str,
    methods: Sequence[str] = ("abc",),
    *,
    num_test_observations: int = 1000,
    num_posterior_samples: int = 1000,
    num_simulations: int | None = None,
    seed: int = 0,
    progress: bool | None = None,
    figure: str | Path | None = None,
    report: str | Path | None = None,
) -> dict:
    """Run ``methods`` on ``simulator`` and return the benchmark record.

    Args:
        simulator: A key of :data:`SIMULATORS`.
        methods: Keys of :data:`METHODS`.
        num_test_observations: Held-out test pairs.
        num_posterior_samples: Posterior samples per test observation.
        num_simulations: Simulation budget of every method; per-method defaults if None.
        seed: Root seed; test data and every method derive their seeds from it.
        progress: Progress bars; None shows them only on a terminal.
        figure: PNG path for the task's figure, where the task has one.
        report: HTML path of the calibration report (:class:`sbinn.report.CalibrationReport`);
            its numbers go to the same path with ``.json``.
    """
    if simulator not in SIMULATORS:
        raise ValueError(f"unknown simulator {simulator!r}; expected one of {sorted(SIMULATORS)}")
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise ValueError(f"unknown methods {unknown or methods!r}; expected from {sorted(METHODS)}")
    num_test_observations = check_positive_int(num_test_observations, "num_test_observations")
    num_posterior_samples = check_positive_int(num_posterior_samples, "num_posterior_samples")
    task = TASK_SETTINGS[simulator]
    if figure is not None and task.figure is None:
        raise ValueError(f"the {simulator} benchmark has no figure yet")
    sim = SIMULATORS[simulator]()
    seeds = np.random.SeedSequence(seed).generate_state(2 + len(methods))
    theta_true, x_obs = sim.sample_joint(num_test_observations, seed=int(seeds[0]))
    record: dict = {
        "simulator": simulator,
        "num_test_observations": int(theta_true.shape[0]),
        "num_posterior_samples": num_posterior_samples,
        "seed": seed,
        "simulator_settings": sim.settings(),
        "environment": package_versions(),
        "methods": {},
    }
    kept_samples: dict[str, np.ndarray] = {}
    kept_metrics: dict[str, dict] = {}
    for index, name in enumerate(methods):
        runner, default_budget = METHODS[name]
        budget = num_simulations or default_budget(simulator)
        output = runner(
            sim,
            x_obs,
            num_samples=num_posterior_samples,
            num_simulations=check_positive_int(budget, "num_simulations"),
            seed=int(seeds[2 + index]),
            progress=progress,
        )
        metrics = _score(sim, output.samples, theta_true, x_obs, seed=int(seeds[1]))
        if output.log_prob is not None:
            metrics["heldout_nll"] = heldout_nll(
                output.log_prob(theta_true, x_obs), seed=int(seeds[1])
            )
        if figure is not None or report is not None:
            kept_samples[name], kept_metrics[name] = output.samples, metrics
        record["methods"][name] = {
            "metrics": {key: result.to_json() for key, result in metrics.items()},
            "time_s": {key: round(value, 4) for key, value in output.time_s.items()},
            "simulations": int(output.simulations),
            "settings": output.settings,
            "details": output.details,
        }
        if task.metrics is not None:
            record["methods"][name]["task_metrics"] = task.metrics(sim, output.samples, x_obs)
    if figure is not None:
        task.figure(sim, x_obs, kept_samples, Path(figure))
        record["figure"] = str(figure)
    if report is not None:
        _write_report(record, sim, theta_true, x_obs, kept_samples, kept_metrics, Path(report))
    return record


def _write_report(record, sim, theta_true, x_obs, samples, metrics, path: Path) -> None:
    from sbinn.report.calibration_report import CalibrationReport

    info_keys = ("time_s", "simulations", "settings", "details", "task_metrics", "stability")
    context = {key: record[key] for key in ("simulator", "seed", "simulator_settings")}
    CalibrationReport(
        samples,
        theta_true,
        x_obs=x_obs,
        simulator=sim,
        title=f"sbinn benchmark: {record['simulator']}",
        method_info={
            name: {key: entry[key] for key in info_keys if key in entry}
            for name, entry in record["methods"].items()
        },
        metrics=metrics,
        context=context | {"num_test_observations": record["num_test_observations"]},
        seed=record["seed"],
    ).write(path)
    record["report"] = str(path)


def _score(sim, samples, theta_true, x_obs, *, seed: int) -> dict:
    calibration = calibration_error(samples, theta_true, parameter_names=sim.parameter_names)
    resim_mean, resim_median = resimulation_error(samples, x_obs, sim, seed=seed)
    return {
        "calibration_error": calibration,
        "resimulation_error_mean": resim_mean,
        "resimulation_error_median": resim_median,
    }


def format_table(record: dict) -> str:
    """The benchmark as a text table in the layout of the thesis' Table 4.1.

    Example:
        >>> record = {"simulator": "kinematics", "num_test_observations": 2, "seed": 0,
        ...     "methods": {"abc": {"simulations": 10, "time_s": {"simulation": 1.0},
        ...     "metrics": {"calibration_error": {"value": 0.01, "low": 0.0, "high": 0.02}}}}}
        >>> print(format_table(record))  # doctest: +NORMALIZE_WHITESPACE
        kinematics: 2 test observations, seed 0
        method  mean re-sim. err.  median re-sim. err.  calibration err.  simulations  time [s]
        abc     -                  -                    1.00% ±1.00%      10           1.0
    """

    def cell(metrics: dict, key: str, percent: bool = False) -> str:
        if key not in metrics:
            return "-"
        m = metrics[key]
        if m["value"] is None:
            return "inf" if key == "heldout_nll" else "n/a"
        half = (m["high"] - m["low"]) / 2
        if percent:
            return f"{100 * m['value']:.2f}% ±{100 * half:.2f}%"
        return f"{m['value']:.4f} ±{half:.4f}"

    # Only methods with a density have a held-out NLL; the column appears when one does.
    with_nll = any("heldout_nll" in e["metrics"] for e in record["methods"].values())
    header = ["method", "mean re-sim. err.", "median re-sim. err.", "calibration err."]
    header += ["held-out NLL"] * with_nll + ["simulations", "time [s]"]
    rows = [header]
    for name, entry in record["methods"].items():
        metrics = entry["metrics"]
        rows.append(
            [
                name,
                cell(metrics, "resimulation_error_mean"),
                cell(metrics, "resimulation_error_median"),
                cell(metrics, "calibration_error", percent=True),
            ]
            + [cell(metrics, "heldout_nll")] * with_nll
            + [str(entry["simulations"]), f"{sum(entry['time_s'].values()):.1f}"]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [
        f"{record['simulator']}: {record['num_test_observations']} test observations, "
        f"seed {record['seed']}"
    ]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    for name, entry in record["methods"].items():
        for metric, groups in entry.get("task_metrics", {}).items():
            lines.append(f"{name} {metric}: " + _format_groups(groups))
    return "\n".join(lines)


def _format_groups(groups: dict) -> str:
    """``{"red": {"inside_fraction": 0.98, ...}}`` as ``red inside_fraction=0.980 ...``."""
    parts = []
    for group, values in groups.items():
        if not isinstance(values, dict):
            parts.append(
                f"{group}={values:.3g}" if isinstance(values, float) else f"{group}={values}"
            )
            continue
        shown = " ".join(
            f"{key}={value:.3f}" if isinstance(value, float) else f"{key}={value}"
            for key, value in values.items()
            if key != "num_samples"
        )
        parts.append(f"{group} {shown}")
    return "; ".join(parts)
