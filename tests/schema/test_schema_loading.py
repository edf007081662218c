"""A valid schema loads into frozen models; YAML keeps the line of every key and item."""

from __future__ import annotations

import pydantic
import pytest

from schema import Code, Reference, load_schema
from schema.yaml_lines import YamlSyntaxError, line_of, parse_yaml

ENROLMENTS = """\
name: enrolments
entity: pupil
rows: many
description: >
  One row per spell
  on roll.
primary_key: [enrolment_id]
unique_together:
  - [pupil_id, start_date]
columns:
  enrolment_id:
    type: bigint
    not_null: true
  pupil_id:
    type: integer
    not_null: true
    references: pupils.pupil_id
  start_date:
    type: date
    not_null: true
  end_date:
    type: date
    after_column: start_date
  session:
    type: string
    categories: [AM, PM]
  minutes_late:
    type: integer
    min: 0
    max: 120
"""


def test_a_valid_schema_loads(write_schema) -> None:
    schema = load_schema(write_schema({"enrolments": ENROLMENTS}))

    assert list(schema.tables) == ["enrolments", "pupils", "schools"]
    assert list(schema.codelists) == ["sex"]
    enrolments = schema.tables["enrolments"]
    assert enrolments.kind == "table"
    assert enrolments.entity == "pupil"
    assert enrolments.rows == "many"
    assert enrolments.entity_key == "pupil_id"
    assert enrolments.description == "One row per spell on roll."
    assert enrolments.primary_key == ("enrolment_id",)
    assert enrolments.unique_together == (("pupil_id", "start_date"),)
    assert list(enrolments.columns) == [
        "enrolment_id",
        "pupil_id",
        "start_date",
        "end_date",
        "session",
        "minutes_late",
    ]
    columns = enrolments.columns
    assert columns["pupil_id"].references == Reference(table="pupils", column="pupil_id")
    assert str(columns["pupil_id"].references) == "pupils.pupil_id"
    assert columns["end_date"].after_column == "start_date"
    assert columns["end_date"].not_null is False
    assert columns["session"].categories == ("AM", "PM")
    assert (columns["minutes_late"].min, columns["minutes_late"].max) == (0, 120)
    assert schema.tables["schools"].entity is None
    assert schema.tables["schools"].rows is None
    assert schema.tables["pupils"].columns["sex"].codelist == "sex"
    assert schema.tables["pupils"].columns["date_of_birth"].first_of_month is True
    assert schema.codelists["sex"].codes[0] == Code(code="F", description="Female", category=None)
    assert schema.codelists["sex"].categories == {}
    assert schema.views == {}
    assert list(schema.base_tables) == ["enrolments", "pupils", "schools"]


def test_models_are_frozen(write_schema) -> None:
    schema = load_schema(write_schema())
    with pytest.raises(pydantic.ValidationError):
        schema.tables["pupils"].name = "learners"  # type: ignore[misc]


def test_the_default_is_the_standard_schema() -> None:
    schema = load_schema()
    assert "pupils" in schema.tables


def test_yaml_keeps_lines_of_keys_and_items() -> None:
    document = parse_yaml("a: 1\nb:\n  - x\n  - y: 2\n    z: 3\nc: [p, q]\n")
    assert document == {"a": 1, "b": ["x", {"y": 2, "z": 3}], "c": ["p", "q"]}
    assert document.key_lines == {"a": 1, "b": 2, "c": 6}
    assert document["b"].item_lines == [3, 4]
    assert document["b"][1].key_lines == {"y": 4, "z": 5}
    assert line_of(document, "b", 1, "z") == 5
    assert line_of(document, "b", 7) == 2  # the deepest part of the path that exists
    assert line_of(document, "nothing", default=1) == 1


def test_yaml_duplicate_keys_are_errors() -> None:
    with pytest.raises(YamlSyntaxError) as error:
        parse_yaml("a: 1\nb: 2\na: 3\n")
    assert (error.value.line, error.value.message) == (
        3,
        "duplicate key 'a' (first given on line 1)",
    )


def test_yaml_syntax_error_has_a_line() -> None:
    with pytest.raises(YamlSyntaxError) as error:
        parse_yaml("a: 1\nb: [1, 2\n")
    assert error.value.line == 3
    assert error.value.message.startswith("invalid YAML")
