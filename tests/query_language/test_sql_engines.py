"""The SQL engines compile a dataset to one SELECT and stream its rows in batches."""

import pytest
import sqlalchemy as sa

from ehrql_schools.engines.duckdb import DuckDBEngine
from ehrql_schools.engines.postgresql import PostgreSQLEngine
from ehrql_schools.engines.sql import DatabaseError
from ehrql_schools.query_language import compile_dataset, create_dataset
from ehrql_schools.query_model import nodes
from ehrql_schools.tables.schools import class_memberships, exclusions, pupils


def example_dataset() -> nodes.Dataset:
    dataset = create_dataset()
    dataset.define_population(pupils.exists_for_pupil())
    latest = class_memberships.sort_by(class_memberships.start_date).last_for_pupil()
    dataset.set_rank = latest.class_.set_rank
    dataset.suspensions = exclusions.where(exclusions.category == "suspension").count_for_pupil()
    return compile_dataset(dataset)


def test_one_select_with_ctes_in_each_dialect():
    for engine in (DuckDBEngine("duckdb:///:memory:"), PostgreSQLEngine("postgresql+psycopg://")):
        sql = engine.get_sql(example_dataset())
        assert sql.startswith("WITH")
        assert sql.count("SELECT") >= 3
        assert "'suspension'" in sql


def test_results_stream_in_batches(tmp_path):
    url = f"duckdb:///{tmp_path / 'pupils.duckdb'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE pupils (pupil_id INTEGER)"))
        connection.execute(sa.text("INSERT INTO pupils SELECT range FROM range(1, 26)"))
    engine.dispose()
    dataset = create_dataset()
    dataset.define_population(pupils.exists_for_pupil())
    dataset.born_before_2012 = pupils.pupil_id > 20
    batches = list(DuckDBEngine(url).get_results(compile_dataset(dataset), batch_size=10))
    assert [len(batch) for batch in batches] == [10, 10, 5]
    assert batches[2][-1] == (25, True)


def test_literals_of_different_types_are_different_nodes():
    assert nodes.Value(1) != nodes.Value(True)
    assert nodes.Value(1) != nodes.Value(1.0)
    assert len({nodes.Value(1), nodes.Value(True), nodes.Value(1.0)}) == 3


def test_database_errors_are_short(tmp_path):
    dataset = create_dataset()
    dataset.define_population(pupils.exists_for_pupil())
    engine = DuckDBEngine(f"duckdb:///{tmp_path / 'empty.duckdb'}")
    with pytest.raises(DatabaseError, match="the database could not run the query: .*pupils"):
        list(engine.get_results(compile_dataset(dataset)))
