"""Hypothesis strategies: small random tables, and random valid dataset definitions over them.

Datasets are built with the query language (so its sugar, such as `except_where`,
`when_null_then`, `map_values`, `weeks()` and `years()`, is exercised too) by a generator that
asks for "a series of type T in scope S": one value per pupil (or teacher), or one value per row
of a many-rows frame that is being filtered, sorted or aggregated (rows reached from another row,
such as a class's lessons, may use only their own values). Every production is typed, so the
queries are valid by construction: a query the query model refuses fails the test.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import reject
from hypothesis import strategies as st

from ehrql_schools import query_language as ql
from ehrql_schools.query_model import nodes
from ehrql_schools.tables import schools

D = datetime.date
T = datetime.time

ENTITY_TABLES = {
    "pupil": (
        ["pupils", "students"],
        ["class_memberships", "assessment_results", "pupil_characteristics"],
    ),
    "teacher": (["teachers"], ["class_teachers", "teacher_contracts"]),
}
REFERENCE_TABLES = ["classes", "lessons", "assessments", "schools"]
TABLES = [name for one, many in ENTITY_TABLES.values() for name in one + many] + REFERENCE_TABLES

# Keys: the column each one-row or reference table is unique on, and the pools of key values
# (foreign keys also take a value no row has, and null).
UNIQUE_KEYS = {
    "pupils": "pupil_id",
    "students": "pupil_id",
    "teachers": "teacher_id",
    "classes": "class_id",
    "assessments": "assessment_id",
    "schools": "school_id",
}
KEY_POOLS = {
    "pupil_id": [1, 2, 3, 4],
    "teacher_id": [1, 2, 3],
    "class_id": [10, 11, 12],
    "assessment_id": [20, 21],
    "school_id": [30, 31],
}
DANGLING = {"pupil_id": 9, "teacher_id": 9, "class_id": 19, "assessment_id": 29, "school_id": 39}

# Values: around zero and month ends, leap days, unicode and case, a % and a quote.
INTS = [0, 1, -1, 2, -2, 3, -7, 5, 12, 31]
FLOATS = [0.0, 1.0, -1.0, 0.5, -0.5, 1.5, -2.5, 0.25, 3.0, 40.0, -0.0]
STRS = ["a", "", "A", "ab", "aB", "%", "b", "é", "É", "ß", "ss", "z", "Z", "a%b", "it's", "😀", "Ω"]
DATES = [
    D(2020, 1, 31),
    D(2020, 2, 28),
    D(2020, 2, 29),
    D(2020, 3, 1),
    D(2020, 3, 31),
    D(2021, 2, 28),
    D(2021, 3, 1),
    D(2019, 12, 31),
    D(2023, 1, 31),
    D(2023, 4, 30),
    D(2024, 2, 29),
    D(2024, 8, 31),
    D(2024, 9, 1),
    D(2025, 1, 1),
    D(2000, 2, 29),
    D(2100, 2, 28),
]
TIMES = [T(9, 0), T(0, 0), T(8, 45), T(12, 0), T(12, 0, 30), T(15, 30), T(23, 59)]
POOLS: dict[type, list[Any]] = {
    bool: [True, False],
    int: INTS,
    float: FLOATS,
    str: STRS,
    D: DATES,
    T: TIMES,
}
EXTRA: dict[type, st.SearchStrategy[Any]] = {
    int: st.integers(-1000, 1000),
    # Quarters: exact in binary, so sums do not depend on the order of adding.
    float: st.integers(-4000, 4000).map(lambda quarters: quarters / 4),
    str: st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=3),
    D: st.dates(D(1990, 1, 1), D(2035, 12, 31)),
}
ORDERABLE = [int, float, str, D, T, bool]
NUMERIC = [int, float]


def table_frame(name: str) -> Any:
    return getattr(schools, name)


def schema(name: str) -> nodes.TableSchema:
    return table_frame(name)._table


@st.composite
def value(draw: Callable[..., Any], type_: type, nulls: bool = True) -> Any:
    """A value of the type: mostly from the pool, sometimes null, sometimes anything."""
    choice = draw(st.integers(0, 19))
    if choice < 14 or (choice < 17 and not nulls) or (choice >= 17 and type_ not in EXTRA):
        return draw(st.sampled_from(POOLS[type_]))
    if choice < 17:
        return None
    return draw(EXTRA[type_])


# Data


@st.composite
def table_data(draw: Callable[..., Any], names: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Rows for the tables: a few each, with nulls, duplicates and ties."""
    data: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
    for name in names:
        table = schema(name)
        unique = UNIQUE_KEYS.get(name)
        # Mostly a few rows; sometimes none.
        size = draw(st.sampled_from([3, 2, 4, 1, 5, 0]))
        if unique:
            pool = KEY_POOLS[unique]
            keys = draw(st.lists(st.sampled_from(pool), unique=True, min_size=min(size, len(pool))))
            rows = [draw(row(table, {unique: key})) for key in keys]
        else:
            rows = draw(st.lists(row(table, {}), min_size=size, max_size=size))
            if rows:
                rows += draw(st.lists(st.sampled_from(rows), max_size=2))  # duplicates
        data[name] = rows
    return data


