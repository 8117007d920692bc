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

Tasks with a slow simulator (tissue) add ``"shared_simulations"`` (one training set for all
methods, :mod:`sbinn.benchmark.bank`) and ``"simulation_noise"`` (the re-simulation error of
the true parameters, the floor for the MAP re-simulation errors those tasks report), and
their methods have point-estimate metrics such as ``"map_error_sO2"``. ``"resimulation"``
says what was re-simulated (``"samples_per_observation"`` null: all) and in which space the
distances are: ``"observations"``, or a named summary of them, as for the colour–magnitude
sets of ``cluster_cmd``
(:mod:`simulators.cluster_cmd.evaluation`), whose methods also have a calibration error per
bin of observed stars such as ``"calibration_error_20-50_stars"``.

Every method also carries ``"calibration_direction"``
(:func:`~sbinn.benchmark.scoring.calibration_direction`): the signed calibration curve
``α_inl − α`` per parameter at α = 0.1, ..., 0.9 and its mean, negative where the posterior
is too narrow and positive where it is too wide, which the calibration error cannot say.

Learned methods also carry ``"stability"`` (:func:`sbinn.diagnostics.stability_summary`:
round-trip errors, Jacobian condition numbers and per-block log-determinants at 256
reference pairs and at the latent points the sampler inverts for the first 100 test
observations, and the share of those observations flagged as unreliable), or
``{"checked": false, "reason": ...}`` for a network that is not invertible.

Keys may be added over time; none may be renamed.

Examples:
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
from sbinn.benchmark.bank import SimulationBank, simulate_bank
from sbinn.benchmark.reference import abc_reference, c2st_against_reference
from sbinn.benchmark.runners import METHODS, MethodOutput
from sbinn.benchmark.scoring import calibration_direction, score_samples, simulation_noise
from sbinn.benchmark.table import format_table
from sbinn.benchmark.tasks import SIMULATORS, TASK_SETTINGS
from sbinn.diagnostics import calibration_noise_floor, heldout_nll

