"""A series reused many times is one node DAG: building, checking, hashing, comparing and
serialising it must take time in the number of nodes, not in the number of paths through them."""

from __future__ import annotations

import datetime
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from ehrql_schools.engines.duckdb import DuckDBEngine
from ehrql_schools.engines.in_memory import InMemoryEngine
from ehrql_schools.engines.postgresql import PostgreSQLEngine
from ehrql_schools.engines.sql import SQL_TYPES, SQLEngine
from ehrql_schools.query_language import Series, compile_dataset, create_dataset
from ehrql_schools.query_model import nodes, serialise
from ehrql_schools.tables.schools import attendance_sessions, pupils

INTEGRATION = pytest.mark.integration
FOLDS = 40  # 2**40 paths: anything that follows every path never finishes
PUPIL = {
    "pupil_id": 3,
    "upn": "A123456789012",
    "sex": "F",
    "date_of_birth": None,
    "ethnicity": "WBRI",
    "first_language": "ENG",
}


def doubled(folds: int) -> Series:
    x = pupils.pupil_id
    for _ in range(folds):
        x = x + x
    return x


def doubled_dataset(folds: int = FOLDS) -> nodes.Dataset:
    dataset = create_dataset()
    dataset.define_population(pupils.exists_for_pupil())
    dataset.x = doubled(folds)
    dataset.again = doubled(folds)  # equal to x, built separately
    return compile_dataset(dataset)


def test_a_40_fold_doubled_series_builds_and_compiles_quickly() -> None:
    start = time.perf_counter()
    dataset = doubled_dataset()
    (_, x), (_, again) = dataset.variables
    assert x.type is int
    assert x == again
    assert len(nodes.walk(x)) == FOLDS + 2  # the additions, the column and its frame
    assert time.perf_counter() - start < 5


def test_hashing_and_equality_visit_each_node_once() -> None:
    start = time.perf_counter()
    first, second = doubled_dataset(), doubled_dataset()  # equal, but built separately
    assert first is not second
    assert hash(first) == hash(second)
    assert first == second
    assert len({first, second}) == 1
    x = first.variables[0][1]
    assert x != nodes.Add(x, nodes.Value(1))
    one_more = nodes.Add(x, x)
    assert one_more != x
    assert one_more == nodes.Add(second.variables[0][1], second.variables[0][1])
    different = doubled(FOLDS - 1)._node
    assert nodes.Add(different, nodes.Add(different, different)) != x
    assert time.perf_counter() - start < 5


def test_the_doubled_series_round_trips_through_serialisation() -> None:
    dataset = doubled_dataset()
    text = serialise.dumps(dataset)
    assert len(text) < 20_000
    assert serialise.loads(text) == dataset


