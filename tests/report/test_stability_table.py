"""The report's stability table: a few numbers per checked network, nothing otherwise."""

from __future__ import annotations

import pytest

from sbinn.report import CalibrationReport
from sbinn.report.stability_table import stability_table
from tests.report.support import gaussian_posteriors


def entry(sample_max, flagged):
    return {
        "checked": True,
        "training": {"round_trip_z": {"error": {"max": 4.2e-7}, "non_finite_fraction": 0.0}},
        "samples": {
            "round_trip_z": {"error": {"max": sample_max}, "non_finite_fraction": 0.25},
            "jacobian_inverse": {"condition_number": {"q99": 1234.5}},
        },
        "reliability": {"flagged_fraction": flagged, "num_observations": 4},
    }


def test_one_row_per_checked_network_with_infinite_values_written_as_inf():
    info = {
        "inn": {"stability": entry(None, 0.5)},  # null: the worst round trip overflowed
        "dropout": {"stability": {"checked": False, "reason": "not an invertible network"}},
        "abc": {"time_s": {"simulation": 1.0}},
    }
    html = "".join(stability_table(info))
    assert html.count("<tr>") == 2  # header and the INN
    for cell in ("inn", "4.2e-07", "inf", "25%", "1.2e+03", "50%"):
        assert f"<td>{cell}</td>" in html
    assert "dropout" not in html and "abc" not in html


def test_the_report_summary_shows_the_table():
    theta, _, samples = gaussian_posteriors(num_obs=20, num_samples=30)
    page = CalibrationReport(
        {"cinn": samples},
        theta,
        method_info={"cinn": {"stability": entry(2e-6, 0.0)}},
    ).to_html()
    summary = page[page.index("Summary") : page.index("How each number was computed")]
    assert "flagged observations" in summary and "<td>2e-06</td>" in summary


@pytest.mark.parametrize("info", [{}, {"abc": {}}, {"dropout": {"stability": {"checked": False}}}])
def test_nothing_is_shown_without_a_checked_network(info):
    assert stability_table(info) == []
