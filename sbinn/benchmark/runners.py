"""One runner per benchmark method: it gets a simulator and test observations, returns samples.

Every runner has the signature
``runner(simulator, x_obs, *, num_samples, num_simulations, seed, progress, shared)
-> MethodOutput`` and does its own accounting of wall time (simulation, training,
sampling) and simulations. ``shared`` is the benchmark's :class:`SimulationBank` where the
task shares one set of simulations between methods (``None`` otherwise): a runner then
uses its first ``num_simulations`` and is charged their share of the simulation time.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial

import numpy as np

from sbinn.benchmark.bank import SimulationBank
from sbinn.benchmark.tasks import TASK_SETTINGS
from sbinn.diagnostics.stability import stability_summary
from sbinn.methods.abc import RejectionABC
from sbinn.methods.cinn import CINN
from sbinn.methods.dropout_regression import DropoutRegression
from sbinn.methods.inn import BidirectionalINN, LossWeights
from sbinn.simulator import Simulator
from sbinn.train import TrainingConfig

__all__ = ["METHODS", "MethodOutput", "Runner"]


@dataclass
class MethodOutput:
    """What a method returns to the benchmark: samples and its own accounting."""

    samples: np.ndarray
    time_s: dict[str, float]
    simulations: int
    settings: dict
    details: dict = field(default_factory=dict)
    # ``(theta, x) -> log q(theta | x)`` per row, for methods with a density.
    log_prob: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    # Invertibility and conditioning checks of a learned method (``None`` for ABC).
    stability: dict | None = None


def run_abc(
    simulator: Simulator,
    x_obs: np.ndarray,
    *,
    num_samples: int,
    num_simulations: int,
    seed: int,
    progress: bool | None,
    shared: SimulationBank | None = None,
) -> MethodOutput:
    """Quantile rejection ABC keeping ``num_samples`` of ``num_simulations``, or, where the
    task fixes the accepted fraction ``q`` (thesis Table 4.2: q = 0.005), ``q`` of them.
    Where the task has summaries (sets), ABC compares those; computing them counts as
    simulation time."""
    task = TASK_SETTINGS[simulator.name]
    quantile = task.abc_quantile
    if quantile is None:
        quantile = num_samples / num_simulations
        if quantile > 1:
            raise ValueError(
                f"ABC needs num_simulations >= num_posterior_samples, got {num_simulations} < "
                f"{num_samples}"
            )
    else:
        num_samples = max(1, math.floor(quantile * num_simulations))
        quantile = num_samples / num_simulations
    start = time.perf_counter()
    reference = None if shared is None else shared.take(num_simulations)
    if task.summaries is not None:
        simulator = task.summaries(simulator)
        x_obs = simulator.summarise(x_obs)
        if reference is not None:
            reference = (reference[0], simulator.summarise(reference[1]))
    abc = RejectionABC(simulator, mode="quantile", quantile=quantile, progress=progress)
    samples = abc.sample(x_obs, num_samples, seed=seed, reference=reference)
    elapsed = time.perf_counter() - start
    run = abc.last_run
    # ABC simulates and accepts in one streamed pass; its time is all simulation-side.
    simulation_s = elapsed if shared is None else elapsed + shared.seconds_for(num_simulations)
    return MethodOutput(
        samples=samples,
        time_s={"simulation": simulation_s, "training": 0.0, "sampling": 0.0},
        simulations=run.num_simulations,
        settings=abc.settings(),
        details={
            "acceptance_rate": float(np.median(run.acceptance_rate)),
            "epsilon_median": float(np.median(run.epsilon)),
            "failed_simulations": run.num_failed,
        },
    )


def run_inn(
    simulator: Simulator,
    x_obs: np.ndarray,
    *,
    num_samples: int,
    num_simulations: int,
    seed: int,
    progress: bool | None,
    shared: SimulationBank | None = None,
    terms: tuple[str, ...] | None = None,
) -> MethodOutput:
    """The bidirectional INN with the task's settings; ``terms`` keeps only those loss terms."""
    task = TASK_SETTINGS[simulator.name]
    config = task.inn
    if terms is not None:
        # The ablations are the thesis' (Fig. 4.2): its loss terms only, no re-simulation.
        config = replace(config, weights=LossWeights.only(*terms), resimulations_per_step=0)
    if task.prior_bounds:
        config = replace(config, parameter_bounds=_open_sides_as_none(simulator.prior.bounds))
    inn = BidirectionalINN(config, seed=seed)
    output = _fit_and_sample(
        inn, task.training, simulator, x_obs, num_samples, num_simulations, seed, progress, shared
    )
    components = inn.history.components
    output.details["final_loss_terms"] = components[-1] if components else {}
    return output


