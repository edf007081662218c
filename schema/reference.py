"""The schema reference: a Markdown page derived from the schema (docs/schema.md).

The output depends only on the schema, so it is the same on every run and CI can check that the
committed page is up to date.
"""

from __future__ import annotations

from collections.abc import Iterable

from schema.models import Codelist, Column, Schema, Table

TYPE_WORDS = {
    "integer": "integer",
    "bigint": "big integer",
    "float": "decimal number",
    "boolean": "true/false",
    "string": "text",
    "code": "code",
    "date": "date",
    "time": "time of day",
}


def render_reference(schema: Schema) -> str:
    """The whole schema reference as Markdown."""
    tables = [table for table in schema.tables.values() if not table.is_view]
    views = [table for table in schema.tables.values() if table.is_view]
    codelists = list(schema.codelists.values())
    sections = [
        _intro(tables, views, codelists),
        _contents(tables, views, codelists),
        "## Tables",
        *(_table_section(table) for table in tables),
        "## Views",
        *(_table_section(view) for view in views),
        "## Code lists",
        *(_codelist_section(codelist) for codelist in codelists),
    ]
    return "\n\n".join(sections) + "\n"


def _intro(tables: list[Table], views: list[Table], codelists: list[Codelist]) -> str:
    reference_tables = ", ".join(table.name for table in tables if table.entity is None)
    return "\n".join(
        [
            "# Schema reference",
            "",
            "<!-- Generated from schema/ by `osschools schema docs`. Do not edit by hand. -->",
            "",
            "The standardised dataset of a multi-academy trust (MAT): "
            f"{len(tables)} tables, {len(views)} views and {len(codelists)} code lists. "
            "Each is declared once in `schema/` (see `schema/FORMAT.md`); this page, the SQL "
            "tables, the query language's tables, the dummy data and the extract validator are "
            "all derived from those files.",
            "",
            "There are two units of analysis, **pupils** and **teachers**. A pupil table has a "
            "`pupil_id` column referencing `pupils`, a teacher table a `teacher_id` column "
            "referencing `teachers`; each has either one row or many rows per pupil or teacher. "
            f"Reference tables ({reference_tables}) belong to neither and are reached by key. "
            "Views are derived from the tables by SQL.",
            "",
            "In tables, the constraints *required* (NOT NULL), *unique* and *primary key* are "
            "enforced by the database. The others (ranges, categories, code lists, patterns, first "
            "of the month, date order, references), and all constraints of views, are checked by "
            "the extract validator.",
        ]
    )


def _contents(tables: list[Table], views: list[Table], codelists: list[Codelist]) -> str:
    lines = ["## Contents", "", "Tables:", ""]
    lines += [f"- [{t.name}](#{_table_anchor(t.name)}): {_entity_words(t)}" for t in tables]
    lines += ["", "Views:", ""]
    lines += [f"- [{v.name}](#{_table_anchor(v.name)}): {_entity_words(v)}" for v in views]
    lines += ["", "Code lists:", ""]
    lines += [f"- [{c.name}](#{_codelist_anchor(c.name)})" for c in codelists]
    return "\n".join(lines)


def _table_anchor(name: str) -> str:
    return f"table-{name}"


def _codelist_anchor(name: str) -> str:
    return f"codelist-{name}"


def _entity_words(table: Table) -> str:
    if table.entity is None:
        return "reference table"
    many = "one row" if table.rows == "one" else "many rows"
    return f"{many} per {table.entity}"


