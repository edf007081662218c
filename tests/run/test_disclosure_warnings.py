"""`osschools run` puts each moderately_sensitive output through the disclosure checks: its
verdict and short findings go into the manifest and the action's log, a warning is printed for
each output that would not pass, and the final summary lists them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from job_runner.disclosure import checker
from job_runner.disclosure.profiles import profile
from job_runner.disclosure.report import Cell, FileReport, Finding, Verdict
from job_runner.run.records import (
    disclosure_summary,
    disclosure_warning,
    needs_disclosure_check,
    profile_digest,
)
from tests.run.helpers import make_project, manifest, run, statuses

# Copies the files of tables/ (part of the project) into output/.
PUBLISH = """
    import shutil
    from pathlib import Path

    Path("output").mkdir()
    for path in sorted(Path("tables").iterdir()):
        shutil.copy(path, Path("output") / path.name)
"""
DESCRIBED = """
    publish:
      run: python:v2 publish.py
      outputs:
        moderately_sensitive:
          tables: output/*.csv
          descriptions: output/*.sdc.json
"""
UNDESCRIBED = """
    publish:
      run: python:v2 publish.py
      outputs:
        moderately_sensitive:
          tables: output/*.csv
"""
TABLE = "school,n_pupils\nA,20\nB,{b}\nTotal,{total}\n"


def description(**overrides: Any) -> str:
    content = {
        "description": "Pupils on roll by school",
        "population": "pupils on roll at the trust's schools",
        "population_size": 200,
        "unit": "pupil",
        "controls": "opensafely: counts of 7 or fewer redacted; counts rounded to the nearest 5",
        "rounding": 5,
        "total_label": "Total",
        "columns": {"school": {"role": "dimension"}, "n_pupils": {"role": "count"}},
        **overrides,
    }
    return json.dumps(content)


def project_with(folder: Path, actions: str, b: int, **description_overrides: Any) -> Path:
    files = {
        "publish.py": PUBLISH,
        "tables/pupils.csv": TABLE.format(b=b, total=20 + b),
        "tables/pupils.csv.sdc.json": description(**description_overrides),
    }
    return make_project(folder, actions, files)


@pytest.fixture
def check_calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The files each call of the checker was given."""
    calls: list[list[str]] = []
    real = checker.check_files

    def counted(paths: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append([Path(path).name for path in paths])
        return real(paths, *args, **kwargs)

    monkeypatch.setattr(checker, "check_files", counted)
    return calls


def test_a_controlled_described_table_passes(tmp_path: Path) -> None:
    project = project_with(tmp_path, DESCRIBED, b=35)
    result = run(project, "publish")
    assert result.exit_code == 0, result.output
    outputs = manifest(project)["outputs"]
    for path in ("output/pupils.csv", "output/pupils.csv.sdc.json"):
        check = outputs[path]["disclosure"]
        assert (check["verdict"], check["profile"], check["findings"]) == (
            "pass",
            "opensafely",
            [],
        )
        assert check["profile_sha256"] == profile_digest(profile("opensafely"))
    assert "warning:" not in result.output
    assert "All 2 outputs pass the disclosure checks (opensafely)." in result.output
    log = (project / "metadata" / "publish.log").read_text()
    assert "output/pupils.csv  (moderately_sensitive, " in log
    assert "    disclosure checks (opensafely): pass\n" in log


def test_a_small_count_is_a_warning_naming_its_cell(tmp_path: Path) -> None:
    project = project_with(tmp_path, DESCRIBED, b=5)
    result = run(project, "publish")
    assert result.exit_code == 0, result.output  # a warning, not a failure
    check = manifest(project)["outputs"]["output/pupils.csv"]["disclosure"]
    assert check["verdict"] == "fail"
    first = check["findings"][0]
    assert (first["verdict"], first["rule"], first["count"]) == ("fail", "minimum_count", 1)
    assert first["message"].startswith("n_pupils, line 3 (school=B): n_pupils = 5 is a count")
    assert (
        "warning: publish: output/pupils.csv would fail the disclosure checks (opensafely): "
        "minimum_count: n_pupils, line 3 (school=B)" in result.output
    )
    assert "1 output would fail the disclosure checks:" in result.output
    assert "    output/pupils.csv (minimum_count" in result.output
    assert "osschools disclosure check FILE..." in result.output
    log = (project / "metadata" / "publish.log").read_text()
    assert "    disclosure checks (opensafely): fail\n      fail: minimum_count: n_pupils" in log


def test_a_description_written_but_not_declared_is_named(tmp_path: Path) -> None:
    project = project_with(tmp_path, UNDESCRIBED, b=35)
    result = run(project, "publish")
    assert result.exit_code == 0, result.output
    check = manifest(project)["outputs"]["output/pupils.csv"]["disclosure"]
    assert check["verdict"] == "needs review"
    assert {
        "verdict": "needs review",
        "rule": "description",
        "count": 1,
        "message": "output/pupils.csv.sdc.json was written but is not declared as an output; "
        "declare it as moderately_sensitive in project.yaml",
    } in check["findings"]
    assert "1 output would need an output checker's review:" in result.output
    assert "    output/pupils.csv (description" in result.output


def test_highly_sensitive_outputs_are_not_checked(tmp_path: Path, check_calls: list) -> None:
    actions = """
        publish:
          run: python:v2 publish.py
          outputs: {highly_sensitive: {tables: output/*.csv}}
    """
    project = project_with(tmp_path, actions, b=5)
    result = run(project, "publish")
    assert result.exit_code == 0, result.output
    assert "disclosure" not in manifest(project)["outputs"]["output/pupils.csv"]
    assert check_calls == []
    assert "disclosure checks" not in result.output


def test_the_outputs_of_one_action_are_checked_together(tmp_path: Path, check_calls: list) -> None:
    project = project_with(tmp_path, DESCRIBED, b=35)
    assert run(project, "publish").exit_code == 0
    assert check_calls == [["pupils.csv", "pupils.csv.sdc.json"]]


def test_a_skipped_action_keeps_its_checks_without_checking_again(
    tmp_path: Path, check_calls: list
) -> None:
    project = project_with(tmp_path, DESCRIBED, b=5)
    assert run(project, "publish").exit_code == 0
    first = manifest(project)["outputs"]["output/pupils.csv"]["disclosure"]

    again = run(project, "publish")

    assert again.exit_code == 0, again.output
    assert statuses(project, "publish") == ["succeeded", "skipped"]
    assert len(check_calls) == 1
    assert manifest(project)["outputs"]["output/pupils.csv"]["disclosure"] == first
    assert "warning:" not in again.output  # warned when it ran ...
    assert "1 output would fail the disclosure checks:" in again.output  # ... and in the summary


def test_the_profile_comes_from_the_environment(
    tmp_path: Path, check_calls: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 9 pupils: enough for opensafely (more than 7), too few for srs (fewer than 10).
    project = project_with(tmp_path, DESCRIBED, b=9, rounding="none")
    assert run(project, "publish").exit_code == 0
    opensafely = manifest(project)["outputs"]["output/pupils.csv"]["disclosure"]
    assert opensafely["profile"] == "opensafely"
    assert "minimum_count" not in {finding["rule"] for finding in opensafely["findings"]}

    monkeypatch.setenv("OSSCHOOLS_DISCLOSURE_PROFILE", "srs")
    result = run(project, "publish")

    assert result.exit_code == 0, result.output
    assert statuses(project, "publish") == ["succeeded", "skipped"]
    assert len(check_calls) == 2  # checked again: the profile changed
    srs = manifest(project)["outputs"]["output/pupils.csv"]["disclosure"]
    assert srs["profile"] == "srs"
    assert srs["findings"][0]["rule"] == "minimum_count"
    assert "1 output would fail the disclosure checks:" in result.output

    assert run(project, "publish").exit_code == 0
    assert len(check_calls) == 2  # and kept from then on


def test_a_disclosure_configuration_file_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "disclosure.yaml"
    config.write_text("profile: srs\nthreshold: 40\n")
    monkeypatch.setenv("OSSCHOOLS_DISCLOSURE_PROFILE", str(config))
    project = project_with(tmp_path / "project", DESCRIBED, b=35, rounding="none")
    result = run(project, "publish")
    assert result.exit_code == 0, result.output
    check = manifest(project)["outputs"]["output/pupils.csv"]["disclosure"]
    assert check["profile"] == "srs"
    assert check["profile_sha256"] == profile_digest(profile("srs", threshold=40))
    assert check["verdict"] == "fail"  # 20 and 35 are below 40


def test_an_unknown_profile_stops_the_run_before_it_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OSSCHOOLS_DISCLOSURE_PROFILE", "strict")
    project = project_with(tmp_path, DESCRIBED, b=35)
    result = run(project, "publish")
    assert result.exit_code == 1
    assert "OSSCHOOLS_DISCLOSURE_PROFILE=strict: no such disclosure profile" in result.output
    assert "Traceback" not in result.output
    assert not (project / "metadata" / "manifest.json").exists()


def test_a_broken_check_needs_review_and_does_not_fail_the_action(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(checker, "check_files", broken)
    project = project_with(tmp_path, DESCRIBED, b=35)
    result = run(project, "publish")
    assert result.exit_code == 0, result.output
    check = manifest(project)["outputs"]["output/pupils.csv"]["disclosure"]
    assert check["verdict"] == "needs review"
    [finding] = check["findings"]
    assert finding["rule"] == "checker_error"
    assert "(RuntimeError: boom)" in finding["message"]


# The short form


def small(row: int, school: str) -> Finding:
    return Finding(
        "minimum_count",
        Verdict.FAIL,
        f"n_pupils is small in row {row}",
        Cell(row, "n_pupils", {"school": school}),
        {"count": 3},
    )


def test_findings_are_grouped_by_rule_and_verdict_worst_first() -> None:
    report = FileReport(path="output/t.csv", kind="table")
    report.findings = [
        Finding("description", Verdict.REVIEW, "no description"),
        small(0, "A"),
        Finding("rounding", Verdict.PASS, "rounded to 5"),
        small(2, "C"),
    ]
    summary = disclosure_summary(report, profile("srs"))
    assert summary == {
        "verdict": "fail",
        "profile": "srs",
        "profile_sha256": profile_digest(profile("srs")),
        "findings": [
            {
                "verdict": "fail",
                "rule": "minimum_count",
                "count": 2,
                "message": "n_pupils, line 2 (school=A): n_pupils is small in row 0",
            },
            {
                "verdict": "needs review",
                "rule": "description",
                "count": 1,
                "message": "no description",
            },
        ],
    }


def test_the_warning_line() -> None:
    report = FileReport(path="output/t.csv", kind="table", findings=[small(0, "A"), small(1, "B")])
    check = disclosure_summary(report, profile("opensafely"))
    assert disclosure_warning("output/t.csv", check) == (
        "output/t.csv would fail the disclosure checks (opensafely): minimum_count: "
        "n_pupils, line 2 (school=A): n_pupils is small in row 0 (and 1 more finding)"
    )
    passing = disclosure_summary(FileReport("output/t.csv", "table"), profile("opensafely"))
    assert disclosure_warning("output/t.csv", passing) is None
    review = {**passing, "verdict": "needs review"}
    assert disclosure_warning("output/t.csv", review) == (
        "output/t.csv would need an output checker's review in the disclosure checks (opensafely)"
    )


def test_a_check_is_stale_without_one_or_with_another_profile() -> None:
    opensafely, srs = profile("opensafely"), profile("srs")
    checked = {
        "level": "moderately_sensitive",
        "disclosure": disclosure_summary(FileReport("t.csv", "table"), opensafely),
    }
    assert not needs_disclosure_check(checked, opensafely)
    assert needs_disclosure_check(checked, srs)
    assert needs_disclosure_check(checked, profile("opensafely", threshold=10))
    assert needs_disclosure_check({"level": "moderately_sensitive"}, opensafely)
    assert not needs_disclosure_check({"level": "highly_sensitive"}, opensafely)