def run_cinn(
    simulator: Simulator,
    x_obs: np.ndarray,
    *,
    num_samples: int,
    num_simulations: int,
    seed: int,
    progress: bool | None,
    shared: SimulationBank | None = None,
    conditioning: str | None = None,
) -> MethodOutput:
    """The conditional INN with the task's settings, trained by maximum likelihood;
    ``conditioning`` replaces the task's conditioning network."""
    task = TASK_SETTINGS[simulator.name]
    config = task.cinn if conditioning is None else replace(task.cinn, conditioning=conditioning)
    if task.prior_bounds:
        config = replace(config, parameter_bounds=_open_sides_as_none(simulator.prior.bounds))
    cinn = CINN(config, seed=seed)
    output = _fit_and_sample(
        cinn,
        task.cinn_training,
        simulator,
        x_obs,
        num_samples,
        num_simulations,
        seed,
        progress,
        shared,
        loss_name="nll",  # the cINN's loss is the NLL in nats; its records name it so
    )
    output.log_prob = cinn.log_prob
    return output


def run_dropout(
    simulator: Simulator,
    x_obs: np.ndarray,
    *,
    num_samples: int,
    num_simulations: int,
    seed: int,
    progress: bool | None,
    shared: SimulationBank | None = None,
) -> MethodOutput:
    """The point-estimate network with MC-dropout samples (thesis Table 4.2, NN + dropout)."""
    task = TASK_SETTINGS[simulator.name]
    network = DropoutRegression(task.dropout, seed=seed)
    return _fit_and_sample(
        network,
        task.dropout_training,
        simulator,
        x_obs,
        num_samples,
        num_simulations,
        seed,
        progress,
        shared,
    )


def _fit_and_sample(
    estimator: BidirectionalINN | CINN | DropoutRegression,
    training: TrainingConfig,
    simulator: Simulator,
    x_obs: np.ndarray,
    num_samples: int,
    num_simulations: int,
    seed: int,
    progress: bool | None,
    shared: SimulationBank | None,
    loss_name: str = "loss",
) -> MethodOutput:
    """Train a network on fresh (or the shared) simulations, sample for ``x_obs``, and keep
    its record (``final_training_{loss_name}`` and ``final_validation_{loss_name}`` among
    the details)."""
    task = TASK_SETTINGS[simulator.name]
    family = (
        "cinn"
        if isinstance(estimator, CINN)
        else "inn"
        if isinstance(estimator, BidirectionalINN)
        else None
    )
    steps = None if family in task.by_epochs else task.training_steps
    config = estimator.config
    # Without the supervised loss (the L_x ablation) nothing is re-simulated.
    per_step = getattr(config, "resimulations_per_step", 0) if _supervised(config) else 0
    if per_step and shared is not None:
        raise ValueError("re-simulating backward samples needs the simulator, not a shared bank")
    if per_step:
        training, pairs = _with_resimulation_budget(training, steps, num_simulations, per_step)
    else:
        training, pairs = _scaled(training, steps, num_simulations), num_simulations
    training = replace(training, progress=progress)
    extra = {}
    fresh = isinstance(estimator, CINN | BidirectionalINN)
    if fresh and task.fresh_noise:
        extra = {"fresh_noise": True}
    if shared is None:
        estimator.fit(simulator=simulator, num_simulations=pairs, training=training, **extra)
    else:
        theta, x = shared.take(num_simulations)
        if getattr(estimator.config, "latent_noise", False):
            extra["noise"] = shared.take_noise(num_simulations)
        if extra.get("fresh_noise"):
            extra |= {"simulator": simulator, "signal": shared.take_signal(num_simulations)}
        estimator.fit(theta, x, training=training, **extra)
    samples = estimator.sample(x_obs, num_samples, seed=seed + 1)
    sampling = _sampling_record(estimator)
    stability = _stability(estimator, simulator, x_obs, seed, shared)
    history = estimator.history
    time_s = dict(estimator.time_s)
    if shared is not None:
        time_s["simulation"] = shared.seconds_for(num_simulations)
    return MethodOutput(
        samples=samples,
        time_s=time_s,
        simulations=num_simulations if shared is not None else estimator.num_simulations,
        settings=estimator.settings()
        | {"training": _training_record(training)}
        | ({"fresh_noise": True} if extra.get("fresh_noise") else {}),
        details={
            "epochs": len(history.train_loss),
            f"final_training_{loss_name}": history.train_loss[-1],
            f"final_validation_{loss_name}": history.validation_loss[-1]
            if history.validation_loss
            else None,
            # The weights sampled from are this epoch's (0-based), not the last one's.
            "best_epoch": history.best_epoch,
        }
        | sampling,
        stability=stability,
    )


def _sampling_record(estimator: object) -> dict:
    """How many posterior draws had to be drawn again because they were not finite."""
    record = getattr(estimator, "last_sampling", None)
    return {} if record is None else {"non_finite_draws_redrawn": record["redrawn"]}


_STABILITY_REFERENCE = 256


