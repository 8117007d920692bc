"""Counting, dropping and reporting failed simulations.

A simulation fails when it raises or returns NaN or inf; :meth:`Simulator.simulate
<sbinn.simulator.Simulator.simulate>` turns such rows into NaN. Every consumer in sbinn
(in-memory runs, chunked and distributed runs, the on-disk store, SMC-ABC) passes its
batches through one :class:`FailureTracker`, so that a run reports its failures once,
however many chunks it had: a warning with the count, an example parameter vector and the
exception behind it, or :class:`SimulationError` when more than the simulator's
``max_failure_fraction`` failed. :mod:`sbinn.simulator` re-exports these names.

Examples:
    A square root fails on the part of the prior below zero (about 5% of the draws, under
    the default ``max_failure_fraction`` of 10%); the run drops those rows and warns once
    at its end:

    >>> import warnings
    >>> import numpy as np
    >>> from sbinn.function_simulator import FunctionSimulator
    >>> from sbinn.priors import JointPrior, Uniform
    >>> sim = FunctionSimulator(np.sqrt, JointPrior({"a": Uniform(-0.05, 1.0)}))
    >>> with warnings.catch_warnings(record=True) as caught, np.errstate(invalid="ignore"):
    ...     warnings.simplefilter("always")
    ...     theta, x = sim.sample_joint(1000, seed=0)
    >>> bool((theta >= 0).all()), 930 < len(theta) < 975
    (True, True)
    >>> [w.category.__name__ for w in caught]
    ['SimulationFailureWarning']
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sbinn.simulator import Simulator

__all__ = ["FailureTracker", "SimulationError", "SimulationFailureWarning"]

# Below this many simulations a high failure fraction is too noisy to abort on early.
_EARLY_ABORT_MIN_SIMULATIONS = 1000


class SimulationError(RuntimeError):
    """Raised when too many simulations fail or the simulator is unusable."""


class SimulationFailureWarning(UserWarning):
    """Issued once per run when some simulations failed and were dropped."""


class FailureTracker:
    """Counts failed simulations across chunks, drops them, and reports once.

    Examples:
        >>> import numpy as np
        >>> from sbinn.function_simulator import FunctionSimulator
        >>> from sbinn.priors import JointPrior, Uniform
        >>> sim = FunctionSimulator(lambda t: 1 / t, JointPrior({"a": Uniform(0, 1)}))
        >>> tracker = FailureTracker(sim)
        >>> theta, x = tracker.filter(np.array([[0.5], [0.0]]), np.array([[2.0], [np.inf]]))
        >>> theta.tolist(), tracker.num_failed, tracker.num_total
        ([[0.5]], 1, 2)
    """

    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator
        self.num_total = 0
        self.num_failed = 0
        self.example_theta: np.ndarray | None = None
        self.example_error: BaseException | None = None

    def filter(
        self, theta: np.ndarray, x: np.ndarray, error: BaseException | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Drop the failed rows of a chunk, remembering one example.

        ``error`` is an exception behind the failures, when the chunk ran elsewhere; by
        default the simulator's ``last_exception``.
        """
        ok = self.simulator.valid_mask(x)
        self.num_total += ok.size
        failed = ok.size - int(ok.sum())
        if failed:
            self.num_failed += failed
            if self.example_theta is None:
                self.example_theta = theta[~ok][0]
                self.example_error = error or self.simulator.last_exception
            if self.num_total >= _EARLY_ABORT_MIN_SIMULATIONS:
                self._raise_if_too_many()
        return theta[ok], x[ok]

    @property
    def failed_fraction(self) -> float:
        """Fraction of simulations so far that failed."""
        return self.num_failed / self.num_total if self.num_total else 0.0

    def _describe(self) -> str:
        cause = ""
        if self.example_error is not None:
            cause = (
                f"; an exception seen: {type(self.example_error).__name__}: {self.example_error}"
            )
        example = None if self.example_theta is None else self.example_theta.tolist()
        return (
            f"{self.num_failed} of {self.num_total} simulations of {self.simulator.name!r} "
            f"failed (NaN, inf or an exception), e.g. at theta={example}{cause}"
        )

    def _raise_if_too_many(self) -> None:
        limit = self.simulator.max_failure_fraction
        if self.failed_fraction > limit:
            raise SimulationError(
                f"{self._describe()}. That is more than max_failure_fraction={limit}."
            ) from self.example_error

    def finish(self) -> None:
        """Raise if too many simulations failed, otherwise warn once if any did."""
        if not self.num_failed:
            return
        self._raise_if_too_many()
        warnings.warn(
            f"{self._describe()}. They were dropped.", SimulationFailureWarning, stacklevel=2
        )
