"""Measures: ratios per group and interval, on every engine, with and without disclosure control.

Each test gives small tables, defines measures and lists the rows they must give:
(measure, interval_start, interval_end, ratio, numerator, denominator, *group columns).
"""

import datetime
from pathlib import Path

import pytest

from ehrql_schools.engines.in_memory import InMemoryEngine
from ehrql_schools.loader import load_measures_definition
from ehrql_schools.measures import (
    INTERVAL,
    academic_years,
    compile_measures,
    compute_measures,
    create_measures,
    months,
    terms,
    weeks,
    years,
)
from ehrql_schools.query_language import QueryError
from ehrql_schools.school_year import enrolment_on, sessions_missed, sessions_possible
from ehrql_schools.tables.schools import (
    class_memberships,
    exclusions,
    pupil_characteristics,
    pupils,
    teachers,
)

Y2022 = ("2022-09-01", "2023-08-31")
Y2023 = ("2023-09-01", "2024-08-31")

PUPILS = """
    pupil_id | sex
    1        | F
    2        | M
    3        | F
    4        | M
"""

# Pupil 1 is at school 10 both years; 2 leaves after 2022/23; 3 joins school 11 in 2023/24;
# 4 is never enrolled.
ENROLMENTS = """
    pupil_id | enrolment_id | school_id | start_date | end_date   | year_group
    1        | 1            | 10        | 2022-09-01 | 2024-08-31 | 7
    2        | 2            | 10        | 2022-09-01 | 2023-08-31 | 8
    3        | 3            | 11        | 2023-09-01 | 2024-08-31 | 7
"""


def enrolled_measures(**disclosure):
    """Girls among the pupils enrolled on the first day of each academic year, by school."""
    measures = create_measures()
    enrolment = enrolment_on(INTERVAL.start_date)
    measures.define_measure(
        "girls",
        numerator=pupils.sex == "F",
        denominator=enrolment.exists_for_pupil(),
        group_by={"school": enrolment.school_id},
        intervals=academic_years(2022, 2023),
    )
    measures.configure_disclosure_control(**disclosure)
    return measures


def test_bool_numerator_by_school_and_academic_year(spec):
    spec.tables(pupils=PUPILS, enrolments=ENROLMENTS)
    assert spec.measures_rows(enrolled_measures(enabled=False)) == [
        ("girls", *Y2022, 0.5, 1, 2, 10),
        ("girls", *Y2023, 1.0, 1, 1, 10),
        ("girls", *Y2023, 1.0, 1, 1, 11),
    ]


def test_one_row_per_interval_without_groups_and_several_measures(spec):
    spec.tables(pupils=PUPILS, enrolments=ENROLMENTS)
    measures = create_measures()
    enrolment = enrolment_on(INTERVAL.start_date)
    measures.define_defaults(
        denominator=enrolment.exists_for_pupil(), intervals=years(2).starting_on("2022-09-01")
    )
    measures.define_measure("girls", numerator=pupils.sex == "F", group_by={})
    measures.define_measure(
        "boys", numerator=pupils.sex == "M", group_by={"year_group": enrolment.year_group}
    )
    measures.configure_disclosure_control(enabled=False)
    assert spec.measures_rows(measures) == [
        ("girls", *Y2022, 0.5, 1, 2, None),
        ("girls", *Y2023, 1.0, 2, 2, None),
        ("boys", *Y2022, 0.0, 0, 1, "7"),
        ("boys", *Y2022, 1.0, 1, 1, "8"),
        ("boys", *Y2023, 0.0, 0, 2, "7"),
    ]


def test_integer_numerator_and_denominator_over_month_intervals(spec):
    spec.tables(
        pupils=PUPILS,
        attendance_sessions="""
            pupil_id | date       | session | attendance_code
            1        | 2024-09-02 | AM      | /
            1        | 2024-09-02 | PM      | N
            1        | 2024-10-01 | AM      | I
            2        | 2024-09-03 | AM      | /
            2        | 2024-09-03 | PM      | X
            3        | 2024-09-03 | AM      | X
        """,
    )
    measures = create_measures()
    possible = sessions_possible(INTERVAL.start_date, INTERVAL.end_date)
    measures.define_measure(
        "sessions_missed",
        numerator=sessions_missed(INTERVAL.start_date, INTERVAL.end_date),
        denominator=possible,
        group_by={"sex": pupils.sex},
        intervals=months(2).starting_on("2024-09-01"),
    )
    measures.configure_disclosure_control(enabled=False)
    # Pupil 3 has no possible sessions and pupil 4 no marks: neither is counted.
    assert spec.measures_rows(measures) == [
        ("sessions_missed", "2024-09-01", "2024-09-30", 0.5, 1, 2, "F"),
        ("sessions_missed", "2024-09-01", "2024-09-30", 0.0, 0, 1, "M"),
        ("sessions_missed", "2024-10-01", "2024-10-31", 1.0, 1, 1, "F"),
    ]


