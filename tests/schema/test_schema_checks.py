"""Every check of the schema files reports its problem with the right file and line."""

from __future__ import annotations

from collections.abc import Callable

Problems = Callable[..., list[str]]

# The first 9 lines of a valid pupil table "marks"; a test's own columns start on line 10.
# The base schema (conftest.py) also has tables pupils and schools, and code list sex.
MARKS_HEADER = """\
name: marks
entity: pupil
rows: many
description: Marks.
columns:
  pupil_id:
    type: integer
    not_null: true
    references: pupils.pupil_id
"""
MARKS = "schema/tables/marks.yaml"

ROOMS = """\
name: rooms
entity: none
description: One row per room.
primary_key: [room_id]
columns:
  room_id:
    type: integer
    not_null: true
"""


def marks(columns: str = "", **top: str) -> dict[str, str]:
    """The marks table with extra columns (from line 10) and extra top-level lines (at the end)."""
    extra = "".join(f"{key}: {value}\n" for key, value in top.items())
    return {"marks": MARKS_HEADER + columns + extra}


def test_the_base_schema_is_valid(problems: Problems) -> None:
    assert problems() == []


def test_marks_header_is_valid(problems: Problems) -> None:
    assert problems(marks()) == []


# YAML


def test_syntax_error_has_its_line(problems: Problems) -> None:
    found = problems(marks("  score: [integer\n  other: 1\n"))
    assert len(found) == 1
    assert found[0].startswith(f"{MARKS}:11: invalid YAML")


def test_duplicate_key(problems: Problems) -> None:
    found = problems(marks("  score:\n    type: integer\n    type: float\n"))
    assert found == [f"{MARKS}:12: duplicate key 'type' (first given on line 11)"]


def test_empty_file(problems: Problems) -> None:
    assert problems({"marks": ""}) == [f"{MARKS}:1: the file is empty"]


def test_top_level_must_be_a_mapping(problems: Problems) -> None:
    found = problems({"marks": "- name: marks\n"})
    assert found == [
        f"{MARKS}:1: a table file must be a mapping with keys name, entity, description, columns"
    ]


def test_yml_extension_is_flagged(write_schema, tmp_path) -> None:
    from schema import SchemaError, load_schema

    root = write_schema()
    (root / "tables" / "marks.yml").write_text(MARKS_HEADER)
    try:
        load_schema(root)
    except SchemaError as error:
        assert [str(p) for p in error.problems] == [
            "schema/tables/marks.yml: use the .yaml extension"
        ]
    else:
        raise AssertionError("expected a SchemaError")


# Names and keys


def test_name_must_equal_file_name(problems: Problems) -> None:
    found = problems({"marks": MARKS_HEADER.replace("name: marks", "name: mark")})
    assert found == [f"{MARKS}:1: name 'mark' does not match the file name 'marks.yaml'"]


def test_name_must_be_lower_snake_case(problems: Problems) -> None:
    found = problems({"Marks": MARKS_HEADER.replace("name: marks", "name: Marks")})
    assert found == ["schema/tables/Marks.yaml:1: name 'Marks' must be lower_snake_case"]


def test_missing_name(problems: Problems) -> None:
    found = problems({"marks": MARKS_HEADER.replace("name: marks\n", "")})
    assert found == [f"{MARKS}:1: missing key 'name'"]


def test_unknown_table_key_with_suggestion(problems: Problems) -> None:
    found = problems(marks(primary_keys="[pupil_id]"))
    assert found == [f"{MARKS}:10: unknown key 'primary_keys' (did you mean 'primary_key'?)"]


def test_unknown_column_key_with_suggestion(problems: Problems) -> None:
    found = problems(marks("  year_group:\n    type: string\n    not_nul: true\n"))
    assert found == [
        f"{MARKS}:12: unknown key 'not_nul' in column 'year_group' (did you mean 'not_null'?)"
    ]


def test_unknown_key_without_suggestion_lists_the_allowed_keys(problems: Problems) -> None:
    found = problems(marks("  score:\n    type: integer\n    colour: red\n"))
    assert found == [
        f"{MARKS}:12: unknown key 'colour' in column 'score'; allowed keys: type, description, "
        "not_null, unique, references, codelist, categories, min, max, regex, first_of_month, "
        "after_column"
    ]


