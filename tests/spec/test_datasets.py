"""Datasets: the population chooses the rows; variables are columns; results come in batches."""

import pytest

from ehrql_schools.query_language import (
    QueryError,
    codelist_from_csv,
    create_dataset,
    get_parameter,
    set_parameters,
)
from ehrql_schools.tables.schools import class_teachers, exclusions, pupils, teachers


def test_population_and_variables(spec):
    spec.tables(
        pupils="""
            pupil_id | sex | date_of_birth
            3        | F   | 2010-03-01
            1        | M   | 2011-04-01
            2        | F   | 2012-05-01
        """,
        exclusions="""
            pupil_id | exclusion_id | sessions
            1        | 10           | 2
            4        | 40           | 1
        """,
    )
    dataset = create_dataset()
    dataset.define_population(pupils.exists_for_pupil() & (pupils.sex == "F"))
    dataset.born = pupils.date_of_birth.year
    dataset.exclusions = exclusions.count_for_pupil()
    dataset.constant = 1
    assert spec.rows(dataset) == [(2, 2012, 0, 1), (3, 2010, 0, 1)]


def test_the_population_comes_from_the_tables_it_uses(spec):
    # Pupil 4 has an exclusion but no pupils row: only a population over exclusions includes them.
    spec.tables(
        pupils="""
            pupil_id
            1
        """,
        exclusions="""
            pupil_id | exclusion_id
            4        | 40
        """,
    )
    dataset = create_dataset()
    dataset.define_population(exclusions.exists_for_pupil() | pupils.exists_for_pupil())
    dataset.n = exclusions.count_for_pupil()
    assert spec.rows(dataset) == [(1, 0), (4, 1)]
    dataset = create_dataset()
    dataset.define_population(~exclusions.exists_for_pupil())
    assert spec.rows(dataset) == []


def test_a_population_over_one_many_rows_table_gives_one_row_per_pupil(spec):
    spec.tables(
        exclusions="""
            pupil_id | exclusion_id | sessions
            1        | 10           | 2
            1        | 11           | 3
            2        | 20           | 1
        """,
    )
    dataset = create_dataset()
    dataset.define_population(exclusions.sessions.sum_for_pupil() > 0)
    dataset.n = exclusions.count_for_pupil()
    assert spec.rows(dataset) == [(1, 2), (2, 1)]


def test_teacher_dataset(spec):
    spec.tables(
        teachers="""
            teacher_id | birth_year
            7          | 1980
            8          | 1990
        """,
        class_teachers="""
            teacher_id | class_id | share_percent
            7          | 1        | 100
            7          | 2        | 50
        """,
    )
    dataset = create_dataset()
    dataset.define_population(teachers.exists_for_teacher())
    dataset.birth_year = teachers.birth_year
    dataset.classes = class_teachers.count_for_teacher()
    assert spec.rows(dataset) == [(7, 1980, 2), (8, 1990, 0)]


def test_codelist_from_csv(spec, tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text("code,group\nsuspension,fixed\nlunchtime,fixed\npermanent,permanent\n")
    spec.tables(
        pupils="""
            pupil_id
            1
            2
        """,
        exclusions="""
            pupil_id | exclusion_id | category
            1        | 10           | lunchtime
            1        | 11           | permanent
            2        | 20           | suspension
        """,
    )
    fixed = codelist_from_csv(path, column="code")
    assert fixed == ["suspension", "lunchtime", "permanent"]
    fixed_term = exclusions.where(exclusions.category.is_in(fixed[:2]))
    assert spec.values(fixed_term.count_for_pupil()) == {1: 1, 2: 1}
    groups = codelist_from_csv(path, column="code", category_column="group")
    grouped = exclusions.category.map_values(groups).count_distinct_for_pupil()
    assert spec.values(grouped) == {1: 2, 2: 1}


def test_many_batches(spec):
    rows = "\n".join(f"{pupil_id}" for pupil_id in range(1, 8))
    spec.tables(pupils=f"pupil_id\n{rows}")
    dataset = create_dataset()
    dataset.define_population(pupils.exists_for_pupil())
    dataset.double = pupils.pupil_id * 2
    assert spec.rows(dataset) == [(n, 2 * n) for n in range(1, 8)]


def test_parameters_from_the_command_line(spec):
    spec.tables(
        pupils="""
            pupil_id | date_of_birth
            1        | 2010-03-01
            2        | 2012-05-01
        """
    )
    set_parameters({"born_before": "2011-01-01"})
    try:
        born_before = get_parameter("born_before")
        assert get_parameter("cohort", default="all") == "all"
        assert spec.values(pupils.date_of_birth < born_before) == {1: True, 2: False}
        with pytest.raises(QueryError, match="parameter cohort was not given"):
            get_parameter("cohort")
    finally:
        set_parameters({})
