"""The query model: immutable nodes that a dataset definition compiles to and engines evaluate.

Every node is a frozen dataclass, so nodes are hashable and a repeated sub-query is one node. A node
checks itself on construction and raises `QueryModelError` with a sentence a researcher can act on.

Two properties describe every series:

- `type`: the Python type of its values (bool, int, float, str, datetime.date, datetime.time; the
  type of `None` for a bare null literal).
- `domain`: which entity it belongs to (pupil, teacher, or None for a constant) and, when it has
  many rows per entity, the frame whose rows it varies over. Series from different frames cannot
  be combined, except that a frame's filtered or sorted descendants share its rows.

Semantics every engine implements (the spec tests pin them down):

- Nulls propagate through functions; `&`, `|` and `~` follow three-valued (Kleene) logic; a
  condition that is null keeps no row (where) or takes no branch (case).
- Exists is never null; Count and CountDistinct are 0 for no rows; Min, Max, Sum and Mean are null
  when there are no non-null values. Mean and true division give floats; division by zero is null.
- Sorting is ascending with nulls first. Ties on the sort keys are broken by the rest of the row:
  every column of the table in schema order, ascending, nulls first. `last` takes the final row of
  that order. The pick is therefore the same on every engine.
- Adding months or years keeps the day of the month, clamped to the month's last day
  (31 January + 1 month = 28 or 29 February; 29 February + 1 year = 28 February).
- Whole months from start to end are (end year - start year) * 12 + (end month - start month),
  less one when end's day of the month is before start's; whole years are end year - start year,
  less one when end's (month, day) is before start's. Both round down when end is before start.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
from dataclasses import dataclass
from typing import Any, Literal

NoneType = type(None)
VALUE_TYPES: tuple[type, ...] = (bool, int, float, str, datetime.date, datetime.time)
NUMERIC = (int, float)
ORDERABLE = (bool, int, float, str, datetime.date, datetime.time)
TYPE_NAMES = {
    bool: "boolean",
    int: "integer",
    float: "float",
    str: "string",
    datetime.date: "date",
    datetime.time: "time",
    NoneType: "null",
}


class QueryModelError(TypeError):
    """A query that cannot mean anything: wrong types, mixed entities, mixed frames."""


def type_name(type_: type) -> str:
    return TYPE_NAMES.get(type_, type_.__name__)


def a_type(type_: type) -> str:
    """The type's name with its article: "a date", "an integer"."""
    name = type_name(type_)
    return f"an {name}" if name[0] in "aeiou" else f"a {name}"


# Tables


@dataclass(frozen=True)
class TableSchema:
    """A table as the query model sees it: its name, entity, and column types in schema order.

    `entity` is "pupil" or "teacher" for entity tables and None for reference tables;
    `one_row_per_entity` says whether an entity table has at most one row per entity.
    """

    name: str
    entity: str | None
    one_row_per_entity: bool
    columns: tuple[tuple[str, type], ...]

    @property
    def entity_key(self) -> str | None:
        return f"{self.entity}_id" if self.entity else None

    def column_type(self, name: str) -> type:
        for column, type_ in self.columns:
            if column == name:
                return type_
        raise QueryModelError(f"table {self.name} has no column {name!r}")


# Domains


@dataclass(frozen=True)
class Domain:
    """The entity a series belongs to, and the many-rows frame it varies over (None: one value)."""

    entity: str | None
    frame: Frame | None = None

    @staticmethod
    def combine(domains: list[Domain]) -> Domain:
        entities = {domain.entity for domain in domains} - {None}
        if len(entities) > 1:
            raise QueryModelError(
                "cannot combine pupil series with teacher series: a dataset is one row per pupil "
                "or one row per teacher"
            )
        frames = [domain.frame for domain in domains if domain.frame is not None]
        deepest = None
        for frame in frames:
            if deepest is None or deepest in lineage(frame):
                deepest = frame
            elif frame not in lineage(deepest):
                raise QueryModelError(
                    f"cannot combine values from rows of two different frames "
                    f"({describe(deepest)} and {describe(frame)}); aggregate one of them per "
                    "entity first, e.g. with maximum_for_pupil() or first_for_pupil()"
                )
        if deepest is not None and entities and isinstance(lineage(deepest)[-1], RelatedRows):
            raise QueryModelError(
                f"values of the {deepest.table.name} rows reached from a row can be combined "
                "only with each other and with constants, not with pupil or teacher values"
            )
        return Domain(entities.pop() if entities else None, deepest)

    @property
    def is_many(self) -> bool:
        return self.frame is not None


