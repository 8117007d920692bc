# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Quick start: your own simulator, a cINN, and the evidence that its posteriors hold
#
# A cup of coffee cools towards room temperature. A cheap logger reads its temperature
# every few minutes, with a little noise. From one such cooling curve we want the cooling
# rate `k` and the room temperature `T_room`, with honest uncertainties. Newton's law of
# cooling is the forward model:
#
# $$T(t) = T_\mathrm{room} + (T_0 - T_\mathrm{room})\, e^{-k t},$$
#
# with the coffee starting at $T_0 = 90\,^\circ\mathrm{C}$.
#
# That is all sbinn needs: a prior over the parameters and a function that simulates data
# from them. This tutorial wraps the function, trains a conditional invertible network
# (cINN) on simulations, samples posteriors for new curves in milliseconds, checks that
# those posteriors are calibrated, and hands them to ArviZ and to a report a colleague can
# open in a browser.
#
# **The budget.** The next cell holds the tutorial's one parameter. `SMALL = True` (what
# the test suite runs, by setting `SBINN_TUTORIAL_SMALL=1`) trains on a few thousand
# simulations for a few epochs, so the whole notebook runs in about a minute; its numbers
# show that the code works, **not** that the method does. Leave it `False` for the real
# result (a few minutes on a laptop CPU).

# %% tags=["parameters"]
import os

SMALL = os.environ.get("SBINN_TUTORIAL_SMALL") == "1"  # CI runs the small budget

# %%
import arviz as az
import matplotlib.pyplot as plt
import numpy as np

from sbinn import FunctionSimulator, JointPrior, LogUniform, Uniform
from sbinn.diagnostics import calibration_error, expected_coverage
from sbinn.methods import CINN
from sbinn.report import CalibrationReport, to_inference_data
from sbinn.report.plots import plot_calibration_curves, plot_corner
from sbinn.train import TrainingConfig

NUM_SIMULATIONS = 4_000 if SMALL else 100_000
NUM_EPOCHS = 3 if SMALL else 30
NUM_TEST = 100 if SMALL else 1_000
NUM_SAMPLES = 200 if SMALL else 1_000

# %% [markdown]
# ## 1. The simulator in ten lines
#
# The prior says what we believe before looking: the cooling rate spans an order of
# magnitude (log-uniform between 0.01 and 0.1 per minute), the room is somewhere between
# 15 and 30 °C. The simulator takes a batch of parameters `theta` of shape `(n, 2)` and a
# random generator, and returns `n` curves of 12 readings, one every 5 minutes, with
# 0.5 °C of logger noise.

# %%
prior = JointPrior({"k": LogUniform(0.01, 0.1), "T_room": Uniform(15.0, 30.0)})
minutes = np.arange(0.0, 60.0, 5.0)


def cooling_curve(theta, rng):
    k, t_room = theta[:, :1], theta[:, 1:]
    clean = t_room + (90.0 - t_room) * np.exp(-k * minutes)
    return clean + 0.5 * rng.standard_normal(clean.shape)


simulator = FunctionSimulator(cooling_curve, prior)
print(simulator.parameter_names, simulator.observation_names[:3], "...")

# %% [markdown]
# `FunctionSimulator` probes the function once to find the observation's shape, and
# `sample_joint` draws parameters from the prior and simulates them. Simulations that come
# back as NaN or inf, or raise, would be counted and dropped; none do here. A few prior
# draws show what the network will learn from:

# %%
theta_show, x_show = simulator.sample_joint(8, seed=0)
fig, ax = plt.subplots(figsize=(6, 3.5))
for (k, t_room), curve in zip(theta_show, x_show, strict=True):
    ax.plot(minutes, curve, "o-", ms=3, label=f"k={k:.3f}, T_room={t_room:.1f}")
ax.set(xlabel="time [min]", ylabel="temperature [°C]", title="Simulated cooling curves")
ax.legend(fontsize=6, ncol=2)
plt.show()