def _stability(
    estimator: BidirectionalINN | CINN | DropoutRegression,
    simulator: Simulator,
    x_obs: np.ndarray,
    seed: int,
    shared: SimulationBank | None,
) -> dict:
    """The stability entry of a learned method (:func:`sbinn.diagnostics.stability_summary`).

    The reference pairs are the first training simulations when the task shares them, else
    fresh prior-predictive simulations (the training distribution, not counted in the
    method's budget). A few hundred points and exact SVDs keep this to seconds.
    """
    if isinstance(estimator, DropoutRegression):
        return {"checked": False, "reason": "not an invertible network"}
    noise = None
    with_noise = getattr(estimator.config, "latent_noise", False)
    start = time.perf_counter()
    if shared is not None:
        theta, x = shared.take(min(_STABILITY_REFERENCE, shared.num_simulated))
        if with_noise:
            noise = shared.take_noise(min(_STABILITY_REFERENCE, shared.num_simulated))
        source = "the first training simulations (shared bank)"
    elif with_noise:
        theta, x, noise = simulator.sample_joint_with_noise(_STABILITY_REFERENCE, seed + 3)
        source = "fresh prior-predictive simulations with their noise draws"
    else:
        theta, x = simulator.sample_joint(_STABILITY_REFERENCE, seed=seed + 3)
        source = "fresh prior-predictive simulations"
    simulation_s = time.perf_counter() - start
    summary = stability_summary(estimator, theta, x, x_obs, noise=noise, seed=seed)
    summary["reference"] = {
        "source": source,
        "num_pairs": len(theta),
        "simulation_s": round(simulation_s, 3),
    }
    return {"checked": True} | summary


def _with_resimulation_budget(
    training: TrainingConfig, steps: int | None, num_simulations: int, per_step: int
) -> tuple[TrainingConfig, int]:
    """Training settings and the number of training pairs for an INN that re-simulates
    ``per_step`` backward samples per step, so that pairs and re-simulations fit in
    ``num_simulations``. It trains for as many steps as it would on the whole budget
    (``steps``, or the epochs of ``training``), rounded down to whole epochs."""
    if steps is None:
        steps = training.num_epochs * _steps_per_epoch(training, num_simulations)
    pairs = num_simulations - steps * per_step
    if pairs < 0.1 * num_simulations:
        raise ValueError(
            f"{steps} steps with {per_step} re-simulations each leave {max(pairs, 0)} of "
            f"{num_simulations} simulations for training pairs (need 10%); raise the budget "
            "or lower resimulations_per_step"
        )
    epochs = max(1, steps // _steps_per_epoch(training, pairs))
    return replace(training, num_epochs=epochs), pairs


def _supervised(config) -> bool:
    weights = getattr(config, "weights", None)
    return weights is None or weights.y > 0


def _steps_per_epoch(training: TrainingConfig, num_simulations: int) -> int:
    return max(
        math.ceil(num_simulations * (1 - training.validation_fraction) / training.batch_size), 1
    )


def _open_sides_as_none(bounds: np.ndarray) -> tuple[tuple[float | None, float | None], ...]:
    return tuple(
        (None if np.isinf(low) else float(low), None if np.isinf(high) else float(high))
        for low, high in bounds
    )


def _scaled(training: TrainingConfig, steps: int | None, num_simulations: int) -> TrainingConfig:
    """``training`` with as many epochs as take about ``steps`` optimiser steps, so one task
    setting serves every simulation budget."""
    if steps is None:
        return training
    per_epoch = _steps_per_epoch(training, num_simulations)
    return replace(training, num_epochs=max(1, math.ceil(steps / per_epoch)))


def _training_record(training) -> dict:
    record = {k: getattr(training, k) for k in training.__dataclass_fields__}
    record["checkpoint_path"] = (
        None if record["checkpoint_path"] is None else str(record["checkpoint_path"])
    )
    return record


Runner = Callable[..., MethodOutput]
_PADDING_TERMS = ("pad", "reconstruction")


def _learned_budget(name: str) -> int:
    return TASK_SETTINGS[name].learned_simulations


# name -> (runner, default simulation budget for a simulator name)
METHODS: dict[str, tuple[Runner, Callable[[str], int]]] = {
    "abc": (run_abc, lambda name: TASK_SETTINGS[name].abc_simulations),
    "inn": (run_inn, _learned_budget),
    "cinn": (run_cinn, _learned_budget),
    # Thesis Fig. 4.2 ablations: forward losses only, and the backward MMD only. Both keep
    # the padding terms (thesis §4.1.2: with padding they are what stops information from
    # hiding in the padded dimensions); without them the forward-only INN on the mixture
    # put 0% of red samples in red components, because the inverse is run with the output
    # padding it never learned to ignore.
    "inn_yz": (partial(run_inn, terms=("y", "z", *_PADDING_TERMS)), _learned_budget),
    "inn_x": (partial(run_inn, terms=("x", *_PADDING_TERMS)), _learned_budget),
    "cinn_conv1d": (partial(run_cinn, conditioning="conv1d"), _learned_budget),
    "cinn_set_transformer": (partial(run_cinn, conditioning="set_transformer"), _learned_budget),
    "dropout": (run_dropout, _learned_budget),
}
