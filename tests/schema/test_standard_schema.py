"""The standard schema in schema/: it loads, its DDL creates cleanly, its docs are up to date."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from schema import Schema, load_schema
from schema.ddl import create_tables
from schema.reference import render_reference

DOCS = Path(__file__).resolve().parents[2] / "docs" / "schema.md"

# How DuckDB describes the type of each schema type.
DUCKDB_TYPES = {
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "float": "DOUBLE",
    "boolean": "BOOLEAN",
    "string": "VARCHAR",
    "code": "VARCHAR",
    "date": "DATE",
    "time": "TIME",
}


@pytest.fixture(scope="module")
def schema() -> Schema:
    return load_schema()


def test_the_standard_schema_loads(schema: Schema) -> None:
    assert {"pupils", "teachers", "schools", "enrolments"} <= set(schema.tables)
    assert schema.tables["pupils"].entity == "pupil"
    assert schema.tables["teachers"].entity == "teacher"


@pytest.mark.parametrize("foreign_keys", [False, True])
def test_the_ddl_creates_cleanly_in_duckdb(schema: Schema, foreign_keys: bool) -> None:
    engine = sa.create_engine("duckdb:///:memory:")
    create_tables(engine, schema, foreign_keys=foreign_keys)
    inspector = sa.inspect(engine)
    assert sorted(inspector.get_table_names()) == sorted(schema.base_tables)
    assert sorted(inspector.get_view_names()) == sorted(schema.views)


def test_views_have_the_declared_columns_and_types(schema: Schema) -> None:
    engine = sa.create_engine("duckdb:///:memory:")
    create_tables(engine, schema)
    with engine.connect() as connection:
        for view in schema.views.values():
            described = connection.exec_driver_sql(f"DESCRIBE {view.name}").all()
            actual = [(row[0], row[1]) for row in described]
            declared = [(c.name, DUCKDB_TYPES[c.type]) for c in view.columns.values()]
            assert actual == declared, view.name


@pytest.mark.integration
def test_the_ddl_creates_cleanly_in_postgresql(schema: Schema, postgres: sa.Connection) -> None:
    create_tables(postgres, schema, foreign_keys=True)
    namespace = postgres.execute(sa.text("SELECT current_schema()")).scalar_one()
    inspector = sa.inspect(postgres)
    assert sorted(inspector.get_table_names(schema=namespace)) == sorted(schema.base_tables)
    assert sorted(inspector.get_view_names(schema=namespace)) == sorted(schema.views)


def test_docs_schema_md_is_up_to_date(schema: Schema) -> None:
    """Fails when someone edits schema/ without running `osschools schema docs`."""
    assert DOCS.is_file(), "docs/schema.md is missing: run `osschools schema docs`"
    assert DOCS.read_text(encoding="utf-8") == render_reference(schema), (
        "docs/schema.md is out of date: run `osschools schema docs`"
    )
