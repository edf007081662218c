"""Measures: numerator / denominator ratios per group and time interval, disclosure-controlled.

A measures definition file assigns `measures = create_measures()` and defines measures on it:

    from ehrql_schools.measures import INTERVAL, academic_years, create_measures
    from ehrql_schools.school_year import enrolment_on, sessions_missed, sessions_possible

    measures = create_measures()
    enrolment = enrolment_on(INTERVAL.start_date)
    missed = sessions_missed(INTERVAL.start_date, INTERVAL.end_date)
    possible = sessions_possible(INTERVAL.start_date, INTERVAL.end_date)
    measures.define_defaults(
        denominator=enrolment.exists_for_pupil(), intervals=academic_years(2022, 2024)
    )
    measures.define_measure(
        "persistent_absence",
        numerator=(possible > 0) & (missed * 10 >= possible),
        group_by={"school": enrolment.school_id, "year_group": enrolment.year_group},
    )

For each measure and interval, the pupils (or teachers) counted are those whose denominator is
true or a number above zero; the output has one row per measure, interval and group present:
`measure, interval_start, interval_end, ratio, numerator, denominator`, one column per group_by
name (in order of first use across the measures; null where a measure does not group by it) and
`disclosure_control`, which records the rules applied ("disabled" when they were switched off).
Numerators and denominators are summed per group: a boolean counts 1 for true and 0 for false or
null; a null number counts 0. Disclosure control (job_runner.disclosure.controls, profile
"opensafely" by default) is applied to every row: numerator and denominator are each redacted and
rounded, and the ratio is recomputed from them.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ehrql_schools.query_language import (
    DateSeries,
    Duration,
    QueryError,
    Series,
    _error,
    _node,
)
from ehrql_schools.query_model import nodes

if TYPE_CHECKING:
    import pandas as pd

    from job_runner.disclosure.controls import Profile

# pandas and the disclosure controls are imported where they are used: the compiled model (below)
# is read by `ehrql_schools.query_model.serialise`, which loading a dataset definition imports.

FIXED_COLUMNS = ("measure", "interval_start", "interval_end", "ratio", "numerator", "denominator")
RECORD_COLUMN = "disclosure_control"
Interval = tuple[datetime.date, datetime.date]


# Interval placeholders


@dataclass(frozen=True, eq=False)
class IntervalDate(nodes.Value):
    """A placeholder for the start or end date of the interval a measure is computed for. It is
    replaced by the real date in each interval's dataset, so engines never see it."""

    name: str = "start_date"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IntervalDate) and other.name == self.name

    def __hash__(self) -> int:
        return hash((IntervalDate, self.name))

    def __repr__(self) -> str:
        return f"INTERVAL.{self.name}"


class _Interval:
    """`INTERVAL.start_date` and `INTERVAL.end_date`: the first and last day (inclusive) of the
    interval, usable in any series of a measure."""

    @property
    def start_date(self) -> DateSeries:
        return DateSeries(IntervalDate(datetime.date(1, 1, 1), "start_date"))

    @property
    def end_date(self) -> DateSeries:
        return DateSeries(IntervalDate(datetime.date(1, 1, 1), "end_date"))


INTERVAL = _Interval()


def substitute_interval(node: nodes.Node, start: datetime.date, end: datetime.date) -> Any:
    """The node with INTERVAL.start_date and INTERVAL.end_date replaced by the given dates."""
    replacements = {"start_date": nodes.Value(start), "end_date": nodes.Value(end)}
    memo: dict[int, Any] = {}

    def replace(value: Any) -> Any:
        if isinstance(value, tuple):
            items = tuple(replace(item) for item in value)
            return value if all(a is b for a, b in zip(items, value, strict=True)) else items
        if not isinstance(value, nodes.Node):
            return value
        if isinstance(value, IntervalDate):
            return replacements[value.name]
        if id(value) not in memo:
            changes = {}
            for field in dataclasses.fields(value):  # type: ignore[arg-type]
                old = getattr(value, field.name)
                new = replace(old)
                if new is not old:
                    changes[field.name] = new
            memo[id(value)] = dataclasses.replace(value, **changes) if changes else value  # type: ignore[type-var]
        return memo[id(value)]

    return replace(node)


# Intervals


def _date(value: datetime.date | str) -> datetime.date:
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            raise _error(f"{value!r} is not a date like 2024-09-01") from None
    if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
        raise _error(f"expected a date like 2024-09-01, got {value!r}")
    return value