@st.composite
def row(draw: Callable[..., Any], table: nodes.TableSchema, given: dict[str, Any]) -> dict:
    values = {}
    for column, type_ in table.columns:
        if column in given:
            values[column] = given[column]
        elif column == table.entity_key:
            values[column] = draw(st.sampled_from(KEY_POOLS[column]))
        elif column in KEY_POOLS:
            pool = [*KEY_POOLS[column], DANGLING[column], None]
            values[column] = draw(st.sampled_from(pool))
        else:
            values[column] = draw(value(type_))
    return values


# Links between tables: lookups (one row) and related rows (many), within the tables above


def links(name: str, kind: type) -> list[tuple[str, str]]:
    """(attribute, target table) of the table's lookups or relations to tables we generate."""
    found = []
    for attribute, declared in vars(type(table_frame(name))).items():
        if isinstance(declared, kind):
            target = declared.target()._table.name
            if target in TABLES:
                found.append((attribute, target))
    return found


LOOKUPS = {name: links(name, ql.lookup) for name in TABLES}
RELATED = {name: links(name, ql.related) for name in TABLES}


# Queries


@dataclass(frozen=True)
class Scope:
    """Where a series is used: one value per entity (frame None), or one value per row of a
    many-rows frame; rows reached from another row (related) may use only their own values."""

    frame: Any = None
    related: bool = False


ENTITY = Scope()


class Reject(Exception):
    """No valid query of the kind asked for in this scope (rare); the example is discarded."""


@dataclass(frozen=True)
class Path:
    """How to reach one row in a scope: a base (a one-row table, the scope's current row, or
    the first/last row of a sorted frame), then lookups and picks of related rows."""

    base: str  # "table", "frame" or "pick"
    table: str
    steps: tuple[tuple[str, str, str], ...] = ()  # (kind, attribute, target table)

    @property
    def final(self) -> str:
        return self.steps[-1][2] if self.steps else self.table

    def then(self, kind: str, attribute: str, target: str) -> Path:
        return dataclasses.replace(self, steps=(*self.steps, (kind, attribute, target)))


