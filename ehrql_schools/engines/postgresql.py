"""PostgreSQL, the secure backend's database: only its differences from the generic SQL engine."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from ehrql_schools.engines.sql import SQLEngine


class PostgreSQLEngine(SQLEngine):
    """Runs datasets on PostgreSQL (`postgresql+psycopg://...`)."""

    def date_add_months(self, date: ColumnElement, number: ColumnElement) -> ColumnElement:
        # Adding an interval of months clamps the day to the end of the month.
        months = sa.func.make_interval(0, sa.cast(number, sa.Integer))
        return sa.cast(date + months, sa.Date)

    def ordered(self, expression: ColumnElement, type_: type) -> ColumnElement:
        # The database's collation may follow a locale; the query model orders strings by code
        # point, which for UTF-8 is the "C" collation's byte order.
        return sa.collate(expression, "C") if type_ is str else expression
