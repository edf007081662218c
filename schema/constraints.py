"""Every constraint the schema declares, as a SQL query that counts the rows breaking it.

The same checks validate a trust's extracts and the synthetic data: each `ConstraintCheck` runs on
DuckDB and PostgreSQL alike (only whole-value regular expressions differ between the two).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from schema.models import Column, Schema, Table

Dialect = Literal["duckdb", "postgresql"]


@dataclass(frozen=True)
class ConstraintCheck:
    table: str
    rule: str  # e.g. "not_null(pupil_id)", "references(school_id -> schools.school_id)"
    sql: str  # SELECT COUNT(*) of the rows breaking the rule


def _quote(name: str) -> str:
    return f'"{name}"'


def _literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _count(table: str, condition: str) -> str:
    return f"SELECT COUNT(*) FROM {_quote(table)} WHERE {condition}"


def _duplicates(table: str, columns: tuple[str, ...]) -> str:
    keys = ", ".join(map(_quote, columns))
    not_null = " AND ".join(f"{_quote(c)} IS NOT NULL" for c in columns)
    return (
        f"SELECT COUNT(*) FROM (SELECT {keys} FROM {_quote(table)} WHERE {not_null} "
        f"GROUP BY {keys} HAVING COUNT(*) > 1) AS duplicated"
    )


def _regex_mismatch(column: str, pattern: str, dialect: Dialect) -> str:
    if dialect == "duckdb":
        return f"NOT regexp_full_match({column}, {_literal(pattern)})"
    return f"{column} !~ {_literal('^(?:' + pattern.removeprefix('^').removesuffix('$') + ')$')}"


def _column_checks(schema: Schema, table: Table, column: Column, dialect: Dialect):
    name, quoted = column.name, _quote(column.name)
    if column.not_null:
        yield f"not_null({name})", _count(table.name, f"{quoted} IS NULL")
    if column.unique:
        yield f"unique({name})", _duplicates(table.name, (name,))
    if column.references:
        target = column.references
        yield (
            f"references({name} -> {target})",
            f"SELECT COUNT(*) FROM {_quote(table.name)} AS child WHERE child.{quoted} IS NOT NULL "
            f"AND NOT EXISTS (SELECT 1 FROM {_quote(target.table)} AS parent "
            f"WHERE parent.{_quote(target.column)} = child.{quoted})",
        )
    allowed = (
        schema.codelists[column.codelist].code_values if column.codelist else column.categories
    )
    if allowed:
        values = ", ".join(_literal(value) for value in allowed)
        source = f"codelist {column.codelist}" if column.codelist else "categories"
        yield (
            f"{name} in {source}",
            _count(
                table.name, f"{quoted} IS NOT NULL AND CAST({quoted} AS VARCHAR) NOT IN ({values})"
            ),
        )
    if column.min is not None:
        yield f"{name} >= {column.min}", _count(table.name, f"{quoted} < {column.min}")
    if column.max is not None:
        yield f"{name} <= {column.max}", _count(table.name, f"{quoted} > {column.max}")
    if column.regex:
        yield (
            f"{name} matches {column.regex}",
            _count(
                table.name,
                f"{quoted} IS NOT NULL AND {_regex_mismatch(quoted, column.regex, dialect)}",
            ),
        )
    if column.first_of_month:
        yield f"{name} first of month", _count(table.name, f"EXTRACT(DAY FROM {quoted}) <> 1")
    if column.after_column:
        other = _quote(column.after_column)
        yield f"{name} >= {column.after_column}", _count(table.name, f"{quoted} < {other}")


def constraint_checks(schema: Schema, dialect: Dialect = "duckdb") -> list[ConstraintCheck]:
    """All checks of all base tables, in schema order."""
    checks = []
    for table in schema.base_tables.values():
        rules = []
        if table.primary_key:
            rules.append(
                (
                    f"primary_key({', '.join(table.primary_key)})",
                    _duplicates(table.name, table.primary_key),
                )
            )
        for columns in table.unique_together:
            rules.append((f"unique({', '.join(columns)})", _duplicates(table.name, columns)))
        for column in table.columns.values():
            rules.extend(_column_checks(schema, table, column, dialect))
        checks.extend(ConstraintCheck(table.name, rule, sql) for rule, sql in rules)
    return checks
