"""Which actions a request runs: dependencies, run_all, unknown names."""

from __future__ import annotations

from pathlib import Path

import pytest

from job_runner.pipeline import load_pipeline
from job_runner.run.planner import PlanningError, plan
from tests.run.helpers import WRITE, make_project, run

ACTIONS = """
    report:
      run: python:v2 write.py output/report.txt report
      needs: [model]
      outputs: {moderately_sensitive: {report: output/report.txt}}
    model:
      run: python:v2 write.py output/model.txt model
      needs: [data]
      config: {outcome: ks2}
      outputs: {moderately_sensitive: {model: output/model.txt}}
    data:
      run: python:v2 write.py output/data.txt data
      outputs: {highly_sensitive: {data: output/data.txt}}
    other:
      run: python:v2 write.py output/other.txt other
      outputs: {highly_sensitive: {other: output/other.txt}}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "study", ACTIONS, {"write.py": WRITE})


def test_an_action_brings_what_it_needs_in_order(project: Path) -> None:
    pipeline = load_pipeline(project / "project.yaml")
    assert plan(pipeline, ["report"]).names == ["data", "model", "report"]
    assert plan(pipeline, ["model", "other"]).names == ["data", "model", "other"]


def test_run_all_is_every_action(project: Path) -> None:
    pipeline = load_pipeline(project / "project.yaml")
    assert plan(pipeline, ["run_all"]).names == ["data", "model", "report", "other"]


def test_config_is_appended_as_opensafely_does(project: Path) -> None:
    job = plan(load_pipeline(project / "project.yaml"), ["model"])["model"]
    assert job.args == ["write.py", "output/model.txt", "model", "--config", '{"outcome": "ks2"}']


def test_unknown_action_suggests_the_closest(project: Path) -> None:
    with pytest.raises(PlanningError, match="did you mean `report`"):
        plan(load_pipeline(project / "project.yaml"), ["reprot"])
    result = run(project, "reprot")
    assert result.exit_code == 2
    assert "there is no action `reprot` in project.yaml; did you mean `report`?" in result.output


def test_no_action_lists_them(project: Path) -> None:
    result = run(project)
    assert result.exit_code == 2
    assert "say which actions to run (or run_all)" in result.output
    assert "report, model, data, other" in result.output


def test_running_one_action_runs_its_dependencies_only(project: Path) -> None:
    result = run(project, "model")
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in (project / "output").iterdir()) == ["data.txt", "model.txt"]


def test_project_file_may_be_named_first(project: Path, tmp_path: Path) -> None:
    result = run(tmp_path, str(project / "project.yaml"), "data")
    assert result.exit_code == 0, result.output
    assert (project / "output" / "data.txt").read_text() == "data\n"


def test_invalid_project_lists_problems(tmp_path: Path) -> None:
    project = make_project(tmp_path, "a:\n  run: python:latest a.py\n  outputs: {}")
    result = run(project, "a")
    assert result.exit_code == 1
    assert "project.yaml:4" in result.output
