"""The reference engine: evaluates the query model in plain Python over tables given as rows.

It is slow and meant to be obviously correct: the spec tests check every other engine against it.
Each function of the query model is written out once here, value by value, nulls included.
"""

from __future__ import annotations

import calendar
import datetime
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from ehrql_schools.query_model import nodes

Row = Mapping[str, Any]
_NO_ENTITY = object()


class InMemoryEngine:
    """Runs datasets over `tables`: table name -> rows, each row a dict of column values."""

    def __init__(self, tables: Mapping[str, Sequence[Row]]) -> None:
        self.tables = tables

    def get_results(
        self, dataset: nodes.Dataset, batch_size: int = 10_000
    ) -> Iterator[list[tuple]]:
        """The dataset's rows in batches, ordered by entity id: (id, *variables)."""
        evaluation = Evaluation(self.tables)
        batch: list[tuple] = []
        for entity_id in self.population(dataset, evaluation):
            values = [evaluation.value(series, entity_id) for _, series in dataset.variables]
            batch.append((entity_id, *values))
            if len(batch) == batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def get_event_table_results(
        self, dataset: nodes.Dataset, name: str, batch_size: int = 10_000
    ) -> Iterator[list[tuple]]:
        """The rows of the dataset's event table `name` in batches, ordered by entity id, then by
        the table's row order: (id, *columns)."""
        table = dataset.event_table(name)
        sort = table.sort
        keys = sort.keys if sort is not None else ()
        columns = [column for column, _ in table.frame.table.columns]
        evaluation = Evaluation(self.tables)
        batch: list[tuple] = []
        for entity_id in self.population(dataset, evaluation):
            rows = evaluation.rows(table.frame, entity_id, None)
            for row in sorted(rows, key=evaluation.order(keys, columns, entity_id)):
                values = [evaluation.value(series, entity_id, row) for _, series in table.columns]
                batch.append((entity_id, *values))
                if len(batch) == batch_size:
                    yield batch
                    batch = []
        if batch:
            yield batch

    def population(self, dataset: nodes.Dataset, evaluation: Evaluation) -> Iterator[Any]:
        """The ids of the entities in the dataset's population, in order."""
        entity_ids = sorted(
            {
                row[table.entity_key]
                for table in nodes.population_tables(dataset)
                for row in self.tables.get(table.name, ())
            }
        )
        for entity_id in entity_ids:
            if evaluation.value(dataset.population, entity_id) is True:
                yield entity_id


