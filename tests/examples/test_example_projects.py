"""Each example is a complete project: `osschools run run_all` (local executor) runs it end to end
on a small synthetic trust, and everything it would release passes the disclosure checks
(`job_runner.disclosure.checker.check_files`, profile opensafely), each file with its description.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from job_runner.cli import cli
from job_runner.disclosure.checker import check_files
from job_runner.disclosure.profiles import profile
from job_runner.disclosure.report import Verdict

# The analysis scripts need the python image's stack; locally, `make demo` installs it.
pytest.importorskip("matplotlib", reason="needs the analysis stack: make demo installs it")
pytest.importorskip("statsmodels", reason="needs the analysis stack: make demo installs it")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PROJECTS = sorted(path.parent.name for path in EXAMPLES.glob("*/project.yaml"))
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="session")
def trust(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the small synthetic trust goes; the first run generates it."""
    return tmp_path_factory.mktemp("examples_trust") / "synthetic_trust.duckdb"


def released_files(project: Path) -> list[Path]:
    pipeline = yaml.safe_load((project / "project.yaml").read_text())
    patterns = [
        pattern
        for action in pipeline["actions"].values()
        for pattern in action["outputs"].get("moderately_sensitive", {}).values()
    ]
    return sorted(path for pattern in patterns for path in project.glob(pattern))


def test_the_four_examples_have_projects() -> None:
    assert PROJECTS == [
        "afternoon_maths",
        "attendance_disadvantage",
        "strongest_teachers_lowest_sets",
        "teacher_value_added",
    ]


def problems(report) -> list[str]:
    return [
        f"{report.path}: {finding.verdict.value} {finding.rule}: {finding.message}"
        for finding in report.findings
        if finding.verdict is not Verdict.PASS
    ]


@pytest.mark.parametrize("example", PROJECTS)
def test_example_project_runs_and_its_outputs_pass_the_disclosure_checks(
    example: str, trust: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OSSCHOOLS_DUMMY_DATA", str(trust))
    monkeypatch.delenv("OSSCHOOLS_DSN", raising=False)
    monkeypatch.delenv("OSSCHOOLS_DISCLOSURE_PROFILE", raising=False)
    project = tmp_path / example
    ignore = shutil.ignore_patterns("output", "metadata", ".osschools", "__pycache__")
    shutil.copytree(EXAMPLES / example, project, ignore=ignore)

    arguments = ["run", "--project-dir", str(project), "--executor", "local", "run_all"]
    result = CliRunner().invoke(cli, arguments, catch_exceptions=False)

    assert result.exit_code == 0, result.output
    released = released_files(project)
    assert [path for path in released if path.suffix == ".csv"], "no CSV table released"
    pngs = [path for path in released if path.suffix == ".png"]
    assert pngs, "no PNG figure released"
    for png in pngs:
        assert png.read_bytes().startswith(PNG_SIGNATURE), png
    for output in (path for path in released if path.suffix in (".csv", ".png")):
        assert output.with_name(output.name + ".sdc.json") in released, f"{output} undescribed"

    reports = check_files(released, profile("opensafely"), root=project)

    assert [problem for report in reports for problem in problems(report)] == []
    assert {report.verdict for report in reports} == {Verdict.PASS}
    assert f"All {len(released)} outputs pass the disclosure checks (opensafely)." in result.output
