"""The benchmark record: its shape is a contract read by later issues and outside tools."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from sbinn.benchmark import format_table, run_benchmark

SMALL = {"num_test_observations": 30, "num_posterior_samples": 40, "num_simulations": 8000}


@pytest.fixture(scope="module")
def record():
    return run_benchmark("kinematics", ["abc"], seed=3, progress=False, **SMALL)


def test_record_has_the_documented_shape(record):
    assert record["simulator"] == "kinematics"
    assert record["num_test_observations"] == 30
    assert record["seed"] == 3
    abc = record["methods"]["abc"]
    assert set(abc["metrics"]) >= {
        "calibration_error",
        "resimulation_error_mean",
        "resimulation_error_median",
    }
    for metric in abc["metrics"].values():
        assert metric["low"] <= metric["value"] <= metric["high"]
    assert set(abc["time_s"]) == {"simulation", "training", "sampling"}
    assert abc["simulations"] == 8000
    assert 0 <= abc["metrics"]["calibration_error"]["value"] <= 0.5
    json.loads(json.dumps(record, allow_nan=False))


def test_same_seed_reproduces_the_metrics(record):
    again = run_benchmark("kinematics", ["abc"], seed=3, progress=False, **SMALL)
    assert again["methods"]["abc"]["metrics"] == record["methods"]["abc"]["metrics"]


def test_table_lists_every_method_with_its_metrics(record):
    table = format_table(record)
    row = next(line for line in table.splitlines() if line.startswith("abc"))
    value = record["methods"]["abc"]["metrics"]["resimulation_error_mean"]["value"]
    assert f"{value:.4f}" in row
    assert "%" in row


def test_record_says_which_way_each_parameter_is_miscalibrated(record):
    direction = record["methods"]["abc"]["calibration_direction"]
    assert direction["alphas"] == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    names = set(record["methods"]["abc"]["metrics"]["calibration_error"]["per_dimension"])
    assert set(direction["curve"]) == set(direction["mean_signed"]) == names
    for curve in direction["curve"].values():
        assert len(curve) == 9 and all(-1 <= v <= 1 for v in curve)
    line = next(x for x in format_table(record).splitlines() if x.startswith("calibration dir"))
    narrow = sum(v < -0.005 for v in direction["mean_signed"].values())
    assert f"abc too narrow in {narrow}, too wide in" in line and "of 4 parameters" in line


def test_record_and_table_carry_the_exact_posterior_calibration_floor(record):
    floor = record["calibration_noise_floor"]
    assert floor["num_observations"] == 30 and floor["num_dims"] == 4
    assert 0 < floor["quantile_10"] <= floor["mean"] <= floor["quantile_90"] < 0.2
    line = next(x for x in format_table(record).splitlines() if "(the floor)" in x)
    assert f"mean {100 * floor['mean']:.2f}%" in line


def test_the_mixture_benchmark_records_label_fidelity_and_draws_its_figure(tmp_path):
    figure = tmp_path / "mixture.png"
    result = run_benchmark("gaussian_mixture", ["abc"], progress=False, figure=figure, **SMALL)
    abc = result["methods"]["abc"]
    assert np.isfinite(abc["metrics"]["calibration_error"]["value"])
    fidelity = abc["task_metrics"]["label_fidelity"]
    assert set(fidelity) <= {"red", "blue", "green", "purple"}
    assert all(entry["inside_fraction"] > 0.9 for entry in fidelity.values())
    assert figure.read_bytes()[:4] == b"\x89PNG"


def test_a_figure_for_a_task_without_one_is_refused(tmp_path):
    with pytest.raises(ValueError, match="has no figure"):
        run_benchmark("kinematics", ["abc"], progress=False, figure=tmp_path / "f.png", **SMALL)


def run_tiny(
    monkeypatch, simulator: str, methods: list[str], task_overrides: dict | None = None, **kwargs
) -> dict:
    """``run_benchmark`` with one-block, one-epoch networks and a 600-simulation budget;
    ``task_overrides`` replace further fields of the task's settings."""
    from sbinn.benchmark import tasks
    from sbinn.methods.cinn_config import CINNConfig
    from sbinn.methods.dropout_regression import DropoutRegressionConfig

    task = tasks.TASK_SETTINGS[simulator]
    tiny = replace(
        task,
        inn=replace(task.inn, num_blocks=1, hidden_features=8),
        training=replace(task.training, num_epochs=1),
        cinn=CINNConfig(
            num_blocks=1, hidden_features=8, summary_features=4, conditioning=task.cinn.conditioning
        ),
        cinn_training=replace(task.cinn_training, num_epochs=1),
        dropout=DropoutRegressionConfig(hidden_features=8, hidden_layers=1),
        dropout_training=replace(task.dropout_training, num_epochs=1),
        training_steps=None,
    )
    tiny = replace(tiny, **(task_overrides or {}))
    monkeypatch.setitem(tasks.TASK_SETTINGS, simulator, tiny)
    return run_benchmark(
        simulator,
        methods,
        num_test_observations=10,
        num_posterior_samples=20,
        num_simulations=600,
        progress=False,
        **kwargs,
    )


