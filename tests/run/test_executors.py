"""Choosing an executor, and the local executor's clear failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from job_runner.pipeline import parse_pipeline
from job_runner.run import executors
from job_runner.run.executors import ExecutorError, LocalExecutor, choose_executor
from job_runner.run.planner import plan
from tests.run.helpers import make_project, run, statuses


def choose(requested: str, reachable: bool) -> executors.Choice:
    return choose_executor(
        requested, dummy_data=Path("trust.duckdb"), engine_reachable=lambda: reachable
    )


def test_auto_is_local_without_a_docker_engine() -> None:
    choice = choose("auto", reachable=False)
    assert choice.executor.name == "local"
    assert choice.reason == "local (no Docker engine is reachable)"


def test_auto_is_docker_when_an_engine_and_the_executor_exist(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class FakeDocker:
        name = "docker"

        def __init__(self, **options: object) -> None:
            self.options = options

    monkeypatch.setattr(executors, "docker_executor_factory", lambda: FakeDocker)
    choice = choose("auto", reachable=True)
    assert choice.executor.name == "docker"
    assert choice.reason == "docker (a Docker engine is reachable)"
    with pytest.raises(ExecutorError, match="no Docker engine is reachable"):
        choose("docker", reachable=False)


def test_docker_without_the_docker_executor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(executors, "docker_executor_factory", lambda: None)
    with pytest.raises(ExecutorError, match="docker executor is not available yet"):
        choose("docker", reachable=True)
    assert choose("auto", reachable=True).executor.name == "local"


def test_the_choice_is_printed(tmp_path: Path) -> None:
    actions = """
        a:
          run: python:v2 a.py
          outputs: {highly_sensitive: {a: output/a.txt}}
    """
    project = make_project(tmp_path, actions, {"a.py": "open('a.txt', 'w')\n"})
    assert "Executor: local (as asked)" in run(project, "a").output


def job(run_line: str, output: str = "output/x.csv"):
    text = f"""version: "5"
actions:
  x:
    run: {run_line}
    outputs: {{highly_sensitive: {{x: {output}}}}}
"""
    return plan(parse_pipeline(text), ["x"])["x"]


def test_images_map_to_programs(tmp_path: Path) -> None:
    (tmp_path / "ehrql-schools").touch()
    local = LocalExecutor(tmp_path / "trust.duckdb", bin_dir=tmp_path)
    command = local.command(job("ehrql:v1 generate-dataset d.py --output output/x.csv"))
    assert command == [
        str(tmp_path / "ehrql-schools"),
        "generate-dataset",
        "d.py",
        "--output",
        "output/x.csv",
    ]
    assert local.command(job("python:v1 a.py --n 3")) == [
        str(tmp_path / "python"),
        "a.py",
        "--n",
        "3",
    ]


def test_a_missing_program_is_a_clear_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = LocalExecutor(tmp_path / "trust.duckdb", bin_dir=tmp_path)
    with pytest.raises(ExecutorError, match="`sqlrunner` is not installed"):
        local.command(job("sqlrunner:v1 q.sql --output output/x.csv"))
    monkeypatch.setattr(executors.shutil, "which", lambda name: None)
    with pytest.raises(ExecutorError, match="Rscript is not installed here.*--executor docker"):
        local.command(job("r:v1 a.R"))


def test_an_r_action_without_r_fails_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(executors.shutil, "which", lambda name: None)
    actions = """
        report:
          run: r:v1 report.R
          outputs: {moderately_sensitive: {r: output/report.html}}
    """
    project = make_project(tmp_path, actions, {"report.R": "cat('hi')\n"})
    result = run(project, "report")
    assert result.exit_code == 1
    assert "report failed: r:v1 actions need R, and Rscript is not installed" in result.output
    assert statuses(project, "report") == ["failed"]
