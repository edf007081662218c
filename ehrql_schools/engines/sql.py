"""Compiles the query model through SQLAlchemy Core to one SELECT per dataset, and runs it.

The shape of the SELECT:

- The candidate entities are the distinct ids in the tables the population uses.
- A many-rows frame is its table (aliased) with the conditions of its filters in WHERE.
- Each aggregation is a CTE grouped by entity id; each picked row (first/last) is a CTE of the rows
  numbered by ROW_NUMBER() in sort order; each one-row table is the table itself. They are
  LEFT JOINed on the entity id wherever a value of them is used: in the final SELECT, or inside
  another CTE (a filter that compares each row with a pupil's date of birth).
- A lookup is a LEFT JOIN of the reference table on its key, next to the row that holds the key.

Dialect differences (date arithmetic, collation) live in the `DuckDBEngine` and
`PostgreSQLEngine` subclasses.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Hashable, Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement, Grouping

from ehrql_schools.query_model import nodes

SQL_TYPES: dict[type, type[sa.types.TypeEngine]] = {
    bool: sa.Boolean,
    int: sa.BigInteger,
    float: sa.Double,
    str: sa.String,
    datetime.date: sa.Date,
    datetime.time: sa.Time,
}
ENTITY_ID = "_entity_id"
VALUE = "_value"
POSITION = "_position"
ROWS = "_rows"
# A series used more than once whose expression, written out, would have more nodes than this is
# computed once per context, in a LATERAL subquery joined into it, and referred to by its column:
# SQL text has no sharing, so a DAG of reused series would otherwise be written out once per path
# (2**n times for `x = x + x` repeated n times).
SHARED_EXPRESSION_SIZE = 32


class DatabaseError(Exception):
    """The database could not run a dataset's query (e.g. a table is missing); the message is
    the database's own, without SQLAlchemy's traceback and statement."""


class SQLEngine:
    """Runs datasets on a database given by a SQLAlchemy URL."""

    def __init__(self, url: str) -> None:
        self.url = url

    def get_query(self, dataset: nodes.Dataset) -> sa.Select:
        return DatasetQuery(self, dataset).select()

    def get_sql(self, dataset: nodes.Dataset) -> str:
        """The SELECT as text in this engine's dialect, with literal values inlined."""
        return self.sql_text(self.get_query(dataset))

    def get_event_table_query(self, dataset: nodes.Dataset, name: str) -> sa.Select:
        return DatasetQuery(self, dataset).event_table_select(name)

    def get_event_table_sql(self, dataset: nodes.Dataset, name: str) -> str:
        """The SELECT of the dataset's event table `name`, as text in this engine's dialect."""
        return self.sql_text(self.get_event_table_query(dataset, name))

    def get_event_table_results(
        self, dataset: nodes.Dataset, name: str, batch_size: int = 10_000
    ) -> Iterator[list[tuple]]:
        """The rows of the dataset's event table `name` in batches, ordered by entity id, then by
        the table's row order: (id, *columns)."""
        return self.stream(self.get_event_table_query(dataset, name), batch_size)

    def sql_text(self, query: sa.Select) -> str:
        # A "named" paramstyle: with psycopg's "pyformat" the text would double each % (in 'a%b'
        # too), ready for a parameter substitution that never happens to it.
        engine = sa.create_engine(self.url, paramstyle="named")
        try:
            compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
        finally:
            engine.dispose()
        return str(compiled)

    def get_results(
        self, dataset: nodes.Dataset, batch_size: int = 10_000
    ) -> Iterator[list[tuple]]:
        """The dataset's rows in batches, ordered by entity id: (id, *variables)."""
        return self.stream(self.get_query(dataset), batch_size)

    def stream(self, query: sa.Select, batch_size: int) -> Iterator[list[tuple]]:
        engine = sa.create_engine(self.url)
        try:
            with engine.connect() as connection:
                result = connection.execution_options(
                    stream_results=True, yield_per=batch_size
                ).execute(query)
                for batch in result.partitions(batch_size):
                    yield [tuple(row) for row in batch]
        except sa.exc.DBAPIError as error:
            message = str(error.orig).strip().splitlines()[0]
            raise DatabaseError(f"the database could not run the query: {message}") from error
        finally:
            engine.dispose()

    # Dialect differences

    def date_add_days(self, date: ColumnElement, number: ColumnElement) -> ColumnElement:
        return date + sa.cast(number, sa.Integer)

    def date_add_months(self, date: ColumnElement, number: ColumnElement) -> ColumnElement:
        raise NotImplementedError

    def days_between(self, end: ColumnElement, start: ColumnElement) -> ColumnElement:
        return sa.cast(end - start, sa.BigInteger)

    def ordered(self, expression: ColumnElement, type_: type) -> ColumnElement:
        """The expression as it must be compared and sorted (strings in code point order)."""
        return expression


