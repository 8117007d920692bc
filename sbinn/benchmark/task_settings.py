"""The settings of one benchmark task: plain data, so a record can show exactly what ran.

:class:`TaskSettings` holds a simulator's default budgets, the configurations of the learned
methods and the task-specific extras (metrics, figures, test sets, summaries); the settings
of the tasks the benchmark knows are in :data:`sbinn.benchmark.tasks.TASK_SETTINGS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from sbinn.benchmark.scoring import PointMetrics, SampleMetrics
from sbinn.methods.cinn_config import CINNConfig
from sbinn.methods.dropout_regression import DropoutRegressionConfig
from sbinn.methods.inn import INNConfig
from sbinn.simulator import Simulator
from sbinn.train import TrainingConfig

__all__ = ["TaskSettings"]


@dataclass(frozen=True)
class TaskSettings:
    """Default budgets, learned-method settings and task-specific extras for one simulator.

    Attributes:
        abc_simulations: Default ABC budget.
        learned_simulations: Default training-set size of learned methods.
        inn: Bidirectional INN configuration.
        training: Training settings of the bidirectional INN.
        cinn: Conditional INN configuration.
        cinn_training: Training settings of the conditional INN.
        dropout: Configuration of the MC-dropout point-estimate network.
        dropout_training: Its training settings.
        metrics: Extra task metrics ``(simulator, samples, x_obs) -> dict`` for the record.
        point_metrics: Metrics of the MAP estimates, ``(simulator, estimates, theta_true,
            seed) -> {name: MetricResult}``, shown as table columns.
        sample_metrics: Metrics of the samples, ``(simulator, samples, theta_true, x_obs,
            seed) -> {name: MetricResult}``, shown as table columns.
        figure: ``(simulator, x_obs, {method: samples}, path, theta_true=...)`` writing a PNG.
        fresh_noise: The cINNs and bidirectional INNs observe their simulations' noise-free
            signals with fresh noise every epoch (``fit(fresh_noise=True)``,
            :mod:`sbinn.fresh_noise`); the simulation budget is unchanged.
        share_simulations: Simulate once and train every method on the same simulations
            (for slow simulators; see :mod:`sbinn.benchmark.bank`).
        resimulate: Re-simulate every ``"posterior"`` sample, or each observation's
            ``"map"`` estimate only (for slow simulators, as thesis Table 4.2).
        resimulated_observations: Re-simulate for the first this many test observations
            only; None: all.
        resimulated_samples: With ``resimulate="posterior"``, re-simulate a random subset of
            this many samples per observation (a subset of posterior samples is a posterior
            sample); None: all.
        simulation_noise: Record the re-simulation error of the true parameters, the floor
            of every method's (always on with ``resimulate="map"``).
        test_set: ``(simulator, num, seed) -> (theta, x)``, the held-out test pairs; None:
            prior draws.
        summaries: ``simulator -> view``, a Simulator whose observations are fixed-length
            summaries of the task's (sets), with ``view.summarise(x)``. ABC runs on them,
            and re-simulation distances are Euclidean distances between them. None: the
            observations themselves.
        methods: The methods that can run on the task; None: all.
        abc_quantile: Accepted fraction of ABC; None keeps ``num_posterior_samples``.
        prior_bounds: The cINN and the bidirectional INN learn the parameters mapped from
            the prior's support onto the real line (``parameter_bounds`` of their configs).
        training_steps: Optimiser steps of every learned method, whatever the budget; the
            epochs of its training settings are then ignored. None: train for the epochs.
        by_epochs: The estimator families (``"cinn"``, ``"inn"``: the bidirectional INN
            and its ablations) that train for the epochs of their training settings at
            every budget (the same passes over the data, more steps on more simulations)
            and ignore ``training_steps``.
        reference_factor: A quantile-ABC reference posterior with this many times the ABC
            budget (the task's, or the one asked for) on the first ``reference_observations``
            test observations; every method gets a C2ST against it
            (:mod:`sbinn.benchmark.reference`). None: no reference.
        reference_observations: Test observations the reference covers.
    """

    abc_simulations: int
    learned_simulations: int
    inn: INNConfig = field(default_factory=INNConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    cinn: CINNConfig = field(default_factory=CINNConfig)
    cinn_training: TrainingConfig = field(default_factory=TrainingConfig)
    dropout: DropoutRegressionConfig = field(default_factory=DropoutRegressionConfig)
    dropout_training: TrainingConfig = field(default_factory=TrainingConfig)
    metrics: Callable[..., dict] | None = None
    point_metrics: PointMetrics | None = None
    sample_metrics: SampleMetrics | None = None
    figure: Callable[..., None] | None = None
    share_simulations: bool = False
    fresh_noise: bool = False
    resimulate: Literal["posterior", "map"] = "posterior"
    resimulated_observations: int | None = None
    resimulated_samples: int | None = None
    simulation_noise: bool = False
    test_set: Callable[[Simulator, int, int], tuple[np.ndarray, np.ndarray]] | None = None
    summaries: Callable[[Simulator], Simulator] | None = None
    methods: tuple[str, ...] | None = None
    abc_quantile: float | None = None
    prior_bounds: bool = False
    training_steps: int | None = None
    by_epochs: tuple[Literal["cinn", "inn"], ...] = ()
    reference_factor: int | None = None
    reference_observations: int = 20
