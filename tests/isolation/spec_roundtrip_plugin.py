"""A pytest plugin (`-p spec_roundtrip_plugin`) that checks every dataset the spec tests run.

Each dataset given to the in-memory engine, and each compiled measures model, must come back equal
from `loads(dumps(...))`; each dataset must also give the same SQL on DuckDB. The names of the
classes seen are appended to the file named by ROUNDTRIP_REPORT, one model per line, for the
calling test to check coverage.
"""

from __future__ import annotations

import os
from typing import Any

from ehrql_schools.engines.duckdb import DuckDBEngine
from ehrql_schools.engines.in_memory import InMemoryEngine
from ehrql_schools.query_model import nodes
from ehrql_schools.query_model.serialise import dumps, loads

SQL_ENGINE = DuckDBEngine("duckdb:///:memory:")


def check(dataset: nodes.Dataset, event_table: str | None = None) -> None:
    copy = loads(dumps(dataset))
    assert copy == dataset
    if event_table is None:
        assert SQL_ENGINE.get_sql(copy) == SQL_ENGINE.get_sql(dataset)
    else:
        sql = SQL_ENGINE.get_event_table_sql
        assert sql(copy, event_table) == sql(dataset, event_table)
    names = sorted({type(node).__name__ for node in nodes.walk(dataset)})
    with open(os.environ["ROUNDTRIP_REPORT"], "a") as report:
        report.write(" ".join(names) + "\n")


def pytest_configure(config: Any) -> None:
    get_results = InMemoryEngine.get_results

    def checked_results(self: Any, dataset: nodes.Dataset, *args: Any, **kwargs: Any) -> Any:
        check(dataset)
        return get_results(self, dataset, *args, **kwargs)

    InMemoryEngine.get_results = checked_results  # type: ignore[method-assign]

    get_event_table_results = getattr(InMemoryEngine, "get_event_table_results", None)
    if get_event_table_results is not None:

        def checked_event_results(self: Any, dataset: Any, name: str, *args: Any, **kw: Any) -> Any:
            check(dataset, name)
            return get_event_table_results(self, dataset, name, *args, **kw)

        InMemoryEngine.get_event_table_results = checked_event_results  # type: ignore[attr-defined]

    # Measures: the compiled model must round trip too (its datasets are checked as they run).
    from ehrql_schools import measures

    compile_measures = measures.compile_measures

    def checked_compile_measures(*args: Any, **kwargs: Any) -> Any:
        model = compile_measures(*args, **kwargs)
        assert loads(dumps(model)) == model
        with open(os.environ["ROUNDTRIP_REPORT"], "a") as report:
            report.write("MeasuresModel IntervalQuery MeasureColumns\n")
        return model

    measures.compile_measures = checked_compile_measures  # type: ignore[assignment]