def lineage(frame: Frame) -> list[Frame]:
    """The frame, then the frames it was filtered or sorted from, down to its table."""
    chain = [frame]
    while isinstance(chain[-1], Filter | Sort):
        chain.append(chain[-1].source)
    return chain


def describe(frame: Frame) -> str:
    if isinstance(frame, Filter):
        return f"{describe(frame.source)}.where(...)"
    if isinstance(frame, Sort):
        return f"{describe(frame.source)}.sort_by(...)"
    if isinstance(frame, SelectTable | RelatedRows):
        return frame.table.name
    return type(frame).__name__


def owner_domain(frame: Frame) -> Domain:
    """Whose rows a frame holds: an entity's, or (for related rows) the row with their key."""
    root = lineage(frame)[-1]
    if isinstance(root, RelatedRows):
        return root.key.domain
    return Domain(frame.entity)


class Node:
    """Base of all nodes."""

    def children(self) -> list[Node]:
        found: list[Node] = []
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            found.extend(_nodes_in(getattr(self, field.name)))
        return found


def _nodes_in(value: Any) -> list[Node]:
    if isinstance(value, Node):
        return [value]
    if isinstance(value, tuple):
        return [node for item in value for node in _nodes_in(item)]
    return []


def walk(node: Node) -> list[Node]:
    """The node and all nodes under it, each once, parents before children."""
    seen: dict[Node, None] = {}
    pending = [node]
    while pending:
        current = pending.pop()
        if current not in seen:
            seen[current] = None
            pending.extend(reversed(current.children()))
    return list(seen)


# Frames


class Frame(Node):
    """Rows of a table. Each frame has `entity`, `table` (whose columns its rows have) and
    `is_many` (many rows per entity, or at most one)."""

    entity: str | None
    table: TableSchema
    is_many: bool

    @property
    def column_domain(self) -> Domain:
        return Domain(self.entity, self if self.is_many else None)


@dataclass(frozen=True)
class SelectTable(Frame):
    """All rows of an entity table."""

    table: TableSchema

    def __post_init__(self) -> None:
        if self.table.entity is None:
            raise QueryModelError(
                f"{self.table.name} is a reference table: reach its rows through a key column "
                "of a pupil or teacher table"
            )

    @property
    def entity(self) -> str | None:
        return self.table.entity

    @property
    def is_many(self) -> bool:
        return not self.table.one_row_per_entity


@dataclass(frozen=True)
class Filter(Frame):
    """The rows of `source` for which `condition` is true (null counts as false)."""

    source: Frame
    condition: Series

    def __post_init__(self) -> None:
        _check_many_rows(self.source, "where()")
        _check_type(self.condition, (bool,), "a where() condition")
        _check_row_domain(self.condition, self.source, "a where() condition")

    entity = property(lambda self: self.source.entity)
    table = property(lambda self: self.source.table)
    is_many = property(lambda self: True)


@dataclass(frozen=True)
class Sort(Frame):
    """The rows of `source` ordered by `keys` (first key first), ascending, nulls first."""

    source: Frame
    keys: tuple[Series, ...]

    def __post_init__(self) -> None:
        _check_many_rows(self.source, "sort_by()")
        if any(isinstance(frame, Sort) for frame in lineage(self.source)):
            raise QueryModelError("these rows are already sorted: give all keys to one sort_by()")
        if not self.keys:
            raise QueryModelError("sort_by() needs at least one series to sort by")
        for key in self.keys:
            _check_type(key, ORDERABLE, "a sort_by() key")
            _check_row_domain(key, self.source, "a sort_by() key")

    entity = property(lambda self: self.source.entity)
    table = property(lambda self: self.source.table)
    is_many = property(lambda self: True)


