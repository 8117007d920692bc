"""Generate ``isochrones_sse.npz``: isochrones from COSMIC's SSE single-star evolution.

This script is NOT imported by sbinn and sbinn does not depend on COSMIC; it documents how
the shipped table was made. It needs ``cosmic-popsynth`` (MIT licence, version 4.3.3), which
implements the single-star evolution (SSE) formulae of Hurley, Pols & Tout (2000, MNRAS
315, 543). Run it in a scratch environment::

    python3.11 -m venv /tmp/cosmicenv
    /tmp/cosmicenv/bin/pip install cosmic-popsynth==4.3.3
    /tmp/cosmicenv/bin/python simulators/cluster_cmd/data/make_isochrones.py

It takes about ten minutes on one core. All BSE/SSE settings are COSMIC's documented
defaults (``cosmic/data/cosmic-settings.json``); for single stars only the wind settings
matter (``windflag=3``, Reimers ``neta=0.5``).

**Method.** The isochrones are built on equivalent evolutionary points (EEPs), so that
isochrones of neighbouring ages and metallicities can be interpolated point by point.

1. For every metallicity, a dense grid of initial masses (0.6 to 8 Msun) is evolved to
   40 Gyr and the start times of the SSE phases are read from COSMIC's ``bpp`` table:
   main sequence (stellar type 0/1) ends when type 2 (Hertzsprung gap) begins; then
   giant branch (3), core-helium burning (4), early AGB (5), thermally pulsing AGB (6), and
   the remnant (type >= 10). A skipped phase gets zero duration.
2. For every (metallicity, age), the EEPs are placed: 30 lower-main-sequence points
   log-spaced in mass from 0.1 Msun to the star that has spent half its main-sequence life;
   25 upper-main-sequence points at main-sequence time fractions 0.5..0.995; then
   10 / 30 / 20 / 15 / 5 points at the mid-points of equal time fractions of the
   Hertzsprung gap, giant branch, core-helium burning, early AGB and TP-AGB. For each EEP
   the initial mass that is at that point at the given age is found by interpolating the
   phase times in log mass.
3. Each such star is evolved with COSMIC to exactly that age, and its luminosity,
   effective temperature and stellar type are recorded.

[Fe/H] maps to Z = 0.02 x 10^[Fe/H]: the SSE formulae were fitted to the Pols et al. (1998)
models, for which Z = 0.02 is solar (Hurley et al. 2000, section 1). Scaled-solar mixtures.

**Output** (``numpy.savez_compressed``, no pickled objects): ``feh`` (12), ``log_age`` (44,
log10 yr), ``phase_sizes`` (7 EEP counts), and ``mass`` (initial mass, Msun), ``log_l``
(log10 L/Lsun), ``log_teff`` (log10 K), ``kstar`` (SSE stellar type), each of shape
(12, 44, 135) as float32 (kstar int8).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

FEH = np.round(np.r_[np.arange(-2.0, 0.001, 0.2), 0.15], 2)
LOG_AGE = np.round(np.arange(8.0, 10.1501, 0.05), 2)
Z_SUN = 0.02
N_LOWER_MS, N_UPPER_MS = 30, 25
POST_MS = {2: 10, 3: 30, 4: 20, 5: 15, 6: 5}  # SSE stellar type -> number of EEPs
M_LOW = 0.1
TRACK_MASSES = np.exp(np.linspace(np.log(0.6), np.log(8.0), 400))
OUT = Path(__file__).with_name("isochrones_sse.npz")


def default_bse() -> dict:
    """COSMIC's documented default BSE flags (imported here: sbinn does not need COSMIC)."""
    import cosmic

    settings = json.loads((Path(cosmic.__path__[0]) / "data" / "cosmic-settings.json").read_text())
    flags = {}
    for category in settings:
        if category["category"] != "bse":
            continue
        for setting in category["settings"]:
            value = next(o["name"] for o in setting["options"] if o.get("default"))
            # Defaults such as "[2.0/21.0, ...]" are Python expressions, hence a bare eval.
            if isinstance(value, str):
                value = eval(value, {"__builtins__": {}})
            flags[setting["name"]] = value
    return flags


def evolve(mass: np.ndarray, z: np.ndarray, t_myr: np.ndarray):
    """Evolve single stars to ``t_myr``; COSMIC's ``bpp`` and ``bcm`` tables."""
    from cosmic.evolve import Evolve
    from cosmic.sample.initialbinarytable import InitialBinaryTable

    n = len(mass)
    table = InitialBinaryTable.InitialBinaries(
        m1=mass,
        m2=np.zeros(n),
        porb=np.zeros(n),
        ecc=np.zeros(n),
        tphysf=t_myr,
        kstar1=np.where(mass < 0.7, 0, 1),
        kstar2=np.zeros(n),
        metallicity=z,
    )
    table = table.assign(dtp=t_myr)
    bpp, bcm, _, _ = Evolve.evolve(
        initialbinarytable=table,
        BSEDict=default_bse(),
        SSEDict={"stellar_engine": "sse"},
        randomseed=12345,
    )
    return bpp, bcm


