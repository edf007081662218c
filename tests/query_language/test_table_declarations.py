"""The table declarations are generated from schema/ and cannot drift from it."""

from ehrql_schools.query_language import ReferenceFrame
from ehrql_schools.tables import generate, schools
from schema import load_schema


def test_the_committed_declarations_equal_a_fresh_generation():
    fresh = generate.generate(load_schema())
    assert generate.OUTPUT.read_text() == fresh, (
        "ehrql_schools/tables/schools.py is out of date: run "
        "`python -m ehrql_schools.tables.generate`"
    )


def test_every_table_and_column_is_declared_as_a_class_attribute():
    schema = load_schema()
    assert sorted(schools.__all__) == sorted(schema.tables)
    for name, table in schema.tables.items():
        frame = getattr(schools, name)
        for column in table.columns:
            assert column in vars(type(frame)), f"{name}.{column}"
        assert isinstance(frame, ReferenceFrame) == (table.entity is None)


def test_foreign_keys_become_lookups_and_relations():
    assert type(schools.assessment_results).class_.target() is schools.classes
    assert type(schools.lessons).teacher.target() is schools.teachers
    assert type(schools.behaviour_events).recorded_by_teacher.target() is schools.teachers
    assert type(schools.classes).lessons.target() is schools.lessons
    assert type(schools.teachers).behaviour_events.target_column == "recorded_by_teacher_id"
    assert not hasattr(type(schools.pupils), "enrolments")  # entity keys are not relations
