"""Measures definitions load like dataset definitions: in-process or isolated, with the compiled
MeasuresModel handed back serialised, and with the same error messages in both modes."""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from ehrql_schools import isolation
from ehrql_schools.isolation import IsolationError
from ehrql_schools.loader import load_dataset_definition, load_measures_definition
from ehrql_schools.measures import (
    IntervalDate,
    IntervalQuery,
    MeasureColumns,
    Measures,
    MeasuresModel,
    compile_measures,
    create_measures,
)
from ehrql_schools.query_language import QueryError
from ehrql_schools.query_model import nodes, serialise
from ehrql_schools.tables.schools import pupils

HEADER = """\
from ehrql_schools import get_parameter
from ehrql_schools.measures import INTERVAL, academic_years, create_measures
from ehrql_schools.school_year import enrolment_on
from ehrql_schools.tables.schools import pupils

measures = create_measures()
enrolment = enrolment_on(INTERVAL.start_date)
"""  # the body starts at line 8

GIRLS = """\
first = int(get_parameter("first", "2022"))
measures.define_defaults(
    denominator=enrolment.exists_for_pupil(), intervals=academic_years(first, first + 1)
)
measures.define_measure(
    "girls",
    numerator=pupils.sex == "F",
    group_by={"school": enrolment.school_id, "year_group": enrolment.year_group},
)
measures.define_measure("born_in_autumn", numerator=pupils.date_of_birth.month >= 9, group_by={})
"""


@pytest.fixture
def measures_definition(definition: Callable[..., Path]) -> Callable[[str], Path]:
    """`measures_definition(body)` writes HEADER + body as a definition file."""
    return lambda body: definition(body, header=HEADER)


def load(path: Path, parameters: dict[str, str] | None = None, **options: object) -> MeasuresModel:
    return load_measures_definition(path, parameters, isolated=True, **options)  # type: ignore[arg-type]


def errors_in_both_modes(path: Path) -> str:
    """The message of the QueryError loading raises, which must be the same in both modes."""
    with pytest.raises(QueryError) as isolated:
        load(path)
    with pytest.raises(QueryError) as in_process:
        load_measures_definition(path)
    assert str(isolated.value) == str(in_process.value)
    return str(isolated.value)


def dates_in(model: MeasuresModel) -> set[datetime.date]:
    return {
        node.value
        for query in model.queries
        for node in nodes.walk(query.dataset)
        if isinstance(node, nodes.Value) and isinstance(node.value, datetime.date)
    }


# Serialising the model


def test_the_model_round_trips(measures_definition):
    model = load_measures_definition(measures_definition(GIRLS))
    copy = serialise.loads(serialise.dumps(model))
    assert copy == model
    assert type(copy) is MeasuresModel
    assert all(type(query) is IntervalQuery for query in copy.queries)
    assert all(type(m) is MeasureColumns for q in copy.queries for m in q.measures)
    assert copy.disclosure_control == {"enabled": True, "profile": "opensafely"}
    assert [(q.interval_start, q.interval_end) for q in copy.queries] == [
        ("2022-09-01", "2023-08-31"),
        ("2023-09-01", "2024-08-31"),
    ]


def test_no_interval_placeholder_is_left_in_the_model(measures_definition):
    model = load_measures_definition(measures_definition(GIRLS))
    for query in model.queries:
        assert not any(isinstance(node, IntervalDate) for node in nodes.walk(query.dataset))
    assert datetime.date(2022, 9, 1) in dates_in(model)
    assert datetime.date(2023, 9, 1) in dates_in(model)


def test_a_placeholder_cannot_be_written():
    placeholder = IntervalDate(datetime.date(1, 1, 1), "start_date")
    with pytest.raises(serialise.SerialisationError, match="cannot write IntervalDate"):
        serialise.dumps(nodes.Add(nodes.YearFromDate(placeholder), nodes.Value(1)))
    assert "IntervalDate" not in serialise.ALLOWED_CLASSES


def test_only_the_model_classes_are_allowed_not_any_dataclass():
    assert set(serialise.MEASURES_CLASSES) == {"MeasuresModel", "IntervalQuery", "MeasureColumns"}

    @dataclasses.dataclass(frozen=True)
    class MeasureColumns:  # the same name, another class
        name: str

    with pytest.raises(serialise.SerialisationError, match="not a query model node"):
        serialise.dumps(MeasureColumns("x"))
    for name in ("_Measure", "Measures", "Profile", "Domain"):
        text = json.dumps(
            {"format": serialise.FORMAT, "version": 1, "root": 0, "objects": [[name, {}]]}
        )
        with pytest.raises(serialise.SerialisationError, match="is not a query model node type"):
            serialise.loads(text)


def test_disclosure_settings_hold_only_plain_values(measures_definition):
    model = load_measures_definition(measures_definition(GIRLS))
    text = serialise.dumps(dataclasses.replace(model, disclosure_control={"profile": "srs"}))
    document = json.loads(text)
    entry = document["objects"][document["root"]]
    assert entry[1]["disclosure_control"] == {"dict": [["profile", "srs"]]}
    # A node in the settings, or a key that is not a string, is refused both ways.
    for settings in ({"profile": pupils.sex._node}, {1: "srs"}):
        forged = dataclasses.replace(model, disclosure_control=settings)
        with pytest.raises(serialise.SerialisationError, match="a dict must map strings"):
            serialise.dumps(forged)
    for value in ({"ref": 0}, {"date": "2024-01-01"}):
        entry[1]["disclosure_control"] = {"dict": [["profile", value]]}
        with pytest.raises(serialise.SerialisationError, match="only hold plain values"):
            serialise.loads(json.dumps(document))
    entry[1]["disclosure_control"] = {"dict": [[1, "srs"]]}
    with pytest.raises(serialise.SerialisationError, match="is not a \\[string key, value\\]"):
        serialise.loads(json.dumps(document))
    entry[1]["disclosure_control"] = {"dict": [["a", 1], ["a", 2]]}
    with pytest.raises(serialise.SerialisationError, match="given twice"):
        serialise.loads(json.dumps(document))