def test_column_name_must_be_lower_snake_case(problems: Problems) -> None:
    found = problems(marks("  Score:\n    type: integer\n"))
    assert found == [f"{MARKS}:10: column name 'Score' must be lower_snake_case"]


def test_yaml_boolean_column_name_is_not_a_name(problems: Problems) -> None:
    found = problems(marks("  on:\n    type: boolean\n"))
    assert found == [
        f"{MARKS}:10: column name true: YAML reads on, off, yes and no as booleans; quote the name"
    ]


def test_column_name_must_not_be_a_reserved_word(problems: Problems) -> None:
    found = problems(marks("  at:\n    type: time\n  order:\n    type: integer\n"))
    assert found == [
        f"{MARKS}:10: column name 'at' is a reserved word in DuckDB SQL",
        f"{MARKS}:12: column name 'order' is a reserved word in DuckDB and PostgreSQL SQL",
    ]


def test_table_name_must_not_be_a_reserved_word(problems: Problems) -> None:
    text = "name: user\nentity: none\ndescription: Users.\ncolumns:\n  id:\n    type: integer\n"
    found = problems({"user": text})
    assert found == [
        "schema/tables/user.yaml:1: table name 'user' is a reserved word in PostgreSQL SQL"
    ]


def test_description_must_be_text(problems: Problems) -> None:
    found = problems({"marks": MARKS_HEADER.replace("description: Marks.", "description:")})
    assert found == [f"{MARKS}:4: description must be non-empty text"]


def test_missing_description(problems: Problems) -> None:
    found = problems({"marks": MARKS_HEADER.replace("description: Marks.\n", "")})
    assert found == [f"{MARKS}:1: missing key 'description'"]


# Types


def test_missing_type(problems: Problems) -> None:
    found = problems(marks("  score:\n    description: A score.\n"))
    assert found == [f"{MARKS}:10: missing key 'type' in column 'score'"]


def test_unknown_type_with_suggestion(problems: Problems) -> None:
    found = problems(marks("  score:\n    type: str\n"))
    assert found == [f"{MARKS}:11: unknown type 'str' in column 'score' (did you mean 'string'?)"]


def test_flag_must_be_boolean(problems: Problems) -> None:
    found = problems(marks("  score:\n    type: integer\n    not_null: maybe\n"))
    assert found == [f"{MARKS}:12: not_null in column 'score' must be true or false, not 'maybe'"]


def test_columns_must_not_be_empty(problems: Problems) -> None:
    text = "name: marks\nentity: none\ndescription: Marks.\ncolumns: {}\n"
    assert problems({"marks": text}) == [
        f"{MARKS}:4: columns must be a mapping of at least one column"
    ]


# Kind, entity and rows


def test_bad_kind(problems: Problems) -> None:
    found = problems(marks(kind="veiw"))
    assert found == [
        f"{MARKS}:10: kind must be one of table, view, not 'veiw' (did you mean 'view'?)"
    ]


def test_missing_entity(problems: Problems) -> None:
    found = problems({"marks": MARKS_HEADER.replace("entity: pupil\nrows: many\n", "")})
    assert found == [f"{MARKS}:1: missing key 'entity' (pupil | teacher | none)"]


def test_bad_entity(problems: Problems) -> None:
    found = problems({"marks": MARKS_HEADER.replace("entity: pupil", "entity: student")})
    assert found == [f"{MARKS}:2: entity must be one of pupil, teacher, none, not 'student'"]


def test_entity_table_needs_rows(problems: Problems) -> None:
    found = problems({"marks": MARKS_HEADER.replace("rows: many\n", "")})
    assert found == [f"{MARKS}:2: entity pupil needs rows: one or many"]


def test_reference_table_has_no_rows(problems: Problems) -> None:
    found = problems({"rooms": ROOMS.replace("entity: none\n", "entity: none\nrows: one\n")})
    assert found == [
        "schema/tables/rooms.yaml:3: rows is only for entity tables (pupil or teacher); "
        "omit it for entity: none"
    ]


def test_bad_rows(problems: Problems) -> None:
    found = problems({"marks": MARKS_HEADER.replace("rows: many", "rows: several")})
    assert found == [f"{MARKS}:3: rows must be one of one, many, not 'several'"]


