"""The job state database: one row per job, in SQLite (WAL) under the project's .osschools/.

A job is `pending`, `running`, `succeeded`, `failed`, `cancelled` or `skipped`. The database is
written before and after every step, so it survives a crash or Ctrl-C: on the next start, jobs
still marked pending or running are marked cancelled (`recover`), their leftover processes are
killed and their work folders removed. Only a `succeeded` job's recorded outputs count as
complete.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PENDING = "pending"
RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
CANCELLED = "cancelled"
SKIPPED = "skipped"
STATUSES = (PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED, SKIPPED)
FINISHED = (SUCCEEDED, FAILED, CANCELLED, SKIPPED)
INTERRUPTED = "the runner stopped (crash, kill or power cut) while this job was running"

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    action TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed',
                                           'cancelled', 'skipped')),
    fingerprint TEXT,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    exit_code INTEGER,
    message TEXT NOT NULL DEFAULT '',
    outputs TEXT NOT NULL DEFAULT '{}',
    workdir TEXT,
    executor TEXT
);
CREATE INDEX IF NOT EXISTS jobs_by_action ON jobs (action, created_at);
"""


@dataclass(frozen=True)
class JobRecord:
    id: str
    run_id: str
    action: str
    status: str
    fingerprint: str | None
    created_at: float
    started_at: float | None
    finished_at: float | None
    exit_code: int | None
    message: str
    outputs: dict[str, dict[str, Any]]
    workdir: str | None
    executor: str | None

    @property
    def duration(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at


class JobState:
    """The jobs table of one project; safe to use from several threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.run_id = uuid.uuid4().hex[:12]
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _execute(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, parameters).fetchall()

    def recover(self) -> list[JobRecord]:
        """Mark jobs left pending or running by an earlier runner as cancelled; return them."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            rows = self._db.execute(
                "SELECT * FROM jobs WHERE status IN (?, ?)", (PENDING, RUNNING)
            ).fetchall()
            self._db.execute(
                "UPDATE jobs SET status = ?, message = ?, finished_at = ? WHERE status IN (?, ?)",
                (CANCELLED, INTERRUPTED, time.time(), PENDING, RUNNING),
            )
            self._db.execute("COMMIT")
        return [_record(row) for row in rows]

    def create(self, action: str, fingerprint: str | None, executor: str) -> str:
        job_id = f"{action}-{uuid.uuid4().hex[:12]}"
        self._execute(
            "INSERT INTO jobs (id, run_id, action, status, fingerprint, created_at, executor) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (job_id, self.run_id, action, PENDING, fingerprint, time.time(), executor),
        )
        return job_id

    def start(self, job_id: str, workdir: Path) -> None:
        self._execute(
            "UPDATE jobs SET status = ?, started_at = ?, workdir = ? WHERE id = ?",
            (RUNNING, time.time(), str(workdir), job_id),
        )

    def finish(
        self,
        job_id: str,
        status: str,
        *,
        exit_code: int | None = None,
        message: str = "",
        outputs: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        assert status in FINISHED, status
        now = time.time()
        self._execute(
            "UPDATE jobs SET status = ?, finished_at = ?, started_at = COALESCE(started_at, ?), "
            "exit_code = ?, message = ?, outputs = ? WHERE id = ?",
            (status, now, now, exit_code, message, json.dumps(outputs or {}), job_id),
        )

    def set_outputs(self, job_id: str, outputs: dict[str, dict[str, Any]]) -> None:
        """Replace a finished job's recorded outputs (e.g. with a newer disclosure check)."""
        self._execute("UPDATE jobs SET outputs = ? WHERE id = ?", (json.dumps(outputs), job_id))

    def get(self, job_id: str) -> JobRecord:
        rows = self._execute("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return _record(rows[0])

    def last_success(self, action: str) -> JobRecord | None:
        rows = self._execute(
            "SELECT * FROM jobs WHERE action = ? AND status = ? ORDER BY finished_at DESC LIMIT 1",
            (action, SUCCEEDED),
        )
        return _record(rows[0]) if rows else None

    def jobs(self, action: str | None = None) -> list[JobRecord]:
        """Every job, oldest first (of one action if given)."""
        if action is None:
            rows = self._execute("SELECT * FROM jobs ORDER BY created_at")
        else:
            rows = self._execute(
                "SELECT * FROM jobs WHERE action = ? ORDER BY created_at", (action,)
            )
        return [_record(row) for row in rows]


def _record(row: sqlite3.Row) -> JobRecord:
    values = dict(row)
    values["outputs"] = json.loads(values["outputs"] or "{}")
    return JobRecord(**values)
