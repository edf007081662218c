"""The schema as Python objects: frozen pydantic models built by `load_schema`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

ColumnType = Literal["integer", "bigint", "float", "boolean", "string", "date", "time", "code"]
Entity = Literal["pupil", "teacher"]
Rows = Literal["one", "many"]
Kind = Literal["table", "view"]

COLUMN_TYPES: tuple[ColumnType, ...] = (
    "integer",
    "bigint",
    "float",
    "boolean",
    "string",
    "date",
    "time",
    "code",
)
NUMERIC_TYPES: frozenset[str] = frozenset({"integer", "bigint", "float"})
ENTITY_KEYS: dict[str, tuple[str, str]] = {
    # entity -> (its key column, the table that lists each entity once)
    "pupil": ("pupil_id", "pupils"),
    "teacher": ("teacher_id", "teachers"),
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Reference(_Frozen):
    """A foreign key target: `table.column`."""

    table: str
    column: str

    def __str__(self) -> str:
        return f"{self.table}.{self.column}"


class Column(_Frozen):
    """One column of a table or view, with its constraints."""

    name: str
    type: ColumnType
    description: str | None = None
    not_null: bool = False
    unique: bool = False
    references: Reference | None = None
    codelist: str | None = None
    categories: tuple[str, ...] | None = None
    min: int | float | None = None
    max: int | float | None = None
    regex: str | None = None
    first_of_month: bool = False
    after_column: str | None = None


class Table(_Frozen):
    """One table or view. `entity` is None for reference tables; `columns` keeps file order."""

    name: str
    kind: Kind = "table"
    entity: Entity | None = None
    rows: Rows | None = None
    description: str
    primary_key: tuple[str, ...] = ()
    unique_together: tuple[tuple[str, ...], ...] = ()
    columns: dict[str, Column]
    view_sql: str | None = None

    @property
    def is_view(self) -> bool:
        return self.kind == "view"

    @property
    def entity_key(self) -> str | None:
        """The entity's key column (`pupil_id`, `teacher_id`), or None for a reference table."""
        return ENTITY_KEYS[self.entity][0] if self.entity else None

    def is_unique_column(self, name: str) -> bool:
        """Whether the column alone identifies a row: declared unique or the whole primary key."""
        return (
            self.columns[name].unique
            or self.primary_key == (name,)
            or (name,) in self.unique_together
        )


class Code(_Frozen):
    """One code of a code list; `category` is None when the list has no categories."""

    code: str
    description: str
    category: str | None = None


class Codelist(_Frozen):
    """A list of codes. `categories` maps category name to description (empty: no categories)."""

    name: str
    description: str
    categories: dict[str, str] = {}
    codes: tuple[Code, ...]

    @property
    def code_values(self) -> tuple[str, ...]:
        return tuple(code.code for code in self.codes)


class Schema(_Frozen):
    """The whole schema: tables and views by name, and code lists by name, each sorted by name."""

    tables: dict[str, Table]
    codelists: dict[str, Codelist]

    @property
    def views(self) -> dict[str, Table]:
        return {name: table for name, table in self.tables.items() if table.is_view}

    @property
    def base_tables(self) -> dict[str, Table]:
        """The tables that hold data (not views)."""
        return {name: table for name, table in self.tables.items() if not table.is_view}