# Entity keys


def test_entity_table_needs_its_key_column(problems: Problems) -> None:
    text = "name: marks\nentity: teacher\nrows: many\ndescription: Marks.\ncolumns:\n"
    text += "  score:\n    type: integer\n"
    assert problems({"marks": text}) == [
        f"{MARKS}:2: entity teacher table needs a column 'teacher_id'"
    ]


def test_entity_key_must_be_not_null(problems: Problems) -> None:
    found = problems({"marks": MARKS_HEADER.replace("    not_null: true\n", "")})
    assert found == [
        f"{MARKS}:6: column 'pupil_id' must be not_null: true (the key of entity pupil)"
    ]


def test_entity_key_must_reference_the_entity_table(problems: Problems) -> None:
    found = problems({"marks": MARKS_HEADER.replace("pupils.pupil_id", "schools.school_id")})
    assert (
        f"{MARKS}:9: column 'pupil_id' must reference pupils.pupil_id (the key of entity pupil)"
        in (found)
    )


def test_entity_key_reference_missing(problems: Problems) -> None:
    found = problems({"marks": MARKS_HEADER.replace("    references: pupils.pupil_id\n", "")})
    assert found == [
        f"{MARKS}:6: column 'pupil_id' must reference pupils.pupil_id (the key of entity pupil)"
    ]


def test_rows_one_needs_a_unique_key(problems: Problems) -> None:
    found = problems({"marks": MARKS_HEADER.replace("rows: many", "rows: one")})
    assert found == [
        f"{MARKS}:6: column 'pupil_id' must be unique in a rows: one table "
        "(unique: true, or the whole primary key)"
    ]


def test_rows_one_with_unique_key_is_valid(problems: Problems) -> None:
    text = MARKS_HEADER.replace("rows: many", "rows: one") + "    unique: true\n"
    assert problems({"marks": text}) == []


def test_the_pupils_table_does_not_reference_itself(problems: Problems) -> None:
    assert problems() == []  # conftest's pupils.pupil_id has no `references`


# Codes and categories


def test_code_needs_a_codelist(problems: Problems) -> None:
    found = problems(marks("  grade:\n    type: code\n"))
    assert found == [f"{MARKS}:11: type code needs a codelist in column 'grade'"]


def test_codelist_only_on_code(problems: Problems) -> None:
    found = problems(marks("  grade:\n    type: string\n    codelist: sex\n"))
    assert found == [
        f"{MARKS}:12: codelist in column 'grade' is only for type code, not type string"
    ]


def test_unknown_codelist_with_suggestion(problems: Problems) -> None:
    found = problems(marks("  gender:\n    type: code\n    codelist: sexes\n"))
    assert found == [
        f"{MARKS}:12: column 'gender' uses unknown code list 'sexes' (did you mean 'sex'?)"
    ]


def test_categories_only_on_string(problems: Problems) -> None:
    found = problems(marks("  session:\n    type: code\n    codelist: sex\n    categories: [F]\n"))
    assert found == [
        f"{MARKS}:13: categories in column 'session' is only for string columns, not type code"
    ]


def test_categories_must_be_strings(problems: Problems) -> None:
    found = problems(
        marks("  session:\n    type: string\n    categories:\n      - AM\n      - 2\n")
    )
    assert found == [f"{MARKS}:14: category 2 in column 'session' must be a string (quote it)"]


def test_duplicate_category(problems: Problems) -> None:
    found = problems(marks("  session:\n    type: string\n    categories: [AM, PM, AM]\n"))
    assert found == [f"{MARKS}:12: category 'AM' is listed twice in column 'session'"]


# Ranges, regex, first of month


def test_min_max_only_on_numbers(problems: Problems) -> None:
    found = problems(marks("  note:\n    type: string\n    min: 1\n"))
    assert found == [
        f"{MARKS}:12: min in column 'note' is only for integer, bigint and float columns, "
        "not type string"
    ]


def test_min_above_max(problems: Problems) -> None:
    found = problems(marks("  score:\n    type: integer\n    min: 10\n    max: 5\n"))
    assert found == [f"{MARKS}:13: max 5 in column 'score' is less than min 10"]