def test_a_model_of_the_wrong_shape_is_refused(measures_definition):
    model = load_measures_definition(measures_definition(GIRLS))
    document = json.loads(serialise.dumps(model))
    entry = document["objects"][document["root"]]
    entry[1]["queries"] = [{"ref": 0}]  # the first object is a table schema, not a query
    with pytest.raises(serialise.SerialisationError, match="field queries should be"):
        serialise.loads(json.dumps(document))


# Loading, isolated and in-process


def test_isolated_and_in_process_loading_give_the_same_model(measures_definition):
    path = measures_definition(
        GIRLS + 'measures.configure_disclosure_control(profile="srs", threshold=12)\n'
    )
    model = load(path, {"first": "2023"})
    assert model == load_measures_definition(path, {"first": "2023"})
    assert model.measure_names == ("girls", "born_in_autumn")
    assert model.group_columns == ("school", "year_group")
    assert model.disclosure_control == {"enabled": True, "profile": "srs", "threshold": 12}
    assert [q.interval_start for q in model.queries] == ["2023-09-01", "2024-09-01"]


def test_a_dataset_definition_is_not_a_measures_definition(definition):
    dataset_path = definition("dataset.one = 1\n")
    message = errors_in_both_modes(dataset_path)
    assert message.startswith(f"{dataset_path}: defines no measures: assign `measures = ")
    with pytest.raises(QueryError, match="no measures definition at"):
        load(dataset_path.parent / "missing.py")


def test_the_child_must_answer_with_the_kind_asked_for():
    dataset = nodes.Dataset("pupil", pupils.exists_for_pupil()._node, ())
    with pytest.raises(IsolationError, match="answered with no measures"):
        isolation._answer(0, serialise.dumps(dataset), "m.py", 1024, "measures")
    model = compile_measures(_girls())
    with pytest.raises(IsolationError, match="answered with no dataset"):
        isolation._answer(0, serialise.dumps(model), "d.py", 1024, "dataset")
    assert isolation._answer(0, serialise.dumps(model), "m.py", 1024, "measures") == model


def _girls() -> Measures:
    measures = create_measures()
    measures.define_measure(
        "girls", pupils.sex == "F", pupils.exists_for_pupil(), {}, [("2024-01-01", "2024-12-31")]
    )
    return measures


def test_tables_are_checked_in_every_dataset_of_the_model(measures_definition):
    # Only the second measure (its own denominator, so its own query) reads an undeclared table.
    path = measures_definition(
        GIRLS
        + """\
from ehrql_schools.query_language import PupilFrame, StrSeries, column, table

@table
class staff_passwords(PupilFrame):
    password = column(StrSeries)

measures.define_measure(
    "leak",
    numerator=pupils.sex == "F",
    denominator=pupils.exists_for_pupil(),
    group_by={"password": staff_passwords.password},
)
"""
    )
    message = errors_in_both_modes(path)
    assert message == (
        f"{path}: uses a table that is not declared in ehrql_schools.tables: staff_passwords"
    )


# Error messages name the file and line, the same in both modes


def test_a_query_error_names_the_file_and_line(measures_definition):
    path = measures_definition(GIRLS + 'measures.define_measure("sex", pupils.sex, group_by={})\n')
    assert errors_in_both_modes(path) == (
        f"{path}, line 18: the numerator of sex must be a boolean or integer series, not a string"
    )


def test_a_runtime_error_names_the_file_and_line(measures_definition):
    path = measures_definition(GIRLS + "measures.define_measure('m', intervals=1 / 0)\n")
    message = errors_in_both_modes(path)
    assert message.startswith(f"{path}, line 18: ZeroDivisionError: division by zero")
    assert "ehrql_schools" not in message


def test_a_syntax_error_names_the_file_and_line(measures_definition):
    path = measures_definition("measures.define_measure(\n")
    assert errors_in_both_modes(path).startswith(f"{path}, line 8: syntax error")


def test_no_measures_defined_names_the_file(measures_definition):
    path = measures_definition("")
    assert errors_in_both_modes(path) == (
        f"{path}: no measures are defined: call measures.define_measure(...)"
    )


def test_exit_names_a_measures_definition(measures_definition):
    path = measures_definition("raise SystemExit(2)\n")
    assert errors_in_both_modes(path) == f"{path}, line 8: the measures definition called exit(2)"


def test_a_measures_definition_is_not_a_dataset_definition(measures_definition):
    path = measures_definition(GIRLS)
    with pytest.raises(QueryError, match="defines no dataset"):
        load_dataset_definition(path, isolated=True)


def test_a_query_error_without_a_line_names_only_the_file():
    assert str(QueryError("bad", "study.py")) == "study.py: bad"
    assert str(QueryError("bad", "study.py", 3)) == "study.py, line 3: bad"
    assert str(QueryError("bad")) == "bad"
