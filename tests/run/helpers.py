"""Throwaway projects for `osschools run` tests: a project.yaml and a few scripts in tmp_path."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from job_runner.cli import cli

OSSCHOOLS = Path(sys.executable).parent / "osschools"


def make_project(folder: Path, actions: str, files: dict[str, str] | None = None) -> Path:
    """Write project.yaml (the indented `actions` under `actions:`) and `files` into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    body = textwrap.indent(textwrap.dedent(actions).strip("\n") + "\n", "  ")
    (folder / "project.yaml").write_text('version: "5"\nactions:\n' + body)
    for name, text in (files or {}).items():
        write(folder / name, text)
    return folder


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))


def run(project: Path, *args: str, executor: str = "local") -> Result:
    """`osschools run --project-dir PROJECT --executor EXECUTOR ARGS`, in this process."""
    arguments = ["run", "--project-dir", str(project), "--executor", executor, *args]
    return CliRunner().invoke(cli, arguments, catch_exceptions=False)


def start(project: Path, *args: str, executor: str = "local") -> subprocess.Popen[str]:
    """The same in a subprocess, to kill or interrupt. It leads a process group of its own, as
    a command started from a shell does, so that a test can send Ctrl-C to the whole group."""
    command = [str(OSSCHOOLS), "run", "--project-dir", str(project), "--executor", executor]
    return subprocess.Popen(
        [*command, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        process_group=0,
    )


def jobs(project: Path, action: str | None = None) -> list[dict[str, Any]]:
    """Rows of the job state database, oldest first."""
    with sqlite3.connect(project / ".osschools" / "jobs.sqlite") as db:
        db.row_factory = sqlite3.Row
        rows = [dict(row) for row in db.execute("SELECT * FROM jobs ORDER BY created_at")]
    return [row for row in rows if action is None or row["action"] == action]


def statuses(project: Path, action: str) -> list[str]:
    return [row["status"] for row in jobs(project, action)]


def manifest(project: Path) -> dict[str, Any]:
    return json.loads((project / "metadata" / "manifest.json").read_text())


def wait_for(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


# Scripts

WRITE = """
    import sys
    from pathlib import Path

    path = Path(sys.argv[1])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(" ".join(sys.argv[2:]) + "\\n")
"""
COPY = """
    import sys
    from pathlib import Path

    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(source.read_text().upper())
"""
FAIL = """
    print("about to fail")
    raise SystemExit(3)
"""
# Writes a start time, sleeps, then writes the end time: for overlap and interruption tests.
SLEEP = """
    import sys
    import time
    from pathlib import Path

    path, seconds = Path(sys.argv[1]), float(sys.argv[2])
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.time()
    Path("partial.txt").write_text("started")
    path.write_text(f"{started}\\n")  # a partial output, incomplete until the end
    print("sleeping", flush=True)
    time.sleep(seconds)
    path.write_text(f"{started}\\n{time.time()}\\n")
"""
