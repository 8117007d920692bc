"""Spectra per second of the tissue simulator's adding-doubling solver against iadpython.

Issue 6 asks for the solver to be at least 100 times faster than iadpython (Prahl's own
adding-doubling) per 8-band spectrum, batched, measured side by side in one run. An 8-band
spectrum needs the reflectance at the camera's 24 wavelengths (8 bands × 3).

- **ours**: ``TissueSimulator(setting).simulate`` on a batch of prior draws: three layers
  with Fresnel interfaces, all draws and wavelengths in one batched call. Timed three ways:

  - ``eigen_1_thread``: the default solver (layers by eigen-decomposition), one thread;
  - ``eigen_threads``: the same with ``slab_rt``'s default thread pool
    (:func:`~simulators.tissue.adding_doubling.default_workers` threads);
  - ``doubling_1_thread``: layers by doubling (the solver's previous layer method), one
    thread, for reference.

- **iadpython**, one spectrum and wavelength at a time, timed two ways:

  - ``iadpython_slab``: 24 calls of ``Sample.rt()`` for a single slab with the draw's
    top-layer optics at each wavelength (same ``mu_a``, ``mu_s``, ``g``, ``n`` and
    thickness): less work than our spectrum, so its ratio is a lower bound;
  - ``iadpython_stack``: 24 calls of :func:`simulators.tissue.iad_reference.stack_rt`, the
    draw's three layers with their own optics stacked by iadpython's adding, in air. Our
    spectrum's layers differ in refractive index, which iadpython's quadrature cannot
    follow, so its stack takes the top layer's index for all three: the same number of
    layers, matrix sizes and adding steps as ours, the like-for-like cost.

  Its ``quad_pts`` is set to the number of direction bins our solver uses for the same
  setting (18 for colon, 22 for generic), so both solve matrix problems of the same size.
  It runs on one thread, so the ratios that count are against ``eigen_1_thread``.

Each is timed as the median of a few repeats (the best one is recorded too), the repeats of
all of them interleaved so that a change in the load of a shared machine hits all alike; the
process CPU time is recorded next to the wall time, and the load average before and after.
iadpython's larger matrix products use a second BLAS thread where there is one, and ours
makes its batched LAPACK calls through torch (MKL), whose triangular solves may use another
thread: pin numpy's OpenBLAS and torch's OpenMP/MKL to one thread to compare like with like
(the process CPU time next to the wall time shows whether that held). Run by hand on a quiet
machine::

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
        .venv/bin/python benchmarks/tissue_solver_speed.py
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial
from unittest import mock

import iadpython
import numpy as np
from _common import RESULTS, environment_record, load_average, load_note, publish, timings

from simulators.tissue import simulator as simulator_module
from simulators.tissue.adding_doubling import default_workers, slab_rt
from simulators.tissue.camera import band_average
from simulators.tissue.iad_reference import stack_rt
from simulators.tissue.optics import absorption, scattering
from simulators.tissue.priors import layer_parameters, tissue_prior
from simulators.tissue.simulator import TissueSimulator

BINS = {"colon": 18, "generic": 22}
"""Direction bins of our solver at its defaults: 8 in the escape cone, 6 in the band up to the
smallest tissue index and 4 in each band between two tissue indices (1 for colon, 2 for
generic)."""


def _record(wall: list[float], cpu: list[float], spectra: int) -> dict:
    median = statistics.median(wall)
    return {
        "spectra": spectra,
        **timings(wall, cpu),
        "median_wall_s": round(median, 4),
        "spectra_per_s": round(spectra / median, 2),
        "best_spectra_per_s": round(spectra / min(wall), 2),
    }


def solver_variants() -> dict[str, dict]:
    """Options of ``slab_rt`` for each way ours is timed."""
    return {
        "eigen_1_thread": {"method": "eigen", "workers": 1},
        "eigen_threads": {"method": "eigen", "workers": default_workers()},
        "doubling_1_thread": {"method": "doubling", "workers": 1},
    }


def ours(setting: str, theta: np.ndarray, options: dict) -> Callable[[], object]:
    """One batched ``simulate`` call with ``slab_rt`` options patched in (the simulator
    calls ``slab_rt`` with its defaults)."""
    sim = TissueSimulator(setting)
    rng = np.random.default_rng(0)

    def run() -> np.ndarray:
        with mock.patch.object(simulator_module, "slab_rt", partial(slab_rt, **options)):
            return sim.simulate(theta, rng)

    return run


def _layer_optics(setting: str, theta: np.ndarray) -> tuple[dict, np.ndarray, np.ndarray]:
    """Layer parameters and ``mu_a``, ``mu_s`` of shape (draws, wavelengths, layers)."""
    wavelengths = TissueSimulator(setting).camera.wavelengths[None, :, None]
    layers = layer_parameters(theta, setting)
    mu_a = absorption(wavelengths, layers["v_hb"][:, None, :], layers["sO2"][:, None, None])
    mu_s = scattering(
        wavelengths,
        layers["a_mie"][:, None, :],
        layers["b_mie"][:, None, :],
        layers["g"][:, None, :],
    )
    return layers, mu_a, mu_s


def iadpython_stacks(setting: str, theta: np.ndarray) -> Callable[[], np.ndarray]:
    """The same spectra from iadpython's adding of all three layers at the top layer's index."""
    layers, mu_a, mu_s = _layer_optics(setting, theta)

    def spectra() -> np.ndarray:
        reflectance = np.empty(mu_a.shape[:2])
        for i, j in np.ndindex(reflectance.shape):
            reflectance[i, j] = stack_rt(
                mu_a[i, j],
                mu_s[i, j],
                layers["g"][i],
                layers["n"][i, 0],
                layers["d"][i],
                quad_pts=BINS[setting],
            )[0]
        return band_average(reflectance)

    return spectra


def iadpython_spectra(setting: str, theta: np.ndarray) -> Callable[[], np.ndarray]:
    """The same spectra (top layer only) from iadpython, one slab and wavelength at a time."""
    layers, mu_a, mu_s = _layer_optics(setting, theta)
    mu_a, mu_s = mu_a[..., 0], mu_s[..., 0]

    def spectra() -> np.ndarray:
        reflectance = np.empty(mu_a.shape)
        for i, j in np.ndindex(mu_a.shape):
            sample = iadpython.Sample(
                a=mu_s[i, j] / (mu_a[i, j] + mu_s[i, j]),
                b=(mu_a[i, j] + mu_s[i, j]) * layers["d"][i, 0],
                g=layers["g"][i, 0],
                n=layers["n"][i, 0],
                n_above=1.0,
                n_below=1.0,
                quad_pts=BINS[setting],
            )
            reflectance[i, j] = sample.rt()[0]
        return band_average(reflectance)

    return spectra


def measure(setting: str, theta: np.ndarray, iad_draws: int, repeats: int) -> dict:
    """Ours (each of :func:`solver_variants`) and iadpython, the repeats interleaved."""
    runs = {name: ours(setting, theta, options) for name, options in solver_variants().items()}
    runs["iadpython"] = iadpython_spectra(setting, theta[:iad_draws])
    runs["iadpython_stack"] = iadpython_stacks(setting, theta[:iad_draws])
    ours(setting, theta[:8], {})()  # warm caches (haemoglobin table, BLAS threads)
    iadpython.Sample(a=0.9, b=1.0, g=0.9, n=1.4, quad_pts=BINS[setting]).rt()
    times = {name: ([], []) for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start, cpu_start = time.perf_counter(), time.process_time()
            run()
            times[name][0].append(time.perf_counter() - start)
            times[name][1].append(time.process_time() - cpu_start)
    iad = _record(*times.pop("iadpython"), iad_draws) | {"quad_pts": BINS[setting]}
    stack = _record(*times.pop("iadpython_stack"), iad_draws) | {"quad_pts": BINS[setting]}
    mine = {
        name: _record(*times[name], len(theta)) | {"options": options}
        for name, options in solver_variants().items()
    }
    ratios = {name: round(v["spectra_per_s"] / iad["spectra_per_s"], 1) for name, v in mine.items()}
    stack_ratios = {
        name: round(v["spectra_per_s"] / stack["spectra_per_s"], 1) for name, v in mine.items()
    }
    return {
        "ours": mine,
        "iadpython": iad,
        "iadpython_stack": stack,
        "ratio": ratios,
        "ratio_to_stack": stack_ratios,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=200, help="draws for our simulator")
    parser.add_argument("--iad-draws", type=int, default=20, help="draws for iadpython")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--settings", nargs="+", default=["colon", "generic"])
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    record = environment_record(
        "machine",
        "processor",
        "cpus",
        "numpy",
        "torch",
        "iadpython",
        "OPENBLAS_NUM_THREADS",
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
    )
    record["load_average_before"] = load_average()
    record["settings"] = {}
    for setting in args.settings:
        theta = tissue_prior(setting).sample(args.batch, np.random.default_rng(1))
        record["settings"][setting] = measure(setting, theta, args.iad_draws, args.repeats)
    record["load_average_after"] = load_average()
    threads = default_workers()
    lines = [
        "| setting | ours, 1 thread | ours, "
        f"{threads} threads | ours, doubling layers, 1 thread | iadpython, three layers "
        "| iadpython, top layer only | ratio to three layers, 1 thread | ratio to top layer "
        "only, 1 thread | ratio to three layers, threads |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for setting, entry in record["settings"].items():
        ours, ratio, stack_ratio = entry["ours"], entry["ratio"], entry["ratio_to_stack"]
        lines.append(
            f"| {setting} | {ours['eigen_1_thread']['spectra_per_s']:.1f} "
            f"| {ours['eigen_threads']['spectra_per_s']:.1f} "
            f"| {ours['doubling_1_thread']['spectra_per_s']:.1f} "
            f"| {entry['iadpython_stack']['spectra_per_s']:.2f} "
            f"| {entry['iadpython']['spectra_per_s']:.2f} "
            f"| {stack_ratio['eigen_1_thread']:.0f}× | {ratio['eigen_1_thread']:.0f}× "
            f"| {stack_ratio['eigen_threads']:.0f}× |"
        )
    header = (
        f"Tissue spectra per second (24 wavelengths → 8 bands), ours on {args.batch} prior "
        f"draws, iadpython on {args.iad_draws}; median of {args.repeats} interleaved runs; "
        f"{load_note(record)}\n\n"
    )
    text = header + "\n".join(lines) + "\n"
    publish(RESULTS / "tissue_solver_speed", record, text, write=not args.no_write)


if __name__ == "__main__":
    main()