def test_integer_bounds_are_whole(problems: Problems) -> None:
    found = problems(marks("  score:\n    type: integer\n    max: 5.5\n"))
    assert found == [f"{MARKS}:12: max in column 'score' must be a whole number for type integer"]


def test_float_bounds_may_be_fractions(problems: Problems) -> None:
    assert problems(marks("  score:\n    type: float\n    min: 0\n    max: 99.5\n")) == []


def test_bound_must_be_a_number(problems: Problems) -> None:
    found = problems(marks("  score:\n    type: integer\n    min: low\n"))
    assert found == [f"{MARKS}:12: min in column 'score' must be a number, not 'low'"]


def test_regex_must_compile(problems: Problems) -> None:
    found = problems(marks("  upn:\n    type: string\n    regex: '^[A-Z'\n"))
    assert len(found) == 1
    assert found[0].startswith(f"{MARKS}:12: regex in column 'upn' does not compile: ")


def test_regex_only_on_string(problems: Problems) -> None:
    found = problems(marks("  score:\n    type: integer\n    regex: '^[0-9]$'\n"))
    assert found == [
        f"{MARKS}:12: regex in column 'score' is only for string columns, not type integer"
    ]


def test_first_of_month_only_on_date(problems: Problems) -> None:
    found = problems(marks("  month:\n    type: string\n    first_of_month: true\n"))
    assert found == [
        f"{MARKS}:12: first_of_month in column 'month' is only for date columns, not type string"
    ]


# after_column


def test_after_column_must_exist(problems: Problems) -> None:
    found = problems(marks("  end_date:\n    type: date\n    after_column: start_dat\n"))
    assert found == [
        f"{MARKS}:12: after_column in column 'end_date' names unknown column 'start_dat'"
    ]


def test_after_column_suggests_a_column(problems: Problems) -> None:
    columns = (
        "  start_date:\n    type: date\n  end_date:\n    type: date\n    after_column: start\n"
    )
    found = problems(marks(columns))
    assert found == [
        f"{MARKS}:14: after_column in column 'end_date' names unknown column 'start' "
        "(did you mean 'start_date'?)"
    ]


def test_after_column_must_have_the_same_type(problems: Problems) -> None:
    columns = "  start_year:\n    type: integer\n  end_date:\n    type: date\n"
    columns += "    after_column: start_year\n"
    assert problems(marks(columns)) == [
        f"{MARKS}:14: after_column in column 'end_date' names column 'start_year' of type integer; "
        "it must have the same type (date)"
    ]


def test_after_column_not_itself(problems: Problems) -> None:
    found = problems(marks("  end_date:\n    type: date\n    after_column: end_date\n"))
    assert found == [f"{MARKS}:12: after_column in column 'end_date' names the column itself"]


# References


def test_reference_format(problems: Problems) -> None:
    found = problems(marks("  school_id:\n    type: integer\n    references: schools\n"))
    assert found == [
        f"{MARKS}:12: references in column 'school_id' must be table.column, not 'schools'"
    ]


def test_reference_to_unknown_table(problems: Problems) -> None:
    found = problems(marks("  school_id:\n    type: integer\n    references: school.school_id\n"))
    assert found == [
        f"{MARKS}:12: column 'school_id' references school.school_id: unknown table 'school' "
        "(did you mean 'schools'?)"
    ]


def test_reference_to_unknown_column(problems: Problems) -> None:
    found = problems(marks("  school_id:\n    type: integer\n    references: schools.id\n"))
    assert found == [
        f"{MARKS}:12: column 'school_id' references schools.id: table 'schools' has no column 'id'"
    ]


def test_reference_must_reach_a_unique_column(problems: Problems) -> None:
    found = problems(marks("  school:\n    type: string\n    references: schools.name\n"))
    assert found == [
        f"{MARKS}:12: column 'school' references schools.name, which is neither the primary key "
        "nor unique"
    ]


def test_reference_types_must_match(problems: Problems) -> None:
    found = problems(marks("  school_id:\n    type: date\n    references: schools.school_id\n"))
    assert found == [
        f"{MARKS}:12: column 'school_id' references schools.school_id: type date does not match "
        "its type integer"
    ]


def test_bigint_may_reference_integer(problems: Problems) -> None:
    columns = "  school_id:\n    type: bigint\n    references: schools.school_id\n"
    assert problems(marks(columns)) == []


