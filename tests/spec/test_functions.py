"""Functions of series: nulls, logic, arithmetic, membership, case, strings."""

import pytest

from ehrql_schools.query_language import case, maximum_of, minimum_of, when
from ehrql_schools.tables.schools import students

STUDENTS = """
    pupil_id | ks2_maths | ks2_reading | attendance_percent | pupil_premium | eal | year_group
    1        | 100       | 105         | 92.5               | T             | F   | 7
    2        | 90        |             | 80.0               | F             |     | 8
    3        |           |             |                    |               | T   | 11
"""


@pytest.fixture
def spec(spec):
    spec.tables(students=STUDENTS)
    return spec


def test_is_null_and_is_not_null(spec):
    assert spec.values(students.ks2_reading.is_null()) == {1: False, 2: True, 3: True}
    assert spec.values(students.ks2_reading.is_not_null()) == {1: True, 2: False, 3: False}


def test_when_null_then(spec):
    assert spec.values(students.ks2_reading.when_null_then(0)) == {1: 105, 2: 0, 3: 0}


def test_comparisons_with_null_are_null(spec):
    assert spec.values(students.ks2_maths >= 95) == {1: True, 2: False, 3: None}
    assert spec.values(students.ks2_maths == students.ks2_reading) == {1: False, 2: None, 3: None}
    assert spec.values(students.ks2_maths != 90) == {1: True, 2: False, 3: None}


def test_three_valued_logic(spec):
    pp, eal = students.pupil_premium, students.eal
    assert spec.values(pp & eal) == {1: False, 2: False, 3: None}
    assert spec.values(pp | eal) == {1: True, 2: None, 3: True}
    assert spec.values(~eal) == {1: True, 2: None, 3: False}
    assert spec.values(pp & True) == {1: True, 2: False, 3: None}


def test_integer_and_float_arithmetic(spec):
    maths, reading = students.ks2_maths, students.ks2_reading
    assert spec.values(maths + reading) == {1: 205, 2: None, 3: None}
    assert spec.values(maths - 100) == {1: 0, 2: -10, 3: None}
    assert spec.values(maths * 2) == {1: 200, 2: 180, 3: None}
    assert spec.values(-maths) == {1: -100, 2: -90, 3: None}
    assert spec.values(students.attendance_percent + 1) == {1: 93.5, 2: 81.0, 3: None}


def test_true_division_gives_floats_and_null_for_zero(spec):
    assert spec.values(students.ks2_maths / 8) == {1: 12.5, 2: 11.25, 3: None}
    assert spec.values(students.ks2_maths / (students.ks2_maths - 90)) == {
        1: 10.0,
        2: None,
        3: None,
    }


def test_division_keeps_full_precision(spec):
    assert spec.values(students.attendance_percent / 3) == {1: 92.5 / 3, 2: 80.0 / 3, 3: None}
    assert spec.values(students.ks2_maths / 0.7) == {1: 100 / 0.7, 2: 90 / 0.7, 3: None}


def test_floor_division_rounds_down(spec):
    assert spec.values(students.ks2_maths // 8) == {1: 12, 2: 11, 3: None}
    assert spec.values(-students.ks2_maths // 8) == {1: -13, 2: -12, 3: None}
    assert spec.values(students.ks2_maths // 0) == {1: None, 2: None, 3: None}


def test_casts(spec):
    assert spec.values(students.attendance_percent.as_int()) == {1: 92, 2: 80, 3: None}
    assert spec.values((-students.attendance_percent).as_int()) == {1: -92, 2: -80, 3: None}
    values = spec.values(students.ks2_maths.as_float())
    assert values == {1: 100.0, 2: 90.0, 3: None}
    assert isinstance(values[1], float)


def test_is_in(spec):
    assert spec.values(students.year_group.is_in(["7", "11"])) == {1: True, 2: False, 3: True}
    assert spec.values(students.ks2_reading.is_in([105])) == {1: True, 2: None, 3: None}
    assert spec.values(students.ks2_reading.is_not_in([105])) == {1: False, 2: None, 3: None}
    assert spec.values(students.ks2_maths.is_in([])) == {1: False, 2: False, 3: False}


def test_map_values(spec):
    key_stage = students.year_group.map_values({"7": "KS3", "8": "KS3"}, default="other")
    assert spec.values(key_stage) == {1: "KS3", 2: "KS3", 3: "other"}
    assert spec.values(students.eal.map_values({True: 1, False: 0})) == {1: 0, 2: None, 3: 1}


def test_case_takes_the_first_true_branch(spec):
    band = case(
        when(students.ks2_maths >= 110).then("higher"),
        when(students.ks2_maths >= 100).then("expected"),
        when(students.ks2_maths < 100).then("below"),
    )
    assert spec.values(band) == {1: "expected", 2: "below", 3: None}
    with_default = case(when(students.ks2_maths >= 100).then(1), otherwise=0)
    assert spec.values(with_default) == {1: 1, 2: 0, 3: 0}


def test_case_mixing_integers_and_floats_gives_floats(spec):
    mixed = case(when(students.eal).then(students.attendance_percent), otherwise=0)
    values = spec.values(mixed)
    assert values == {1: 0.0, 2: 0.0, 3: None}
    assert isinstance(values[1], float)


def test_maximum_of_and_minimum_of_ignore_nulls(spec):
    maths, reading = students.ks2_maths, students.ks2_reading
    assert spec.values(maximum_of(maths, reading, 95)) == {1: 105, 2: 95, 3: 95}
    assert spec.values(minimum_of(maths, reading)) == {1: 100, 2: 90, 3: None}
    values = spec.values(maximum_of(maths, 95.5))
    assert values == {1: 100.0, 2: 95.5, 3: 95.5}
    assert isinstance(values[1], float)


def test_string_contains_is_case_sensitive(spec):
    spec.tables(
        students="""
            pupil_id | year_group
            1        | Year 10
            2        | year 10
            3        |
        """
    )
    assert spec.values(students.year_group.contains("Year")) == {1: True, 2: False, 3: None}
    assert spec.values(students.year_group.contains("%")) == {1: False, 2: False, 3: None}


def test_string_comparison_is_by_code_point(spec):
    spec.tables(
        students="""
            pupil_id | year_group
            1        | a
            2        | B
            3        | é
        """
    )
    assert spec.values(students.year_group < "b") == {1: True, 2: True, 3: False}
