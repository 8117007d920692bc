"""Spectra per second of the tissue simulator's adding-doubling solver against iadpython.

Issue 6 asks for the solver to be at least 100 times faster than iadpython (Prahl's own
adding-doubling) per 8-band spectrum, batched, measured side by side in one run. An 8-band
spectrum needs the reflectance at the camera's 24 wavelengths (8 bands × 3).

- **ours**: ``TissueSimulator(setting).simulate`` on a batch of prior draws: three layers
  with Fresnel interfaces, all draws and wavelengths in one batched call.
- **iadpython**: it solves single slabs only and one at a time, so one spectrum is 24 calls
  of ``Sample.rt()``, for a single slab with the draw's top-layer optics at each wavelength
  (same ``mu_a``, ``mu_s``, ``g``, ``n`` and thickness). Its ``quad_pts`` is set to the number
  of direction bins our solver uses for the same setting (20 for colon, 26 for generic), so
  both solve matrix problems of the same size. A three-layer stack would cost iadpython more,
  so the ratio is a lower bound.

Each is timed as the median of a few repeats; the process CPU time is recorded next to the
wall time. iadpython's larger matrix products use a second BLAS thread where there is
one, ours (many tiny ones) do not: pin both to one thread to compare like with like. Run by
hand on a quiet machine::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/tissue_solver_speed.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import iadpython
import numpy as np

from simulators.tissue.camera import band_average
from simulators.tissue.optics import absorption, scattering
from simulators.tissue.priors import layer_parameters, tissue_prior
from simulators.tissue.simulator import TissueSimulator

RESULTS = Path(__file__).parent / "results"
BINS = {"colon": 20, "generic": 26}
"""Direction bins of our solver at its defaults: 8 in the escape cone + 6 per further band."""


def _timed(function, repeats: int) -> tuple[list[float], list[float]]:
    wall, cpu = [], []
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        function()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
    return wall, cpu


def _record(wall: list[float], cpu: list[float], spectra: int) -> dict:
    median = statistics.median(wall)
    return {
        "spectra": spectra,
        "wall_s": [round(t, 4) for t in wall],
        "cpu_s": [round(t, 4) for t in cpu],
        "median_wall_s": round(median, 4),
        "spectra_per_s": round(spectra / median, 2),
    }


def measure_ours(setting: str, theta: np.ndarray, repeats: int) -> dict:
    sim = TissueSimulator(setting)
    rng = np.random.default_rng(0)
    sim.simulate(theta[:8], rng)  # warm caches (haemoglobin table, BLAS threads)
    wall, cpu = _timed(lambda: sim.simulate(theta, rng), repeats)
    return _record(wall, cpu, len(theta))


def measure_iadpython(setting: str, theta: np.ndarray, repeats: int) -> dict:
    wavelengths = TissueSimulator(setting).camera.wavelengths
    layers = layer_parameters(theta, setting)
    mu_a = absorption(wavelengths[None, :], layers["v_hb"][:, :1], layers["sO2"][:, None])
    mu_s = scattering(
        wavelengths[None, :], layers["a_mie"][:, :1], layers["b_mie"][:, :1], layers["g"][:, :1]
    )

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

    iadpython.Sample(a=0.9, b=1.0, g=0.9, n=1.4, quad_pts=BINS[setting]).rt()  # warm-up
    wall, cpu = _timed(spectra, repeats)
    return _record(wall, cpu, len(theta)) | {"quad_pts": BINS[setting]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=200, help="draws for our simulator")
    parser.add_argument("--iad-draws", type=int, default=20, help="draws for iadpython")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--iad-repeats", type=int, default=2)
    parser.add_argument("--settings", nargs="+", default=["colon", "generic"])
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    record = {
        "machine": platform.machine(),
        "processor": platform.processor(),
        "numpy": np.__version__,
        "iadpython": iadpython.__version__,
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
        "settings": {},
    }
    for setting in args.settings:
        theta = tissue_prior(setting).sample(args.batch, np.random.default_rng(1))
        ours = measure_ours(setting, theta, args.repeats)
        iad = measure_iadpython(setting, theta[: args.iad_draws], args.iad_repeats)
        ratio = ours["spectra_per_s"] / iad["spectra_per_s"]
        record["settings"][setting] = {"ours": ours, "iadpython": iad, "ratio": round(ratio, 1)}
    lines = [
        "| setting | ours [spectra/s] | iadpython [spectra/s] | ratio |",
        "|---|---|---|---|",
    ]
    for setting, entry in record["settings"].items():
        lines.append(
            f"| {setting} | {entry['ours']['spectra_per_s']:.1f} "
            f"| {entry['iadpython']['spectra_per_s']:.2f} | {entry['ratio']:.0f}× |"
        )
    header = (
        f"Tissue spectra per second (24 wavelengths → 8 bands), ours on {args.batch} prior "
        f"draws, iadpython on {args.iad_draws}; median of {args.repeats} and "
        f"{args.iad_repeats} runs\n\n"
    )
    print(header + "\n".join(lines))
    if not args.no_write:
        RESULTS.mkdir(exist_ok=True)
        text = json.dumps(record, indent=2) + "\n"
        (RESULTS / "tissue_solver_speed.json").write_text(text)
        (RESULTS / "tissue_solver_speed.md").write_text(header + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
