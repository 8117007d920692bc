"""The methods of the peer benchmark, each trained on a (task, budget) row's shared simulations.

Every runner gets the task and the training bank, trains, and returns
``(sample, training_s, details)``: ``sample(x, n)`` draws ``(len(x), n, dim_theta)``
posterior samples. sbinn's own methods
are its estimators with the task's settings; ``npe`` is the ``sbi`` package's NPE with its
default density estimator and default training, which only the peer environment
(``benchmarks/peer_env.sh``) has installed.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from functools import partial
from typing import ClassVar

import numpy as np
import torch
from _peers_tasks import (
    ABC_KEPT,
    NUM_C2ST,
    NUM_TEST,
    PeerTask,
    SetSummaries,
    training_for,
)
from torch.distributions import biject_to, constraints, transforms

from sbinn.diagnostics.stability_summary import stability_summary
from sbinn.methods.abc import RejectionABC
from sbinn.methods.cinn import CINN
from sbinn.methods.inn import BidirectionalINN

__all__ = ["RUNNERS", "NotApplicable", "sbinn_prior_for_sbi"]


NPE_MAX_SAMPLING_S = 120.0
"""sbi's rejection of samples outside the prior's support stops with an error after this
(per draw; the environment variable PEERS_NPE_MAX_SAMPLING_S overrides it, for smoke runs)."""


class NotApplicable(Exception):
    """The method is not defined for the task, or not available in this environment."""


def _training(config, budget: int, max_epochs: int | None):
    training, rule = training_for(config, budget)
    if max_epochs is not None and training.num_epochs > max_epochs:
        training = replace(training, num_epochs=max_epochs)
        rule["max_epochs"] = max_epochs
    return training, rule


def _record(training) -> dict:
    return {
        key: getattr(training, key)
        for key in (
            "num_epochs",
            "batch_size",
            "learning_rate",
            "final_learning_rate",
            "schedule",
            "validation_fraction",
            "early_stopping_patience",
        )
    }


def _history(estimator) -> dict:
    history = estimator.history
    return {
        "epochs_run": len(history.train_loss),
        "final_training_loss": history.train_loss[-1] if history.train_loss else None,
        "final_validation_loss": history.validation_loss[-1] if history.validation_loss else None,
    }


def _stability(estimator, bank: dict, x_check, seed: int, noise=None) -> dict:
    """Issue 8's stability entry of a trained sbinn network: the bank's first pairs are the
    training reference (``stability_summary`` takes the first 256), ``x_check`` the
    observations whose samples are checked."""
    if x_check is None:
        return {"checked": False}
    return {"checked": True} | stability_summary(
        estimator, bank["theta"], bank["x"], x_check, noise=noise, seed=seed
    )


def run_cinn(task: PeerTask, bank: dict, *, seed: int, max_epochs: int | None, x_check=None):
    training, rule = _training(task.cinn_training, len(bank["theta"]), max_epochs)
    cinn = CINN(task.cinn, seed=seed)
    cinn.fit(bank["theta"], bank["x"], training=training)
    details = {"config": cinn.settings(), "training": _record(training) | rule}
    details |= _history(cinn)
    details["stability"] = _stability(cinn, bank, x_check, seed)
    return partial(cinn.sample, seed=seed + 1), cinn.time_s["training"], details


def run_inn(task: PeerTask, bank: dict, *, seed: int, max_epochs: int | None, x_check=None):
    if task.inn is None:
        raise NotApplicable(task.inn_reason)
    training, rule = _training(task.inn_training, len(bank["theta"]), max_epochs)
    inn = BidirectionalINN(task.inn, seed=seed)
    noise = {"noise": bank["noise"]} if task.inn.latent_noise else {}
    inn.fit(bank["theta"], bank["x"], training=training, **noise)
    details = {"config": inn.settings(), "training": _record(training) | rule}
    details |= _history(inn)
    details["stability"] = _stability(inn, bank, x_check, seed, noise.get("noise"))
    return partial(inn.sample, seed=seed + 1), inn.time_s["training"], details


def run_abc(task: PeerTask, bank: dict, *, seed: int, max_epochs: int | None, **_: object):
    """Quantile rejection ABC on the bank: the nearest ``ABC_KEPT`` per observation
    whatever the number of samples asked for. It needs no training; its sampling time is
    the distance search over the already simulated bank."""
    simulator, x_bank = task.make(), bank["x"]
    if task.summaries is not None:
        simulator = SetSummaries(simulator)
        x_bank = task.summaries(x_bank)
    available = len(bank["theta"])  # the successful simulations of the budget
    kept = min(ABC_KEPT, available)
    # Nudged up so that ceil(kept / quantile) cannot round past the table's rows.
    quantile = min(1.0, kept / available * (1 + 1e-9))
    abc = RejectionABC(simulator, mode="quantile", quantile=quantile, progress=False)
    details = {
        "config": abc.settings(),
        "kept_per_observation": kept,
        "distance_space": "set summaries (mean, log std, log n)"
        if task.summaries is not None
        else "observations",
    }

    def sample(x: np.ndarray, num_samples: int) -> np.ndarray:
        x = x if task.summaries is None else task.summaries(x)
        samples = abc.sample(x, kept, seed=seed, reference=(bank["theta"], x_bank))
        details["epsilon_median"] = float(np.median(abc.last_run.epsilon))
        return samples

    return sample, 0.0, details


SMC_MAX_SECONDS = 900.0
"""SMC-ABC runs only where its estimated time for the test set stays below this."""
SMC_PILOT_OBSERVATIONS = 3


def run_smc(task: PeerTask, bank: dict, *, seed: int, max_epochs: int | None, **_: object):
    """ABC-PMC (:class:`~sbinn.methods.abc_smc.SMCABC`) with the row's budget spent on every
    observation afresh: it is not amortised, so it simulates ``budget`` per observation
    rather than sharing the bank. ``budget // 10`` particles (at most 1000) are kept, the
    counterpart of rejection ABC's nearest ``ABC_KEPT``.

    "Where affordable": a pilot on the first ``SMC_PILOT_OBSERVATIONS`` observations of the
    bank (prior predictive, like the test set) is timed first, and if the test set would
    take longer than ``SMC_MAX_SECONDS`` at that rate the cell is not run."""
    from sbinn.methods.abc_smc import SMCABC

    budget = int(bank["num_simulated"])
    observations = NUM_TEST + NUM_C2ST
    simulator = task.make() if task.summaries is None else SetSummaries(task.make())
    particles = min(1000, budget // 10)
    smc = SMCABC(simulator, num_particles=particles, max_simulations=budget)
    summaries = task.summaries or (lambda x: x)
    pilot = summaries(bank["x"][:SMC_PILOT_OBSERVATIONS])
    start = time.perf_counter()
    smc.sample(pilot, particles, seed=seed)
    per_observation = (time.perf_counter() - start) / len(pilot)
    estimate = per_observation * observations
    if estimate > SMC_MAX_SECONDS:
        raise NotApplicable(
            f"not affordable: {budget:,} simulations for each of {observations} observations "
            f"take about {estimate / 60:.0f} min (pilot: {per_observation:.1f} s per "
            f"observation; cap {SMC_MAX_SECONDS / 60:.0f} min)"
        )
    details = {
        "config": smc.settings(),
        "simulations_per_observation": budget,
        "pilot_s_per_observation": round(per_observation, 3),
        "distance_space": "set summaries (mean, log std, log n)"
        if task.summaries is not None
        else "observations",
        "runs": [],
    }

    def sample(x: np.ndarray, num_samples: int) -> np.ndarray:
        # Resampling a population of `particles` to more samples only repeats particles.
        samples = smc.sample(summaries(x), min(num_samples, particles), seed=seed)
        run = smc.last_run
        details["runs"].append(
            {
                "observations": len(x),
                "simulations_median": float(np.median(run.num_simulations)),
                "generations_median": float(np.median(run.num_generations)),
                "epsilon_median": float(np.median(run.epsilon)),
                "stop_reasons": {r: run.stop_reason.count(r) for r in set(run.stop_reason)},
                "time_s": round(run.time_s, 2),
            }
        )
        return samples

    return sample, 0.0, details


class _Box(constraints.Constraint):
    """Per-parameter bounds, each side finite or infinite (sbinn priors mix them)."""

    is_discrete = False
    event_dim = 1

    def __init__(self, low: torch.Tensor, high: torch.Tensor) -> None:
        self.low, self.high = low, high
        super().__init__()

    def check(self, value):
        return ((value >= self.low) & (value <= self.high)).all(-1)


@biject_to.register(_Box)
def _box_to_real(constraint: _Box):
    """The map from the real line onto each parameter's interval, as sbi needs it."""
    parts = []
    for low, high in zip(constraint.low.tolist(), constraint.high.tolist(), strict=True):
        if np.isfinite(low) and np.isfinite(high):
            parts.append(
                transforms.ComposeTransform(
                    [transforms.SigmoidTransform(), transforms.AffineTransform(low, high - low)]
                )
            )
        elif np.isfinite(low):
            parts.append(
                transforms.ComposeTransform(
                    [transforms.ExpTransform(), transforms.AffineTransform(low, 1.0)]
                )
            )
        elif np.isfinite(high):
            parts.append(
                transforms.ComposeTransform(
                    [transforms.ExpTransform(), transforms.AffineTransform(high, -1.0)]
                )
            )
        else:
            parts.append(transforms.identity_transform)
    return transforms.IndependentTransform(transforms.StackTransform(parts, dim=-1), 1)


