"""Fresh observation noise on fixed simulations: the same noise-free runs, new noise each epoch.

Many simulators are an expensive deterministic model followed by cheap measurement noise:
the tissue model solves radiative transfer, then the camera adds noise. A network trained on
a fixed set of noisy simulations can memorise each run's single noise draw (the tissue cINN
did, at the thesis' 15 000 simulations). Redrawing the noise every epoch shows it a new
noisy observation of the same run, at no extra simulation cost; the likelihood it learns
from is unchanged, because the noise is the simulator's own.

A simulator takes part by implementing two methods besides ``noise_dimension > 0``:

- ``simulate_signal(theta) -> signal``: the noise-free output, ``(n, *signal_shape)``
  (``signal_shape`` defaults to ``observation_shape``);
- ``observe_signal(signal, noise) -> x``: the observation of ``signal`` with the standard
  normal draws ``noise`` ``(n, noise_dimension)``, such that ``simulate_with_noise``
  equals ``observe_signal(simulate_signal(theta), noise)``.

Examples:
    >>> from simulators.tissue import MultispectralCamera, TissueSimulator
    >>> sim = TissueSimulator("colon", camera=MultispectralCamera(snr=10.0))
    >>> theta, x, noise, signal = simulate_with_signal(sim, 4, seed=0)
    >>> observe = fresh_observations(sim, x, signal, seed=0)
    >>> bool(np.array_equal(observe(0)[0], x)), bool(np.array_equal(observe(1)[0], x))
    (True, False)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sbinn._validation import as_2d_float_array
from sbinn.simulation_stream import run_simulations
from sbinn.simulator import SeedLike, Simulator, as_generator

__all__ = [
    "check_fresh_noise_arguments",
    "check_separable_noise",
    "fresh_observations",
    "has_separable_noise",
    "simulate_with_signal",
]


def has_separable_noise(simulator: object) -> bool:
    """Whether ``simulator`` splits into a noise-free signal and cheap noise (see above)."""
    return (
        isinstance(simulator, Simulator)
        and simulator.noise_dimension > 0
        and callable(getattr(simulator, "simulate_signal", None))
        and callable(getattr(simulator, "observe_signal", None))
    )


def check_separable_noise(simulator: object) -> Simulator:
    """Return ``simulator``, or raise if it cannot redraw its noise on fixed simulations.

    Raises:
        TypeError: if ``simulator`` is not an sbinn Simulator.
        ValueError: if it has no noise or lacks ``simulate_signal``/``observe_signal``.
    """
    if not isinstance(simulator, Simulator):
        raise TypeError(f"simulator must be an sbinn Simulator, got {type(simulator).__name__}")
    if not has_separable_noise(simulator):
        raise ValueError(
            f"fresh noise needs a simulator with noise_dimension > 0 and the methods "
            f"simulate_signal and observe_signal; {simulator.name!r} has noise_dimension "
            f"{simulator.noise_dimension} and "
            f"{'has' if hasattr(simulator, 'simulate_signal') else 'lacks'} simulate_signal"
        )
    return simulator


class _ObservationParts(Simulator):
    """``simulator`` seen as one flat output per run: ``[x, noise, signal]``.

    Run through :func:`~sbinn.simulation_stream.run_simulations`, it keeps the chunked
    seeding, parallel backends and failure handling, and draws the noise from the same stream
    as ``simulate_with_noise``, so ``x`` is bit-identical to a ``with_noise=True`` run.
    """

    def __init__(self, simulator: Simulator) -> None:
        self.parent = simulator
        self.signal_shape = tuple(getattr(simulator, "signal_shape", simulator.observation_shape))
        self.sizes = (
            simulator.dim_observations,
            simulator.noise_dimension,
            int(np.prod(self.signal_shape)),
        )
        super().__init__(
            simulator.prior,
            sum(self.sizes),
            max_failure_fraction=simulator.max_failure_fraction,
        )
        self.name = simulator.name

    def simulate(self, theta: np.ndarray, rng: SeedLike = None) -> np.ndarray:
        # The draws come first and once, as in ``simulate_with_noise``, so rows re-run one by
        # one after a failure keep their draws.
        theta = as_2d_float_array(theta, self.dim_parameters, "theta")
        noise = as_generator(rng).standard_normal((theta.shape[0], self.parent.noise_dimension))
        return self._run(theta, lambda rows: self._parts(theta[rows], noise[rows]))

    def _simulate(self, theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        noise = rng.standard_normal((theta.shape[0], self.parent.noise_dimension))
        return self._parts(theta, noise)

    def _parts(self, theta: np.ndarray, noise: np.ndarray) -> np.ndarray:
        signal = np.asarray(self.parent.simulate_signal(theta), dtype=np.float64)
        x = np.asarray(self.parent.observe_signal(signal, noise), dtype=np.float64)
        n = theta.shape[0]
        return np.concatenate([x.reshape(n, -1), noise, signal.reshape(n, -1)], axis=1)

    def valid_mask(self, parts: np.ndarray) -> np.ndarray:
        x = parts[:, : self.sizes[0]].reshape(-1, *self.parent.observation_shape)
        return self.parent.valid_mask(x) & np.all(np.isfinite(parts), axis=1)

    def split(self, parts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = parts.shape[0]
        x, noise, signal = np.split(parts, np.cumsum(self.sizes[:2]), axis=1)
        return (
            x.reshape(n, *self.parent.observation_shape),
            noise,
            signal.reshape(n, *self.signal_shape),
        )


def simulate_with_signal(
    simulator: Simulator, num_simulations: int, *, seed: int, **run_options: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Prior simulations with their noise draws and noise-free signals; failed runs dropped.

    ``theta``, ``x`` and ``noise`` equal those of ``run_simulations(simulator, n, seed=seed,
    with_noise=True, ...)`` with the same options.

    Args:
        simulator: A simulator with separable noise (:func:`check_separable_noise`).
        num_simulations: Simulations to run.
        seed: Seed of the chunked draws.
        **run_options: Further arguments of :func:`~sbinn.simulation_stream.run_simulations`.

    Returns:
        ``(theta, x, noise, signal)``.
    """
    parts_view = _ObservationParts(check_separable_noise(simulator))
    theta, parts = run_simulations(parts_view, num_simulations, seed=seed, **run_options)
    return (theta, *parts_view.split(parts))


