r"""The stability checks for a trained bidirectional INN or cINN, as one JSON-friendly dict.

Both estimators hold an :class:`~sbinn.nn.InvertibleNetwork` that works in standardised
units. The summary runs the checks in those units at two sets of points:

- **training**: reference pairs :math:`(\theta, x)` from the training distribution, mapped
  to the network's input exactly as in training (parameter support, standardisation,
  padding: zeros for the INN, standard-normal draws for the cINN and for the INN's latent
  noise draws when none are given). Round trips start on both sides (:math:`u` and
  :math:`f(u)`), Jacobians are taken forward at :math:`u` and inverse at :math:`f(u)`, and
  every block's log-determinant is summarised at :math:`u`.
- **samples**: the points the sampler feeds to the inverse for the first
  ``max_observations`` observations, ``samples_per_observation`` each: ``[y*, z, 0]`` with
  :math:`z` drawn from the INN's latent (:math:`\mathcal{N}(0, I)`, or its learned mixture
  or Student-t), :math:`z \sim \mathcal{N}(0, I)` with the
  observation's condition for the cINN. Round trips start there; the inverse Jacobian is
  taken there.

The reliability flags compare the samples' round-trip errors and condition numbers with the
training points' (rule in :mod:`sbinn.diagnostics.stability_checks`).

For an INN whose width exceeds its inputs, the summary also reports the **input padding**
that the inverse returns at the samples (``samples["input_padding"]``): the sampler drops
those columns, so it is the one place where a network that has left the zero-padding slice
shows. In training they hold noise of width ``pad_noise``; a per-sample RMS several times
that means the inverse lands on inputs the network never saw, and its parameter columns are
not to be trusted. Of five tissue INNs (root seed 1, five network seeds) two had a median RMS of
0.043 and 0.049 and a 90% quantile of 0.16 and 0.20, against 0.021-0.024 and 0.036-0.047 for
the others, and scored calibration errors of 4.2% and 4.0% against 1.3-1.5%; the
reliability flags, which watch round trips and condition numbers, flagged none of them.

Examples:
    >>> from simulators.kinematics import KinematicsSimulator
    >>> from sbinn.methods.cinn import CINN, TrainingConfig
    >>> sim = KinematicsSimulator()
    >>> cinn = CINN(num_blocks=2, hidden_features=16, seed=0).fit(
    ...     simulator=sim, num_simulations=500,
    ...     training=TrainingConfig(num_epochs=1, progress=False))
    >>> theta, x = sim.sample_joint(64, seed=1)
    >>> summary = stability_summary(cinn, theta, x, x[:4], samples_per_observation=8)
    >>> summary["samples"]["round_trip_z"]["non_finite_fraction"]
    0.0
    >>> sorted(summary)  # doctest: +NORMALIZE_WHITESPACE
    ['block_log_det', 'method', 'network', 'reliability', 'samples', 'time_s', 'training']
"""

from __future__ import annotations

import time

import numpy as np
import torch

from sbinn._validation import as_2d_float_array, check_positive_int, to_numpy
from sbinn.diagnostics.stability_checks import block_log_dets, reliability_flags
from sbinn.diagnostics.stability_jacobian import jacobian_spectrum
from sbinn.diagnostics.stability_roundtrip import (
    as_network_inputs,
    evaluating,
    round_trip,
)
from sbinn.nn import InvertibleNetwork

__all__ = ["stability_summary"]


def _padded(values: np.ndarray, width: int) -> np.ndarray:
    return np.concatenate([values, np.zeros((len(values), width - values.shape[1]))], axis=1)


def _inn_points(inn, theta, x, x_obs, noise, samples: int, rng: np.random.Generator):
    dims = inn.dims
    theta = as_2d_float_array(theta, dims["theta"], "theta")
    if inn.support is not None:
        theta = inn.support.forward(theta)[0]
    if dims["noise"]:
        if noise is None:
            noise = rng.standard_normal((len(theta), dims["noise"]))
        noise = as_2d_float_array(noise, dims["noise"], "noise")
        if len(noise) != len(theta):
            raise ValueError(
                f"noise needs one row per row of theta ({len(theta)}), got {len(noise)}"
            )
        theta = np.concatenate([theta, noise], axis=1)
    reference = _padded(inn.theta_scaler.transform(theta), dims["width"])
    y = inn.x_scaler.transform(as_2d_float_array(np.reshape(x_obs, (len(x_obs), -1)), None, "x"))
    y = np.repeat(y, samples, axis=0)
    latent = np.concatenate([y, _inn_latents(inn, y, rng)], axis=1)
    return inn.network, reference, None, _padded(latent, dims["width"]), None


