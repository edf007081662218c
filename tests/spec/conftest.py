"""The spec test harness: small tables written as text, a query, the rows it must give.

Every spec test runs on every engine: the in-memory reference engine, DuckDB and PostgreSQL
(an integration test, through the `postgres_url` fixture), and on DuckDB and PostgreSQL again in
dump-SQL mode (`duckdb_sql`, `postgresql_sql`: the text `get_sql()` prints, run as it is).

    def test_count(spec):
        spec.tables(
            pupils='''
                pupil_id
                1
                2
            ''',
            exclusions='''
                pupil_id | exclusion_id
                1        | 10
                1        | 11
            ''',
        )
        assert spec.values(exclusions.count_for_pupil()) == {1: 2, 2: 0}

A table's text is a header of column names and one line per row, cells separated by `|`. An empty
cell is null; columns left out are null. Values are read by the column's type: integers, floats,
T/F booleans, YYYY-MM-DD dates, HH:MM times, strings as written.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from ehrql_schools.engines.duckdb import DuckDBEngine
from ehrql_schools.engines.in_memory import InMemoryEngine
from ehrql_schools.engines.postgresql import PostgreSQLEngine
from ehrql_schools.engines.sql import SQL_TYPES
from ehrql_schools.query_language import Dataset, Series, compile_dataset, create_dataset
from ehrql_schools.query_model.nodes import TableSchema
from ehrql_schools.tables import schools


def parse_table(table: TableSchema, text: str) -> list[dict[str, Any]]:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    header = [name.strip() for name in lines[0].split("|")]
    types = dict(table.columns)
    for name in header:
        if name not in types:
            raise ValueError(f"{table.name} has no column {name!r}")
    rows = []
    for line in lines[1:]:
        cells = [cell.strip() for cell in line.split("|")]
        if len(cells) != len(header):
            raise ValueError(f"{table.name}: row {line!r} does not match the header")
        pairs = zip(header, cells, strict=True)
        given = {name: parse_value(types[name], cell) for name, cell in pairs}
        rows.append({name: given.get(name) for name in types})
    return rows


def parse_value(type_: type, cell: str) -> Any:
    if cell == "":
        return None
    if type_ is bool:
        return {"T": True, "F": False}[cell]
    if type_ is datetime.date:
        return datetime.date.fromisoformat(cell)
    if type_ is datetime.time:
        return datetime.time.fromisoformat(cell)
    return type_(cell)


class Spec:
    """One spec test on one engine."""

    def __init__(self, engine_name: str, tmp_path: Path, postgres_url: str | None) -> None:
        self.engine_name, self.tmp_path, self.postgres_url = engine_name, tmp_path, postgres_url
        self.data: dict[str, list[dict[str, Any]]] = {}
        self.schemas: dict[str, TableSchema] = {}

    def tables(self, **texts: str) -> None:
        for name, text in texts.items():
            schema = getattr(schools, name)._table
            self.schemas[name] = schema
            self.data[name] = parse_table(schema, text)

    def rows(self, dataset: Dataset) -> list[tuple]:
        query = compile_dataset(dataset)
        engine = self.engine()
        return [row for batch in engine.get_results(query, batch_size=2) for row in batch]

    def event_rows(self, dataset: Dataset, name: str) -> list[tuple]:
        """The rows of the dataset's event table `name`: (entity id, *columns)."""
        query = compile_dataset(dataset)
        batches = self.engine().get_event_table_results(query, name, batch_size=2)
        return [row for batch in batches for row in batch]

    def measures_rows(self, measures: Any) -> list[tuple]:
        """The measures' output rows as tuples, without the disclosure_control column."""
        from ehrql_schools.measures import compile_measures, compute_measures, frame_rows

        frame = compute_measures(compile_measures(measures), self.engine(), batch_size=2)
        return frame_rows(frame.drop(columns="disclosure_control"))

    def values(self, series: Series, population: Series | None = None) -> dict[Any, Any]:
        """{entity id: value} of one series, for the entities in any given table of its entity
        (or in `population`)."""
        dataset = create_dataset()
        if population is None:
            entity = series._node.domain.entity or "pupil"
            frames = [
                getattr(schools, name)
                for name, schema in self.schemas.items()
                if schema.entity == entity
            ]
            for frame in frames:
                exists = getattr(frame, f"exists_for_{entity}")()
                population = exists if population is None else population | exists
        dataset.define_population(population)
        dataset.value = series
        return dict(self.rows(dataset))

    def engine(self) -> Any:
        if self.engine_name == "in_memory":
            return InMemoryEngine(self.data)
        if self.engine_name.startswith("duckdb"):
            url = f"duckdb:///{self.tmp_path / 'spec.duckdb'}"
            self.load(url)
            engine: Any = DuckDBEngine(url)
        else:
            assert self.postgres_url is not None
            self.load(self.postgres_url)
            engine = PostgreSQLEngine(self.postgres_url)
        # "..._sql": dump-SQL mode, running the text that get_sql() prints.
        return DumpedSQLEngine(engine) if self.engine_name.endswith("_sql") else engine

    def load(self, url: str) -> None:
        metadata = sa.MetaData()
        for name, schema in self.schemas.items():
            columns = [sa.Column(column, SQL_TYPES[type_]()) for column, type_ in schema.columns]
            sa.Table(name, metadata, *columns)
        engine = sa.create_engine(url)
        try:
            with engine.begin() as connection:
                for table in metadata.sorted_tables:
                    connection.execute(sa.text(f"DROP TABLE IF EXISTS {table.name}"))
                metadata.create_all(connection)
                for table in metadata.sorted_tables:
                    if self.data[table.name]:
                        connection.execute(table.insert(), self.data[table.name])
        finally:
            engine.dispose()


class DumpedSQLEngine:
    """Dump-SQL mode: runs the SQL text an engine's get_sql() gives (what `ehrql-schools
    dump-dataset-sql` prints) through a raw driver connection, not the SQLAlchemy query."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)

    def get_results(self, dataset: Any, batch_size: int = 10_000) -> Iterator[list[tuple]]:
        return self.run(self.engine.get_sql(dataset), batch_size)

    def get_event_table_results(
        self, dataset: Any, name: str, batch_size: int = 10_000
    ) -> Iterator[list[tuple]]:
        return self.run(self.engine.get_event_table_sql(dataset, name), batch_size)

    def run(self, sql: str, batch_size: int) -> Iterator[list[tuple]]:
        engine = sa.create_engine(self.engine.url)
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(sql)
            while batch := cursor.fetchmany(batch_size):
                yield [tuple(row) for row in batch]
        finally:
            connection.close()
            engine.dispose()


SQL_ENGINES = ["duckdb", "duckdb_sql", "postgresql", "postgresql_sql"]


@pytest.fixture(
    params=[
        "in_memory",
        *(
            pytest.param(name, marks=pytest.mark.integration) if "postgresql" in name else name
            for name in SQL_ENGINES
        ),
    ]
)
def spec(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Spec]:
    postgres_url = None
    if request.param.startswith("postgresql"):
        postgres_url = request.getfixturevalue("postgres_url")
    yield Spec(request.param, tmp_path, postgres_url)
