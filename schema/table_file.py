"""Check one table file (schema/tables/<name>.yaml) on its own and build its `Table`.

Checks that need other files (code lists exist, references resolve) are in `cross_checks`.
"""

from __future__ import annotations

import re
from typing import Any

from schema.models import COLUMN_TYPES, ENTITY_KEYS, NUMERIC_TYPES, Column, Reference, Table
from schema.problems import FileProblems
from schema.sql_keywords import reserved_in
from schema.words import did_you_mean, is_name, show, unknown_key
from schema.yaml_lines import LineDict, LineList

TABLE_KEYS = (
    "name",
    "kind",
    "entity",
    "rows",
    "description",
    "primary_key",
    "unique_together",
    "columns",
    "view_sql",
)
COLUMN_KEYS = (
    "type",
    "description",
    "not_null",
    "unique",
    "references",
    "codelist",
    "categories",
    "min",
    "max",
    "regex",
    "first_of_month",
    "after_column",
)
REFERENCE_PATTERN = re.compile(r"^([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)$")


def check_table_file(document: Any, stem: str, report: FileProblems) -> Table | None:
    """Check a parsed table file; return its Table, or None when the file has problems."""
    if not isinstance(document, LineDict):
        report.add(1, "a table file must be a mapping with keys name, entity, description, columns")
        return None
    before = len(report.problems)
    checker = _TableChecker(document, report)
    table = checker.check(stem)
    return table if len(report.problems) == before else None


def check_file_name(document: LineDict, stem: str, report: FileProblems) -> str | None:
    """Check the `name` key of a table or code list file against its file name; return the name."""
    if "name" not in document:
        report.add(document.line, "missing key 'name'")
        return None
    name = document["name"]
    line = document.key_lines["name"]
    if not isinstance(name, str):
        report.add(line, f"name must be a string, not {show(name)}")
        return None
    if not is_name(name):
        report.add(line, f"name '{name}' must be lower_snake_case")
    if name != stem:
        report.add(line, f"name '{name}' does not match the file name '{stem}.yaml'")
    return name


def check_description(
    mapping: LineDict, where: str, report: FileProblems, *, required: bool, line: int
) -> str | None:
    """Check an optional or required `description`: a non-empty string."""
    if "description" not in mapping:
        if required:
            report.add(line, f"missing key 'description'{where}")
        return None
    value = mapping["description"]
    if not isinstance(value, str) or not value.strip():
        report.add(mapping.key_lines["description"], f"description{where} must be non-empty text")
        return None
    return value.strip()