def test_learned_methods_and_ablations_run_on_a_tiny_budget(monkeypatch):
    result = run_tiny(monkeypatch, "kinematics", ["inn", "inn_yz", "inn_x"])
    assert set(result["methods"]) == {"inn", "inn_yz", "inn_x"}
    assert set(result["methods"]["inn_yz"]["details"]["final_loss_terms"]) == {"y", "z"}
    assert set(result["methods"]["inn_x"]["details"]["final_loss_terms"]) == {"x"}
    assert result["methods"]["inn"]["time_s"]["training"] > 0


@pytest.mark.parametrize(
    ("by_epochs", "expected"),
    [(("cinn",), {"inn": 1, "cinn": 3}), (("inn",), {"inn": 2, "cinn": 1})],
)
def test_a_task_can_train_some_families_for_epochs_instead_of_its_step_count(
    monkeypatch, by_epochs, expected
):
    from sbinn.benchmark import tasks

    settings = tasks.TASK_SETTINGS["kinematics"]
    overrides = {
        "training_steps": 1,
        "by_epochs": by_epochs,
        "cinn_training": replace(settings.cinn_training, num_epochs=3),
        "training": replace(settings.training, num_epochs=2),
        # Without re-simulation, whose budget would turn the two epochs into more.
        "inn": replace(settings.inn, num_blocks=1, hidden_features=8, resimulations_per_step=0),
    }
    result = run_tiny(monkeypatch, "kinematics", ["inn", "cinn"], overrides)
    epochs = {name: entry["details"]["epochs"] for name, entry in result["methods"].items()}
    assert epochs == expected


