"""Hostile or broken YAML gives one clear problem, never a crash or a hang."""

from __future__ import annotations

from pathlib import Path

import pytest

from job_runner.pipeline import PipelineError, load_pipeline, parse_pipeline
from job_runner.pipeline.yaml_loader import MAX_BYTES
from tests.pipeline.helpers import only_problem, project


def test_syntax_error_has_its_line() -> None:
    problem = only_problem('version: "5"\nactions:\n  a:\n    run: [unclosed\n')
    assert problem.code == "yaml-syntax"
    assert problem.line == 5
    assert "not valid YAML" in problem.message


def test_empty_file() -> None:
    problem = only_problem("# nothing but a comment\n")
    assert (problem.code, problem.line) == ("empty", None)
    assert 'version: "5"' in problem.message


def test_top_level_must_be_a_mapping() -> None:
    problem = only_problem("- version\n- actions\n")
    assert (problem.code, problem.line) == ("top-level", 1)


def test_duplicate_keys_are_refused() -> None:
    problem = only_problem('version: "5"\nversion: "5"\nactions: {}\n')
    assert (problem.code, problem.line) == ("yaml-duplicate-key", 2)
    assert "`version` appears twice in the same mapping (first written on line 1)" in (
        problem.message
    )


def test_several_documents_are_refused() -> None:
    problem = only_problem('version: "5"\n---\nversion: "5"\n')
    assert (problem.code, problem.line) == ("yaml-syntax", 2)


def test_alias_bomb_stops_quickly() -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    problem = only_problem("\n".join(lines) + "\n")
    assert problem.code == "yaml-too-large"
    assert "anchors and aliases" in problem.message


def test_self_referencing_alias() -> None:
    problem = only_problem("a: &loop [*loop]\n")
    assert problem.code == "yaml-too-deep"


def test_deep_nesting_is_refused_before_composing() -> None:
    problem = only_problem("a: " + "[" * 5000 + "]" * 5000 + "\n")
    assert (problem.code, problem.line) == ("yaml-too-deep", 1)


def test_huge_file_is_refused() -> None:
    problem = only_problem("#" * (MAX_BYTES + 1))
    assert problem.code == "yaml-too-large"


def test_python_tags_are_refused() -> None:
    problem = only_problem('version: !!python/object:os.system "5"\nactions: {}\n')
    assert (problem.code, problem.line) == ("yaml-tag", 1)


def test_complex_keys_are_refused() -> None:
    problem = only_problem('? [a, b]\n: 1\nversion: "5"\n')
    assert (problem.code, problem.line) == ("yaml-key", 1)


def test_non_string_keys_are_reported_not_crashed_on() -> None:
    text = project(
        "a:\n  run: python:v2 a.py\n  outputs: {highly_sensitive: {1: a.csv, null: b.csv}}\n"
    )
    with pytest.raises(PipelineError) as error:
        parse_pipeline(text)
    assert {problem.code for problem in error.value.problems} == {"type"}


def test_merge_keys_and_aliases_work() -> None:
    text = project(
        """
        a: &base
          run: python:v2 a.py
          outputs: {highly_sensitive: {a: a.csv}}
        b:
          <<: *base
          run: python:v2 b.py
          outputs: {highly_sensitive: {b: b.csv}}
        """
    )
    assert parse_pipeline(text).actions["b"].run.args == ("b.py",)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PipelineError) as error:
        load_pipeline(tmp_path / "project.yaml")
    assert error.value.problems[0].code == "file"
    assert "cannot read the project file" in str(error.value)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "project.yaml"
    path.write_bytes(b"version: '5'\n\xff\xfe\n")
    with pytest.raises(PipelineError) as error:
        load_pipeline(path)
    assert "not UTF-8" in str(error.value)
