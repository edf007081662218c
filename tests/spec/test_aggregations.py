"""Aggregations of a many-rows series to one value per pupil (or teacher)."""

import datetime

from ehrql_schools.tables.schools import (
    assessment_results,
    class_teachers,
    pupil_characteristics,
    teacher_contracts,
    teachers,
)

TABLES = {
    "pupils": """
        pupil_id
        1
        2
        3
    """,
    "assessment_results": """
        pupil_id | result_id | raw_result | numeric_result | result_percent
        1        | 1         | 6+         | 6.5            | 60
        1        | 2         | 7          | 7.0            | 70
        1        | 3         | 6+         |                | 65
        2        | 4         | 5          |                |
    """,
}


def test_count_distinct_ignores_nulls(spec):
    spec.tables(**TABLES)
    series = assessment_results.raw_result.count_distinct_for_pupil()
    assert spec.values(series) == {1: 2, 2: 1, 3: 0}
    series = assessment_results.numeric_result.count_distinct_for_pupil()
    assert spec.values(series) == {1: 2, 2: 0, 3: 0}


def test_minimum_and_maximum(spec):
    spec.tables(**TABLES)
    assert spec.values(assessment_results.numeric_result.minimum_for_pupil()) == {
        1: 6.5,
        2: None,
        3: None,
    }
    assert spec.values(assessment_results.raw_result.maximum_for_pupil()) == {
        1: "7",
        2: "5",
        3: None,
    }


def test_sum_and_mean(spec):
    spec.tables(**TABLES)
    assert spec.values(assessment_results.result_percent.sum_for_pupil()) == {
        1: 195.0,
        2: None,
        3: None,
    }
    assert spec.values(assessment_results.result_percent.mean_for_pupil()) == {
        1: 65.0,
        2: None,
        3: None,
    }


def test_sum_of_integers_is_an_integer_and_mean_a_float(spec):
    spec.tables(**TABLES)
    result_ids = assessment_results.result_id
    sums = spec.values(result_ids.sum_for_pupil())
    assert sums == {1: 6, 2: 4, 3: None}
    assert all(isinstance(value, int) for value in sums.values() if value is not None)
    means = spec.values(result_ids.mean_for_pupil())
    assert means == {1: 2.0, 2: 4.0, 3: None}
    assert all(isinstance(value, float) for value in means.values() if value is not None)


def test_aggregation_of_a_filtered_frame(spec):
    spec.tables(**TABLES)
    high = assessment_results.where(assessment_results.result_percent >= 65)
    assert spec.values(high.result_percent.mean_for_pupil()) == {1: 67.5, 2: None, 3: None}


def test_aggregation_of_an_expression(spec):
    spec.tables(**TABLES)
    doubled = (assessment_results.numeric_result * 2).maximum_for_pupil()
    assert spec.values(doubled) == {1: 14.0, 2: None, 3: None}


def test_teacher_aggregations(spec):
    spec.tables(
        teachers="""
            teacher_id
            7
            8
        """,
        class_teachers="""
            teacher_id | class_id | role  | share_percent
            7          | 100      | main  | 100
            7          | 101      | main  | 50
            7          | 101      | cover | 10
        """,
    )
    assert spec.values(class_teachers.class_id.count_distinct_for_teacher()) == {7: 2, 8: 0}
    assert spec.values(class_teachers.share_percent.sum_for_teacher()) == {7: 160.0, 8: None}
    assert spec.values(teachers.exists_for_teacher()) == {7: True, 8: True}


def test_minimum_and_maximum_of_booleans_dates_and_times(spec):
    spec.tables(
        pupils="""
            pupil_id
            1
            2
        """,
        pupil_characteristics="""
            pupil_id | census_date | fsm
            1        | 2024-10-03  | T
            1        | 2025-01-16  | F
            1        | 2025-05-15  |
            2        | 2024-10-03  | F
        """,
    )
    fsm = pupil_characteristics.fsm
    assert spec.values(fsm.minimum_for_pupil()) == {1: False, 2: False}
    assert spec.values(fsm.maximum_for_pupil()) == {1: True, 2: False}
    census = pupil_characteristics.census_date
    assert spec.values(census.maximum_for_pupil()) == {
        1: datetime.date(2025, 5, 15),
        2: datetime.date(2024, 10, 3),
    }
    by_fsm = pupil_characteristics.sort_by(fsm)
    assert spec.values(by_fsm.first_for_pupil().census_date) == {
        1: datetime.date(2025, 5, 15),
        2: datetime.date(2024, 10, 3),
    }
    assert spec.values(by_fsm.last_for_pupil().census_date) == {
        1: datetime.date(2024, 10, 3),
        2: datetime.date(2024, 10, 3),
    }


def test_first_and_last_for_teacher(spec):
    spec.tables(
        teachers="""
            teacher_id
            7
            8
        """,
        teacher_contracts="""
            teacher_id | contract_id | start_date | end_date   | pay_point | fte
            7          | 1           | 2019-09-01 | 2022-08-31 | M3        | 1.0
            7          | 2           | 2022-09-01 |            | U1        | 0.8
        """,
    )
    contracts = teacher_contracts.sort_by(teacher_contracts.start_date)
    assert spec.values(contracts.first_for_teacher().pay_point) == {7: "M3", 8: None}
    assert spec.values(contracts.last_for_teacher().fte) == {7: 0.8, 8: None}
    running = teacher_contracts.where(teacher_contracts.end_date.is_null())
    assert spec.values(running.exists_for_teacher()) == {7: True, 8: False}
