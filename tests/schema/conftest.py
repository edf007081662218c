"""Tiny schemas written into tmp_path, for the schema package's tests."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from schema import SchemaError, load_schema

# A small valid schema. Tests replace or add files to make exactly one mistake.
PUPILS = """\
name: pupils
entity: pupil
rows: one
description: One row per pupil.
primary_key: [pupil_id]
columns:
  pupil_id:
    type: integer
    description: The pupil.
    not_null: true
  sex:
    type: code
    codelist: sex
    not_null: true
  date_of_birth:
    type: date
    first_of_month: true
"""

SCHOOLS = """\
name: schools
entity: none
description: One row per school.
primary_key: [school_id]
columns:
  school_id:
    type: integer
    not_null: true
  name:
    type: string
    description: Name | with a pipe.
"""

SEX = """\
name: sex
description: Sex.
codes:
  - {code: F, description: Female}
  - {code: M, description: Male}
"""

BASE_TABLES = {"pupils": PUPILS, "schools": SCHOOLS}
BASE_CODELISTS = {"sex": SEX}

WriteSchema = Callable[..., Path]


@pytest.fixture
def write_schema(tmp_path: Path) -> WriteSchema:
    """Write the base schema plus `tables` / `codelists` (name -> YAML text) into tmp_path/schema.

    A text of None removes that base file. Returns the schema folder.
    """

    def write(
        tables: dict[str, str | None] | None = None,
        codelists: dict[str, str | None] | None = None,
    ) -> Path:
        root = tmp_path / "schema"
        for folder, base, extra in (
            ("tables", BASE_TABLES, tables or {}),
            ("codelists", BASE_CODELISTS, codelists or {}),
        ):
            (root / folder).mkdir(parents=True, exist_ok=True)
            for name, text in {**base, **extra}.items():
                if text is not None:
                    (root / folder / f"{name}.yaml").write_text(text)
        return root

    return write


@pytest.fixture
def problems(write_schema: WriteSchema) -> Callable[..., list[str]]:
    """Write a schema like `write_schema` and return its problems as printed, in order."""

    def check(
        tables: dict[str, str | None] | None = None,
        codelists: dict[str, str | None] | None = None,
    ) -> list[str]:
        try:
            load_schema(write_schema(tables, codelists))
        except SchemaError as error:
            return [str(problem) for problem in error.problems]
        return []

    return check


@pytest.fixture
def postgres(postgres_url: str) -> Iterator[sa.Connection]:
    """A PostgreSQL connection whose search path is a fresh namespace, dropped afterwards.

    The `postgres_url` database lives for the whole session, so each test gets its own namespace.
    """
    namespace = f"test_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(postgres_url)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(f"CREATE SCHEMA {namespace}"))
            connection.execute(sa.text(f"SET search_path TO {namespace}"))
            connection.commit()
            yield connection
            connection.rollback()
            connection.execute(sa.text(f"DROP SCHEMA {namespace} CASCADE"))
            connection.commit()
    finally:
        engine.dispose()