@dataclass(frozen=True)
class PickOneRowPerEntity(Frame):
    """The first or last row per entity of a sorted frame."""

    source: Frame
    position: Literal["first", "last"]

    def __post_init__(self) -> None:
        entity = self.source.entity
        operation = f"{self.position}_for_{entity}()" if entity else f"{self.position}()"
        _check_many_rows(self.source, operation)
        if not any(isinstance(frame, Sort) for frame in lineage(self.source)):
            raise QueryModelError(
                f"sort the rows with sort_by() before picking the {self.position} row"
            )

    @property
    def sort(self) -> Sort:
        return next(frame for frame in lineage(self.source) if isinstance(frame, Sort))

    entity = property(lambda self: self.source.entity)
    table = property(lambda self: self.source.table)
    is_many = property(lambda self: False)

    @property
    def column_domain(self) -> Domain:
        return owner_domain(self.source)


@dataclass(frozen=True)
class LookupRow(Frame):
    """The row of a table whose `column` equals `key` (like a LEFT JOIN): no row when the key is
    null or not found. The column must be unique in that table. Its values belong to the key's
    domain: a lookup from a many-rows frame gives one value per row of that frame."""

    table: TableSchema
    column: str
    key: Series

    def __post_init__(self) -> None:
        _check_not_null_literal(self.key)
        column_type = self.table.column_type(self.column)
        if not _comparable(column_type, self.key.type):
            raise QueryModelError(
                f"cannot look up {self.table.name}.{self.column} ({type_name(column_type)}) "
                f"with {a_type(self.key.type)} key"
            )

    entity = property(lambda self: self.key.domain.entity)
    is_many = property(lambda self: self.key.domain.is_many)

    @property
    def column_domain(self) -> Domain:
        return self.key.domain


@dataclass(frozen=True)
class RelatedRows(Frame):
    """The rows of a table whose `column` equals `key`: the other side of a foreign key, such as
    the lessons of a class. None when the key is null. Filters and sort keys of these rows may use
    only their own values (and lookups from them) and constants; aggregating them gives one value
    per key, in the key's domain."""

    table: TableSchema
    column: str
    key: Series

    def __post_init__(self) -> None:
        _check_not_null_literal(self.key)
        column_type = self.table.column_type(self.column)
        if not _comparable(column_type, self.key.type):
            raise QueryModelError(
                f"cannot find {self.table.name} rows by {self.column} "
                f"({type_name(column_type)}) with {a_type(self.key.type)} key"
            )

    entity = property(lambda self: None)
    is_many = property(lambda self: True)


def _check_many_rows(frame: Frame, operation: str) -> None:
    if isinstance(frame, LookupRow):
        raise QueryModelError(
            f"{operation} needs the rows of a pupil or teacher table; {frame.table.name} was "
            "reached through a key and is a single row"
        )
    if not frame.is_many:
        owner = frame.entity or "row"
        raise QueryModelError(
            f"{operation} needs a frame with many rows per {owner}; this one has one row "
            f"per {owner}"
        )


def _check_row_domain(series: Series, frame: Frame, role: str) -> None:
    domain = Domain.combine([series.domain, frame.column_domain])
    if domain.frame != frame:
        raise QueryModelError(
            f"{role} must use values from the rows being filtered or sorted ({describe(frame)}), "
            "or one value per entity"
        )


# Series


class Series(Node):
    """A value per entity, or per row of a frame. Each series has `type` and `domain`."""

    type: type
    domain: Domain


def _check_type(series: Series, allowed: tuple[type, ...], role: str) -> None:
    _check_not_null_literal(series)
    if series.type not in allowed:
        names = " or ".join(type_name(type_) for type_ in allowed)
        raise QueryModelError(f"{role} must be {names}, not {type_name(series.type)}")


def _check_not_null_literal(series: Series) -> None:
    if series.type is NoneType:
        raise QueryModelError(
            "None (null) can only be a value of case() or map_values(); "
            "to test for null use is_null()"
        )


