"""An output file as the checks see it: its path, size, kind, description and contents."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from job_runner.disclosure.description import TableDescription, is_evidence, is_sidecar

FIGURE_TYPES = (".png", ".jpg", ".jpeg", ".svg")
TEXT_TYPES = (".txt", ".md", ".log", ".html")
REPORT_SUFFIX = ".sdc-report.json"


def kind_of(path: str | Path) -> str:
    """ "table", "figure", "text", "description", "report" or "other"."""
    name = str(path).lower()
    if is_sidecar(name):
        return "description"
    if is_evidence(name):
        return "evidence"
    if name.endswith(REPORT_SUFFIX):
        return "report"
    if name.endswith(".csv"):
        return "table"
    if name.endswith(FIGURE_TYPES):
        return "figure"
    if name.endswith(TEXT_TYPES):
        return "text"
    return "other"


@dataclass
class OutputFile:
    """One file to check. `name` is how reports show it (relative to the folder checked)."""

    path: Path
    name: str
    description: TableDescription | None = None

    @property
    def kind(self) -> str:
        return kind_of(self.path)

    @property
    def suffix(self) -> str:
        return self.path.suffix.lower()

    @cached_property
    def size(self) -> int:
        return self.path.stat().st_size

    @cached_property
    def sha256(self) -> str:
        digest = hashlib.sha256()
        with self.path.open("rb") as file:
            for block in iter(lambda: file.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()

    def text(self, limit: int = 4 << 20) -> str:
        """The file's text (at most `limit` bytes), undecodable bytes replaced."""
        with self.path.open("rb") as file:
            return file.read(limit).decode("utf-8", errors="replace")
