"""Checks that span files: code lists exist; references reach a unique column of a like type."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from schema.models import Codelist, Column, Table
from schema.words import did_you_mean

# Types whose values can match each other in a reference.
_TYPE_FAMILIES = ({"integer", "bigint"}, {"string", "code"})


@dataclass(frozen=True)
class Finding:
    """A cross-file problem in a column: the table, the column, the column key, and the message."""

    table: str
    column: str
    key: str
    message: str


def cross_check(
    tables: dict[str, Table],
    codelists: dict[str, Codelist],
    broken_tables: set[str],
    broken_codelists: set[str],
) -> Iterator[Finding]:
    """Yield every problem in references and code list uses.

    Tables and code lists whose files have problems are in `broken_*`: uses of them are not
    reported again, since their own files already carry the problems.
    """
    for table in tables.values():
        for column in table.columns.values():
            if column.codelist is not None:
                yield from _codelist_use(table, column, codelists, broken_codelists)
            if column.references is not None:
                yield from _reference(table, column, tables, broken_tables)


def _codelist_use(
    table: Table, column: Column, codelists: dict[str, Codelist], broken: set[str]
) -> Iterator[Finding]:
    name = column.codelist
    if name not in codelists and name not in broken:
        hint = did_you_mean(name, [*codelists, *broken])
        message = f"column '{column.name}' uses unknown code list '{name}'{hint}"
        yield Finding(table.name, column.name, "codelist", message)


def _reference(
    table: Table, column: Column, tables: dict[str, Table], broken: set[str]
) -> Iterator[Finding]:
    reference = column.references
    assert reference is not None
    where = f"column '{column.name}' references {reference}"

    def finding(message: str) -> Finding:
        return Finding(table.name, column.name, "references", message)

    if reference.table in broken:
        return
    target_table = tables.get(reference.table)
    if target_table is None:
        hint = did_you_mean(reference.table, [*tables, *broken])
        yield finding(f"{where}: unknown table '{reference.table}'{hint}")
        return
    if target_table.is_view:
        yield finding(f"{where}: '{reference.table}' is a view; references must name a table")
        return
    target = target_table.columns.get(reference.column)
    if target is None:
        hint = did_you_mean(reference.column, target_table.columns)
        missing = f"table '{reference.table}' has no column '{reference.column}'"
        yield finding(f"{where}: {missing}{hint}")
        return
    if not target_table.is_unique_column(target.name):
        yield finding(f"{where}, which is neither the primary key nor unique")
    if not _compatible(column, target):
        yield finding(
            f"{where}: type {_describe(column)} does not match its type {_describe(target)}"
        )


def _compatible(column: Column, target: Column) -> bool:
    if column.type == "code" and target.type == "code":
        return column.codelist == target.codelist
    if column.type == target.type:
        return True
    return any({column.type, target.type} <= family for family in _TYPE_FAMILIES)


def _describe(column: Column) -> str:
    if column.type == "code":
        return f"code (code list '{column.codelist}')"
    return column.type
