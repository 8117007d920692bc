"""Wrapping a user's plain function as a :class:`~sbinn.simulator.Simulator` in one call.

The function may be written with numpy or torch, for a batch ``(n, d)`` or for one parameter
vector ``(d,)``; per-vector functions are batched by a loop here. If it accepts an ``rng``
argument it receives a generator derived from the run's seed. Functions that draw from the
global numpy or torch random state (and take no ``rng``) are made reproducible too: each
call runs with those global states seeded from the run's generator, and restored afterwards.

Examples:
    >>> import numpy as np
    >>> from sbinn.priors import JointPrior, Normal
    >>> prior = JointPrior({"mu": Normal(0.0, 1.0)})
    >>> noisy = FunctionSimulator(lambda theta: theta + np.random.normal(size=theta.shape), prior)
    >>> bool(np.all(noisy.sample_joint(3, seed=1)[1] == noisy.sample_joint(3, seed=1)[1]))
    True
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Iterator, Sequence
from typing import Literal

import numpy as np

from sbinn._validation import to_numpy
from sbinn.priors import Prior
from sbinn.simulator import Simulator, SimulatorOutputShapeError, check_prior

__all__ = ["FunctionSimulator"]


@contextlib.contextmanager
def _seeded_global_state(rng: np.random.Generator) -> Iterator[None]:
    """Seed numpy's and torch's global generators from ``rng``; restore them on exit."""
    import torch

    numpy_seed, torch_seed = rng.integers(2**32, size=2)
    # The legacy global API is the point here: user code calling np.random.* reads it.
    numpy_state = np.random.get_state()  # noqa: NPY002
    with torch.random.fork_rng(devices=[]):
        np.random.seed(int(numpy_seed))  # noqa: NPY002
        torch.manual_seed(int(torch_seed))
        try:
            yield
        finally:
            np.random.set_state(numpy_state)  # noqa: NPY002


Backend = Literal["auto", "numpy", "torch"]


class FunctionSimulator(Simulator):
    """Wrap a plain function ``f(theta) -> x`` (or ``f(theta, rng) -> x``) as a Simulator.

    Args:
        function: The forward model. If it has a parameter named ``rng`` it gets
            a numpy Generator (numpy backend) or a torch Generator (torch backend).
        prior: Prior over the parameters.
        observation_shape: Shape of one observation; inferred from a probe run
            on two prior draws when omitted.
        observation_names: Names of the observation components.
        vectorized: True if ``function`` takes a batch ``(n, d)``; False if it
            takes one vector ``(d,)``, in which case sbinn loops for you.
        backend: ``"numpy"``, ``"torch"`` or ``"auto"`` (numpy first, then torch).
        name: Name used in messages and records (default: the function's name).
        version: Version string recorded with simulations.
        max_failure_fraction: Largest tolerated fraction of failed simulations.

    Examples:
        >>> import torch
        >>> from sbinn.priors import JointPrior, Normal
        >>> prior = JointPrior({"a": Normal(0, 1), "b": Normal(0, 1)})
        >>> sim = FunctionSimulator(lambda t: torch.stack([t[0] + t[1], t[0] * t[1]]), prior,
        ...                         vectorized=False, backend="torch")
        >>> sim.observation_shape
        (2,)
    """

    def __init__(
        self,
        function: Callable[..., object],
        prior: Prior,
        *,
        observation_shape: int | Sequence[int] | None = None,
        observation_names: Sequence[str] | None = None,
        vectorized: bool = True,
        backend: Backend = "auto",
        name: str | None = None,
        version: str = "0",
        max_failure_fraction: float = 0.1,
    ) -> None:
        if not callable(function):
            raise TypeError(f"function must be callable, got {type(function).__name__}")
        if backend not in ("auto", "numpy", "torch"):
            raise ValueError(f"backend must be 'auto', 'numpy' or 'torch', got {backend!r}")
        check_prior(prior)
        self.function = function
        self.vectorized = bool(vectorized)
        self.name = name or getattr(function, "__name__", "simulator")
        self.version = version
        self._rng_kind = _rng_kind(function)
        self.backend = backend
        if observation_shape is None or backend == "auto":
            probe_shape = self._probe(prior)
            if observation_shape is None:
                observation_shape = probe_shape
        super().__init__(
            prior,
            observation_shape,
            observation_names,
            max_failure_fraction=max_failure_fraction,
        )

    def _probe(self, prior: Prior) -> tuple[int, ...]:
        theta = prior.sample(2, np.random.default_rng(0))
        backends = ("numpy", "torch") if self.backend == "auto" else (self.backend,)
        first_error: Exception | None = None
        for backend in backends:
            try:
                out = to_numpy(self._call(theta, np.random.default_rng(0), backend))
            except Exception as error:
                first_error = first_error or error
                continue
            self.backend = backend
            return tuple(out.shape[1:]) or (1,)
        raise TypeError(
            f"probing simulator {self.name!r} on two prior draws failed with backend(s) "
            f"{backends}: {type(first_error).__name__}: {first_error}. Pass observation_shape "
            "and backend explicitly if the function cannot run on prior draws."
        ) from first_error

    def _call(self, theta: np.ndarray, rng: np.random.Generator, backend: str) -> object:
        if backend == "torch":
            import torch

            inputs = torch.as_tensor(theta, dtype=torch.get_default_dtype())
            generator = torch.Generator().manual_seed(int(rng.integers(2**62)))
        else:
            inputs, generator = theta, rng
        args = (generator,) if self._rng_kind == "positional" else ()
        kwargs = {"rng": generator} if self._rng_kind == "keyword" else {}
        # A function given its own generator keeps that stream untouched; one without it can
        # only draw from the global states, which are then seeded from the run's generator.
        scope = _seeded_global_state(rng) if self._rng_kind is None else contextlib.nullcontext()
        with scope:
            if self.vectorized:
                return self.function(inputs, *args, **kwargs)
            return _stack_rows([self.function(row, *args, **kwargs) for row in inputs])

    def _simulate(self, theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return to_numpy(self._call(theta, rng, self.backend))

    def settings(self) -> dict:
        return super().settings() | {"vectorized": self.vectorized, "backend": self.backend}


def _rng_kind(function: Callable[..., object]) -> Literal["positional", "keyword"] | None:
    """How to pass the generator to ``function``: by keyword ``rng``, by position, or not at all.

    A positional-only ``rng`` is passed by position, any other by keyword, so that
    ``f(theta, scale=1.0, rng=None)`` gets the generator in ``rng``, not in ``scale``.
    """
    try:
        parameter = inspect.signature(function).parameters.get("rng")
    except (TypeError, ValueError):
        return None
    if parameter is None:
        return None
    if parameter.kind is inspect.Parameter.POSITIONAL_ONLY:
        return "positional"
    if parameter.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY):
        return "keyword"
    return None


def _stack_rows(rows: list[object]) -> np.ndarray:
    arrays = [np.atleast_1d(to_numpy(r)) for r in rows]
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise SimulatorOutputShapeError(
            f"simulator returned observations of different shapes for different rows: {shapes}"
        )
    return np.stack(arrays) if arrays else np.empty((0, 1))