__all__ = [
    "METHODS",
    "SIMULATORS",
    "TASK_SETTINGS",
    "MethodOutput",
    "SimulationBank",
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
    if task.methods is not None and not set(methods) <= set(task.methods):
        raise ValueError(
            f"the {simulator} benchmark runs only {', '.join(task.methods)}; got "
            f"{', '.join(m for m in methods if m not in task.methods)}"
        )
    if figure is not None and task.figure is None:
        raise ValueError(f"the {simulator} benchmark has no figure yet")
    sim = SIMULATORS[simulator]()
    seeds = np.random.SeedSequence(seed).generate_state(2 + len(methods))
    if task.test_set is None:
        theta_true, x_obs = sim.sample_joint(num_test_observations, seed=int(seeds[0]))
    else:
        theta_true, x_obs = task.test_set(sim, num_test_observations, int(seeds[0]))
    # Sets are scored through their summaries: ABC's space, and the re-simulation distance's.
    scoring = sim if task.summaries is None else task.summaries(sim)
    x_scored = x_obs if task.summaries is None else scoring.summarise(x_obs)
    record: dict = {
        "simulator": simulator,
        "num_test_observations": int(theta_true.shape[0]),
        "num_posterior_samples": num_posterior_samples,
        "seed": seed,
        "simulator_settings": sim.settings(),
        "environment": package_versions(),
        "methods": {},
    }
    budgets = {name: num_simulations or METHODS[name][1](simulator) for name in methods}
    bank = None
    if task.share_simulations:
        bank = simulate_bank(
            sim,
            check_positive_int(max(budgets.values()), "num_simulations"),
            seed=_bank_seed(seed),
            progress=progress,
            with_noise=task.inn.latent_noise,
            with_signal=task.fresh_noise,
        )
        record["shared_simulations"] = bank.to_json()
    # What exact posterior samples would score: the calibration errors' yardstick.
    record["calibration_noise_floor"] = calibration_noise_floor(
        int(theta_true.shape[0]), int(theta_true.shape[1]), num_samples=num_posterior_samples
    )
    record["resimulation"] = {
        "at": task.resimulate,
        "samples_per_observation": 1 if task.resimulate == "map" else task.resimulated_samples,
        "observations": task.resimulated_observations,
        "space": "observations" if task.summaries is None else scoring.name,
    }
    if task.resimulate == "map" or task.simulation_noise:
        record["simulation_noise"] = {
            key: result.to_json()
            for key, result in simulation_noise(
                scoring,
                theta_true,
                x_scored,
                seed=int(seeds[1]),
                num_observations=task.resimulated_observations,
            ).items()
        }
    reference = None
    if task.reference_factor is not None:
        reference = abc_reference(
            sim,
            x_obs[: task.reference_observations],
            num_samples=num_posterior_samples,
            num_simulations=task.reference_factor * (num_simulations or task.abc_simulations),
            seed=int(seeds[1]) + 1,
            progress=progress,
        )
        record["reference"] = reference.record()
    kept_samples: dict[str, np.ndarray] = {}
    kept_metrics: dict[str, dict] = {}
    kept_distances: dict[str, np.ndarray] = {}
    for index, name in enumerate(methods):
        runner = METHODS[name][0]
        output = runner(
            sim,
            x_obs,
            num_samples=num_posterior_samples,
            num_simulations=check_positive_int(budgets[name], "num_simulations"),
            seed=int(seeds[2 + index]),
            progress=progress,
            shared=bank,
        )
        metrics, distances = score_samples(
            scoring,
            output.samples,
            theta_true,
            x_obs,
            seed=int(seeds[1]),
            resimulate=task.resimulate,
            resimulated_observations=task.resimulated_observations,
            resimulated_samples=task.resimulated_samples,
            point_metrics=task.point_metrics,
            sample_metrics=task.sample_metrics,
            x_scored=x_scored,
        )
        if reference is not None:
            metrics["c2st_vs_reference"] = c2st_against_reference(
                output.samples, reference, seed=int(seeds[1])
            )
        if output.log_prob is not None:
            metrics["heldout_nll"] = heldout_nll(
                output.log_prob(theta_true, x_obs), seed=int(seeds[1])
            )
        if figure is not None or report is not None:
            kept_samples[name], kept_metrics[name] = output.samples, metrics
            kept_distances[name] = distances
        record["methods"][name] = {
            "metrics": {key: result.to_json() for key, result in metrics.items()},
            "calibration_direction": calibration_direction(metrics["calibration_error"]),
            "time_s": {key: round(value, 4) for key, value in output.time_s.items()},
            "simulations": int(output.simulations),
            "settings": output.settings,
            "details": output.details,
        }
        if output.stability is not None:
            record["methods"][name]["stability"] = output.stability
        if task.metrics is not None:
            record["methods"][name]["task_metrics"] = task.metrics(sim, output.samples, x_obs)
    if figure is not None:
        task.figure(sim, x_obs, kept_samples, Path(figure), theta_true=theta_true)
        record["figure"] = str(figure)
    if report is not None:
        checks = None if bank is None else bank.x
        if checks is not None and task.summaries is not None:
            checks = scoring.summarise(checks)
        _write_report(
            record,
            scoring,
            (theta_true, x_scored),
            (kept_samples, kept_metrics, kept_distances),
            checks,
            Path(report),
        )
    return record


def _bank_seed(seed: int) -> int:
    """Seed of the shared simulations, apart from the test set's and the methods' seeds."""
    return int(np.random.SeedSequence(seed, spawn_key=(1,)).generate_state(1)[0])


def _write_report(record, sim, test_set, kept, check_simulations, path: Path) -> None:
    (theta_true, x_obs), (samples, metrics, distances) = test_set, kept
    from sbinn.report.calibration_report import CalibrationReport

    info_keys = ("time_s", "simulations", "settings", "details", "task_metrics", "stability")
    keys = ("simulator", "seed", "simulator_settings", "shared_simulations", "simulation_noise")
    context = {key: record[key] for key in keys if key in record}
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
        resimulation_distances=distances,
        check_simulations=check_simulations,
        context=context | {"num_test_observations": record["num_test_observations"]},
        seed=record["seed"],
    ).write(path)
    record["report"] = str(path)