class Evaluation:
    """Values of query model nodes for one entity (and, for many-rows series, one row)."""

    def __init__(self, tables: Mapping[str, Sequence[Row]]) -> None:
        self.tables = tables
        self.by_entity: dict[str, dict[Any, list[Row]]] = {}
        self.by_key: dict[tuple[str, str], dict[Any, Row]] = {}
        self.by_related_key: dict[tuple[str, str], dict[Any, list[Row]]] = {}
        # Values already computed for the current entity, by (node, id of the row): a series
        # reused many times is one node, evaluated once per entity and row, not once per path.
        self.memo: dict[tuple[nodes.Series, int | None], Any] = {}
        self.memo_entity: Any = _NO_ENTITY

    def entity_rows(self, table: nodes.TableSchema, entity_id: Any) -> list[Row]:
        if table.name not in self.by_entity:
            index: dict[Any, list[Row]] = {}
            for row in self.tables.get(table.name, ()):
                index.setdefault(row[table.entity_key], []).append(row)
            self.by_entity[table.name] = index
        return self.by_entity[table.name].get(entity_id, [])

    def related_rows(self, table: nodes.TableSchema, column: str, key: Any) -> list[Row]:
        if (table.name, column) not in self.by_related_key:
            index: dict[Any, list[Row]] = {}
            for row in self.tables.get(table.name, ()):
                index.setdefault(row[column], []).append(row)
            self.by_related_key[(table.name, column)] = index
        return [] if key is None else self.by_related_key[(table.name, column)].get(key, [])

    def keyed_row(self, table: nodes.TableSchema, column: str, key: Any) -> Row | None:
        if (table.name, column) not in self.by_key:
            rows = self.tables.get(table.name, ())
            self.by_key[(table.name, column)] = {row[column]: row for row in rows}
        return None if key is None else self.by_key[(table.name, column)].get(key)

    # Frames

    def rows(self, frame: nodes.Frame, entity_id: Any, outer: Row | None) -> list[Row]:
        """The entity's rows of a frame, in the frame's order; for related rows, those of the
        key in the `outer` row."""
        match frame:
            case nodes.SelectTable(table=table):
                return self.entity_rows(table, entity_id)
            case nodes.RelatedRows(table=table, column=column, key=key):
                return self.related_rows(table, column, self.value(key, entity_id, outer))
            case nodes.Filter(source=source, condition=condition):
                return [
                    row
                    for row in self.rows(source, entity_id, outer)
                    if self.value(condition, entity_id, row) is True
                ]
            case nodes.Sort(source=source, keys=keys):
                columns = [name for name, _ in frame.table.columns]
                order = self.order(keys, columns, entity_id)
                return sorted(self.rows(source, entity_id, outer), key=order)
        raise TypeError(f"not a frame with many rows: {frame!r}")

    def order(
        self, keys: Sequence[nodes.Series], columns: Sequence[str], entity_id: Any
    ) -> Callable[[Row], tuple]:
        """A sort key for rows: the keys' values, then the columns', ascending, nulls first."""

        def order(row: Row) -> tuple:
            values = [self.value(key, entity_id, row) for key in keys]
            values += [row[name] for name in columns]
            return tuple((value is not None, value) for value in values)

        return order

    def one_row(self, frame: nodes.Frame, entity_id: Any, row: Row | None) -> Row | None:
        """The single row of a one-row frame for this entity (or this row's lookup)."""
        match frame:
            case nodes.SelectTable(table=table):
                rows = self.entity_rows(table, entity_id)
                return rows[0] if rows else None
            case nodes.PickOneRowPerEntity(source=source, position=position):
                rows = self.rows(source, entity_id, row)
                if not rows:
                    return None
                return rows[0] if position == "first" else rows[-1]
            case nodes.LookupRow(table=table, column=column, key=key):
                return self.keyed_row(table, column, self.value(key, entity_id, row))
        raise TypeError(f"not a one-row frame: {frame!r}")

    # Series

    def value(self, series: nodes.Series, entity_id: Any, row: Row | None = None) -> Any:
        """The series' value for the entity; `row` is the current row of a many-rows frame."""
        if isinstance(series, nodes.Value):
            value = series.value
            return float(value) if series.type is float and isinstance(value, int) else value
        if self.memo_entity is _NO_ENTITY or entity_id != self.memo_entity:
            # Only the current entity's values are kept, so memory stays that of one entity.
            self.memo = {}
            self.memo_entity = entity_id
        # Rows are the tables' own row objects, alive for the whole evaluation: their ids are
        # stable keys.
        key = (series, None if row is None else id(row))
        if key in self.memo:
            return self.memo[key]
        value = self.uncast_value(series, entity_id, row)
        if series.type is float and isinstance(value, int):
            value = float(value)
        self.memo[key] = value
        return value

    def uncast_value(self, series: nodes.Series, entity_id: Any, row: Row | None) -> Any:
        match series:
            case nodes.Value(value=value):
                return value
            case nodes.SelectColumn(source=source, name=name):
                if source.is_many and not isinstance(source, nodes.LookupRow):
                    return row[name]  # type: ignore[index]
                found = self.one_row(source, entity_id, row)
                return None if found is None else found[name]
            case nodes.Exists(source=source):
                return bool(self.frame_rows(source, entity_id, row))
            case nodes.Count(source=source):
                return len(self.frame_rows(source, entity_id, row))
            case nodes.Aggregate():
                return self.aggregate(series, entity_id, row)
        arguments = [self.value(child, entity_id, row) for child in series.children()]  # type: ignore[arg-type]
        return self.function(series, arguments, entity_id, row)

    def frame_rows(self, frame: nodes.Frame, entity_id: Any, outer: Row | None) -> list[Row]:
        if isinstance(frame, nodes.SelectTable) and not frame.is_many:
            return self.entity_rows(frame.table, entity_id)
        return self.rows(frame, entity_id, outer)

    def aggregate(self, series: nodes.Aggregate, entity_id: Any, outer: Row | None) -> Any:
        frame = series.source.domain.frame
        assert frame is not None
        rows = self.rows(frame, entity_id, outer)
        values = [self.value(series.source, entity_id, row) for row in rows]
        values = [value for value in values if value is not None]
        match series:
            case nodes.CountDistinct():
                return len(set(values))
            case nodes.Min():
                return min(values, default=None)
            case nodes.Max():
                return max(values, default=None)
            case nodes.Sum():
                return sum(values) if values else None
            case nodes.Mean():
                return sum(values) / len(values) if values else None
        raise TypeError(f"unknown aggregation {series!r}")

    def function(self, series: nodes.Series, args: list[Any], entity_id: Any, row: Any) -> Any:
        match series:
            case nodes.And():
                return kleene_and(*args)
            case nodes.Or():
                return kleene_or(*args)
            case nodes.Not():
                return None if args[0] is None else not args[0]
            case nodes.IsNull():
                return args[0] is None
            case nodes.Case(cases=cases, default=default):
                for condition, value in cases:
                    if self.value(condition, entity_id, row) is True:
                        return self.value(value, entity_id, row)
                return self.value(default, entity_id, row)
            case nodes.MaximumOf():
                return max((arg for arg in args if arg is not None), default=None)
            case nodes.MinimumOf():
                return min((arg for arg in args if arg is not None), default=None)
            case nodes.In(values=values):
                if not values:
                    return False
                return None if args[0] is None else args[0] in values
        if any(arg is None for arg in args):
            return None
        return STRICT_FUNCTIONS[type(series)](*args)


