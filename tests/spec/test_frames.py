"""Frames: where, except_where, sort_by with first/last, exists and count."""

from ehrql_schools.tables.schools import exclusions, pupils, results

PUPILS = """
    pupil_id
    1
    2
    3
"""
EXCLUSIONS = """
    pupil_id | exclusion_id | start_date | sessions | category
    1        | 10           | 2024-01-10 | 2        | suspension
    1        | 11           | 2024-03-01 | 4        | suspension
    1        | 12           | 2024-02-01 |          | permanent
    2        | 20           | 2023-11-05 | 1        | suspension
"""


def test_exists_and_count(spec):
    spec.tables(pupils=PUPILS, exclusions=EXCLUSIONS)
    assert spec.values(exclusions.exists_for_pupil()) == {1: True, 2: True, 3: False}
    assert spec.values(exclusions.count_for_pupil()) == {1: 3, 2: 1, 3: 0}


def test_where_keeps_rows_whose_condition_is_true_not_null(spec):
    spec.tables(pupils=PUPILS, exclusions=EXCLUSIONS)
    longer = exclusions.where(exclusions.sessions > 1)
    assert spec.values(longer.count_for_pupil()) == {1: 2, 2: 0, 3: 0}


def test_except_where_drops_rows_whose_condition_is_true_and_keeps_null(spec):
    spec.tables(pupils=PUPILS, exclusions=EXCLUSIONS)
    shorter = exclusions.except_where(exclusions.sessions > 1)
    assert spec.values(shorter.count_for_pupil()) == {1: 1, 2: 1, 3: 0}


def test_where_chains(spec):
    spec.tables(pupils=PUPILS, exclusions=EXCLUSIONS)
    frame = exclusions.where(exclusions.category == "suspension")
    frame = frame.where(frame.start_date.is_on_or_after("2024-01-01"))
    assert spec.values(frame.count_for_pupil()) == {1: 2, 2: 0, 3: 0}


def test_first_and_last_for_pupil(spec):
    spec.tables(pupils=PUPILS, exclusions=EXCLUSIONS)
    ordered = exclusions.sort_by(exclusions.start_date)
    assert spec.values(ordered.first_for_pupil().exclusion_id) == {1: 10, 2: 20, 3: None}
    assert spec.values(ordered.last_for_pupil().exclusion_id) == {1: 11, 2: 20, 3: None}


def test_a_picked_row_exists_when_there_were_rows(spec):
    spec.tables(pupils=PUPILS, exclusions=EXCLUSIONS)
    latest = exclusions.sort_by(exclusions.start_date).last_for_pupil()
    assert spec.values(latest.exists_for_pupil()) == {1: True, 2: True, 3: False}


def test_sort_puts_nulls_first(spec):
    spec.tables(pupils=PUPILS, exclusions=EXCLUSIONS)
    ordered = exclusions.sort_by(exclusions.sessions)
    assert spec.values(ordered.first_for_pupil().exclusion_id) == {1: 12, 2: 20, 3: None}
    assert spec.values(ordered.last_for_pupil().exclusion_id) == {1: 11, 2: 20, 3: None}


def test_sort_by_several_keys(spec):
    spec.tables(
        pupils=PUPILS,
        exclusions="""
            pupil_id | exclusion_id | start_date | sessions
            1        | 10           | 2024-01-10 | 2
            1        | 11           | 2024-01-10 | 1
            1        | 12           | 2024-01-09 | 9
        """,
    )
    ordered = exclusions.sort_by(exclusions.start_date, exclusions.sessions)
    assert spec.values(ordered.last_for_pupil().exclusion_id) == {1: 10, 2: None, 3: None}


def test_sort_ties_are_broken_by_the_rest_of_the_row(spec):
    # Same start date: the tie is broken by the columns in schema order (exclusion_id first).
    spec.tables(
        pupils=PUPILS,
        exclusions="""
            pupil_id | exclusion_id | start_date | sessions
            1        | 11           | 2024-01-10 | 2
            1        | 10           | 2024-01-10 | 3
            2        | 20           | 2024-01-10 |
            2        | 20           | 2024-01-10 | 1
        """,
    )
    ordered = exclusions.sort_by(exclusions.start_date)
    assert spec.values(ordered.first_for_pupil().sessions) == {1: 3, 2: None, 3: None}
    assert spec.values(ordered.last_for_pupil().sessions) == {1: 2, 2: 1, 3: None}


def test_sort_after_where_and_where_after_sort(spec):
    spec.tables(pupils=PUPILS, exclusions=EXCLUSIONS)
    suspensions = exclusions.where(exclusions.category == "suspension")
    latest = suspensions.sort_by(suspensions.start_date).last_for_pupil()
    assert spec.values(latest.exclusion_id) == {1: 11, 2: 20, 3: None}
    ordered = exclusions.sort_by(exclusions.start_date)
    early = ordered.where(ordered.start_date < "2024-02-15").last_for_pupil()
    assert spec.values(early.exclusion_id) == {1: 12, 2: 20, 3: None}


def test_one_row_per_pupil_table(spec):
    spec.tables(
        pupils="""
            pupil_id | sex | date_of_birth
            1        | F   | 2010-03-01
            2        | M   |
        """
    )
    assert spec.values(pupils.sex) == {1: "F", 2: "M"}
    assert spec.values(pupils.date_of_birth.year) == {1: 2010, 2: None}


def test_the_pilot_results_view(spec):
    spec.tables(
        pupils=PUPILS,
        results="""
            pupil_id | result_id | teacher_id | subject | result_date | score_percent
            1        | 1         | 7          | maths   | 2024-11-01  | 55.5
            1        | 2         |            | maths   | 2025-03-01  | 61.0
            1        | 3         | 8          | english | 2025-03-01  | 70.0
            2        | 4         | 9          | maths   | 2025-03-01  |
        """,
    )
    maths = results.where(results.subject == "maths")
    taught = maths.where(maths.teacher_id.is_not_null())
    assert spec.values(taught.sort_by(taught.result_date).last_for_pupil().teacher_id) == {
        1: 7,
        2: 9,
        3: None,
    }
    assert spec.values(maths.score_percent.mean_for_pupil()) == {1: 58.25, 2: None, 3: None}
