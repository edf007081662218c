"""The query language researchers write dataset definitions in.

It builds query model nodes (`ehrql_schools.query_model.nodes`) and wraps them in typed series and
frames, so that editors can complete column names and methods. Any mistake the query model finds is
raised as a `QueryError` that names the line of the researcher's file that made it.

    from ehrql_schools.query_language import create_dataset, months
    from ehrql_schools.tables.schools import assessment_results, pupils

    dataset = create_dataset()
    dataset.define_population(pupils.exists_for_pupil())
    maths = assessment_results.where(assessment_results.assessment.subject == "maths")
    latest = maths.sort_by(maths.result_date).last_for_pupil()
    dataset.latest_maths_percent = latest.result_percent
    dataset.latest_maths_set = latest.class_.set_rank
"""

from __future__ import annotations

import csv
import datetime
import difflib
import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar, overload

from ehrql_schools.query_model import nodes
from ehrql_schools.query_model.nodes import QueryModelError

PACKAGE_DIR = Path(__file__).resolve().parent


class QueryError(Exception):
    """A mistake in a dataset definition, located at the researcher's line."""

    def __init__(self, message: str, filename: str | None = None, lineno: int | None = None):
        self.message, self.filename, self.lineno = message, filename, lineno
        if filename and lineno is not None:
            where = f"{filename}, line {lineno}: "
        else:
            where = f"{filename}: " if filename else ""
        super().__init__(f"{where}{message}")


class UnknownAttribute(QueryError, AttributeError):
    """A frame or series has no column, method or property of that name."""


UnknownColumn = UnknownAttribute


class UnknownTable(QueryError, ImportError):
    """No table of that name is declared."""


def _nearest(name: str, names: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(names), n=1)
    return f"; did you mean {close[0]}?" if close else ""


def unknown_table(name: str, tables: Iterable[str]) -> Exception:
    """The error for importing a table that does not exist (used by the table declarations)."""
    if name.startswith("_"):
        return AttributeError(name)
    return UnknownTable(f"there is no table {name}{_nearest(name, tables)}", *_user_location())


def _user_location() -> tuple[str | None, int | None]:
    """The innermost calling frame outside this package: the researcher's line."""
    frame = inspect.currentframe()
    while frame is not None:
        filename = frame.f_code.co_filename
        if not Path(filename).resolve().is_relative_to(PACKAGE_DIR):
            return filename, frame.f_lineno
        frame = frame.f_back
    return None, None


def _error(message: str) -> QueryError:
    return QueryError(message, *_user_location())


def _build(node_class: type[nodes.Node], *args: Any) -> Any:
    """Construct a node, turning query model errors into errors at the researcher's line."""
    try:
        return node_class(*args)
    except QueryModelError as error:
        raise _error(str(error)) from None


def _node(value: Any) -> nodes.Series:
    """The query model node for a series or a Python value."""
    if isinstance(value, Series):
        return value._node
    if isinstance(value, Frame):
        raise _error("expected a series (a column or a value), got a frame of rows")
    if isinstance(value, Duration | DateDifference):
        raise _error(
            f"expected a series, got {type(value).__name__.lower()}; use .days, .months or .years"
        )
    return _build(nodes.Value, value)


# Series