# %% [markdown]
# ## 2. Train a conditional INN
#
# The cINN learns $q(\theta \mid x)$ for every $x$ at once (amortised inference): one
# training run, then posteriors for any number of new curves without new simulations.
# `fit(simulator=..., num_simulations=...)` simulates its own training set, holds out a
# validation part, and trains by maximum likelihood. Both parameters are bounded by their
# prior; `parameter_bounds` lets the network learn them mapped onto the real line, so no
# sample ever leaves the prior's support (a negative cooling rate would be nonsense).

# %%
cinn = CINN(parameter_bounds=[tuple(b) for b in prior.bounds], seed=0).fit(
    simulator=simulator,
    num_simulations=NUM_SIMULATIONS,
    training=TrainingConfig(num_epochs=NUM_EPOCHS, progress=False),
)
history = cinn.history
print(f"trained {len(history.train_loss)} epochs on {cinn.num_simulations} simulations")
print(f"final validation NLL: {history.validation_loss[-1]:.3f} nats")

# %% [markdown]
# ## 3. Posteriors for new observations
#
# Held-out curves with known true parameters play the part of new measurements. `sample`
# returns an array of shape `(n_obs, num_samples, 2)`: one posterior per curve, the same
# shape every sbinn method returns. The corner plot shows the first curve's posterior
# (blue) over the prior (grey), with the true values as black lines.

# %%
theta_test, x_test = simulator.sample_joint(NUM_TEST, seed=1)
samples = cinn.sample(x_test, NUM_SAMPLES, seed=2)
print(samples.shape)

fig = plot_corner(
    samples,
    theta_test,
    observation=0,
    prior_samples=prior.sample(2_000, np.random.default_rng(3)),
    parameter_names=list(simulator.parameter_names),
)
plt.show()

# %% [markdown]
# ## 4. Are the posteriors calibrated?
#
# A posterior is only useful if its credible intervals mean what they say: the truth
# should fall inside the central 68% interval for 68% of the test curves, and so on for
# every level α. The calibration curve plots that share minus α; the calibration error
# is the median of its absolute value over α (the definition of Ardizzone's thesis), and
# the expected coverage asks the same question of highest-density regions. A curve above
# zero means the posteriors are too wide (under-confident), below zero too narrow
# (over-confident, the dangerous side).
# Small-budget numbers come from a barely trained network and a few test curves: they
# are not meaningful.

# %%
error = calibration_error(samples, theta_test, parameter_names=prior.names)
coverage = expected_coverage(samples, theta_test, parameter_names=prior.names)
print(f"calibration error: {error.value:.2%} (68% interval {error.low:.2%} to {error.high:.2%})")
print("per parameter:", {n: f"{v:.2%}" for n, v in error.per_dimension.items()})
print(error.method)

fig = plot_calibration_curves(samples, theta_test, parameter_names=list(prior.names))
plt.show()

# %%
print(coverage)
print(coverage.method)

# %% [markdown]
# ## 5. Hand the samples to ArviZ
#
# `to_inference_data` turns samples into an `arviz.InferenceData`, here for the first
# test curve, with the observation and re-simulated curves (the posterior predictive)
# attached, so every ArviZ summary and plot works on it.

# %%
idata = to_inference_data(
    samples[0], x_obs=x_test[0], simulator=simulator, num_predictive=100, seed=4
)
print(az.summary(idata, kind="stats"))
truth = {n: round(float(v), 3) for n, v in zip(prior.names, theta_test[0], strict=True)}
print("true values:", truth)

# %% [markdown]
# ## 6. A calibration report for a colleague
#
# `CalibrationReport` runs every diagnostic the inputs allow (calibration, SBC, coverage,
# TARP, z-scores and contraction, re-simulation errors, a prior-predictive check of the
# observations) and writes one self-contained HTML file with its numbers in a JSON file
# next to it.

# %%
report = CalibrationReport(
    {"cinn": samples}, theta_test, x_obs=x_test, simulator=simulator, title="Cooling curves"
)
report.write("calibration.html")
print(sorted(os.listdir(".")))

# %% [markdown]
# ## What next
#
# - `02_inverse_kinematics` compares the cINN with the bidirectional INN and with ABC on
#   a problem whose posteriors are multimodal.
# - `05_trust` shows the stability and misspecification checks, and what to do when they
#   fail.
