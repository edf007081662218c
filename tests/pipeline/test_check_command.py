"""`osschools check`: problems as `file:line:column: message` and exit 1, or a summary."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from job_runner.cli import cli

GOOD = Path(__file__).parent / "corpus" / "valid" / "ehrql_dataset_then_python.yaml"


def test_valid_project_prints_a_summary() -> None:
    result = CliRunner().invoke(cli, ["check", str(GOOD)])
    assert result.exit_code == 0
    assert "is valid: 2 actions; outputs: 1 highly_sensitive, 2 moderately_sensitive" in (
        result.output
    )


def test_problems_are_listed_with_locations(tmp_path: Path) -> None:
    path = tmp_path / "project.yaml"
    path.write_text('version: "5"\nactions:\n  a:\n    run: python:v2 [a].py\n')
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == f"{path}:3:3: action `a` needs `outputs:` declaring the files it " + (
        "writes; only declared files are kept"
    )
    assert lines[-1] == "1 problem found"


def test_default_path_is_project_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "project.yaml").write_text(GOOD.read_text())
    assert CliRunner().invoke(cli, ["check"]).exit_code == 0


def test_missing_file_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert "cannot read the project file" in result.output
