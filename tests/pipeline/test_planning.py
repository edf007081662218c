"""The helpers the runner plans with: order, dependencies, run_all and output patterns."""

from __future__ import annotations

import pytest

from job_runner.pipeline import Pipeline, UnknownActionError, matches, parse_pipeline
from tests.pipeline.helpers import project


def make_pipeline() -> Pipeline:
    return parse_pipeline(
        project(
            """
            report:
              run: r:v1 report.R
              needs: [model, query]
              outputs: {moderately_sensitive: {r: output/report.html}}
            model:
              run: python:v2 model.py
              needs: [dataset]
              config: {outcome: ks2}
              outputs: {moderately_sensitive: {t: output/tables/*.csv}}
            dataset:
              run: ehrql:v1 generate-dataset d.py --output output/d.csv.gz
              outputs: {highly_sensitive: {d: output/d.csv.gz}}
            query:
              run: sqlrunner:v1 q.sql --output output/q.csv
              outputs: {highly_sensitive: {q: output/q.csv}}
            """
        )
    )


def test_parsed_command() -> None:
    command = make_pipeline().actions["dataset"].run
    assert (command.image, command.tag, command.image_ref) == ("ehrql", "v1", "ehrql:v1")
    assert command.args == ("generate-dataset", "d.py", "--output", "output/d.csv.gz")
    assert command.option("--output") == "output/d.csv.gz"


def test_action_knows_its_name_and_config() -> None:
    action = make_pipeline()["model"]
    assert action.name == "model"
    assert action.config == {"outcome": "ks2"}


def test_topological_order_keeps_file_order_where_free() -> None:
    assert make_pipeline().topological_order() == ["dataset", "model", "query", "report"]


def test_dependencies_of() -> None:
    pipeline = make_pipeline()
    assert pipeline.dependencies_of("report") == ["dataset", "model", "query"]
    assert pipeline.dependencies_of("dataset") == []


def test_run_all_expands_to_every_action() -> None:
    pipeline = make_pipeline()
    assert pipeline.expand(["run_all"]) == ["report", "model", "dataset", "query"]
    assert pipeline.plan(["run_all"]) == ["dataset", "model", "query", "report"]


def test_plan_adds_dependencies_unless_asked_not_to() -> None:
    pipeline = make_pipeline()
    assert pipeline.plan(["model"]) == ["dataset", "model"]
    assert pipeline.plan(["model"], with_dependencies=False) == ["model"]


def test_unknown_action_suggests_a_name() -> None:
    with pytest.raises(UnknownActionError, match="did you mean `model`"):
        make_pipeline().plan(["modle"])


def test_output_level_uses_patterns() -> None:
    pipeline = make_pipeline()
    assert pipeline.output_level("model", "output/tables/a.csv") == "moderately_sensitive"
    assert pipeline.output_level("model", "output/tables/sub/a.csv") is None
    assert pipeline.output_level("dataset", "output/d.csv.gz") == "highly_sensitive"


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("output/*.csv", "output/a.csv", True),
        ("output/*.csv", "output/a/b.csv", False),
        ("output/*/b.csv", "output/a/b.csv", True),
        ("output/a.csv", "output/a.csv", True),
        ("output/a.csv", "output/aXcsv", False),
        ("output/t_*.csv", "output/t_.csv", True),
    ],
)
def test_matches(pattern: str, path: str, expected: bool) -> None:
    assert matches(pattern, path) is expected
