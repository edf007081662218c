"""The checker's entry points end to end, on files: `check_files` (one request), `check_file` and
`check_folder` (the backend's call, writing each report beside its file)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from job_runner.disclosure import checker
from job_runner.disclosure.checker import check_file, check_files, check_folder, report_path
from job_runner.disclosure.profiles import profile
from job_runner.disclosure.report import REPORT_SCHEMA, Finding, Verdict

OPENSAFELY = profile("opensafely")
SRS = profile("srs")
PUPILS = "year_group,n_pupils\n7,20\n8,{year_8}\nTotal,{total}\n"
DESCRIPTION = {
    "description": "Pupils on roll by year group",
    "population": "pupils on roll at the trust's secondary schools",
    "population_size": 400,
    "unit": "pupil",
    "controls": "opensafely: counts of 7 or fewer redacted; counts rounded to the nearest 5",
    "rounding": 5,
    "total_label": "Total",
    "columns": {"year_group": {"role": "dimension"}, "n_pupils": {"role": "count"}},
}
REPORT_FIELDS = [
    "schema",
    "file",
    "sha256",
    "size",
    "description_sha256",
    "kind",
    "verdict",
    "summary",
    "profile",
    "structure",
    "cells_checked",
    "findings",
    "cell_verdicts",
]


def pupils_table(folder: Path, year_8: int = 35, *, name: str = "pupils.csv", **description):
    """A small controlled table, described unless `description` is None."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(PUPILS.format(year_8=year_8, total=20 + year_8))
    if description.get("described", True):
        content = {**DESCRIPTION, **{k: v for k, v in description.items() if k != "described"}}
        (folder / f"{name}.sdc.json").write_text(json.dumps(content))
    return path


def rules_of(report, verdict: Verdict | None = None) -> list[str]:
    return [
        finding.rule for finding in report.findings if verdict is None or finding.verdict is verdict
    ]


# check_files


def test_a_described_controlled_table_passes(tmp_path: Path) -> None:
    [report] = check_files([pupils_table(tmp_path)], OPENSAFELY)
    assert report.verdict is Verdict.PASS, report.findings
    assert report.kind == "table"
    assert report.cells_checked == 6
    assert report.structure["columns"]["n_pupils"] == {"role": "count", "source": "description"}
    assert report.structure["total_rows"] == [2]


def test_a_small_count_fails_at_its_cell(tmp_path: Path) -> None:
    [report] = check_files([pupils_table(tmp_path, year_8=5)], OPENSAFELY)
    assert report.verdict is Verdict.FAIL
    [small] = [finding for finding in report.findings if finding.rule == "minimum_count"]
    assert (small.verdict, small.cell.row, small.cell.column) == (Verdict.FAIL, 1, "n_pupils")
    assert small.cell.key == {"year_group": "8"}
    assert small.numbers["count"] == 5


@pytest.mark.parametrize(
    ("count", "rules", "fails"),
    [(7, OPENSAFELY, True), (8, OPENSAFELY, False), (9, SRS, True), (10, SRS, False)],
)
def test_the_profile_decides_the_minimum_count(
    tmp_path: Path, count: int, rules, fails: bool
) -> None:
    path = pupils_table(tmp_path, year_8=count, rounding="none")
    report = check_file(path, rules)
    assert ("minimum_count" in rules_of(report, Verdict.FAIL)) is fails


def test_reports_come_in_the_order_given_named_relative_to_root(tmp_path: Path) -> None:
    second = pupils_table(tmp_path / "output" / "b", name="second.csv")
    first = pupils_table(tmp_path / "output" / "a", name="first.csv")
    reports = check_files([second, first], OPENSAFELY, root=tmp_path / "output")
    assert [report.path for report in reports] == ["b/second.csv", "a/first.csv"]
    without_root = check_files([first], OPENSAFELY)
    assert without_root[0].path == str(first)


