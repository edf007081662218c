"""Dates: parts, comparisons, ranges, durations and differences."""

import datetime

import pytest

from ehrql_schools.query_language import days, months, weeks, years
from ehrql_schools.tables.schools import pupils

PUPILS = """
    pupil_id | date_of_birth
    1        | 2010-01-31
    2        | 2012-02-29
    3        |
"""


@pytest.fixture
def spec(spec):
    spec.tables(pupils=PUPILS)
    return spec


def test_date_parts(spec):
    dob = pupils.date_of_birth
    assert spec.values(dob.year) == {1: 2010, 2: 2012, 3: None}
    assert spec.values(dob.month) == {1: 1, 2: 2, 3: None}
    assert spec.values(dob.day) == {1: 31, 2: 29, 3: None}


def test_date_comparisons_accept_iso_strings(spec):
    dob = pupils.date_of_birth
    assert spec.values(dob.is_before("2012-02-29")) == {1: True, 2: False, 3: None}
    assert spec.values(dob.is_on_or_before("2012-02-29")) == {1: True, 2: True, 3: None}
    assert spec.values(dob.is_after(datetime.date(2010, 1, 31))) == {1: False, 2: True, 3: None}
    assert spec.values(dob.is_on_or_after("2010-01-31")) == {1: True, 2: True, 3: None}


def test_date_ranges(spec):
    dob = pupils.date_of_birth
    assert spec.values(dob.is_on_or_between("2010-01-31", "2012-02-29")) == {
        1: True,
        2: True,
        3: None,
    }
    assert spec.values(dob.is_between_but_not_on("2010-01-31", "2012-03-01")) == {
        1: False,
        2: True,
        3: None,
    }
    assert spec.values(dob.is_on_or_after_and_before("2010-01-31", "2012-02-29")) == {
        1: True,
        2: False,
        3: None,
    }


def test_adding_days_and_weeks(spec):
    dob = pupils.date_of_birth
    d = datetime.date
    assert spec.values(dob + days(1)) == {1: d(2010, 2, 1), 2: d(2012, 3, 1), 3: None}
    assert spec.values(dob - weeks(1)) == {1: d(2010, 1, 24), 2: d(2012, 2, 22), 3: None}


def test_adding_months_clamps_to_the_end_of_the_month(spec):
    dob = pupils.date_of_birth
    d = datetime.date
    assert spec.values(dob + months(1)) == {1: d(2010, 2, 28), 2: d(2012, 3, 29), 3: None}
    assert spec.values(dob - months(11)) == {1: d(2009, 2, 28), 2: d(2011, 3, 29), 3: None}
    assert spec.values(dob + years(1)) == {1: d(2011, 1, 31), 2: d(2013, 2, 28), 3: None}
    assert spec.values(dob + years(4)) == {1: d(2014, 1, 31), 2: d(2016, 2, 29), 3: None}


def test_durations_from_a_series(spec):
    dob = pupils.date_of_birth
    d = datetime.date
    assert spec.values(dob + days(dob.day)) == {1: d(2010, 3, 3), 2: d(2012, 3, 29), 3: None}
    assert spec.values(dob + months(dob.month)) == {1: d(2010, 2, 28), 2: d(2012, 4, 29), 3: None}


def test_differences_between_dates(spec):
    dob = pupils.date_of_birth
    assert spec.values((dob - "2010-01-01").days) == {1: 30, 2: 789, 3: None}
    assert spec.values(("2013-02-28" - dob).years) == {1: 3, 2: 0, 3: None}
    assert spec.values(("2013-03-01" - dob).years) == {1: 3, 2: 1, 3: None}
    assert spec.values(("2010-03-30" - dob).months) == {1: 1, 2: -23, 3: None}
    assert spec.values(("2010-03-31" - dob).months) == {1: 2, 2: -23, 3: None}
    assert spec.values(("2010-02-14" - dob).weeks) == {1: 2, 2: -107, 3: None}