class Context:
    """Where expressions are compiled: a FROM clause that grows a LEFT JOIN for each one-row
    frame, aggregation or lookup used, the entity id to join them on, and the current row."""

    def __init__(self, entity_id: ColumnElement, from_clause: Any, row: Any = None) -> None:
        self.entity_id, self.from_clause, self.row = entity_id, from_clause, row
        self.joined: dict[Hashable, Any] = {}
        # The expression of each series compiled here: a series reused many times is one node,
        # compiled once per context, not once per path through the DAG.
        self.compiled: dict[nodes.Series, ColumnElement] = {}

    def join(self, key: Hashable, make: Callable[[], tuple[Any, ColumnElement]]) -> Any:
        if key not in self.joined:
            alias, on = make()
            self.from_clause = self.from_clause.outerjoin(alias, on)
            self.joined[key] = alias
        return self.joined[key]


class DatasetQuery:
    """Builds the SELECT for one dataset."""

    def __init__(self, engine: SQLEngine, dataset: nodes.Dataset) -> None:
        self.engine, self.dataset = engine, dataset
        self.metadata = sa.MetaData()
        self.ctes: dict[Hashable, Any] = {}
        self.picked_columns: dict[nodes.Node, list[str]] = {}
        self.uses: dict[nodes.Node, int] = {}
        self.sizes: dict[nodes.Series, int] = {}
        walked = nodes.walk(dataset)
        for node in walked:
            for child in node.children():
                self.uses[child] = self.uses.get(child, 0) + 1
            if isinstance(node, nodes.SelectColumn):
                columns = self.picked_columns.setdefault(node.source, [])
                if node.name not in columns:
                    columns.append(node.name)
        # Counts (and exists) over the rows of one frame, each with its own last filter on the
        # row's columns (possible and missed sessions: the marks of a year, by code), are
        # computed in one CTE: one scan of the frame, the rows counted by entity and by the
        # columns the filters use, then the counts summed by entity, filtered by each condition.
        self.merged_counts: dict[nodes.Frame, list[nodes.Series]] = {}
        for node in walked:
            if mergeable_count(node):
                self.merged_counts.setdefault(node.source.source, []).append(node)  # type: ignore[attr-defined]
        self.merged_counts = {
            frame: counts for frame, counts in self.merged_counts.items() if len(counts) > 1
        }
        self.merged_column = {
            count: (frame, f"{VALUE}_{number}")
            for frame, counts in self.merged_counts.items()
            for number, count in enumerate(counts, 1)
        }

    def select(self) -> sa.Select:
        key = self.dataset.entity_key
        context, population = self.population()
        variables = [
            self.series(series, context).label(name) for name, series in self.dataset.variables
        ]
        return (
            sa.select(context.entity_id.label(key), *variables)
            .select_from(context.from_clause)
            .where(population)
            .order_by(context.entity_id)
        )

    def event_table_select(self, name: str) -> sa.Select:
        """The rows of an event table: its frame's rows whose entity is in the population,
        ordered by entity id, the frame's sort keys (if sorted), then the rest of the row."""
        event_table = self.dataset.event_table(name)
        context, conditions = self.rows(event_table.frame)
        columns = [
            self.series(series, context).label(column) for column, series in event_table.columns
        ]
        sort = event_table.sort
        keys = [
            self.engine.ordered(self.series(key, context), key.type)
            for key in (sort.keys if sort is not None else ())
        ]
        row = context.row
        keys += [
            self.engine.ordered(row.c[column], type_)
            for column, type_ in event_table.frame.table.columns
        ]
        members, population = self.population()
        in_population = (
            sa.select(members.entity_id).select_from(members.from_clause).where(population)
        )
        return (
            sa.select(context.entity_id.label(self.dataset.entity_key), *columns)
            .select_from(context.from_clause)
            .where(*conditions, context.entity_id.in_(in_population))
            .order_by(context.entity_id, *(sa.nulls_first(key.asc()) for key in keys))
        )

    def population(self) -> tuple[Context, ColumnElement]:
        """A context over the candidate entities, and the condition that they are in the
        population."""
        key = self.dataset.entity_key
        tables = [self.table(table) for table in nodes.population_tables(self.dataset)]
        universe = sa.union(
            *(sa.select(table.c[key].label(ENTITY_ID)).distinct() for table in tables)
        )
        universe = universe.subquery("population_universe")
        context = Context(universe.c[ENTITY_ID], universe)
        return context, self.series(self.dataset.population, context)

    def table(self, table: nodes.TableSchema) -> sa.Table:
        if table.name not in self.metadata.tables:
            columns = [sa.Column(name, SQL_TYPES[type_]()) for name, type_ in table.columns]
            sa.Table(table.name, self.metadata, *columns)
        return self.metadata.tables[table.name]

    # Frames

    def rows(self, frame: nodes.Frame) -> tuple[Context, list[ColumnElement]]:
        """A context over the rows of a frame's table, and the conditions that select them."""
        lineage = nodes.lineage(frame)
        root = lineage[-1]
        table = self.table(root.table).alias()
        # Rows are grouped by their owner: the entity, or the key that related rows share.
        owner = root.column if isinstance(root, nodes.RelatedRows) else root.table.entity_key
        context = Context(table.c[owner], table, row=table)
        conditions = [
            self.series(item.condition, context)
            for item in reversed(lineage)
            if isinstance(item, nodes.Filter)
        ]
        return context, conditions

    def aggregate_cte(self, series: nodes.Series) -> Any:
        if series in self.ctes:
            return self.ctes[series]
        if isinstance(series, nodes.Exists | nodes.Count):
            context, conditions = self.rows(series.source)
            value = sa.true() if isinstance(series, nodes.Exists) else sa.func.count()
        else:
            assert isinstance(series, nodes.Aggregate) and series.source.domain.frame
            context, conditions = self.rows(series.source.domain.frame)
            value = self.aggregate(series, self.series(series.source, context))
        query = (
            sa.select(context.entity_id.label(ENTITY_ID), value.label(VALUE))
            .select_from(context.from_clause)
            .where(*conditions)
            .group_by(context.entity_id)
        )
        self.ctes[series] = query.cte(f"aggregate_{len(self.ctes) + 1}")
        return self.ctes[series]

    def merged_count_cte(self, base: nodes.Frame) -> Any:
        key = ("merged", base)
        if key in self.ctes:
            return self.ctes[key]
        counts = self.merged_counts[base]
        context, conditions = self.rows(base)
        names: list[str] = []
        for count in counts:
            for name in row_columns(count.source.condition):  # type: ignore[attr-defined]
                if name not in names:
                    names.append(name)
        row = context.row
        grouped = (
            sa.select(
                context.entity_id.label(ENTITY_ID),
                *(row.c[name] for name in names),
                sa.func.count().label(ROWS),
            )
            .select_from(context.from_clause)
            .where(*conditions)
            .group_by(context.entity_id, *(row.c[name] for name in names))
            .subquery()
        )
        totals = Context(grouped.c[ENTITY_ID], grouped, row=grouped)
        values = []
        for number, count in enumerate(counts, 1):
            condition = self.series(count.source.condition, totals)  # type: ignore[attr-defined]
            total = sa.func.sum(grouped.c[ROWS]).filter(condition)
            if isinstance(count, nodes.Exists):
                value: ColumnElement = total.is_not(None)
            else:
                value = sa.cast(total, sa.BigInteger)
            values.append(value.label(f"{VALUE}_{number}"))
        query = (
            sa.select(grouped.c[ENTITY_ID], *values)
            .select_from(totals.from_clause)
            .group_by(grouped.c[ENTITY_ID])
        )
        self.ctes[key] = query.cte(f"counts_{len(self.ctes) + 1}")
        return self.ctes[key]

    def aggregate(self, series: nodes.Aggregate, value: ColumnElement) -> ColumnElement:
        match series:
            case nodes.CountDistinct():
                return sa.func.count(sa.distinct(value))
            case nodes.Min() if series.type is bool:
                return sa.func.bool_and(value)  # PostgreSQL has no min(boolean)
            case nodes.Max() if series.type is bool:
                return sa.func.bool_or(value)
            case nodes.Min():
                return sa.func.min(self.engine.ordered(value, series.type))
            case nodes.Max():
                return sa.func.max(self.engine.ordered(value, series.type))
            case nodes.Sum():
                return sa.cast(sa.func.sum(value), SQL_TYPES[series.type])
            case nodes.Mean():
                return sa.cast(sa.func.avg(sa.cast(value, sa.Double)), sa.Double)
        raise TypeError(f"unknown aggregation {series!r}")

    def picked_row_cte(self, frame: nodes.PickOneRowPerEntity) -> Any:
        if frame in self.ctes:
            return self.ctes[frame]
        context, conditions = self.rows(frame.source)
        row = context.row
        # Ties are broken by the rest of the row; a column that is already a sort key, or the
        # column the rows are partitioned by, cannot break a tie and is left out.
        compiled = [(self.series(key, context), key.type) for key in frame.sort.keys]
        compiled += [
            (row.c[name], type_)
            for name, type_ in frame.table.columns
            if not any(row.c[name] is value for value, _ in compiled)
            and row.c[name] is not context.entity_id
        ]
        keys = [self.engine.ordered(value, type_) for value, type_ in compiled]
        if frame.position == "first":
            order = [sa.nulls_first(key.asc()) for key in keys]
        else:
            order = [sa.nulls_last(key.desc()) for key in keys]
        position = sa.func.row_number().over(partition_by=context.entity_id, order_by=order)
        columns = self.picked_columns.get(frame, [])
        numbered = (
            sa.select(
                context.entity_id.label(ENTITY_ID),
                *(row.c[name] for name in columns),
                position.label(POSITION),
            )
            .select_from(context.from_clause)
            .where(*conditions)
            .subquery()
        )
        query = sa.select(numbered.c[ENTITY_ID], *(numbered.c[name] for name in columns)).where(
            numbered.c[POSITION] == 1
        )
        self.ctes[frame] = query.cte(f"picked_{len(self.ctes) + 1}")
        return self.ctes[frame]

    def owner_key(self, frame: nodes.Frame, context: Context) -> ColumnElement:
        """What the CTE of an aggregation or pick over the frame joins on in this context: the
        entity id, or for related rows the value of their key."""
        root = nodes.lineage(frame)[-1]
        if isinstance(root, nodes.RelatedRows):
            return self.series(root.key, context)
        return context.entity_id

    def one_row(self, frame: nodes.Frame, context: Context) -> Any:
        """The alias, joined into the context, that holds the frame's single row."""
        match frame:
            case nodes.SelectTable(table=table):

                def make() -> tuple[Any, ColumnElement]:
                    alias = self.table(table).alias()
                    return alias, alias.c[table.entity_key] == context.entity_id

            case nodes.PickOneRowPerEntity():
                owner = self.owner_key(frame.source, context)

                def make() -> tuple[Any, ColumnElement]:
                    alias = self.picked_row_cte(frame).alias()
                    return alias, alias.c[ENTITY_ID] == owner

            case nodes.LookupRow(table=table, column=column, key=key):
                key_value = self.series(key, context)

                def make() -> tuple[Any, ColumnElement]:
                    alias = self.table(table).alias()
                    return alias, alias.c[column] == key_value

            case _:
                raise TypeError(f"not a one-row frame: {frame!r}")
        return context.join(frame, make)

    # Series

    def written_size(self, series: nodes.Series) -> int:
        """How many nodes the series' expression has when written out, shared series that are
        computed in a LATERAL subquery counting as one."""
        if series not in self.sizes:
            size = 1
            if not isinstance(series, LEAVES):
                for child in series.children():
                    if isinstance(child, nodes.Series) and not self.is_shared(child):
                        size += self.written_size(child)
                    else:
                        size += 1
            self.sizes[series] = size
        return self.sizes[series]

    def is_shared(self, series: nodes.Series) -> bool:
        """Whether the series is computed once per context in a LATERAL subquery."""
        return (
            self.uses.get(series, 0) > 1
            and not isinstance(series, LEAVES)
            and self.written_size(series) > SHARED_EXPRESSION_SIZE
        )

    def series(self, series: nodes.Series, context: Context) -> ColumnElement:
        if series in context.compiled:
            return context.compiled[series]
        value = self.expression(series, context)
        if self.is_shared(series):
            # Correlated to the FROM clause it is joined to: computed from the current row.
            # OFFSET 0 keeps PostgreSQL from flattening the subquery into its parent, which
            # would write the expression out once per path again, in the planner.
            shared = sa.select(value.label(VALUE)).correlate_except().offset(0).lateral()
            value = context.join(("shared", series), lambda: (shared, sa.true())).c[VALUE]
        context.compiled[series] = value
        return value

    def expression(self, series: nodes.Series, context: Context) -> ColumnElement:
        match series:
            case nodes.Value(value=value):
                if value is None:
                    return sa.null()
                sql_type = SQL_TYPES[type(value)]
                return sa.cast(sa.literal(value, sql_type()), sql_type)
            case nodes.SelectColumn(source=source, name=name):
                if source.is_many and not isinstance(source, nodes.LookupRow):
                    return context.row.c[name]
                return self.one_row(source, context).c[name]
            case nodes.Exists() | nodes.Count() | nodes.CountDistinct():
                empty = sa.false() if isinstance(series, nodes.Exists) else sa.literal(0)
                return sa.func.coalesce(self.aggregated(series, context), empty)
            case nodes.Aggregate():
                return self.aggregated(series, context)
            case nodes.Case(cases=cases, default=default):
                sql_type = SQL_TYPES.get(series.type)
                whens = [
                    (self.series(condition, context), self.typed(value, sql_type, context))
                    for condition, value in cases
                ]
                return sa.case(*whens, else_=self.typed(default, sql_type, context))
        arguments = [self.series(child, context) for child in series.children()]  # type: ignore[arg-type]
        return self.function(series, arguments)

    def aggregated(self, series: nodes.Series, context: Context) -> ColumnElement:
        """The value of an aggregation, its CTE joined into the context."""
        if isinstance(series, nodes.Exists | nodes.Count):
            frame = series.source
        else:
            assert isinstance(series, nodes.Aggregate) and series.source.domain.frame
            frame = series.source.domain.frame
        owner = self.owner_key(frame, context)
        if series in self.merged_column:
            base, column = self.merged_column[series]
            merged = self.merged_count_cte(base)

            def make_merged() -> tuple[Any, ColumnElement]:
                alias = merged.alias()
                return alias, alias.c[ENTITY_ID] == owner

            return context.join(("merged", base), make_merged).c[column]
        cte = self.aggregate_cte(series)

        def make() -> tuple[Any, ColumnElement]:
            alias = cte.alias()
            return alias, alias.c[ENTITY_ID] == owner

        return context.join(series, make).c[VALUE]

    def typed(self, value: nodes.Series, sql_type: Any, context: Context) -> ColumnElement:
        if sql_type is None:
            return self.series(value, context)
        return sa.cast(self.series(value, context), sql_type)

    def function(self, series: nodes.Series, args: list[ColumnElement]) -> ColumnElement:
        ordered = self.engine.ordered
        match series:
            case nodes.EQ() | nodes.NE():
                return COMPARISONS[type(series)](args[0], args[1])
            case nodes.Comparison(lhs=lhs, rhs=rhs):
                left, right = ordered(args[0], lhs.type), ordered(args[1], rhs.type)
                return COMPARISONS[type(series)](left, right)
            case nodes.And():
                return sa.and_(*args)
            case nodes.Or():
                return sa.or_(*args)
            case nodes.Not():
                return sa.not_(args[0])
            case nodes.IsNull(source=source):
                return self.operand(args[0], source.type).is_(None)
            case nodes.In(source=source, values=values):
                if not values:
                    return sa.false()
                return self.operand(args[0], source.type).in_(list(values))
            case nodes.Add() | nodes.Subtract() | nodes.Multiply():
                sql_type = SQL_TYPES[series.type]
                left, right = sa.cast(args[0], sql_type), sa.cast(args[1], sql_type)
                return ARITHMETIC[type(series)](left, right)
            case nodes.TrueDivide():
                return self.divide(args[0], args[1])
            case nodes.FloorDivide():
                quotient = self.divide(args[0], args[1])
                return sa.cast(sa.func.floor(quotient), sa.BigInteger)
            case nodes.Negate():
                return -args[0]
            case nodes.CastToFloat():
                return sa.cast(args[0], sa.Double)
            case nodes.CastToInt(source=source):
                if source.type is float:
                    return sa.cast(sa.func.trunc(args[0]), sa.BigInteger)
                return sa.cast(args[0], sa.BigInteger)
            case nodes.MaximumOf() | nodes.MinimumOf():
                sql_type = SQL_TYPES[series.type]
                values = [ordered(sa.cast(arg, sql_type), series.type) for arg in args]
                function = (
                    sa.func.greatest if isinstance(series, nodes.MaximumOf) else sa.func.least
                )
                return function(*values)
            case nodes.StringContains():
                return sa.func.strpos(args[0], args[1]) > 0
            case nodes.YearFromDate() | nodes.MonthFromDate() | nodes.DayFromDate():
                return self.date_part(series, args[0])
            case nodes.DateAddDays():
                return self.engine.date_add_days(args[0], args[1])
            case nodes.DateAddMonths():
                return self.engine.date_add_months(args[0], args[1])
            case nodes.DateDifferenceInDays():
                return self.engine.days_between(args[0], args[1])
            case nodes.DateDifferenceInMonths():
                end, start = args
                months = (self.part("year", end) - self.part("year", start)) * 12 + (
                    self.part("month", end) - self.part("month", start)
                )
                earlier_day = self.part("day", end) < self.part("day", start)
                return months - sa.case((earlier_day, 1), else_=0)
            case nodes.DateDifferenceInYears():
                end, start = args
                years = self.part("year", end) - self.part("year", start)
                earlier_in_year = sa.or_(
                    self.part("month", end) < self.part("month", start),
                    sa.and_(
                        self.part("month", end) == self.part("month", start),
                        self.part("day", end) < self.part("day", start),
                    ),
                )
                return years - sa.case((earlier_in_year, 1), else_=0)
        raise TypeError(f"unknown function {series!r}")

    def operand(self, value: ColumnElement, type_: type) -> ColumnElement:
        """A boolean in parentheses before IS NULL or IN: SQLAlchemy writes NOT a IS NULL, which
        SQL reads as NOT (a IS NULL), not (NOT a) IS NULL."""
        return Grouping(value) if type_ is bool else value

    def divide(self, left: ColumnElement, right: ColumnElement) -> ColumnElement:
        """Floating-point division, null when dividing by zero. (The divisor is typed, or
        SQLAlchemy would cast it to NUMERIC, which DuckDB rounds to three decimal places.)"""
        divisor = sa.func.nullif(sa.cast(right, sa.Double), 0, type_=sa.Double)
        return sa.cast(left, sa.Double) / divisor

    def date_part(self, series: nodes.Series, date: ColumnElement) -> ColumnElement:
        field = {
            nodes.YearFromDate: "year",
            nodes.MonthFromDate: "month",
            nodes.DayFromDate: "day",
        }[type(series)]
        return self.part(field, date)

    def part(self, field: str, date: ColumnElement) -> ColumnElement:
        return sa.cast(sa.extract(field, date), sa.BigInteger)