class QueryGenerator:
    """Draws typed series for one entity (pupil or teacher)."""

    def __init__(self, draw: Callable[..., Any], entity: str) -> None:
        self.draw, self.entity = draw, entity
        self.one_row_tables, self.many_row_tables = ENTITY_TABLES[entity]

    def choose(self, options: list[Any]) -> Any:
        return self.draw(st.sampled_from(options))

    def chance(self, probability: float = 0.5) -> bool:
        return self.draw(st.integers(0, 99)) < probability * 100

    # Entry points

    def population(self) -> Any:
        tables = self.choose([[name] for name in self.one_row_tables + self.many_row_tables])
        if self.chance(0.3):
            tables.append(self.choose(self.one_row_tables + self.many_row_tables))
        condition = None
        for name in tables:
            exists = getattr(table_frame(name), f"exists_for_{self.entity}")()
            condition = exists if condition is None else condition | exists
        if self.chance(0.3):
            extra = self.series(bool, ENTITY, 2)
            condition = condition & extra if self.chance() else condition | extra
        return condition

    def series(self, type_: type, scope: Scope, depth: int) -> Any:
        productions = self.productions(type_, scope, depth)
        return self.choose(productions)(type_, scope, depth)

    # Productions: functions (type, scope, depth) -> series of that type

    def productions(self, type_: type, scope: Scope, depth: int) -> list[Callable[..., Any]]:
        options: list[Callable[..., Any]] = [self.literal]
        if self.paths(scope, depth, lambda table: has_type(table, type_)):
            options = [self.column, self.column, self.literal]
        if depth <= 0:
            return options
        options += [self.case, self.when_null_then, self.map_values, self.extremum_of]
        options += [self.aggregation, self.aggregation]
        if scope.frame is not None and not scope.related:
            options.append(self.entity_value)
        options += {
            bool: [self.comparison, self.comparison, self.logic, self.null_test, self.is_in]
            + [self.contains, self.date_range],
            int: [self.arithmetic, self.arithmetic, self.as_int, self.date_part]
            + [self.date_difference, self.date_difference],
            float: [self.arithmetic, self.true_divide, self.as_float],
            D: [self.date_add, self.date_add],
        }.get(type_, [])
        return options

    def literal(self, type_: type, scope: Scope, depth: int) -> Any:
        return constant(self.draw(value(type_, nulls=False)))

    def column(self, type_: type, scope: Scope, depth: int) -> Any:
        paths = self.paths(scope, depth, lambda table: has_type(table, type_))
        path = self.choose(paths)
        holder = self.follow(path, scope, depth)
        names = [name for name, column_type in schema(path.final).columns if column_type is type_]
        return getattr(holder, self.choose(names))

    def entity_value(self, type_: type, scope: Scope, depth: int) -> Any:
        return self.series(type_, ENTITY, depth - 1)

    def case(self, type_: type, scope: Scope, depth: int) -> Any:
        branches = []
        for _ in range(self.draw(st.integers(1, 3))):
            condition = self.series(bool, scope, depth - 1)
            branches.append(ql.when(condition).then(self.branch_value(type_, scope, depth)))
        otherwise = self.branch_value(type_, scope, depth) if self.chance(0.7) else None
        if otherwise is None and all(branch.value.type is nodes.NoneType for branch in branches):
            otherwise = self.series(type_, scope, depth - 1)
        return ql.case(*branches, otherwise=otherwise)

    def branch_value(self, type_: type, scope: Scope, depth: int) -> Any:
        if self.chance(0.15):
            return None
        if type_ is float and self.chance(0.3):
            return self.series(int, scope, depth - 1)  # int and float values mix to float
        return self.series(type_, scope, depth - 1)

    def when_null_then(self, type_: type, scope: Scope, depth: int) -> Any:
        source = self.series(type_, scope, depth - 1)
        if self.chance():
            return source.when_null_then(self.draw(value(type_, nulls=False)))
        return source.when_null_then(self.series(type_, scope, depth - 1))

    def map_values(self, type_: type, scope: Scope, depth: int) -> Any:
        source_type = self.choose([str, int, bool, D, float])
        source = self.series(source_type, scope, depth - 1)
        keys = self.draw(st.lists(value(source_type, nulls=False), min_size=1, max_size=3))
        mapping = {key: self.draw(value(type_)) for key in keys}
        default = self.draw(value(type_))
        if default is None and all(item is None for item in mapping.values()):
            default = self.draw(value(type_, nulls=False))
        return source.map_values(mapping, default=default)

    def extremum_of(self, type_: type, scope: Scope, depth: int) -> Any:
        types = NUMERIC if type_ is float else [type_]
        count = self.draw(st.integers(2, 3))
        values = [self.series(self.choose(types), scope, depth - 1) for _ in range(count)]
        if type_ is float and all(item._node.type is int for item in values):
            values[0] = self.series(float, scope, depth - 1)
        function = ql.maximum_of if self.chance() else ql.minimum_of
        return function(*values)

    def comparison(self, type_: type, scope: Scope, depth: int) -> Any:
        operand_type = self.choose([int, float, str, D, T, bool])
        lhs = self.series(operand_type, scope, depth - 1)
        rhs_type = self.choose(NUMERIC) if operand_type in NUMERIC else operand_type
        if self.chance(0.4):
            rhs = self.draw(value(rhs_type, nulls=False))
            if rhs_type is D and self.chance():
                rhs = rhs.isoformat()  # dates may be given as strings
        else:
            rhs = self.series(rhs_type, scope, depth - 1)
        if operand_type is bool:
            return lhs == rhs if self.chance() else lhs != rhs
        operator = self.choose(["==", "!=", "<", "<=", ">", ">="])
        return {
            "==": lambda: lhs == rhs,
            "!=": lambda: lhs != rhs,
            "<": lambda: lhs < rhs,
            "<=": lambda: lhs <= rhs,
            ">": lambda: lhs > rhs,
            ">=": lambda: lhs >= rhs,
        }[operator]()

    def logic(self, type_: type, scope: Scope, depth: int) -> Any:
        lhs = self.series(bool, scope, depth - 1)
        operator = self.choose(["&", "|", "~"])
        if operator == "~":
            return ~lhs
        rhs = self.series(bool, scope, depth - 1) if self.chance(0.8) else self.chance()
        if self.chance(0.2):
            lhs, rhs = rhs, lhs  # a Python bool on the left uses __rand__ / __ror__
        return lhs & rhs if operator == "&" else lhs | rhs

    def null_test(self, type_: type, scope: Scope, depth: int) -> Any:
        source = self.series(self.choose(ORDERABLE), scope, depth - 1)
        return source.is_null() if self.chance() else source.is_not_null()

    def is_in(self, type_: type, scope: Scope, depth: int) -> Any:
        source_type = self.choose([int, str, D, float, bool, T])
        source = self.series(source_type, scope, depth - 1)
        value_type = self.choose(NUMERIC) if source_type in NUMERIC else source_type
        values = self.draw(st.lists(value(value_type, nulls=False), max_size=3))
        return source.is_in(values) if self.chance(0.7) else source.is_not_in(values)

    def contains(self, type_: type, scope: Scope, depth: int) -> Any:
        source = self.series(str, scope, depth - 1)
        if self.chance(0.7):
            return source.contains(self.draw(value(str, nulls=False)))
        return source.contains(self.series(str, scope, depth - 1))

    def date_range(self, type_: type, scope: Scope, depth: int) -> Any:
        source = self.series(D, scope, depth - 1)
        start, end = (self.date_operand(scope, depth) for _ in range(2))
        method = self.choose(
            ["is_on_or_between", "is_between_but_not_on", "is_on_or_after_and_before"]
        )
        return getattr(source, method)(start, end)

    def date_operand(self, scope: Scope, depth: int) -> Any:
        if self.chance(0.7):
            return self.draw(value(D, nulls=False))
        return self.series(D, scope, depth - 1)

    def arithmetic(self, type_: type, scope: Scope, depth: int) -> Any:
        operator = self.choose(["+", "-", "*", "//", "neg"] if type_ is int else ["+", "-", "*"])
        if operator == "neg":
            return -self.series(int, scope, depth - 1)
        types = [int, int] if type_ is int else [self.choose(NUMERIC), float]
        if self.chance():
            types.reverse()
        lhs, rhs = (self.operand(item, scope, depth) for item in types)
        if not isinstance(lhs, ql.Series) and not isinstance(rhs, ql.Series):
            lhs = constant(lhs)
        return {
            "+": lambda: lhs + rhs,
            "-": lambda: lhs - rhs,
            "*": lambda: lhs * rhs,
            "//": lambda: lhs // rhs,
        }[operator]()

    def operand(self, type_: type, scope: Scope, depth: int) -> Any:
        """A series, or sometimes a plain Python number (zero included: division by zero)."""
        if self.chance(0.3):
            return self.draw(value(type_, nulls=False))
        return self.series(type_, scope, depth - 1)

    def true_divide(self, type_: type, scope: Scope, depth: int) -> Any:
        lhs = self.series(self.choose(NUMERIC), scope, depth - 1)
        rhs = self.operand(self.choose(NUMERIC), scope, depth)
        return lhs / rhs if self.chance(0.8) else rhs / lhs

    def as_int(self, type_: type, scope: Scope, depth: int) -> Any:
        return self.series(self.choose(NUMERIC), scope, depth - 1).as_int()

    def as_float(self, type_: type, scope: Scope, depth: int) -> Any:
        return self.series(self.choose(NUMERIC), scope, depth - 1).as_float()

    def date_part(self, type_: type, scope: Scope, depth: int) -> Any:
        date = self.series(D, scope, depth - 1)
        return getattr(date, self.choose(["year", "month", "day"]))

    def date_difference(self, type_: type, scope: Scope, depth: int) -> Any:
        end = self.series(D, scope, depth - 1)
        start = self.date_operand(scope, depth)
        difference = end - start if self.chance(0.8) else start - end
        return getattr(difference, self.choose(["days", "weeks", "months", "years"]))

    def date_add(self, type_: type, scope: Scope, depth: int) -> Any:
        date = self.series(D, scope, depth - 1)
        unit = self.choose([ql.days, ql.months, ql.years, ql.weeks])
        duration = unit(self.small_int(scope, depth))
        return date + duration if self.chance(0.7) else date - duration

    def small_int(self, scope: Scope, depth: int) -> Any:
        """A number of days, weeks, months or years that keeps dates within 1 to 9999 AD."""
        options = ["literal", "literal"]
        if self.paths(scope, 0, lambda table: has_type(table, int)):
            options.append("column")
        choice = self.choose(options)
        if choice == "literal":
            return self.draw(st.integers(-40, 40))
        number = self.column(int, scope, 0)
        return -number if self.chance(0.2) else number

    # Aggregations of many rows: per entity, or per row the rows are related to

    def aggregation(self, type_: type, scope: Scope, depth: int) -> Any:
        operations = {
            bool: ["exists", "exists", "minimum", "maximum"],
            int: ["count", "count", "count_distinct", "sum", "sum", "minimum", "maximum"],
            float: ["sum", "mean", "mean", "minimum", "maximum"],
        }.get(type_, ["minimum", "maximum"])
        operation = self.choose(operations)
        source_type = {
            "count_distinct": self.choose(ORDERABLE),
            "mean": self.choose(NUMERIC),
        }.get(operation, type_)
        if operation in ("exists", "count"):
            options = self.many_rows(scope, depth, lambda table: True)
        else:
            options = self.many_rows(scope, depth, lambda table: has_type(table, source_type))
        if not options:
            raise Reject("no rows to aggregate in this scope")
        frame, related = self.follow_many(self.choose(options), scope, depth)
        frame = self.filtered(frame, related, depth)
        suffix = "" if related else f"_for_{self.entity}"
        if operation in ("exists", "count"):
            return getattr(frame, operation + suffix)()
        source = self.series(source_type, Scope(frame, related), depth - 1)
        if source._node.domain.frame != frame._node:
            # Constants and values of the frame's ancestors do not vary over its rows.
            names = [name for name, t in frame._table.columns if t is source_type]
            source = getattr(frame, self.choose(names))
        return getattr(source, operation + suffix)()

    def many_rows(self, scope: Scope, depth: int, wanted: Callable[[str], bool]) -> list[Any]:
        """Ways to a frame of many rows: the entity's rows of a table (per entity only), or the
        rows related to a row reached in this scope."""
        options: list[Any] = []
        if scope.frame is None:
            options += [("table", name) for name in self.many_row_tables if wanted(name)]
        for path in self.paths(scope, depth - 1, lambda table: bool(RELATED[table])):
            options += [
                ("related", path, attribute)
                for attribute, target in RELATED[path.final]
                if wanted(target)
            ]
        return options

    def follow_many(self, option: Any, scope: Scope, depth: int) -> tuple[Any, bool]:
        if option[0] == "table":
            return table_frame(option[1]), False
        _, path, attribute = option
        return getattr(self.follow(path, scope, depth - 1), attribute), True

    def filtered(self, frame: Any, related: bool, depth: int) -> Any:
        for _ in range(self.draw(st.integers(0, 2))):
            condition = self.series(bool, Scope(frame, related), depth - 1)
            frame = frame.where(condition) if self.chance(0.7) else frame.except_where(condition)
        return frame

    def picked(self, frame: Any, related: bool, depth: int) -> Any:
        frame = self.filtered(frame, related, depth)
        scope = Scope(frame, related)
        count = self.draw(st.integers(1, 2))
        keys = [self.series(self.choose(ORDERABLE), scope, depth - 1) for _ in range(count)]
        frame = frame.sort_by(*keys)
        if self.chance(0.2):
            frame = frame.where(self.series(bool, Scope(frame, related), depth - 1))
        position = self.choose(["first", "last"])
        return getattr(frame, position if related else f"{position}_for_{self.entity}")()

    # Rows reached in a scope

    def paths(self, scope: Scope, depth: int, wanted: Callable[[str], bool]) -> list[Path]:
        """The ways to reach one row in the scope whose table is `wanted`."""
        if scope.frame is None:
            bases = [Path("table", name) for name in self.one_row_tables]
            if depth > 0:
                bases += [Path("pick", name) for name in self.many_row_tables]
        else:
            bases = [Path("frame", scope.frame._table.name)]
        found = []
        pending = [(path, 0) for path in bases]
        while pending:
            path, length = pending.pop(0)
            if wanted(path.final):
                found.append(path)
            if length < 2:
                for attribute, target in LOOKUPS[path.final]:
                    pending.append((path.then("lookup", attribute, target), length + 1))
                if depth > 0:
                    for attribute, target in RELATED[path.final]:
                        pending.append((path.then("pick", attribute, target), length + 1))
        return found

    def follow(self, path: Path, scope: Scope, depth: int) -> Any:
        if path.base == "table":
            holder = table_frame(path.table)
        elif path.base == "frame":
            holder = scope.frame
        else:
            holder = self.picked(table_frame(path.table), False, depth - 1)
        for kind, attribute, _ in path.steps:
            holder = getattr(holder, attribute)
            if kind == "pick":
                holder = self.picked(holder, True, depth - 1)
        return holder


