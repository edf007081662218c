"""Rows on the other side of a foreign key (a class's lessons and teachers), one expression away
from any row that reaches the class, aggregated per that row."""

import datetime

import pytest

from ehrql_schools.query_language import QueryError
from ehrql_schools.tables.schools import class_memberships, classes, pupils, teachers

TABLES = {
    "pupils": """
        pupil_id
        1
        2
        3
    """,
    "classes": """
        class_id | subject | set_rank
        100      | maths   | 1
        101      | maths   | 4
        102      | english |
    """,
    "class_memberships": """
        pupil_id | class_id | start_date | end_date
        1        | 100      | 2024-09-01 | 2025-07-20
        1        | 102      | 2024-09-01 | 2025-07-20
        2        | 101      | 2024-09-01 | 2025-07-20
        3        | 102      | 2024-09-01 | 2025-07-20
    """,
    "class_teachers": """
        teacher_id | class_id | role   | share_percent
        7          | 100      | main   | 60
        8          | 100      | shared | 40
        9          | 101      | main   | 100
    """,
    "lessons": """
        lesson_id | class_id | date       | start_time | end_time | teacher_id | is_cover
        1         | 100      | 2024-09-02 | 09:00      | 10:00    | 7          | F
        2         | 100      | 2024-09-03 | 13:00      | 14:00    | 7          | F
        3         | 100      | 2024-09-04 | 12:00      | 13:00    | 8          | T
        4         | 100      | 2024-09-05 | 11:00      | 12:00    | 7          | F
        5         | 101      | 2024-09-02 | 14:00      | 15:00    | 9          | F
        6         | 102      | 2024-09-02 | 14:00      | 15:00    | 9          | F
    """,
}


@pytest.fixture
def maths_class(spec):
    spec.tables(**TABLES)
    maths = class_memberships.where(class_memberships.class_.subject == "maths")
    return maths.sort_by(maths.start_date).last_for_pupil().class_


def test_the_pupils_maths_teacher(spec, maths_class):
    main = maths_class.class_teachers.where(maths_class.class_teachers.role == "main")
    assert spec.values(main.sort_by(main.share_percent).last().teacher_id) == {
        1: 7,
        2: 9,
        3: None,
    }
    ranked = maths_class.class_teachers.sort_by(maths_class.class_teachers.share_percent)
    assert spec.values(ranked.last().teacher_id) == {1: 7, 2: 9, 3: None}


def test_share_of_the_pupils_maths_lessons_after_noon(spec, maths_class):
    lessons = maths_class.lessons
    after_noon = lessons.where(lessons.start_time.is_on_or_after("12:00"))
    share = after_noon.count() / lessons.count()
    assert spec.values(share) == {1: 0.5, 2: 1.0, 3: None}


def test_set_rank_of_the_pupils_maths_class(spec, maths_class):
    assert spec.values(maths_class.set_rank) == {1: 1, 2: 4, 3: None}


def test_aggregating_related_rows_per_row_of_a_pupil_table(spec):
    spec.tables(**TABLES)
    lessons = class_memberships.class_.lessons
    covered = lessons.where(lessons.is_cover).count()
    # Per membership row: lessons of that class taught by cover; then summed per pupil.
    assert spec.values(covered.sum_for_pupil()) == {1: 1, 2: 0, 3: 0}
    teachers_of_class = class_memberships.class_.class_teachers.teacher_id.count_distinct()
    assert spec.values(teachers_of_class.maximum_for_pupil()) == {1: 2, 2: 1, 3: 0}
    assert spec.values(lessons.exists().count_distinct_for_pupil()) == {1: 1, 2: 1, 3: 1}
    first_lesson = lessons.sort_by(lessons.date, lessons.start_time).first()
    assert spec.values(first_lesson.lesson_id.minimum_for_pupil()) == {1: 1, 2: 5, 3: 6}


def test_lookups_from_related_rows(spec):
    spec.tables(
        **TABLES,
        teachers="""
            teacher_id | qts_status
            7          | QTS
            8          | none
            9          | QTS
        """,
    )
    lessons = class_memberships.class_.lessons
    by_unqualified = lessons.where(lessons.teacher.qts_status == "none").count()
    assert spec.values(by_unqualified.sum_for_pupil()) == {1: 1, 2: 0, 3: 0}


def test_teachers_reach_their_lessons(spec):
    spec.tables(
        teachers="""
            teacher_id
            7
            8
            10
        """,
        lessons=TABLES["lessons"],
    )
    afternoon = teachers.lessons.where(teachers.lessons.start_time >= "12:00")
    assert spec.values(afternoon.count()) == {7: 1, 8: 1, 10: 0}
    assert spec.values(teachers.lessons.date.maximum()) == {
        7: datetime.date(2024, 9, 5),
        8: datetime.date(2024, 9, 4),
        10: None,
    }


def test_related_rows_cannot_mix_with_pupil_values():
    lessons = class_memberships.class_.lessons
    with pytest.raises(QueryError, match="only with each other and with constants"):
        lessons.where(lessons.date > pupils.date_of_birth)
    with pytest.raises(QueryError, match="use count\\(\\) for one value per row"):
        class_memberships.class_.class_teachers.count_for_teacher()
    with pytest.raises(QueryError, match="use count_for_pupil\\(\\) here"):
        class_memberships.count()
    with pytest.raises(QueryError, match="use maximum\\(\\) for one value per row"):
        lessons.date.maximum_for_pupil()
    with pytest.raises(QueryError, match="reference table"):
        classes.lessons.count()
