"""`osschools disclosure check | check-folder | describe | profiles`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from job_runner.cli import cli
from job_runner.disclosure.cli import chosen_profile, parse_setting
from job_runner.disclosure.description import TableDescription
from job_runner.disclosure.profiles import profile

TABLE = "year_group,n_pupils\n7,20\n8,{year_8}\nTotal,{total}\n"
DESCRIPTION = {
    "description": "Pupils on roll by year group",
    "population": "pupils on roll at the trust's secondary schools",
    "population_size": 400,
    "unit": "pupil",
    "controls": "opensafely: counts of 7 or fewer redacted; counts rounded to the nearest 5",
    "total_label": "Total",
    "columns": {"year_group": {"role": "dimension"}, "n_pupils": {"role": "count"}},
}


@pytest.fixture(autouse=True)
def no_profile_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OSSCHOOLS_DISCLOSURE_PROFILE", raising=False)


def osschools(*args: object, width: int = 80) -> Result:
    """The command line, its tables drawn `width` characters wide."""
    return CliRunner(env={"COLUMNS": str(width)}).invoke(cli, [str(arg) for arg in args])


def table(folder: Path, year_8: int = 35, *, name: str = "pupils.csv", described=True) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(TABLE.format(year_8=year_8, total=20 + year_8))
    if described:
        (folder / f"{name}.sdc.json").write_text(json.dumps(DESCRIPTION))
    return path


def one_line_error(result: Result, text: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [f"Error: {text}"]


# check


def test_a_passing_file_exits_0(tmp_path: Path) -> None:
    result = osschools("disclosure", "check", table(tmp_path))
    assert result.exit_code == 0, result.output
    assert f"{tmp_path / 'pupils.csv'}: pass  (table)" in result.output
    assert "1 file: 1 pass" in result.output
    assert "Profile: opensafely: counts of 7 or fewer redacted" in result.output


def test_a_failing_file_exits_1_with_its_findings_cell_by_cell(tmp_path: Path) -> None:
    result = osschools("disclosure", "check", table(tmp_path, year_8=5), width=200)
    assert result.exit_code == 1, result.output
    assert "pupils.csv: fail  (table; 1 fail)" in result.output
    [line] = [line for line in result.output.splitlines() if "minimum_count" in line]
    assert line.split()[:3] == ["minimum_count", "fail", "n_pupils"]
    assert "n_pupils = 5 is a count of 7 or fewer units" in line
    assert "count=5" in line
    assert "line 3" in result.output  # the CSV's line: the header is line 1
    assert "year_group=8" in result.output
    assert "1 file: 1 fail" in result.output


def test_needing_review_exits_3(tmp_path: Path) -> None:
    result = osschools("disclosure", "check", table(tmp_path, described=False))
    assert result.exit_code == 3, result.output
    assert "pupils.csv: needs review  (table; 1 needs review)" in result.output
    assert "1 file: 1 needs review" in result.output


def test_one_failure_among_several_files_exits_1(tmp_path: Path) -> None:
    good = table(tmp_path)
    review = table(tmp_path, name="undescribed.csv", described=False)
    bad = table(tmp_path, year_8=3, name="small.csv")
    result = osschools("disclosure", "check", good, review, bad)
    assert result.exit_code == 1, result.output
    assert "3 files: 1 pass, 1 needs review, 1 fail" in result.output


def test_the_profile_and_its_parameters_can_be_chosen(tmp_path: Path) -> None:
    path = table(tmp_path, year_8=9)  # more than 7, fewer than 10
    assert "minimum_count" not in osschools("disclosure", "check", path).output
    for choice in (["--profile", "srs"], ["--set", "threshold=9"]):
        result = osschools("disclosure", "check", path, *choice)
        assert result.exit_code == 1, (choice, result.output)
        assert "minimum_count" in result.output
    config = tmp_path / "disclosure.yaml"
    config.write_text("profile: opensafely\nthreshold: 9\n")
    result = osschools("disclosure", "check", path, "--config", config)
    assert result.exit_code == 1
    assert "counts of 9 or fewer redacted" in result.output


def test_the_environment_chooses_the_default_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OSSCHOOLS_DISCLOSURE_PROFILE", "srs")
    result = osschools("disclosure", "check", table(tmp_path, year_8=9))
    assert "Profile: srs: counts below 10 redacted" in result.output
    assert result.exit_code == 1


def test_json_writes_every_report_as_a_list(tmp_path: Path) -> None:
    target = tmp_path / "reports.json"
    result = osschools(
        "disclosure",
        "check",
        table(tmp_path),
        table(tmp_path, year_8=5, name="small.csv"),
        "--json",
        target,
    )
    assert result.exit_code == 1
    reports = json.loads(target.read_text())
    assert [report["verdict"] for report in reports] == ["pass", "fail"]
    assert {report["schema"] for report in reports} == {"osschools.disclosure-report/1"}
    assert [path.name for path in tmp_path.iterdir() if path.name.endswith(".tmp")] == []
    assert f"Reports written to {target}" in result.output


def test_json_to_standard_output(tmp_path: Path) -> None:
    result = osschools("disclosure", "check", table(tmp_path, year_8=5), "--json", "-")
    assert result.exit_code == 1
    [report] = json.loads(result.output)
    assert report["file"].endswith("pupils.csv")
    assert report["verdict"] == "fail"


def test_a_folder_is_expanded_to_its_outputs(tmp_path: Path) -> None:
    output = tmp_path / "output"
    table(output)
    table(output / "nested", name="more.csv")
    (output / "pupils.csv.sdc-report.json").write_text("{}")
    target = tmp_path / "reports.json"
    result = osschools("disclosure", "check", output, "--json", target)
    assert result.exit_code == 0, result.output
    files = [Path(report["file"]).relative_to(output) for report in json.loads(target.read_text())]
    assert files == [Path("nested/more.csv"), Path("pupils.csv")]


def test_sidecars_given_by_name_are_checked_and_reports_left_out(tmp_path: Path) -> None:
    path = table(tmp_path)
    sidecar = tmp_path / "pupils.csv.sdc.json"
    report = tmp_path / "pupils.csv.sdc-report.json"
    report.write_text("{}")
    result = osschools("disclosure", "check", path, sidecar, report, "--json", "-")
    assert result.exit_code == 0, result.output
    reports = json.loads(result.output)
    assert [(Path(item["file"]).name, item["kind"]) for item in reports] == [
        ("pupils.csv", "table"),
        ("pupils.csv.sdc.json", "description"),
    ]


def test_released_must_be_a_folder(tmp_path: Path) -> None:
    result = osschools("disclosure", "check", table(tmp_path), "--released", tmp_path / "nope")
    one_line_error(result, f"--released {tmp_path / 'nope'}: no such folder")


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        (["missing.csv"], "missing.csv: no such file or folder"),
        (["--set", "threshold"], "--set threshold: expected NAME=VALUE, e.g. --set threshold=10"),
        (["--set", "threshhold=3"], "--set threshhold=3: no disclosure setting 'threshhold'"),
        (["--set", "threshold=ten"], "--set threshold=ten: threshold is a whole number, not 'ten'"),
        (["--set", "inclusive=3"], "--set inclusive=3: inclusive is true or false, not 3"),
        (["--set", "nk_k=2"], "--set: nk_k is a fraction between 0 and 1, not 2.0"),
        (["--set", "rounding=up"], "--set: rounding must be 'base', 'midpoint6' or 'none'"),
    ],
)
def test_bad_input_is_one_line_naming_the_file_or_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, arguments: list[str], error: str
) -> None:
    monkeypatch.chdir(tmp_path)
    table(tmp_path)
    result = osschools("disclosure", "check", "pupils.csv", *arguments)
    assert result.exit_code == 2, result.output
    [line] = result.output.strip().splitlines()
    assert line.startswith(f"Error: {error}"), line


@pytest.mark.parametrize(
    ("config", "error"),
    [
        ("profile: strict\n", "no disclosure profile 'strict'"),
        ("profile: srs\nthreshhold: 3\n", "unknown disclosure setting 'threshhold'"),
        ("profile: srs\nthreshold: [1]\n", "threshold is a whole number, not [1]"),
        ("profile: srs\nmax_csv_rows: '500'\n", "max_csv_rows is a whole number, not '500'"),
        ("profile: [srs\n", "not valid YAML"),
    ],
)
def test_a_bad_configuration_is_one_line_naming_the_file(
    tmp_path: Path, config: str, error: str
) -> None:
    path = tmp_path / "disclosure.yaml"
    path.write_text(config)
    result = osschools("disclosure", "check", table(tmp_path), "--config", path)
    assert result.exit_code == 2, result.output
    [line] = result.output.strip().splitlines()
    assert line.startswith(f"Error: {path}: ") and error in line, line


def test_a_missing_configuration_and_a_profile_with_a_configuration(tmp_path: Path) -> None:
    path = table(tmp_path)
    missing = tmp_path / "nope.yaml"
    one_line_error(
        osschools("disclosure", "check", path, "--config", missing),
        f"{missing}: cannot read the disclosure configuration (No such file or directory)",
    )
    (tmp_path / "d.yaml").write_text("profile: srs\n")
    result = osschools(
        "disclosure", "check", path, "--config", tmp_path / "d.yaml", "--profile", "srs"
    )
    assert result.exit_code == 2
    assert "give --profile or --config, not both" in result.output


def test_an_unknown_profile_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OSSCHOOLS_DISCLOSURE_PROFILE", "strict")
    result = osschools("disclosure", "check", table(tmp_path))
    assert result.exit_code == 2
    assert "OSSCHOOLS_DISCLOSURE_PROFILE=strict: no such disclosure profile" in result.output


def test_settings_take_the_parameters_types() -> None:
    assert parse_setting("threshold=10") == ("threshold", 10)
    assert parse_setting("protection_width=null") == ("protection_width", None)
    assert parse_setting("nk_k=1") == ("nk_k", 1.0)
    assert parse_setting("redact_zero=false") == ("redact_zero", False)
    assert parse_setting("allowed_types=csv,png") == ("allowed_types", ("csv", "png"))
    assert parse_setting("rounding=midpoint6") == ("rounding", "midpoint6")
    rules = chosen_profile("srs", settings=["allowed_types=csv, png", "base=10"])
    assert rules == profile("srs", allowed_types=(".csv", ".png"), base=10)


# check-folder


def test_check_folder_writes_reports_and_summarises(tmp_path: Path) -> None:
    output = tmp_path / "output"
    table(output)
    table(output, year_8=5, name="small.csv")
    result = osschools("disclosure", "check-folder", output, width=200)
    assert result.exit_code == 1, result.output
    assert (output / "pupils.csv.sdc-report.json").exists()
    assert json.loads((output / "small.csv.sdc-report.json").read_text())["verdict"] == "fail"
    [small] = [line for line in result.output.splitlines() if "small.csv" in line]
    assert small.split()[:4] == ["small.csv", "fail", "1", "0"]
    assert "minimum_count: n_pupils = 5" in small
    assert small.split()[-1] == "checked"
    assert "2 files checked, reports written beside them" in result.output

    again = osschools("disclosure", "check-folder", output, width=200)
    assert again.exit_code == 1  # the folder still holds a failing file
    assert "0 files checked" in again.output
    assert "2 unchanged since their last report (--all rechecks)" in again.output
    [small] = [line for line in again.output.splitlines() if "small.csv" in line]
    assert small.split()[-1] == "unchanged"

    everything = osschools("disclosure", "check-folder", output, "--all")
    assert "2 files checked" in everything.output


def test_check_folder_of_passing_files_exits_0(tmp_path: Path) -> None:
    table(tmp_path)
    result = osschools("disclosure", "check-folder", tmp_path, "--profile", "srs")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "pupils.csv.sdc-report.json").read_text())
    assert report["profile"]["name"] == "srs"


def test_check_folder_needs_a_folder(tmp_path: Path) -> None:
    result = osschools("disclosure", "check-folder", tmp_path / "nope")
    assert result.exit_code == 2
    assert "does not exist" in result.output


# describe


def test_describe_writes_a_starter_description(tmp_path: Path) -> None:
    path = tmp_path / "absence.csv"
    path.write_text(
        "fsm,n_pupils,n_persistently_absent,persistent_absence_pct\n"
        "FSM,120,30,25.0\nnot FSM,300,45,15.0\nTotal,420,75,17.9\n"
    )
    result = osschools("disclosure", "describe", path)
    assert result.exit_code == 0, result.output
    sidecar = tmp_path / "absence.csv.sdc.json"
    assert f"Wrote {sidecar}." in result.output
    assert "Fill in description, population, population_size, unit and controls" in " ".join(
        result.output.split()
    )
    content = json.loads(sidecar.read_text())
    TableDescription.model_validate(content)
    assert content["description"].startswith("TODO: ")
    assert content["population_size"] is None
    assert content["controls"].startswith("TODO: the controls applied, e.g. opensafely: ")
    assert content["rounding"] == 5  # every count is a multiple of 5
    assert content["total_label"] == "Total"
    columns = content["columns"]
    assert list(columns) == ["fsm", "n_pupils", "n_persistently_absent", "persistent_absence_pct"]
    assert columns["fsm"] == {"role": "dimension", "sensitive": True}
    assert columns["n_pupils"]["role"] in ("count", "denominator")
    assert columns["n_persistently_absent"]["role"] in ("count", "numerator")
    assert columns["n_persistently_absent"]["sensitive"] is True
    assert columns["persistent_absence_pct"]["role"] == "percentage"
    assert columns["persistent_absence_pct"]["scale"] == 100.0


def test_describe_marks_only_sensitive_dimensions_sensitive(tmp_path: Path) -> None:
    path = tmp_path / "absence.csv"
    path.write_text("school,fsm,n_pupils\nA,FSM,120\nA,not FSM,300\n")
    assert osschools("disclosure", "describe", path).exit_code == 0
    columns = json.loads((tmp_path / "absence.csv.sdc.json").read_text())["columns"]
    assert columns["school"] == {"role": "dimension"}
    assert columns["fsm"] == {"role": "dimension", "sensitive": True}


def test_describe_does_not_claim_rounding_that_is_not_there(tmp_path: Path) -> None:
    path = table(tmp_path, year_8=9, described=False)
    assert osschools("disclosure", "describe", path).exit_code == 0
    assert "rounding" not in json.loads((tmp_path / "pupils.csv.sdc.json").read_text())


def test_describe_never_overwrites_without_force(tmp_path: Path) -> None:
    path = table(tmp_path)
    sidecar = tmp_path / "pupils.csv.sdc.json"
    before = sidecar.read_text()
    one_line_error(
        osschools("disclosure", "describe", path),
        f"{sidecar} already exists; edit it, or --force to start again",
    )
    assert sidecar.read_text() == before
    assert osschools("disclosure", "describe", path, "--force").exit_code == 0
    assert json.loads(sidecar.read_text())["description"].startswith("TODO: ")


def test_describe_a_figure_points_at_its_counts(tmp_path: Path) -> None:
    figure = tmp_path / "pupils.png"
    figure.write_bytes(b"\x89PNG\r\n\x1a\n")
    assert osschools("disclosure", "describe", figure).exit_code == 0
    content = json.loads((tmp_path / "pupils.png.sdc.json").read_text())
    assert content["counts_file"].startswith("TODO: ")
    table(tmp_path, described=False)
    assert osschools("disclosure", "describe", figure, "--force").exit_code == 0
    content = json.loads((tmp_path / "pupils.png.sdc.json").read_text())
    assert content["counts_file"] == "pupils.csv"


def test_describe_a_missing_file(tmp_path: Path) -> None:
    one_line_error(
        osschools("disclosure", "describe", tmp_path / "nope.csv"),
        f"{tmp_path / 'nope.csv'}: no such file",
    )


# profiles


def test_profiles_lists_every_parameter_of_both() -> None:
    result = osschools("disclosure", "profiles", width=200)
    assert result.exit_code == 0, result.output
    [threshold] = [line for line in result.output.splitlines() if "│ threshold " in line]
    assert [cell.strip() for cell in threshold.split("│")[1:4]] == ["threshold", "7", "10"]
    for name in ("nk_k", "p_percent", "model_min_df", "max_csv_rows", "allowed_types"):
        assert f"│ {name} " in result.output
    assert "srs: counts below 10 redacted" in result.output
    assert "OSSCHOOLS_DISCLOSURE_PROFILE" in result.output
