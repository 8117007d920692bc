"""The ``sbinn`` command line."""

from __future__ import annotations

import json

import pytest

from sbinn.cli import main

SMALL = ["--num-test", "20", "--num-samples", "30", "--simulations", "3000", "--quiet"]
ABC = ["--methods", "abc"]


def test_benchmark_prints_the_table_and_writes_json(tmp_path, capsys):
    out = tmp_path / "result.json"
    assert main(["benchmark", "kinematics", *SMALL, *ABC, "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "calibration err." in printed and "abc" in printed
    record = json.loads(out.read_text())
    assert record["methods"]["abc"]["simulations"] == 3000
    assert not list(tmp_path.glob("*.partial"))


def test_scientific_notation_is_accepted_for_budgets(tmp_path):
    out = tmp_path / "r.json"
    assert (
        main(
            [
                "benchmark",
                "kinematics",
                *SMALL[:4],
                *ABC,
                "--simulations",
                "4e3",
                "--quiet",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    assert json.loads(out.read_text())["methods"]["abc"]["simulations"] == 4000


@pytest.mark.parametrize(
    "argv",
    [
        ["benchmark", "nonexistent"],
        ["benchmark", "kinematics", "--num-test", "0"],
        ["benchmark", "kinematics", "--num-samples", "many"],
        ["benchmark", "kinematics", "--methods", "magic"],
        [],
    ],
)
def test_bad_arguments_exit_with_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "error" in capsys.readouterr().err


def test_missing_json_directory_is_reported_before_any_work(tmp_path, capsys):
    code = main(["benchmark", "kinematics", *SMALL, "--json", str(tmp_path / "no" / "r.json")])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err


def test_markdown_table_and_hyphenated_simulator_name(tmp_path, capsys):
    table = tmp_path / "table.md"
    argv = ["benchmark", "gaussian-mixture", *SMALL, *ABC, "--markdown", str(table)]
    assert main(argv) == 0
    text = table.read_text()
    assert text.startswith("```text\ngaussian_mixture:") and text.rstrip().endswith("```")
    assert "abc label_fidelity: red inside_fraction=" in text
    assert f"wrote {table}" in capsys.readouterr().out


def test_the_default_compares_abc_and_both_invertible_networks():
    from sbinn.cli import _default_methods, _parser

    assert _parser().parse_args(["benchmark", "kinematics"]).methods is None
    assert _default_methods("kinematics") == ["abc", "inn", "cinn"]
    # The bidirectional INN needs fixed-length observations; the colour-magnitude sets are not.
    assert _default_methods("cluster_cmd") == ["abc", "cinn"]


def test_the_default_methods_reach_the_benchmark(monkeypatch, capsys):
    import sbinn.cli

    seen = {}

    def fake_run(simulator, methods, **kwargs):
        seen[simulator] = methods
        return {"simulator": simulator, "num_test_observations": 1, "seed": 0, "methods": {}}

    monkeypatch.setattr(sbinn.cli, "run_benchmark", fake_run)
    assert main(["benchmark", "cluster-cmd", "--quiet"]) == 0
    assert main(["benchmark", "kinematics", "--quiet", "--methods", "abc"]) == 0
    assert seen == {"cluster_cmd": ["abc", "cinn"], "kinematics": ["abc"]}


def test_methods_may_be_separated_by_commas_or_spaces():
    from sbinn.cli import _parser

    args = _parser().parse_args(["benchmark", "kinematics", "--methods", "inn,cinn", "abc"])
    assert args.methods == [["inn", "cinn"], ["abc"]]


def test_an_unknown_method_in_a_comma_list_is_named(capsys):
    with pytest.raises(SystemExit):
        main(["benchmark", "kinematics", "--methods", "abc,magic"])
    assert "unknown method magic; expected from abc" in capsys.readouterr().err


def test_report_writes_html_and_json_next_to_it(tmp_path, capsys):
    report = tmp_path / "report.html"
    assert main(["benchmark", "kinematics", *SMALL, *ABC, "--report", str(report)]) == 0
    numbers = json.loads(report.with_suffix(".json").read_text())
    assert numbers["methods"]["abc"]["simulations"] == 3000
    assert "calibration_error" in numbers["methods"]["abc"]["metrics"]
    assert report.read_text().startswith("<!DOCTYPE html>")
    printed = capsys.readouterr().out
    assert f"wrote {report}" in printed and f"wrote {report.with_suffix('.json')}" in printed


def test_a_report_path_that_is_not_html_is_refused_before_any_work(tmp_path, capsys):
    assert main(["benchmark", "kinematics", *SMALL, "--report", str(tmp_path / "r.pdf")]) == 2
    assert "--report needs an .html path" in capsys.readouterr().err


def test_a_json_path_the_report_would_overwrite_is_refused_before_any_work(tmp_path, capsys):
    args = ["--report", str(tmp_path / "r.html"), "--json", str(tmp_path / "r.json")]
    assert main(["benchmark", "kinematics", *SMALL, *args]) == 2
    assert "give --json another path" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_unknown_simulator_lists_the_known_ones(capsys):
    with pytest.raises(SystemExit):
        main(["benchmark", "pendulum"])
    err = capsys.readouterr().err
    assert "unknown simulator 'pendulum'" in err and "kinematics" in err