class Series:
    """Values: one per pupil or teacher, or one per row of a frame with many rows each."""

    def __init__(self, node: nodes.Series) -> None:
        self._node = node

    __hash__ = None  # type: ignore[assignment]  # == builds a series

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._node!r})"

    def _other(self, value: Any) -> nodes.Series:
        """The node of a value this series is compared with."""
        return _node(value)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        names = [item for item in dir(type(self)) if not item.startswith("_")]
        kind = nodes.type_name(self._node.type)
        raise UnknownAttribute(
            f"a {kind} series has no method or property {name}{_nearest(name, names)}",
            *_user_location(),
        )

    def __bool__(self) -> bool:
        raise _error(
            "a series has no single truth value: combine conditions with &, | and ~ (not "
            "and, or, not), and choose values with case() instead of if"
        )

    def __eq__(self, other: Any) -> BoolSeries:  # type: ignore[override]
        return _series(_build(nodes.EQ, self._node, self._other(other)))

    def __ne__(self, other: Any) -> BoolSeries:  # type: ignore[override]
        return _series(_build(nodes.NE, self._node, self._other(other)))

    def is_null(self) -> BoolSeries:
        return _series(_build(nodes.IsNull, self._node))

    def is_not_null(self) -> BoolSeries:
        return ~self.is_null()

    def when_null_then(self, other: Any) -> Series:
        """This value, or `other` where this is null."""
        return case(when(self.is_not_null()).then(self), otherwise=other)

    def is_in(self, values: Iterable[Any]) -> BoolSeries:
        """Whether the value is one of `values` (a list, set or code list)."""
        if isinstance(values, Series | str):
            raise _error("is_in() needs a list of values, e.g. a code list")
        values = tuple(dict.fromkeys(self._other(value) for value in values))
        if not all(isinstance(value, nodes.Value) for value in values):
            raise _error("is_in() needs a list of values, not series")
        return _series(_build(nodes.In, self._node, tuple(value.value for value in values)))

    def is_not_in(self, values: Iterable[Any]) -> BoolSeries:
        return ~self.is_in(values)

    def map_values(self, mapping: Mapping[Any, Any], default: Any = None) -> Series:
        """Replace each value by `mapping[value]`; values not in the mapping become `default`."""
        cases = tuple(
            (_build(nodes.EQ, self._node, self._other(key)), _node(value))
            for key, value in mapping.items()
        )
        return _series(_build(nodes.Case, cases, _node(default)))

    # Arithmetic (the query model accepts numbers only; dates have their own + and -)

    def __add__(self, other: Any) -> Any:
        return _series(_build(nodes.Add, self._node, _node(other)))

    def __radd__(self, other: Any) -> Any:
        return _series(_build(nodes.Add, _node(other), self._node))

    def __sub__(self, other: Any) -> Any:
        return _series(_build(nodes.Subtract, self._node, _node(other)))

    def __rsub__(self, other: Any) -> Any:
        return _series(_build(nodes.Subtract, _node(other), self._node))

    def __mul__(self, other: Any) -> Any:
        return _series(_build(nodes.Multiply, self._node, _node(other)))

    def __rmul__(self, other: Any) -> Any:
        return _series(_build(nodes.Multiply, _node(other), self._node))

    def __truediv__(self, other: Any) -> FloatSeries:
        return _series(_build(nodes.TrueDivide, self._node, _node(other)))

    def __rtruediv__(self, other: Any) -> FloatSeries:
        return _series(_build(nodes.TrueDivide, _node(other), self._node))

    def __floordiv__(self, other: Any) -> IntSeries:
        return _series(_build(nodes.FloorDivide, self._node, _node(other)))

    def __rfloordiv__(self, other: Any) -> IntSeries:
        return _series(_build(nodes.FloorDivide, _node(other), self._node))

    def __neg__(self) -> Any:
        return _series(_build(nodes.Negate, self._node))

    def count_distinct_for_pupil(self) -> IntSeries:
        return _aggregate(nodes.CountDistinct, self, "pupil")

    def count_distinct_for_teacher(self) -> IntSeries:
        return _aggregate(nodes.CountDistinct, self, "teacher")

    def count_distinct(self) -> IntSeries:
        """Number of different values among rows reached from another row, per that row."""
        return _aggregate_related(nodes.CountDistinct, self)


def _aggregate(node_class: type[nodes.Aggregate], series: Series, entity: str) -> Any:
    method = f"{node_class.operation}_for_{entity}()"
    _check_entity(series._node.domain.entity, entity, method)
    if _is_related(series._node.domain.frame):
        raise _error(
            f"these rows were reached from another row, so {method} does not apply; use "
            f"{node_class.operation}() for one value per row they were reached from"
        )
    return _series(_build(node_class, series._node))


def _aggregate_related(node_class: type[nodes.Aggregate], series: Series) -> Any:
    if not _is_related(series._node.domain.frame):
        entity = series._node.domain.entity or "pupil"
        raise _error(
            f"{node_class.operation}() aggregates rows reached from another row (such as a "
            f"class's lessons); use {node_class.operation}_for_{entity}() here"
        )
    return _series(_build(node_class, series._node))


def _is_related(frame: nodes.Frame | None) -> bool:
    return frame is not None and isinstance(nodes.lineage(frame)[-1], nodes.RelatedRows)


def _check_entity(actual: str | None, expected: str, method: str) -> None:
    if actual not in (None, expected):
        raise _error(f"{method} works on {expected} rows; these are {actual} rows")


