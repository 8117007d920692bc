"""The calibration report: one HTML file, and one JSON file with every number in it.

A report compares one or several methods' posterior samples for the same test
observations. It runs the diagnostic suite (:func:`sbinn.report.evaluate.evaluate_posteriors`),
draws the plots of :mod:`sbinn.report.plots`, checks whether the observations look like
the simulator's output at all (:class:`sbinn.diagnostics.PriorPredictiveCheck`), and writes
it all, with settings, timings, seeds and package versions, to a self-contained page.

From a notebook, comparing methods takes one call::

    report = CalibrationReport({"cinn": cinn_samples, "abc": abc_samples}, theta_test,
                               x_obs=x_test, simulator=simulator)
    report.write("calibration.html")    # also writes calibration.json

Examples:
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> rng = np.random.default_rng(0)
    >>> theta = rng.normal(size=(100, 2))
    >>> report = CalibrationReport({"demo": theta[:, None] + rng.normal(size=(100, 50, 2))},
    ...                            theta, title="Demo")
    >>> report.to_json()["methods"]["demo"]["metrics"]["calibration_error"]["value"] > 0
    True
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from scipy.stats import binomtest

from sbinn._environment import package_versions
from sbinn.diagnostics import (
    MetricResult,
    PriorPredictiveCheck,
    flagged_fraction,
    resimulation_error_from_distances,
)
from sbinn.report.evaluate import evaluate_posteriors
from sbinn.report.html import Section, figure_html, preformatted, render_page, table
from sbinn.report.plots import (
    plot_calibration_curves,
    plot_corner,
    plot_coverage,
    plot_posterior_overlay,
    plot_recovery,
    plot_resimulation_distances,
    plot_resimulation_errors,
    plot_sbc,
)
from sbinn.report.plots._common import as_method_samples
from sbinn.report.stability_table import stability_table
from sbinn.simulator import Simulator

__all__ = ["CalibrationReport"]


def _jsonable(value: object) -> object:
    """Arrays, numpy scalars and non-finite floats in strict-JSON form (NaN/inf as None)."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (np.generic, float)):
        value = value.item() if isinstance(value, np.generic) else value
        if isinstance(value, float) and not np.isfinite(value):
            return None
    return value


def _metric_json(result: MetricResult) -> dict:
    return result.to_json() | {"method": result.method, "details": _jsonable(result.details)}


def _cell(result: MetricResult | None) -> str:
    if result is None:
        return "-"
    return f"{result.value:.4g} [{result.low:.3g}, {result.high:.3g}]"


