r"""The conditional INN: a conditional coupling flow on θ, conditioned on a learned summary of x.

The posterior is modelled directly, :math:`q(\theta \mid x) = \mathcal{N}(f(\theta;
\varphi(x)); 0, I)\, |\det \partial f / \partial \theta|`, with a stack of conditional
affine couplings :math:`f` (thesis eq. 3.10) and a conditioning network :math:`\varphi`
chosen for the observations (:mod:`sbinn.methods.cinn_conditioning`). Both are trained
jointly by conditional maximum likelihood (:mod:`sbinn.methods.cinn_loss`, eq. 3.8), on
fixed simulations or on fresh ones every epoch (``online=True``). Posterior samples are
:math:`\theta = f^{-1}(z; \varphi(x^*))`, :math:`z \sim \mathcal{N}(0, I)`: one summary per
observation, then the inverse flow over large batches. :meth:`CINN.log_prob` is the exact
density in the user's units.

A single parameter is padded with one standard-normal noise input (couplings need two);
its :meth:`~CINN.log_prob` is then an importance-sampling estimate over the padding.
Parameters listed in ``discrete_parameters`` are dequantised with uniform noise in
training and rounded when sampled.

Examples:
    >>> from simulators.kinematics import KinematicsSimulator
    >>> cinn = CINN(num_blocks=2, hidden_features=32, seed=0)
    >>> _ = cinn.fit(simulator=KinematicsSimulator(), num_simulations=2000,
    ...              training=TrainingConfig(num_epochs=2, progress=False))
    >>> cinn.sample([[0.5, 1.5]], num_samples=100, seed=0).shape
    (1, 100, 4)
    >>> cinn.log_prob([[0.0, 0.1, 0.2, 0.3]], [[0.5, 1.5]]).shape
    (1,)
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from sbinn._validation import as_2d_float_array, check_positive_int
from sbinn.data import Standardizer
from sbinn.io import save_estimator
from sbinn.methods._estimator import TrainedEstimator
from sbinn.methods._non_finite import finite_draws
from sbinn.methods._stability_check import check_after_training
from sbinn.methods.cinn_conditioning import (
    ObservationLayout,
    build_conditioner,
    default_conditioning,
)
from sbinn.methods.cinn_config import CINNConfig
from sbinn.methods.cinn_fit_arguments import check_fit_arguments
from sbinn.methods.cinn_loss import ConditionalFlow, ConditionalMaximumLikelihood
from sbinn.methods.cinn_training_pairs import training_pairs
from sbinn.nn import InvertibleNetwork
from sbinn.parallel_backends import BackendLike
from sbinn.simulator import Simulator
from sbinn.store import SimulationStore
from sbinn.support import BoundedSupport
from sbinn.train import TrainingConfig, train

__all__ = ["CINN", "CINNConfig", "TrainingConfig"]

# Rows per inverse pass: small enough for the CPU caches, large enough for a GPU to be busy.
# On this project's 2-core AMD machines 8k rows beat 4k, 12k and 16k (16k was twice as
# slow); on 2 cores of a Xeon with a larger cache 16k was slightly faster.
_SAMPLING_CHUNK = {"cpu": 8192, "cuda": 262_144}
_CONDITION_CHUNK = 256


class CINN(TrainedEstimator):
    """Conditional invertible network for amortised posterior sampling and densities.

    Args:
        config: Architecture; keyword overrides may be passed instead.
        device: ``"cpu"`` (default), ``"cuda"`` or ``"auto"``.
        dtype: ``torch.float32`` (default) or ``torch.float64``.
        seed: Seeds the initial weights, the simulations and the training.
        **overrides: Fields of :class:`CINNConfig`, e.g. ``conditioning="deepset"``.
    """

    config_type = CINNConfig
    kind = "cinn"

    def __init__(
        self,
        config: CINNConfig | None = None,
        *,
        device: str = "cpu",
        dtype: torch.dtype = torch.float32,
        seed: int = 0,
        **overrides: object,
    ) -> None:
        super().__init__(config, device=device, dtype=dtype, seed=seed, **overrides)
        self.model: ConditionalFlow | None = None
        self.support: BoundedSupport | None = None
        self.layout: ObservationLayout | None = None
        self.conditioning: str | None = None
        self.stability: dict | None = None
        self.last_sampling: dict | None = None

    def fit(
        self,
        theta: np.ndarray | None = None,
        x: np.ndarray | None = None,
        *,
        simulator: Simulator | None = None,
        num_simulations: int | None = None,
        online: bool = False,
        simulations_per_epoch: int | None = None,
        training: TrainingConfig | None = None,
        backend: BackendLike = "auto",
        check_stability: bool = True,
        store: SimulationStore | None = None,
        fresh_noise: bool = False,
        signal: np.ndarray | None = None,
    ) -> CINN:
        """Train on pairs ``(theta, x)``, or on simulations from ``simulator``.

        Args:
            theta: Parameters ``(n, dim θ)``.
            x: Observations ``(n, ...)`` matching the conditioning network.
            simulator: Draws ``num_simulations`` pairs instead of ``(theta, x)``.
            num_simulations: Simulation budget.
            online: Draw ``simulations_per_epoch`` fresh pairs every epoch, for
                ``num_simulations // simulations_per_epoch`` epochs (this replaces
                ``training.num_epochs``); the scalings are fitted on the first epoch's pairs.
            simulations_per_epoch: Pairs per epoch of online training, or of training
                streamed from ``store`` (rounded up to whole store chunks).
            training: Settings of :func:`sbinn.train.train`; its seed is this CINN's.
            backend: Where the simulations run
                (:func:`sbinn.simulation_stream.run_simulations`); they do not depend on it.
            check_stability: Run the invertibility checks on the training pairs at the
                end (well under a second); the result is :attr:`stability`, and a
                :class:`~sbinn.methods._stability_check.StabilityWarning` is raised as a
                warning if they fail.
            store: Train on a :class:`~sbinn.store.SimulationStore` instead.
            fresh_noise: Keep the simulations' noise-free signals and observe them with
                fresh noise every epoch (:mod:`sbinn.fresh_noise`; simulators with
                ``simulate_signal`` and ``observe_signal``). The simulation budget is
                unchanged; the network cannot memorise the noise of each simulation.
            signal: With ``fresh_noise`` and given ``(theta, x)``: their noise-free
                signals; ``simulator`` then only observes them.

        Returns:
            ``self``, trained; :attr:`history` holds the record, with the NLL in nats.
        """
        per_epoch = check_fit_arguments(
            theta,
            x,
            simulator,
            num_simulations,
            online,
            simulations_per_epoch,
            store,
            fresh_noise=fresh_noise,
            signal=signal,
        )
        training = replace(training or TrainingConfig(), seed=self.seed)
        self.time_s["simulation"], self.num_simulations = 0.0, 0
        pairs = training_pairs(
            theta,
            x,
            seed=self.seed,
            timings=self.time_s,
            training=training,
            simulator=simulator,
            num_simulations=num_simulations,
            online=online,
            per_epoch=per_epoch,
            backend=backend,
            store=store,
            fresh_noise=fresh_noise,
            signal=signal,
        )
        self._fit(pairs.theta, pairs.x, pairs.training, pairs.draw)
        if pairs.distinct_simulations is not None:
            # _tensors counted every epoch's rows; fresh noise re-observed the same runs.
            self.num_simulations = pairs.distinct_simulations
        self.stability = (
            check_after_training(
                self, as_2d_float_array(pairs.theta, None, "theta"), pairs.x, seed=self.seed
            )
            if check_stability
            else {"checked": False, "reason": "check_stability=False"}
        )
        return self

    def _fit(self, theta, x, training: TrainingConfig, draw=None) -> CINN:
        theta = as_2d_float_array(theta, None, "theta")
        if len(theta) != len(x):
            raise ValueError(
                f"theta and x need the same number of rows, got {len(theta)} and {len(x)}"
            )
        bad = [i for i in self.config.discrete_parameters if i >= theta.shape[1]]
        if bad:
            raise ValueError(
                f"discrete_parameters {bad} are out of range for {theta.shape[1]} parameter(s)"
            )
        self.support = self._support(theta.shape[1])
        self.theta_scaler = Standardizer.fit(self._to_flow_space(theta))
        self.conditioning = self.config.conditioning or default_conditioning(x)
        self.layout = ObservationLayout.fit(x, self.conditioning)
        self._build(theta.shape[1])
        first = self._tensors(theta, x)

        def data(epoch: int) -> tuple[torch.Tensor, ...]:
            return first if epoch == 0 or draw is None else self._tensors(*draw(epoch))

        simulated_before = self.time_s["simulation"]
        start = time.perf_counter()
        self.history = train(self.model, self._objective(), data, training)
        simulated = self.time_s["simulation"] - simulated_before
        self.time_s["training"] = time.perf_counter() - start - simulated
        return self

    def _tensors(self, theta: np.ndarray, x: np.ndarray) -> tuple[torch.Tensor, ...]:
        theta = as_2d_float_array(theta, self.dims["theta"], "theta")
        values, mask = self.layout.prepare(x, "x")
        self.num_simulations += len(theta)
        tensors = (
            torch.as_tensor(
                self.theta_scaler.transform(self._to_flow_space(theta)), dtype=self.dtype
            ),
            torch.as_tensor(values, dtype=self.dtype),
        )
        return tensors if mask is None else (*tensors, torch.as_tensor(mask))

    def _support(self, dim_theta: int) -> BoundedSupport | None:
        return BoundedSupport.for_parameters(self.config.parameter_bounds, dim_theta)

    def _to_flow_space(self, theta: np.ndarray) -> np.ndarray:
        return theta if self.support is None else self.support.forward(theta)[0]

    def _build(self, dim_theta: int) -> None:
        cfg = self.config
        torch.manual_seed(self.seed)
        conditioner, cond_dim = build_conditioner(
            self.conditioning,
            self.layout,
            features=cfg.summary_features,
            hidden_features=cfg.summary_hidden_features,
            hidden_layers=cfg.summary_hidden_layers,
        )
        num_pad = 1 if dim_theta == 1 else 0
        flow = InvertibleNetwork.coupling_stack(
            dim_theta + num_pad,
            cfg.num_blocks,
            cond_dim=cond_dim,
            coupling=cfg.coupling,
            hidden_features=cfg.hidden_features,
            num_hidden_layers=cfg.num_hidden_layers,
            activation=cfg.activation,
            clamp=cfg.clamp,
            clamp_kind=cfg.clamp_kind,
            actnorm=cfg.actnorm,
            seed=self.seed,
        )
        model = ConditionalFlow(
            flow, conditioner, dim_theta=dim_theta, set_valued=self.layout.kind == "set"
        )
        self.model = model.to(device=self.device, dtype=self.dtype)
        self.dims = {"theta": dim_theta, "pad": num_pad, "condition": cond_dim}

    def _objective(self) -> ConditionalMaximumLikelihood:
        discrete = list(self.config.discrete_parameters)
        width = np.zeros(self.dims["theta"])
        width[discrete] = 1.0 / self.theta_scaler.scale[discrete]
        return ConditionalMaximumLikelihood(
            self.model,
            log_det_offset=self.theta_scaler.log_abs_det,
            dequantisation=torch.as_tensor(width, dtype=self.dtype) if discrete else None,
            observation_noise=self.config.observation_noise,
            observation_noise_final=self.config.observation_noise_final,
        )

    @property
    def _chunk(self) -> int:
        return _SAMPLING_CHUNK.get(self.device.type, 8192)

    def _require_fitted(self) -> ConditionalFlow:
        if self.model is None:
            raise RuntimeError("this CINN is not trained yet: call fit() or load()")
        return self.model

    def conditions(self, x: object) -> torch.Tensor:
        """The conditioning network's summaries ``(n_obs, condition)`` of observations ``x``.

        These are what the coupling blocks see; stability checks use them to run the
        invertible part alone. One network pass per chunk of observations.
        """
        model = self._require_fitted()
        values, mask = self.layout.prepare(x, "x")
        parts = []
        model.eval()
        with torch.inference_mode():
            for lo in range(0, len(values), _CONDITION_CHUNK):
                part = torch.as_tensor(values[lo : lo + _CONDITION_CHUNK], dtype=self.dtype)
                chunk_mask = None if mask is None else torch.as_tensor(mask[lo : lo + len(part)])
                args = (part,) if mask is None else (part, chunk_mask)
                parts.append(model.condition(*(a.to(self.device) for a in args)))
        return torch.cat(parts)

    def sample(self, x: np.ndarray, num_samples: int, seed: int | None = None) -> np.ndarray:
        """Posterior samples ``(n_obs, num_samples, dim θ)`` for observations ``x``.

        A draw whose inverse pass overflows (rare; a sign of an unstable inverse, see
        :attr:`stability`) is drawn again from a fresh latent, up to
        10 times, with a :class:`StabilityWarning` that counts them;
        :attr:`last_sampling` records the count. Draws still not finite stay NaN.
        """
        model = self._require_fitted()
        num_samples = check_positive_int(num_samples, "num_samples")
        start = time.perf_counter()
        c = self.conditions(x)
        generator = torch.Generator(device=self.device).manual_seed(
            self.seed + 1 if seed is None else seed
        )
        samples = self._draw(model, c, num_samples, generator)
        samples, self.last_sampling = finite_draws(
            samples,
            lambda rows: self._draw(model, c[torch.as_tensor(rows)], 1, generator)[:, 0],
            "CINN",
        )
        self.time_s["sampling"] = time.perf_counter() - start
        return samples

    def _draw(
        self,
        model: ConditionalFlow,
        c: torch.Tensor,
        num_samples: int,
        generator: torch.Generator,
    ) -> np.ndarray:
        with torch.inference_mode():
            # Unstandardised chunk by chunk on the sampling threads: on the whole array this
            # took 14% of the time of 4096 draws for each of 1000 kinematics observations.
            out = model.sample(
                c,
                num_samples,
                generator=generator,
                chunk=self._chunk,
                finish=lambda theta: self.theta_scaler.inverse_tensor(theta.double()),
                dtype=torch.float64,
            )
        samples = out.numpy()
        if self.support is not None:
            with np.errstate(over="ignore"):  # overflow is caught as non-finite draws
                samples = self.support.inverse(samples)
        for i in self.config.discrete_parameters:
            samples[:, i] = np.rint(samples[:, i])
        return samples.reshape(len(c), num_samples, self.dims["theta"])

    def log_prob(self, theta: np.ndarray, x: np.ndarray, *, num_pad_draws: int = 256) -> np.ndarray:
        r""":math:`\log q(\theta \mid x)` in the user's units, one value per row of ``theta``.

        Args:
            theta: Parameters ``(n, dim θ)``.
            x: ``n`` observations, or one observation for every row of ``theta``.
            num_pad_draws: Padding draws of the importance-sampling estimate
                :math:`\log \frac1K \sum_k q(\theta, \varepsilon_k \mid x) /
                \mathcal{N}(\varepsilon_k)` used for a single parameter (seeded, so
                repeatable); exact when the learned padding is independent noise.

        Discrete parameters get the density of their dequantised value, about
        :math:`P(\theta = k \mid x)` at an integer :math:`k`.
        """
        model = self._require_fitted()
        theta = as_2d_float_array(theta, self.dims["theta"], "theta")
        c = self.conditions(x)
        if len(c) == 1:
            c = c.expand(len(theta), -1)
        elif len(c) != len(theta):
            raise ValueError(
                f"theta and x need the same number of rows (or x one row), "
                f"got {len(theta)} and {len(c)}"
            )
        log_jacobian = np.zeros(len(theta))
        if self.support is not None:
            # Outside the support the density is zero; those rows are scored at an inside
            # point and set to -inf afterwards.
            inside = self.support.contains(theta)
            centre = self.support.inverse(np.zeros((1, theta.shape[1])))
            safe = np.where(inside[:, None], theta, centre)
            theta, log_jacobian = self.support.forward(safe)
            log_jacobian = np.where(inside, log_jacobian, -np.inf)
        u = torch.as_tensor(self.theta_scaler.transform(theta), dtype=self.dtype)
        generator = torch.Generator(device=self.device).manual_seed(self.seed)
        with torch.inference_mode():
            log_q = model.log_prob(
                u.to(self.device),
                c,
                num_pad_draws=check_positive_int(num_pad_draws, "num_pad_draws"),
                generator=generator,
                chunk=self._chunk,
            )
        return log_q.double().numpy() + self.theta_scaler.log_abs_det + log_jacobian

    def settings(self) -> dict:
        """JSON-serialisable description for records."""
        return self._record() | {
            "conditioning": self.conditioning,
            "observations": None
            if self.layout is None
            else {"kind": self.layout.kind, "shape": list(self.layout.shape)},
            "dims": self.dims,
        }

    def save(self, path: str | Path) -> None:
        """Save weights, scalings and configuration (no pickle)."""
        model = self._require_fitted()
        config = self.settings() | {
            "theta_scaler": self.theta_scaler.to_config(),
            "layout": self.layout.to_config(),
        }
        save_estimator(path, self.kind, config, model.state_dict())

    @classmethod
    def load(cls, path: str | Path, *, device: str = "cpu") -> CINN:
        """Load what :meth:`save` wrote."""
        cinn, config, state = cls._restore(path, device)
        cinn.support = cinn._support(config["dims"]["theta"])
        cinn.layout = ObservationLayout.from_config(config["layout"])
        cinn.conditioning = config["conditioning"]
        cinn._build(config["dims"]["theta"])
        cinn.model.load_state_dict(state)
        return cinn