class OrderedSeries(Series):
    """A series whose values have an order: numbers, strings, dates, times (and booleans, for
    minimum and maximum: False before True)."""

    def __lt__(self, other: Any) -> BoolSeries:
        return _series(_build(nodes.LT, self._node, self._other(other)))

    def __le__(self, other: Any) -> BoolSeries:
        return _series(_build(nodes.LE, self._node, self._other(other)))

    def __gt__(self, other: Any) -> BoolSeries:
        return _series(_build(nodes.GT, self._node, self._other(other)))

    def __ge__(self, other: Any) -> BoolSeries:
        return _series(_build(nodes.GE, self._node, self._other(other)))

    def minimum_for_pupil(self) -> Any:
        return _aggregate(nodes.Min, self, "pupil")

    def maximum_for_pupil(self) -> Any:
        return _aggregate(nodes.Max, self, "pupil")

    def minimum_for_teacher(self) -> Any:
        return _aggregate(nodes.Min, self, "teacher")

    def maximum_for_teacher(self) -> Any:
        return _aggregate(nodes.Max, self, "teacher")

    def minimum(self) -> Any:
        """Smallest value among rows reached from another row, per that row."""
        return _aggregate_related(nodes.Min, self)

    def maximum(self) -> Any:
        """Largest value among rows reached from another row, per that row."""
        return _aggregate_related(nodes.Max, self)


class BoolSeries(OrderedSeries):
    def __and__(self, other: Any) -> BoolSeries:
        return _series(_build(nodes.And, self._node, _node(other)))

    def __rand__(self, other: Any) -> BoolSeries:
        return _series(_build(nodes.And, _node(other), self._node))

    def __or__(self, other: Any) -> BoolSeries:
        return _series(_build(nodes.Or, self._node, _node(other)))

    def __ror__(self, other: Any) -> BoolSeries:
        return _series(_build(nodes.Or, _node(other), self._node))

    def __invert__(self) -> BoolSeries:
        return _series(_build(nodes.Not, self._node))


class NumericSeries(OrderedSeries):
    def as_float(self) -> FloatSeries:
        return _series(_build(nodes.CastToFloat, self._node))

    def as_int(self) -> IntSeries:
        """The integer part (rounding toward zero)."""
        return _series(_build(nodes.CastToInt, self._node))

    def sum_for_pupil(self) -> Any:
        return _aggregate(nodes.Sum, self, "pupil")

    def sum_for_teacher(self) -> Any:
        return _aggregate(nodes.Sum, self, "teacher")

    def mean_for_pupil(self) -> FloatSeries:
        return _aggregate(nodes.Mean, self, "pupil")

    def mean_for_teacher(self) -> FloatSeries:
        return _aggregate(nodes.Mean, self, "teacher")

    def sum(self) -> Any:
        """Sum over rows reached from another row, per that row."""
        return _aggregate_related(nodes.Sum, self)

    def mean(self) -> FloatSeries:
        """Mean over rows reached from another row, per that row."""
        return _aggregate_related(nodes.Mean, self)


class IntSeries(NumericSeries):
    pass


class FloatSeries(NumericSeries):
    pass


class StrSeries(OrderedSeries):
    def contains(self, text: str | StrSeries) -> BoolSeries:
        """Whether `text` occurs in the string (case-sensitive)."""
        return _series(_build(nodes.StringContains, self._node, _node(text)))


def _parsed(value: Any, parse: Any, form: str) -> nodes.Series:
    if isinstance(value, str):
        try:
            value = parse(value)
        except ValueError:
            raise _error(f"{value!r} is not a {form}") from None
    return _node(value)


class TimeSeries(OrderedSeries):
    def _other(self, value: Any) -> nodes.Series:
        return _parsed(value, datetime.time.fromisoformat, "time like 12:30")

    def is_before(self, other: Any) -> BoolSeries:
        return self < other

    def is_on_or_after(self, other: Any) -> BoolSeries:
        return self >= other


