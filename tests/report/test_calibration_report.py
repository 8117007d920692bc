import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from sbinn.report import CalibrationReport
from tests.report.support import doubling_simulator, gaussian_posteriors


@pytest.fixture(scope="module")
def report():
    theta, _, samples = gaussian_posteriors(num_obs=60, num_samples=80)
    _, _, narrow = gaussian_posteriors(num_obs=60, num_samples=80, scale=0.5)
    return CalibrationReport(
        {"exact": samples, "narrow": narrow},
        theta,
        x_obs=2 * theta,
        simulator=doubling_simulator(),
        title="Test <report>",
        method_info={"exact": {"time_s": {"training": 1.5}, "simulations": 100}},
        context={"command": "pytest"},
        num_check_simulations=400,
    )


def test_write_gives_html_and_json_with_every_metric(report, tmp_path):
    html_path, json_path = report.write(tmp_path / "sub" / "r.html")
    assert json_path == tmp_path / "sub" / "r.json"
    numbers = json.loads(json_path.read_text())
    page = html_path.read_text()
    for method in ("exact", "narrow"):
        metrics = numbers["methods"][method]["metrics"]
        assert {"calibration_error", "coverage_error", "resimulation_error_mean"} <= set(metrics)
        for name, entry in metrics.items():
            assert entry["method"], name
            assert f"{entry['value']:.4g}" in page, (method, name)
    assert numbers["methods"]["exact"]["time_s"] == {"training": 1.5}
    assert numbers["misspecification"]["details"]["level"] == 0.05
    assert numbers["versions"]["numpy"] == np.__version__
    assert "Test &lt;report&gt;" in page
    assert page.count("<img ") == 3 + 2 + 1 + 2  # calibration, accuracy, overlay, corners
    assert not list(tmp_path.rglob("*.partial"))


def test_the_over_confident_method_reads_worse_in_the_numbers(report):
    metrics = report.to_json()["methods"]
    assert metrics["narrow"]["metrics"]["coverage_error"]["value"] > 0.2
    assert metrics["exact"]["metrics"]["coverage_error"]["value"] < 0.15


def test_an_interrupted_write_keeps_the_previous_report(report, tmp_path, monkeypatch):
    html_path, _ = report.write(tmp_path / "r.html")
    before = html_path.read_text()

    def fail():
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "to_html", fail)
    with pytest.raises(KeyboardInterrupt):
        report.write(tmp_path / "r.html")
    assert html_path.read_text() == before


def test_without_a_simulator_the_check_is_skipped_and_said_so():
    theta, _, samples = gaussian_posteriors(num_obs=30)
    report = CalibrationReport(samples, theta)
    assert report.misspecification is None and report.to_json()["misspecification"] is None
    assert "Not checked: needs a simulator" in report.to_html()


def test_bad_arguments_are_reported(report, tmp_path):
    theta, _, samples = gaussian_posteriors(num_obs=30)
    with pytest.raises(ValueError, match=r"must end in \.html, got"):
        report.write(tmp_path / "r.pdf")
    with pytest.raises(ValueError, match=r"method_info names methods without samples: \['b'\]"):
        CalibrationReport({"a": samples}, theta, method_info={"b": {}})


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium")
def test_the_report_renders_in_headless_chromium_without_console_errors(report, tmp_path):
    html_path, _ = report.write(tmp_path / "r.html")
    run = subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=10000",
            "--dump-dom",
            html_path.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    # Chromium logs every console message, errors and uncaught exceptions included, as CONSOLE.
    assert ":CONSOLE" not in run.stderr, run.stderr
    check = re.search(r'id="image-check"[^>]*data-rendered="(\d+)" data-total="(\d+)"', run.stdout)
    assert check is not None, "the page's image check did not run"
    assert int(check[1]) == int(check[2]) == 8


def test_observations_unlike_the_simulations_are_shown_in_red(report):
    assert 'class="flag"' not in report._observation_section().parts[0]
    theta, _, samples = gaussian_posteriors(num_obs=60, num_samples=80)
    shifted = CalibrationReport(
        samples, theta, x_obs=2 * theta + 20.0, simulator=doubling_simulator()
    )
    assert shifted.misspecification.value == 1.0
    assert shifted._observation_section().parts[0].startswith('<p class="flag">60 of 60')


class CountingSimulator:
    """Wraps the doubling simulator and counts the rows it is asked to simulate."""

    def __new__(cls):
        simulator = doubling_simulator()
        simulator.rows = 0
        original = simulator.simulate

        def simulate(theta, rng=None):
            simulator.rows += len(theta)
            return original(theta, rng)

        simulator.simulate = simulate
        return simulator


def test_given_distances_and_check_simulations_spare_the_simulator():
    theta, _, samples = gaussian_posteriors(num_obs=30, num_samples=40)
    simulator = CountingSimulator()
    distances = np.abs(np.random.default_rng(0).normal(size=(30, 1)))
    report = CalibrationReport(
        {"map": samples},
        theta,
        x_obs=2 * theta,
        simulator=simulator,
        resimulation_distances={"map": distances},
        check_simulations=2 * simulator.prior.sample(500, np.random.default_rng(1)),
    )
    assert simulator.rows == 0
    mean = report.metrics["map"]["resimulation_error_mean"]
    assert mean.value == pytest.approx(distances.mean())
    assert "MAP" in mean.method
    assert "MAP estimate (log scale)" in report.to_html()
    assert simulator.rows == 0


def test_too_few_samples_for_a_corner_plot_give_a_note_not_a_failure():
    theta, _, samples = gaussian_posteriors(num_obs=20, num_samples=2)
    html = CalibrationReport({"sparse": samples}, theta).to_html()
    assert "sparse: no corner plot, 2 samples per observation are too few" in html


@pytest.mark.parametrize(
    ("distances", "match"),
    [
        ({"other": np.ones((30, 1))}, "names methods without samples"),
        ({"a": np.ones(30)}, "shape"),
        ({"a": np.ones((31, 1))}, r"m <= 30 observations"),
    ],
)
def test_malformed_distances_are_refused(distances, match):
    theta, _, samples = gaussian_posteriors(num_obs=30)
    with pytest.raises(ValueError, match=match):
        CalibrationReport({"a": samples}, theta, resimulation_distances=distances)