class _SbinnPrior(torch.distributions.Distribution):
    """sbinn's prior as a torch distribution for sbi: sampling from sbinn's numpy prior
    (seeded), log-density from it, support the prior's bounds."""

    arg_constraints: ClassVar[dict] = {}

    def __init__(self, prior, seed: int) -> None:
        bounds = np.asarray(prior.bounds, dtype=float)
        self._prior = prior
        self._rng = np.random.default_rng(seed)
        self._low = torch.as_tensor(bounds[:, 0], dtype=torch.float32)
        self._high = torch.as_tensor(bounds[:, 1], dtype=torch.float32)
        super().__init__(torch.Size(), torch.Size([prior.dim]), validate_args=False)

    @property
    def support(self):
        if torch.all(torch.isinf(self._low) & torch.isinf(self._high)):
            return constraints.independent(constraints.real, 1)
        return _Box(self._low, self._high)

    def sample(self, sample_shape=()):
        shape = torch.Size(sample_shape)
        theta = self._prior.sample(int(np.prod(shape, dtype=int)), self._rng)
        return torch.as_tensor(theta, dtype=torch.float32).reshape(*shape, self._prior.dim)

    def log_prob(self, value):
        value = torch.as_tensor(value)
        flat = value.detach().reshape(-1, self._prior.dim).double().numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            log_p = self._prior.log_prob(flat)
        return torch.as_tensor(log_p, dtype=torch.float32).reshape(value.shape[:-1])


