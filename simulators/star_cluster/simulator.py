r"""HII-region emission lines of a young star cluster in its parent cloud (issue 7).

A parameter vector (cloud mass, star-formation efficiency, cloud density, age, oxygen
abundance and, by default, the attenuation A_V; :mod:`simulators.star_cluster.priors`)
becomes

1. the feedback of the cluster at its age (tabulated by
   :mod:`~simulators.star_cluster.feedback_table` from
   :mod:`~simulators.star_cluster.population`),
2. the radius, velocity and inner-face pressure of the swept-up shell
   (:mod:`~simulators.star_cluster.shell`),
3. the pressure and ionisation parameter of the shell's ionised layer, which pick line
   ratios from the MAPPINGS HII grid, scaled by the case-B Hβ luminosity, attenuated and
   observed with noise (:mod:`~simulators.star_cluster.lines`).

The observation is ``log10 L`` [erg s⁻¹] of the 10 lines of
:data:`~simulators.star_cluster.lines.LINES`.

**The pressure of the ionised layer** is that of whatever pushes the shell from inside
(the hot bubble in the energy phase, the wind and supernova ram pressure after it, or the
Strömgren-density ionised gas if that is larger) plus the absorbed radiation force per area.

**Recollapse and failed simulations.** A shell that gravity pulls back onto the cluster
forms a new generation of stars (:mod:`~simulators.star_cluster.shell`), so ``age`` is the
age of the *first* generation and the lines come from all generations together. A shell
caught recollapsing in the final integration step, with no time left to follow the next
generation, is a failed simulation: its observation is all NaN, as the contract of
:class:`sbinn.simulator.Simulator` asks, and it is counted and dropped.

**Derived targets.** :meth:`StarClusterSimulator.derived` returns the shell radius [pc],
shell velocity [km/s] and the age of the youngest generation [Myr] (which differs from
``age`` after a recollapse), plus diagnostics; :meth:`simulate_with_targets` returns them
next to the lines, for inference on these composites.

Examples:
    >>> sim = StarClusterSimulator()
    >>> theta, x = sim.sample_joint(4, seed=2)
    >>> x.shape, sim.observation_names[:2]
    ((4, 10), ('log_L_Hbeta', 'log_L_Halpha'))
"""

from __future__ import annotations

import numbers

import numpy as np

from sbinn._validation import as_2d_float_array
from sbinn.simulator import SeedLike, Simulator, as_generator
from simulators.star_cluster.lines import (
    HBETA_PER_PHOTON,
    LINES,
    attenuation_magnitudes,
    grid_coordinates,
    line_ratios,
)
from simulators.star_cluster.population import K_B
from simulators.star_cluster.priors import oxygen_to_metallicity, star_cluster_prior
from simulators.star_cluster.shell import (
    ALPHA_B,
    M_H,
    MU_H,
    PC,
    ShellSettings,
    ShellState,
    evolve_shell,
)

__all__ = ["DERIVED_TARGETS", "StarClusterSimulator"]

DERIVED_TARGETS = ("radius_pc", "velocity_kms", "youngest_age_myr")
"""Composite quantities available as inference targets, in this order."""

_C_LIGHT = 2.99792458e10
_MAX_AGE_MYR = 50.0  # end of the feedback table