class _TableChecker:
    """The checks of one table file. Each method checks one part and reports into `report`."""

    def __init__(self, document: LineDict, report: FileProblems) -> None:
        self.doc = document
        self.report = report

    def line(self, key: str) -> int:
        return self.doc.key_lines.get(key, self.doc.line)

    def check(self, stem: str) -> Table | None:
        for key in self.doc:
            if key not in TABLE_KEYS:
                self.report.add(self.doc.key_lines[key], unknown_key(key, "", TABLE_KEYS))
        name = check_file_name(self.doc, stem, self.report)
        if name is not None and (reserved := reserved_in(name)):
            message = f"table name '{name}' is a reserved word in {reserved} SQL"
            self.report.add(self.line("name"), message)
        kind = self.choice("kind", ("table", "view"), default="table")
        entity = self.choice("entity", ("pupil", "teacher", "none"), default=None)
        rows = self.rows(entity)
        description = check_description(
            self.doc, "", self.report, required=True, line=self.doc.line
        )
        columns = self.columns()
        primary_key = self.primary_key(columns, kind)
        unique_together = self.unique_together()
        view_sql = self.view_sql(kind)
        if columns is not None and entity in ENTITY_KEYS:
            self.entity_key(name, entity, rows, columns, primary_key, unique_together)
        if self.report or name is None or columns is None:
            return None
        return Table(
            name=name,
            kind=kind,
            entity=None if entity == "none" else entity,
            rows=rows,
            description=description,
            primary_key=primary_key,
            unique_together=unique_together,
            columns=columns,
            view_sql=view_sql,
        )

    def choice(self, key: str, options: tuple[str, ...], default: str | None) -> Any:
        if key not in self.doc:
            if default is None:
                self.report.add(self.doc.line, f"missing key '{key}' ({' | '.join(options)})")
            return default
        value = self.doc[key]
        if value not in options or not isinstance(value, str):
            hint = did_you_mean(value, options) if isinstance(value, str) else ""
            message = f"{key} must be one of {', '.join(options)}, not {show(value)}{hint}"
            self.report.add(self.line(key), message)
            return default
        return value

    def rows(self, entity: str | None) -> str | None:
        if entity == "none":
            if "rows" in self.doc:
                self.report.add(
                    self.line("rows"),
                    "rows is only for entity tables (pupil or teacher); omit it for entity: none",
                )
            return None
        if entity is None:  # entity missing or invalid: already reported
            return None
        if "rows" not in self.doc:
            self.report.add(self.line("entity"), f"entity {entity} needs rows: one or many")
            return None
        return self.choice("rows", ("one", "many"), default="many")

    def columns(self) -> dict[str, Column] | None:
        if "columns" not in self.doc:
            self.report.add(self.doc.line, "missing key 'columns'")
            return None
        raw = self.doc["columns"]
        if not isinstance(raw, LineDict) or not raw:
            message = "columns must be a mapping of at least one column"
            self.report.add(self.line("columns"), message)
            return None
        columns: dict[str, Column] = {}
        for name, spec in raw.items():
            column = _ColumnChecker(name, spec, raw.key_lines[name], self.report).check()
            if column is not None:
                columns[name] = column
        self.after_columns(raw, columns)
        return columns

    def after_columns(self, raw: LineDict, columns: dict[str, Column]) -> None:
        for column in columns.values():
            target = column.after_column
            if target is None:
                continue
            line = raw[column.name].key_lines["after_column"]
            where = f"after_column in column '{column.name}'"
            if target == column.name:
                self.report.add(line, f"{where} names the column itself")
            elif target not in raw:
                self.report.add(
                    line, f"{where} names unknown column '{target}'{did_you_mean(target, raw)}"
                )
            elif target in columns and columns[target].type != column.type:
                self.report.add(
                    line,
                    f"{where} names column '{target}' of type {columns[target].type}; "
                    f"it must have the same type ({column.type})",
                )

    def column_list(self, value: Any, line: int, what: str, columns: LineDict) -> tuple[str, ...]:
        """Check a list of column names (a primary key, a unique_together item)."""
        if not isinstance(value, LineList) or not value:
            self.report.add(line, f"{what} must be a non-empty list of column names")
            return ()
        names: list[str] = []
        for item, item_line in zip(value, value.item_lines, strict=True):
            if not isinstance(item, str):
                self.report.add(item_line, f"{what}: {show(item)} is not a column name")
            elif item not in columns:
                hint = did_you_mean(item, columns)
                self.report.add(item_line, f"{what} names unknown column '{item}'{hint}")
            elif item in names:
                self.report.add(item_line, f"{what} names column '{item}' twice")
            else:
                names.append(item)
        return tuple(names)

    def raw_columns(self) -> LineDict:
        raw = self.doc.get("columns")
        return raw if isinstance(raw, LineDict) else LineDict()

    def primary_key(self, columns: dict[str, Column] | None, kind: str) -> tuple[str, ...]:
        if "primary_key" not in self.doc:
            return ()
        line = self.line("primary_key")
        if kind == "view":
            self.report.add(line, "a view has no primary key")
            return ()
        value = self.doc["primary_key"]
        names = self.column_list(value, line, "primary_key", self.raw_columns())
        for name, item_line in zip(value, getattr(value, "item_lines", []), strict=False):
            if columns is not None and name in columns and not columns[name].not_null:
                self.report.add(
                    item_line, f"primary key column '{name}' must be declared not_null: true"
                )
        return names

    def unique_together(self) -> tuple[tuple[str, ...], ...]:
        if "unique_together" not in self.doc:
            return ()
        value = self.doc["unique_together"]
        line = self.line("unique_together")
        if not isinstance(value, LineList) or not value:
            self.report.add(line, "unique_together must be a list of lists of column names")
            return ()
        return tuple(
            self.column_list(item, item_line, "unique_together", self.raw_columns())
            for item, item_line in zip(value, value.item_lines, strict=True)
        )

    def view_sql(self, kind: str) -> str | None:
        if kind != "view":
            if "view_sql" in self.doc:
                self.report.add(self.line("view_sql"), "view_sql is only for kind: view")
            return None
        value = self.doc.get("view_sql")
        if not isinstance(value, str) or not value.strip():
            self.report.add(self.line("view_sql"), "a view needs view_sql: its SELECT statement")
            return None
        return value.strip().rstrip(";").rstrip()

    def entity_key(
        self,
        name: str | None,
        entity: str,
        rows: str | None,
        columns: dict[str, Column],
        primary_key: tuple[str, ...],
        unique_together: tuple[tuple[str, ...], ...],
    ) -> None:
        """Entity tables carry their key: not null, referencing the entity table, unique if one row.

        The entity table itself (pupils, teachers) need not reference itself.
        """
        key, entity_table = ENTITY_KEYS[entity]
        raw = self.raw_columns()
        if key not in raw:
            self.report.add(self.line("entity"), f"entity {entity} table needs a column '{key}'")
            return
        if key not in columns:  # the column itself has problems, already reported
            return
        column = columns[key]
        line = raw.key_lines[key]
        role = f"(the key of entity {entity})"
        if not column.not_null:
            self.report.add(line, f"column '{key}' must be not_null: true {role}")
        expected = Reference(table=entity_table, column=key)
        if name != entity_table and column.references != expected:
            self.report.add(
                raw[key].key_lines.get("references", line),
                f"column '{key}' must reference {expected} {role}",
            )
        unique = column.unique or primary_key == (key,) or (key,) in unique_together
        if rows == "one" and not unique:
            self.report.add(
                line,
                f"column '{key}' must be unique in a rows: one table "
                "(unique: true, or the whole primary key)",
            )