def has_type(table: str, type_: type) -> bool:
    return any(column_type is type_ for _, column_type in schema(table).columns)


def constant(python_value: Any) -> Any:
    return ql._series(nodes.Value(python_value))


VARIABLE_TYPES = [int, bool, float, str, D, T]


@st.composite
def datasets(draw: Callable[..., Any], max_depth: int = 3) -> nodes.Dataset:
    """A compiled dataset: a population and one to three variables of random types."""
    entity = draw(st.sampled_from(["pupil", "teacher"]))
    generator = QueryGenerator(draw, entity)
    try:
        dataset = ql.create_dataset()
        dataset.define_population(generator.population())
        for index in range(draw(st.integers(1, 3))):
            type_ = draw(st.sampled_from(VARIABLE_TYPES))
            depth = draw(st.integers(1, max_depth))
            setattr(dataset, f"v{index}", generator.series(type_, ENTITY, depth))
        return ql.compile_dataset(dataset)
    except ql.QueryError as error:
        raise AssertionError(f"the generator made an invalid query: {error}") from error
    except Reject:
        reject()


def show(item: Any, indent: int = 0) -> str:
    """A query model node as indented text, for reading a failing example."""
    pad = "  " * indent
    if isinstance(item, nodes.Value):
        return f"{pad}{item.value!r}"
    if isinstance(item, nodes.TableSchema):
        return f"{pad}{item.name}"
    if isinstance(item, nodes.SelectColumn) and isinstance(item.source, nodes.SelectTable):
        return f"{pad}{item.source.table.name}.{item.name}"
    if isinstance(item, tuple):
        if all(not isinstance(part, nodes.Node | tuple) for part in item):
            return f"{pad}{item!r}"
        inner = ",\n".join(show(part, indent + 1) for part in item)
        return f"{pad}(\n{inner}\n{pad})"
    if dataclasses.is_dataclass(item) and isinstance(item, nodes.Node):
        fields = [getattr(item, field.name) for field in dataclasses.fields(item)]
        if all(isinstance(field, str | int | float | nodes.TableSchema) for field in fields):
            return f"{pad}{type(item).__name__}({', '.join(show(f) for f in fields)})"
        inner = ",\n".join(show(field, indent + 1) for field in fields)
        return f"{pad}{type(item).__name__}(\n{inner}\n{pad})"
    return f"{pad}{item!r}"


def used_tables(dataset: nodes.Dataset) -> list[str]:
    """The tables a dataset reads."""
    found = {
        node.table.name: None
        for node in nodes.walk(dataset)
        if isinstance(node, nodes.SelectTable | nodes.LookupRow | nodes.RelatedRows)
    }
    return list(found)


@st.composite
def examples(draw: Callable[..., Any]) -> tuple[nodes.Dataset, dict[str, list[dict]]]:
    """A dataset, and rows for the tables it reads."""
    dataset = draw(datasets())
    return dataset, draw(table_data(used_tables(dataset)))
