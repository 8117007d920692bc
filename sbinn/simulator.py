"""The simulator contract, the one-call wrapper for a user's function, and failure handling.

A :class:`Simulator` couples a :class:`~sbinn.priors.Prior` with a forward model
``x = s(theta)`` that is vectorised over a batch of parameter vectors. Failed
simulations (an exception, NaN or inf) come back from :meth:`Simulator.simulate`
as NaN rows; :meth:`Simulator.sample_joint` and every consumer in sbinn drop
them through a :class:`~sbinn.simulation_failures.FailureTracker`, which warns once
with the count and an example parameter vector, and raises
:class:`~sbinn.simulation_failures.SimulationError` when more than
``max_failure_fraction`` of the simulations failed (both are re-exported here). Output
of the wrong shape or dtype is a programming error and raises at once.

Examples:
    >>> import numpy as np
    >>> from sbinn.function_simulator import FunctionSimulator
    >>> from sbinn.priors import JointPrior, Normal
    >>> prior = JointPrior({"mu": Normal(0.0, 1.0)})
    >>> simulator = FunctionSimulator(lambda t, rng: t + rng.normal(size=t.shape), prior)
    >>> theta, x = simulator.sample_joint(5, seed=0)
    >>> theta.shape, x.shape
    ((5, 1), (5, 1))
"""

from __future__ import annotations

import numbers
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

import numpy as np

from sbinn._validation import as_2d_float_array, check_probability, to_numpy
from sbinn.priors import Prior
from sbinn.simulation_failures import FailureTracker, SimulationError, SimulationFailureWarning

__all__ = [
    "FailureTracker",
    "SimulationError",
    "SimulationFailureWarning",
    "Simulator",
    "SimulatorOutputShapeError",
    "SimulatorOutputTypeError",
    "as_generator",
]

SeedLike = int | np.random.Generator | np.random.SeedSequence | None

# A vectorised simulator that raises is re-run row by row to find the failing rows;
# when this many leading rows all fail, the simulator is broken, not unlucky.
_ROWWISE_GIVE_UP = 20


class SimulatorOutputShapeError(ValueError):
    """A simulator returned output of the wrong shape: a bug, not a failed simulation."""


class SimulatorOutputTypeError(TypeError):
    """A simulator returned non-numeric or complex output: a bug, not a failed simulation."""


_GARBAGE = (SimulatorOutputShapeError, SimulatorOutputTypeError)


def check_prior(prior: object) -> None:
    if not isinstance(prior, Prior):
        raise TypeError(
            f"prior must be an sbinn Prior (e.g. a JointPrior), got {type(prior).__name__}"
        )


