"""Event-level tables: one output row per row of a frame (one per assessment result, say) for each
pupil or teacher in the population, next to the dataset's one row per pupil or teacher."""

import datetime
import inspect

import pytest

from ehrql_schools.query_language import QueryError, compile_dataset, create_dataset, years
from ehrql_schools.tables.schools import (
    assessment_results,
    class_memberships,
    class_teachers,
    ks2_results,
    pupils,
    teachers,
)

TABLES = {
    "pupils": """
        pupil_id | sex | date_of_birth
        1        | F   | 2012-01-15
        2        | M   | 2012-06-01
        3        | F   | 2012-03-01
        4        | F   | 2012-04-01
    """,
    "assessments": """
        assessment_id | subject | window_start | name
        500           | maths   | 2024-11-01   | Autumn maths
        501           | maths   | 2025-03-01   | Spring maths
        502           | english | 2024-11-01   | Autumn English
    """,
    "classes": """
        class_id | subject | set_rank
        100      | maths   | 1
        101      | maths   | 3
        102      | english |
    """,
    "class_teachers": """
        teacher_id | class_id | role   | share_percent
        7          | 100      | main   | 60
        8          | 100      | main   | 40
        9          | 101      | main   | 100
        8          | 102      | shared | 50
    """,
    "assessment_results": """
        result_id | pupil_id | assessment_id | result_date | class_id | result_percent
        10        | 1        | 501           | 2025-03-05  | 100      | 70.0
        11        | 1        | 500           | 2024-11-04  | 100      | 55.5
        12        | 1        | 502           | 2024-11-04  | 102      | 60.0
        13        | 2        | 500           | 2024-11-06  |          |
        14        | 2        | 501           | 2025-03-02  | 101      | 40.0
        15        | 3        | 500           | 2024-11-04  | 100      | 90.0
    """,
    "ks2_results": """
        pupil_id | academic_year | subject | scaled_score
        1        | 2022          | maths   | 104
        2        | 2022          | reading | 99
    """,
}


@pytest.fixture
def maths(spec):
    spec.tables(**TABLES)
    return assessment_results.where(assessment_results.assessment.subject == "maths")


def pupils_1_and_2():
    dataset = create_dataset()
    dataset.define_population(pupils.exists_for_pupil() & (pupils.pupil_id <= 2))
    return dataset


def test_one_row_per_result_with_lookups_and_related_rows(spec, maths):
    dataset = pupils_1_and_2()
    main = maths.class_.class_teachers.where(maths.class_.class_teachers.role == "main")
    ks2_maths = ks2_results.where(ks2_results.subject == "maths").scaled_score
    dataset.add_event_table(
        "maths_results",
        date=maths.assessment.window_start,
        percent=maths.result_percent,
        class_set=maths.class_.set_rank,
        teacher=main.sort_by(main.share_percent).last().teacher_id,
        teachers=maths.class_.class_teachers.count(),
        ks2=ks2_maths.maximum_for_pupil(),
    )
    nov, mar = datetime.date(2024, 11, 1), datetime.date(2025, 3, 1)
    # Rows in the order of the table's columns: result_id first.
    assert spec.event_rows(dataset, "maths_results") == [
        (1, mar, 70.0, 1, 7, 2, 104),
        (1, nov, 55.5, 1, 7, 2, 104),
        (2, nov, None, None, None, 0, None),
        (2, mar, 40.0, 3, 9, 1, None),
    ]


def test_sorted_rows_come_in_sort_order_with_ties_broken_by_the_rest_of_the_row(spec):
    spec.tables(**TABLES)
    dataset = create_dataset()
    dataset.define_population(pupils.exists_for_pupil())
    by_date = assessment_results.sort_by(assessment_results.result_date)
    dataset.add_event_table("by_date", result=by_date.result_id, date=by_date.result_date)
    by_percent = assessment_results.sort_by(assessment_results.result_percent)
    dataset.add_event_table("by_percent", result=by_percent.result_id)
    d = datetime.date
    # Results 11 and 12 tie on date: result_id breaks the tie. Pupil 4 has no results.
    assert spec.event_rows(dataset, "by_date") == [
        (1, 11, d(2024, 11, 4)),
        (1, 12, d(2024, 11, 4)),
        (1, 10, d(2025, 3, 5)),
        (2, 13, d(2024, 11, 6)),
        (2, 14, d(2025, 3, 2)),
        (3, 15, d(2024, 11, 4)),
    ]
    # Nulls first.
    assert spec.event_rows(dataset, "by_percent") == [
        (1, 11),
        (1, 12),
        (1, 10),
        (2, 13),
        (2, 14),
        (3, 15),
    ]
    # Filtering sorted rows keeps their order.
    not_11 = by_date.where(by_date.result_id != 11)
    dataset.add_event_table("not_11", result=not_11.result_id)
    assert spec.event_rows(dataset, "not_11") == [(1, 12), (1, 10), (2, 13), (2, 14), (3, 15)]