def test_group_by_class_and_characteristics_with_a_null_group(spec):
    spec.tables(
        pupils=PUPILS,
        class_memberships="""
            pupil_id | class_id | start_date | end_date
            1        | 100      | 2023-09-01 | 2024-07-20
            2        | 100      | 2023-09-01 | 2024-07-20
            3        | 101      | 2023-09-01 | 2024-07-20
            4        | 101      | 2023-09-01 | 2024-07-20
        """,
        pupil_characteristics="""
            pupil_id | census_date | fsm
            1        | 2023-10-05  | T
            2        | 2023-10-05  | F
            3        | 2023-10-05  | T
        """,
        exclusions="""
            pupil_id | exclusion_id | start_date
            1        | 1            | 2024-01-10
            3        | 2            | 2023-06-01
            4        | 3            | 2024-02-01
        """,
    )
    memberships = class_memberships.where(
        class_memberships.start_date.is_on_or_before(INTERVAL.end_date)
        & class_memberships.end_date.is_on_or_after(INTERVAL.start_date)
    )
    census = pupil_characteristics.where(
        pupil_characteristics.census_date.is_on_or_between(INTERVAL.start_date, INTERVAL.end_date)
    )
    excluded = exclusions.where(
        exclusions.start_date.is_on_or_between(INTERVAL.start_date, INTERVAL.end_date)
    )
    measures = create_measures()
    measures.define_measure(
        "excluded",
        numerator=excluded.exists_for_pupil(),
        denominator=memberships.exists_for_pupil(),
        group_by={
            "class_id": memberships.sort_by(memberships.class_id).last_for_pupil().class_id,
            "fsm": census.sort_by(census.census_date).last_for_pupil().fsm,
        },
        intervals=academic_years(2023),
    )
    measures.configure_disclosure_control(enabled=False)
    assert spec.measures_rows(measures) == [
        ("excluded", *Y2023, 0.0, 0, 1, 100, False),
        ("excluded", *Y2023, 1.0, 1, 1, 100, True),
        ("excluded", *Y2023, 1.0, 1, 1, 101, None),
        ("excluded", *Y2023, 0.0, 0, 1, 101, True),
    ]


def test_teacher_measures_by_teacher_characteristic(spec):
    spec.tables(
        teachers="""
            teacher_id | sex | qts_status | qts_year
            1          | F   | qualified  | 2010
            2          | F   | qualified  | 2023
            3          | M   | trainee    |
        """
    )
    measures = create_measures()
    measures.define_measure(
        "qualified_this_year",
        numerator=teachers.qts_year == INTERVAL.start_date.year,
        denominator=teachers.exists_for_teacher(),
        group_by={"sex": teachers.sex},
        intervals=academic_years(2023),
    )
    measures.configure_disclosure_control(enabled=False)
    assert spec.measures_rows(measures) == [
        ("qualified_this_year", *Y2023, 0.5, 1, 2, "F"),
        ("qualified_this_year", *Y2023, 0.0, 0, 1, "M"),
    ]


def many_pupils(girls: int, boys: int, school_id: int, first_id: int) -> tuple[str, str]:
    """Pupil and enrolment rows (without headers) for one school's pupils."""
    ids = range(first_id, first_id + girls + boys)
    pupil_rows = "\n".join(f"{i} | {'F' if i - first_id < girls else 'M'}" for i in ids)
    enrolment_rows = "\n".join(f"{i} | {i} | {school_id} | 2022-09-01 | 2024-08-31" for i in ids)
    return pupil_rows, enrolment_rows


@pytest.fixture
def two_schools(spec):
    """School 10: 12 girls of 23 pupils. School 11: 3 girls of 5 pupils."""
    pupils_10, enrolments_10 = many_pupils(12, 11, school_id=10, first_id=1)
    pupils_11, enrolments_11 = many_pupils(3, 2, school_id=11, first_id=100)
    spec.tables(
        pupils=f"pupil_id | sex\n{pupils_10}\n{pupils_11}",
        enrolments=(
            "pupil_id | enrolment_id | school_id | start_date | end_date\n"
            f"{enrolments_10}\n{enrolments_11}"
        ),
    )
    return spec


def test_disclosure_control_is_on_by_default_redacting_and_rounding(two_schools):
    measures = create_measures()
    enrolment = enrolment_on(INTERVAL.start_date)
    measures.define_measure(
        "girls",
        numerator=pupils.sex == "F",
        denominator=enrolment.exists_for_pupil(),
        group_by={"school": enrolment.school_id},
        intervals=academic_years(2022),
    )
    # 12 -> 10 and 23 -> 25, ratio recomputed; 3 and 5 are 7 or fewer: redacted.
    assert two_schools.measures_rows(measures) == [
        ("girls", *Y2022, 10 / 25, 10, 25, 10),
        ("girls", *Y2022, None, None, None, 11),
    ]