def as_generator(seed: SeedLike) -> np.random.Generator:
    """Turn an int, a SeedSequence, a Generator or None into a numpy Generator.

    Examples:
        >>> float(as_generator(0).random()) == float(as_generator(0).random())
        True
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(seed)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(
            f"seed must be an int, a numpy Generator or SeedSequence, or None; "
            f"got {type(seed).__name__}"
        )
    return np.random.default_rng(int(seed))


class Simulator(ABC):
    """A prior and a batched forward model.

    Subclasses implement :meth:`_simulate` for a float64 array ``theta`` of shape
    ``(n, dim_parameters)`` and return ``(n, *observation_shape)``. They may set
    the class attributes :attr:`name` and :attr:`version`, and extend
    :meth:`settings` with their configuration.

    Args:
        prior: Prior over the parameters; its names name the parameters.
        observation_shape: Shape of one observation, e.g. ``2`` or ``(2,)``.
        observation_names: Names of the observation components (flat shapes only).
        max_failure_fraction: Largest tolerated fraction of failed simulations.
    """

    name: str = "simulator"
    version: str = "0"

    def __init__(
        self,
        prior: Prior,
        observation_shape: int | Sequence[int],
        observation_names: Sequence[str] | None = None,
        *,
        max_failure_fraction: float = 0.1,
    ) -> None:
        check_prior(prior)
        shape = (
            (observation_shape,)
            if isinstance(observation_shape, numbers.Integral)
            else observation_shape
        )
        shape = tuple(int(s) for s in shape)
        if not shape or any(s <= 0 for s in shape):
            raise ValueError(f"observation_shape must be positive integers, got {shape}")
        if observation_names is None:
            observation_names = tuple(f"x_{i + 1}" for i in range(int(np.prod(shape))))
        observation_names = tuple(observation_names)
        if len(shape) == 1 and len(observation_names) != shape[0]:
            raise ValueError(
                f"observation_names has {len(observation_names)} entries, "
                f"expected {shape[0]} to match observation_shape {shape}"
            )
        self.prior = prior
        self.observation_shape = shape
        self.observation_names = observation_names
        self.max_failure_fraction = check_probability(
            max_failure_fraction, "max_failure_fraction", include_zero=True
        )
        self.last_exception: BaseException | None = None

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """Names of the parameters, from the prior."""
        return self.prior.names

    @property
    def dim_parameters(self) -> int:
        """Number of parameters."""
        return self.prior.dim

    @property
    def dim_observations(self) -> int:
        """Number of scalar entries in one observation."""
        return int(np.prod(self.observation_shape))

    def settings(self) -> dict:
        """JSON-serialisable description of this simulator and its prior."""
        prior = self.prior.to_config() if hasattr(self.prior, "to_config") else repr(self.prior)
        return {
            "name": self.name,
            "version": self.version,
            "parameter_names": list(self.parameter_names),
            "observation_shape": list(self.observation_shape),
            "prior": prior,
        }

    @abstractmethod
    def _simulate(self, theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Simulate a checked batch ``theta`` of shape ``(n, dim_parameters)``."""

    def simulate(self, theta: np.ndarray, rng: SeedLike = None) -> np.ndarray:
        """Simulate one observation per row of ``theta``.

        Args:
            theta: Parameters, shape ``(n, dim_parameters)`` (or one vector).
            rng: Seed or Generator for the simulator's noise.

        Returns:
            Float64 array of shape ``(n, *observation_shape)``. Rows whose
            simulation raised or produced NaN/inf are all NaN.

        Raises:
            ValueError: if ``theta`` or the simulator's output has the wrong shape.
            TypeError: if the simulator's output is not real-valued numeric data.
        """
        theta = as_2d_float_array(theta, self.dim_parameters, "theta")
        rng = as_generator(rng)
        return self._run(theta, lambda rows: self._simulate(theta[rows], rng))

    @property
    def noise_dimension(self) -> int:
        """Standard-normal draws per simulation exposed by :meth:`simulate_with_noise`.

        0 (the default) means the simulator keeps its randomness to itself.
        """
        return 0

    def _simulate_given_noise(self, theta: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """Simulate ``theta`` with the given noise draws ``(n, noise_dimension)``.

        Simulators with ``noise_dimension > 0`` implement it, and their :meth:`_simulate`
        should equal it with ``noise`` drawn from a standard normal.
        """
        raise NotImplementedError(f"simulator {self.name!r} does not expose its noise draws")

    def simulate_with_noise(
        self, theta: np.ndarray, rng: SeedLike = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Simulate, and also return the standard-normal noise draws behind each observation.

        Knowing the draws makes ``x`` a deterministic function of ``(theta, noise)``: the
        bidirectional INN uses them as extra latent parameters (``INNConfig.latent_noise``).

        Returns:
            ``(x, noise)``: observations as :meth:`simulate` returns them, and the draws,
            shape ``(n, noise_dimension)``.

        Raises:
            NotImplementedError: if the simulator does not expose its noise
                (``noise_dimension == 0``).
        """
        if self.noise_dimension == 0:
            raise NotImplementedError(
                f"simulator {self.name!r} does not expose its noise draws (noise_dimension is 0)"
            )
        theta = as_2d_float_array(theta, self.dim_parameters, "theta")
        noise = as_generator(rng).standard_normal((theta.shape[0], self.noise_dimension))
        x = self._run(theta, lambda rows: self._simulate_given_noise(theta[rows], noise[rows]))
        return x, noise

    def _run(self, theta: np.ndarray, simulate_rows: Callable[[slice], object]) -> np.ndarray:
        self.last_exception = None
        if theta.shape[0] == 0:
            return np.empty((0, *self.observation_shape))
        try:
            raw = simulate_rows(slice(None))
        except _GARBAGE:
            raise
        except Exception as error:
            self.last_exception = error
            raw = self._simulate_rowwise(theta, simulate_rows, error)
        x = self._check_output(raw, theta.shape[0])
        x[~self.valid_mask(x)] = np.nan
        return x

    def valid_mask(self, x: np.ndarray) -> np.ndarray:
        """Boolean mask of simulations that succeeded (default: all entries finite)."""
        return np.all(np.isfinite(x), axis=tuple(range(1, x.ndim)))

    def _simulate_rowwise(
        self, theta: np.ndarray, simulate_rows: Callable[[slice], object], error: Exception
    ) -> np.ndarray:
        rows = []
        failures = 0
        for i in range(theta.shape[0]):
            try:
                rows.append(self._check_output(simulate_rows(slice(i, i + 1)), 1))
            except _GARBAGE:
                raise
            except Exception:
                failures += 1
                rows.append(np.full((1, *self.observation_shape), np.nan))
            if failures == i + 1 == _ROWWISE_GIVE_UP:
                raise SimulationError(
                    f"simulator {self.name!r} raised for each of the first {_ROWWISE_GIVE_UP} "
                    f"parameter vectors, e.g. theta={theta[0].tolist()}: "
                    f"{type(error).__name__}: {error}"
                ) from error
        return np.concatenate(rows, axis=0) if rows else np.empty((0, *self.observation_shape))

    def _check_output(self, raw: object, num_rows: int) -> np.ndarray:
        x = to_numpy(raw)
        numeric = np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.bool_)
        if x.dtype == object or not numeric or np.issubdtype(x.dtype, np.complexfloating):
            raise SimulatorOutputTypeError(
                f"simulator {self.name!r} must return real numeric data, got dtype {x.dtype}"
            )
        expected = (num_rows, *self.observation_shape)
        if x.shape != expected and x.shape == (num_rows,) and self.observation_shape == (1,):
            x = x[:, None]
        if x.shape != expected:
            raise SimulatorOutputShapeError(
                f"simulator {self.name!r} returned shape {x.shape}, expected {expected} "
                f"for {num_rows} parameter vector(s)"
            )
        return np.array(x, dtype=np.float64, copy=True)

    def sample_joint(
        self, num_samples: int, seed: SeedLike = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw parameters from the prior and simulate them; failed simulations are dropped.

        Returns:
            ``(theta, x)`` with at most ``num_samples`` rows each.

        Examples:
            >>> from sbinn.function_simulator import FunctionSimulator
            >>> from sbinn.priors import JointPrior, Uniform
            >>> sim = FunctionSimulator(lambda t: t**2, JointPrior({"a": Uniform(0, 1)}))
            >>> theta, x = sim.sample_joint(3, seed=1)
            >>> bool(np.allclose(x, theta**2))
            True
        """
        rng = as_generator(seed)
        theta = self.prior.sample(num_samples, rng)
        x = self.simulate(theta, rng)
        tracker = FailureTracker(self)
        theta, x = tracker.filter(theta, x)
        tracker.finish()
        return theta, x

    def sample_joint_with_noise(
        self, num_samples: int, seed: SeedLike = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`sample_joint` through :meth:`simulate_with_noise`: ``(theta, x, noise)``."""
        rng = as_generator(seed)
        theta = self.prior.sample(num_samples, rng)
        x, noise = self.simulate_with_noise(theta, rng)
        ok = self.valid_mask(x)
        tracker = FailureTracker(self)
        theta, x = tracker.filter(theta, x)
        tracker.finish()
        return theta, x, noise[ok]
