"""English school calendars: terms, half terms, bank holidays and 190 open days a year."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from dummy_data.backbone import SchoolCalendar

OPEN_DAYS_PER_YEAR = 190


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return date(year, month, day + 1)


def _monday_of_week(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _weekdays(start: date, end: date) -> list[date]:
    days = (start + timedelta(days=n) for n in range((end - start).days + 1))
    return [day for day in days if day.weekday() < 5]


def _week(monday: date) -> set[date]:
    return {monday + timedelta(days=n) for n in range(5)}


def term_dates(academic_year: int) -> list[tuple[date, date, set[date]]]:
    """(first day, last day, closed weekdays inside) for the autumn, spring and summer terms."""
    y = academic_year
    easter = easter_sunday(y + 1)
    autumn = (
        date(y, 9, 1) + timedelta(days=(2 - date(y, 9, 1).weekday()) % 7),  # first Wednesday
        _last_weekday(y, 12, 4) if _last_weekday(y, 12, 4).day <= 20 else date(y, 12, 20),
        _week(_last_weekday(y, 10, 0)),
    )
    spring_start = date(y + 1, 1, 6) + timedelta(days=(7 - date(y + 1, 1, 6).weekday()) % 7)
    spring = (
        spring_start,
        easter - timedelta(days=9),  # the Friday nine days before Easter Sunday
        _week(_monday_of_week(date(y + 1, 2, 14))),
    )
    may_bank_holiday = _nth_weekday(y + 1, 5, 0, 1)
    summer = (
        easter + timedelta(days=8),  # Monday after Easter Monday's week
        date(y + 1, 7, 22),
        _week(_last_weekday(y + 1, 5, 0)) | {may_bank_holiday},
    )
    return [autumn, spring, summer]


def build_calendar(academic_year: int, inset_at_start: int = 2) -> SchoolCalendar:
    """The academic year's 190 open days.

    Term dates follow the usual pattern of English local authorities. INSET days (closures for staff
    training) are taken from the start of the autumn term and the end of the summer term until
    exactly 190 days remain; `inset_at_start` says how many of them come first, so trusts can
    differ.
    """
    terms = [
        [day for day in _weekdays(start, end) if day not in closed]
        for start, end, closed in term_dates(academic_year)
    ]
    surplus = sum(map(len, terms)) - OPEN_DAYS_PER_YEAR
    if surplus < 0:
        last = terms[2][-1]
        terms[2] += _weekdays(last + timedelta(days=1), last + timedelta(days=2 - surplus * 2))[
            :-surplus
        ]
        surplus = 0
    at_start = min(inset_at_start, surplus)
    terms[0] = terms[0][at_start:]
    if surplus - at_start:
        terms[2] = terms[2][: -(surplus - at_start)]
    open_dates = np.array([np.datetime64(day, "D") for term in terms for day in term])
    term_of_date = np.concatenate(
        [np.full(len(term), n, dtype=np.int8) for n, term in enumerate(terms)]
    )
    census = (
        np.datetime64(_nth_weekday(academic_year, 10, 3, 1), "D"),
        np.datetime64(_nth_weekday(academic_year + 1, 1, 3, 3), "D"),
        np.datetime64(_nth_weekday(academic_year + 1, 5, 3, 3), "D"),
    )
    return SchoolCalendar(academic_year, open_dates, term_of_date, census)
