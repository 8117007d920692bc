r"""Dynamics of the swept-up shell around a young cluster in a uniform cloud, for a batch.

A cluster of mass :math:`M_* = \epsilon M_{cl}` forms at the centre of a uniform cloud of gas
mass :math:`(1-\epsilon)M_{cl}` and hydrogen density :math:`n_{cl}` (mass density
:math:`\rho = 1.4\,m_H n`, helium included). The shell of radius :math:`R`, velocity
:math:`v` and mass :math:`M_{sh}` obeys, in the spirit of Rahner et al. (2017, MNRAS 470,
4453, eqs. 1–5),

.. math::

    \frac{d(M_{sh} v)}{dt} = F_{drive} + f_{abs}\frac{L_{bol}}{c}
        - \frac{G M_{sh}}{R^2}\left(M_* + \frac{M_{sh}}{2}\right), \qquad
    \frac{dM_{sh}}{dt} = 4\pi R^2 \rho(R)\,\max(v, 0),

- **Energy phase** (Weaver et al. 1977, ApJ 218, 377): the hot bubble of energy :math:`E_b`
  and pressure :math:`P_b = E_b / (2\pi R^3)` (:math:`\gamma = 5/3`) obeys
  :math:`dE_b/dt = L_{mech} - 4\pi R^2 v P_b`, and
  :math:`F_{drive} = 4\pi R^2 \max(P_b, P_{ion})`. With constant :math:`L_{mech}` and no
  other force this has the self-similar solution
  :math:`R = (125/154\pi)^{1/5} (L_{mech} t^3/\rho)^{1/5}`, which starts the integration.
- **Transition.** The energy phase ends, for good, when the hot gas cools or escapes:
  at the cooling time of the bubble interior of Mac Low & McCray (1988, ApJ 324, 776),
  :math:`t_{cool} = 16\ \mathrm{Myr}\,(Z/Z_\odot)^{-35/22} n_{cl}^{-8/11}
  (L_{mech}/10^{38}\,\mathrm{erg\,s^{-1}})^{3/11}`, or when the shell leaves the cloud
  (the bubble vents through the broken shell). :math:`E_b` is then dropped.
- **Momentum phase:** :math:`F_{drive} = \dot p_{wind} + \dot p_{SN} + 4\pi R^2 P_{ion}`,
  the momentum fluxes of :mod:`simulators.star_cluster.feedback_table`.
- **Ionised gas:** :math:`P_{ion} = 2 n_{St} k T_i` with the density
  :math:`n_{St} = \sqrt{3 Q / (4\pi\alpha_B R^3)}` of a Strömgren sphere of radius
  :math:`R` (:math:`T_i = 10^4` K, case-B :math:`\alpha_B = 2.59\times10^{-13}` cm³ s⁻¹,
  Osterbrock & Ferland 2006, Table 2.1).
- **Radiation pressure:** :math:`f_{abs} = 1 - e^{-\kappa_d \Sigma_{sh}}`, dust opacity
  :math:`\kappa_d = 1000\,(Z/Z_\odot)` cm² per gram of gas in the UV (Draine 2011, ApJ 732,
  100, §2); reprocessed infrared photons are assumed to escape.
- **Outside the cloud** the shell sweeps an ambient medium of density ``ambient_density``
  (default 1 cm⁻³) and keeps the cloud's mass.
- **Recollapse:** when gravity wins, the shell falls back. Once it is below
  ``recollapse_radius_pc`` and still falling, it has recollapsed, and, as in WARPFIELD
  (Rahner et al. 2019, MNRAS 483, 2547), its gas forms a new generation: a fraction
  ``sfe`` of the cloud's remaining gas becomes stars, the rest is a uniform cloud of the
  same density, and a fresh Weaver bubble, driven by all generations together, starts
  ``start_myr`` later. The steps left are spread over the rest of the time in
  :math:`\ln` of the time since that burst; if that would make them longer than 0.2 in
  :math:`\ln t`, the Weaver solution is used up to a later start instead (ignoring
  gravity, cooling and breakout before it). A shell that recollapses in the very last step,
  or at the end is falling fast enough to reach the cluster in less time than that step
  lasted (a plunge the step cannot resolve), is flagged ``recollapsed``.

The integration is a fixed-step fourth-order Runge–Kutta in the log of the time since the
youngest burst, from ``start_myr`` to each cluster's age: every cluster takes
``num_steps`` steps of its own length, so the whole batch advances together with no
per-sample loop. Phase switches and recollapse are checked between steps.

Examples:
    >>> ones = np.ones(2)
    >>> ages = np.array([1.0, 5.0])
    >>> state = evolve_shell(ages, 1e6 * ones, 0.05 * ones, 300 * ones, 0.014 * ones)
    >>> bool(np.all(np.diff(state.radius_pc) > 0)), state.recollapsed.tolist()
    (True, [False, False])
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from simulators.star_cluster.feedback_table import FeedbackGrid, feedback_grid
from simulators.star_cluster.population import C_LIGHT, G_NEWTON, K_B, M_SUN, YEAR

__all__ = [
    "ALPHA_B",
    "WEAVER_CONSTANT",
    "ShellSettings",
    "ShellState",
    "cooling_time_myr",
    "evolve_shell",
]

PC = 3.0857e18  # cm
MYR = 1e6 * YEAR  # s
M_H = 1.6735575e-24  # g
MU_H = 1.4  # gas mass per hydrogen atom, in m_H
ALPHA_B = 2.59e-13  # cm^3/s, case B at 1e4 K (Osterbrock & Ferland 2006)
Z_SUN = 0.014  # Asplund et al. (2009) bulk solar metallicity
KAPPA_DUST = 1000.0  # cm^2/g at Z_sun (Draine 2011)
WEAVER_CONSTANT = (125 / (154 * np.pi)) ** 0.2
"""Prefactor of Weaver et al.'s R = C (L t^3 / rho)^(1/5), about 0.76."""