class DateSeries(OrderedSeries):
    def _other(self, value: Any) -> nodes.Series:
        return _parsed(value, datetime.date.fromisoformat, "date like 2024-09-01")

    @property
    def year(self) -> IntSeries:
        return _series(_build(nodes.YearFromDate, self._node))

    @property
    def month(self) -> IntSeries:
        return _series(_build(nodes.MonthFromDate, self._node))

    @property
    def day(self) -> IntSeries:
        return _series(_build(nodes.DayFromDate, self._node))

    def is_before(self, other: Any) -> BoolSeries:
        return self < other

    def is_on_or_before(self, other: Any) -> BoolSeries:
        return self <= other

    def is_after(self, other: Any) -> BoolSeries:
        return self > other

    def is_on_or_after(self, other: Any) -> BoolSeries:
        return self >= other

    def is_between_but_not_on(self, start: Any, end: Any) -> BoolSeries:
        return (self > start) & (self < end)

    def is_on_or_between(self, start: Any, end: Any) -> BoolSeries:
        return (self >= start) & (self <= end)

    def is_on_or_after_and_before(self, start: Any, end: Any) -> BoolSeries:
        """start <= date < end: the usual test for a half-open period."""
        return (self >= start) & (self < end)

    def __add__(self, other: Duration) -> DateSeries:
        if not isinstance(other, Duration):
            raise _error("add days(n), weeks(n), months(n) or years(n) to a date")
        return other._add_to(self._node)

    __radd__ = __add__

    @overload
    def __sub__(self, other: Duration) -> DateSeries: ...
    @overload
    def __sub__(self, other: DateSeries | datetime.date) -> DateDifference: ...

    def __sub__(self, other: Any) -> Any:
        if isinstance(other, Duration):
            return (-other)._add_to(self._node)
        return DateDifference(self._node, self._other(other))

    def __rsub__(self, other: Any) -> DateDifference:
        return DateDifference(self._other(other), self._node)


SERIES_CLASSES: dict[type, type[Series]] = {
    bool: BoolSeries,
    int: IntSeries,
    float: FloatSeries,
    str: StrSeries,
    datetime.date: DateSeries,
    datetime.time: TimeSeries,
}


def _series(node: nodes.Series) -> Any:
    return SERIES_CLASSES.get(node.type, Series)(node)


# Dates: durations and differences


@dataclass(frozen=True)
class Duration:
    """A number of days, weeks, months or years, to add to or subtract from dates."""

    value: int | IntSeries
    unit: str

    def __neg__(self) -> Duration:
        return Duration(-self.value, self.unit)

    def __add__(self, other: Any) -> Any:
        if isinstance(other, Duration) and other.unit == self.unit:
            return Duration(self.value + other.value, self.unit)
        if isinstance(other, DateSeries | datetime.date):
            return self._add_to(_node(other))
        raise _error(f"cannot add {other!r} to {self.unit}")

    def __radd__(self, other: Any) -> Any:
        return self.__add__(other)

    def _add_to(self, date: nodes.Series) -> DateSeries:
        number = _node(self.value)
        if self.unit == "weeks":
            number = _build(nodes.Multiply, number, nodes.Value(7))
        if self.unit == "years":
            number = _build(nodes.Multiply, number, nodes.Value(12))
        node_class = nodes.DateAddDays if self.unit in ("days", "weeks") else nodes.DateAddMonths
        return _series(_build(node_class, date, number))


def days(value: int | IntSeries) -> Duration:
    return Duration(value, "days")


def weeks(value: int | IntSeries) -> Duration:
    return Duration(value, "weeks")


def months(value: int | IntSeries) -> Duration:
    return Duration(value, "months")


def years(value: int | IntSeries) -> Duration:
    return Duration(value, "years")


class DateDifference:
    """The time from one date to another: `(end - start).days`, `.weeks`, `.months`, `.years`."""

    def __init__(self, end: nodes.Series, start: nodes.Series) -> None:
        self._end, self._start = end, start

    @property
    def days(self) -> IntSeries:
        return _series(_build(nodes.DateDifferenceInDays, self._end, self._start))

    @property
    def weeks(self) -> IntSeries:
        return self.days // 7

    @property
    def months(self) -> IntSeries:
        """Completed calendar months."""
        return _series(_build(nodes.DateDifferenceInMonths, self._end, self._start))

    @property
    def years(self) -> IntSeries:
        """Completed years (an age, when start is a date of birth)."""
        return _series(_build(nodes.DateDifferenceInYears, self._end, self._start))


# Functions of several series


@dataclass(frozen=True)
class When:
    condition: nodes.Series

    def then(self, value: Any) -> WhenThen:
        return WhenThen(self.condition, _node(value))