@pytest.mark.parametrize("dialect", ["duckdb", pytest.param("postgresql", marks=INTEGRATION)])
@pytest.mark.parametrize("folds", [10, FOLDS])
def test_engines_compute_a_doubled_series(
    folds: int, dialect: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    start = time.perf_counter()
    dataset = doubled_dataset(folds)
    expected = [(3, 3 * 2**folds, 3 * 2**folds)]
    engine = InMemoryEngine({"pupils": [PUPIL]})
    assert [row for batch in engine.get_results(dataset) for row in batch] == expected

    sql_engine_ = sql_engine(dialect, tmp_path, request)
    load_tables(sql_engine_.url, {"pupils": pupils}, {"pupils": [PUPIL]})
    sql = sql_engine_.get_sql(dataset)
    assert "pupil_id" in sql
    # The shared additions are computed once each: the text grows with the folds, not 2**folds.
    assert len(sql) < 2_000 + 400 * folds
    assert [row for batch in sql_engine_.get_results(dataset) for row in batch] == expected
    assert time.perf_counter() - start < 10


def test_sql_text_grows_linearly_with_the_folds() -> None:
    engine = DuckDBEngine("duckdb:///:memory:")
    sizes = [len(engine.get_sql(doubled_dataset(folds))) for folds in (20, 40, 80)]
    assert (sizes[2] - sizes[1]) / 40 < 1.5 * (sizes[1] - sizes[0]) / 20


def test_an_unshared_small_expression_is_written_inline() -> None:
    dataset = create_dataset()
    dataset.define_population(pupils.exists_for_pupil())
    dataset.x = doubled(3)
    assert "LATERAL" not in DuckDBEngine("duckdb:///:memory:").get_sql(compile_dataset(dataset))


def session(pupil_id: int, day: int, code: str | None, late: int | None = None) -> dict:
    return {
        "pupil_id": pupil_id,
        "school_id": 1,
        "date": datetime.date(2024, 9, day),
        "session": "AM",
        "attendance_code": code,
        "minutes_late": late,
    }


@pytest.mark.parametrize("dialect", ["duckdb", pytest.param("postgresql", marks=INTEGRATION)])
def test_counts_over_one_frame_with_different_filters_agree_across_engines(
    dialect: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The SQL engine counts the rows of a frame for several last filters in one CTE; the counts,
    exists and nulls must be those of the in-memory engine."""
    sessions = [
        session(1, 2, "/"),
        session(1, 3, "N", late=5),
        session(1, 3, "N"),
        session(1, 4, None),
        session(1, 20, "L", late=12),
        session(2, 2, "X"),
        session(3, 5, "/"),
        session(3, 6, "/", late=None),
    ]
    tables = {"pupils": [PUPIL | {"pupil_id": id_} for id_ in (1, 2, 3, 4)]}
    tables["attendance_sessions"] = sessions
    marks = attendance_sessions.where(
        attendance_sessions.date.is_on_or_before(datetime.date(2024, 9, 10))
    )
    dataset = create_dataset()
    dataset.define_population(pupils.exists_for_pupil())
    dataset.present = marks.where(marks.attendance_code == "/").count_for_pupil()
    dataset.absent = marks.where(marks.attendance_code.is_in(["N", "X"])).count_for_pupil()
    dataset.any_absent = marks.where(marks.attendance_code.is_in(["N", "X"])).exists_for_pupil()
    dataset.late = marks.where(marks.minutes_late > 0).count_for_pupil()
    dataset.no_code = marks.where(marks.attendance_code.is_null()).exists_for_pupil()
    dataset.not_present = marks.where(marks.attendance_code != "/").count_for_pupil()
    compiled = compile_dataset(dataset)
    expected = [
        (1, 1, 2, True, 1, True, 2),
        (2, 0, 1, True, 0, False, 1),
        (3, 2, 0, False, 0, False, 0),
        (4, 0, 0, False, 0, False, 0),
    ]
    in_memory = InMemoryEngine(tables)
    assert [row for batch in in_memory.get_results(compiled) for row in batch] == expected

    engine = sql_engine(dialect, tmp_path, request)
    load_tables(engine.url, {"pupils": pupils, "attendance_sessions": attendance_sessions}, tables)
    assert engine.get_sql(compiled).count("attendance_sessions AS") == 1  # one scan
    assert [row for batch in engine.get_results(compiled) for row in batch] == expected


def sql_engine(dialect: str, tmp_path: Path, request: pytest.FixtureRequest) -> SQLEngine:
    if dialect == "duckdb":
        return DuckDBEngine(f"duckdb:///{tmp_path / 'test.duckdb'}")
    return PostgreSQLEngine(request.getfixturevalue("postgres_url"))


def load_tables(url: str, frames: dict[str, Any], rows: dict[str, list[dict]]) -> None:
    metadata = sa.MetaData()
    for name, frame in frames.items():
        schema = frame._table
        columns = [sa.Column(column, SQL_TYPES[type_]()) for column, type_ in schema.columns]
        sa.Table(name, metadata, *columns)
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            metadata.drop_all(connection)
            metadata.create_all(connection)
            for table in metadata.sorted_tables:
                connection.execute(table.insert(), rows[table.name])
    finally:
        engine.dispose()
