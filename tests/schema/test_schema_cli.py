"""`osschools schema check | docs | ddl`, through click's CliRunner."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from schema import load_schema
from schema.cli import schema_group
from schema.reference import render_reference

BROKEN_PUPILS = """\
name: pupils
entity: pupil
rows: one
description: One row per pupil.
primary_key: [pupil_id]
columns:
  pupil_id:
    type: integr
    not_null: true
"""


def invoke(*args: str):
    return CliRunner().invoke(schema_group, list(args))


def test_check_ok(write_schema) -> None:
    result = invoke("check", "--path", str(write_schema()))
    assert result.exit_code == 0
    assert result.output == "schema OK: 2 tables, 0 views, 1 code lists\n"


def test_check_lists_every_problem_without_a_traceback(write_schema) -> None:
    root = write_schema({"pupils": BROKEN_PUPILS, "marks": "name: marks\n  bad: [\n"})
    result = invoke("check", "--path", str(root))
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    lines = result.output.splitlines()
    assert lines[0].startswith("schema/tables/marks.yaml:2: invalid YAML")
    assert lines[1:] == [
        "schema/tables/pupils.yaml:8: unknown type 'integr' in column 'pupil_id' "
        "(did you mean 'integer'?)",
        "2 problems in the schema",
    ]
    assert "Traceback" not in result.output


def test_check_the_standard_schema() -> None:
    result = invoke("check")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("schema OK: ")


def test_docs_writes_the_reference(write_schema, tmp_path: Path) -> None:
    root = write_schema()
    output = tmp_path / "docs" / "schema.md"
    result = invoke("docs", "--path", str(root), "--output", str(output))
    assert result.exit_code == 0, result.output
    assert output.read_text() == render_reference(load_schema(root))
    assert [path.name for path in output.parent.iterdir()] == ["schema.md"]  # no temporary file
    assert output.stat().st_mode & 0o777 == 0o644


def test_docs_check(write_schema, tmp_path: Path) -> None:
    root = write_schema()
    output = tmp_path / "schema.md"
    assert invoke("docs", "--path", str(root), "--output", str(output), "--check").exit_code == 1
    invoke("docs", "--path", str(root), "--output", str(output))
    result = invoke("docs", "--path", str(root), "--output", str(output), "--check")
    assert result.exit_code == 0
    assert "up to date" in result.output


def test_docs_with_problems_writes_nothing(write_schema, tmp_path: Path) -> None:
    output = tmp_path / "schema.md"
    root = write_schema({"pupils": BROKEN_PUPILS})
    result = invoke("docs", "--path", str(root), "--output", str(output))
    assert result.exit_code == 1
    assert not output.exists()


def test_ddl(write_schema) -> None:
    result = invoke("ddl", "--path", str(write_schema()), "--dialect", "postgresql")
    assert result.exit_code == 0
    assert result.output.startswith("CREATE TABLE pupils (")
    assert result.output.count(";") == 2


def test_ddl_options(write_schema) -> None:
    root = str(write_schema())
    keys = invoke("ddl", "--path", root, "--dialect", "duckdb", "--foreign-keys").output
    assert "PRIMARY KEY" in keys
    no_keys = invoke("ddl", "--path", root, "--dialect", "duckdb", "--no-constraints").output
    assert "PRIMARY KEY" not in no_keys


def test_ddl_needs_a_known_dialect(write_schema) -> None:
    result = invoke("ddl", "--path", str(write_schema()), "--dialect", "oracle")
    assert result.exit_code == 2