def _comparable(left: type, right: type) -> bool:
    return (
        left is NoneType
        or right is NoneType
        or left == right
        or (left in NUMERIC and right in NUMERIC and bool not in (left, right))
    )


def _common_type(types: list[type], role: str) -> type:
    known = [type_ for type_ in types if type_ is not NoneType]
    if not known:
        return NoneType
    if all(_comparable(known[0], type_) for type_ in known):
        return float if float in known else known[0]
    names = ", ".join(sorted({type_name(type_) for type_ in known}))
    raise QueryModelError(f"{role} must all have the same type, not a mix of {names}")


@dataclass(frozen=True, eq=False)
class Value(Series):
    """A literal value (or null), the same for every entity. Values of different types are
    different nodes (1, 1.0 and True are not the same value)."""

    value: Any

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Value) and (type(self.value), self.value) == (
            type(other.value),
            other.value,
        )

    def __hash__(self) -> int:
        return hash((Value, type(self.value), self.value))

    def __post_init__(self) -> None:
        if isinstance(self.value, datetime.datetime) or (
            self.value is not None and type(self.value) not in VALUE_TYPES
        ):
            raise QueryModelError(
                f"cannot use {self.value!r} ({type(self.value).__name__}) as a value; use a "
                "boolean, number, string, date or time"
            )

    type = property(lambda self: type(self.value))
    domain = property(lambda self: Domain(None))


@dataclass(frozen=True)
class SelectColumn(Series):
    """A column of a frame's rows."""

    source: Frame
    name: str

    def __post_init__(self) -> None:
        self.source.table.column_type(self.name)

    type = property(lambda self: self.source.table.column_type(self.name))
    domain = property(lambda self: self.source.column_domain)


# Aggregations: one value per entity from many rows per entity


def _check_aggregated_frame(frame: Frame, operation: str) -> None:
    if isinstance(frame, PickOneRowPerEntity | LookupRow):
        raise QueryModelError(
            f"{operation} needs the rows of a pupil or teacher table, not a single picked row"
        )


@dataclass(frozen=True)
class Exists(Series):
    """Whether the entity has any row in the frame; never null."""

    source: Frame

    def __post_init__(self) -> None:
        _check_aggregated_frame(self.source, "exists")

    type = property(lambda self: bool)
    domain = property(lambda self: owner_domain(self.source))


@dataclass(frozen=True)
class Count(Series):
    """The number of the entity's rows in the frame (0 for none)."""

    source: Frame

    def __post_init__(self) -> None:
        _check_aggregated_frame(self.source, "count")

    type = property(lambda self: int)
    domain = property(lambda self: owner_domain(self.source))


class Aggregate(Series):
    """An aggregation of a many-rows series to one value per entity."""

    source: Series
    allowed_types: tuple[type, ...] = ORDERABLE
    operation = ""

    def __post_init__(self) -> None:
        if not self.source.domain.is_many:
            entity = self.source.domain.entity or "row"
            raise QueryModelError(
                f"{self.operation}_for_{entity}() needs a series with many rows per {entity}; "
                f"this one already has one value per {entity}"
            )
        _check_type(self.source, self.allowed_types, f"the series given to {self.operation}")

    @functools.cached_property
    def domain(self) -> Domain:  # type: ignore[override]
        assert self.source.domain.frame is not None
        return owner_domain(self.source.domain.frame)

    @functools.cached_property
    def type(self) -> type:  # type: ignore[override]
        return self.source.type


@dataclass(frozen=True)
class CountDistinct(Aggregate):
    """The number of different non-null values (0 for none)."""

    source: Series
    operation = "count_distinct"
    type = property(lambda self: int)


@dataclass(frozen=True)
class Min(Aggregate):
    source: Series
    operation = "minimum"


@dataclass(frozen=True)
class Max(Aggregate):
    source: Series
    operation = "maximum"


@dataclass(frozen=True)
class Sum(Aggregate):
    source: Series
    operation = "sum"
    allowed_types = NUMERIC


@dataclass(frozen=True)
class Mean(Aggregate):
    source: Series
    operation = "mean"
    allowed_types = NUMERIC
    type = property(lambda self: float)