def sbinn_prior_for_sbi(prior, seed: int):
    from sbi.utils import process_prior

    processed, _, _ = process_prior(_SbinnPrior(prior, seed))
    return processed


def run_npe(task: PeerTask, bank: dict, *, seed: int, max_epochs: int | None, **_: object):
    """sbi's NPE: default density estimator (MAF), default training (batch 200, lr 5e-4,
    early stopping after 20 epochs without improvement). On sets, the default MAF gets
    sbi's permutation-invariant embedding (NaN-padded trials are masked) with an FC trial
    net, padded sets are kept (``exclude_invalid_x=False``), and x is not z-scored (sbi's
    z-scoring cannot take the NaN padding)."""
    try:
        import sbi
        from sbi.inference import NPE
    except ImportError as error:
        raise NotApplicable(f"sbi is not installed here ({error})") from error
    torch.manual_seed(seed)
    prior = sbinn_prior_for_sbi(task.make().prior, seed)
    estimator, setup = "maf", {"density_estimator": "maf (sbi default)"}
    if task.summaries is not None:
        from sbi.neural_nets import posterior_nn
        from sbi.neural_nets.embedding_nets import FCEmbedding, PermutationInvariantEmbedding

        trial = FCEmbedding(input_dim=bank["x"].shape[-1], output_dim=20, num_hiddens=50)
        embedding = PermutationInvariantEmbedding(trial, trial_net_output_dim=20, output_dim=20)
        estimator = posterior_nn(model="maf", z_score_x="none", embedding_net=embedding)
        setup |= {
            "embedding_net": "PermutationInvariantEmbedding(FCEmbedding(1 -> 20, 50 hidden), "
            "sum, 20 out)",
            "z_score_x": "none",
            "exclude_invalid_x": False,
        }
    setup["direct_sampling_parameters"] = {"enable_transform": False}
    max_sampling_s = float(os.environ.get("PEERS_NPE_MAX_SAMPLING_S", NPE_MAX_SAMPLING_S))
    setup["max_sampling_time_s"] = max_sampling_s
    train_kwargs = {} if max_epochs is None else {"max_num_epochs": max_epochs}
    inference = NPE(prior=prior, density_estimator=estimator, show_progress_bars=False)
    theta = torch.as_tensor(bank["theta"], dtype=torch.float32)
    x = torch.as_tensor(bank["x"], dtype=torch.float32)
    start = time.perf_counter()
    inference.append_simulations(theta, x, exclude_invalid_x=task.summaries is None)
    density = inference.train(**train_kwargs)
    training_s = time.perf_counter() - start
    # The bijection to unconstrained space serves MAP and MCMC only; its float32 round-trip
    # check fails for parameters of scale 10^7 (star-cluster ages in years).
    posterior = inference.build_posterior(
        density, direct_sampling_parameters={"enable_transform": False}
    )
    summary = inference.summary
    details = {
        "sbi_version": sbi.__version__,
        "config": setup | {"train_kwargs": train_kwargs or "defaults"},
        "epochs_run": int(summary["epochs_trained"][-1]),
        "best_validation_loss": float(summary["best_validation_loss"][-1]),
        "sampling": [],
    }

    def sample(x: np.ndarray, num_samples: int) -> np.ndarray:
        x = torch.as_tensor(x, dtype=torch.float32)
        try:
            drawn = posterior.sample_batched(
                (num_samples,), x=x, show_progress_bars=False, max_sampling_time=max_sampling_s
            )
            note = "samples outside the prior's support rejected (sbi default)"
        except RuntimeError as error:
            if "max_sampling_time" not in str(error):
                raise
            drawn = posterior.sample_batched(
                (num_samples,), x=x, show_progress_bars=False, reject_outside_prior=False
            )
            drawn = drawn.detach()
            inside = float(prior.support.check(drawn).float().mean())
            low, high = prior.support.low, prior.support.high
            drawn = torch.maximum(torch.minimum(drawn, high), low)
            note = (
                f"rejection exceeded {max_sampling_s:.0f} s, so samples were drawn without "
                f"it and {100 * (1 - inside):.1f}% of them, outside the prior's support, "
                "clipped onto its bounds (the simulator cannot re-simulate them otherwise)"
            )
        details["sampling"].append(f"{x.shape[0]} x {num_samples}: {note}")
        return drawn.detach().permute(1, 0, 2).double().numpy()

    return sample, training_s, details


RUNNERS = {
    "inn": run_inn,
    "cinn": run_cinn,
    "abc": run_abc,
    "smc": run_smc,
    "npe": run_npe,
}
