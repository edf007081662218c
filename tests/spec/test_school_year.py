"""The school year: academic years, terms, ages on 31 August, year groups, enrolments, sessions."""

import pytest

from ehrql_schools.query_language import months
from ehrql_schools.school_year import (
    academic_year,
    age_on_31_august,
    enrolment_on,
    sessions_attended,
    sessions_missed,
    sessions_possible,
    term,
    year_group_on,
)
from ehrql_schools.tables.schools import pupils

PUPILS = """
    pupil_id | date_of_birth
    1        | 2010-08-01
    2        | 2010-09-01
    3        |
"""


@pytest.fixture
def spec(spec):
    spec.tables(pupils=PUPILS)
    return spec


def test_academic_year_and_term(spec):
    dob = pupils.date_of_birth
    assert spec.values(academic_year(dob)) == {1: 2009, 2: 2010, 3: None}
    assert spec.values(term(dob)) == {1: "summer", 2: "autumn", 3: None}
    assert spec.values(term(dob + months(5))) == {
        1: "spring",
        2: "spring",
        3: None,
    }


def test_age_on_31_august_and_year_group(spec):
    dob = pupils.date_of_birth
    assert spec.values(age_on_31_august(dob, 2024)) == {1: 14, 2: 13, 3: None}
    assert spec.values(year_group_on(dob, "2024-10-01")) == {1: "10", 2: "9", 3: None}
    assert spec.values(year_group_on(dob, "2015-06-30")) == {1: "R", 2: "N2", 3: None}
    assert spec.values(year_group_on(dob, "2030-01-01")) == {1: None, 2: "14", 3: None}


def test_enrolment_on_a_date(spec):
    spec.tables(
        enrolments="""
            pupil_id | enrolment_id | school_id | start_date | end_date
            1        | 1           | 50        | 2023-09-01 | 2024-08-31
            1        | 2           | 51        | 2024-09-01 | 2024-10-15
            1        | 3           | 52        | 2024-10-10 | 2025-08-31
            2        | 4           | 50        | 2024-11-01 | 2025-08-31
        """
    )
    assert spec.values(enrolment_on("2024-10-01").school_id) == {1: 51, 2: None, 3: None}
    assert spec.values(enrolment_on("2024-10-12").school_id) == {1: 52, 2: None, 3: None}


def test_sessions_possible_attended_and_missed(spec):
    spec.tables(
        attendance_sessions="""
            pupil_id | date       | session | attendance_code
            1        | 2024-09-02 | AM      | /
            1        | 2024-09-02 | PM      | \\
            1        | 2024-09-03 | AM      | I
            1        | 2024-09-03 | PM      | X
            1        | 2024-09-04 | AM      | V
            1        | 2024-09-04 | PM      | G
            1        | 2024-08-30 | AM      | N
            2        | 2024-09-02 | AM      | #
        """
    )
    period = ("2024-09-01", "2025-08-31")
    assert spec.values(sessions_possible(*period)) == {1: 5, 2: 0, 3: 0}
    assert spec.values(sessions_attended(*period)) == {1: 3, 2: 0, 3: 0}
    assert spec.values(sessions_missed(*period)) == {1: 2, 2: 0, 3: 0}