def _table_section(table: Table) -> str:
    facts = [f"- **Entity:** {table.entity or 'none'} ({_entity_words(table)})"]
    if table.primary_key:
        facts.append(f"- **Primary key:** {_code_list(table.primary_key)}")
    facts += [f"- **Unique together:** {_code_list(names)}" for names in table.unique_together]
    title = f"{table.name} (view)" if table.is_view else table.name
    parts = [
        f'<a id="{_table_anchor(table.name)}"></a>\n### {title}',
        _text(table.description),
        "\n".join(facts),
        _columns_table(table),
    ]
    foreign_keys = _foreign_keys(table)
    if foreign_keys:
        parts.append(foreign_keys)
    if table.view_sql:
        parts.append(
            f"<details><summary>SQL</summary>\n\n```sql\n{table.view_sql}\n```\n\n</details>"
        )
    return "\n\n".join(parts)


def _columns_table(table: Table) -> str:
    rows = [
        "| Column | Type | Constraints | Description |",
        "|---|---|---|---|",
    ]
    for column in table.columns.values():
        cells = [
            f"`{column.name}`",
            _type_words(column),
            _constraint_words(column, table),
            _text(column.description or ""),
        ]
        rows.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return "\n".join(rows)


def _type_words(column: Column) -> str:
    if column.type == "code":
        return f"code ([{column.codelist}](#{_codelist_anchor(column.codelist or '')}))"
    return TYPE_WORDS[column.type]


def _constraint_words(column: Column, table: Table) -> str:
    words: list[str] = []
    if column.name in table.primary_key:
        words.append("primary key" if len(table.primary_key) == 1 else "part of the primary key")
    if column.not_null:
        words.append("required")
    if column.unique:
        words.append("unique")
    if column.categories is not None:
        words.append("one of " + ", ".join(f"`{value}`" for value in column.categories))
    words += _range_words(column)
    if column.regex is not None:
        words.append(f"matches `{column.regex}`")
    if column.first_of_month:
        words.append("always the first of the month")
    if column.after_column is not None:
        words.append(f"on or after `{column.after_column}`")
    if column.references is not None:
        target = column.references
        words.append(f"references [{target}](#{_table_anchor(target.table)})")
    return "; ".join(words)


def _range_words(column: Column) -> list[str]:
    low, high = column.min, column.max
    if low is not None and high is not None:
        return [f"from {low} to {high}"]
    if low is not None:
        return [f"at least {low}"]
    if high is not None:
        return [f"at most {high}"]
    return []


def _foreign_keys(table: Table) -> str:
    lines = [
        f"- `{column.name}` → [`{column.references}`](#{_table_anchor(column.references.table)})"
        for column in table.columns.values()
        if column.references is not None
    ]
    return "**Foreign keys:**\n\n" + "\n".join(lines) if lines else ""


def _codelist_section(codelist: Codelist) -> str:
    parts = [
        f'<a id="{_codelist_anchor(codelist.name)}"></a>\n### {codelist.name}',
        _text(codelist.description),
    ]
    if codelist.categories:
        rows = ["| Category | Description |", "|---|---|"]
        rows += [
            f"| `{_cell(name)}` | {_cell(_text(text))} |"
            for name, text in codelist.categories.items()
        ]
        parts.append("\n".join(rows))
    parts.append(_codes_table(codelist))
    return "\n\n".join(parts)


def _codes_table(codelist: Codelist) -> str:
    with_category = bool(codelist.categories)
    header = ["Code", "Description"] + (["Category"] if with_category else [])
    rows = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for code in codelist.codes:
        cells = [_code_span(code.code), _text(code.description)]
        if with_category:
            cells.append(f"`{code.category}`")
        rows.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return "\n".join(rows)


def _code_span(value: str) -> str:
    """A code in backticks; spaced double backticks when the code itself has a backtick."""
    return f"`` {value} ``" if "`" in value else f"`{value}`"


def _code_list(names: Iterable[str]) -> str:
    return ", ".join(f"`{name}`" for name in names)


def _text(value: str) -> str:
    """Descriptions on one line: YAML folded text may carry line breaks."""
    return " ".join(value.split())


def _cell(value: str) -> str:
    """Escape the pipe, which would end a Markdown table cell."""
    return value.replace("|", "\\|")