def _add_months(date: datetime.date, count: int) -> datetime.date:
    month_index = date.year * 12 + date.month - 1 + count
    year, month = divmod(month_index, 12)
    day = min(date.day, calendar.monthrange(year, month + 1)[1])
    return datetime.date(year, month + 1, day)


@dataclass(frozen=True)
class IntervalCount(Duration):
    """A number of days, weeks, months or years: a duration for date arithmetic, and with
    `starting_on(date)` or `ending_on(date)` that many consecutive intervals of one unit."""

    def _bounds(self, start: datetime.date, index: int) -> datetime.date:
        if self.unit == "days":
            return start + datetime.timedelta(days=index)
        if self.unit == "weeks":
            return start + datetime.timedelta(weeks=index)
        return _add_months(start, index * (12 if self.unit == "years" else 1))

    def _check(self) -> int:
        if not isinstance(self.value, int) or isinstance(self.value, bool) or self.value < 1:
            raise _error(f"the number of intervals must be a whole number above 0: {self.value!r}")
        return self.value

    def starting_on(self, date: datetime.date | str) -> list[Interval]:
        """`years(3).starting_on("2022-09-01")`: three one-year intervals, the first starting on
        that date; each ends the day before the next starts."""
        count, start = self._check(), _date(date)
        return [
            (self._bounds(start, i), self._bounds(start, i + 1) - datetime.timedelta(days=1))
            for i in range(count)
        ]

    def ending_on(self, date: datetime.date | str) -> list[Interval]:
        """`months(12).ending_on("2024-08-31")`: twelve one-month intervals, the last ending on
        that date."""
        count, end = self._check(), _date(date)
        after = end + datetime.timedelta(days=1)
        return [
            (self._bounds(after, i), self._bounds(after, i + 1) - datetime.timedelta(days=1))
            for i in range(-count, 0)
        ]


def days(value: Any) -> IntervalCount:
    return IntervalCount(value, "days")


def weeks(value: Any) -> IntervalCount:
    return IntervalCount(value, "weeks")


def months(value: Any) -> IntervalCount:
    return IntervalCount(value, "months")


def years(value: Any) -> IntervalCount:
    return IntervalCount(value, "years")


def academic_years(first: int, last: int | None = None) -> list[Interval]:
    """Academic years from `first` to `last` inclusive, named by the year they start in:
    `academic_years(2022, 2023)` is 2022-09-01 to 2023-08-31 and 2023-09-01 to 2024-08-31."""
    last = first if last is None else last
    return [
        (datetime.date(year, 9, 1), datetime.date(year + 1, 8, 31))
        for year in range(first, last + 1)
    ]


def terms(first: int, last: int | None = None) -> list[Interval]:
    """The terms of academic years `first` to `last`, by month as `school_year.term()` has them:
    autumn (1 September to 31 December), spring (1 January to 31 March) and summer (1 April to 31
    August). Real term dates vary by school and with Easter."""
    intervals = []
    for year in range(first, (first if last is None else last) + 1):
        intervals += [
            (datetime.date(year, 9, 1), datetime.date(year, 12, 31)),
            (datetime.date(year + 1, 1, 1), datetime.date(year + 1, 3, 31)),
            (datetime.date(year + 1, 4, 1), datetime.date(year + 1, 8, 31)),
        ]
    return intervals


def _intervals(value: Iterable[Any]) -> tuple[Interval, ...]:
    if isinstance(value, Duration):
        raise _error("give intervals as e.g. years(3).starting_on('2022-09-01')")
    try:
        pairs = tuple((_date(start), _date(end)) for start, end in value)
    except (TypeError, ValueError):
        raise _error("intervals must be a list of (start date, end date) pairs") from None
    if not pairs:
        raise _error("give at least one interval")
    for start, end in pairs:
        if end < start:
            raise _error(f"the interval {start} to {end} ends before it starts")
    return pairs


# Definitions


@dataclass
class _Measure:
    name: str
    numerator: nodes.Series
    denominator: nodes.Series
    group_by: dict[str, nodes.Series]
    intervals: tuple[Interval, ...]


_UNSET: Any = object()


