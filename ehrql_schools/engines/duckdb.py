"""DuckDB, the embedded default engine: only its differences from the generic SQL engine."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from ehrql_schools.engines.sql import SQLEngine


class DuckDBEngine(SQLEngine):
    """Runs datasets on a DuckDB file (`duckdb:///path.duckdb`) or in-memory database."""

    def date_add_months(self, date: ColumnElement, number: ColumnElement) -> ColumnElement:
        # DuckDB clamps the day to the end of the month, as the query model requires.
        return sa.cast(date + sa.func.to_months(sa.cast(number, sa.Integer)), sa.Date)

    def days_between(self, end: ColumnElement, start: ColumnElement) -> ColumnElement:
        return sa.cast(sa.func.datediff("day", start, end), sa.BigInteger)