def test_rows_only_for_the_population(spec, maths):
    dataset = create_dataset()
    dataset.define_population(pupils.sex == "F")
    dataset.add_event_table("maths_results", result=maths.result_id)
    # Pupil 2 is not in the population; pupil 4 is but has no maths results.
    assert spec.event_rows(dataset, "maths_results") == [(1, 10), (1, 11), (3, 15)]
    # The dataset itself is unchanged by its event tables.
    dataset.maths_results = maths.count_for_pupil()
    assert spec.rows(dataset) == [(1, 2), (3, 1), (4, 0)]


def test_per_pupil_values_and_constants_are_repeated_on_each_row(spec, maths):
    dataset = pupils_1_and_2()
    dataset.add_event_table(
        "maths_results",
        result=maths.result_id,
        sex=pupils.sex,
        results=maths.count_for_pupil(),
        latest=maths.sort_by(maths.result_date).last_for_pupil().result_id,
        age=(maths.result_date - pupils.date_of_birth).years,
        source="mis",
        above_half=maths.result_percent > 50,
    )
    assert spec.event_rows(dataset, "maths_results") == [
        (1, 10, "F", 2, 10, 13, "mis", True),
        (1, 11, "F", 2, 10, 12, "mis", True),
        (2, 13, "M", 2, 14, 12, "mis", None),
        (2, 14, "M", 2, 14, 12, "mis", False),
    ]


def test_filters_may_use_per_pupil_values(spec):
    spec.tables(**TABLES)
    dataset = create_dataset()
    dataset.define_population(pupils.exists_for_pupil())
    aged_13 = assessment_results.where(
        assessment_results.result_date >= pupils.date_of_birth + years(13)
    )
    dataset.add_event_table("aged_13", result=aged_13.result_id, born=pupils.date_of_birth)
    assert spec.event_rows(dataset, "aged_13") == [(1, 10, datetime.date(2012, 1, 15))]


def test_columns_may_come_from_the_frame_a_frame_was_filtered_from(spec, maths):
    dataset = pupils_1_and_2()
    # Columns of assessment_results and of its filtered maths results: the rows are maths's.
    dataset.add_event_table(
        "maths_results", result=assessment_results.result_id, percent=maths.result_percent
    )
    assert spec.event_rows(dataset, "maths_results") == [
        (1, 10, 70.0),
        (1, 11, 55.5),
        (2, 13, None),
        (2, 14, 40.0),
    ]


def test_columns_added_later_and_several_tables(spec, maths):
    dataset = pupils_1_and_2()
    spec.tables(class_memberships="pupil_id | class_id")
    table = dataset.add_event_table("maths_results", result=maths.result_id)
    table.percent = maths.result_percent
    table.passed = table.percent >= 50
    dataset.add_event_table("memberships", class_id=class_memberships.class_id)
    dataset.results = assessment_results.count_for_pupil()
    assert spec.event_rows(dataset, "maths_results") == [
        (1, 10, 70.0, True),
        (1, 11, 55.5, True),
        (2, 13, None, None),
        (2, 14, 40.0, False),
    ]
    assert spec.event_rows(dataset, "memberships") == []
    assert spec.rows(dataset) == [(1, 3), (2, 2)]
    compiled = compile_dataset(dataset)
    assert compiled.event_table("maths_results").output_columns == (
        ("pupil_id", int),
        ("result", int),
        ("percent", float),
        ("passed", bool),
    )
    if spec.engine_name != "in_memory":
        sql = spec.engine().get_event_table_sql(compiled, "maths_results")
        assert "ORDER BY" in sql


