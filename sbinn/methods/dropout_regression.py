r"""Regression network with Monte-Carlo dropout: the "NN (+Dropout)" baseline of the thesis.

Ardizzone (2022, §4.2.3, Table 4.2) compares the conditional INN on the medical benchmark
with a feed-forward network in the style of Kendall & Gal (2017): 8 fully connected ReLU
layers, dropout :math:`p = 0.2`, Adam with a learning rate decaying from
:math:`10^{-2}` to :math:`10^{-5}`, batch size 100 (appendix B.5.3). Without dropout and
error terms the same network is the classical point estimate.

**Objective.** A network :math:`g(x) = (\mu(x), s(x))` reads a standardised observation.
With ``aleatoric=False`` it is trained by the mean squared error
:math:`\|\mu(x) - \theta\|^2`, which is the negative log-likelihood of a Gaussian
:math:`q(\theta \mid x) = \mathcal{N}(\mu(x), \sigma^2 I)` of *fixed* width (thesis eq.
3.1-3.2): its minimiser is the posterior mean, and it says nothing about the width. With
``aleatoric=True`` (Kendall & Gal's heteroscedastic loss) it also predicts a log-variance
:math:`s_i(x) = \log \sigma_i^2(x)` per parameter and minimises the Gaussian NLL

.. math:: \sum_i \tfrac12 e^{-s_i(x)} (\theta_i - \mu_i(x))^2 + \tfrac12 s_i(x)
          + \tfrac12 \log 2\pi ,

whose minimiser over :math:`s_i` is the log of the expected squared residual given
:math:`x`, i.e. the posterior variance of each parameter.

**MC dropout.** Dropout is kept active when sampling (Gal & Ghahramani, 2016): every
sample is one forward pass with fresh dropout masks :math:`m`, a draw from an approximate
posterior over the weights (epistemic uncertainty). With ``aleatoric=True`` a sample is
then :math:`\theta = \mu_m(x) + \sigma_m(x)\,\varepsilon`, :math:`\varepsilon \sim
\mathcal{N}(0, I)`, a draw from Kendall & Gal's predictive distribution, a mixture of
Gaussians over masks. :meth:`DropoutRegression.predict` is the deterministic estimate with
dropout off.

**Limits.** MC dropout is a mean-field approximation: for a given mask every parameter
gets its own independent Gaussian, and the mixture over masks correlates them only through
the small dropout spread of the means. It can neither be multi-modal nor represent
correlations between parameters, such as the strong :math:`v_{hb}`-:math:`a_{mie}`
correlation of the tissue posterior, which the thesis (§4.2.3) points out the dropout
network misses (on a posterior with correlation -0.8 the samples showed about 0). Without
the aleatoric term the sample spread is the dropout noise alone, which the MSE training
drives down: far too narrow (a quarter of the true width on a 1-D linear-Gaussian task).
With it the spread comes out somewhat too wide (5-15% there): the variances learned under
dropout absorb the dropout noise of training, and sampling adds that noise once more.

Examples:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> theta = rng.normal(size=(300, 2))
    >>> x = theta + 0.5 * rng.normal(size=(300, 2))
    >>> net = DropoutRegression(hidden_features=16, hidden_layers=2, seed=0)
    >>> _ = net.fit(theta, x, training=TrainingConfig(num_epochs=2, progress=False))
    >>> net.sample([[0.5, -0.5]], num_samples=100, seed=0).shape
    (1, 100, 2)
    >>> net.predict(x[:3]).shape
    (3, 2)
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from sbinn._validation import as_2d_float_array, check_positive_int, check_probability
from sbinn.data import Standardizer
from sbinn.io import save_estimator
from sbinn.methods._estimator import TrainedEstimator, check_data_source
from sbinn.parallel import chunk_generator
from sbinn.simulator import Simulator
from sbinn.train import TrainingConfig, train

__all__ = ["DropoutRegression", "DropoutRegressionConfig", "TrainingConfig", "thesis_training"]

# Rows per stochastic forward pass: CPU caches versus keeping a GPU busy, as for the CINN.
_SAMPLING_CHUNK = {"cpu": 8192, "cuda": 262_144}
# Soft bound on the predicted log-variance (standardised units): keeps exp(-s) finite early
# in training, while standard deviations from 5e-4 to 2e3 stay reachable.
_LOG_VAR_BOUND = 15.0


def thesis_training(**overrides: object) -> TrainingConfig:
    """Training settings of thesis appendix B.5.3: Adam, 1e-2 decaying to 1e-5, batches of 100.

    Examples:
        >>> thesis_training(num_epochs=3).learning_rate
        0.01
    """
    settings = {"learning_rate": 1e-2, "final_learning_rate": 1e-5, "batch_size": 100}
    return TrainingConfig(**(settings | {"schedule": "exponential"} | overrides))


@dataclass(frozen=True)
class DropoutRegressionConfig:
    """Architecture of a :class:`DropoutRegression`.

    Attributes:
        hidden_features: Width of every hidden layer (the thesis does not state it).
        hidden_layers: Hidden ReLU layers; with the output layer, the thesis' 8 fully
            connected layers.
        dropout: Probability of dropping a hidden unit, after every hidden layer, in
            training and when sampling. 0 leaves only the aleatoric spread.
        aleatoric: Predict a log-variance per parameter and train by the Gaussian NLL
            (Kendall & Gal); ``False`` trains a point estimate by the mean squared error.
        standardize_theta: Train on standardised parameters (recommended: the loss then
            weighs all parameters alike).
        standardize_x: Standardise the observations before the network.
    """

    hidden_features: int = 128
    hidden_layers: int = 7
    dropout: float = 0.2
    aleatoric: bool = True
    standardize_theta: bool = True
    standardize_x: bool = True

    def __post_init__(self) -> None:
        check_positive_int(self.hidden_features, "hidden_features")
        check_positive_int(self.hidden_layers, "hidden_layers")
        p = check_probability(self.dropout, "dropout", include_zero=True, include_one=False)
        object.__setattr__(self, "dropout", p)
        for name in ("aleatoric", "standardize_theta", "standardize_x"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}")

    def to_json(self) -> dict:
        """JSON-serialisable form."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> DropoutRegressionConfig:
        """Inverse of :meth:`to_json`."""
        return cls(**data)