@dataclass(frozen=True)
class WhenThen:
    condition: nodes.Series
    value: nodes.Series


def when(condition: BoolSeries) -> When:
    return When(_node(condition))


def case(*cases: WhenThen, otherwise: Any = None) -> Any:
    """The value of the first `when(condition).then(value)` whose condition is true."""
    if not all(isinstance(item, WhenThen) for item in cases):
        raise _error("case() takes when(condition).then(value) arguments")
    pairs = tuple((item.condition, item.value) for item in cases)
    return _series(_build(nodes.Case, pairs, _node(otherwise)))


def maximum_of(*values: Any) -> Any:
    """The largest of the non-null values."""
    return _series(_build(nodes.MaximumOf, tuple(_node(value) for value in values)))


def minimum_of(*values: Any) -> Any:
    """The smallest of the non-null values."""
    return _series(_build(nodes.MinimumOf, tuple(_node(value) for value in values)))


# Code lists


def codelist_from_csv(
    filename: str | Path, *, column: str, category_column: str | None = None
) -> list[str] | dict[str, str]:
    """The codes in one column of a CSV file; with `category_column`, a code -> category dict
    for map_values()."""
    with open(filename, newline="", encoding="utf-8-sig") as file:
        reader = csv.DictReader(file)
        missing = [
            name
            for name in (column, category_column)
            if name and name not in (reader.fieldnames or [])
        ]
        if missing:
            raise _error(
                f"{filename} has no column {missing[0]!r}; its columns are "
                + ", ".join(reader.fieldnames or [])
            )
        rows = [row for row in reader if row[column].strip()]
    if category_column is None:
        return list(dict.fromkeys(row[column].strip() for row in rows))
    return {row[column].strip(): row[category_column] for row in rows}


# Parameters from the command line

_parameters: dict[str, str] = {}


def set_parameters(values: Mapping[str, str]) -> None:
    """Set the parameters a dataset definition reads (the dataset loader calls this with the
    `--name=value` arguments given after `--` on the command line)."""
    _parameters.clear()
    _parameters.update(values)


def get_parameter(name: str, default: str | None = None) -> str:
    """A parameter given on the command line, as a string (or `default` when not given)."""
    if name in _parameters:
        return _parameters[name]
    if default is not None:
        return default
    given = ", ".join(sorted(_parameters)) or "none"
    raise _error(
        f"parameter {name} was not given (pass -- --{name}=VALUE after the command); given: {given}"
    )


# Frames


F = TypeVar("F", bound="Frame")
S = TypeVar("S", bound=Series)


class Frame:
    """Rows of a table. Tables are declared in `ehrql_schools.tables` as subclasses."""

    _table: nodes.TableSchema
    _entity: str | None = None
    _one_row: bool = False

    def __init__(self, node: nodes.Frame | None) -> None:
        self._node = node

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._node!r})"

    def __bool__(self) -> bool:
        raise _error("a frame has no truth value; use exists_for_pupil() or count_for_pupil()")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        names = [item for item in dir(type(self)) if not item.startswith("_")]
        raise UnknownColumn(
            f"{self._table.name} has no column or method {name}{_nearest(name, names)}",
            *_user_location(),
        )

    def _frame_node(self) -> nodes.Frame:
        if self._node is None:
            raise _error(
                f"{self._table.name} is a reference table: reach it through a key of a pupil "
                f"or teacher row, e.g. assessment_results.class_.subject"
            )
        return self._node

    def _column(self, name: str) -> Series:
        return _series(_build(nodes.SelectColumn, self._frame_node(), name))

    def _lookup(self: Any, key_column: str, target: F, column: str) -> F:
        key = self._column(key_column)._node
        return type(target)(_build(nodes.LookupRow, target._table, column, key))