def test_disclosure_control_srs_profile(two_schools):
    assert two_schools.measures_rows(enrolled_measures(profile="srs")) == [
        ("girls", *Y2022, 12 / 23, 12, 23, 10),
        ("girls", *Y2022, None, None, None, 11),
        ("girls", *Y2023, 12 / 23, 12, 23, 10),
        ("girls", *Y2023, None, None, None, 11),
    ]


def test_disclosure_control_overrides(two_schools):
    measures = enrolled_measures(profile="srs", threshold=3, rounding="base", base=10)
    # srs is "fewer than": 3 is kept, then rounded to 0; 5 -> 10; 12 -> 10; 23 -> 20
    assert two_schools.measures_rows(measures)[:2] == [
        ("girls", *Y2022, 10 / 20, 10, 20, 10),
        ("girls", *Y2022, 0.0, 0, 10, 11),
    ]


def test_the_output_records_the_disclosure_control(two_schools):
    engine = two_schools.engine()
    frame = compute_measures(compile_measures(enrolled_measures()), engine)
    assert set(frame["disclosure_control"]) == {
        "opensafely: counts of 7 or fewer redacted; counts rounded to the nearest 5; ratios "
        "recomputed from the controlled counts"
    }
    assert frame.attrs["disclosure_notes"]["numerator"] == ["rounded", "redacted"] * 2
    disabled = compute_measures(compile_measures(enrolled_measures(enabled=False)), engine)
    assert set(disabled["disclosure_control"]) == {"disabled in the measures definition"}
    assert list(disabled.columns) == [
        "measure",
        "interval_start",
        "interval_end",
        "ratio",
        "numerator",
        "denominator",
        "school",
        "disclosure_control",
    ]


def test_midpoint6_profile_renames_count_columns():
    measures = enrolled_measures(threshold=None, rounding="midpoint6")
    engine = InMemoryEngine({"pupils": [], "enrolments": []})
    frame = compute_measures(compile_measures(measures), engine)
    assert list(frame.columns)[4:6] == ["numerator_midpoint6", "denominator_midpoint6"]


# Intervals (no engine needed)


def dates(*pairs: tuple[str, str]) -> list[tuple[datetime.date, datetime.date]]:
    return [tuple(datetime.date.fromisoformat(day) for day in pair) for pair in pairs]


def test_intervals():
    assert years(2).starting_on("2022-09-01") == dates(Y2022, Y2023)
    assert academic_years(2022, 2023) == dates(Y2022, Y2023)
    assert months(2).ending_on("2024-02-29") == dates(
        ("2024-01-01", "2024-01-31"), ("2024-02-01", "2024-02-29")
    )
    assert weeks(2).starting_on("2024-09-02") == dates(
        ("2024-09-02", "2024-09-08"), ("2024-09-09", "2024-09-15")
    )
    assert terms(2024) == dates(
        ("2024-09-01", "2024-12-31"), ("2025-01-01", "2025-03-31"), ("2025-04-01", "2025-08-31")
    )


# Errors and the loader


def test_measure_errors():
    measures = create_measures()
    denominator = pupils.exists_for_pupil()
    intervals = academic_years(2024)
    with pytest.raises(QueryError, match="boolean or integer series, not a string"):
        measures.define_measure("m", pupils.sex, denominator, {}, intervals)
    with pytest.raises(QueryError, match="needs intervals"):
        measures.define_measure("m", denominator, denominator, {})
    with pytest.raises(QueryError, match="mixes pupil and teacher"):
        measures.define_measure("m", teachers.exists_for_teacher(), denominator, {}, intervals)
    with pytest.raises(QueryError, match="output column"):
        measures.define_measure("m", denominator, denominator, {"ratio": pupils.sex}, intervals)
    with pytest.raises(QueryError, match="unknown disclosure setting"):
        measures.configure_disclosure_control(treshold=3)
    with pytest.raises(QueryError, match="no measures are defined"):
        compile_measures(measures)


def test_load_measures_definition(tmp_path: Path):
    path = tmp_path / "measures.py"
    path.write_text(
        "from ehrql_schools import get_parameter\n"
        "from ehrql_schools.measures import create_measures, academic_years\n"
        "from ehrql_schools.tables.schools import pupils\n"
        "measures = create_measures()\n"
        "measures.define_measure('girls', pupils.sex == 'F', pupils.exists_for_pupil(), {},\n"
        "    academic_years(int(get_parameter('year'))))\n"
    )
    model = load_measures_definition(path, {"year": "2024"})
    assert model.measure_names == ("girls",)
    assert [(q.interval_start, q.interval_end) for q in model.queries] == [
        ("2024-09-01", "2025-08-31")
    ]
    assert model.disclosure_control == {"enabled": True, "profile": "opensafely"}
    (tmp_path / "empty.py").write_text("x = 1\n")
    with pytest.raises(QueryError, match="defines no measures"):
        load_measures_definition(tmp_path / "empty.py")