def test_reference_to_a_view(problems: Problems) -> None:
    view = (
        "name: school_view\nkind: view\nentity: none\ndescription: A view.\n"
        "columns:\n  school_id:\n    type: integer\n    unique: true\n"
        "view_sql: SELECT school_id FROM schools\n"
    )
    columns = "  school_id:\n    type: integer\n    references: school_view.school_id\n"
    found = problems({**marks(columns), "school_view": view})
    assert found == [
        f"{MARKS}:12: column 'school_id' references school_view.school_id: 'school_view' is a "
        "view; references must name a table"
    ]


def test_reference_to_a_broken_table_is_not_reported_twice(problems: Problems) -> None:
    broken = ROOMS.replace("    not_null: true\n", "    not_null: yes please\n")
    columns = "  room_id:\n    type: integer\n    references: rooms.room_id\n"
    found = problems({**marks(columns), "rooms": broken})
    assert found == [
        "schema/tables/rooms.yaml:8: not_null in column 'room_id' must be true or false, "
        "not 'yes please'"
    ]


# Primary keys and unique_together


def test_primary_key_names_unknown_column(problems: Problems) -> None:
    found = problems(marks(primary_key="[pupil_id, score]"))
    assert found == [f"{MARKS}:10: primary_key names unknown column 'score'"]


def test_primary_key_names_a_column_twice(problems: Problems) -> None:
    found = problems(marks(primary_key="[pupil_id, pupil_id]"))
    assert found == [f"{MARKS}:10: primary_key names column 'pupil_id' twice"]


def test_primary_key_must_be_a_list(problems: Problems) -> None:
    found = problems(marks(primary_key="pupil_id"))
    assert found == [f"{MARKS}:10: primary_key must be a non-empty list of column names"]


def test_primary_key_columns_must_be_not_null(problems: Problems) -> None:
    found = problems(marks("  mark_id:\n    type: integer\n", primary_key="[mark_id]"))
    assert found == [f"{MARKS}:12: primary key column 'mark_id' must be declared not_null: true"]


def test_unique_together_names_unknown_column(problems: Problems) -> None:
    text = MARKS_HEADER + "unique_together:\n  - [pupil_id, date]\n  - [pupil_id, score]\n"
    text += "  date:\n    type: date\n"
    found = problems({"marks": text.replace("  date:\n    type: date\n", "")})
    assert found == [
        f"{MARKS}:11: unique_together names unknown column 'date'",
        f"{MARKS}:12: unique_together names unknown column 'score'",
    ]


def test_unique_together_must_be_a_list_of_lists(problems: Problems) -> None:
    found = problems(marks(unique_together="[pupil_id]"))
    assert found == [f"{MARKS}:10: unique_together must be a non-empty list of column names"]


# Views


VIEW_HEADER = """\
name: pupil_view
kind: view
entity: pupil
rows: many
description: A view.
columns:
  pupil_id:
    type: integer
    not_null: true
    references: pupils.pupil_id
"""
VIEW = "schema/tables/pupil_view.yaml"


def test_a_valid_view(problems: Problems) -> None:
    assert problems({"pupil_view": VIEW_HEADER + "view_sql: SELECT pupil_id FROM pupils\n"}) == []


def test_view_needs_view_sql(problems: Problems) -> None:
    found = problems({"pupil_view": VIEW_HEADER})
    assert found == [f"{VIEW}:1: a view needs view_sql: its SELECT statement"]


def test_view_has_no_primary_key(problems: Problems) -> None:
    text = VIEW_HEADER + "primary_key: [pupil_id]\nview_sql: SELECT pupil_id FROM pupils\n"
    assert problems({"pupil_view": text}) == [f"{VIEW}:11: a view has no primary key"]


def test_view_needs_columns(problems: Problems) -> None:
    text = "name: pupil_view\nkind: view\nentity: none\ndescription: A view.\n"
    text += "view_sql: SELECT 1 AS one\n"
    assert problems({"pupil_view": text}) == [f"{VIEW}:1: missing key 'columns'"]


def test_view_sql_only_on_views(problems: Problems) -> None:
    found = problems(marks(view_sql="SELECT 1"))
    assert found == [f"{MARKS}:10: view_sql is only for kind: view"]


