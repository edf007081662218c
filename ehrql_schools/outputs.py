"""Write rows to a file (CSV, gzipped CSV, Arrow IPC or Parquet) batch by batch.

Rows arrive in batches (lists of tuples, as engines' `get_results` gives them) and are written one
batch at a time, so memory does not grow with the number of rows. A file is built under a
temporary name in its folder and renamed into place only when complete: a failure leaves no file.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any, Protocol

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.ipc as pa_ipc
import pyarrow.parquet as pq

FORMATS = {".csv": "csv", ".csv.gz": "csv.gz", ".arrow": "arrow", ".parquet": "parquet"}
FORMAT_NAMES = tuple(FORMATS.values())
FORMATS_TEXT = ".csv, .csv.gz, .arrow or .parquet"

ARROW_TYPES: dict[type, pa.DataType] = {
    bool: pa.bool_(),
    int: pa.int64(),
    float: pa.float64(),
    str: pa.string(),
    datetime.date: pa.date32(),
    datetime.time: pa.time64("us"),
}


class OutputError(Exception):
    """The output cannot be written; the message names the file and what to do."""


def format_of(path: Path) -> str | None:
    """The format named by the path's extension, or None if it names none."""
    name = path.name.lower()
    for extension in sorted(FORMATS, key=len, reverse=True):
        if name.endswith(extension):
            return FORMATS[extension]
    return None


def arrow_schema(column_names: Sequence[str], column_types: Sequence[type]) -> pa.Schema:
    """The Arrow schema for columns of the query model's Python types."""
    fields = []
    for name, type_ in zip(column_names, column_types, strict=True):
        if type_ not in ARROW_TYPES:
            raise OutputError(f"column {name} has type {type_!r}, which cannot be written")
        fields.append(pa.field(name, ARROW_TYPES[type_]))
    return pa.schema(fields)