class Measures:
    """The measures of a measures definition; create it with `create_measures()`."""

    def __init__(self) -> None:
        self._measures: dict[str, _Measure] = {}
        self._defaults: dict[str, Any] = {}
        self._disclosure: dict[str, Any] = {"enabled": True, "profile": "opensafely"}

    def define_defaults(
        self,
        *,
        numerator: Series | None = None,
        denominator: Series | None = None,
        group_by: Mapping[str, Series] | None = None,
        intervals: Iterable[Any] | None = None,
    ) -> None:
        """Values that measures defined after this use unless they give their own."""
        given = {
            "numerator": numerator,
            "denominator": denominator,
            "group_by": group_by,
            "intervals": intervals,
        }
        self._defaults.update({key: value for key, value in given.items() if value is not None})

    def define_measure(
        self,
        name: str,
        numerator: Series | None = None,
        denominator: Series | None = None,
        group_by: Mapping[str, Series] | None = None,
        intervals: Iterable[Any] | None = None,
    ) -> None:
        """A measure: per interval and group, the sum of `numerator` over the pupils (or teachers)
        whose `denominator` is true or above zero, the sum of `denominator`, and their ratio.

        numerator, denominator: one boolean or integer value per pupil (or teacher).
        group_by: output column name -> one value per pupil (school, year group, class, teacher,
        FSM, ...); may be empty for one row per interval.
        intervals: (start, end) date pairs, e.g. `years(3).starting_on("2022-09-01")`.
        """
        if not isinstance(name, str) or not name.isidentifier():
            raise _error(f"a measure name must be a name like persistent_absence, not {name!r}")
        if name in self._measures:
            raise _error(f"measure {name} is already defined")
        values = {
            "numerator": numerator,
            "denominator": denominator,
            "group_by": group_by,
            "intervals": intervals,
        }
        for key, value in values.items():
            if value is None:
                if key not in self._defaults:
                    raise _error(f"measure {name} needs {key} (or define_defaults({key}=...))")
                values[key] = self._defaults[key]
        numerator_node = _count_node(values["numerator"], f"the numerator of {name}")
        denominator_node = _count_node(values["denominator"], f"the denominator of {name}")
        group_nodes = _group_nodes(values["group_by"], name)
        entities = {
            node.domain.entity for node in (numerator_node, denominator_node, *group_nodes.values())
        } - {None}
        if len(entities) > 1:
            raise _error(f"measure {name} mixes pupil and teacher series")
        if denominator_node.domain.entity is None:
            raise _error(
                f"the denominator of {name} must use a pupil or teacher table, e.g. "
                "pupils.exists_for_pupil()"
            )
        self._measures[name] = _Measure(
            name, numerator_node, denominator_node, group_nodes, _intervals(values["intervals"])
        )

    def configure_disclosure_control(
        self, enabled: bool = True, profile: str = "opensafely", **overrides: Any
    ) -> None:
        """Choose the disclosure rules applied to the output: a profile ("opensafely": counts of
        7 or fewer redacted, the rest rounded to 5; "srs": counts below 10 redacted) and any of
        its settings (threshold, inclusive, redact_zero, rounding, base). `enabled=False` turns
        the controls off; the output records that it did."""
        if not isinstance(enabled, bool):
            raise _error("enabled must be True or False")
        try:
            _profile(profile, overrides)
        except ValueError as error:
            raise _error(str(error)) from None
        self._disclosure = {"enabled": enabled, "profile": profile, **overrides}


def create_measures() -> Measures:
    return Measures()


def _count_node(value: Any, role: str) -> nodes.Series:
    if not isinstance(value, Series):
        raise _error(f"{role} must be a boolean or integer series, e.g. a count or a condition")
    node = _node(value)
    if node.type not in (bool, int):
        raise _error(f"{role} must be a boolean or integer series, not {nodes.a_type(node.type)}")
    if node.domain.is_many:
        raise _error(f"{role} must have one value per pupil or teacher; aggregate the rows first")
    return node


def _group_nodes(group_by: Mapping[str, Any], name: str) -> dict[str, nodes.Series]:
    if not isinstance(group_by, Mapping):
        raise _error("group_by must be a dict of column name -> series")
    result = {}
    for column, value in group_by.items():
        if not isinstance(column, str) or not column.isidentifier():
            raise _error(f"a group_by name must be a name like school, not {column!r}")
        if column in (*FIXED_COLUMNS, RECORD_COLUMN):
            raise _error(f"{column} is an output column; choose another group_by name")
        if not isinstance(value, Series):
            raise _error(f"group_by {column} of {name} must be a series, not {value!r}")
        node = _node(value)
        if node.domain.is_many:
            raise _error(
                f"group_by {column} of {name} must have one value per pupil or teacher; "
                "aggregate the rows first"
            )
        if node.type is nodes.NoneType:
            raise _error(f"group_by {column} of {name} is always null")
        result[column] = node
    return result