# Code lists


CODELIST = "schema/codelists/session.yaml"


def session(codes: str, categories: str = "") -> dict[str, str]:
    """A code list 'session': lines 1-2 are its name and description, then `categories`, `codes`."""
    return {"session": f"name: session\ndescription: Sessions.\n{categories}codes:\n{codes}"}


def test_valid_codelist_with_categories(problems: Problems) -> None:
    categories = "categories:\n  morning: Before noon.\n"
    codes = "  - {code: AM, description: Morning, category: morning}\n"
    assert problems(codelists=session(codes, categories)) == []


def test_duplicate_code(problems: Problems) -> None:
    codes = "  - {code: AM, description: Morning}\n  - {code: AM, description: Again}\n"
    found = problems(codelists=session(codes))
    assert found == [f"{CODELIST}:5: duplicate code 'AM' (first given on line 4)"]


def test_code_must_be_a_string(problems: Problems) -> None:
    found = problems(codelists=session("  - {code: 1, description: One}\n"))
    assert found == [f"{CODELIST}:4: code 1 must be a non-empty string (quote it)"]


def test_code_needs_a_description(problems: Problems) -> None:
    found = problems(codelists=session("  - code: AM\n"))
    assert found == [f"{CODELIST}:4: missing key 'description' of code 'AM'"]


def test_unknown_code_key(problems: Problems) -> None:
    found = problems(codelists=session("  - {code: AM, description: Morning, categroy: x}\n"))
    assert found == [f"{CODELIST}:4: unknown key 'categroy' in a code (did you mean 'category'?)"]


def test_code_needs_a_category_when_the_list_has_categories(problems: Problems) -> None:
    categories = "categories:\n  morning: Before noon.\n"
    found = problems(codelists=session("  - {code: AM, description: Morning}\n", categories))
    assert found == [f"{CODELIST}:6: missing key 'category' of code 'AM'"]


def test_unknown_category(problems: Problems) -> None:
    categories = "categories:\n  morning: Before noon.\n"
    codes = "  - {code: AM, description: Morning, category: mornin}\n"
    found = problems(codelists=session(codes, categories))
    assert found == [
        f"{CODELIST}:6: unknown category 'mornin' of code 'AM' (did you mean 'morning'?)"
    ]


def test_no_category_without_categories(problems: Problems) -> None:
    codes = "  - code: AM\n    description: Morning\n    category: morning\n"
    found = problems(codelists=session(codes))
    assert found == [
        f"{CODELIST}:6: category of code 'AM' is not allowed: the code list has no categories"
    ]


def test_codelist_name_must_equal_file_name(problems: Problems) -> None:
    text = "name: sessions\ndescription: Sessions.\ncodes:\n  - {code: AM, description: M}\n"
    found = problems(codelists={"session": text})
    assert found == [f"{CODELIST}:1: name 'sessions' does not match the file name 'session.yaml'"]


def test_unknown_codelist_key(problems: Problems) -> None:
    text = "name: session\ndescripton: Sessions.\ncodes:\n  - {code: AM, description: M}\n"
    found = problems(codelists={"session": text})
    assert found == [
        f"{CODELIST}:1: missing key 'description'",
        f"{CODELIST}:2: unknown key 'descripton' (did you mean 'description'?)",
    ]


# All problems together


def test_all_problems_are_reported_together_sorted(problems: Problems) -> None:
    broken_marks = marks("  score:\n    type: str\n  grade:\n    type: code\n")
    broken_sex = "name: sex\ndescription: Sex.\ncodes:\n  - {code: F}\n"
    found = problems(broken_marks, {"sex": broken_sex})
    assert found == [
        "schema/codelists/sex.yaml:4: missing key 'description' of code 'F'",
        f"{MARKS}:11: unknown type 'str' in column 'score' (did you mean 'string'?)",
        f"{MARKS}:13: type code needs a codelist in column 'grade'",
    ]


def test_missing_tables_folder(tmp_path) -> None:
    from schema import SchemaError, load_schema

    try:
        load_schema(tmp_path / "nothing")
    except SchemaError as error:
        assert [str(p) for p in error.problems] == ["nothing/tables: folder not found"]
    else:
        raise AssertionError("expected a SchemaError")