class _ColumnChecker:
    """The checks of one column's mapping; builds the Column when they pass."""

    def __init__(self, name: Any, spec: Any, line: int, report: FileProblems) -> None:
        self.name = name
        self.spec = spec
        self.line = line
        self.report = report
        self.where = f" in column '{name}'"

    def key_line(self, key: str) -> int:
        return self.spec.key_lines[key]

    def add(self, key: str, message: str) -> None:
        self.report.add(self.key_line(key), message)

    def check(self) -> Column | None:
        if isinstance(self.name, bool):
            message = f"column name {show(self.name)}: YAML reads on, off, yes and no as booleans"
            self.report.add(self.line, message + "; quote the name")
            return None
        if not is_name(self.name):
            self.report.add(self.line, f"column name {show(self.name)} must be lower_snake_case")
            return None
        if reserved := reserved_in(self.name):
            message = f"column name '{self.name}' is a reserved word in {reserved} SQL"
            self.report.add(self.line, message)
            return None
        if not isinstance(self.spec, LineDict):
            message = f"column '{self.name}' must be a mapping with at least a type"
            self.report.add(self.line, message)
            return None
        before = len(self.report.problems)
        for key in self.spec:
            if key not in COLUMN_KEYS:
                self.report.add(self.key_line(key), unknown_key(key, self.where, COLUMN_KEYS))
        fields: dict[str, Any] = {"name": self.name, "type": self.type()}
        fields["description"] = check_description(
            self.spec, self.where, self.report, required=False, line=self.line
        )
        for key in ("not_null", "unique", "first_of_month"):
            fields[key] = self.boolean(key)
        fields["references"] = self.references()
        for key in ("codelist", "after_column"):
            fields[key] = self.text(key)
        fields["categories"] = self.categories()
        fields["min"], fields["max"] = self.bound("min"), self.bound("max")
        fields["regex"] = self.regex()
        self.type_rules(fields)
        if len(self.report.problems) != before or fields["type"] is None:
            return None
        return Column(**fields)

    def type(self) -> str | None:
        if "type" not in self.spec:
            self.report.add(self.line, f"missing key 'type'{self.where}")
            return None
        value = self.spec["type"]
        if value not in COLUMN_TYPES or not isinstance(value, str):
            hint = did_you_mean(value, COLUMN_TYPES) or f"; types: {', '.join(COLUMN_TYPES)}"
            self.add("type", f"unknown type {show(value)}{self.where}{hint}")
            return None
        return value

    def boolean(self, key: str) -> bool:
        value = self.spec.get(key, False)
        if not isinstance(value, bool):
            self.add(key, f"{key}{self.where} must be true or false, not {show(value)}")
            return False
        return value

    def text(self, key: str) -> str | None:
        value = self.spec.get(key)
        if value is not None and not is_name(value):
            self.add(key, f"{key}{self.where} must be a lower_snake_case name, not {show(value)}")
            return None
        return value

    def references(self) -> Reference | None:
        value = self.spec.get("references")
        if value is None:
            return None
        match = REFERENCE_PATTERN.match(value) if isinstance(value, str) else None
        if match is None:
            message = f"references{self.where} must be table.column, not {show(value)}"
            self.add("references", message)
            return None
        return Reference(table=match[1], column=match[2])

    def categories(self) -> tuple[str, ...] | None:
        value = self.spec.get("categories")
        if value is None:
            return None
        if not isinstance(value, LineList) or not value:
            self.add("categories", f"categories{self.where} must be a non-empty list of strings")
            return None
        seen: list[str] = []
        for item, line in zip(value, value.item_lines, strict=True):
            if not isinstance(item, str):
                message = f"category {show(item)}{self.where} must be a string (quote it)"
                self.report.add(line, message)
            elif item in seen:
                self.report.add(line, f"category '{item}' is listed twice{self.where}")
            else:
                seen.append(item)
        return tuple(seen)

    def bound(self, key: str) -> int | float | None:
        value = self.spec.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(key, f"{key}{self.where} must be a number, not {show(value)}")
            return None
        return value

    def regex(self) -> str | None:
        value = self.spec.get("regex")
        if value is None:
            return None
        if not isinstance(value, str):
            self.add("regex", f"regex{self.where} must be a string, not {show(value)}")
            return None
        try:
            re.compile(value)
        except re.error as error:
            self.add("regex", f"regex{self.where} does not compile: {error}")
            return None
        return value

    def type_rules(self, fields: dict[str, Any]) -> None:
        """Which constraints go with which column type."""
        kind = fields["type"]
        if kind is None:
            return
        if kind == "code" and "codelist" not in self.spec:
            self.report.add(self.key_line("type"), f"type code needs a codelist{self.where}")
        self.only_for("codelist", {"code"}, kind, "type code")
        self.only_for("categories", {"string"}, kind, "string columns")
        self.only_for("min", NUMERIC_TYPES, kind, "integer, bigint and float columns")
        self.only_for("max", NUMERIC_TYPES, kind, "integer, bigint and float columns")
        self.only_for("regex", {"string"}, kind, "string columns")
        self.only_for("first_of_month", {"date"}, kind, "date columns")
        for key in ("min", "max"):
            value = fields[key]
            if kind in ("integer", "bigint") and isinstance(value, float):
                self.add(key, f"{key}{self.where} must be a whole number for type {kind}")
        low, high = fields["min"], fields["max"]
        if low is not None and high is not None and low > high:
            self.add("max", f"max {high}{self.where} is less than min {low}")

    def only_for(self, key: str, types: set[str] | frozenset[str], kind: str, allowed: str) -> None:
        if key in self.spec and kind not in types:
            self.add(key, f"{key}{self.where} is only for {allowed}, not type {kind}")