def to_record_batch(rows: Sequence[Sequence[Any]], schema: pa.Schema) -> pa.RecordBatch:
    """Rows (tuples in column order) as a record batch of the schema."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
    arrays = [
        pa.array(values, type=field.type) for values, field in zip(columns, schema, strict=True)
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


class _BatchWriter(Protocol):
    def write(self, batch: pa.RecordBatch) -> None: ...
    def close(self) -> None: ...


class _CSVWriter:
    """CSV with a header; times as HH:MM:SS, booleans as true/false, nulls as empty cells."""

    def __init__(self, sink: Any, schema: pa.Schema) -> None:
        self.times = [i for i, field in enumerate(schema) if pa.types.is_time(field.type)]
        self.schema = schema
        for i in self.times:
            self.schema = self.schema.set(i, schema.field(i).with_type(pa.time32("s")))
        self.writer = pa_csv.CSVWriter(sink, self.schema)

    def write(self, batch: pa.RecordBatch) -> None:
        if self.times:
            arrays = list(batch.columns)
            for i in self.times:
                arrays[i] = arrays[i].cast(pa.time32("s"), safe=False)
            batch = pa.RecordBatch.from_arrays(arrays, schema=self.schema)
        self.writer.write_batch(batch)

    def close(self) -> None:
        self.writer.close()


class _ParquetWriter:
    def __init__(self, path: str, schema: pa.Schema) -> None:
        self.writer = pq.ParquetWriter(path, schema)

    def write(self, batch: pa.RecordBatch) -> None:
        self.writer.write_batch(batch)

    def close(self) -> None:
        self.writer.close()


class _ArrowWriter:
    def __init__(self, sink: Any, schema: pa.Schema) -> None:
        self.writer = pa_ipc.new_file(sink, schema)

    def write(self, batch: pa.RecordBatch) -> None:
        self.writer.write_batch(batch)

    def close(self) -> None:
        self.writer.close()


@contextmanager
def _open_batch_writer(path: Path, format: str, schema: pa.Schema) -> Iterator[_BatchWriter]:
    with ExitStack() as stack:
        writer: _BatchWriter
        if format == "parquet":
            writer = _ParquetWriter(str(path), schema)
        else:
            sink = stack.enter_context(pa.OSFile(str(path), "wb"))
            if format == "csv.gz":
                sink = stack.enter_context(pa.CompressedOutputStream(sink, "gzip"))
            make = _ArrowWriter if format == "arrow" else _CSVWriter
            writer = make(sink, schema)
        stack.callback(writer.close)
        yield writer


def write_batches(
    writer: _BatchWriter, schema: pa.Schema, batches: Iterable[Sequence[Sequence[Any]]]
) -> int:
    """Write each batch of rows; the number of rows written."""
    count = 0
    for rows in batches:
        if rows:
            writer.write(to_record_batch(rows, schema))
            count += len(rows)
    return count


def temporary_sibling(path: Path) -> Path:
    """Where a file is built before it is renamed to `path`."""
    return path.with_name(f".{path.name}.partial-{os.getpid()}")


def prepare_folder(folder: Path) -> None:
    """Create the folder (and its parents) and check that files can be written in it."""
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"cannot write into {folder}: it is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"cannot create the folder {folder}: {error.strerror}") from None
    if not os.access(folder, os.W_OK):
        raise OutputError(f"cannot write to the folder {folder}: permission denied")


def write_rows(
    path: Path,
    column_names: Sequence[str],
    column_types: Sequence[type],
    batches: Iterable[Sequence[Sequence[Any]]],
    format: str | None = None,
) -> int:
    """Write the rows to `path` in the format its extension names (or `format`); the row count.

    The file appears only once complete; on any error nothing is left at `path`'s folder.
    """
    format = format or format_of(path)
    if format not in FORMAT_NAMES:
        raise OutputError(f"{path}: the output must end {FORMATS_TEXT}")
    schema = arrow_schema(column_names, column_types)
    if path.is_dir():
        raise OutputError(f"cannot write {path}: a folder of that name is in the way")
    prepare_folder(path.parent)
    partial = temporary_sibling(path)
    try:
        try:
            with _open_batch_writer(partial, format, schema) as writer:
                count = write_batches(writer, schema, batches)
        except OSError as error:
            raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return count


def write_table_files(
    folder: Path,
    format: str,
    tables: Iterable[tuple[str, Sequence[str], Sequence[type], Iterable[Sequence[Sequence[Any]]]]],
) -> dict[str, int]:
    """Write several tables as `<folder>/<name>.<format>`; {name: row count}.

    Every file is built under a temporary name and they are all renamed into place at the end,
    so a failure part-way leaves none of them (other files in the folder are left alone).
    """
    if format not in FORMAT_NAMES:
        raise OutputError(f"unknown format {format}: use one of {', '.join(FORMAT_NAMES)}")
    prepare_folder(folder)
    built: list[tuple[Path, Path]] = []
    counts: dict[str, int] = {}
    try:
        for name, column_names, column_types, batches in tables:
            path = folder / f"{name}.{format}"
            partial = temporary_sibling(path)
            built.append((partial, path))
            schema = arrow_schema(column_names, column_types)
            try:
                with _open_batch_writer(partial, format, schema) as writer:
                    counts[name] = write_batches(writer, schema, batches)
            except OSError as error:
                raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
        for partial, path in built:
            os.replace(partial, path)
    finally:
        for partial, _ in built:
            partial.unlink(missing_ok=True)
    return counts


def write_csv_stream(
    stream: IO[bytes],
    column_names: Sequence[str],
    column_types: Sequence[type],
    batches: Iterable[Sequence[Sequence[Any]]],
) -> int:
    """Write the rows as CSV to a binary stream (e.g. stdout); the row count."""
    schema = arrow_schema(column_names, column_types)
    sink = pa.PythonFile(stream, mode="w")
    writer = _CSVWriter(sink, schema)
    try:
        count = write_batches(writer, schema, batches)
    finally:
        writer.close()
        stream.flush()
    return count
