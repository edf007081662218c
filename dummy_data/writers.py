"""Where a synthetic trust goes: a DuckDB file, a folder of Parquet files, or a PostgreSQL database.

Each writer takes batches table by table and makes them visible only on `commit()`: DuckDB and
Parquet output is built under a temporary name beside the target and renamed into place; PostgreSQL
output is loaded inside one transaction. `abort()` leaves nothing behind.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path
from typing import Protocol

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from schema import Schema
from schema.ddl import ddl_statements

ARROW_TYPES = {
    "integer": pa.int32(),
    "bigint": pa.int64(),
    "float": pa.float64(),
    "boolean": pa.bool_(),
    "string": pa.string(),
    "code": pa.string(),
    "date": pa.date32(),
    "time": pa.time64("us"),
}

# Tables the generator adds beside the schema's: the settings and the planted truth.
METADATA_TABLES: dict[str, pa.Schema] = {
    "dummy_data_settings": pa.schema(
        [("setting", pa.string()), ("value", pa.string()), ("description", pa.string())]
    ),
    "dummy_data_school_effects": pa.schema([("school_id", pa.int32()), ("effect", pa.float64())]),
    "dummy_data_teacher_effects": pa.schema(
        [("teacher_id", pa.int32()), ("academic_year", pa.int32()), ("effect", pa.float64())]
    ),
}


class OutputError(Exception):
    """The output cannot be written; the message says where and what to do."""


def arrow_schema(schema: Schema, table: str) -> pa.Schema:
    if table in METADATA_TABLES:
        return METADATA_TABLES[table]
    columns = schema.tables[table].columns.values()
    return pa.schema(
        [pa.field(c.name, ARROW_TYPES[c.type], nullable=not c.not_null) for c in columns]
    )


def to_arrow(
    batch: pa.Table | pd.DataFrame, target: pa.Schema, *, keep_dictionaries: bool
) -> pa.Table:
    """The batch's target columns, in order, cast to their types.

    Dictionary-encoded string columns stay dictionary-encoded when `keep_dictionaries` is set
    (DuckDB takes them as they are, which is much faster than materialising the strings).
    """
    if isinstance(batch, pd.DataFrame):
        batch = pa.Table.from_pandas(batch[target.names], preserve_index=False)
    arrays, fields = [], []
    for field in target:
        column = batch.column(field.name)
        if not (keep_dictionaries and pa.types.is_dictionary(column.type)):
            column = column.cast(field.type)
        arrays.append(column)
        fields.append(field.with_type(column.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


class TrustWriter(Protocol):
    def write(self, table: str, batch: pa.Table | pd.DataFrame) -> None: ...
    def commit(self) -> None: ...
    def abort(self) -> None: ...


def _temporary_sibling(target: Path) -> Path:
    return target.with_name(f".{target.name}.partial-{os.getpid()}")


def _check_writable_folder(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"cannot create the folder {folder}: a file of that name is in the way")
    if not folder.exists():
        try:
            folder.mkdir(parents=True)
        except OSError as error:
            raise OutputError(f"cannot create the folder {folder}: {error.strerror}") from None
    if not os.access(folder, os.W_OK):
        raise OutputError(f"cannot write to the folder {folder}: permission denied")


class DuckDBWriter:
    """Writes a DuckDB database file. Tables carry NOT NULL but no indexes, so loading stays fast;
    keys and references are checked by `osschools data validate`-style SQL checks instead."""

    INSERT_ROWS = 2_000_000

    def __init__(self, path: Path, schema: Schema) -> None:
        self.path = path
        self.schema = schema
        _check_writable_folder(path.parent)
        self.partial = _temporary_sibling(path)
        self.partial.unlink(missing_ok=True)
        self.connection = duckdb.connect(str(self.partial))
        self.pending: list[pa.Table] = []
        self.pending_table = ""
        for statement in ddl_statements(schema, "duckdb", constraints=False):
            self.connection.execute(statement)
        for name, target in METADATA_TABLES.items():
            self._create_metadata_table(name, target)

    def _create_metadata_table(self, name: str, target: pa.Schema) -> None:
        empty = target.empty_table()  # noqa: F841 - read by DuckDB's replacement scan
        self.connection.execute(f"CREATE TABLE {name} AS SELECT * FROM empty")

    def write(self, table: str, batch: pa.Table | pd.DataFrame) -> None:
        arrow = to_arrow(batch, arrow_schema(self.schema, table), keep_dictionaries=True)
        if self.pending and (table, arrow.schema) != (self.pending_table, self.pending[0].schema):
            self._flush()
        self.pending_table = table
        self.pending.append(arrow)
        if sum(len(part) for part in self.pending) >= self.INSERT_ROWS:
            self._flush()

    def _flush(self) -> None:
        """Insert the pending batches at once: DuckDB loads a few large inserts about a third
        faster than many small ones."""
        rows = pa.concat_tables(self.pending)  # noqa: F841 - read by DuckDB's replacement scan
        self.connection.execute(f'INSERT INTO "{self.pending_table}" SELECT * FROM rows')
        self.pending = []

    def commit(self) -> None:
        if self.pending:
            self._flush()
        self.connection.execute("CHECKPOINT")
        self.connection.close()
        os.replace(self.partial, self.path)

    def abort(self) -> None:
        self.connection.close()
        self.partial.unlink(missing_ok=True)
        Path(f"{self.partial}.wal").unlink(missing_ok=True)


class ParquetWriter:
    """Writes one Parquet file per table into a folder (plus the schema's view SQL in views/)."""

    def __init__(self, folder: Path, schema: Schema) -> None:
        self.folder = folder
        self.schema = schema
        _check_writable_folder(folder.parent)
        self.partial = _temporary_sibling(folder)
        shutil.rmtree(self.partial, ignore_errors=True)
        self.partial.mkdir()
        self.files: dict[str, pq.ParquetWriter] = {}

    def write(self, table: str, batch: pa.Table | pd.DataFrame) -> None:
        target = arrow_schema(self.schema, table)
        if table not in self.files:
            self.files[table] = pq.ParquetWriter(self.partial / f"{table}.parquet", target)
        self.files[table].write_table(to_arrow(batch, target, keep_dictionaries=False))

    def commit(self) -> None:
        for name in [*self.schema.base_tables, *METADATA_TABLES]:
            if name not in self.files:  # an empty table still gets its file
                self.write(name, arrow_schema(self.schema, name).empty_table())
        for file in self.files.values():
            file.close()
        old = self.folder.with_name(f".{self.folder.name}.old-{os.getpid()}")
        if self.folder.exists():
            os.replace(self.folder, old)
        os.replace(self.partial, self.folder)
        shutil.rmtree(old, ignore_errors=True)

    def abort(self) -> None:
        for file in self.files.values():
            file.close()
        shutil.rmtree(self.partial, ignore_errors=True)


class PostgresWriter:
    """Loads the trust into a PostgreSQL database in one transaction, with COPY.

    The database must not already hold the schema's tables unless `replace` is set, in which case
    they are dropped inside the same transaction (so a failed load leaves the old data in place).
    """

    def __init__(self, url: str, schema: Schema, *, replace: bool = False) -> None:
        import psycopg

        self.schema = schema
        try:
            self.connection = psycopg.connect(_libpq_url(url), autocommit=False)
        except psycopg.OperationalError as error:
            raise OutputError(f"cannot connect to PostgreSQL: {_first_line(error)}") from None
        existing = self._existing_tables()
        if existing and not replace:
            self.connection.close()
            raise OutputError(
                f"the database already has tables of the schema ({', '.join(sorted(existing)[:5])}"
                f"{'...' if len(existing) > 5 else ''}); pass --replace to replace them"
            )
        with self.connection.cursor() as cursor:
            for name in sorted(existing):
                kind = "VIEW" if name in schema.views else "TABLE"
                cursor.execute(f'DROP {kind} IF EXISTS "{name}" CASCADE')
            for statement in ddl_statements(schema, "postgresql", constraints=False):
                cursor.execute(statement)
            for name, target in METADATA_TABLES.items():
                columns = ", ".join(f'"{f.name}" {_pg_type(f.type)}' for f in target)
                cursor.execute(f'CREATE TABLE "{name}" ({columns})')

    def _existing_tables(self) -> set[str]:
        names = [*self.schema.tables, *METADATA_TABLES]
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema() AND table_name = ANY(%s)",
                (names,),
            )
            return {row[0] for row in cursor.fetchall()}

    def write(self, table: str, batch: pa.Table | pd.DataFrame) -> None:
        arrow = to_arrow(batch, arrow_schema(self.schema, table), keep_dictionaries=False)
        buffer = io.BytesIO()
        pa_csv.write_csv(arrow, buffer, pa_csv.WriteOptions(include_header=False))
        columns = ", ".join(f'"{name}"' for name in arrow.column_names)
        copy_sql = f'COPY "{table}" ({columns}) FROM STDIN WITH (FORMAT csv)'
        with self.connection.cursor() as cursor, cursor.copy(copy_sql) as copy:
            copy.write(buffer.getvalue())

    def commit(self) -> None:
        self.connection.commit()
        self.connection.close()

    def abort(self) -> None:
        self.connection.rollback()
        self.connection.close()


def _pg_type(arrow_type: pa.DataType) -> str:
    return {pa.int32(): "integer", pa.float64(): "double precision"}.get(arrow_type, "text")


def _libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def open_writer(target: str, schema: Schema, *, replace: bool = False) -> TrustWriter:
    """A writer for the target: a PostgreSQL URL, a path ending .duckdb, or a folder for Parquet."""
    if target.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
        return PostgresWriter(target, schema, replace=replace)
    path = Path(target)
    if path.suffix == ".duckdb":
        return DuckDBWriter(path, schema)
    if path.suffix:
        raise OutputError(
            f"don't know how to write {target}: give a path ending .duckdb, a folder for Parquet "
            "files, or a postgresql:// URL"
        )
    return ParquetWriter(path, schema)