def test_the_sidecar_is_read_with_its_file_and_recorded(tmp_path: Path) -> None:
    path = pupils_table(tmp_path)
    [report] = check_files([path], OPENSAFELY)
    sidecar = (tmp_path / "pupils.csv.sdc.json").read_bytes()
    assert report.description_sha256 == hashlib.sha256(sidecar).hexdigest()
    assert report.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert report.size == path.stat().st_size


def test_an_undescribed_output_needs_review(tmp_path: Path) -> None:
    [report] = check_files([pupils_table(tmp_path, described=False)], OPENSAFELY)
    assert report.verdict is Verdict.REVIEW
    [finding] = [finding for finding in report.findings if finding.rule == "description"]
    assert finding.verdict is Verdict.REVIEW
    assert "pupils.csv.sdc.json" in finding.message
    assert report.description_sha256 is None


def test_a_broken_sidecar_fails_its_file_naming_the_field(tmp_path: Path) -> None:
    path = pupils_table(tmp_path)
    (tmp_path / "pupils.csv.sdc.json").write_text('{"description": "x", "rounding": "six"}')
    [report] = check_files([path], OPENSAFELY)
    assert report.verdict is Verdict.FAIL
    [finding] = report.findings
    assert finding.rule == "description"
    assert "pupils.csv.sdc.json" in finding.message and "rounding" in finding.message


def test_a_sidecar_naming_a_missing_column_makes_the_table_unreadable(tmp_path: Path) -> None:
    columns = {**DESCRIPTION["columns"], "n_teachers": {"role": "count"}}
    [report] = check_files([pupils_table(tmp_path, columns=columns)], OPENSAFELY)
    assert report.verdict is Verdict.FAIL
    [finding] = report.findings
    assert finding.rule == "unreadable"
    assert "n_teachers" in finding.message


def test_a_sidecar_given_on_its_own_is_validated(tmp_path: Path) -> None:
    pupils_table(tmp_path)
    good = tmp_path / "pupils.csv.sdc.json"
    bad = tmp_path / "other.csv.sdc.json"
    bad.write_text('{"population": "no description"}')
    reports = check_files([good, bad], OPENSAFELY)
    assert [report.kind for report in reports] == ["description", "description"]
    assert reports[0].verdict is Verdict.PASS
    assert reports[1].verdict is Verdict.FAIL
    assert reports[1].findings[0].rule == "description"