# Functions: one value per row (or per entity) from the values of their arguments


class Function(Series):
    """A function of its argument series, computed value by value."""

    @functools.cached_property
    def domain(self) -> Domain:  # type: ignore[override]
        return Domain.combine([child.domain for child in self.children()])  # type: ignore[attr-defined]

    def __post_init__(self) -> None:
        self.domain  # noqa: B018  (validates the combination)
        if not isinstance(self, Case):
            for child in self.children():
                _check_not_null_literal(child)  # type: ignore[arg-type]
        self.check()
        self.type  # noqa: B018

    def check(self) -> None:
        pass


@dataclass(frozen=True)
class Comparison(Function):
    lhs: Series
    rhs: Series
    operator = ""

    def check(self) -> None:
        if not _comparable(self.lhs.type, self.rhs.type):
            raise QueryModelError(
                f"cannot compare {a_type(self.lhs.type)} with {a_type(self.rhs.type)}"
            )
        if self.operator not in ("==", "!=") and self.lhs.type is bool:
            raise QueryModelError(f"cannot use {self.operator} on booleans")

    type = property(lambda self: bool)


@dataclass(frozen=True)
class EQ(Comparison):
    lhs: Series
    rhs: Series
    operator = "=="


@dataclass(frozen=True)
class NE(Comparison):
    lhs: Series
    rhs: Series
    operator = "!="


@dataclass(frozen=True)
class LT(Comparison):
    lhs: Series
    rhs: Series
    operator = "<"


@dataclass(frozen=True)
class LE(Comparison):
    lhs: Series
    rhs: Series
    operator = "<="


@dataclass(frozen=True)
class GT(Comparison):
    lhs: Series
    rhs: Series
    operator = ">"


@dataclass(frozen=True)
class GE(Comparison):
    lhs: Series
    rhs: Series
    operator = ">="


@dataclass(frozen=True)
class And(Function):
    lhs: Series
    rhs: Series

    def check(self) -> None:
        _check_type(self.lhs, (bool,), "both sides of &")
        _check_type(self.rhs, (bool,), "both sides of &")

    type = property(lambda self: bool)


@dataclass(frozen=True)
class Or(Function):
    lhs: Series
    rhs: Series

    def check(self) -> None:
        _check_type(self.lhs, (bool,), "both sides of |")
        _check_type(self.rhs, (bool,), "both sides of |")

    type = property(lambda self: bool)


@dataclass(frozen=True)
class Not(Function):
    source: Series

    def check(self) -> None:
        _check_type(self.source, (bool,), "the series negated with ~")

    type = property(lambda self: bool)


@dataclass(frozen=True)
class IsNull(Function):
    source: Series
    type = property(lambda self: bool)


@dataclass(frozen=True)
class In(Function):
    """Whether the value is one of `values` (null for a null value; false for no values)."""

    source: Series
    values: tuple[Any, ...]

    def check(self) -> None:
        for value in self.values:
            if value is None or not _comparable(self.source.type, type(value)):
                raise QueryModelError(f"is_in() on {a_type(self.source.type)} series got {value!r}")

    type = property(lambda self: bool)


class Arithmetic(Function):
    lhs: Series
    rhs: Series
    symbol = ""

    def check(self) -> None:
        for side in (self.lhs, self.rhs):
            if side.type not in (int, float, NoneType):
                raise QueryModelError(
                    f"cannot use {self.symbol} with {a_type(side.type)}; it needs numbers"
                )

    @functools.cached_property
    def type(self) -> type:  # type: ignore[override]
        return float if float in (self.lhs.type, self.rhs.type) else int


@dataclass(frozen=True)
class Add(Arithmetic):
    lhs: Series
    rhs: Series
    symbol = "+"


@dataclass(frozen=True)
class Subtract(Arithmetic):
    lhs: Series
    rhs: Series
    symbol = "-"


@dataclass(frozen=True)
class Multiply(Arithmetic):
    lhs: Series
    rhs: Series
    symbol = "*"