class EventFrame(Frame):
    """Many rows per entity."""

    def where(self: F, condition: BoolSeries) -> F:
        """The rows for which the condition is true."""
        return type(self)(_build(nodes.Filter, self._frame_node(), _node(condition)))

    def except_where(self: F, condition: BoolSeries) -> F:
        """The rows for which the condition is false or null."""
        condition_node = _node(condition)
        keep = _build(
            nodes.Or,
            _build(nodes.Not, condition_node),
            _build(nodes.IsNull, condition_node),
        )
        return type(self)(_build(nodes.Filter, self._frame_node(), keep))

    def sort_by(self: F, *keys: Series) -> F:
        """The rows in order of `keys` (nulls first); ties are broken by the rest of the row."""
        for key in keys:
            if not isinstance(key, Series):
                raise _error(f"sort_by() takes series such as frame.start_date, not {key!r}")
        sort_keys = tuple(_node(key) for key in keys)
        return type(self)(_build(nodes.Sort, self._frame_node(), sort_keys))

    def first(self: F) -> F:
        """The first row in the sort order, of rows reached from another row, per that row."""
        return self._pick("first", None)  # type: ignore[attr-defined]

    def last(self: F) -> F:
        """The last row in the sort order, of rows reached from another row, per that row."""
        return self._pick("last", None)  # type: ignore[attr-defined]

    def exists(self) -> BoolSeries:
        """Whether there are any rows reached from another row, per that row."""
        return self._exists(None)

    def count(self) -> IntSeries:
        """The number of rows reached from another row, per that row."""
        return self._count(None)

    def _check_owner(self, method: str, entity: str | None) -> None:
        """`_for_pupil` methods work on a pupil's rows; plain ones on rows reached from a row."""
        related = _is_related(self._frame_node())
        if entity is None and not related:
            raise _error(
                f"{method}() works on rows reached from another row (such as a class's lessons); "
                f"use {method}_for_{self._entity or 'pupil'}() here"
            )
        if entity is not None and related:
            raise _error(
                f"these {self._table.name} rows were reached from another row; use {method}() "
                "for one value per row they were reached from"
            )
        if entity is not None:
            _check_entity(self._entity, entity, f"{method}_for_{entity}()")

    def _pick(self: F, position: str, entity: str | None) -> F:
        self._check_owner(position, entity)  # type: ignore[attr-defined]
        return type(self)(_build(nodes.PickOneRowPerEntity, self._frame_node(), position))

    def _exists(self, entity: str | None) -> BoolSeries:
        self._check_owner("exists", entity)
        frame = self._frame_node()
        if isinstance(frame, nodes.PickOneRowPerEntity):
            frame = frame.source  # a row was picked if and only if there were rows to pick from
        return _series(_build(nodes.Exists, frame))

    def _count(self, entity: str | None) -> IntSeries:
        self._check_owner("count", entity)
        return _series(_build(nodes.Count, self._frame_node()))


class PupilFrame(Frame):
    """A table with one row per pupil."""

    _entity = "pupil"
    _one_row = True

    def exists_for_pupil(self) -> BoolSeries:
        return _series(_build(nodes.Exists, self._frame_node()))


class PupilEventFrame(EventFrame):
    """A table with many rows per pupil."""

    _entity = "pupil"

    def first_for_pupil(self: F) -> F:
        """Each pupil's first row in the sort order."""
        return self._pick("first", "pupil")  # type: ignore[attr-defined]

    def last_for_pupil(self: F) -> F:
        """Each pupil's last row in the sort order."""
        return self._pick("last", "pupil")  # type: ignore[attr-defined]

    def exists_for_pupil(self) -> BoolSeries:
        return self._exists("pupil")

    def count_for_pupil(self) -> IntSeries:
        return self._count("pupil")


class TeacherFrame(Frame):
    """A table with one row per teacher."""

    _entity = "teacher"
    _one_row = True

    def exists_for_teacher(self) -> BoolSeries:
        return _series(_build(nodes.Exists, self._frame_node()))


class TeacherEventFrame(EventFrame):
    """A table with many rows per teacher."""

    _entity = "teacher"

    def first_for_teacher(self: F) -> F:
        return self._pick("first", "teacher")  # type: ignore[attr-defined]

    def last_for_teacher(self: F) -> F:
        return self._pick("last", "teacher")  # type: ignore[attr-defined]

    def exists_for_teacher(self) -> BoolSeries:
        return self._exists("teacher")

    def count_for_teacher(self) -> IntSeries:
        return self._count("teacher")


class ReferenceFrame(EventFrame):
    """A reference table (schools, classes, ...), reached from a row through a key column, or
    as the rows related to a row (a class's lessons)."""


