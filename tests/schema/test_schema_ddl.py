"""DDL from a small schema: it compiles for both dialects and loads into DuckDB and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from schema import Schema, load_schema
from schema.ddl import Dialects, build_metadata, create_tables, ddl_statements

MARKS = """\
name: marks
entity: pupil
rows: many
description: Marks.
primary_key: [mark_id]
unique_together:
  - [pupil_id, taken_on]
columns:
  mark_id:
    type: bigint
    not_null: true
  pupil_id:
    type: integer
    not_null: true
    references: pupils.pupil_id
  taken_on:
    type: date
    not_null: true
  taken_at:
    type: time
  score:
    type: float
    min: 0
  passed:
    type: boolean
  code:
    type: string
    unique: true
"""

PUPIL_MARKS = """\
name: pupil_marks
kind: view
entity: pupil
rows: many
description: Marks with the pupil's sex.
columns:
  pupil_id:
    type: integer
    not_null: true
    references: pupils.pupil_id
  sex:
    type: code
    codelist: sex
  score:
    type: float
view_sql: |
  SELECT m.pupil_id, p.sex, m.score
  FROM marks AS m JOIN pupils AS p ON p.pupil_id = m.pupil_id;
"""


@pytest.fixture
def schema(write_schema) -> Schema:
    return load_schema(write_schema({"marks": MARKS, "pupil_marks": PUPIL_MARKS}))


def test_metadata_has_the_tables_but_not_the_views(schema: Schema) -> None:
    metadata = build_metadata(schema)
    assert sorted(metadata.tables) == ["marks", "pupils", "schools"]
    marks = metadata.tables["marks"]
    assert [column.name for column in marks.primary_key] == ["mark_id"]
    assert marks.c.pupil_id.nullable is False
    assert marks.c.score.nullable is True
    assert marks.c.code.unique is True
    assert isinstance(marks.c.score.type, sa.Double)
    assert isinstance(marks.c.mark_id.type, sa.BigInteger)
    assert not marks.foreign_keys


def test_foreign_keys_only_when_asked(schema: Schema) -> None:
    marks = build_metadata(schema, foreign_keys=True).tables["marks"]
    assert [key.target_fullname for key in marks.foreign_keys] == ["pupils.pupil_id"]


@pytest.mark.parametrize("dialect", ["duckdb", "postgresql"])
def test_ddl_statements(schema: Schema, dialect: Dialects) -> None:
    statements = ddl_statements(schema, dialect)
    assert [statement.split("(")[0].split(" AS")[0].strip() for statement in statements] == [
        "CREATE TABLE marks",
        "CREATE TABLE pupils",
        "CREATE TABLE schools",
        "CREATE VIEW pupil_marks",
    ]
    marks = statements[0]
    assert "mark_id BIGINT NOT NULL" in marks
    assert "score DOUBLE PRECISION," in marks
    assert "taken_at TIME" in marks
    assert "PRIMARY KEY (mark_id)" in marks
    assert "UNIQUE (pupil_id, taken_on)" in marks
    assert "UNIQUE (code)" in marks
    assert "SERIAL" not in marks
    assert "FOREIGN KEY" not in marks
    assert "CHECK" not in marks
    assert not statements[-1].endswith(";")


def test_ddl_statements_with_foreign_keys(schema: Schema) -> None:
    statements = ddl_statements(schema, "postgresql", foreign_keys=True)
    assert statements[0].startswith("CREATE TABLE pupils")  # parents before children
    marks = next(s for s in statements if s.startswith("CREATE TABLE marks"))
    assert "FOREIGN KEY(pupil_id) REFERENCES pupils (pupil_id)" in marks


@pytest.mark.parametrize("dialect", ["duckdb", "postgresql"])
def test_ddl_statements_without_constraints(schema: Schema, dialect: Dialects) -> None:
    marks = ddl_statements(schema, dialect, constraints=False, foreign_keys=True)[0]
    assert "mark_id BIGINT NOT NULL" in marks
    assert "PRIMARY KEY" not in marks
    assert "UNIQUE" not in marks
    assert "FOREIGN KEY" not in marks


def test_duckdb_without_constraints_accepts_duplicates(schema: Schema) -> None:
    engine = sa.create_engine("duckdb:///:memory:")
    create_tables(engine, schema, constraints=False)
    with engine.connect() as connection:
        insert = "INSERT INTO pupils (pupil_id, sex) VALUES (1, 'F')"
        connection.execute(sa.text(insert))
        connection.execute(sa.text(insert))
        with pytest.raises(sa.exc.IntegrityError, match="NOT NULL"):
            connection.execute(sa.text("INSERT INTO pupils (pupil_id) VALUES (2)"))


def insert_and_violate(connection: sa.Connection) -> None:
    """A valid row goes in; a row breaking NOT NULL is rejected."""
    connection.execute(sa.text("INSERT INTO pupils (pupil_id, sex) VALUES (1, 'F')"))
    connection.execute(
        sa.text("INSERT INTO marks (mark_id, pupil_id, taken_on, score) VALUES (1, 1, :d, 5.5)"),
        {"d": date(2024, 9, 2)},
    )
    rows = connection.execute(sa.text("SELECT pupil_id, sex, score FROM pupil_marks")).all()
    assert [tuple(row) for row in rows] == [(1, "F", 5.5)]
    with pytest.raises(sa.exc.IntegrityError), connection.begin_nested():
        connection.execute(sa.text("INSERT INTO marks (mark_id, pupil_id) VALUES (2, 1)"))


def test_duckdb_accepts_the_ddl(schema: Schema) -> None:
    engine = sa.create_engine("duckdb:///:memory:")
    create_tables(engine, schema)
    with engine.connect() as connection:
        connection.execute(sa.text("INSERT INTO pupils (pupil_id, sex) VALUES (1, 'F')"))
        connection.execute(
            sa.text("INSERT INTO marks (mark_id, pupil_id, taken_on) VALUES (1, 1, '2024-09-02')")
        )
        with pytest.raises(sa.exc.IntegrityError, match="NOT NULL"):
            connection.execute(sa.text("INSERT INTO marks (mark_id, pupil_id) VALUES (2, 1)"))


def test_duckdb_view_and_foreign_keys(schema: Schema) -> None:
    engine = sa.create_engine("duckdb:///:memory:")
    create_tables(engine, schema, foreign_keys=True)
    with engine.connect() as connection:
        connection.execute(sa.text("INSERT INTO pupils (pupil_id, sex) VALUES (1, 'F')"))
        connection.execute(
            sa.text(
                "INSERT INTO marks (mark_id, pupil_id, taken_on, score) VALUES (1, 1, :d, 5.5)"
            ),
            {"d": date(2024, 9, 2)},
        )
        rows = connection.execute(sa.text("SELECT pupil_id, sex, score FROM pupil_marks")).all()
        assert [tuple(row) for row in rows] == [(1, "F", 5.5)]
        with pytest.raises(sa.exc.IntegrityError):
            connection.execute(
                sa.text("INSERT INTO marks (mark_id, pupil_id, taken_on) VALUES (2, 9, :d)"),
                {"d": date(2024, 9, 3)},
            )


def test_create_tables_without_views(schema: Schema) -> None:
    engine = sa.create_engine("duckdb:///:memory:")
    create_tables(engine, schema, views=False)
    assert sorted(sa.inspect(engine).get_view_names()) == []
    assert sorted(sa.inspect(engine).get_table_names()) == ["marks", "pupils", "schools"]


def test_create_tables_is_one_transaction(schema: Schema) -> None:
    engine = sa.create_engine("duckdb:///:memory:")
    broken = schema.model_copy(
        update={
            "tables": {
                **schema.tables,
                "pupil_marks": schema.tables["pupil_marks"].model_copy(
                    update={"view_sql": "SELECT nonsense FROM nowhere"}
                ),
            }
        }
    )
    with pytest.raises(sa.exc.DBAPIError):
        create_tables(engine, broken)
    assert sa.inspect(engine).get_table_names() == []


@pytest.mark.integration
def test_postgresql_accepts_the_ddl(schema: Schema, postgres: sa.Connection) -> None:
    create_tables(postgres, schema, foreign_keys=True)
    postgres.commit()
    with postgres.begin():
        insert_and_violate(postgres)
