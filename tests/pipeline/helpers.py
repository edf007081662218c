"""Small helpers for writing project.yaml text in tests."""

from __future__ import annotations

import textwrap

from job_runner.pipeline import PipelineError, Problem, parse_pipeline


def project(actions: str, header: str = 'version: "5"\nactions:\n') -> str:
    """A project file: `header` (lines 1-2), then the indented `actions` from line 3."""
    return header + textwrap.indent(textwrap.dedent(actions).strip("\n") + "\n", "  ")


def problems(text: str) -> list[Problem]:
    try:
        parse_pipeline(text)
    except PipelineError as error:
        return error.problems
    raise AssertionError("expected the project to be rejected")


def only_problem(text: str) -> Problem:
    found = problems(text)
    assert len(found) == 1, [str(problem) for problem in found]
    return found[0]
