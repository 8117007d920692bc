import numpy as np
import pytest

from sbinn.diagnostics import MetricResult
from sbinn.report.evaluate import evaluate_posteriors
from tests.report.support import doubling_simulator, gaussian_posteriors


def test_the_inputs_decide_which_diagnostics_run():
    theta, _, samples = gaussian_posteriors(num_obs=40, num_samples=400)
    sim = doubling_simulator()
    plain = evaluate_posteriors(samples, theta)
    assert sorted(plain) == ["posterior"]
    assert sorted(plain["posterior"]) == [
        "calibration_error",
        "coverage_error",
        "sbc_uniformity_p",
        "tarp_error",
    ]
    full = evaluate_posteriors(
        {"a": samples},
        theta,
        x_obs=2 * theta,
        simulator=sim,
        prior_samples=np.random.default_rng(0).normal(size=(500, 2)),
        reference_samples=samples[:, ::-1],
        c2st_observations=1,
    )
    assert {
        "rms_z_score",
        "mean_contraction",
        "resimulation_error_mean",
        "resimulation_error_median",
        "c2st",
        "mmd",
    } <= set(full["a"])


def test_an_over_confident_method_is_told_apart_from_an_exact_one():
    theta, _, exact = gaussian_posteriors(num_obs=400, num_samples=100, seed=1)
    _, _, narrow = gaussian_posteriors(num_obs=400, num_samples=100, seed=1, scale=0.5)
    found = evaluate_posteriors({"exact": exact, "narrow": narrow}, theta)
    for metric in ("calibration_error", "coverage_error", "tarp_error"):
        assert found["narrow"][metric].value > 3 * found["exact"][metric].value, metric
    sbc = {name: found[name]["sbc_uniformity_p"].value for name in found}
    assert sbc["narrow"] < 0.01 < sbc["exact"]


def test_metrics_computed_elsewhere_are_not_recomputed(monkeypatch):
    def must_not_run(*args, **kwargs):
        raise AssertionError("a skipped metric was recomputed")

    monkeypatch.setattr("sbinn.report.evaluate.calibration_error", must_not_run)
    monkeypatch.setattr("sbinn.report.evaluate.sbc_uniformity", must_not_run)
    theta, _, samples = gaussian_posteriors(num_obs=30)
    found = evaluate_posteriors(
        {"a": samples}, theta, skip={"a": ["calibration_error", "sbc_uniformity_p"]}
    )
    assert not {"calibration_error", "sbc_uniformity_p"} & set(found["a"])
    assert isinstance(found["a"]["coverage_error"], MetricResult)


def test_bad_inputs_say_what_was_expected():
    theta, _, samples = gaussian_posteriors(num_obs=30)
    with pytest.raises(ValueError, match="need both x_obs and simulator; got only x_obs"):
        evaluate_posteriors(samples, theta, x_obs=theta)
    with pytest.raises(ValueError, match="one row per observation"):
        evaluate_posteriors(samples, theta[:5])
    with pytest.raises(ValueError, match="at least one method"):
        evaluate_posteriors({}, theta)