def mergeable_count(node: nodes.Node) -> bool:
    """Whether the node counts (or checks for) the rows of a filtered entity table whose last
    filter looks only at the row's own columns."""
    if not isinstance(node, nodes.Count | nodes.Exists) or not isinstance(
        node.source, nodes.Filter
    ):
        return False
    if not isinstance(nodes.lineage(node.source)[-1], nodes.SelectTable):
        return False
    return row_columns(node.source.condition) is not None


def row_columns(condition: nodes.Series) -> list[str] | None:
    """The columns of the current row a condition uses, or None when it uses anything else
    (an aggregation, a one-row frame, a lookup)."""
    names: list[str] = []
    seen: set[nodes.Node] = set()
    pending: list[nodes.Node] = [condition]
    while pending:
        node = pending.pop()
        if node in seen:
            continue
        seen.add(node)
        if isinstance(node, nodes.SelectColumn):
            if not node.source.is_many or isinstance(node.source, nodes.LookupRow):
                return None
            if node.name not in names:
                names.append(node.name)
        elif isinstance(node, nodes.Aggregate | nodes.Exists | nodes.Count):
            return None
        elif isinstance(node, nodes.Series):
            pending.extend(node.children())
        else:
            return None
    return names


# Series written as a column or a literal: never worth computing in a subquery of their own.
LEAVES = (nodes.Value, nodes.SelectColumn, nodes.Aggregate, nodes.Exists, nodes.Count)

COMPARISONS: dict[type, Callable[[Any, Any], ColumnElement]] = {
    nodes.EQ: lambda a, b: a == b,
    nodes.NE: lambda a, b: a != b,
    nodes.LT: lambda a, b: a < b,
    nodes.LE: lambda a, b: a <= b,
    nodes.GT: lambda a, b: a > b,
    nodes.GE: lambda a, b: a >= b,
}
ARITHMETIC: dict[type, Callable[[Any, Any], ColumnElement]] = {
    nodes.Add: lambda a, b: a + b,
    nodes.Subtract: lambda a, b: a - b,
    nodes.Multiply: lambda a, b: a * b,
}