def phase_starts(z: float) -> np.ndarray:
    """Start times (Myr) of types 2, 3, 4, 5, 6 and of the remnant, shape (n_mass, 6)."""
    n = len(TRACK_MASSES)
    bpp, _ = evolve(TRACK_MASSES, np.full(n, z), np.full(n, 40_000.0))
    starts = np.full((n, 6), np.inf)
    for i, (_, rows) in enumerate(bpp.groupby("bin_num", sort=True)):
        for t, k in zip(rows["tphys"].to_numpy(), rows["kstar_1"].to_numpy(), strict=True):
            slot = 5 if k >= 10 else (k - 2 if 2 <= k <= 6 else None)
            if slot is not None and not np.isfinite(starts[i, slot]):
                starts[i, slot] = t
    # A skipped phase ends where it would start: fill from the later phases.
    for slot in range(4, -1, -1):
        starts[:, slot] = np.minimum(starts[:, slot], starts[:, slot + 1])
    return starts


def mass_at(times: np.ndarray, t: float) -> float:
    """Initial mass that reaches the phase time ``times(M)`` exactly at age ``t``."""
    log_t = np.log(np.minimum.accumulate(np.where(np.isfinite(times), times, 1e30)))
    log_m = np.log(TRACK_MASSES)
    return float(np.exp(np.interp(-np.log(t), -log_t, log_m)))


def eep_masses(starts: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
    t_ms = starts[:, 0]
    m_half = mass_at(t_ms * 0.5, t)
    lower = np.exp(np.linspace(np.log(M_LOW), np.log(m_half), N_LOWER_MS, endpoint=False))
    upper = [mass_at(t_ms * f, t) for f in np.linspace(0.5, 0.995, N_UPPER_MS)]
    masses, kinds = [*lower, *upper], [1] * (N_LOWER_MS + N_UPPER_MS)
    for kstar, n in POST_MS.items():
        begin, end = starts[:, kstar - 2], starts[:, kstar - 1]
        with np.errstate(invalid="ignore"):  # inf - inf where a phase is never reached
            times = [begin + phi * (end - begin) for phi in (np.arange(n) + 0.5) / n]
        masses += [mass_at(np.where(np.isnan(time_), np.inf, time_), t) for time_ in times]
        kinds += [kstar] * n
    return np.maximum.accumulate(np.array(masses)), np.array(kinds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="where to write the table")
    out_path = parser.parse_args().out
    start = time.time()
    shape = (len(FEH), len(LOG_AGE), N_LOWER_MS + N_UPPER_MS + sum(POST_MS.values()))
    out = {k: np.zeros(shape) for k in ("mass", "log_l", "log_teff", "kstar")}
    expected = np.zeros(shape, dtype=int)
    for iz, feh in enumerate(FEH):
        z = Z_SUN * 10.0**feh
        starts = phase_starts(z)
        masses, ages = [], []
        for ia, log_age in enumerate(LOG_AGE):
            m, kinds = eep_masses(starts, 10.0 ** (log_age - 6.0))
            out["mass"][iz, ia] = m
            expected[iz, ia] = kinds
            masses.append(m)
            ages.append(np.full(len(m), 10.0 ** (log_age - 6.0)))
        m, t = np.concatenate(masses), np.concatenate(ages)
        _, bcm = evolve(m, np.full(len(m), z), t)
        final = bcm.groupby("bin_num", sort=True).tail(1).sort_values("bin_num")
        for key, column in (("log_l", "lum_1"), ("log_teff", "teff_1"), ("kstar", "kstar_1")):
            values = final[column].to_numpy().reshape(len(LOG_AGE), -1)
            out[key][iz] = values if key == "kstar" else np.log10(values)
        print(f"[Fe/H]={feh + 0.0:+.2f} done after {time.time() - start:.0f} s", flush=True)
    ms = out["kstar"] <= 1
    agree = np.where(expected == 1, ms, out["kstar"] == expected)
    print(f"EEPs whose SSE type matches the intended phase: {agree.mean():.4f}")
    np.savez_compressed(
        out_path,
        feh=FEH,
        log_age=LOG_AGE,
        phase_sizes=np.array([N_LOWER_MS, N_UPPER_MS, *POST_MS.values()]),
        mass=out["mass"].astype(np.float32),
        log_l=out["log_l"].astype(np.float32),
        log_teff=out["log_teff"].astype(np.float32),
        kstar=out["kstar"].astype(np.int8),
    )
    print(f"wrote {out_path} ({out_path.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
