"""One case per rule: the rule's code, the line it points at, and what the message says."""

from __future__ import annotations

import pytest

from tests.pipeline.helpers import only_problem, project

PY = "run: python:v2 analysis/a.py"
OUT = "outputs: {moderately_sensitive: {t: output/t.csv}}"

CASES = {
    "unknown-key-top": (
        'version: "5"\nactons: {}\nactions:\n  a:\n    ' + PY + "\n    " + OUT + "\n",
        "unknown-key",
        2,
        "`actons` is not a key of the project",
    ),
    "unknown-key-action": (
        project(f"a:\n  {PY}\n  {OUT}\n  neds: [b]\n"),
        "unknown-key",
        6,
        "did you mean `needs`?",
    ),
    "missing-run": (project(f"a:\n  {OUT}\n"), "missing-run", 3, "needs a `run:` line"),
    "missing-outputs": (project(f"a:\n  {PY}\n"), "missing-outputs", 3, "needs `outputs:`"),
    "outputs-empty": (
        project(f"a:\n  {PY}\n  outputs:\n    highly_sensitive: {{}}\n"),
        "outputs-empty",
        5,
        "declare at least one output file",
    ),
    "image": (
        project(f"a:\n  run: stata-mp:v1 a.do\n  {OUT}\n"),
        "image",
        4,
        "`stata-mp` is not an action image here; use one of ehrql, sqlrunner, python, r",
    ),
    "cohortextractor": (
        project(f"a:\n  run: cohortextractor:v1 generate_cohort\n  {OUT}\n"),
        "image",
        4,
        "run it with ehrql:v1",
    ),
    "tag-missing": (project(f"a:\n  run: python a.py\n  {OUT}\n"), "tag", 4, "python:v2"),
    "tag-latest": (project(f"a:\n  run: r:latest a.R\n  {OUT}\n"), "tag", 4, "pin one of r:v1"),
    "tag-unknown": (project(f"a:\n  run: ehrql:v9 generate-dataset\n  {OUT}\n"), "tag", 4, "v9"),
    "run-empty": (project(f"a:\n  run: ''\n  {OUT}\n"), "run-empty", 4, "`run` is empty"),
    "run-quotes": (
        project(f"a:\n  run: python:v2 a.py --label 'x\n  {OUT}\n"),
        "run-quotes",
        4,
        "never closed",
    ),
    "run-args-python": (
        project(f"a:\n  run: python:v2 --verbose\n  {OUT}\n"),
        "run-args",
        4,
        "start with the script to run (.py file)",
    ),
    "run-args-sqlrunner": (
        project(f"a:\n  run: sqlrunner:v1 a.sql b.sql --output o.csv\n  {OUT}\n"),
        "run-args",
        4,
        "exactly one .sql file",
    ),
    "run-args-outside": (
        project(f"a:\n  run: python:v2 ../elsewhere.py\n  {OUT}\n"),
        "run-args",
        4,
        "inside the project folder",
    ),
    "run-all": (project(f"run_all:\n  {PY}\n  {OUT}\n"), "run-all", 3, "`run_all` is reserved"),
    "action-name": (
        project(f"a.b:\n  {PY}\n  {OUT}\n"),
        "action-name",
        3,
        "may only use letters, digits, _ and -",
    ),
    "action-name-not-text": (
        project(f"1:\n  {PY}\n  {OUT}\n"),
        "action-name",
        3,
        "must be text",
    ),
    "needs-unknown": (
        project(f"a:\n  {PY}\n  {OUT}\n  needs: [b]\n"),
        "needs-unknown",
        6,
        "needs `b`, which is not an action in this file",
    ),
    "needs-type": (
        project(f"a:\n  {PY}\n  {OUT}\n  needs: b\n"),
        "needs-type",
        6,
        "write `needs: [b]`",
    ),
    "cycle-self": (
        project(f"a:\n  {PY}\n  {OUT}\n  needs: [a]\n"),
        "cycle",
        6,
        "action `a` needs itself",
    ),
    "output-absolute": (
        project(f"a:\n  {PY}\n  outputs:\n    highly_sensitive:\n      t: /tmp/t.csv\n"),
        "output-path",
        7,
        "is an absolute path",
    ),
    "output-drive": (
        project(f"a:\n  {PY}\n  outputs:\n    highly_sensitive:\n      t: 'C:/t.csv'\n"),
        "output-path",
        7,
        "is an absolute path",
    ),
    "output-dotdot": (
        project(f"a:\n  {PY}\n  outputs:\n    highly_sensitive:\n      t: a/../t.csv\n"),
        "output-path",
        7,
        "contains `..`",
    ),
    "output-backslash": (
        project(f"a:\n  {PY}\n  outputs:\n    highly_sensitive:\n      t: a\\t.csv\n"),
        "output-path",
        7,
        "contains a backslash",
    ),
    "output-wildcard": (
        project(f"a:\n  {PY}\n  outputs:\n    highly_sensitive:\n      t: 'a/[ab].csv'\n"),
        "output-wildcard",
        7,
        "only `*` is supported",
    ),
    "output-extension": (
        project(f"a:\n  {PY}\n  outputs:\n    highly_sensitive:\n      t: output/data\n"),
        "output-extension",
        7,
        "does not end with a file extension",
    ),
    "output-metadata": (
        project(f"a:\n  {PY}\n  outputs:\n    highly_sensitive:\n      t: metadata/a.log\n"),
        "output-metadata",
        7,
        "reserved for logs",
    ),
    "output-type": (
        project(f"a:\n  {PY}\n  outputs:\n    moderately_sensitive:\n      t: o/t.parquet\n"),
        "output-type",
        7,
        ".parquet files cannot be moderately_sensitive",
    ),
    "ehrql-output-mismatch": (
        project(
            "a:\n  run: ehrql:v1 generate-dataset d.py --output o/d.csv\n"
            "  outputs: {highly_sensitive: {d: o/e.csv}}\n"
        ),
        "ehrql-output",
        4,
        "`--output o/d.csv` is not a declared output",
    ),
    "sqlrunner-output-mismatch": (
        project(
            "a:\n  run: sqlrunner:v1 q.sql --output o/d.csv\n"
            "  outputs: {highly_sensitive: {d: o/e.csv}}\n"
        ),
        "run-output",
        4,
        "`--output o/d.csv` is not a declared output",
    ),
    "config-json": (
        project(f"a:\n  {PY}\n  {OUT}\n  config: {{1: x}}\n"),
        "config-json",
        6,
        "a key that is not text",
    ),
    "dummy-data-file": (
        project(f"a:\n  {PY}\n  {OUT}\n  dummy_data_file: d.csv\n"),
        "dummy-data-file",
        6,
        "remove it",
    ),
    "minimally-sensitive": (
        project(f"a:\n  {PY}\n  outputs:\n    minimally_sensitive: {{t: t.csv}}\n"),
        "minimally-sensitive",
        6,
        "not an output level here",
    ),
    "expectations": (
        'version: "5"\nexpectations: {population_size: 10}\nactions:\n  a:\n    '
        + PY
        + "\n    "
        + OUT
        + "\n",
        "expectations",
        2,
        "remove it",
    ),
    "version-missing": (
        project(f"a:\n  {PY}\n  {OUT}\n", header="actions:\n"),
        "version",
        1,
        "the file has no `version`",
    ),
    "version-old": (
        project(f"a:\n  {PY}\n  {OUT}\n", header="version: '3.0'\nactions:\n"),
        "version",
        1,
        "version 3.0 is an older edition",
    ),
    "version-text": (
        project(f"a:\n  {PY}\n  {OUT}\n", header="version: five\nactions:\n"),
        "version",
        1,
        "is not a version number",
    ),
    "type": (
        project(f"a:\n  {PY}\n  outputs:\n    highly_sensitive: [o/t.csv]\n"),
        "type",
        6,
        "`outputs.highly_sensitive` of action `a` must be a mapping",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_rule(case: tuple[str, str, int, str]) -> None:
    text, code, line, message = case
    problem = only_problem(text)
    assert (problem.code, problem.line) == (code, line)
    assert message in problem.message


def test_cycle_is_named_and_points_at_the_first_need() -> None:
    text = project(
        f"""
        a:
          {PY}
          {OUT}
          needs: [b]
        b:
          run: python:v2 b.py
          outputs: {{highly_sensitive: {{b: b.csv}}}}
          needs: [c]
        c:
          run: python:v2 c.py
          outputs: {{highly_sensitive: {{c: c.csv}}}}
          needs: [a]
        """
    )
    problem = only_problem(text)
    assert (problem.code, problem.line, problem.column) == ("cycle", 6, 13)
    assert "(a needs b, b needs c, c needs a)" in problem.message


def test_duplicate_output() -> None:
    text = project(f"a:\n  {PY}\n  {OUT}\nb:\n  run: python:v2 b.py\n  {OUT}\n")
    problem = only_problem(text)
    assert (problem.code, problem.line) == ("duplicate-output", 8)
    assert "`output/t.csv` is already declared by action `a` (line 5)" in problem.message


def test_output_matched_by_another_actions_pattern() -> None:
    text = project(
        f"a:\n  {PY}\n  outputs: {{highly_sensitive: {{t: out/*.csv}}}}\n"
        f"b:\n  run: python:v2 b.py\n  outputs: {{highly_sensitive: {{t: out/b.csv}}}}\n"
    )
    problem = only_problem(text)
    assert (problem.code, problem.line) == ("output-overlap", 8)
    assert "also matches `out/*.csv`, declared by action `a`" in problem.message


def test_duplicate_run_ignores_spacing() -> None:
    text = project(
        "a:\n  run: python:v2 a.py\n  outputs: {highly_sensitive: {a: a.csv}}\n"
        "b:\n  run: python:v2   'a.py'\n  outputs: {highly_sensitive: {b: b.csv}}\n"
    )
    problem = only_problem(text)
    assert (problem.code, problem.line) == ("duplicate-run", 7)
    assert "same `run` as action `a` (line 3)" in problem.message


def test_ehrql_dataset_outputs_must_be_highly_sensitive() -> None:
    text = project(
        "a:\n  run: ehrql:v1 generate-dataset d.py --output o/d.csv\n"
        "  outputs: {moderately_sensitive: {d: o/d.csv}}\n"
    )
    problem = only_problem(text)
    assert (problem.code, problem.line) == ("ehrql-output", 4)
    assert "must all be `highly_sensitive`" in problem.message


def test_ehrql_output_directory_needs_a_matching_pattern() -> None:
    text = project(
        "a:\n  run: ehrql:v1 generate-dataset d.py --output o/tables:arrow\n"
        "  outputs: {highly_sensitive: {d: o/tables/*.csv}}\n"
    )
    problem = only_problem(text)
    assert (problem.code, problem.line) == ("ehrql-output", 4)
    assert "`o/tables/*.arrow`" in problem.message
