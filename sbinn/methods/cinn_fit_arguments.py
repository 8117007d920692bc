"""Which data sources :meth:`~sbinn.methods.cinn.CINN.fit` was given, checked in one place.

Examples:
    >>> check_fit_arguments([[0.0]], [[1.0]], None, None, False, None, None) is None
    True
    >>> check_fit_arguments([[0.0]], [[1.0]], None, 10, False, None, None)
    Traceback (most recent call last):
    ...
    ValueError: online, simulations_per_epoch and num_simulations need simulator=...
    >>> check_fit_arguments([[0.0]], [[1.0]], None, None, False, None, None, fresh_noise=True)
    Traceback (most recent call last):
    ...
    ValueError: fresh_noise=True needs simulator=..., the simulator that observes the signals
"""

from __future__ import annotations

from sbinn._validation import check_positive_int
from sbinn.fresh_noise import check_fresh_noise_arguments
from sbinn.methods._estimator import check_data_source

__all__ = ["check_fit_arguments"]


def check_fit_arguments(
    theta: object,
    x: object,
    simulator: object,
    num_simulations: object,
    online: bool,
    per_epoch: object,
    store: object,
    *,
    fresh_noise: bool = False,
    signal: object = None,
) -> int | None:
    """Check how ``fit`` was called; return the simulations per epoch, if streamed."""
    if fresh_noise or signal is not None:
        if online or store is not None:
            raise ValueError(
                "fresh_noise=True redraws the noise of a fixed set of simulations; online and "
                "store=... training already see new simulations (or chunks) each epoch"
            )
        check_fresh_noise_arguments(theta, x, simulator, fresh_noise, signal)
        if signal is not None:
            # The simulator only observes the given signals: (theta, x) are the data.
            simulator = None
    if store is not None:
        from sbinn.store import SimulationStore

        if not isinstance(store, SimulationStore):
            raise TypeError(f"store must be a SimulationStore, got {type(store).__name__}")
        given = [
            name
            for name, value in (("theta", theta), ("x", x), ("simulator", simulator))
            if value is not None
        ]
        if given or online or num_simulations is not None:
            raise ValueError(
                "store=... is the whole data source: pass no theta, x, simulator, "
                f"num_simulations or online (got {given + ['online'] * bool(online)})"
            )
        store.check_complete()
        if len(store) == 0:
            raise ValueError(f"store {store.path} holds no simulations yet; fill() it first")
        if per_epoch is None:
            return None
        return check_positive_int(per_epoch, "simulations_per_epoch")
    if simulator is None and (online or per_epoch is not None or num_simulations is not None):
        raise ValueError("online, simulations_per_epoch and num_simulations need simulator=...")
    check_data_source(theta, x, simulator)
    if simulator is None:
        return None
    num_simulations = check_positive_int(num_simulations, "num_simulations")
    if not online:
        if per_epoch is not None:
            raise ValueError("simulations_per_epoch is for online=True training")
        return None
    per_epoch = check_positive_int(per_epoch, "simulations_per_epoch")
    if per_epoch > num_simulations:
        raise ValueError(
            f"simulations_per_epoch ({per_epoch}) must not exceed num_simulations "
            f"({num_simulations})"
        )
    return per_epoch