class CalibrationReport:
    """Diagnostics, plots and an HTML page for one or several methods on one simulator.

    Args:
        samples: ``{method: posterior samples (n_obs, num_samples, dim_theta)}``, or one
            array (named ``"posterior"``).
        theta_true: True parameters of the test observations, ``(n_obs, dim_theta)``.
        x_obs: The test observations; with ``simulator``, enables re-simulation errors and
            the prior-predictive check.
        simulator: The simulator the observations came from.
        prior_samples: Prior draws ``(num_prior, dim_theta)``: contraction, and the prior in
            the corner plots. Drawn from ``simulator.prior`` when not given.
        reference_samples: True-posterior draws ``(n_obs, num_reference, dim_theta)``:
            C2ST and MMD.
        parameter_names: Names of the parameters (default: the simulator's).
        title: Page title.
        method_info: ``{method: {...}}`` shown and saved with each method, e.g. the
            benchmark's ``time_s``, ``simulations``, ``settings`` and a ``stability``
            summary.
        metrics: ``{method: {name: MetricResult}}`` computed elsewhere (e.g. a held-out NLL);
            shown as given and not recomputed.
        context: Anything describing the run (command, seeds), shown and saved as is.
        resimulation_distances: ``{method: (n_obs, k) distances}`` already simulated (see
            :func:`sbinn.diagnostics.resimulation_distances`; ``k = 1`` for MAP estimates;
            fewer rows than observations: the first ones only).
            The re-simulation errors and their plot use them, and the simulator is not run
            again for them: for slow simulators, or when the caller has them anyway.
        num_check_simulations: Held-out prior-predictive simulations of the check.
        check_simulations: Prior-predictive simulations ``(n, dim_x)`` the check may use
            instead of running the simulator (e.g. a benchmark's training set: the test
            observations are independent of it); at most ``num_check_simulations`` are used.
        seed: Seed of every bootstrap, plot and check simulation.
    """

    def __init__(
        self,
        samples: Mapping[str, object] | object,
        theta_true: object,
        *,
        x_obs: object = None,
        simulator: Simulator | None = None,
        prior_samples: object = None,
        reference_samples: object = None,
        parameter_names: Sequence[str] | None = None,
        title: str = "sbinn calibration report",
        method_info: Mapping[str, Mapping] | None = None,
        metrics: Mapping[str, Mapping[str, MetricResult]] | None = None,
        context: Mapping | None = None,
        num_check_simulations: int = 4000,
        seed: int = 0,
        resimulation_distances: Mapping[str, object] | None = None,
        check_simulations: object = None,
    ) -> None:
        self.samples = {label or "posterior": s for label, s in as_method_samples(samples)}
        unknown = set(method_info or {}) - set(self.samples)
        if unknown:
            raise ValueError(
                f"method_info names methods without samples: {sorted(unknown)}; "
                f"expected from {sorted(self.samples)}"
            )
        self.theta_true = np.asarray(theta_true, dtype=np.float64)
        self.x_obs, self.simulator = x_obs, simulator
        if parameter_names is None and simulator is not None:
            parameter_names = list(simulator.parameter_names)
        self.parameter_names = parameter_names
        if prior_samples is None and simulator is not None:
            prior_samples = simulator.prior.sample(2000, np.random.default_rng(seed))
        self.prior_samples = prior_samples
        self.title, self.seed = title, seed
        self.context = dict(context or {})
        self.method_info = {name: dict((method_info or {}).get(name, {})) for name in self.samples}
        given = {name: dict(found) for name, found in (metrics or {}).items()}
        self.resimulation_distances = self._given_distances(resimulation_distances)
        for name, distances in self.resimulation_distances.items():
            found = given.setdefault(name, {})
            if not {"resimulation_error_mean", "resimulation_error_median"} <= set(found):
                mean, median = resimulation_error_from_distances(
                    distances,
                    at="map" if distances.shape[1] == 1 else "posterior",
                    simulator_name=getattr(simulator, "name", "simulator"),
                    seed=seed,
                )
                found |= {mean.name: mean, median.name: median}
        computed = evaluate_posteriors(
            self.samples,
            self.theta_true,
            x_obs=x_obs,
            simulator=simulator,
            prior_samples=prior_samples,
            reference_samples=reference_samples,
            parameter_names=parameter_names,
            skip={name: list(found) for name, found in given.items()},
            seed=seed,
        )
        self.metrics = {name: computed[name] | given.get(name, {}) for name in self.samples}
        self.misspecification = self._check_observations(num_check_simulations, check_simulations)

    def _given_distances(self, distances: Mapping[str, object] | None) -> dict[str, np.ndarray]:
        if distances is None:
            return {}
        unknown = set(distances) - set(self.samples)
        if unknown:
            raise ValueError(
                f"resimulation_distances names methods without samples: {sorted(unknown)}; "
                f"expected from {sorted(self.samples)}"
            )
        checked = {}
        for name, values in distances.items():
            values = np.asarray(values, dtype=np.float64)
            n_obs = self.samples[name].shape[0]
            # Fewer rows are the first observations only (a slow simulator's subset).
            if values.ndim != 2 or not 0 < values.shape[0] <= n_obs or values.shape[1] == 0:
                raise ValueError(
                    f"resimulation_distances[{name!r}] must have shape (m, k) with "
                    f"m <= {n_obs} observations, got {values.shape}"
                )
            checked[name] = values
        return checked

    def _check_observations(self, num_simulations: int, given: object) -> MetricResult | None:
        """Fraction of test observations a prior-predictive check flags, where it applies."""
        if self.simulator is None or np.ndim(self.x_obs) != 2:
            return None  # sets and images need a summary network; see PriorPredictiveCheck
        if given is not None:
            x_reference = np.asarray(given, dtype=np.float64)[:num_simulations]
        else:
            _, x_reference = self.simulator.sample_joint(num_simulations, seed=self.seed + 1)
        check = PriorPredictiveCheck().fit(x_reference, seed=self.seed)
        return flagged_fraction(check, self.x_obs, seed=self.seed)

    def to_json(self) -> dict:
        """Every number of the report, with how it was computed, as strict JSON."""
        first = next(iter(self.samples.values()))
        return {
            "title": self.title,
            "num_observations": int(first.shape[0]),
            "num_samples": {name: int(s.shape[1]) for name, s in self.samples.items()},
            "parameter_names": self.parameter_names,
            "seed": self.seed,
            "context": _jsonable(self.context),
            "versions": package_versions(),
            "methods": {
                name: {
                    "metrics": {key: _metric_json(r) for key, r in self.metrics[name].items()},
                    **_jsonable(self.method_info[name]),
                }
                for name in self.samples
            },
            "misspecification": None
            if self.misspecification is None
            else _metric_json(self.misspecification),
        }

    def _summary_section(self) -> Section:
        names = sorted({key for found in self.metrics.values() for key in found})
        rows = [[key] + [_cell(self.metrics[m].get(key)) for m in self.samples] for key in names]
        parts = [
            table(["metric", *self.samples], rows),
            '<p class="note">Each cell: value [bootstrap interval over test observations].</p>',
        ]
        timed = [m for m in self.samples if "time_s" in self.method_info[m]]
        if timed:
            keys = sorted({k for m in timed for k in self.method_info[m]["time_s"]})
            rows = [
                [m, self.method_info[m].get("simulations", "-")]
                + [f"{self.method_info[m]['time_s'].get(k, 0.0):.1f}" for k in keys]
                for m in timed
            ]
            parts.append(table(["method", "simulations", *(f"{k} [s]" for k in keys)], rows))
        parts.extend(stability_table(self.method_info))
        return Section("Summary", parts)

    def _figures(self) -> list[Section]:
        names, theta = self.parameter_names, self.theta_true
        samples = self.samples
        calibration = [
            figure_html(
                plot_calibration_curves(samples, theta, parameter_names=names, seed=self.seed),
                "Calibration curves: α_inl − α against α per parameter (thesis Fig. 4.10); "
                "below zero is over-confident.",
            ),
            figure_html(
                plot_sbc(samples, theta, parameter_names=names, seed=self.seed),
                "SBC rank histograms and ECDF differences with simultaneous 95% bands.",
            ),
            figure_html(
                plot_coverage(samples, theta, seed=self.seed),
                "Expected coverage of joint credible regions against their credibility.",
            ),
        ]
        accuracy = [
            figure_html(
                plot_recovery(samples, theta, parameter_names=names),
                "Recovery: posterior mean ± standard deviation against the true value.",
            )
        ]
        if self.resimulation_distances:
            at_map = all(d.shape[1] == 1 for d in self.resimulation_distances.values())
            accuracy.append(
                figure_html(
                    plot_resimulation_distances(self.resimulation_distances, log_scale=True),
                    "Re-simulation errors ‖s(θ̂) − x*‖ of "
                    + ("each observation's MAP estimate" if at_map else "posterior samples")
                    + " (log scale).",
                )
            )
        elif self.simulator is not None:
            accuracy.append(
                figure_html(
                    plot_resimulation_errors(
                        samples, self.x_obs, self.simulator, log_scale=True, seed=self.seed
                    ),
                    "Re-simulation errors ‖s(θ) − x*‖ of posterior samples (log scale: "
                    "errors span decades, and the tail is where methods differ).",
                )
            )
        posteriors = [
            figure_html(
                plot_posterior_overlay(samples, theta, observation=0, parameter_names=names),
                "All methods' marginal posteriors of test observation 0; the line is the "
                "true value.",
            )
        ]
        for method, method_samples in samples.items():
            if method_samples.shape[1] <= method_samples.shape[2]:
                # A corner plot needs more samples than parameters (ABC keeping 0.5% of a
                # small budget may have fewer); say so rather than fail the whole report.
                posteriors.append(
                    f'<p class="note">{html.escape(method)}: no corner plot, '
                    f"{method_samples.shape[1]} samples per observation are too few for "
                    f"{method_samples.shape[2]} parameters.</p>"
                )
                continue
            posteriors.append(
                figure_html(
                    plot_corner(
                        method_samples,
                        theta,
                        observation=0,
                        prior_samples=self.prior_samples,
                        parameter_names=names,
                    ),
                    f"{method}: posterior of test observation 0 (prior in grey).",
                )
            )
        return [
            Section("Calibration", calibration),
            Section("Accuracy", accuracy),
            Section("Posteriors", posteriors),
        ]

    def _observation_section(self) -> Section:
        if self.misspecification is None:
            return Section(
                "Are the observations like the simulations?",
                ['<p class="note">Not checked: needs a simulator and vector observations.</p>'],
            )
        result = self.misspecification
        level = result.details["level"]
        expected = result.details["expected_if_well_specified"]
        num_obs = len(result.details["p_values"])
        flagged = round(result.value * num_obs)
        # Red only on evidence: the 68% interval alone would exclude the level for about one
        # well-specified test set in six.
        excess = binomtest(flagged, num_obs, expected, alternative="greater").pvalue
        flag = ' class="flag"' if excess < 0.01 else ""
        return Section(
            "Are the observations like the simulations?",
            [
                f"<p{flag}>{flagged} of {num_obs} test observations ({100 * result.value:.1f}%, "
                f"interval {100 * result.low:.1f}–{100 * result.high:.1f}%) flagged at level "
                f"{level}; at most {100 * expected:.0f}% are expected when they come from the "
                f"prior predictive distribution (one-sided binomial test of more: p = "
                f"{excess:.2g}).</p>",
                f'<p class="note">{result.method}</p>',
            ],
        )

    def to_html(self) -> str:
        """The report as one self-contained HTML document."""
        sections = [self._summary_section(), *self._figures(), self._observation_section()]
        how = {key: r.method for found in self.metrics.values() for key, r in found.items()}
        sections.append(
            Section(
                "How each number was computed",
                [table(["metric", "method"], [[k, v] for k, v in sorted(how.items())])],
            )
        )
        details = [f"<h3>{m}</h3>" + preformatted(info) for m, info in self.method_info.items()]
        sections.append(Section("Methods: settings, timings, stability", details))
        reproducibility = {"seed": self.seed, "context": self.context}
        sections.append(
            Section(
                "Reproducibility",
                [preformatted(_jsonable(reproducibility)), preformatted(package_versions())],
            )
        )
        first = next(iter(self.samples.values()))
        intro = (
            f"{first.shape[0]} test observations; methods: {', '.join(self.samples)}. "
            "Every number shown is also in the JSON file written next to this page."
        )
        return render_page(self.title, sections, intro=intro)

    def write(self, path: str | Path) -> tuple[Path, Path]:
        """Write the HTML page to ``path`` and the JSON numbers next to it (``.json``).

        Both are written to temporary files first and then renamed, so an interrupted
        run never leaves a half-written report in place of an older complete one.
        """
        path = Path(path)
        if path.suffix.lower() not in (".html", ".htm"):
            raise ValueError(f"the report path must end in .html, got {str(path)!r}")
        json_path = path.with_suffix(".json")
        for target, text in (
            (json_path, json.dumps(self.to_json(), indent=2, allow_nan=False) + "\n"),
            (path, self.to_html()),
        ):
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + ".partial")
            partial.write_text(text, encoding="utf-8")
            partial.replace(target)
        return path, json_path