def kleene_and(left: bool | None, right: bool | None) -> bool | None:
    if left is False or right is False:
        return False
    return None if left is None or right is None else True


def kleene_or(left: bool | None, right: bool | None) -> bool | None:
    if left is True or right is True:
        return True
    return None if left is None or right is None else False


def divide(left: float, right: float) -> float | None:
    return None if right == 0 else left / right


def floor_divide(left: float, right: float) -> int | None:
    return None if right == 0 else math.floor(left / right)


def add_months(date: datetime.date, number: int) -> datetime.date:
    """Calendar months later, the day clamped to the last day of the month."""
    month_index = date.year * 12 + date.month - 1 + number
    year, month = divmod(month_index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return datetime.date(year, month + 1, min(date.day, last_day))


def months_between(end: datetime.date, start: datetime.date) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if end.day < start.day else months


def years_between(end: datetime.date, start: datetime.date) -> int:
    years = end.year - start.year
    return years - 1 if (end.month, end.day) < (start.month, start.day) else years


# Functions that give null when any argument is null.
STRICT_FUNCTIONS: dict[type, Any] = {
    nodes.EQ: lambda a, b: a == b,
    nodes.NE: lambda a, b: a != b,
    nodes.LT: lambda a, b: a < b,
    nodes.LE: lambda a, b: a <= b,
    nodes.GT: lambda a, b: a > b,
    nodes.GE: lambda a, b: a >= b,
    nodes.Add: lambda a, b: a + b,
    nodes.Subtract: lambda a, b: a - b,
    nodes.Multiply: lambda a, b: a * b,
    nodes.TrueDivide: divide,
    nodes.FloorDivide: floor_divide,
    nodes.Negate: lambda a: -a,
    nodes.CastToFloat: float,
    nodes.CastToInt: int,
    nodes.StringContains: lambda text, part: part in text,
    nodes.YearFromDate: lambda date: date.year,
    nodes.MonthFromDate: lambda date: date.month,
    nodes.DayFromDate: lambda date: date.day,
    nodes.DateAddDays: lambda date, number: date + datetime.timedelta(days=number),
    nodes.DateAddMonths: add_months,
    nodes.DateDifferenceInDays: lambda end, start: (end - start).days,
    nodes.DateDifferenceInMonths: months_between,
    nodes.DateDifferenceInYears: years_between,
}