# The compiled model


@dataclass(frozen=True)
class MeasureColumns:
    """Where one measure's values are in an interval query's rows (indexes after the id)."""

    name: str
    numerator: int
    denominator: int
    group_by: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class IntervalQuery:
    """One dataset to run: the measures sharing an interval and a denominator."""

    interval_start: str
    interval_end: str
    dataset: nodes.Dataset
    measures: tuple[MeasureColumns, ...]


@dataclass(frozen=True)
class MeasuresModel:
    """Compiled measures: the datasets to run and how to aggregate their rows. Fields are
    strings, numbers, booleans, None, tuples, dicts of those and query model nodes."""

    queries: tuple[IntervalQuery, ...]
    measure_names: tuple[str, ...]
    group_columns: tuple[str, ...]
    disclosure_control: dict[str, Any]


def compile_measures(measures: Measures) -> MeasuresModel:
    """The measures as datasets (one per interval and denominator) and aggregation metadata."""
    if not isinstance(measures, Measures):
        raise QueryError("expected measures made by create_measures()")
    if not measures._measures:
        raise QueryError("no measures are defined: call measures.define_measure(...)")
    group_columns: dict[str, None] = {}
    plans: dict[tuple[Interval, nodes.Series], list[_Measure]] = {}
    for measure in measures._measures.values():
        group_columns.update(dict.fromkeys(measure.group_by))
        for interval in measure.intervals:
            plans.setdefault((interval, measure.denominator), []).append(measure)
    queries = []
    for ((start, end), denominator), members in sorted(plans.items(), key=lambda item: item[0][0]):
        variables: dict[nodes.Series, int] = {}

        def column(node: nodes.Series, variables: dict[nodes.Series, int] = variables) -> int:
            return variables.setdefault(node, len(variables))

        columns = tuple(
            MeasureColumns(
                m.name,
                column(m.numerator),
                column(m.denominator),
                tuple((name, column(node)) for name, node in m.group_by.items()),
            )
            for m in members
        )
        if denominator.type is bool:
            population = denominator
        else:
            population = nodes.GT(denominator, nodes.Value(0))
        try:
            dataset = nodes.Dataset(
                str(denominator.domain.entity),
                population,
                tuple((f"v{index}", node) for node, index in variables.items()),
            )
            dataset = substitute_interval(dataset, start, end)
        except nodes.QueryModelError as error:
            raise QueryError(str(error)) from None
        # Engines and the serialised model never see a placeholder: each has its interval's date.
        if any(isinstance(node, IntervalDate) for node in nodes.walk(dataset)):
            raise AssertionError("an INTERVAL placeholder was left in a compiled measure")
        queries.append(IntervalQuery(start.isoformat(), end.isoformat(), dataset, columns))
    return MeasuresModel(
        tuple(queries),
        tuple(measures._measures),
        tuple(group_columns),
        dict(measures._disclosure),
    )


# Computing


class Engine(Protocol):
    def get_results(
        self, dataset: nodes.Dataset, batch_size: int = ...
    ) -> Iterator[list[tuple]]: ...


def _as_count(value: Any) -> int:
    return 0 if value is None else int(value)


def _sort_key(item: tuple[tuple[Any, ...], Any]) -> tuple[tuple[bool, Any], ...]:
    return tuple((value is not None, value) for value in item[0])