class column(Generic[S]):  # noqa: N801  (used like a field declaration)
    """A column declaration in a table class: `set_rank = column(IntSeries, "...")`."""

    def __init__(self, series_class: type[S], description: str = "") -> None:
        self.series_class, self.description = series_class, description
        self.__doc__ = description

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @property
    def type(self) -> type:
        return next(type_ for type_, cls in SERIES_CLASSES.items() if cls is self.series_class)

    def __get__(self, frame: Frame | None, owner: type) -> S:
        if frame is None:
            return self  # type: ignore[return-value]
        return frame._column(self.name)  # type: ignore[return-value]


class lookup(Generic[F]):  # noqa: N801
    """A key column's reference: `class_ = lookup("class_id", lambda: classes, "class_id")`
    makes `assessment_results.class_.set_rank` the set rank of each result's class."""

    def __init__(self, key_column: str, target: Callable[[], F], target_column: str) -> None:
        self.key_column, self.target, self.target_column = key_column, target, target_column

    def __get__(self, frame: Frame | None, owner: type) -> F:
        if frame is None:
            return self  # type: ignore[return-value]
        return frame._lookup(self.key_column, self.target(), self.target_column)


class related(Generic[F]):  # noqa: N801
    """The other side of a foreign key: `lessons = related("class_id", lambda: lessons,
    "class_id")` on classes makes `assessment_results.class_.lessons` each class's lessons."""

    def __init__(self, key_column: str, target: Callable[[], F], target_column: str) -> None:
        self.key_column, self.target, self.target_column = key_column, target, target_column

    def __get__(self, frame: Frame | None, owner: type) -> F:
        if frame is None:
            return self  # type: ignore[return-value]
        key = frame._column(self.key_column)._node
        target = self.target()
        node = _build(nodes.RelatedRows, target._table, self.target_column, key)
        return type(target)(node)


def table(cls: type[F]) -> F:
    """Declare a table: the class's `column`s in order; an instance selects all its rows."""
    columns = tuple(
        (name, value.type) for name, value in vars(cls).items() if isinstance(value, column)
    )
    cls._table = nodes.TableSchema(cls.__name__, cls._entity, cls._one_row, columns)
    if cls._entity is None:
        return cls(None)
    return cls(nodes.SelectTable(cls._table))


# Datasets


RESERVED_NAMES = frozenset({"pupil_id", "teacher_id", "population"})


class Dataset:
    """One row per pupil or per teacher, chosen by the population."""

    def __init__(self) -> None:
        object.__setattr__(self, "_population", None)
        object.__setattr__(self, "_variables", {})
        object.__setattr__(self, "_event_tables", {})

    def define_population(self, condition: BoolSeries) -> None:
        """Include the pupils (or teachers) for which `condition` is true."""
        if self._population is not None:
            raise _error("the population is already defined")
        node = _node(condition)
        entity = node.domain.entity
        if entity is None:
            raise _error(
                "the population must use a pupil or teacher table, e.g. pupils.exists_for_pupil()"
            )
        self._check_variables(node, entity)
        object.__setattr__(self, "_population", node)

    def _check_variables(self, population: nodes.Series, entity: str) -> None:
        variables = tuple((name, node) for name, node in self._variables.items())
        _build(nodes.Dataset, entity, population, variables, self._event_table_nodes())

    def _event_table_nodes(self) -> tuple[tuple[str, nodes.EventTable], ...]:
        return tuple((name, table._node) for name, table in self._event_tables.items())

    def _entities(self) -> set[str]:
        """The entities the population, variables and event tables so far have one row per."""
        entities = {v.domain.entity for v in self._variables.values()} - {None}
        entities |= {table._node.entity for table in self._event_tables.values()}
        if self._population is not None:
            entities.add(self._population.domain.entity)
        return entities  # type: ignore[return-value]

    def add_event_table(self, name: str, **columns: Any) -> EventTable:
        """Add an output table with one row per row of a frame (one row per assessment result,
        say) for each pupil (or teacher) in the population, ordered by pupil id then by the rows'
        order. Its first column is pupil_id (teacher_id); then one column per keyword: series of
        the frame's rows (including lookups, and aggregations of rows related to each row),
        series with one value per pupil (repeated on each of the pupil's rows) or constants.
        More columns can be added later by assigning to the returned table's attributes."""
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
            raise _error(
                f"{name!r} cannot be an event table name: use letters, digits and underscores, "
                "starting with a letter"
            )
        if name.lower() in {existing.lower() for existing in self._event_tables}:
            raise _error(f"event table {name} is already defined (names ignore case)")
        if not columns:
            raise _error(
                f"event table {name} needs at least one column, e.g. "
                f"dataset.add_event_table({name!r}, date=assessment_results.result_date)"
            )
        table = EventTable(self, name, columns)
        self._event_tables[name] = table
        return table

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_") or name in RESERVED_NAMES:
            raise _error(f"{name!r} cannot be a variable name")
        if name.lower() in {existing.lower() for existing in self._variables}:
            raise _error(f"variable {name} is already defined (names ignore case)")
        node = _node(value)
        if node.domain.is_many:
            entity = node.domain.entity
            raise _error(
                f"variable {name} must have one value per {entity}; aggregate the rows first, "
                f"e.g. with first_for_{entity}() or count_for_{entity}()"
            )
        entities = self._entities()
        if node.domain.entity is not None and entities - {node.domain.entity}:
            raise _error(
                f"variable {name} is a {node.domain.entity} series, but this dataset has one row "
                f"per {entities.pop()}"
            )
        self._variables[name] = node

    def __getattr__(self, name: str) -> Any:
        variables = object.__getattribute__(self, "_variables")
        if name in variables:
            return _series(variables[name])
        raise AttributeError(f"the dataset has no variable {name!r}")


