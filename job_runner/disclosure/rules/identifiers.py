"""The identifier gate (sdc.md rule 12): refuse outputs that identify people or look row-level.

Findings never repeat the identifying value itself (the report may be read by people who must
not see it): they name the column, the kind of identifier and where it first occurs, and their
cells carry no row key (a key would show the row's dimension values, which may be the identifier).

What fails (rule `identifier`):
- a column whose role is `identifier` (pupil and teacher ids, UPN, names, dates of birth,
  postcodes: see `tables.IDENTIFYING_COLUMNS`), or whose name says it holds a person's name
  (`pupil_name`, `teacher_surname`; `school_name` is fine);
- in any column (and in the column names), values that look like a unique pupil number (a letter,
  11 digits, then a digit or letter: A123456789012), a full UK postcode (AB1 2CD; districts and
  sectors such as AB1 or AB1 2 are aggregates and pass), or an email address;
- full dates (day, month and year) in a column named like a birth date (`dob`, `birth_month` ...);
  dates that all fall on the 1st of a month are months, not birth dates, and pass.
People's names in free text are not looked for: no cheap test tells them from school names with
few false alarms; a column named for them is caught by its name.

What looks row-level (rule `row_level`):
- with the description's `population_size`: a table with at least `row_level_fraction` of that
  many rows (margins not counted) fails;
- without it: a table of at least `MANY_ROWS` rows in which a dimension is different in every row
  and looks like an identifier (whole numbers or codes such as P000123, not labels with spaces)
  needs review.

Text files (`check_text_identifiers`): unique pupil numbers, postcodes, email addresses, and dates
on a line that mentions a birth date fail, with the line of the first occurrence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from job_runner.disclosure.description import Role, sidecar_path
from job_runner.disclosure.outputs import OutputFile
from job_runner.disclosure.profiles import Profile
from job_runner.disclosure.report import Cell, Finding, Verdict
from job_runner.disclosure.tables import Table, tokens

# A table with this many rows or more, and an id-like column unique per row, looks row-level.
MANY_ROWS = 100


@dataclass(frozen=True)
class IdentifierPattern:
    kind: str  # how messages name it
    pattern: re.Pattern[str]


# Upper-case only: the letters of UPNs and postcodes are capitals, and hexadecimal ids in SVG
# files (m5d3e8f1a2b) are lower-case.
UPN = IdentifierPattern("a unique pupil number (UPN)", re.compile(r"\b[A-Z]\d{11}[0-9A-Z]\b"))
# A full postcode: outward code, then the inward code (a digit and two letters never C, I, K,
# M, O or V).
POSTCODE = IdentifierPattern(
    "a full postcode",
    re.compile(r"\b(?:GIR ?0AA|[A-Z]{1,2}\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})\b"),
)
EMAIL = IdentifierPattern(
    "an email address",
    re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
)
VALUE_PATTERNS = (UPN, POSTCODE, EMAIL)

_FULL_DATE = re.compile(
    r"\b(?:\d{4}-\d{1,2}-(?P<iso_day>\d{1,2})"
    r"|(?P<day>\d{1,2})[/.-]\d{1,2}[/.-]\d{2,4}"
    r"|(?P<named_day>\d{1,2})(?:st|nd|rd|th)? (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r"[a-z]* \d{4})\b",
    re.IGNORECASE,
)
_BIRTH_WORDS = ("birth", "dob", "born")
_BIRTH_IN_TEXT = re.compile(r"\b(?:date of birth|birth ?date|dob|born)\b", re.IGNORECASE)

_NAME_WORDS = frozenset(
    {"name", "names", "forename", "forenames", "surname", "surnames", "firstname", "lastname",
     "fullname", "initials"}
)  # fmt: skip
_PERSON_WORDS = frozenset(
    {"pupil", "pupils", "student", "students", "child", "children", "learner", "teacher",
     "teachers", "staff", "person", "parent", "carer", "head", "headteacher", "candidate",
     "employee", "legal", "preferred"}
)  # fmt: skip
# Whole numbers, or a short letter prefix and at least three digits: 100234, P000123, T1234.
_ID_LIKE = re.compile(r"^(?:\d+|[A-Za-z]{1,4}[-_]?\d{3,}[A-Za-z]?)$")


def check_identifiers(table: Table, rules: Profile) -> list[Finding]:
    """Identifying columns and values, and tables that look row-level (see the module)."""
    findings = []
    for column in table.columns:
        if _is_identifying_column(table, column):
            findings.append(_identifying_column(table, column))
    findings.extend(_identifying_headers(table))
    for column in table.columns:
        if table.role(column) is Role.IDENTIFIER:
            continue  # already failed as a whole
        findings.extend(_identifying_values(table, column))
    findings.extend(_row_level(table, rules))
    return findings


def check_text_identifiers(output: OutputFile, rules: Profile) -> list[Finding]:
    """UPNs, postcodes, email addresses and dates of birth in a text file (or an SVG figure)."""
    return scan_text(output.text(), output.name)


def scan_text(text: str, name: str) -> list[Finding]:
    """Identifier findings for some text, one per kind of identifier found."""
    findings = []
    lines = text.splitlines()
    for kind, pattern in [(p.kind, p.pattern) for p in VALUE_PATTERNS]:
        hits = [number for number, line in enumerate(lines, start=1) if pattern.search(line)]
        if hits:
            findings.append(_text_finding(name, kind, hits))
    births = [
        number
        for number, line in enumerate(lines, start=1)
        if _BIRTH_IN_TEXT.search(line) and _has_full_date(line)
    ]
    if births:
        findings.append(_text_finding(name, "a date of birth", births))
    return findings


# Columns


def _is_identifying_column(table: Table, column: str) -> bool:
    if table.role(column) is Role.IDENTIFIER:
        return True
    if column in table.described or table.values[column].notna().all():
        return False  # described otherwise, or numbers (names are text)
    words = set(tokens(column))
    return bool(words & _NAME_WORDS) and bool(words & _PERSON_WORDS)


def _identifying_column(table: Table, column: str) -> Finding:
    return Finding(
        "identifier",
        Verdict.FAIL,
        f"column {column} identifies people (an id, name, date of birth or postcode); "
        "outputs can only hold aggregates: remove the column and count or summarise instead "
        f"(if it holds no personal identifier, describe its role in {_sidecar(table)})",
        numbers={"column": column, "rows": len(table.raw)},
    )


def _identifying_headers(table: Table) -> list[Finding]:
    """Column names that are identifiers: a table with a column per pupil."""
    findings = []
    for kind, pattern in [(p.kind, p.pattern) for p in VALUE_PATTERNS]:
        positions = [index for index, name in enumerate(table.raw.columns) if pattern.search(name)]
        if positions:
            findings.append(
                Finding(
                    "identifier",
                    Verdict.FAIL,
                    f"{len(positions)} column name{'s' if len(positions) > 1 else ''} look like "
                    f"{kind} (the first is column {positions[0] + 1}); a table with a column "
                    "per person is row-level data: release aggregates instead",
                    numbers={
                        "kind": kind,
                        "columns_matching": len(positions),
                        "first_column": positions[0] + 1,
                    },
                )
            )
    return findings


def _identifying_values(table: Table, column: str) -> list[Finding]:
    text = table.raw[column].astype(str)
    # Numbers hold none of the patterns; skip numeric columns cheaply.
    if table.values[column].notna().all():
        return []
    findings = []
    for kind, pattern in [(p.kind, p.pattern) for p in VALUE_PATTERNS]:
        matches = text.str.contains(pattern, regex=True)
        if matches.any():
            findings.append(_value_finding(table, column, kind, matches))
    if _named_like_birth(column):
        matches = text.map(_has_full_date) & ~text.map(_is_first_of_month)
        if matches.any():
            findings.append(_value_finding(table, column, "a full date of birth", matches))
    return findings


def _value_finding(table: Table, column: str, kind: str, matches: pd.Series) -> Finding:
    rows = [position for position, hit in enumerate(matches) if hit]
    first = rows[0]
    return Finding(
        "identifier",
        Verdict.FAIL,
        f"column {column} holds values that look like {kind} ({len(rows)} "
        f"row{'s' if len(rows) > 1 else ''}, the first at line {first + 2} of the file); "
        "personal identifiers can never be released: remove them and release aggregates",
        # No key: the row's dimension values may be the identifier itself.
        Cell(row=first, column=column),
        {"column": column, "kind": kind, "rows_matching": len(rows), "first_row": first},
    )


def _named_like_birth(column: str) -> bool:
    return any(word.startswith(_BIRTH_WORDS) or word == "dob" for word in tokens(column))


def _has_full_date(text: str) -> bool:
    return bool(_FULL_DATE.search(text))


def _is_first_of_month(text: str) -> bool:
    """Whether every full date in the text falls on the 1st (a month written as a date)."""
    days = [
        int(match.group("iso_day") or match.group("day") or match.group("named_day"))
        for match in _FULL_DATE.finditer(text)
    ]
    return bool(days) and all(day == 1 for day in days)


# Row-level tables


def _row_level(table: Table, rules: Profile) -> list[Finding]:
    rows = len(table.body_rows)
    population = table.description.population_size if table.description else None
    if population:
        limit = rules.row_level_fraction * population
        if rows >= limit:
            return [
                Finding(
                    "row_level",
                    Verdict.FAIL,
                    f"{rows:,} rows for a population of {population:,} "
                    f"(at least {rules.row_level_fraction:.0%} of it): this looks like one row "
                    "per person; release counts or summaries over groups instead",
                    numbers={
                        "rows": rows,
                        "population_size": population,
                        "row_level_fraction": rules.row_level_fraction,
                    },
                )
            ]
        return []
    if rows < MANY_ROWS:
        return []
    for column in table.with_role(Role.DIMENSION, Role.OTHER):
        if _is_id_like(table, column):
            return [
                Finding(
                    "row_level",
                    Verdict.REVIEW,
                    f"{rows:,} rows and column {column} is different in every row and looks "
                    "like an identifier: this may be one row per person. If each row is a "
                    f"group (a school, a week), give the population_size in {_sidecar(table)} "
                    "so the check can tell",
                    numbers={"rows": rows, "column": column, "many_rows": MANY_ROWS},
                )
            ]
    return []


def _is_id_like(table: Table, column: str) -> bool:
    values = table.raw[column].iloc[table.body_rows].astype(str).str.strip()
    if values.eq("").any() or not values.is_unique:
        return False
    return bool(values.str.match(_ID_LIKE).all())


def _sidecar(table: Table) -> str:
    return sidecar_path(table.path).name


# Text


def _text_finding(name: str, kind: str, lines: list[int]) -> Finding:
    return Finding(
        "identifier",
        Verdict.FAIL,
        f"{name} contains {kind} ({len(lines)} line{'s' if len(lines) > 1 else ''}, the first "
        f"is line {lines[0]}); personal identifiers can never be released: remove them",
        numbers={"kind": kind, "lines_matching": len(lines), "first_line": lines[0]},
    )
