"""Export posterior samples, observations and re-simulations to an :class:`arviz.InferenceData`.

Layout. Every parameter is one variable of the ``posterior`` group, named after
the parameter, with dimensions ``(chain, draw)`` for samples of one observation,
``(num_samples, dim_theta)``, and ``(chain, draw, observation)`` for samples of
several, ``(n_obs, num_samples, dim_theta)``. Observations are a dimension, not
chains: each has its own posterior, and ``az.summary`` then has one row per
parameter and observation (``"mu[0]"``, ``"mu[1]"``, ...), while
``idata.posterior.sel(observation=3)`` is one observation's posterior. There is
a single chain: the samples of an amortised posterior (or ABC) are independent
draws, not Markov chains, so ``az.summary`` reports the effective sample size
but leaves ``r_hat`` as NaN, as it needs at least two chains.

The observations are one variable ``x`` in ``observed_data``, dimensions
``([observation,] x_dim_0[, x_dim_1, ...])``; for flat observations the
coordinate of ``x_dim_0`` holds the observation names. ``posterior_predictive``
holds the same variable with ``(chain, draw)`` in front: the simulation of the
posterior draw with the same index, so ``az.plot_ppc`` compares them directly.
Failed simulations are NaN there; their number is the group's attribute
``num_failed_simulations``. The ``prior`` group holds prior samples with
dimensions ``(chain, draw)``.

Examples:
    >>> rng = np.random.default_rng(0)
    >>> idata = to_inference_data(rng.normal(size=(2, 100, 2)), parameter_names=["mu", "sigma"],
    ...                           x_obs=rng.normal(size=(2, 3)))
    >>> sorted(idata.groups())
    ['observed_data', 'posterior']
    >>> dict(idata.posterior.sizes)
    {'chain': 1, 'draw': 100, 'observation': 2}
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime

import arviz as az
import numpy as np
import xarray as xr

import sbinn
from sbinn._validation import (
    as_2d_float_array,
    as_samples_array,
    check_positive_int,
    resolve_parameter_names,
    to_numpy,
)
from sbinn.simulator import (
    SeedLike,
    SimulationError,
    SimulationFailureWarning,
    Simulator,
    as_generator,
)

__all__ = ["OBSERVATION_VARIABLE", "to_inference_data"]

OBSERVATION_VARIABLE = "x"
_SAMPLE_DIMS = ("chain", "draw")


def _attrs() -> dict:
    return {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "inference_library": "sbinn",
        "inference_library_version": sbinn.__version__,
    }


def _check_samples(samples: object) -> tuple[np.ndarray, bool]:
    """Samples as ``(n_obs, num_samples, dim)``, and whether one observation was given as 2-D."""
    array = to_numpy(samples)
    single = array.ndim == 2
    if array.ndim not in (2, 3):
        raise ValueError(
            "samples must have shape (num_samples, dim_theta) for one observation or "
            f"(n_obs, num_samples, dim_theta) for several, got shape {array.shape}"
        )
    return as_samples_array(array[None] if single else array), single


def _observation_dims(shape: tuple[int, ...], names: Sequence[str] | None) -> tuple[tuple, dict]:
    dims = tuple(f"{OBSERVATION_VARIABLE}_dim_{i}" for i in range(len(shape)))
    coords: dict = {dim: np.arange(size) for dim, size in zip(dims, shape, strict=True)}
    if names is not None:
        if isinstance(names, str):
            raise TypeError(f"observation_names must be a sequence of strings, got str {names!r}")
        names = [str(n) for n in names]
        if len(shape) != 1 or len(names) != shape[0]:
            raise ValueError(
                f"observation_names must name the {shape[0] if len(shape) == 1 else '?'} "
                f"components of flat observations of shape {shape}, got {len(names)} names"
            )
        coords[dims[0]] = names
    return dims, coords


def _check_x_obs(
    x_obs: object, n_obs: int, single: bool, shape: tuple[int, ...] | None
) -> np.ndarray:
    """Observations as ``(n_obs, *observation_shape)``."""
    x = np.asarray(to_numpy(x_obs), dtype=np.float64)
    expected = "(*observation_shape)" if single else "(n_obs, *observation_shape)"
    if single and (shape is not None or x.ndim < 2 or x.shape[0] != 1):
        x = x[None]
    if x.ndim < 2 or x.shape[0] != n_obs:
        raise ValueError(
            f"x_obs must have shape {expected} with n_obs = {n_obs} as in samples, "
            f"got shape {np.shape(x_obs)}"
        )
    if shape is not None:
        if math.prod(x.shape[1:]) != math.prod(shape):
            raise ValueError(
                f"x_obs must hold observations of shape {shape} (that of the simulator or of "
                f"posterior_predictive), got shape {np.shape(x_obs)}"
            )
        x = x.reshape(n_obs, *shape)
    if not np.all(np.isfinite(x)):
        raise ValueError("x_obs must be finite, got NaN or inf")
    return x


def _check_simulator(simulator: object, dim: int, posterior_predictive: object) -> None:
    if not isinstance(simulator, Simulator):
        raise TypeError(
            "simulator must be an sbinn Simulator (wrap a plain function with "
            f"sbinn.FunctionSimulator), got {type(simulator).__name__}"
        )
    if posterior_predictive is not None:
        raise ValueError("pass either simulator or posterior_predictive, not both")
    if simulator.dim_parameters != dim:
        raise ValueError(
            f"samples have dim_theta={dim}, but the simulator takes "
            f"{simulator.dim_parameters} parameters {simulator.parameter_names}"
        )


def _simulate(
    samples: np.ndarray,
    simulator: Simulator,
    num_predictive: int | None,
    seed: SeedLike,
    chunk_size: int,
) -> tuple[np.ndarray, int]:
    """Simulations ``(n_obs, draws, *observation_shape)`` of the first posterior draws."""
    n_obs, num_samples, dim = samples.shape
    draws = num_samples if num_predictive is None else min(num_predictive, num_samples)
    theta = samples[:, :draws].reshape(-1, dim)
    rng = as_generator(seed)
    chunks = [
        simulator.simulate(theta[start : start + chunk_size], rng)
        for start in range(0, theta.shape[0], chunk_size)
    ]
    simulated = np.concatenate(chunks, axis=0)
    num_failed = int((~simulator.valid_mask(simulated)).sum())
    if num_failed == simulated.shape[0]:
        raise SimulationError(f"all {num_failed} posterior predictive simulations failed")
    if num_failed:
        warnings.warn(
            f"{num_failed} of {simulated.shape[0]} posterior predictive simulations of "
            f"{simulator.name!r} failed (NaN, inf or an exception); they are NaN in "
            "posterior_predictive",
            SimulationFailureWarning,
            stacklevel=3,
        )
    return simulated.reshape(n_obs, draws, *simulator.observation_shape), num_failed


def _check_predictive(predictive: object, n_obs: int, single: bool) -> np.ndarray:
    array = np.asarray(to_numpy(predictive), dtype=np.float64)
    if single:
        array = array[None]
    if array.ndim < 3 or array.shape[0] != n_obs:
        expected = (
            "(num_draws, *observation_shape)"
            if single
            else "(n_obs, num_draws, *observation_shape)"
        )
        raise ValueError(
            f"posterior_predictive must have shape {expected} with n_obs = {n_obs} as in "
            f"samples, got shape {np.shape(predictive)}"
        )
    return array


class _Layout:
    """Where the observations go: a dimension after the draws, or nowhere for one (2-D) input."""

    def __init__(self, single: bool, n_obs: int) -> None:
        self.single = single
        self.lead: tuple[str, ...] = () if single else ("observation",)
        self.coords: dict = {"chain": [0], "observation": np.arange(n_obs)}

    def take(self, array: np.ndarray) -> np.ndarray:
        """``(n_obs, ...)`` as stored: without its first axis for one observation."""
        return array[0] if self.single else array

    def sample_major(self, array: np.ndarray) -> np.ndarray:
        """``(n_obs, draws, ...)`` to ``(chain=1, draws[, n_obs], ...)``."""
        return self.take(array)[None] if self.single else np.moveaxis(array, 0, 1)[None]


def _dataset(variables: dict[str, tuple[tuple, np.ndarray]], coords: dict) -> xr.Dataset:
    used = {dim for dims, _ in variables.values() for dim in dims}
    return xr.Dataset(
        variables, coords={k: v for k, v in coords.items() if k in used}, attrs=_attrs()
    )


def to_inference_data(
    samples: object,
    *,
    x_obs: object = None,
    parameter_names: Sequence[str] | None = None,
    observation_names: Sequence[str] | None = None,
    prior_samples: object = None,
    simulator: Simulator | None = None,
    posterior_predictive: object = None,
    num_predictive: int | None = None,
    seed: SeedLike = 0,
    chunk_size: int = 100_000,
) -> az.InferenceData:
    """Posterior samples (and optionally prior, observations, re-simulations) as InferenceData.

    See the module docstring for the layout of the groups.

    Args:
        samples: Posterior samples, ``(num_samples, dim_theta)`` for one observation or
            ``(n_obs, num_samples, dim_theta)`` for several (adds the ``observation`` dimension).
        x_obs: Observations for ``observed_data``: ``(*observation_shape)`` (or with a leading
            1) for one observation, ``(n_obs, *observation_shape)`` for several.
        parameter_names: Variable names of the parameters; default the simulator's
            names if one is given, else ``theta_1``, ....
        observation_names: Coordinate values of ``x_dim_0`` for flat observations;
            default the simulator's names if one is given, else ``0, 1, ...``.
        prior_samples: Prior samples ``(num_prior_samples, dim_theta)`` for the ``prior`` group.
        simulator: Simulator to re-simulate posterior draws for ``posterior_predictive``.
        posterior_predictive: Precomputed simulations instead of ``simulator``:
            ``(num_draws, *observation_shape)`` or ``(n_obs, num_draws, *observation_shape)``.
        num_predictive: Re-simulate only the first this many draws of each observation
            (default all); re-simulation costs one simulation per draw.
        seed: Seed or Generator for the simulator's noise.
        chunk_size: Largest number of rows per ``simulate`` call (bounds memory).

    Returns:
        An :class:`arviz.InferenceData` with ``posterior`` and, where their inputs are
        given, ``prior``, ``observed_data`` and ``posterior_predictive``.

    Raises:
        ValueError: on wrong shapes, NaN/inf in samples or observations, or both
            ``simulator`` and ``posterior_predictive``.
        SimulationError: if every posterior predictive simulation failed.

    Examples:
        >>> from sbinn.function_simulator import FunctionSimulator
        >>> from sbinn.priors import JointPrior, Normal
        >>> simulator = FunctionSimulator(lambda t: np.hstack([t, 2 * t]),
        ...                               JointPrior({"a": Normal(0.0, 1.0)}),
        ...                               observation_names=["y", "z"])
        >>> rng = np.random.default_rng(0)
        >>> idata = to_inference_data(rng.normal(size=(200, 1)), x_obs=[0.1, 0.2],
        ...                           simulator=simulator, num_predictive=50)
        >>> idata.posterior_predictive["x"].dims, idata.posterior_predictive["x"].shape
        (('chain', 'draw', 'x_dim_0'), (1, 50, 2))
        >>> list(az.summary(idata, kind="stats").index)
        ['a']
    """
    samples, single = _check_samples(samples)
    n_obs, num_samples, dim = samples.shape
    if simulator is not None:
        _check_simulator(simulator, dim, posterior_predictive)
        if parameter_names is None:
            parameter_names = simulator.parameter_names
    names = resolve_parameter_names(parameter_names, dim)
    if num_predictive is not None:
        num_predictive = check_positive_int(num_predictive, "num_predictive")
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    shape = None
    if simulator is not None:
        shape = simulator.observation_shape
        if observation_names is None and len(shape) == 1:
            observation_names = simulator.observation_names

    layout = _Layout(single, n_obs)
    groups = {
        "posterior": _dataset(
            {
                n: ((*_SAMPLE_DIMS, *layout.lead), layout.sample_major(samples)[..., k])
                for k, n in enumerate(names)
            },
            layout.coords | {"draw": np.arange(num_samples)},
        )
    }
    if prior_samples is not None:
        prior = as_2d_float_array(prior_samples, dim, "prior_samples")
        groups["prior"] = _dataset(
            {n: (_SAMPLE_DIMS, prior[None, :, k]) for k, n in enumerate(names)},
            {"chain": [0], "draw": np.arange(prior.shape[0])},
        )

    predictive, num_failed = None, None
    if simulator is not None:
        predictive, num_failed = _simulate(samples, simulator, num_predictive, seed, chunk_size)
    elif posterior_predictive is not None:
        predictive = _check_predictive(posterior_predictive, n_obs, single)
        failed = ~np.isfinite(predictive.reshape(*predictive.shape[:2], -1)).all(axis=-1)
        num_failed = int(failed.sum())
        shape = predictive.shape[2:]
    x = None if x_obs is None else _check_x_obs(x_obs, n_obs, single, shape)
    if x is not None:
        shape = x.shape[1:]
    if shape is None:
        if observation_names is not None:
            raise ValueError(
                "observation_names name the components of x_obs or posterior_predictive, "
                "but neither was given"
            )
        return az.InferenceData(**groups)

    x_dims, x_coords = _observation_dims(tuple(shape), observation_names)
    coords = layout.coords | x_coords
    if x is not None:
        groups["observed_data"] = _dataset(
            {OBSERVATION_VARIABLE: ((*layout.lead, *x_dims), layout.take(x))}, coords
        )
    if predictive is not None:
        groups["posterior_predictive"] = _dataset(
            {
                OBSERVATION_VARIABLE: (
                    (*_SAMPLE_DIMS, *layout.lead, *x_dims),
                    layout.sample_major(predictive),
                )
            },
            coords | {"draw": np.arange(predictive.shape[1])},
        )
        groups["posterior_predictive"].attrs["num_failed_simulations"] = num_failed
    return az.InferenceData(**groups)
