"""What a run leaves behind in metadata/: each action's log, the manifest of outputs, and local
warnings about moderately_sensitive outputs that the backend's file checks would refuse."""

from __future__ import annotations

import csv
import datetime
import gzip
import json
import os
import re
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from job_runner.pipeline import MODERATELY_SENSITIVE_TYPES

MANIFEST = "manifest.json"
MAX_RELEASE_BYTES = 16 * 1024 * 1024
MAX_RELEASE_CSV_ROWS = 5_000
# Column names that mark a file as pupil- or teacher-level (after lower-casing and turning
# anything but letters and digits into `_`).
IDENTIFYING_COLUMNS = frozenset(
    {
        "pupil_id",
        "upn",
        "uln",
        "unique_pupil_number",
        "teacher_id",
        "staff_id",
        "trn",
        "teacher_reference_number",
        "date_of_birth",
        "dob",
        "birth_date",
        "postcode",
        "post_code",
        "address",
        "name",
        "first_name",
        "forename",
        "forenames",
        "surname",
        "last_name",
        "full_name",
        "legal_surname",
        "email",
        "phone",
    }
)
TABLE_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".parquet", ".arrow", ".feather")


def now_text() -> str:
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


class ActionLog:
    """metadata/<action>.log, written line by line (optionally timestamped) from any thread."""

    def __init__(self, path: Path, *, timestamps: bool = False) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.timestamps = timestamps
        self._file: IO[str] = open(path, "w", encoding="utf-8")  # noqa: SIM115
        self._lock = threading.Lock()
        self._at_line_start = True

    def write(self, text: str) -> int:
        with self._lock:
            for piece in text.splitlines(keepends=True):
                if self._at_line_start and self.timestamps:
                    self._file.write(f"{now_text()} ")
                self._file.write(piece)
                self._at_line_start = piece.endswith("\n")
            self._file.flush()
        return len(text)

    def line(self, text: str = "") -> None:
        if not self._at_line_start:
            self.write("\n")
        self.write(text + "\n")

    def close(self) -> None:
        with self._lock:
            self._file.close()


def tail(path: Path, lines: int = 20) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return text.splitlines()[-lines:]


# Tables


@dataclass(frozen=True)
class Shape:
    rows: int
    columns: list[str]


def table_shape(path: Path) -> Shape | None:
    """Row count and column names of a table file (CSV, gzipped CSV, TSV, Parquet, Arrow)."""
    name = path.name.lower()
    try:
        if name.endswith((".csv", ".csv.gz", ".tsv")):
            opener = gzip.open if name.endswith(".gz") else open
            with opener(path, "rt", encoding="utf-8", newline="") as file:  # type: ignore[operator]
                reader = csv.reader(file, delimiter="\t" if name.endswith(".tsv") else ",")
                header = next(reader, None)
                if header is None:
                    return Shape(0, [])
                return Shape(sum(1 for _ in reader), header)
        if name.endswith(".parquet"):
            import pyarrow.parquet as pq

            metadata = pq.ParquetFile(path).metadata
            return Shape(metadata.num_rows, list(metadata.schema.names))
        if name.endswith((".arrow", ".feather")):
            import pyarrow.ipc as ipc

            table = ipc.open_file(path).read_all()
            return Shape(table.num_rows, list(table.column_names))
    except Exception:  # an unreadable table is reported without a shape
        return None
    return None


def release_warnings(path: str, size: int, shape: Shape | None) -> list[str]:
    """Why the backend's file checks would refuse this moderately_sensitive output."""
    warnings = []
    suffix = Path(path).suffix.lower()
    if suffix not in MODERATELY_SENSITIVE_TYPES:
        warnings.append(
            f"{suffix or 'files without an extension'} cannot be released; use one of "
            + ", ".join(MODERATELY_SENSITIVE_TYPES)
        )
    if size > MAX_RELEASE_BYTES:
        warnings.append(f"{size / 1024 / 1024:.1f} MB is over the 16 MB release limit")
    if shape is not None and suffix == ".csv" and shape.rows > MAX_RELEASE_CSV_ROWS:
        warnings.append(
            f"{shape.rows:,} rows is over the {MAX_RELEASE_CSV_ROWS:,}-row limit for CSV files; "
            "release aggregates, not row-level data"
        )
    if shape is not None:
        found = [column for column in shape.columns if _normal(column) in IDENTIFYING_COLUMNS]
        if found:
            warnings.append(
                "column"
                + ("s " if len(found) > 1 else " ")
                + ", ".join(found)
                + (" look" if len(found) > 1 else " looks")
                + " pupil- or teacher-level; such files are refused"
            )
    return warnings