class DropoutMLP(nn.Module):
    """ReLU network with dropout after every hidden layer; outputs ``(mean, raw log-var)``.

    Dropout uses torch's global generator in training (seeded by :func:`sbinn.train.train`)
    and an explicit ``generator`` when sampling, so that samples are reproducible without
    touching the global random state.
    """

    def __init__(self, dim_x: int, dim_out: int, config: DropoutRegressionConfig) -> None:
        super().__init__()
        width = config.hidden_features
        sizes = [dim_x] + [width] * config.hidden_layers
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(sizes))
        self.output = nn.Linear(width, dim_out)
        self.p = config.dropout

    def first(self, x: torch.Tensor) -> torch.Tensor:
        """First hidden activation: deterministic (inputs are not dropped), shared by samples."""
        return torch.relu(self.hidden[0](x))

    def rest(self, h: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """From the first hidden activation to the output, dropping units after every layer."""
        for i, layer in enumerate(self.hidden):
            if i:
                h = torch.relu(layer(h))
            h = self._drop(h, generator)
        return self.output(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rest(self.first(x))

    def _drop(self, h: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        if generator is None:
            return F.dropout(h, self.p, self.training)
        if self.p == 0:
            return h
        # Drawing the masks dominated the CPU sampling time with torch.rand (a float per
        # unit). Random 64-bit integers read as four 16-bit ones give the same Bernoulli
        # draws, up to p's rounding to 1/65536, at a quarter of the cost.
        count = h.numel()
        words = torch.randint(
            -(2**63), 2**63 - 1, ((count + 3) // 4,), generator=generator, device=h.device
        )
        uniform16 = words.view(torch.int16)[:count].view(h.shape)
        keep = uniform16 >= self._threshold
        return torch.where(keep, h, 0.0).mul_(1.0 / (1.0 - self.p))  # inverted, as F.dropout

    @property
    def _threshold(self) -> int:
        """``P(int16 >= threshold) = 1 - p`` for uniform 16-bit integers."""
        return round(self.p * 65536) - 32768


def _split(out: torch.Tensor, dim_theta: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Mean and soft-bounded log-variance (``None`` for a point-estimate network)."""
    if out.shape[1] == dim_theta:
        return out, None
    raw = out[:, dim_theta:]
    return out[:, :dim_theta], _LOG_VAR_BOUND * torch.tanh(raw / _LOG_VAR_BOUND)


class _Objective:
    """Gaussian NLL in nats in the user's units (aleatoric), or the standardised MSE."""

    def __init__(self, model: DropoutMLP, dim_theta: int, log_det_offset: float) -> None:
        self.model, self.dim_theta, self.offset = model, dim_theta, log_det_offset

    def __call__(self, batch, *, progress: float) -> tuple[torch.Tensor, dict[str, float]]:
        theta, x = batch
        mean, log_var = _split(self.model(x), self.dim_theta)
        squared = (theta - mean) ** 2
        mse = squared.mean()
        if log_var is None:
            return mse, {"mse": mse.item()}
        per_row = 0.5 * (squared * torch.exp(-log_var) + log_var + math.log(2 * math.pi)).sum(1)
        # log q(θ) = log q(u) + log|du/dθ|: the NLL of the user's units, as the CINN reports.
        nll = per_row.mean() - self.offset
        return nll, {"nll": nll.item(), "mse": mse.item()}


def _scaler(data: np.ndarray, standardize: bool) -> Standardizer:
    if standardize:
        return Standardizer.fit(data)
    return Standardizer(np.zeros(data.shape[1]), np.ones(data.shape[1]))


class DropoutRegression(TrainedEstimator):
    """Feed-forward regression with MC-dropout sampling and learned aleatoric variances.

    Args:
        config: Architecture; keyword overrides may be passed instead.
        device: ``"cpu"`` (default), ``"cuda"`` or ``"auto"``.
        dtype: ``torch.float32`` (default) or ``torch.float64``.
        seed: Seeds the initial weights, the simulations and the training.
        **overrides: Fields of :class:`DropoutRegressionConfig`, e.g. ``dropout=0.1``.
    """

    config_type = DropoutRegressionConfig
    kind = "dropout_regression"

    def __init__(
        self,
        config: DropoutRegressionConfig | None = None,
        *,
        device: str = "cpu",
        dtype: torch.dtype = torch.float32,
        seed: int = 0,
        **overrides: object,
    ) -> None:
        super().__init__(config, device=device, dtype=dtype, seed=seed, **overrides)
        self.model: DropoutMLP | None = None
        self.x_scaler: Standardizer | None = None

    def fit(
        self,
        theta: np.ndarray | None = None,
        x: np.ndarray | None = None,
        *,
        simulator: Simulator | None = None,
        num_simulations: int | None = None,
        training: TrainingConfig | None = None,
    ) -> DropoutRegression:
        """Train on pairs ``(theta, x)``, or on simulations from ``simulator``.

        Args:
            theta: Parameters ``(n, dim θ)``.
            x: Observations ``(n, dim x)``.
            simulator: Draws ``num_simulations`` pairs instead of ``(theta, x)``; with the
                same seed they are the pairs a :class:`~sbinn.methods.cinn.CINN` draws.
            num_simulations: Simulation budget.
            training: Settings of :func:`sbinn.train.train` (:func:`thesis_training` gives
                the thesis' ones); its seed is this estimator's.

        Returns:
            ``self``, trained; :attr:`history` holds the record: the Gaussian NLL in nats
            (``aleatoric=True``) or the MSE in standardised units. Validation losses are
            those of the network with dropout off, the one :meth:`predict` uses.
        """
        if simulator is None and num_simulations is not None:
            raise ValueError("num_simulations needs simulator=...")
        check_data_source(theta, x, simulator)
        self.time_s["simulation"] = 0.0
        if simulator is not None:
            num_simulations = check_positive_int(num_simulations, "num_simulations")
            start = time.perf_counter()
            theta, x = simulator.sample_joint(num_simulations, seed=chunk_generator(self.seed, 0))
            self.time_s["simulation"] = time.perf_counter() - start
        theta = as_2d_float_array(theta, None, "theta")
        x = as_2d_float_array(x, None, "x")
        if len(theta) != len(x):
            raise ValueError(
                f"theta and x need the same number of rows, got {len(theta)} and {len(x)}"
            )
        self.num_simulations = len(theta)
        self.theta_scaler = _scaler(theta, self.config.standardize_theta)
        self.x_scaler = _scaler(x, self.config.standardize_x)
        self._build(theta.shape[1], x.shape[1])
        data = (
            torch.as_tensor(self.theta_scaler.transform(theta), dtype=self.dtype),
            torch.as_tensor(self.x_scaler.transform(x), dtype=self.dtype),
        )
        objective = _Objective(self.model, theta.shape[1], self.theta_scaler.log_abs_det)
        training = replace(training or TrainingConfig(), seed=self.seed)
        start = time.perf_counter()
        self.history = train(self.model, objective, data, training)
        self.time_s["training"] = time.perf_counter() - start
        return self

    def _build(self, dim_theta: int, dim_x: int) -> None:
        torch.manual_seed(self.seed)
        dim_out = 2 * dim_theta if self.config.aleatoric else dim_theta
        model = DropoutMLP(dim_x, dim_out, self.config)
        self.model = model.to(device=self.device, dtype=self.dtype)
        self.dims = {"theta": dim_theta, "x": dim_x}

    def _require_fitted(self) -> DropoutMLP:
        if self.model is None:
            raise RuntimeError("this DropoutRegression is not trained yet: call fit() or load()")
        return self.model

    def _observations(self, x_obs: object) -> torch.Tensor:
        x_obs = as_2d_float_array(x_obs, self.dims["x"], "x_obs")
        x = self.x_scaler.transform(x_obs)
        return torch.as_tensor(x, dtype=self.dtype, device=self.device)

    @property
    def _chunk(self) -> int:
        return _SAMPLING_CHUNK.get(self.device.type, 8192)

    def sample(self, x_obs: np.ndarray, num_samples: int, seed: int | None = None) -> np.ndarray:
        """MC-dropout samples ``(n_obs, num_samples, dim θ)`` for observations ``x_obs``.

        Each sample is one forward pass with fresh dropout masks, plus Gaussian noise of the
        predicted variance when ``aleatoric=True``. The same ``seed`` gives the same samples.
        """
        model = self._require_fitted()
        num_samples = check_positive_int(num_samples, "num_samples")
        x = self._observations(x_obs)
        start = time.perf_counter()
        generator = torch.Generator(device=self.device).manual_seed(
            self.seed + 1 if seed is None else seed
        )
        dim, total = self.dims["theta"], len(x) * num_samples
        out = torch.empty(total, dim, dtype=self.dtype)
        model.eval()
        with torch.inference_mode():
            first = model.first(x)  # once per observation: no dropout before the first layer
            for lo in range(0, total, self._chunk):
                hi = min(lo + self._chunk, total)
                rows = torch.arange(lo, hi, device=self.device) // num_samples
                mean, log_var = _split(model.rest(first[rows], generator), dim)
                if log_var is not None:
                    noise = torch.randn(
                        mean.shape, generator=generator, device=self.device, dtype=self.dtype
                    )
                    mean = mean + noise * torch.exp(0.5 * log_var)
                out[lo:hi] = mean.cpu()
        samples = self.theta_scaler.inverse(out.double().numpy())
        self.time_s["sampling"] = time.perf_counter() - start
        return samples.reshape(len(x), num_samples, dim)

    def predict(self, x_obs: np.ndarray) -> np.ndarray:
        """Deterministic point estimates ``(n_obs, dim θ)``: the network with dropout off."""
        model = self._require_fitted()
        x = self._observations(x_obs)
        model.eval()
        with torch.inference_mode():
            parts = [
                _split(model(x[lo : lo + self._chunk]), self.dims["theta"])[0].cpu()
                for lo in range(0, len(x), self._chunk)
            ]
        return self.theta_scaler.inverse(torch.cat(parts).double().numpy())

    def settings(self) -> dict:
        """JSON-serialisable description for records."""
        return self._record() | {
            "dims": self.dims,
        }

    def save(self, path: str | Path) -> None:
        """Save weights, scalings and configuration (no pickle)."""
        model = self._require_fitted()
        config = self.settings() | {
            "theta_scaler": self.theta_scaler.to_config(),
            "x_scaler": self.x_scaler.to_config(),
        }
        save_estimator(path, self.kind, config, model.state_dict())

    @classmethod
    def load(cls, path: str | Path, *, device: str = "cpu") -> DropoutRegression:
        """Load what :meth:`save` wrote."""
        net, config, state = cls._restore(path, device)
        net.x_scaler = Standardizer.from_config(config["x_scaler"])
        net._build(config["dims"]["theta"], config["dims"]["x"])
        net.model.load_state_dict(state)
        return net