def _inn_latents(inn, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The latents the INN's sampler draws for the rows ``y``: standard normal, or from a
    learned latent (a Gaussian mixture weighted by ``y``, a Student-t), exactly as sampled."""
    from sbinn.methods.inn_latents import StandardNormalLatent

    if isinstance(inn.latent, StandardNormalLatent):
        return rng.standard_normal((len(y), inn.dims["z"]))
    latent = inn.latent.eval()
    rows = torch.as_tensor(y, dtype=inn.dtype, device=inn.device)
    generator = torch.Generator(device=inn.device).manual_seed(int(rng.integers(2**62)))
    with torch.no_grad():
        z = latent.sample(rows, 1, generator=generator, hard=True)[:, 0]
    return z.double().cpu().numpy()


def _cinn_points(cinn, theta, x, x_obs, noise, samples: int, rng: np.random.Generator):
    if noise is not None:
        raise ValueError("noise is for a bidirectional INN with latent_noise; a CINN takes none")
    flow = cinn.model.flow
    theta = as_2d_float_array(theta, cinn.dims["theta"], "theta")
    if cinn.support is not None:
        theta = cinn.support.forward(theta)[0]
    reference = cinn.theta_scaler.transform(theta)
    if cinn.dims["pad"]:
        reference = np.concatenate(
            [reference, rng.standard_normal((len(reference), cinn.dims["pad"]))], axis=1
        )
    condition = to_numpy(cinn.conditions(x)).astype(np.float64)
    sample_condition = np.repeat(to_numpy(cinn.conditions(x_obs)), samples, axis=0)
    latent = rng.standard_normal((len(sample_condition), flow.dim))
    return flow, reference, condition, latent, sample_condition.astype(np.float64)


def _points(estimator, theta, x, x_obs, noise, samples, rng):
    # Imported here: the methods import the training loop and networks, which the rest of
    # sbinn.diagnostics does not need.
    from sbinn.methods.cinn import CINN
    from sbinn.methods.inn import BidirectionalINN

    if isinstance(estimator, BidirectionalINN):
        if estimator.network is None:
            raise ValueError("the BidirectionalINN is not trained yet: call fit() or load()")
        return _inn_points(estimator, theta, x, x_obs, noise, samples, rng)
    if isinstance(estimator, CINN):
        if estimator.model is None:
            raise ValueError("the CINN is not trained yet: call fit() or load()")
        return _cinn_points(estimator, theta, x, x_obs, noise, samples, rng)
    raise TypeError(
        "stability_summary needs a trained sbinn BidirectionalINN or CINN, got "
        f"{type(estimator).__name__}"
    )


def _input_padding(estimator, network: InvertibleNetwork, latent: np.ndarray) -> dict | None:
    """Quantiles of the per-sample RMS of the input padding the INN's inverse returns at
    ``latent``; None for a cINN (its padding is drawn, not asked to vanish) and for an INN
    without padding."""
    from sbinn.methods.inn import BidirectionalINN

    if not isinstance(estimator, BidirectionalINN):
        return None
    used = estimator.dims["theta"] + estimator.dims["noise"]
    if network.dim == used:
        return None
    z, _ = as_network_inputs(network, latent, None)
    with evaluating(network), torch.no_grad():
        inputs = network.inverse(z)[0].double().cpu().numpy()
    rms = np.sqrt(np.mean(inputs[:, used:] ** 2, axis=1))
    finite = rms[np.isfinite(rms)]
    summary = dict.fromkeys(("rms_median", "rms_q90", "rms_q99"))
    if finite.size:
        summary = dict(zip(summary, map(float, np.quantile(finite, [0.5, 0.9, 0.99])), strict=True))
    return summary | {
        "non_finite_fraction": float(np.mean(~np.isfinite(rms))),
        "pad_noise": float(estimator.config.pad_noise),
    }


def _images(network: InvertibleNetwork, points: np.ndarray, condition) -> np.ndarray:
    x, c = as_network_inputs(network, points, condition)
    with evaluating(network), torch.no_grad():
        return network(x, c)[0].double().cpu().numpy()


def stability_summary(
    estimator: object,
    theta: object,
    x: object,
    x_obs: object,
    *,
    noise: object = None,
    num_reference: int = 256,
    max_observations: int = 100,
    samples_per_observation: int = 32,
    quantile: float = 0.99,
    max_exceeding: float = 0.1,
    tolerance: float = 10.0,
    seed: int = 0,
) -> dict:
    """Round trips, Jacobian spectra, block log-dets and reliability flags of a trained
    :class:`~sbinn.methods.inn.BidirectionalINN` or :class:`~sbinn.methods.cinn.CINN`.

    Args:
        estimator: The trained estimator; it is only read.
        theta: Reference parameters from the training distribution, ``(n, dim θ)``
            (e.g. the first training simulations, or fresh prior draws).
        x: Their observations, in the layout the estimator was trained on.
        x_obs: Observations whose posterior samples are checked; the first
            ``max_observations`` are used.
        noise: For an INN with ``latent_noise``, the noise draws behind ``x`` ``(n, k)``;
            standard-normal draws when not given.
        num_reference: At most this many reference pairs are used.
        max_observations: At most this many observations are checked.
        samples_per_observation: Latent draws per checked observation.
        quantile: Reference quantile of the reliability rule.
        max_exceeding: Share of an observation's samples that may exceed it.
        tolerance: Factor on the reference quantiles of the reliability rule.
        seed: Seed of the latent and padding draws and of any power iteration.

    Returns:
        ``{"network", "training", "samples", "block_log_det", "reliability", "method",
        "time_s"}``; plain floats, lists and strings, infinite values as ``None``.

    Raises:
        TypeError: if ``estimator`` is neither a BidirectionalINN nor a CINN.
        ValueError: if it is not trained, or on inputs of the wrong shape.
    """
    start = time.perf_counter()
    num_reference = check_positive_int(num_reference, "num_reference")
    max_observations = check_positive_int(max_observations, "max_observations")
    samples = check_positive_int(samples_per_observation, "samples_per_observation")
    if len(theta) != len(x):
        raise ValueError(f"theta and x need the same number of rows, got {len(theta)} and {len(x)}")
    rng = np.random.default_rng(seed)
    theta, x = theta[:num_reference], x[:num_reference]
    noise = None if noise is None else noise[:num_reference]
    x_obs = x_obs[:max_observations]
    network, reference, condition, latent, sample_condition = _points(
        estimator, theta, x, x_obs, noise, samples, rng
    )
    images = _images(network, reference, condition)
    # A training point whose forward image is not finite cannot start a round trip back.
    finite = np.all(np.isfinite(images), axis=1)
    image_condition = None if condition is None else condition[finite]
    spectra = {"seed": seed}
    training = {
        "num_points": len(reference),
        "non_finite_forward_fraction": float(np.mean(~finite)),
        "round_trip_x": round_trip(network, reference, condition, start="x").to_json(),
        "jacobian_forward": jacobian_spectrum(
            network, reference, condition, direction="forward", **spectra
        ).to_json(),
    }
    back = round_trip(network, images[finite], image_condition, start="z")
    back_spectrum = jacobian_spectrum(
        network, images[finite], image_condition, direction="inverse", **spectra
    )
    training["round_trip_z"] = back.to_json()
    training["jacobian_inverse"] = back_spectrum.to_json()
    sample_trip = round_trip(network, latent, sample_condition, start="z")
    sample_spectrum = jacobian_spectrum(
        network, latent, sample_condition, direction="inverse", **spectra
    )
    shape = (len(latent) // samples, samples)
    sample_entry = {
        "num_observations": shape[0],
        "samples_per_observation": samples,
        "round_trip_z": sample_trip.to_json(),
        "jacobian_inverse": sample_spectrum.to_json(),
    }
    padding = _input_padding(estimator, network, latent)
    if padding is not None:
        sample_entry["input_padding"] = padding
    flags = reliability_flags(
        back.errors,
        back_spectrum.condition_number,
        sample_trip.errors.reshape(shape),
        sample_spectrum.condition_number.reshape(shape),
        quantile=quantile,
        max_exceeding=max_exceeding,
        tolerance=tolerance,
    )
    return {
        "network": {
            "dim": network.dim,
            "cond_dim": network.cond_dim,
            "num_blocks": len(network.blocks),
            "dtype": str(next(network.parameters()).dtype).removeprefix("torch."),
        },
        "training": training,
        "samples": sample_entry,
        "block_log_det": block_log_dets(network, reference, condition).to_json(),
        "reliability": flags.to_json(),
        "method": (
            "In the network's standardised units. training: reference pairs mapped to the "
            "network input u as in training; round trips from u and from f(u), Jacobians "
            "at u (forward) and f(u) (inverse). samples: the latent points the sampler "
            "inverts for the checked observations. Round-trip errors are Euclidean; "
            "non-finite ones count as infinite (null in JSON). input_padding (INNs with "
            "padding): RMS over the padding columns of the inverse at each sample, which "
            "training holds at pad_noise."
        ),
        "time_s": round(time.perf_counter() - start, 3),
    }