class EventTable:
    """An event-level table of a dataset, made by `dataset.add_event_table(name, **columns)`.
    Assign to its attributes to add columns (`table.mark = results.result_percent`); read them
    back the same way."""

    def __init__(self, dataset: Dataset, name: str, columns: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_dataset", dataset)
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_node", None)
        self._add_columns(columns)

    def __repr__(self) -> str:
        names = [name for name, _ in self._node.columns]
        return f"EventTable({self._name!r}, columns={names!r})"

    def _add_columns(self, columns: Mapping[str, Any]) -> None:
        existing = dict(self._node.columns) if self._node is not None else {}
        combined = dict(existing)
        for column_name, value in columns.items():
            if column_name.lower() in {name.lower() for name in combined}:
                raise _error(
                    f"column {column_name} of event table {self._name} is already defined "
                    "(names ignore case)"
                )
            combined[column_name] = _node(value)
        try:
            node = nodes.EventTable(tuple(combined.items()))
        except QueryModelError as error:
            raise _error(f"event table {self._name}: {error}") from None
        # (Adding columns cannot change a table's entity: the frames would not combine.)
        others = self._dataset._entities() - {node.entity}
        if others:
            raise _error(
                f"event table {self._name} has rows of a {node.entity} table, but this dataset "
                f"has one row per {others.pop()}"
            )
        object.__setattr__(self, "_node", node)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            raise _error(f"{name!r} cannot be a column name")
        self._add_columns({name: value})

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        columns = dict(self._node.columns)
        if name in columns:
            return _series(columns[name])
        raise AttributeError(f"event table {self._name} has no column {name!r}")


def create_dataset() -> Dataset:
    return Dataset()


def compile_dataset(dataset: Dataset) -> nodes.Dataset:
    """The query model of a dataset definition."""
    if dataset._population is None:
        raise QueryError("the dataset has no population: call dataset.define_population(...)")
    population = dataset._population
    variables = tuple(dataset._variables.items())
    event_tables = dataset._event_table_nodes()
    try:
        return nodes.Dataset(population.domain.entity, population, variables, event_tables)
    except QueryModelError as error:
        raise QueryError(str(error)) from None


__all__ = [
    "BoolSeries",
    "DateDifference",
    "DateSeries",
    "Dataset",
    "Duration",
    "EventTable",
    "FloatSeries",
    "IntSeries",
    "PupilEventFrame",
    "PupilFrame",
    "QueryError",
    "ReferenceFrame",
    "Series",
    "StrSeries",
    "TeacherEventFrame",
    "TeacherFrame",
    "TimeSeries",
    "UnknownAttribute",
    "UnknownColumn",
    "UnknownTable",
    "case",
    "codelist_from_csv",
    "column",
    "compile_dataset",
    "create_dataset",
    "days",
    "get_parameter",
    "lookup",
    "maximum_of",
    "minimum_of",
    "months",
    "related",
    "set_parameters",
    "table",
    "unknown_table",
    "weeks",
    "when",
    "years",
]
