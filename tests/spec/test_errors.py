"""Mistakes in a dataset definition give errors that name the researcher's line."""

import inspect

import pytest

from ehrql_schools.query_language import (
    QueryError,
    UnknownColumn,
    case,
    compile_dataset,
    create_dataset,
    days,
    when,
)
from ehrql_schools.tables.schools import (
    assessment_results,
    class_teachers,
    exclusions,
    pupils,
    schools,
    teachers,
)


def raises(match: str):
    return pytest.raises(QueryError, match=match)


def test_type_errors_name_the_users_file_and_line():
    with raises("cannot compare a date with an integer") as error:
        line = inspect.currentframe().f_lineno + 1
        pupils.date_of_birth > 3  # noqa: B015
    assert error.value.filename == __file__
    assert error.value.lineno == line
    assert str(error.value).startswith(f"{__file__}, line {line}: ")


def test_unknown_column_suggests_the_nearest_name():
    with pytest.raises(UnknownColumn, match="did you mean date_of_birth"):
        pupils.date_of_brith  # noqa: B018


def test_unknown_series_method_suggests_the_nearest_name():
    with pytest.raises(UnknownColumn, match="a date series has no method or property yaer; did"):
        pupils.date_of_birth.yaer  # noqa: B018


def test_unknown_table_suggests_the_nearest_name():
    with pytest.raises(ImportError, match="did you mean assessment_results"):
        from ehrql_schools.tables.schools import assesment_results  # noqa: F401


def test_many_rows_where_one_value_per_pupil_is_needed():
    dataset = create_dataset()
    with raises("must have one value per pupil; aggregate the rows first"):
        dataset.latest = exclusions.start_date
    with raises("the population must have one value per pupil"):
        dataset.define_population(exclusions.sessions > 1)


def test_mixing_pupils_and_teachers():
    with raises("cannot combine pupil series with teacher series"):
        pupils.date_of_birth.year == teachers.birth_year  # noqa: B015
    dataset = create_dataset()
    dataset.define_population(pupils.exists_for_pupil())
    with raises("variable qts is a teacher series, but this dataset has one row per pupil"):
        dataset.qts = teachers.qts_status
    with raises("no column or method count_for_teacher; did you mean count_for_pupil?"):
        exclusions.count_for_teacher()  # type: ignore[attr-defined]
    with raises("works on pupil rows; these are teacher rows"):
        class_teachers.share_percent.sum_for_pupil()


def test_combining_rows_of_different_frames():
    with raises("cannot combine values from rows of two different frames"):
        exclusions.sessions + assessment_results.result_percent  # noqa: B018


def test_picking_needs_a_sort_and_aggregating_needs_many_rows():
    with raises("sort the rows with sort_by"):
        exclusions.first_for_pupil()
    with raises("needs a series with many rows per pupil"):
        pupils.date_of_birth.maximum_for_pupil()


def test_series_cannot_be_used_as_python_booleans():
    with raises("combine conditions with &, \\| and ~"):
        if pupils.sex == "F":
            pass
    with raises("combine conditions with &, \\| and ~"):
        pupils.exists_for_pupil() and exclusions.exists_for_pupil()  # noqa: B018


def test_other_mistakes():
    with raises("needs numbers"):
        pupils.sex + 1  # noqa: B018
    with raises("'2024-13-01' is not a date"):
        pupils.date_of_birth < "2024-13-01"  # noqa: B015
    with raises("add days"):
        pupils.date_of_birth + 1  # noqa: B018
    with raises("must all have the same type"):
        case(when(pupils.sex == "F").then(1), otherwise="x")
    with raises("to test for null use is_null"):
        pupils.sex == None  # noqa: B015, E711
    with raises("reference table"):
        schools.phase  # noqa: B018
    with raises("is_in\\(\\) needs a list of values"):
        pupils.sex.is_in("F")
    with raises("the number of days"):
        pupils.date_of_birth + days(1.5)  # type: ignore[arg-type]
    with raises("no population"):
        compile_dataset(create_dataset())
    dataset = create_dataset()
    dataset.sex = pupils.sex
    with raises("variable SEX is already defined"):
        dataset.SEX = pupils.sex
    with raises("'pupil_id' cannot be a variable name"):
        dataset.pupil_id = pupils.pupil_id