def compute_measures(
    model: MeasuresModel, engine: Engine, batch_size: int = 10_000
) -> pd.DataFrame:
    """Run the measures on an engine: one row per measure, interval and group, with disclosure
    control applied as the measures configured it (see the module docstring for the columns).
    Memory grows with the number of groups, not of pupils."""
    import pandas as pd

    totals: dict[tuple[str, str, str], dict[tuple[Any, ...], list[int]]] = {}
    group_names: dict[str, tuple[str, ...]] = {}
    for query in model.queries:
        accumulators = []
        for columns in query.measures:
            key = (columns.name, query.interval_start, query.interval_end)
            accumulators.append((columns, totals.setdefault(key, {})))
            group_names[columns.name] = tuple(name for name, _ in columns.group_by)
        previous_id: Any = _UNSET
        for batch in engine.get_results(query.dataset, batch_size=batch_size):
            for row in batch:
                if row[0] == previous_id:
                    continue  # rows come ordered by id: count each pupil or teacher once
                previous_id = row[0]
                for columns, groups in accumulators:
                    group = tuple(row[1 + index] for _, index in columns.group_by)
                    sums = groups.setdefault(group, [0, 0])
                    sums[0] += _as_count(row[1 + columns.numerator])
                    sums[1] += _as_count(row[1 + columns.denominator])
    order = {name: index for index, name in enumerate(model.measure_names)}
    records = []
    for (name, start, end), groups in sorted(
        totals.items(), key=lambda item: (order[item[0][0]], item[0][1], item[0][2])
    ):
        for group, (numerator, denominator) in sorted(groups.items(), key=_sort_key):
            values = dict(zip(group_names[name], group, strict=True))
            records.append(
                [name, start, end, numerator / denominator, numerator, denominator]
                + [values.get(column) for column in model.group_columns]
            )
    frame = pd.DataFrame(records, columns=[*FIXED_COLUMNS, *model.group_columns], dtype=object)
    for column in ("numerator", "denominator"):
        frame[column] = frame[column].astype("Int64")
    frame["ratio"] = frame["ratio"].astype(float)
    return apply_disclosure_control(frame, model.disclosure_control)


def _profile(name: str, overrides: Mapping[str, Any]) -> Profile:
    from job_runner.disclosure.controls import profile

    return profile(name, **overrides)


def apply_disclosure_control(frame: pd.DataFrame, settings: Mapping[str, Any]) -> pd.DataFrame:
    """The measures rows with the configured disclosure control applied and recorded in the
    `disclosure_control` column; `frame.attrs["disclosure_notes"]` holds, per column, the rule
    applied to each row's numerator, denominator and ratio."""
    from job_runner.disclosure.controls import control_ratio_table

    settings = dict(settings)
    enabled = settings.pop("enabled", True)
    rules = _profile(settings.pop("profile", "opensafely"), settings)
    if not enabled:
        frame[RECORD_COLUMN] = "disabled in the measures definition"
        frame.attrs["disclosure_control"] = {"enabled": False}
        return frame
    controlled = control_ratio_table(frame, rules)
    result = controlled.table
    result[RECORD_COLUMN] = rules.describe()
    result.attrs["disclosure_control"] = {"enabled": True, **rules.to_dict()}
    result.attrs["disclosure_notes"] = controlled.notes.to_dict(orient="list")
    return result


def frame_rows(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    """The rows as tuples of plain Python values, None for a redacted or missing value."""
    import pandas as pd

    return [
        tuple(None if pd.isna(value) else value for value in row)
        for row in frame.astype(object).itertuples(index=False, name=None)
    ]


def disclosure_summary(frame: pd.DataFrame) -> dict[str, int]:
    """How many cells disclosure control changed in `compute_measures`' output: count cells
    (numerators and denominators) "redacted" and "rounded" (to a base or to midpoint 6), and
    "ratios_redacted". All 0 when it was disabled."""
    from job_runner.disclosure.controls import MIDPOINT6, REDACTED, ROUNDED

    notes = frame.attrs.get("disclosure_notes") or {}
    counts = [rule for column, rules in notes.items() if column != "ratio" for rule in rules]
    return {
        "redacted": counts.count(REDACTED),
        "rounded": counts.count(ROUNDED) + counts.count(MIDPOINT6),
        "ratios_redacted": list(notes.get("ratio", ())).count(REDACTED),
    }


def disclosure_enabled(model: MeasuresModel) -> bool:
    """Whether the measures definition left disclosure control on."""
    return model.disclosure_control.get("enabled", True) is not False


__all__ = [
    "INTERVAL",
    "IntervalQuery",
    "MeasureColumns",
    "Measures",
    "MeasuresModel",
    "academic_years",
    "apply_disclosure_control",
    "compile_measures",
    "compute_measures",
    "create_measures",
    "days",
    "disclosure_enabled",
    "disclosure_summary",
    "frame_rows",
    "months",
    "terms",
    "weeks",
    "years",
]
