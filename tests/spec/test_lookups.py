"""Reaching reference tables from a row through its key columns, without joins."""

from ehrql_schools.tables.schools import (
    assessment_results,
    behaviour_events,
    class_memberships,
    class_teachers,
    pupils,
)

TABLES = {
    "pupils": """
        pupil_id | date_of_birth
        1        | 2011-05-01
        2        | 2011-09-02
        3        | 2012-01-01
    """,
    "schools": """
        school_id | phase
        50        | secondary
    """,
    "classes": """
        class_id | school_id | subject | set_rank | class_code
        100      | 50        | maths   | 1        | 9x/Ma1
        101      | 50        | maths   | 3        | 9x/Ma3
        102      | 50        | english |          | 9x/En1
        103      | 99        | science | 2        | 9x/Sc2
    """,
    "class_memberships": """
        pupil_id | class_id | start_date | end_date
        1        | 100      | 2023-09-01 | 2024-01-31
        1        | 101      | 2024-02-01 | 2024-07-20
        1        | 102      | 2023-09-01 | 2024-07-20
        2        | 102      | 2023-09-01 | 2024-07-20
        2        | 103      | 2023-09-01 | 2024-07-20
    """,
}


def test_set_rank_of_the_pupils_latest_maths_class(spec):
    spec.tables(**TABLES)
    maths = class_memberships.where(class_memberships.class_.subject == "maths")
    latest = maths.sort_by(maths.start_date).last_for_pupil()
    assert spec.values(latest.class_.set_rank) == {1: 3, 2: None, 3: None}
    assert spec.values(latest.class_.class_code) == {1: "9x/Ma3", 2: None, 3: None}


def test_chained_lookups_and_missing_rows_give_null(spec):
    spec.tables(**TABLES)
    phases = class_memberships.class_.school.phase
    secondary = class_memberships.where(phases == "secondary")
    assert spec.values(secondary.count_for_pupil()) == {1: 3, 2: 1, 3: 0}
    unknown = class_memberships.where(phases.is_null())
    assert spec.values(unknown.count_for_pupil()) == {1: 0, 2: 1, 3: 0}


def test_aggregating_looked_up_values(spec):
    spec.tables(**TABLES)
    ranks = class_memberships.class_.set_rank
    assert spec.values(ranks.minimum_for_pupil()) == {1: 1, 2: 2, 3: None}
    subjects = class_memberships.class_.subject.count_distinct_for_pupil()
    assert spec.values(subjects) == {1: 2, 2: 2, 3: 0}


def test_sorting_by_a_looked_up_value(spec):
    spec.tables(**TABLES)
    by_rank = class_memberships.sort_by(class_memberships.class_.set_rank)
    assert spec.values(by_rank.first_for_pupil().class_id) == {1: 102, 2: 102, 3: None}
    assert spec.values(by_rank.last_for_pupil().class_id) == {1: 101, 2: 103, 3: None}


def test_null_keys_find_no_row(spec):
    spec.tables(
        **TABLES,
        assessment_results="""
            pupil_id | result_id | class_id | result_percent
            1        | 1         | 100      | 80
            1        | 2         |          | 40
            2        | 3         | 999      | 50
        """,
    )
    in_maths = assessment_results.where(assessment_results.class_.subject == "maths")
    assert spec.values(in_maths.result_percent.mean_for_pupil()) == {1: 80.0, 2: None, 3: None}
    no_class = assessment_results.where(assessment_results.class_.class_id.is_null())
    assert spec.values(no_class.count_for_pupil()) == {1: 1, 2: 1, 3: 0}


def test_many_rows_compared_with_one_value_per_pupil(spec):
    spec.tables(**TABLES)
    # Classes the pupil joined before turning 12 (one value per pupil inside a row condition).
    before = class_memberships.where(
        (class_memberships.start_date - pupils.date_of_birth).years < 12
    )
    assert spec.values(before.count_for_pupil()) == {1: 0, 2: 2, 3: 0}


def test_rows_compared_with_an_aggregate(spec):
    spec.tables(**TABLES)
    first_start = class_memberships.start_date.minimum_for_pupil()
    later = class_memberships.where(class_memberships.start_date > first_start)
    assert spec.values(later.count_for_pupil()) == {1: 1, 2: 0, 3: 0}


def test_teacher_tables_reach_reference_tables(spec):
    spec.tables(
        teachers="""
            teacher_id
            7
        """,
        classes=TABLES["classes"],
        class_teachers="""
            teacher_id | class_id
            7          | 100
            7          | 101
            7          | 102
        """,
    )
    maths = class_teachers.where(class_teachers.class_.subject == "maths")
    assert spec.values(maths.class_.set_rank.maximum_for_teacher()) == {7: 3}


def test_pupil_rows_reach_teachers_as_reference_rows(spec):
    spec.tables(
        pupils=TABLES["pupils"],
        teachers="""
            teacher_id | qts_status
            7          | QTS
            8          | none
        """,
        behaviour_events="""
            pupil_id | event_id | recorded_by_teacher_id | points
            1        | 1        | 7                      | -1
            1        | 2        | 8                      | -2
            2        | 3        | 8                      | 3
        """,
    )
    by_qualified = behaviour_events.where(behaviour_events.recorded_by_teacher.qts_status == "QTS")
    assert spec.values(by_qualified.points.sum_for_pupil()) == {1: -1, 2: None, 3: None}


def test_times_of_looked_up_lessons(spec):
    spec.tables(
        pupils=TABLES["pupils"],
        lessons="""
            lesson_id | class_id | start_time | end_time
            500       | 100      | 09:00      | 10:00
            501       | 100      | 13:10      | 14:10
        """,
        behaviour_events="""
            pupil_id | event_id | lesson_id | points
            1        | 1        | 500       | -1
            1        | 2        | 501       | -2
            1        | 3        |           | -3
            2        | 4        | 501       | -1
        """,
    )
    lesson = behaviour_events.lesson
    afternoon = behaviour_events.where(lesson.start_time.is_on_or_after("12:00"))
    assert spec.values(afternoon.count_for_pupil()) == {1: 1, 2: 1, 3: 0}
    share = (
        afternoon.count_for_pupil()
        / behaviour_events.where(lesson.lesson_id.is_not_null()).count_for_pupil()
    )
    assert spec.values(share) == {1: 0.5, 2: 1.0, 3: None}
