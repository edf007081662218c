"""SQL tables and views derived from the schema, for DuckDB and PostgreSQL.

What the DDL holds, and what it leaves out on purpose:

- Column types and NOT NULL always.
- Keys: PRIMARY KEY, UNIQUE (columns and `unique_together`), unless `constraints=False`. Without
  them DuckDB builds no indexes, so bulk loading (the dummy data generator) is faster; the
  validator checks keys instead.
- FOREIGN KEY constraints only with `foreign_keys=True` (and `constraints`). DuckDB enforces
  foreign keys row by row, which makes bulk loading slow and forces tables to be loaded parents
  first (and DuckDB cannot drop or truncate a referenced table); the validator checks references.
- CHECK constraints (ranges, categories, code lists, regex, first-of-month, after-column) never.
  The extract validator checks them and reports every failing row with a reason, which a CHECK
  constraint cannot do; and leaving them out keeps loading fast.
- Views are created after the tables, as `CREATE VIEW name AS <view_sql>`.
"""

from __future__ import annotations

import re
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.schema import CreateTable

from schema.models import Column, Schema, Table

Dialects = Literal["duckdb", "postgresql"]

SQL_TYPES: dict[str, type[sa.types.TypeEngine]] = {
    "integer": sa.Integer,
    "bigint": sa.BigInteger,
    "float": sa.Double,  # DOUBLE PRECISION in both; DuckDB's FLOAT would be 4 bytes
    "boolean": sa.Boolean,
    "string": sa.String,
    "code": sa.String,
    "date": sa.Date,
    "time": sa.Time,
}


def build_metadata(
    schema: Schema, *, constraints: bool = True, foreign_keys: bool = False
) -> sa.MetaData:
    """One SQLAlchemy `Table` per table of the schema (views are not included).

    `constraints=False` leaves out primary keys and UNIQUE; foreign keys are left out unless
    `foreign_keys=True`. See the module docstring for why.
    """
    metadata = sa.MetaData()
    for table in schema.base_tables.values():
        _sql_table(table, metadata, constraints=constraints, foreign_keys=foreign_keys)
    return metadata


def _sql_table(
    table: Table, metadata: sa.MetaData, *, constraints: bool, foreign_keys: bool
) -> sa.Table:
    columns = [
        _sql_column(column, table, constraints=constraints, foreign_keys=foreign_keys)
        for column in table.columns.values()
    ]
    keys = [sa.UniqueConstraint(*names) for names in table.unique_together] if constraints else []
    return sa.Table(table.name, metadata, *columns, *keys)


def _sql_column(
    column: Column, table: Table, *, constraints: bool, foreign_keys: bool
) -> sa.Column:
    references: list[sa.ForeignKey] = []
    if constraints and foreign_keys and column.references is not None:
        references.append(sa.ForeignKey(str(column.references)))
    return sa.Column(
        column.name,
        SQL_TYPES[column.type](),
        *references,
        nullable=not column.not_null,
        unique=(constraints and column.unique) or None,
        primary_key=constraints and column.name in table.primary_key,
        autoincrement=False,  # otherwise duckdb-engine emits SERIAL, which DuckDB rejects
    )


def view_statements(schema: Schema) -> list[str]:
    """`CREATE VIEW` statements, ordered so that a view comes after the views it reads."""
    return [f"CREATE VIEW {view.name} AS\n{view.view_sql}" for view in _views_in_order(schema)]


def _views_in_order(schema: Schema) -> list[Table]:
    views = schema.views
    ordered: list[Table] = []
    pending = dict(sorted(views.items()))
    while pending:
        ready = [
            view
            for view in pending.values()
            if not any(_mentions(view, other) for other in pending if other != view.name)
        ]
        ready = ready or list(pending.values())[:1]  # a cycle: let the database report it
        for view in ready:
            ordered.append(view)
            del pending[view.name]
    return ordered


def _mentions(view: Table, name: str) -> bool:
    return re.search(rf"\b{re.escape(name)}\b", view.view_sql or "") is not None


def create_tables(
    engine_or_connection: Engine | Connection,
    schema: Schema,
    *,
    views: bool = True,
    constraints: bool = True,
    foreign_keys: bool = False,
) -> None:
    """Create the schema's tables, then (unless `views=False`) its views, in one transaction.

    Given a Connection that is already in a transaction, the statements run in that transaction.
    `constraints` and `foreign_keys` are as for `build_metadata`.
    """
    metadata = build_metadata(schema, constraints=constraints, foreign_keys=foreign_keys)
    statements = view_statements(schema) if views else []
    if isinstance(engine_or_connection, Engine):
        with engine_or_connection.begin() as connection:
            _create(connection, metadata, statements)
    elif engine_or_connection.in_transaction():
        _create(engine_or_connection, metadata, statements)
    else:
        with engine_or_connection.begin():
            _create(engine_or_connection, metadata, statements)


def _create(connection: Connection, metadata: sa.MetaData, view_sql: list[str]) -> None:
    metadata.create_all(connection)
    for statement in view_sql:
        connection.execute(sa.text(statement))


def ddl_statements(
    schema: Schema, dialect: Dialects, *, constraints: bool = True, foreign_keys: bool = False
) -> list[str]:
    """The CREATE statements (tables, then views) compiled for `dialect`, without semicolons.

    `constraints` and `foreign_keys` are as for `build_metadata`.
    """
    sql_dialect = _dialect(dialect)
    metadata = build_metadata(schema, constraints=constraints, foreign_keys=foreign_keys)
    tables = [
        str(CreateTable(table).compile(dialect=sql_dialect)).strip()
        for table in metadata.sorted_tables
    ]
    return tables + view_statements(schema)


def _dialect(name: Dialects) -> Dialect:
    if name == "duckdb":
        from duckdb_engine import Dialect as DuckDBDialect

        return DuckDBDialect()
    if name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.dialect()
    raise ValueError(f"unknown dialect {name!r}; expected duckdb or postgresql")