class StarClusterSimulator(Simulator):
    """Emission lines of a WARPFIELD-like cluster-feedback model, vectorised over a batch.

    Args:
        noise_dex: Standard deviation of the Gaussian noise on each log10 luminosity.
        max_av: Upper end of the uniform A_V prior [mag]; 0 removes the parameter.
        shell: Settings of the shell integration.
        max_failure_fraction: Largest tolerated fraction of failed simulations.
    """

    name = "star_cluster"
    # 2: main-sequence evolution and line-blanketed ionising photons by default; shells
    # plunging faster than the last step can follow count as recollapsed.
    version = "2"

    def __init__(
        self,
        noise_dex: float = 0.05,
        max_av: float = 2.0,
        shell: ShellSettings | None = None,
        *,
        max_failure_fraction: float = 0.1,
    ) -> None:
        if isinstance(noise_dex, bool) or not isinstance(noise_dex, numbers.Real):
            raise TypeError(f"noise_dex must be a real number, got {type(noise_dex).__name__}")
        if not (np.isfinite(noise_dex) and noise_dex >= 0):
            raise ValueError(f"noise_dex must be a finite number >= 0 dex, got {noise_dex}")
        shell = ShellSettings() if shell is None else shell
        if not isinstance(shell, ShellSettings):
            raise TypeError(f"shell must be a ShellSettings, got {type(shell).__name__}")
        names = tuple(f"log_L_{line}" for line in LINES)
        super().__init__(
            star_cluster_prior(max_av), len(names), names, max_failure_fraction=max_failure_fraction
        )
        self.noise_dex, self.max_av, self.shell = float(noise_dex), float(max_av), shell
        self._extinction = attenuation_magnitudes(np.array([w for _, w in LINES.values()]))

    def settings(self) -> dict:
        return super().settings() | {
            "noise_dex": self.noise_dex,
            "max_av": self.max_av,
            "shell": self.shell.to_dict(),
            "lines": {name: column for name, (column, _) in LINES.items()},
        }

    def _check_domain(self, theta: np.ndarray) -> None:
        columns = dict(zip(self.parameter_names, theta.T, strict=True))
        checks = [
            ("cloud_mass", columns["cloud_mass"] > 0, "> 0 Msun"),
            ("sfe", (columns["sfe"] > 0) & (columns["sfe"] < 1), "in (0, 1)"),
            ("cloud_density", columns["cloud_density"] > 0, "> 0 cm^-3"),
            (
                "age",
                (columns["age"] > self.shell.start_myr) & (columns["age"] <= _MAX_AGE_MYR),
                f"in ({self.shell.start_myr}, {_MAX_AGE_MYR}] Myr",
            ),
        ]
        if "A_V" in columns:
            checks.append(("A_V", columns["A_V"] >= 0, ">= 0 mag"))
        for name, ok, expected in checks:
            if not np.all(ok):
                row = int(np.flatnonzero(~ok)[0])
                raise ValueError(
                    f"{name} must be {expected}; got {columns[name][row]} in row {row} "
                    f"({int((~ok).sum())} row(s) out of range)"
                )

    @property
    def noise_dimension(self) -> int:
        """One standard-normal draw per line when ``noise_dex > 0``, else 0."""
        return len(LINES) if self.noise_dex > 0 else 0

    def _shell(self, theta: np.ndarray) -> ShellState:
        mass, sfe, density, age, oxygen = theta[:, :5].T
        return evolve_shell(age, mass, sfe, density, oxygen_to_metallicity(oxygen), self.shell)

    def _nebula(self, theta: np.ndarray, state: ShellState) -> dict[str, np.ndarray]:
        q = state.feedback[:, 0]
        pressure = np.maximum(state.drive_pressure, state.ion_pressure) + state.radiation_pressure
        density = pressure / (2 * K_B * self.shell.ion_temperature)
        radius = state.radius_pc * PC
        log_u = np.log10(q / (4 * np.pi * radius**2 * density * _C_LIGHT))
        log_p = np.log10(pressure / K_B)
        absorbed = np.minimum(q, density * ALPHA_B * state.shell_mass / (MU_H * M_H))
        coords, clipped = grid_coordinates(theta[:, 4], log_p, log_u)
        return {
            "log_u": log_u,
            "log_pressure": log_p,
            "absorbed_fraction": absorbed / q,
            "coords": coords,
            "clipped": clipped,
            "hbeta": HBETA_PER_PHOTON * absorbed,
        }

    def _simulate(self, theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return self._simulate_given_noise(theta, rng.standard_normal((len(theta), len(LINES))))

    def _simulate_given_noise(self, theta: np.ndarray, noise: np.ndarray) -> np.ndarray:
        # Outside the model's domain (e.g. sfe >= 1, a posterior sample past the prior) the
        # row fails like any simulation, NaN with the reason in last_exception, so
        # re-simulating posterior samples never aborts a benchmark.
        self._check_domain(theta)
        state = self._shell(theta)
        nebula = self._nebula(theta, state)
        luminosity = nebula["hbeta"][:, None] * line_ratios(nebula["coords"])
        with np.errstate(divide="ignore"):
            log_l = np.log10(luminosity)
        if "A_V" in self.parameter_names:
            log_l = log_l - 0.4 * theta[:, 5:6] * self._extinction
        log_l = log_l + self.noise_dex * noise
        log_l[state.recollapsed] = np.nan
        return log_l

    def derived(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """Derived targets and diagnostics of each row of ``theta`` (deterministic).

        Returns:
            ``radius_pc``, ``velocity_kms``, ``youngest_age_myr`` (NaN where the shell
            recollapsed in the last step), ``generations`` (number of stellar
            generations), ``stellar_mass`` [M☉, all generations], ``recollapsed``,
            ``momentum_phase``, ``outside_cloud`` (booleans),
            ``log_u``, ``log_pressure`` (log10 P/k before clipping to the grid),
            ``clipped`` (``(n, 3)``: O/H, P, U clipped to the grid) and
            ``absorbed_fraction`` of the ionising photons.

        Examples:
            >>> sim = StarClusterSimulator()
            >>> d = sim.derived(np.array([[1e6, 0.05, 300.0, 2.0, 8.69, 0.5]]))
            >>> bool(d["radius_pc"][0] > 1), float(d["youngest_age_myr"][0])
            (True, 2.0)
        """
        theta = as_2d_float_array(theta, self.dim_parameters, "theta")
        self._check_domain(theta)
        state = self._shell(theta)
        nebula = self._nebula(theta, state)
        failed = state.recollapsed
        return {
            "radius_pc": np.where(failed, np.nan, state.radius_pc),
            "velocity_kms": np.where(failed, np.nan, state.velocity_kms),
            "youngest_age_myr": np.where(failed, np.nan, state.youngest_age_myr),
            "generations": state.generations,
            "stellar_mass": state.stellar_mass,
            "recollapsed": failed,
            "momentum_phase": state.momentum_phase,
            "outside_cloud": state.outside_cloud,
            "log_u": nebula["log_u"],
            "log_pressure": nebula["log_pressure"],
            "clipped": nebula["clipped"],
            "absorbed_fraction": nebula["absorbed_fraction"],
        }

    def simulate_with_targets(
        self, theta: np.ndarray, rng: SeedLike = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Lines ``(n, 10)`` and the :data:`DERIVED_TARGETS` ``(n, 3)`` of each row.

        Failed rows are NaN in both. To infer the composites, append the targets to
        ``theta`` (or use them in its place) when training.

        Examples:
            >>> sim = StarClusterSimulator()
            >>> theta = sim.prior.sample(3, np.random.default_rng(0))
            >>> x, targets = sim.simulate_with_targets(theta, rng=1)
            >>> x.shape, targets.shape
            ((3, 10), (3, 3))
        """
        x = self.simulate(theta, as_generator(rng))
        derived = self.derived(theta)
        return x, np.stack([derived[name] for name in DERIVED_TARGETS], axis=1)
