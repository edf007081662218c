"""Write the query language's table declarations (`schools.py`) from schema/.

    python -m ehrql_schools.tables.generate          # rewrite ehrql_schools/tables/schools.py
    python -m ehrql_schools.tables.generate --check  # exit 1 if the file differs from schema/

Each base table and view becomes a class whose columns are real class attributes (so editors
complete them), with the schema's descriptions as docstrings. A column that references a unique
column of another table also becomes a lookup attribute named after the column without `_id`
(`class_id` -> `class_`, with `_` added to Python keywords), which reaches the referenced row;
and the referenced table gets a relation attribute named after the referencing table
(`classes.lessons`), which reaches the rows that reference it.
"""

from __future__ import annotations

import keyword
import sys
import textwrap
from pathlib import Path

from schema import Column, Schema, Table, load_schema

OUTPUT = Path(__file__).resolve().parent / "schools.py"
WIDTH = 100
SERIES_CLASSES = {
    "integer": "IntSeries",
    "bigint": "IntSeries",
    "float": "FloatSeries",
    "boolean": "BoolSeries",
    "string": "StrSeries",
    "code": "StrSeries",
    "date": "DateSeries",
    "time": "TimeSeries",
}
FRAME_CLASSES = {
    ("pupil", "one"): "PupilFrame",
    ("pupil", "many"): "PupilEventFrame",
    ("teacher", "one"): "TeacherFrame",
    ("teacher", "many"): "TeacherEventFrame",
    (None, None): "ReferenceFrame",
}
FRAME_METHODS = {"where", "except_where", "sort_by"}


def generate(schema: Schema) -> str:
    """The source of the table declarations module."""
    tables = _in_reference_order(schema)
    parts = [
        '"""Tables of the standardised MAT dataset, to use in dataset definitions.\n\n'
        "Generated from schema/ by `python -m ehrql_schools.tables.generate`: do not edit.\n"
        '"""\n\n'
        "from ehrql_schools.query_language import (\n"
        + "".join(
            f"    {name},\n"
            for name in sorted(
                {
                    *SERIES_CLASSES.values(),
                    *FRAME_CLASSES.values(),
                    "column",
                    "lookup",
                    "related",
                    "table",
                    "unknown_table",
                }
            )
        )
        + ")\n\n"
        "__all__ = [\n" + "".join(f'    "{table.name}",\n' for table in tables) + "]\n"
    ]
    parts.extend(_table_source(table, schema) for table in tables)
    parts.append(
        "def __getattr__(name: str) -> object:\n"
        '    """Import errors that suggest the nearest table name."""\n'
        "    raise unknown_table(name, __all__)\n"
    )
    return "\n\n".join(parts)


def _in_reference_order(schema: Schema) -> list[Table]:
    """Tables sorted by name, each after the tables it looks up."""
    pending = dict(sorted(schema.tables.items()))
    ordered: list[Table] = []
    while pending:
        ready = [
            table
            for table in pending.values()
            if not any(target in pending for _, _, target, _ in _lookups(table, schema))
        ]
        if not ready:
            raise SystemExit(f"tables reference each other in a cycle: {', '.join(pending)}")
        for table in ready:
            ordered.append(table)
            del pending[table.name]
    return ordered


def _lookups(table: Table, schema: Schema) -> list[tuple[str, Column, str, str]]:
    """(attribute, key column, target table, target column) for each reference to follow."""
    found = []
    for column in table.columns.values():
        reference = column.references
        if reference is None or column.name == table.entity_key:
            continue
        target = schema.tables[reference.table]
        if not target.is_unique_column(reference.column):
            continue
        name = column.name.removesuffix("_id")
        name = name + "_" if keyword.iskeyword(name) or name == column.name else name
        if name in table.columns or name in FRAME_METHODS:
            raise SystemExit(f"{table.name}: lookup {name} clashes with a column or method")
        found.append((name, column, reference.table, reference.column))
    return found


def _relations(table: Table, schema: Schema) -> list[tuple[str, str, Table, Column]]:
    """(attribute, key column, other table, its column) for each table whose column references
    a unique column of this one (other than an entity table's own key)."""
    found = []
    for other in schema.tables.values():
        columns = [
            column
            for column in other.columns.values()
            if column.references is not None
            and column.references.table == table.name
            and column.name != other.entity_key
            and table.is_unique_column(column.references.column)
        ]
        for column in columns:
            assert column.references is not None
            name = other.name
            if len(columns) > 1:
                name = f"{other.name}_by_{column.name.removesuffix('_id')}"
            taken = {*table.columns, *(lookup[0] for lookup in _lookups(table, schema))}
            if name in taken or name in FRAME_METHODS:
                raise SystemExit(f"{table.name}: relation {name} clashes with a column or lookup")
            found.append((name, column.references.column, other, column))
    return found


def _table_source(table: Table, schema: Schema) -> str:
    frame_class = FRAME_CLASSES[(table.entity, table.rows)]
    lines = ["@table", f"class {table.name}({frame_class}):"]
    lines += _docstring(table.description.strip(), indent=4)
    for column in table.columns.values():
        lines.append("")
        lines.append(f"    {column.name} = column({SERIES_CLASSES[column.type]})")
        lines += _docstring(_column_text(column), indent=4)
    for name, column, target, target_column in _lookups(table, schema):
        lines.append("")
        lines.append(f'    {name} = lookup("{column.name}", lambda: {target}, "{target_column}")')
        lines += _docstring(f"The {target} row of {column.name} (null when it has none).", 4)
    for name, key_column, other, column in _relations(table, schema):
        lines.append("")
        lines.append(f'    {name} = related("{key_column}", lambda: {other.name}, "{column.name}")')
        text = f"The {other.name} rows whose {column.name} is this row's {key_column}."
        lines += _docstring(text, 4)
    return "\n".join(lines) + "\n"


def _column_text(column: Column) -> str:
    text = (column.description or column.name).strip()
    notes = []
    if column.codelist:
        notes.append(f"Codes from the {column.codelist} code list.")
    if column.categories:
        notes.append("One of " + ", ".join(column.categories) + ".")
    notes.append("Never null." if column.not_null else "May be null.")
    return " ".join([text, *notes])


def _docstring(text: str, indent: int) -> list[str]:
    text = " ".join(text.split()).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if text.endswith('"'):
        text = text[:-1] + '\\"'
    prefix = " " * indent
    if len(prefix) + len(text) + 6 <= WIDTH:
        return [f'{prefix}"""{text}"""']
    lines = textwrap.wrap(text, WIDTH - indent - 3, break_on_hyphens=False)
    return [f'{prefix}"""{lines[0]}', *(prefix + line for line in lines[1:]), f'{prefix}"""']


def main(argv: list[str]) -> int:
    source = generate(load_schema())
    if "--check" in argv:
        if OUTPUT.read_text() != source:
            print(f"{OUTPUT} is out of date: run python -m ehrql_schools.tables.generate")
            return 1
        return 0
    OUTPUT.write_text(source)
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