@dataclass(frozen=True)
class TrueDivide(Arithmetic):
    """Division giving a float; null when dividing by zero."""

    lhs: Series
    rhs: Series
    symbol = "/"
    type = property(lambda self: float)


@dataclass(frozen=True)
class FloorDivide(Arithmetic):
    """Division rounded down to an integer; null when dividing by zero."""

    lhs: Series
    rhs: Series
    symbol = "//"
    type = property(lambda self: int)


@dataclass(frozen=True)
class Negate(Function):
    source: Series

    def check(self) -> None:
        _check_type(self.source, NUMERIC, "the series negated with -")

    @functools.cached_property
    def type(self) -> type:  # type: ignore[override]
        return self.source.type


@dataclass(frozen=True)
class CastToFloat(Function):
    source: Series

    def check(self) -> None:
        _check_type(self.source, NUMERIC, "as_float()")

    type = property(lambda self: float)


@dataclass(frozen=True)
class CastToInt(Function):
    """Integer part of a number (rounding toward zero)."""

    source: Series

    def check(self) -> None:
        _check_type(self.source, NUMERIC, "as_int()")

    type = property(lambda self: int)


@dataclass(frozen=True)
class Case(Function):
    """The value of the first case whose condition is true, else `default` (null if None)."""

    cases: tuple[tuple[Series, Series], ...]
    default: Series

    def check(self) -> None:
        if not self.cases:
            raise QueryModelError("case() needs at least one when(...).then(...)")
        for condition, _ in self.cases:
            _check_type(condition, (bool,), "a when() condition")
        self.type  # noqa: B018

    @functools.cached_property
    def type(self) -> type:  # type: ignore[override]
        values = [value.type for _, value in self.cases] + [self.default.type]
        return _common_type(values, "the values of case() or map_values()")


class Extremum(Function):
    sources: tuple[Series, ...]

    def check(self) -> None:
        if len(self.sources) < 2:
            raise QueryModelError("maximum_of() and minimum_of() need at least two values")
        for source in self.sources:
            _check_type(source, ORDERABLE, "the values of maximum_of() or minimum_of()")

    @functools.cached_property
    def type(self) -> type:  # type: ignore[override]
        return _common_type([s.type for s in self.sources], "maximum_of() and minimum_of() values")


@dataclass(frozen=True)
class MaximumOf(Extremum):
    """The largest non-null value (null when all are null)."""

    sources: tuple[Series, ...]


@dataclass(frozen=True)
class MinimumOf(Extremum):
    """The smallest non-null value (null when all are null)."""

    sources: tuple[Series, ...]


@dataclass(frozen=True)
class StringContains(Function):
    """Whether `pattern` occurs in the string (case-sensitive)."""

    source: Series
    pattern: Series

    def check(self) -> None:
        _check_type(self.source, (str,), "contains()")
        _check_type(self.pattern, (str,), "the text given to contains()")

    type = property(lambda self: bool)


class DatePart(Function):
    source: Series

    def check(self) -> None:
        _check_type(self.source, (datetime.date,), "year, month and day")

    type = property(lambda self: int)


@dataclass(frozen=True)
class YearFromDate(DatePart):
    source: Series


@dataclass(frozen=True)
class MonthFromDate(DatePart):
    source: Series


@dataclass(frozen=True)
class DayFromDate(DatePart):
    source: Series


class DateAdd(Function):
    date: Series
    number: Series

    def check(self) -> None:
        _check_type(self.date, (datetime.date,), "the date a duration is added to")
        _check_type(self.number, (int,), "the number of days, weeks, months or years")

    type = property(lambda self: datetime.date)


@dataclass(frozen=True)
class DateAddDays(DateAdd):
    date: Series
    number: Series


@dataclass(frozen=True)
class DateAddMonths(DateAdd):
    """Adds calendar months, clamping the day to the end of the month."""

    date: Series
    number: Series


class DateDifference(Function):
    end: Series
    start: Series

    def check(self) -> None:
        _check_type(self.end, (datetime.date,), "both sides of a date difference")
        _check_type(self.start, (datetime.date,), "both sides of a date difference")

    type = property(lambda self: int)


