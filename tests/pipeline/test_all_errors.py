"""Every problem in a file is reported in one go, in file order, each with its line."""

from __future__ import annotations

from pathlib import Path

from tests.pipeline.helpers import problems

BROKEN = """\
version: 4
actions:
  run_all:
    run: python:v2 a.py
    outputs: {highly_sensitive: {a: a.csv}}
  a:
    run: python:latest a.py
    needs: [nope]
    outputs:
      moderately_sensitive:
        x: output/x.csv.gz
        y: /abs/y.csv
  b:
    run: ehrql:v1 generate-dataset d.py --output output/d.csv
    needs: [b]
    colour: red
    outputs: {highly_sensitive: {d: output/other.csv}}
  c:
    outputs: {highly_sensitive: {c: a.csv}}
"""


def test_every_problem_is_reported_with_its_line() -> None:
    found = [(problem.line, problem.code) for problem in problems(BROKEN)]
    assert found == [
        (1, "version"),
        (3, "run-all"),
        (7, "tag"),
        (8, "needs-unknown"),
        (11, "output-type"),
        (12, "output-path"),
        (14, "ehrql-output"),
        (15, "cycle"),
        (16, "unknown-key"),
        (18, "missing-run"),
    ]


def test_error_text_is_one_line_per_problem(tmp_path: Path) -> None:
    from job_runner.pipeline import PipelineError, load_pipeline

    path = tmp_path / "project.yaml"
    path.write_text(BROKEN)
    try:
        load_pipeline(path)
    except PipelineError as error:
        lines = str(error).splitlines()
    assert len(lines) == 10
    assert lines[0].startswith(f"{path}:1:10: version 4 is an older edition")