def _normal(column: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", column.strip().lower()).strip("_")


# Manifest


class Manifest:
    """metadata/manifest.json: every output file with its action, level, size, sha256, table
    shape and commit; rewritten atomically after each action."""

    def __init__(self, metadata: Path) -> None:
        self.path = metadata / MANIFEST
        self._lock = threading.Lock()

    def read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            data = {}
        data.setdefault("actions", {})
        data.setdefault("outputs", {})
        return data

    def update(
        self, action: str, summary: dict[str, Any], outputs: dict[str, dict[str, Any]] | None
    ) -> None:
        """Record the action's latest job; if `outputs` is given, they replace its old ones."""
        with self._lock:
            data = self.read()
            data["actions"][action] = summary
            if outputs is not None:
                kept = {
                    path: entry
                    for path, entry in data["outputs"].items()
                    if entry.get("action") != action
                }
                kept.update(outputs)
                data["outputs"] = dict(sorted(kept.items()))
            data["updated_at"] = now_text()
            write_atomically(self.path, json.dumps(data, indent=2) + "\n")


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def output_entry(
    project: Path,
    path: str,
    *,
    action: str,
    level: str,
    sha256: str,
    job_id: str,
    commit: str | None,
) -> dict[str, Any]:
    """The manifest entry of one output file, with local release warnings if it is
    moderately_sensitive."""
    file = project / path
    stat = file.stat()
    shape = table_shape(file) if path.lower().endswith(TABLE_SUFFIXES) else None
    entry: dict[str, Any] = {
        "action": action,
        "level": level,
        "size": stat.st_size,
        "sha256": sha256,
        "rows": shape.rows if shape else None,
        "columns": len(shape.columns) if shape else None,
        "job_id": job_id,
        "commit": commit,
        "created_at": datetime.datetime.fromtimestamp(stat.st_mtime)
        .astimezone()
        .isoformat(timespec="seconds"),
    }
    if level == "moderately_sensitive":
        entry["warnings"] = release_warnings(path, stat.st_size, shape)
    return entry


def summary_lines(
    *,
    status: str,
    exit_code: int | None,
    message: str,
    outputs: dict[str, dict[str, Any]],
    started: float | None,
    finished: float | None,
    undeclared: Iterable[str] = (),
) -> list[str]:
    """The summary appended to an action's log."""

    def when(moment: float | None) -> str:
        if moment is None:
            return "-"
        return datetime.datetime.fromtimestamp(moment).astimezone().isoformat(timespec="seconds")

    lines = ["", "=" * 72, f"status: {status}"]
    lines.append(f"exit code: {'-' if exit_code is None else exit_code}")
    if message and message != f"exit code {exit_code}":
        lines.append(f"message: {message}")
    lines.append(f"started: {when(started)}")
    lines.append(f"finished: {when(finished)}")
    if started is not None and finished is not None:
        lines.append(f"duration: {format_duration(finished - started)}")
    if outputs:
        lines.append("outputs:")
        for path, entry in outputs.items():
            shape = (
                f", {entry['rows']:,} rows x {entry['columns']} columns"
                if entry.get("rows") is not None
                else ""
            )
            lines.append(f"  {path}  ({entry['level']}, {entry['size']:,} bytes{shape})")
            for warning in entry.get("warnings", []):
                lines.append(f"    warning: {warning}")
    undeclared = list(undeclared)
    if undeclared:
        lines.append("not kept (written but not declared as outputs):")
        lines.extend(f"  {path}" for path in undeclared)
    return lines


def format_duration(seconds: float) -> str:
    seconds = max(seconds, 0.0)
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{rest:02d}s" if hours else f"{minutes}m{rest:02d}s"