@dataclass(frozen=True)
class DateDifferenceInDays(DateDifference):
    end: Series
    start: Series


@dataclass(frozen=True)
class DateDifferenceInMonths(DateDifference):
    """Completed calendar months from start to end (negative when end is before start)."""

    end: Series
    start: Series


@dataclass(frozen=True)
class DateDifferenceInYears(DateDifference):
    """Completed years from start to end (negative when end is before start)."""

    end: Series
    start: Series


# Event-level tables


def _check_output_name(name: Any, role: str) -> None:
    if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
        raise QueryModelError(
            f"{name!r} cannot be {role}: use letters, digits and underscores, starting with "
            "a letter"
        )


@dataclass(frozen=True)
class EventTable(Node):
    """An output table with one row per row of a many-rows frame (one row per assessment result,
    say) for each entity in the dataset's population: the entity id, then one value per column.

    A column is a series of that frame's rows (their columns, lookups from them, aggregations of
    rows related to them), a series with one value per entity (repeated on each of its rows), or a
    constant. The frame is the one the columns vary over; columns may also use the frames it was
    filtered or sorted from, which share its rows. Rows are ordered by entity id, then by the
    frame's sort keys if it was sorted, then by the rest of the row: every column of the table in
    schema order, ascending, nulls first.
    """

    columns: tuple[tuple[str, Series], ...]

    def __post_init__(self) -> None:
        if not self.columns:
            raise QueryModelError("an event table needs at least one column")
        seen: set[str] = set()
        for name, series in self.columns:
            _check_output_name(name, "an event table column name")
            if name.lower() in seen:
                raise QueryModelError(f"column {name} is defined twice (names ignore case)")
            seen.add(name.lower())
            if series.type is NoneType:
                raise QueryModelError(f"column {name} is always null: give it a typed value")
        key = self.entity_key
        if key in seen:
            raise QueryModelError(f"{key} cannot be a column name: it is the first column already")

    @functools.cached_property
    def frame(self) -> Frame:
        """The many-rows frame whose rows are the table's rows."""
        domain = Domain.combine([series.domain for _, series in self.columns])
        if domain.frame is None:
            entity = domain.entity or "pupil"
            raise QueryModelError(
                f"an event table needs a column that varies over a frame with many rows per "
                f"{entity} (such as a column of assessment_results): its rows are that frame's "
                f"rows; values with one row per {entity} belong in the dataset itself"
            )
        if isinstance(lineage(domain.frame)[-1], RelatedRows):
            raise QueryModelError(
                f"the rows of an event table must be rows of a pupil or teacher table, not "
                f"{domain.frame.table.name} rows reached from another row; aggregate those per "
                "row instead, e.g. with count() or sort_by(...).last()"
            )
        return domain.frame

    @property
    def entity(self) -> str:
        entity = self.frame.entity
        assert entity is not None
        return entity

    @property
    def entity_key(self) -> str:
        return f"{self.entity}_id"

    @property
    def sort(self) -> Sort | None:
        """The sort the frame's rows went through, if any: its keys order the table's rows."""
        return next((frame for frame in lineage(self.frame) if isinstance(frame, Sort)), None)

    @property
    def output_columns(self) -> tuple[tuple[str, type], ...]:
        """(name, Python type) of each value of an output row: the entity id, then the columns."""
        key_type = self.frame.table.column_type(self.entity_key)
        return ((self.entity_key, key_type), *((name, s.type) for name, s in self.columns))


# The dataset