def test_an_unreadable_csv_fails(tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    path.write_bytes(b"a,b\n\xff\xfe,1\n")
    [report] = check_files([path], OPENSAFELY)
    assert "unreadable" in rules_of(report, Verdict.FAIL)


def test_the_file_gate_stops_the_table_checks(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("pupil_id,score\n" + "".join(f"{i},{i % 3}\n" for i in range(5_001)))
    [report] = check_files([path], OPENSAFELY)
    assert rules_of(report, Verdict.FAIL) == ["row_limit"]
    assert report.structure is None  # not read as a table
    [lower] = check_files([path], profile("opensafely", max_csv_rows=5_001))
    assert "row_limit" not in rules_of(lower)


def test_a_file_type_that_cannot_be_released_fails(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    path.write_bytes(b"PAR1")
    [report] = check_files([path], OPENSAFELY)
    assert report.kind == "other"
    assert rules_of(report, Verdict.FAIL) == ["file_type"]


def test_a_rule_that_breaks_gives_needs_review_not_a_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def check_broken(table, rules) -> list[Finding]:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(checker, "TABLE_RULES", (*checker.TABLE_RULES, check_broken))
    [report] = check_files([pupils_table(tmp_path)], OPENSAFELY)
    assert report.verdict is Verdict.REVIEW
    [error] = [finding for finding in report.findings if finding.rule == "checker_error"]
    assert "check_broken" in error.message and "ZeroDivisionError" in error.message


def test_cell_verdicts_hold_the_worst_verdict_of_each_cell(tmp_path: Path) -> None:
    [report] = check_files([pupils_table(tmp_path, year_8=5)], OPENSAFELY)
    grid = report.cell_verdicts
    assert grid["columns"] == ["year_group", "n_pupils"]
    assert len(grid["rows"]) == 3
    assert grid["rows"][1][1] == "fail"
    assert grid["rows"][0] == ["pass", "pass"]


def test_the_json_report_has_every_documented_field(tmp_path: Path) -> None:
    [report] = check_files([pupils_table(tmp_path, year_8=5)], OPENSAFELY)
    content = json.loads(json.dumps(report.to_json()))
    assert list(content) == REPORT_FIELDS
    assert content["schema"] == REPORT_SCHEMA == "osschools.disclosure-report/1"
    assert content["verdict"] == "fail"
    assert content["profile"]["name"] == "opensafely"
    assert set(content["summary"]) == {"pass", "needs review", "fail"}
    finding = next(item for item in content["findings"] if item["rule"] == "minimum_count")
    assert list(finding) == ["rule", "verdict", "message", "cell", "numbers"]
    assert finding["cell"] == {"row": 1, "column": "n_pupils", "key": {"year_group": "8"}}


# check_folder


def test_check_folder_writes_a_report_beside_each_output(tmp_path: Path) -> None:
    output = tmp_path / "output"
    pupils_table(output)
    pupils_table(output / "nested", year_8=5, name="small.csv")
    reports = check_folder(output, OPENSAFELY)
    assert sorted(report.path for report in reports) == ["nested/small.csv", "pupils.csv"]
    written = json.loads(report_path(output / "nested" / "small.csv").read_text())
    assert (written["file"], written["verdict"]) == ("nested/small.csv", "fail")
    assert list(written) == REPORT_FIELDS
    assert json.loads(report_path(output / "pupils.csv").read_text())["verdict"] == "pass"
    # Sidecars are read with their files, not reported on; reports are never checked.
    assert not report_path(output / "pupils.csv.sdc.json").exists()
    assert sorted(path.name for path in output.glob("*.sdc-report.json")) == [
        "pupils.csv.sdc-report.json"
    ]
    assert not list(output.rglob(".*.tmp"))


def test_check_folder_checks_only_new_or_changed_files(tmp_path: Path) -> None:
    output = tmp_path / "output"
    pupils_table(output)
    other = pupils_table(output, name="other.csv")
    assert len(check_folder(output, OPENSAFELY)) == 2
    assert check_folder(output, OPENSAFELY) == []

    other.write_text(PUPILS.format(year_8=40, total=60))
    assert [report.path for report in check_folder(output, OPENSAFELY)] == ["other.csv"]

    sidecar = output / "pupils.csv.sdc.json"
    sidecar.write_text(json.dumps({**DESCRIPTION, "description": "Pupils by year group"}))
    assert [report.path for report in check_folder(output, OPENSAFELY)] == ["pupils.csv"]

    assert len(check_folder(output, SRS)) == 2  # another profile: every file again
    assert len(check_folder(output, SRS, only_new=False)) == 2


def test_check_folder_of_an_empty_folder(tmp_path: Path) -> None:
    assert check_folder(tmp_path, OPENSAFELY) == []


def test_a_file_with_identifiers_reports_no_row_keys(tmp_path: Path) -> None:
    # The UPN is a dimension here: other rules' findings must not repeat it as the row's key.
    path = tmp_path / "pupils.csv"
    path.write_text("upn_code,n_sessions\nA123456789012,3\nB123456789012,40\n")
    report = check_file(path, profile("opensafely"))
    assert "identifier" in {finding.rule for finding in report.failures()}
    assert "minimum_count" in {finding.rule for finding in report.failures()}
    assert all(not finding.cell.key for finding in report.findings if finding.cell)
    assert "A123456789012" not in json.dumps(report.to_json()["findings"])