# Largest ln-time step after a restart: later recollapses start the new bubble from
# Weaver's solution at a later time rather than take steps RK4 cannot follow.
_MAX_RESTART_STEP = 0.2


@dataclass(frozen=True)
class ShellSettings:
    """Numerical and physical settings of the shell model.

    Attributes:
        num_steps: RK4 steps per cluster, in ln t.
        start_myr: Age [Myr] at which the Weaver solution starts the integration.
        ambient_density: Hydrogen density [cm⁻³] outside the cloud.
        ion_temperature: Temperature [K] of the photoionised gas.
        recollapse_radius_pc: Radius [pc] below which a falling shell counts as recollapsed.
        cooling: Whether the energy phase ends at the Mac Low & McCray cooling time; if
            False it ends only when the shell leaves the cloud.
    """

    num_steps: int = 100
    start_myr: float = 1e-3
    ambient_density: float = 1.0
    ion_temperature: float = 1e4
    recollapse_radius_pc: float = 0.1
    cooling: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.num_steps, bool) or not isinstance(self.num_steps, int):
            raise TypeError(f"num_steps must be an int, got {type(self.num_steps).__name__}")
        if self.num_steps < 4:
            raise ValueError(f"num_steps must be >= 4, got {self.num_steps}")
        for name in ("start_myr", "ambient_density", "ion_temperature", "recollapse_radius_pc"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and np.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive finite number, got {value!r}")
        if not isinstance(self.cooling, bool):
            raise TypeError(f"cooling must be True or False, got {self.cooling!r}")

    def to_dict(self) -> dict:
        """JSON-serialisable settings."""
        return asdict(self)


@dataclass(frozen=True)
class ShellState:
    """The shell at each cluster's age (arrays of shape ``(batch,)``, cgs unless named).

    Attributes:
        radius_pc, velocity_kms: Shell radius [pc] and velocity [km/s].
        shell_mass: Swept-up mass [g]. cloud_radius_pc: Initial cloud radius [pc].
        momentum_phase: True once the energy phase of the youngest bubble has ended.
        recollapsed: True if the shell fell back below the recollapse radius in the last
            step, too late for a new generation to be followed.
        outside_cloud: True if the shell is beyond the cloud radius.
        feedback: Feedback budget ``(batch, 6)`` at the age (see ``FEEDBACK_QUANTITIES``).
        drive_pressure: Pressure [dyn cm⁻²] on the inner face from the bubble or the
            wind and supernova ram pressure.
        ion_pressure: Pressure of the Strömgren-density ionised gas [dyn cm⁻²].
        radiation_pressure: Absorbed radiation force per area [dyn cm⁻²].
        generations: Number of stellar generations formed (1 + recollapses).
        youngest_age_myr: Age of the youngest generation [Myr].
        stellar_mass: Mass of all generations [M☉].
    """

    radius_pc: np.ndarray
    velocity_kms: np.ndarray
    shell_mass: np.ndarray
    cloud_radius_pc: np.ndarray
    momentum_phase: np.ndarray
    recollapsed: np.ndarray
    outside_cloud: np.ndarray
    feedback: np.ndarray
    drive_pressure: np.ndarray
    ion_pressure: np.ndarray
    radiation_pressure: np.ndarray
    generations: np.ndarray
    youngest_age_myr: np.ndarray
    stellar_mass: np.ndarray


def cooling_time_myr(l_mech: np.ndarray, density: np.ndarray, z_ratio: np.ndarray) -> np.ndarray:
    """Cooling time [Myr] of a wind bubble's interior (Mac Low & McCray 1988).

    Examples:
        >>> round(float(cooling_time_myr(1e40, 100.0, 1.0)), 2)
        1.97
    """
    return 16.0 * z_ratio ** (-35 / 22) * density ** (-8 / 11) * (l_mech / 1e38) ** (3 / 11)


class _Cloud:
    """Per-cluster constants and generations of the integration, in cgs."""

    def __init__(
        self,
        cloud_mass: np.ndarray,
        sfe: np.ndarray,
        density: np.ndarray,
        metallicity: np.ndarray,
        settings: ShellSettings,
        grid: FeedbackGrid,
    ) -> None:
        self.sfe = sfe
        self.births = np.zeros((sfe.size, 1))  # s, one column per generation
        self.stars = (sfe * cloud_mass)[:, None]  # Msun per generation
        self.gas = (1 - sfe) * cloud_mass * M_SUN
        self.rho = MU_H * M_H * density
        self.rho_ambient = MU_H * M_H * settings.ambient_density
        self.density = density
        self.z_ratio = metallicity / Z_SUN
        self.where = grid.locate(metallicity)
        self.grid = grid
        self.ion_pressure_constant = 2 * K_B * settings.ion_temperature

    @property
    def radius(self) -> np.ndarray:
        return (3 * self.gas / (4 * np.pi * self.rho)) ** (1 / 3)

    @property
    def star_mass(self) -> np.ndarray:
        return self.stars.sum(axis=1) * M_SUN

    @property
    def youngest_birth(self) -> np.ndarray:
        return np.where(np.isfinite(self.births), self.births, -np.inf).max(axis=1)

    def form_stars(self, rows: np.ndarray, time: np.ndarray) -> None:
        """A new generation from the cloud's remaining gas, in ``rows`` at ``time``."""
        index = np.flatnonzero(rows)
        generation = np.isfinite(self.births).sum(axis=1)[index]
        if generation.max() >= self.births.shape[1]:
            self.births = np.pad(self.births, ((0, 0), (0, 1)), constant_values=np.inf)
            self.stars = np.pad(self.stars, ((0, 0), (0, 1)))
        new = self.sfe[index] * self.gas[index]
        self.births[index, generation] = time[index]
        self.stars[index, generation] = new / M_SUN
        self.gas[index] -= new

    def feedback(self, t: np.ndarray) -> np.ndarray:
        total = 0.0
        for births, stars in zip(self.births.T, self.stars.T, strict=True):
            age = np.maximum(t - np.where(np.isinf(births), t, births), 1.0)
            total = total + self.grid.at(
                age / MYR, np.where(np.isinf(births), 0.0, stars), self.where
            )
        return total

    def forces(self, t, radius, momentum, mass, energy, momentum_phase):
        """Time derivatives of (R, p, M, E) and the pressures on the shell."""
        fb = self.feedback(t)
        radius = np.maximum(radius, 1e-3 * PC)  # RK stages of a collapsing shell may undershoot
        q, l_bol, l_wind, p_wind, l_sn, p_sn = fb.T
        area = 4 * np.pi * radius**2
        velocity = momentum / mass
        bubble = energy / (2 * np.pi * radius**3)
        ion = self.ion_pressure_constant * np.sqrt(3 * q / (4 * np.pi * ALPHA_B * radius**3))
        ram = (p_wind + p_sn) / area
        drive = np.where(momentum_phase, ram, bubble)
        push = np.where(momentum_phase, area * (ram + ion), area * np.maximum(bubble, ion))
        column = mass / area
        absorbed = 1 - np.exp(-KAPPA_DUST * self.z_ratio * column)
        radiation = absorbed * l_bol / C_LIGHT
        gravity = G_NEWTON * mass * (self.star_mass + mass / 2) / radius**2
        rho = np.where(radius < self.radius, self.rho, self.rho_ambient)
        d_mass = area * rho * np.maximum(velocity, 0.0)
        d_energy = np.where(momentum_phase, 0.0, l_wind + l_sn - area * velocity * bubble)
        derivatives = (velocity, push + radiation - gravity, d_mass, d_energy)
        return derivatives, (fb, drive, ion, radiation / area)


def _weaver_start(cloud: _Cloud, tau: np.ndarray, t: np.ndarray) -> list[np.ndarray]:
    """Weaver's self-similar bubble a time ``tau`` after the youngest burst: (R, p, M, E)."""
    l_mech = cloud.feedback(t)[:, [2, 4]].sum(axis=1)
    radius = WEAVER_CONSTANT * (l_mech * tau**3 / cloud.rho) ** 0.2
    mass = 4 / 3 * np.pi * radius**3 * cloud.rho
    return [radius, mass * 0.6 * radius / tau, mass, 5 / 11 * l_mech * tau]


def evolve_shell(
    age_myr: np.ndarray,
    cloud_mass: np.ndarray,
    sfe: np.ndarray,
    density: np.ndarray,
    metallicity: np.ndarray,
    settings: ShellSettings | None = None,
    grid: FeedbackGrid | None = None,
) -> ShellState:
    """Integrate the shell of each cluster from ``settings.start_myr`` to its age.

    Args:
        age_myr: Ages [Myr] of the first generation, each > ``settings.start_myr``.
        cloud_mass: Cloud masses [M☉] (gas + stars). sfe: Star-formation efficiencies.
        density: Cloud hydrogen densities [cm⁻³]. metallicity: Stellar and gas Z.
        settings: Model settings (defaults of :class:`ShellSettings`).
        grid: Feedback tables (default
            :func:`~simulators.star_cluster.feedback_table.feedback_grid`).

    Returns:
        The :class:`ShellState` at each age.
    """
    settings = ShellSettings() if settings is None else settings
    grid = feedback_grid() if grid is None else grid
    age_myr = np.asarray(age_myr, dtype=float)
    if np.any(age_myr <= settings.start_myr):
        raise ValueError(
            f"ages must exceed start_myr={settings.start_myr} Myr, got min {np.min(age_myr)}"
        )
    cloud = _Cloud(cloud_mass, sfe, density, metallicity, settings, grid)
    start, end = settings.start_myr * MYR, age_myr * MYR
    t = np.full(age_myr.shape, start)
    step = np.log(age_myr / settings.start_myr) / settings.num_steps  # in ln(t - youngest birth)
    state = _weaver_start(cloud, t, t)
    momentum_phase = np.zeros(age_myr.shape, dtype=bool)
    generations = np.ones(age_myr.shape, dtype=int)
    floor = settings.recollapse_radius_pc * PC

    def rate(tau, y):
        derivatives, _ = cloud.forces(tau + birth, *y, momentum_phase)
        return [tau * d for d in derivatives]  # d/d(ln tau)

    for remaining in range(settings.num_steps, 0, -1):
        birth = cloud.youngest_birth
        last_start = t
        tau = t - birth
        if settings.cooling:
            l_now = cloud.feedback(t)[:, [2, 4]].sum(axis=1)
            cooled = tau / MYR > cooling_time_myr(l_now, cloud.density, cloud.z_ratio)
        else:
            cooled = False
        momentum_phase |= cooled | (state[0] > cloud.radius)
        state[3] = np.where(momentum_phase, 0.0, state[3])
        tau_half, tau_next = tau * np.exp(step / 2), tau * np.exp(step)
        k1 = rate(tau, state)
        k2 = rate(tau_half, [y + step / 2 * k for y, k in zip(state, k1, strict=True)])
        k3 = rate(tau_half, [y + step / 2 * k for y, k in zip(state, k2, strict=True)])
        k4 = rate(tau_next, [y + step * k for y, k in zip(state, k3, strict=True)])
        state = [
            y + step / 6 * (a + 2 * b + 2 * c + d)
            for y, a, b, c, d in zip(state, k1, k2, k3, k4, strict=True)
        ]
        state[3] = np.maximum(state[3], 0.0)
        t = np.where(remaining == 1, end, birth + tau_next)
        collapsed = (state[0] < floor) & (state[1] < 0)
        if remaining > 1 and collapsed.any():
            # The shell falls onto the cluster: its gas forms the next generation (as in
            # WARPFIELD), whose bubble restarts the integration on a fresh clock.
            cloud.form_stars(collapsed, t)
            generations += collapsed
            left = end - t
            tau0 = np.clip(left * np.exp(-_MAX_RESTART_STEP * (remaining - 1)), start, left)
            fresh = _weaver_start(cloud, tau0, t + tau0)
            state = [np.where(collapsed, f, y) for f, y in zip(fresh, state, strict=True)]
            momentum_phase &= ~collapsed
            restart = np.log(left / tau0) / (remaining - 1)
            t = np.where(collapsed, t + tau0, t)
            step = np.where(collapsed, np.maximum(restart, 0.0), step)
    radius, momentum, mass, _ = state
    _, (fb, drive, ion, radiation) = cloud.forces(t, *state, momentum_phase)
    # A shell falling so fast that it would reach the cluster in less than the last step
    # lasted is caught in the plunge, which a step that long cannot resolve: counted as
    # recollapsed in the last step, like one already below the floor.
    falling = momentum < 0
    plunging = falling & (radius * mass < -momentum * (end - last_start))
    return ShellState(
        radius_pc=radius / PC,
        velocity_kms=momentum / mass / 1e5,
        shell_mass=mass,
        cloud_radius_pc=cloud.radius / PC,
        momentum_phase=momentum_phase.copy(),
        recollapsed=((radius < floor) & falling) | plunging,
        outside_cloud=radius > cloud.radius,
        feedback=fb,
        drive_pressure=drive,
        ion_pressure=ion,
        radiation_pressure=radiation,
        generations=generations,
        youngest_age_myr=(end - cloud.youngest_birth) / MYR,
        stellar_mass=cloud.star_mass / M_SUN,
    )
