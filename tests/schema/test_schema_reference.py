"""The Markdown schema reference."""

from __future__ import annotations

import pytest

from schema import Schema, load_schema
from schema.reference import render_reference

SESSIONS = """\
name: sessions
entity: pupil
rows: many
description: >
  One row per pupil
  per session.
unique_together:
  - [pupil_id, date, session]
columns:
  pupil_id:
    type: integer
    description: The pupil.
    not_null: true
    references: pupils.pupil_id
  date:
    type: date
    not_null: true
  session:
    type: string
    categories: [AM, PM]
  mark:
    type: code
    codelist: mark
  minutes_late:
    type: integer
    min: 0
    max: 120
  room:
    type: string
    regex: '^(A|B)[0-9]$'
"""

MARK = """\
name: mark
description: Attendance marks.
categories:
  present: Present.
  absent: Absent.
codes:
  - {code: "/", description: Present (AM)., category: present}
  - {code: N, description: No reason yet., category: absent}
"""


@pytest.fixture
def reference(write_schema) -> str:
    schema: Schema = load_schema(write_schema({"sessions": SESSIONS}, {"mark": MARK}))
    return render_reference(schema)


def test_intro_and_contents(reference: str) -> None:
    assert reference.startswith("# Schema reference\n")
    assert "3 tables, 0 views and 2 code lists" in reference
    assert "- [sessions](#table-sessions): many rows per pupil" in reference
    assert "- [schools](#table-schools): reference table" in reference
    assert "- [mark](#codelist-mark)" in reference


def test_table_section(reference: str) -> None:
    assert (
        '<a id="table-sessions"></a>\n### sessions\n\nOne row per pupil per session.' in reference
    )
    assert "- **Entity:** pupil (many rows per pupil)" in reference
    assert "- **Unique together:** `pupil_id`, `date`, `session`" in reference
    assert "- **Primary key:** `pupil_id`" in reference  # pupils


def test_columns_in_words(reference: str) -> None:
    lines = reference.splitlines()
    assert "| Column | Type | Constraints | Description |" in lines
    assert (
        "| `pupil_id` | integer | required; references [pupils.pupil_id](#table-pupils) "
        "| The pupil. |"
    ) in lines
    assert "| `session` | text | one of `AM`, `PM` |  |" in lines
    assert "| `mark` | code ([mark](#codelist-mark)) |  |  |" in lines
    assert "| `minutes_late` | integer | from 0 to 120 |  |" in lines
    assert "| `room` | text | matches `^(A\\|B)[0-9]$` |  |" in lines
    assert "| `name` | text |  | Name \\| with a pipe. |" in lines
    assert "| `pupil_id` | integer | primary key; required | The pupil. |" in lines
    assert "| `date_of_birth` | date | always the first of the month |  |" in lines


def test_foreign_keys(reference: str) -> None:
    assert "**Foreign keys:**\n\n- `pupil_id` → [`pupils.pupil_id`](#table-pupils)" in reference


def test_code_lists(reference: str) -> None:
    assert '<a id="codelist-mark"></a>\n### mark\n\nAttendance marks.' in reference
    assert "| `present` | Present. |" in reference
    assert "| Code | Description | Category |" in reference
    assert "| `/` | Present (AM). | `present` |" in reference
    assert "| `F` | Female |" in reference  # a list without categories has two columns


def test_output_is_deterministic(write_schema) -> None:
    root = write_schema({"sessions": SESSIONS}, {"mark": MARK})
    assert render_reference(load_schema(root)) == render_reference(load_schema(root))