def test_mixture_ablations_keep_the_padding_terms(monkeypatch):
    result = run_tiny(monkeypatch, "gaussian_mixture", ["inn_yz", "inn_x"])
    terms = {
        name: set(entry["details"]["final_loss_terms"]) for name, entry in result["methods"].items()
    }
    assert terms == {
        "inn_yz": {"y", "z", "pad", "reconstruction"},
        "inn_x": {"x", "pad", "reconstruction"},
    }


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (("cosmology", ["abc"]), {}, "unknown simulator 'cosmology'"),
        (("kinematics", ["cvae"]), {}, "unknown methods"),
        (("kinematics", []), {}, "unknown methods"),
        (
            ("cluster_cmd", ["abc", "inn"]),
            {},
            "cluster_cmd benchmark runs only abc, cinn, cinn_set_transformer; got inn",
        ),
        (("kinematics", ["abc"]), {"num_test_observations": 0}, "num_test_observations must be"),
        (
            ("kinematics", ["abc"]),
            {"num_posterior_samples": 100, "num_simulations": 50},
            "num_simulations >= num_posterior_samples",
        ),
    ],
)
def test_invalid_requests_are_rejected(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        run_benchmark(*args, progress=False, **kwargs)


def test_the_cinn_joins_the_table_with_a_heldout_nll(monkeypatch):
    result = run_tiny(monkeypatch, "kinematics", ["abc", "cinn"])
    cinn = result["methods"]["cinn"]
    assert np.isfinite(cinn["metrics"]["heldout_nll"]["value"])
    assert cinn["settings"]["method"] == "cinn"
    assert cinn["time_s"]["training"] > 0
    assert {"final_training_nll", "final_validation_nll"} <= set(cinn["details"])
    assert 0 <= cinn["details"]["best_epoch"] < cinn["details"]["epochs"]
    assert "heldout_nll" not in result["methods"]["abc"]["metrics"]
    table = format_table(result)
    assert "held-out NLL" in table.splitlines()[1]
    abc_row = next(line for line in table.splitlines() if line.startswith("abc"))
    assert abc_row.split()[7] == "-"  # mean, median and calibration take 2 fields each


def test_the_tissue_benchmark_shares_its_simulations_and_scores_map_estimates(
    monkeypatch, tmp_path
):
    figure = tmp_path / "tissue.png"
    methods = ["abc", "cinn", "cinn_conv1d", "dropout", "inn"]
    result = run_tiny(monkeypatch, "tissue", methods, figure=figure)
    shared = result["shared_simulations"]
    assert shared["simulations"] == 600 and shared["time_s"] > 0
    noise = result["simulation_noise"]["resimulation_error_mean"]
    assert noise["value"] > 0  # the camera is noisy: even the truth does not re-simulate exactly
    for name in methods:
        entry = result["methods"][name]
        assert entry["simulations"] == 600
        # Each method is charged its share of the one simulation run.
        assert entry["time_s"]["simulation"] >= shared["time_s"] * 0.999
        metrics = entry["metrics"]
        assert {"map_error_sO2", "map_error_recoverable", "calibration_error"} <= set(metrics)
        assert 0 <= metrics["map_error_sO2"]["value"] <= 1
        assert metrics["resimulation_error_mean"]["value"] > 0
    for name in ("cinn", "cinn_conv1d", "inn"):
        # Fresh camera noise every epoch on the shared simulations; the count is unchanged.
        assert result["methods"][name]["settings"]["fresh_noise"] is True
    assert "fresh_noise" not in result["methods"]["dropout"]["settings"]
    bounds = result["methods"]["cinn"]["settings"]["config"]["parameter_bounds"]
    assert bounds[0] == [0.0, 1.0]  # sO2: the cINN learns it on the logit scale
    inn = result["methods"]["inn"]["settings"]
    # The INN learns the camera's 8 noise draws as latent parameters, and bounded θ.
    assert inn["dims"]["noise"] == 8 and inn["config"]["parameter_bounds"][0] == [0.0, 1.0]
    # Thesis Table 4.2: ABC keeps the nearest 0.5%, 3 of 600.
    assert result["methods"]["abc"]["settings"]["quantile"] == pytest.approx(3 / 600)
    table = format_table(result)
    assert "map error sO2" in table.splitlines()[1]
    assert any(line.startswith("simulation noise") for line in table.splitlines())
    assert figure.read_bytes()[:4] == b"\x89PNG"
    for name in ("cinn", "cinn_conv1d", "inn"):
        stability = result["methods"][name]["stability"]
        assert stability["reference"]["source"] == "the first training simulations (shared bank)"
    # The INN's network is as wide as its widest side (26 here): still exact SVDs.
    stability = result["methods"]["inn"]["stability"]
    assert stability["network"]["dim"] == inn["dims"]["width"] == 26
    assert "exact" in stability["samples"]["jacobian_inverse"]["method"]


def test_the_star_cluster_benchmark_learns_noise_draws_and_draws_its_corner_plot(
    monkeypatch, tmp_path
):
    from sbinn.benchmark import tasks

    figure = tmp_path / "star_cluster.png"
    task = replace(tasks.TASK_SETTINGS["star_cluster"], reference_observations=2)
    monkeypatch.setitem(tasks.TASK_SETTINGS, "star_cluster", task)
    result = run_tiny(monkeypatch, "star_cluster", ["abc", "inn", "cinn"], figure=figure)
    # No analytic posterior: a 3x-budget ABC run on the first test observations stands in.
    assert result["reference"]["simulations"] == 1800
    assert result["reference"]["observations"] == 2
    inn = result["methods"]["inn"]["settings"]
    assert inn["dims"]["noise"] == 10  # one draw per emission line
    # cloud mass: log-uniform 10^5 - 10^7.5 Msun, learned on the logit scale of its bounds
    assert inn["config"]["parameter_bounds"][0] == pytest.approx([1e5, 10**7.5])
    for entry in result["methods"].values():
        assert 0 <= entry["metrics"]["calibration_error"]["value"] <= 1
        assert entry["metrics"]["resimulation_error_mean"]["value"] > 0
        assert 0.3 <= entry["metrics"]["c2st_vs_reference"]["value"] <= 1
    assert "c2st vs reference" in format_table(result).splitlines()[1]
    assert figure.read_bytes()[:4] == b"\x89PNG"


def test_learned_methods_train_for_the_task_steps_whatever_the_budget():
    from sbinn.benchmark.runners import _scaled
    from sbinn.train import TrainingConfig

    training = TrainingConfig(batch_size=100, validation_fraction=0.1, num_epochs=3)
    assert _scaled(training, None, 10_000).num_epochs == 3
    assert _scaled(training, 900, 10_000).num_epochs == 10  # 90 steps per epoch
    assert _scaled(training, 900, 100_000).num_epochs == 1


def test_resimulated_backward_samples_come_out_of_the_budget_not_out_of_the_steps():
    from sbinn.benchmark.runners import _with_resimulation_budget
    from sbinn.train import TrainingConfig

    training = TrainingConfig(batch_size=100, validation_fraction=0.1, num_epochs=3)
    # 10 000 simulations: 90 steps per epoch, 270 steps; 10 re-simulations per step.
    scaled, pairs = _with_resimulation_budget(training, None, 10_000, 10)
    assert pairs == 10_000 - 2700
    steps = scaled.num_epochs * math.ceil(0.9 * pairs / 100)
    assert pairs + 10 * steps <= 10_000 and steps >= 270 - math.ceil(0.9 * pairs / 100)
    scaled, pairs = _with_resimulation_budget(training, 500, 10_000, 10)
    assert pairs == 5000 and scaled.num_epochs == 11  # 45 steps per epoch, 495 steps
    with pytest.raises(ValueError, match="leave 0 of 10000 simulations for training pairs"):
        _with_resimulation_budget(training, 1000, 10_000, 10)


def test_an_inn_that_resimulates_stays_within_the_benchmark_budget(monkeypatch):
    from sbinn.benchmark import tasks

    task = tasks.TASK_SETTINGS["kinematics"]
    monkeypatch.setitem(
        tasks.TASK_SETTINGS,
        "kinematics",
        replace(task, inn=replace(task.inn, resimulations_per_step=20)),
    )
    result = run_tiny(monkeypatch, "kinematics", ["inn", "inn_x"])
    # 540 training pairs at batch 500 would be 2 steps: 40 simulations go to re-simulation.
    assert 560 < result["methods"]["inn"]["simulations"] <= 600
    assert result["methods"]["inn_x"]["simulations"] == 600


def test_the_abc_reference_needs_more_simulations_than_samples():
    from sbinn.benchmark.reference import abc_reference
    from simulators.kinematics import KinematicsSimulator

    with pytest.raises(ValueError, match="num_simulations >= num_samples, got 50 < 100"):
        abc_reference(
            KinematicsSimulator(),
            np.zeros((1, 2)),
            num_samples=100,
            num_simulations=50,
            seed=0,
            progress=False,
        )


def test_the_cluster_cmd_benchmark_scores_sets_by_summaries_and_by_star_count(
    monkeypatch, tmp_path
):
    from sbinn.benchmark import tasks

    task = replace(tasks.TASK_SETTINGS["cluster_cmd"], resimulated_samples=5)
    monkeypatch.setitem(tasks.TASK_SETTINGS, "cluster_cmd", task)
    report = tmp_path / "report.html"
    result = run_tiny(monkeypatch, "cluster_cmd", ["abc", "cinn"], report=report)
    # Both methods see the same simulations: ABC their summaries, the cINN the sets.
    assert result["shared_simulations"]["simulations"] == 600
    assert result["num_test_observations"] == 10
    assert result["resimulation"] == {
        "at": "posterior",
        "samples_per_observation": 5,
        "observations": None,
        "space": "cluster_cmd_standardised_summaries",
    }
    bins = ["20-50", "50-200", "200-800", "800-2000"]
    for entry in result["methods"].values():
        metrics = entry["metrics"]
        for stars in bins:
            assert 0 <= metrics[f"calibration_error_{stars}_stars"]["value"] <= 1
        assert entry["simulations"] == 600
    cinn = result["methods"]["cinn"]
    assert cinn["settings"]["config"]["conditioning"] == "deepset"
    assert cinn["settings"]["config"]["parameter_bounds"][0] == [8.0, 10.1]  # log_age
    assert np.isfinite(cinn["metrics"]["heldout_nll"]["value"])
    # A one-epoch network samples near the prior, whose re-simulations land about
    # sqrt(2 * 20) ~ 6 standardised units away; the true parameters much nearer.
    floor = result["simulation_noise"]["resimulation_error_mean"]["value"]
    assert 0 < floor < 0.7 * cinn["metrics"]["resimulation_error_mean"]["value"]
    lines = format_table(result).splitlines()
    headers = [cell.strip() for cell in lines[1].split("  ") if cell.strip()]
    assert headers[1:5] == [f"calibration error {stars} stars" for stars in bins]
    assert "at 5 posterior samples per observation" in lines[-1]
    # The report checks the observations in the summaries' space, where they have a length.
    numbers = json.loads(report.with_suffix(".json").read_text())
    assert "calibration_error_800-2000_stars" in numbers["methods"]["abc"]["metrics"]
    assert report.read_text().startswith("<!DOCTYPE html>")


def test_posterior_resimulation_can_take_a_random_subset_of_each_observations_samples():
    from sbinn.benchmark.scoring import score_samples
    from sbinn.function_simulator import FunctionSimulator
    from sbinn.priors import JointPrior, Normal

    sim = FunctionSimulator(lambda t: t, JointPrior({"a": Normal(0.0, 1.0)}))
    # Sample j of every observation re-simulates exactly j away from x = 0.
    samples = np.tile(np.arange(10.0)[None, :, None], (6, 1, 1))
    theta, x = np.zeros((6, 1)), np.zeros((6, 1))
    _, distances = score_samples(sim, samples, theta, x, seed=0, resimulated_samples=4)
    assert distances.shape == (6, 4)
    assert all(len(set(row)) == 4 and set(row) <= set(range(10)) for row in distances.tolist())
    assert sorted(distances[0]) != [0.0, 1.0, 2.0, 3.0]  # not simply the first four
    _, again = score_samples(sim, samples, theta, x, seed=0, resimulated_samples=4)
    np.testing.assert_array_equal(distances, again)
    _, every = score_samples(sim, samples, theta, x, seed=0, resimulated_samples=50)
    assert every.shape == (6, 10)
    with pytest.raises(ValueError, match="resimulated_samples must be"):
        score_samples(sim, samples, theta, x, seed=0, resimulated_samples=0)


def test_every_learned_method_carries_a_stability_entry(monkeypatch):
    result = run_tiny(monkeypatch, "kinematics", ["abc", "inn", "cinn", "dropout"])
    methods = result["methods"]
    assert "stability" not in methods["abc"]  # nothing learned, nothing to invert
    assert methods["dropout"]["stability"] == {
        "checked": False,
        "reason": "not an invertible network",
    }
    for name in ("inn", "cinn"):
        stability = methods[name]["stability"]
        assert stability["checked"] is True
        assert stability["reference"]["num_pairs"] == 256
        assert stability["reference"]["source"] == "fresh prior-predictive simulations"
        assert stability["samples"]["num_observations"] == 10  # every test observation
        assert stability["reliability"]["num_observations"] == 10
        assert stability["training"]["round_trip_x"]["num_points"] == 256
        assert stability["samples"]["round_trip_z"]["num_points"] == 10 * 32
    # Width 4 (kinematics): exact SVDs.
    assert "exact" in methods["inn"]["stability"]["training"]["jacobian_forward"]["method"]
    json.loads(json.dumps(result, allow_nan=False))
