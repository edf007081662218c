"""The English school year in the query language: academic years, terms, ages on 31 August,
year groups, enrolment on a date, and attendance sessions in a period.

Each is built from the query language's own series, so every engine computes it the same way.

    from ehrql_schools.school_year import academic_year, enrolment_on, sessions_missed

    enrolment = enrolment_on("2024-10-01")
    dataset.school_id = enrolment.school_id
    dataset.sessions_missed = sessions_missed("2024-09-01", "2025-08-31")
"""

from __future__ import annotations

import datetime
import functools
from typing import Any

from ehrql_schools.query_language import (
    DateSeries,
    IntSeries,
    StrSeries,
    _node,
    _series,
    case,
    when,
)
from ehrql_schools.tables.schools import attendance_sessions, enrolments
from schema import load_schema

DateLike = DateSeries | datetime.date | str

YEAR_GROUPS_BY_AGE = {2: "N1", 3: "N2", 4: "R", **{age: str(age - 4) for age in range(5, 19)}}


def _date(value: DateLike) -> DateSeries:
    if isinstance(value, str):
        value = datetime.date.fromisoformat(value)
    return value if isinstance(value, DateSeries) else _series(_node(value))


def academic_year(date: DateLike) -> IntSeries:
    """The academic year a date falls in, as the calendar year it starts in (1 September to 31
    August): 2024 for 2024-09-01 to 2025-08-31."""
    date = _date(date)
    return date.year - case(when(date.month < 9).then(1), otherwise=0)


def term(date: DateLike) -> StrSeries:
    """The term a date falls in, by month: autumn (September to December), spring (January to
    March) or summer (April to August). Real term dates vary by school and with Easter."""
    date = _date(date)
    return case(
        when(date.month >= 9).then("autumn"),
        when(date.month >= 4).then("summer"),
        when(date.month >= 1).then("spring"),
    )


def age_on_31_august(date_of_birth: DateLike, year: int | IntSeries) -> IntSeries:
    """Age in whole years on 31 August of `year`: the age that fixes the year group of the
    academic year that starts in `year`."""
    date_of_birth = _date(date_of_birth)
    born_after_august = case(when(date_of_birth.month >= 9).then(1), otherwise=0)
    return year - date_of_birth.year - born_after_august


def year_group_on(date_of_birth: DateLike, date: DateLike) -> StrSeries:
    """The national curriculum year group (N1, N2, R, 1 to 14) for a date of birth on a date,
    from the age on 31 August before that academic year; null outside nursery to year 14."""
    age = age_on_31_august(date_of_birth, academic_year(date))
    return age.map_values(YEAR_GROUPS_BY_AGE)


def enrolment_on(date: DateLike) -> Any:
    """Each pupil's enrolment on the date: the one that started last when there are several."""
    date = _date(date)
    current = enrolments.where(enrolments.start_date.is_on_or_before(date))
    current = current.where(current.end_date.is_on_or_after(date))
    return current.sort_by(current.start_date).last_for_pupil()


@functools.cache
def attendance_codes(*categories: str) -> tuple[str, ...]:
    """The attendance codes in the given categories of schema/'s attendance_code code list."""
    codelist = load_schema().codelists["attendance_code"]
    return tuple(code.code for code in codelist.codes if code.category in categories)


def _sessions(start: DateLike, end: DateLike, *categories: str) -> IntSeries:
    marks = attendance_sessions.where(
        attendance_sessions.date.is_on_or_between(_date(start), _date(end))
    )
    marks = marks.where(marks.attendance_code.is_in(attendance_codes(*categories)))
    return marks.count_for_pupil()


def sessions_possible(start: DateLike, end: DateLike) -> IntSeries:
    """Possible sessions (half days) from start to end inclusive: every mark not in the
    not_possible category."""
    return _sessions(
        start,
        end,
        "present",
        "approved_educational_activity",
        "authorised_absence",
        "unauthorised_absence",
    )


def sessions_attended(start: DateLike, end: DateLike) -> IntSeries:
    """Sessions attended: present, or at an approved educational activity."""
    return _sessions(start, end, "present", "approved_educational_activity")


def sessions_missed(start: DateLike, end: DateLike) -> IntSeries:
    """Possible sessions missed: authorised or unauthorised absence."""
    return _sessions(start, end, "authorised_absence", "unauthorised_absence")