@dataclass(frozen=True)
class Dataset(Node):
    """One row per entity for which `population` is true, with one column per variable; and
    any event-level tables, by name, each with rows for the entities in the population."""

    entity: str
    population: Series
    variables: tuple[tuple[str, Series], ...]
    event_tables: tuple[tuple[str, EventTable], ...] = ()

    def __post_init__(self) -> None:
        _check_type(self.population, (bool,), "the population")
        if self.population.domain.is_many:
            raise QueryModelError(
                f"the population must have one value per {self.entity}; aggregate the rows "
                f"first, e.g. with exists_for_{self.entity}()"
            )
        if self.population.domain.entity != self.entity:
            raise QueryModelError(
                f"the population must use a {self.entity} table, e.g. "
                f"{self.entity}s.exists_for_{self.entity}()"
            )
        for name, series in self.variables:
            if series.type is NoneType:
                raise QueryModelError(f"variable {name} is always null: give it a typed value")
            if series.domain.is_many:
                raise QueryModelError(
                    f"variable {name} must have one value per {self.entity}; aggregate the rows "
                    f"first, e.g. with first_for_{self.entity}() or count_for_{self.entity}()"
                )
            if series.domain.entity not in (None, self.entity):
                raise QueryModelError(
                    f"variable {name} is a {series.domain.entity} series, but the dataset has one "
                    f"row per {self.entity}"
                )
        names: set[str] = set()
        for name, table in self.event_tables:
            _check_output_name(name, "an event table name")
            if name.lower() in names:
                raise QueryModelError(f"event table {name} is defined twice (names ignore case)")
            names.add(name.lower())
            if table.entity != self.entity:
                raise QueryModelError(
                    f"event table {name} has rows of a {table.entity} table, but the dataset has "
                    f"one row per {self.entity}"
                )

    @property
    def entity_key(self) -> str:
        return f"{self.entity}_id"

    def event_table(self, name: str) -> EventTable:
        """The event table of that name."""
        for table_name, table in self.event_tables:
            if table_name == name:
                return table
        known = ", ".join(table_name for table_name, _ in self.event_tables) or "none"
        raise KeyError(f"the dataset has no event table {name!r} (it has: {known})")


def population_tables(dataset: Dataset) -> list[TableSchema]:
    """The entity tables the population uses: their entities are the candidate rows."""
    return list(
        {node.table: None for node in walk(dataset.population) if isinstance(node, SelectTable)}
    )


# Hashing and equality on shared sub-queries
#
# A definition may reuse a series many times (`x = x + x` forty times is a node DAG of 41 nodes,
# but 2**40 paths). The dataclass-generated __hash__ and __eq__ follow every path, so they are
# replaced on the frozen node dataclasses of this module: the hash is computed once per node and
# kept in its __dict__ (as functools.cached_property keeps `type` and `domain`), and equality
# compares each pair of nodes once per comparison (`Value` keeps its own methods).

_HASH_KEY = "_cached_hash"


def _node_hash(self: Node) -> int:
    cached = self.__dict__.get(_HASH_KEY)
    if cached is None:
        fields = dataclasses.fields(self)  # type: ignore[arg-type]
        cached = hash((type(self), *(getattr(self, field.name) for field in fields)))
        self.__dict__[_HASH_KEY] = cached
    return cached


def _node_eq(self: Node, other: object) -> bool:
    if self is other:
        return True
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _same(self, other, set())


def _same(left: Any, right: Any, equal_pairs: set[tuple[int, int]]) -> bool:
    """Whether two field values are equal; nodes found equal are remembered in `equal_pairs` (by
    id: both stay alive during the comparison), so a shared sub-query is compared once."""
    if left is right:
        return True
    if type(left) is tuple:
        return (
            type(right) is tuple
            and len(left) == len(right)
            and all(_same(a, b, equal_pairs) for a, b in zip(left, right, strict=True))
        )
    if type(left).__eq__ is not _node_eq:
        return bool(left == right)
    if type(right) is not type(left) or hash(left) != hash(right):
        return False
    if (id(left), id(right)) in equal_pairs:
        return True
    fields = dataclasses.fields(left)
    if all(_same(getattr(left, f.name), getattr(right, f.name), equal_pairs) for f in fields):
        equal_pairs.add((id(left), id(right)))
        return True
    return False


def _install_cached_hash_and_eq() -> None:
    for cls in list(globals().values()):
        if not (isinstance(cls, type) and issubclass(cls, Node)):
            continue
        params = vars(cls).get("__dataclass_params__")
        if params is not None and params.eq and params.frozen:
            cls.__hash__ = _node_hash  # type: ignore[method-assign,assignment]
            cls.__eq__ = _node_eq  # type: ignore[method-assign,assignment]


_install_cached_hash_and_eq()