def test_teacher_datasets(spec):
    spec.tables(
        **{**TABLES, "class_teachers": TABLES["class_teachers"] + "7 | 102 | shared | 20"},
        teachers="""
            teacher_id | qts_status
            7          | QTS
            8          | none
            9          | QTS
        """,
        lessons="""
            lesson_id | class_id | date       | teacher_id
            1         | 100      | 2024-09-02 | 7
            2         | 100      | 2024-09-03 | 8
            3         | 101      | 2024-09-02 | 9
        """,
    )
    dataset = create_dataset()
    dataset.define_population(teachers.qts_status == "QTS")
    ranked = class_teachers.sort_by(class_teachers.class_.subject)
    dataset.add_event_table(
        "classes_taught",
        class_id=ranked.class_id,
        subject=ranked.class_.subject,
        share=ranked.share_percent,
        lessons=ranked.class_.lessons.count(),
        qts=teachers.qts_status,
    )
    assert spec.event_rows(dataset, "classes_taught") == [
        (7, 102, "english", 20.0, 0, "QTS"),
        (7, 100, "maths", 60.0, 2, "QTS"),
        (9, 101, "maths", 100.0, 1, "QTS"),
    ]
    assert compile_dataset(dataset).event_table("classes_taught").output_columns[0] == (
        "teacher_id",
        int,
    )


def test_columns_from_two_frames_are_an_error_at_the_users_line():
    dataset = create_dataset()
    dataset.define_population(pupils.exists_for_pupil())
    with pytest.raises(QueryError, match="two different frames") as error:
        line = inspect.currentframe().f_lineno + 1
        dataset.add_event_table("mixed", a=assessment_results.result_id, b=ks2_results.subject)
    assert (error.value.filename, error.value.lineno) == (__file__, line)
    assert "event table mixed" in str(error.value)
    table = dataset.add_event_table("results", a=assessment_results.result_id)
    with pytest.raises(QueryError, match="two different frames"):
        table.b = class_memberships.class_id
    # The table is unchanged by the failed assignment.
    assert [name for name, _ in table._node.columns] == ["a"]


def test_entity_mismatches_are_errors():
    dataset = create_dataset()
    dataset.define_population(teachers.exists_for_teacher())
    with pytest.raises(QueryError, match="rows of a pupil table, but this dataset has one row per"):
        dataset.add_event_table("results", a=assessment_results.result_id)
    with pytest.raises(QueryError, match="cannot combine pupil series with teacher series"):
        dataset.add_event_table("classes", a=class_teachers.class_id, b=pupils.sex)
    # An event table first, then a population of the other entity.
    dataset = create_dataset()
    dataset.add_event_table("results", a=assessment_results.result_id)
    with pytest.raises(QueryError, match="has rows of a pupil table, but the dataset has one row"):
        dataset.define_population(teachers.exists_for_teacher())
    with pytest.raises(QueryError, match="this dataset has one row per pupil"):
        dataset.teacher_sex = teachers.sex


def test_one_row_per_pupil_values_alone_are_not_an_event_table():
    dataset = create_dataset()
    dataset.define_population(pupils.exists_for_pupil())
    latest = assessment_results.sort_by(assessment_results.result_date).last_for_pupil()
    with pytest.raises(QueryError, match="needs a column that varies over a frame with many rows"):
        dataset.add_event_table("latest", result=latest.result_id, sex=pupils.sex)
    with pytest.raises(QueryError, match="needs a column that varies"):
        dataset.add_event_table("constant", one=1)


def test_rows_reached_from_another_row_are_not_an_event_table():
    dataset = create_dataset()
    dataset.define_population(pupils.exists_for_pupil())
    lessons = class_memberships.class_.lessons
    with pytest.raises(QueryError, match="must be rows of a pupil or teacher table"):
        dataset.add_event_table("lessons", lesson_id=lessons.lesson_id)


def test_names_are_checked():
    dataset = create_dataset()
    dataset.define_population(pupils.exists_for_pupil())
    result_id = assessment_results.result_id
    with pytest.raises(QueryError, match="cannot be an event table name"):
        dataset.add_event_table("maths results", result=result_id)
    with pytest.raises(QueryError, match="needs at least one column"):
        dataset.add_event_table("empty")
    with pytest.raises(QueryError, match="pupil_id cannot be a column name"):
        dataset.add_event_table("results", pupil_id=assessment_results.pupil_id)
    with pytest.raises(QueryError, match="cannot be an event table column name"):
        dataset.add_event_table("results", _hidden=result_id)
    with pytest.raises(QueryError, match="always null"):
        dataset.add_event_table("results", result=result_id, nothing=None)
    table = dataset.add_event_table("results", result=result_id)
    with pytest.raises(QueryError, match="already defined"):
        dataset.add_event_table("Results", result=result_id)
    with pytest.raises(QueryError, match="column Result of event table results is already"):
        table.Result = result_id
    with pytest.raises(AttributeError, match="has no column 'mark'"):
        table.mark  # noqa: B018
    with pytest.raises(KeyError, match="no event table 'other'"):
        compile_dataset(dataset).event_table("other")
