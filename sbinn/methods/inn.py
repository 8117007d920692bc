"""The bidirectional INN of Ardizzone et al. (2019): learn s(θ), get p(θ | x) by running backwards.

The network maps padded parameters ``[θ, pad]`` to ``[x, z, pad]`` of the same width. It is
trained on simulated pairs with the objective of :mod:`sbinn.methods.inn_loss`: a supervised
loss on the forward process, MMD losses that make ``z`` Gaussian and independent of ``x``
and make backward samples follow the prior, and padding losses. Posterior samples for an
observation ``x*`` are ``θ = g(x*, z)`` with ``z ~ N(0, I)``, batched over observations, or
with ``z`` from another latent, e.g. a Gaussian mixture whose weights depend on ``x*``
(``INNConfig.latent``, :mod:`sbinn.methods.inn_latent_config`). The settings live in
:mod:`sbinn.methods.inn_config`.

Data are standardised internally, so the kernel widths and noise levels below are in units
of the training data's standard deviations.

Examples:
    >>> from simulators.kinematics import KinematicsSimulator
    >>> inn = BidirectionalINN(num_blocks=2, hidden_features=32, seed=0)
    >>> _ = inn.fit(simulator=KinematicsSimulator(), num_simulations=2000,
    ...             training=TrainingConfig(num_epochs=2, progress=False))
    >>> inn.sample([[0.5, 1.5]], num_samples=100, seed=0).shape
    (1, 100, 4)
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from sbinn._chunk_threads import ChunkThreads
from sbinn._validation import as_2d_float_array, check_positive_int
from sbinn.data import Standardizer
from sbinn.fresh_noise import (
    check_fresh_noise_arguments,
    fresh_observations,
    simulate_with_signal,
)
from sbinn.io import save_estimator
from sbinn.methods._estimator import TrainedEstimator, check_data_source
from sbinn.methods._non_finite import finite_draws
from sbinn.methods._stability_check import check_after_training
from sbinn.methods.inn_config import INNConfig
from sbinn.methods.inn_latents import LatentDistribution
from sbinn.methods.inn_loss import BidirectionalLoss, LossWeights
from sbinn.methods.inn_regularisers import Stabilisers
from sbinn.methods.inn_resimulation import BackwardResimulator
from sbinn.mmd import kernel_from_config
from sbinn.nn import InvertibleNetwork
from sbinn.simulator import Simulator
from sbinn.support import BoundedSupport
from sbinn.train import TrainingConfig, train

__all__ = ["BidirectionalINN", "INNConfig", "LossWeights", "Stabilisers", "TrainingConfig"]

_SAMPLING_CHUNK = 65_536
# Saved tensors under this prefix belong to the latent distribution, the rest to the network.
_LATENT_PREFIX = "latent."
# Offset of the seed that initialises a learned latent (the weight network of a mixture).
_LATENT_SEED_OFFSET = 3


class BidirectionalINN(TrainedEstimator):
    """Bidirectionally trained invertible network for posterior sampling.

    Args:
        config: Architecture and objective; keyword overrides may be passed instead.
        device: ``"cpu"`` (default), ``"cuda"`` or ``"auto"``.
        dtype: ``torch.float32`` (default) or ``torch.float64``.
        seed: Seeds the initial weights and training.
        **overrides: Fields of :class:`INNConfig`, e.g. ``num_blocks=4``.
    """

    config_type = INNConfig
    kind = "bidirectional_inn"

    def __init__(
        self,
        config: INNConfig | None = None,
        *,
        device: str = "cpu",
        dtype: torch.dtype = torch.float32,
        seed: int = 0,
        **overrides: object,
    ) -> None:
        super().__init__(config, device=device, dtype=dtype, seed=seed, **overrides)
        self.network: InvertibleNetwork | None = None
        self.stability: dict | None = None
        self.last_sampling: dict | None = None
        self.latent: LatentDistribution | None = None
        self.x_scaler: Standardizer | None = None
        self.support: BoundedSupport | None = None

    def _support(self, dim_theta: int) -> BoundedSupport | None:
        return BoundedSupport.for_parameters(self.config.parameter_bounds, dim_theta)

    def _to_network_space(self, theta: np.ndarray) -> np.ndarray:
        if self.support is None:
            return theta
        outside = ~self.support.contains(theta)
        if np.any(outside):
            row = int(np.flatnonzero(outside)[0])
            raise ValueError(
                f"{int(outside.sum())} parameter vector(s) lie outside parameter_bounds, "
                f"e.g. theta={theta[row].tolist()}"
            )
        return self.support.forward(theta)[0]

    def _build(self, dim_inputs: int, dim_x: int, dim_theta: int | None = None) -> None:
        """``dim_inputs`` counts θ and the latent noise draws; ``dim_theta`` only θ."""
        dim_theta = dim_inputs if dim_theta is None else dim_theta
        cfg = self.config
        dim_z = cfg.dim_z if cfg.dim_z is not None else max(dim_inputs - dim_x, 1)
        width = cfg.width if cfg.width is not None else max(dim_inputs, dim_x + dim_z)
        if width < max(dim_inputs, dim_x + dim_z) or width < 2:
            raise ValueError(
                f"width must be >= max(dim θ, dim x + dim z) = {max(dim_inputs, dim_x + dim_z)} "
                f"and >= 2, got {width}"
            )
        self.dims = {
            "theta": dim_theta,
            "noise": dim_inputs - dim_theta,
            "x": dim_x,
            "z": dim_z,
            "width": width,
        }
        torch.manual_seed(self.seed)
        self.network = InvertibleNetwork.coupling_stack(
            width,
            cfg.num_blocks,
            coupling=cfg.coupling,
            hidden_features=cfg.hidden_features,
            num_hidden_layers=cfg.num_hidden_layers,
            activation=cfg.activation,
            clamp=cfg.clamp,
            clamp_kind=cfg.clamp_kind,
            seed=self.seed,
        ).to(device=self.device, dtype=self.dtype)
        # Its own seed, and a forked stream: the latent's initialisation leaves the random
        # numbers of the network and of training as they were before latents existed.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed + _LATENT_SEED_OFFSET)
            self.latent = cfg.latent.build(dim_x, dim_z)
        self.latent.to(device=self.device, dtype=self.dtype)

    def _loss(self, resimulate: BackwardResimulator | None = None) -> BidirectionalLoss:
        cfg = self.config
        return BidirectionalLoss(
            self.network,
            dim_theta=self.dims["theta"] + self.dims["noise"],
            dim_y=self.dims["x"],
            dim_z=self.dims["z"],
            weights=cfg.weights,
            kernel_z=kernel_from_config(cfg.kernel_z),
            kernel_x=kernel_from_config(cfg.kernel_x),
            y_noise=cfg.y_noise,
            pad_noise=cfg.pad_noise,
            x_ramp_start=cfg.x_ramp_start,
            x_ramp_end=cfg.x_ramp_end,
            resimulate=resimulate,
            resimulations_per_step=cfg.resimulations_per_step,
            stabilisers=cfg.stabilisers,
            latent=self.latent,
        )

    def fit(
        self,
        theta: np.ndarray | None = None,
        x: np.ndarray | None = None,
        *,
        simulator: Simulator | None = None,
        num_simulations: int | None = None,
        training: TrainingConfig | None = None,
        noise: np.ndarray | None = None,
        check_stability: bool = True,
        fresh_noise: bool = False,
        signal: np.ndarray | None = None,
    ) -> BidirectionalINN:
        """Train on given pairs ``(theta, x)`` or on fresh simulations from ``simulator``.

        Args:
            noise: With ``latent_noise``, the noise draws ``(n, k)`` behind ``x`` (see
                :meth:`~sbinn.simulator.Simulator.simulate_with_noise`); drawn by the
                simulator itself when ``simulator`` is given.
            check_stability: Run the invertibility checks on the training pairs at the
                end (well under a second); the result is :attr:`stability`, and a
                :class:`~sbinn.methods._stability_check.StabilityWarning` is raised as a
                warning if they fail.
            fresh_noise: Observe the simulations' noise-free signals with fresh noise every
                epoch (:mod:`sbinn.fresh_noise`), as in :meth:`CINN.fit
                <sbinn.methods.cinn.CINN.fit>`; with ``latent_noise`` the new draws are
                the latent noise parameters of that epoch.
            signal: With ``fresh_noise`` and given ``(theta, x)``: their noise-free
                signals; ``simulator`` then only observes them.

        Returns:
            ``self``, trained; :attr:`history` holds the training record.
        """
        observer = None
        if fresh_noise or signal is not None:
            check_fresh_noise_arguments(theta, x, simulator, fresh_noise, signal)
            observer = simulator
            if signal is not None:
                simulator = None  # it only observes the given signals
        check_data_source(theta, x, simulator)
        latent_noise = self.config.latent_noise
        if self.config.resimulations_per_step and (simulator is None or latent_noise):
            raise ValueError(
                "resimulations_per_step > 0 re-simulates backward samples: it needs "
                "fit(simulator=...) and latent_noise=False; got "
                f"simulator={simulator!r} and latent_noise={latent_noise}"
            )
        if noise is not None and (not latent_noise or simulator is not None):
            raise ValueError(
                "noise is taken only with latent_noise=True and given (theta, x); "
                f"got latent_noise={latent_noise} and simulator={simulator!r}"
            )
        if simulator is not None:
            num_simulations = check_positive_int(num_simulations, "num_simulations")
            start = time.perf_counter()
            if fresh_noise:
                theta, x, drawn, signal = simulate_with_signal(
                    simulator, num_simulations, seed=self.seed, progress=False
                )
                noise = drawn if latent_noise else None
            elif latent_noise:
                theta, x, noise = simulator.sample_joint_with_noise(num_simulations, self.seed)
            else:
                theta, x = simulator.sample_joint(num_simulations, seed=self.seed)
            self.time_s["simulation"] = time.perf_counter() - start
        theta = as_2d_float_array(theta, None, "theta")
        x = as_2d_float_array(np.reshape(x, (len(x), -1)), None, "x")
        theta_given, noise_given = theta, noise
        if len(theta) != len(x):
            raise ValueError(
                f"theta and x need the same number of rows, got {len(theta)} and {len(x)}"
            )
        dim_theta = theta.shape[1]
        self.support = self._support(dim_theta)
        theta = self._to_network_space(theta)
        if latent_noise:
            if noise is None:
                raise ValueError(
                    "latent_noise=True needs the noise draws behind x: pass noise=, or a "
                    "simulator with noise_dimension > 0"
                )
            noise = as_2d_float_array(noise, None, "noise")
            if len(noise) != len(theta):
                raise ValueError(
                    f"noise needs one row per simulation, got {len(noise)} rows for "
                    f"{len(theta)} simulations"
                )
            theta = np.concatenate([theta, noise], axis=1)
        self.num_simulations = len(theta)
        self.theta_scaler, self.x_scaler = Standardizer.fit(theta), Standardizer.fit(x)
        self._build(theta.shape[1], x.shape[1], dim_theta)
        data = self._tensors(theta, x)
        if fresh_noise:
            data = self._fresh_noise_data(data, observer, theta[:, :dim_theta], x, signal)
        training = training or TrainingConfig()
        training = replace(training, seed=self.seed)
        resimulate = None
        if self.config.resimulations_per_step:
            resimulate = BackwardResimulator(
                simulator, self.theta_scaler, self.x_scaler, self.support, seed=self.seed + 2
            )
        start = time.perf_counter()
        self.history = train(self._trained_module(), self._loss(resimulate), data, training)
        self.time_s["training"] = time.perf_counter() - start
        if resimulate is not None:
            self.num_simulations += resimulate.count
        self.stability = (
            check_after_training(self, theta_given, x, noise_given, seed=self.seed)
            if check_stability
            else {"checked": False, "reason": "check_stability=False"}
        )
        return self

    def _tensors(self, theta: np.ndarray, x: np.ndarray) -> tuple[Tensor, Tensor]:
        return (
            torch.as_tensor(self.theta_scaler.transform(theta), dtype=self.dtype),
            torch.as_tensor(self.x_scaler.transform(x), dtype=self.dtype),
        )

    def _fresh_noise_data(self, first, observer: Simulator, theta: np.ndarray, x, signal):
        """Training data for ``epoch``: ``first``, then the signals observed with new noise
        (and, with ``latent_noise``, the new draws as the latent noise parameters)."""
        observe = fresh_observations(observer, x, signal, seed=self.seed)

        def data(epoch: int) -> tuple[Tensor, Tensor]:
            if epoch == 0:
                return first
            x, noise = observe(epoch)
            inputs = np.concatenate([theta, noise], axis=1) if self.dims["noise"] else theta
            return self._tensors(inputs, x.reshape(len(x), -1))

        return data

    def _trained_module(self) -> torch.nn.Module:
        """What the optimiser updates: the network, and the latent if it has parameters.

        A latent without parameters adds nothing, and leaving it out keeps the state-dict
        keys of training checkpoints as they were, so earlier checkpoints still resume.
        """
        if not any(True for _ in self.latent.parameters()):
            return self.network
        return torch.nn.ModuleDict({"network": self.network, "latent": self.latent})

    def _require_fitted(self) -> InvertibleNetwork:
        if self.network is None:
            raise RuntimeError("this BidirectionalINN is not trained yet: call fit() or load()")
        return self.network

    def sample(self, x_obs: np.ndarray, num_samples: int, seed: int | None = None) -> np.ndarray:
        """Posterior samples ``(n_obs, num_samples, dim θ)`` for observations ``x_obs``.

        Draws that are not finite (an overflowing inverse pass) are drawn again, with a
        :class:`StabilityWarning`, as in :meth:`CINN.sample <sbinn.methods.cinn.CINN.sample>`;
        :attr:`last_sampling` counts them.
        """
        network = self._require_fitted()
        num_samples = check_positive_int(num_samples, "num_samples")
        x_obs = as_2d_float_array(x_obs, self.dims["x"], "x_obs")
        start = time.perf_counter()
        generator = torch.Generator(device=self.device).manual_seed(
            self.seed + 1 if seed is None else seed
        )
        y = torch.as_tensor(self.x_scaler.transform(x_obs), dtype=self.dtype, device=self.device)
        samples = self._draw(network, y.repeat_interleave(num_samples, dim=0), generator)
        samples, self.last_sampling = finite_draws(
            samples.reshape(x_obs.shape[0], num_samples, self.dims["theta"]),
            lambda obs: self._draw(network, y[torch.as_tensor(obs)], generator),
            "BidirectionalINN",
        )
        self.time_s["sampling"] = time.perf_counter() - start
        return samples

    def _draw(self, network: InvertibleNetwork, rows: Tensor, generator: torch.Generator):
        """One posterior draw ``(len(rows), dim θ)`` per row of standardised observations."""
        pad = self.dims["width"] - self.dims["x"] - self.dims["z"]
        dim_inputs = self.dims["theta"] + self.dims["noise"]
        out = torch.empty(rows.shape[0], dim_inputs, dtype=self.dtype)
        network.eval()
        self.latent.eval()

        def invert(lo: int, inputs: Tensor) -> None:
            theta, _ = network.inverse(inputs)
            out[lo : lo + inputs.shape[0]] = theta[:, :dim_inputs].cpu()

        # Latent draws are made here, in order, so the samples do not depend on the threads.
        with torch.no_grad(), ChunkThreads(device=self.device) as threads:
            for lo in range(0, rows.shape[0], _SAMPLING_CHUNK):
                part = rows[lo : lo + _SAMPLING_CHUNK]
                # Exact draws (hard=True): the relaxation only serves the gradients of training.
                z = self.latent.sample(part, 1, generator=generator, hard=True)[:, 0]
                padding = torch.zeros(part.shape[0], pad, device=self.device, dtype=self.dtype)
                threads.submit(invert, lo, torch.cat([part, z, padding], dim=1))
        # The noise draws are nuisance parameters: dropping them marginalises them out.
        samples = self.theta_scaler.inverse(out.double().numpy())[:, : self.dims["theta"]]
        if self.support is not None:
            with np.errstate(over="ignore"):  # overflow is caught as non-finite draws
                samples = self.support.inverse(samples)
        return samples

    def predict_observation(self, theta: np.ndarray) -> np.ndarray:
        """The learned forward model f_y(θ), a surrogate of the simulator.

        With ``latent_noise`` the noise draws are set to 0, their median.
        """
        network = self._require_fitted()
        theta = self._to_network_space(as_2d_float_array(theta, self.dims["theta"], "theta"))
        theta = np.concatenate([theta, np.zeros((len(theta), self.dims["noise"]))], axis=1)
        inputs = torch.zeros(len(theta), self.dims["width"], dtype=self.dtype, device=self.device)
        inputs[:, : theta.shape[1]] = torch.as_tensor(
            self.theta_scaler.transform(theta), dtype=self.dtype
        )
        network.eval()
        with torch.no_grad():
            out, _ = network(inputs)
        return self.x_scaler.inverse(out[:, : self.dims["x"]].cpu().double().numpy())

    def settings(self) -> dict:
        """JSON-serialisable description for records."""
        return self._record() | {
            "dims": self.dims,
        }

    def save(self, path: str | Path) -> None:
        """Save weights, standardisation and configuration (no pickle)."""
        network = self._require_fitted()
        config = self.settings() | {
            "theta_scaler": self.theta_scaler.to_config(),
            "x_scaler": self.x_scaler.to_config(),
        }
        state = network.state_dict() | {
            _LATENT_PREFIX + key: value for key, value in self.latent.state_dict().items()
        }
        save_estimator(path, self.kind, config, state)

    @classmethod
    def load(cls, path: str | Path, *, device: str = "cpu") -> BidirectionalINN:
        """Load what :meth:`save` wrote."""
        inn, config, state = cls._restore(path, device)
        inn.x_scaler = Standardizer.from_config(config["x_scaler"])
        dims = config["dims"]
        inn.support = inn._support(dims["theta"])
        inn._build(dims["theta"] + dims.get("noise", 0), dims["x"], dims["theta"])
        latent_state = {
            key.removeprefix(_LATENT_PREFIX): value
            for key, value in state.items()
            if key.startswith(_LATENT_PREFIX)
        }
        inn.network.load_state_dict(
            {k: v for k, v in state.items() if not k.startswith(_LATENT_PREFIX)}
        )
        # Files from before latents were saved hold no latent tensors: a standard normal one.
        inn.latent.load_state_dict(latent_state)
        return inn