def fresh_observations(
    simulator: Simulator, x: np.ndarray, signal: np.ndarray, *, seed: int
) -> Callable[[int], tuple[np.ndarray, np.ndarray | None]]:
    """A function of the epoch giving ``(x, noise)``: ``x`` as given (and ``None``) in epoch
    0, then the same signals observed with standard-normal draws seeded by ``(seed, epoch)``,
    and those draws.

    Raises:
        ValueError: if ``x`` and ``signal`` differ in rows, or on non-finite signals.
    """
    simulator = check_separable_noise(simulator)
    signal = np.asarray(signal, dtype=np.float64)
    if len(x) != len(signal):
        raise ValueError(
            f"x and signal need the same number of rows, got {len(x)} and {len(signal)}"
        )
    if not np.all(np.isfinite(signal)):
        raise ValueError("signal must be finite: drop the failed simulations first")

    def observe(epoch: int) -> tuple[np.ndarray, np.ndarray | None]:
        if epoch == 0:
            return x, None
        rng = np.random.default_rng([seed, epoch])
        noise = rng.standard_normal((len(signal), simulator.noise_dimension))
        return np.asarray(simulator.observe_signal(signal, noise), dtype=np.float64), noise

    return observe


def check_fresh_noise_arguments(
    theta: object, x: object, simulator: object, fresh_noise: bool, signal: object
) -> None:
    """Check the ``fresh_noise``/``signal`` arguments of an estimator's ``fit``.

    Fresh noise needs ``simulator`` (which observes the signals) and either
    ``num_simulations`` (the estimator simulates the signals) or ``theta``, ``x`` and their
    ``signal``.

    Raises:
        ValueError: for a combination that cannot work, saying what is missing.
    """
    if not fresh_noise:
        raise ValueError("signal=... is only used with fresh_noise=True")
    if simulator is None:
        raise ValueError(
            "fresh_noise=True needs simulator=..., the simulator that observes the signals"
        )
    check_separable_noise(simulator)
    given = theta is not None or x is not None
    if given and (theta is None or x is None or signal is None):
        raise ValueError(
            "with fresh_noise=True pass simulator=... with num_simulations, or theta, x, "
            "their noise-free signal=... and simulator=..."
        )
