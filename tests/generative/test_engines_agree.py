"""Random valid datasets over random small tables give the same rows on every engine.

The in-memory engine is the reference; DuckDB and PostgreSQL run the SQLAlchemy query and, in
dump-SQL mode, the text `get_sql()` prints. Failures shrink to a small query and a few rows; the
bugs found so far are pinned down as spec tests in tests/spec/test_found_by_hypothesis.py.

Settings: the "generative" profile runs 150 derandomized examples (the same ones on every run, so
CI is deterministic). OSSCHOOLS_GENERATIVE_EXAMPLES=2000 runs that many random examples instead,
remembering failures in .hypothesis/ to replay them.
"""

from __future__ import annotations

import datetime
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, note, settings

from ehrql_schools.engines.duckdb import DuckDBEngine
from ehrql_schools.engines.in_memory import InMemoryEngine
from ehrql_schools.engines.postgresql import PostgreSQLEngine
from ehrql_schools.query_model import nodes
from tests.generative.strategies import examples, schema, show, used_tables

EXAMPLES_VARIABLE = "OSSCHOOLS_GENERATIVE_EXAMPLES"
settings.register_profile(
    "generative",
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "generative-long",
    parent=settings.get_profile("generative"),
    max_examples=int(os.environ.get(EXAMPLES_VARIABLE) or 0) or 150,
    derandomize=False,
    database=settings.default.database,
)
PROFILE = settings.get_profile(
    "generative-long" if os.environ.get(EXAMPLES_VARIABLE) else "generative"
)

DDL_TYPES = {
    bool: "BOOLEAN",
    int: "BIGINT",
    float: "DOUBLE PRECISION",
    str: "VARCHAR",
    datetime.date: "DATE",
    datetime.time: "TIME",
}


def load(connection: Any, placeholder: str, data: dict, names: list[str]) -> None:
    """(Re)create the tables through a DB-API connection and insert their rows."""
    cursor = connection.cursor()
    for name in names:
        columns = schema(name).columns
        cursor.execute(f"DROP TABLE IF EXISTS {name}")
        definitions = ", ".join(f"{column} {DDL_TYPES[type_]}" for column, type_ in columns)
        cursor.execute(f"CREATE TABLE {name} ({definitions})")
        if data[name]:
            marks = ", ".join(placeholder for _ in columns)
            rows = [tuple(row[column] for column, _ in columns) for row in data[name]]
            cursor.executemany(f"INSERT INTO {name} VALUES ({marks})", rows)
    cursor.close()


def results(engine: Any, dataset: nodes.Dataset) -> list[tuple]:
    return [row for batch in engine.get_results(dataset, batch_size=3) for row in batch]


class Databases:
    """A DuckDB file and a PostgreSQL database (one connection), reused by every example."""

    def __init__(self, duckdb_path: Path, postgres_url: str | None) -> None:
        self.duckdb_path, self.postgres_url = duckdb_path, postgres_url
        self.postgres: Any = None
        if postgres_url is not None:
            self.postgres_engine = sa.create_engine(postgres_url, poolclass=sa.pool.NullPool)
            self.raw_connection = self.postgres_engine.raw_connection()
            self.postgres = self.raw_connection.driver_connection
            self.postgres.autocommit = True

    def close(self) -> None:
        if self.postgres is not None:
            self.raw_connection.close()
            self.postgres_engine.dispose()

    def run_all(self, dataset: nodes.Dataset, data: dict) -> dict[str, list[tuple]]:
        names = used_tables(dataset)
        found = {"in_memory": results(InMemoryEngine(data), dataset)}

        connection = duckdb.connect(str(self.duckdb_path))
        try:
            load(connection, "?", data, names)
        finally:
            connection.close()
        engine = DuckDBEngine(f"duckdb:///{self.duckdb_path}")
        found["duckdb"] = results(engine, dataset)
        connection = duckdb.connect(str(self.duckdb_path))
        try:
            found["duckdb_sql"] = connection.execute(engine.get_sql(dataset)).fetchall()
        finally:
            connection.close()

        if self.postgres is not None:
            load(self.postgres, "%s", data, names)
            engine = PostgreSQLEngine(self.postgres_url)
            found["postgresql"] = results(engine, dataset)
            with self.postgres.cursor() as cursor:
                cursor.execute(engine.get_sql(dataset))
                found["postgresql_sql"] = cursor.fetchall()
        return found


@pytest.fixture(scope="module")
def databases(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Databases]:
    """Without PostgreSQL (no server, and not in CI) the engines are compared without it."""
    try:
        postgres_url = request.getfixturevalue("postgres_url")
    except pytest.skip.Exception:
        postgres_url = None
    found = Databases(tmp_path_factory.mktemp("generative") / "data.duckdb", postgres_url)
    yield found
    found.close()


def same(left: Any, right: Any) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        return math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-12)
    return type(left) is type(right) and left == right


def check_types(dataset: nodes.Dataset, rows: list[tuple], engine: str) -> None:
    types = [int, *(series.type for _, series in dataset.variables)]
    for row in rows:
        for value, type_ in zip(row, types, strict=True):
            assert value is None or type(value) is type_, (
                f"{engine} gave {value!r} ({type(value).__name__}) for a {type_.__name__} series"
            )


@pytest.mark.slow
@PROFILE
@given(example=examples())
def test_engines_agree(databases: Databases, example: tuple[nodes.Dataset, dict]) -> None:
    dataset, data = example
    note(show(dataset))
    note(
        "\n".join(
            f"{name}: {data[name]}" for name in used_tables(dataset) if name in data and data[name]
        )
    )
    found = databases.run_all(dataset, data)
    expected = found.pop("in_memory")
    note(f"in_memory: {expected}")
    check_types(dataset, expected, "in_memory")
    for engine, rows in found.items():
        note(f"{engine}: {rows}")
        check_types(dataset, rows, engine)
        assert len(rows) == len(expected), engine
        for row, expected_row in zip(rows, expected, strict=True):
            assert all(map(same, row, expected_row)), (engine, row, expected_row)
