"""What `osschools run` shows: a live table of every action's state and elapsed time while it
runs (plain lines when the output is not a terminal), then a summary table and, for each
failure, the end of its log."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from job_runner.run.records import format_duration, now_text, tail

STYLES = {
    "waiting": "dim",
    "pending": "dim",
    "running": "bold cyan",
    "succeeded": "green",
    "skipped": "blue",
    "failed": "bold red",
    "cancelled": "yellow",
}
TAIL_LINES = 20


@dataclass
class Row:
    name: str
    status: str = "waiting"
    detail: str = ""
    started: float | None = None
    finished: float | None = None
    outputs: list[str] = field(default_factory=list)
    log: Path | None = None
    # Per moderately_sensitive output, what the disclosure checks said (records.check_disclosure).
    disclosure: dict[str, dict[str, Any]] = field(default_factory=dict)

    def elapsed(self) -> str:
        if self.started is None:
            return ""
        return format_duration((self.finished or time.time()) - self.started)


class Display:
    """The live view of a run. `update` may be called from any thread."""

    def __init__(self, names: list[str], console: Console, *, timestamps: bool = False) -> None:
        self.console = console
        self.timestamps = timestamps
        self.rows = {name: Row(name) for name in names}
        self._lock = threading.Lock()
        self._live: Live | None = None

    def __enter__(self) -> Display:
        if self.console.is_terminal:
            self._live = Live(
                get_renderable=self._table, console=self.console, refresh_per_second=4
            )
            self._live.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
            self._live = None

    def note(self, text: str) -> None:
        """A message above the table (or a plain line)."""
        prefix = f"{now_text()} " if self.timestamps else ""
        self.console.print(Text(prefix + text))

    def update(
        self,
        name: str,
        status: str,
        detail: str = "",
        *,
        outputs: list[str] | None = None,
        log: Path | None = None,
        disclosure: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        with self._lock:
            row = self.rows[name]
            row.status, row.detail = status, detail
            if status == "running" and row.started is None:
                row.started = time.time()
            if status in ("succeeded", "failed", "cancelled", "skipped"):
                row.finished = time.time()
            if outputs is not None:
                row.outputs = outputs
            if log is not None:
                row.log = log
            if disclosure is not None:
                row.disclosure = disclosure
        if self._live is None:
            suffix = f" ({detail})" if detail else ""
            self.note(f"{name}: {status}{suffix}")

    def _table(self) -> Table:
        table = Table(title="osschools run", title_justify="left", expand=False)
        table.add_column("action")
        table.add_column("state")
        table.add_column("time", justify="right")
        table.add_column("")
        with self._lock:
            for row in self.rows.values():
                table.add_row(
                    row.name,
                    Text(row.status, style=STYLES.get(row.status, "")),
                    row.elapsed(),
                    Text(row.detail, style="dim"),
                )
        return table

    def summary(self) -> None:
        """The final table, then the end of each failed action's log."""
        table = Table(title="Summary", title_justify="left")
        for column in ("action", "status", "duration", "outputs"):
            table.add_column(column, justify="right" if column == "duration" else "left")
        for row in self.rows.values():
            outputs = "\n".join(row.outputs) or Text(row.detail, style="dim")
            table.add_row(
                row.name,
                Text(row.status, style=STYLES.get(row.status, "")),
                row.elapsed(),
                outputs,
            )
        self.console.print(table)
        self._disclosure_summary()
        for row in self.rows.values():
            if row.status != "failed":
                continue
            parts: list[Text] = [Text(f"{row.name} failed: {row.detail}", style="bold red")]
            if row.log is not None and row.log.exists():
                lines = tail(row.log, TAIL_LINES)
                parts.append(Text(f"last {len(lines)} lines of its log:", style="dim"))
                parts.extend(Text("  " + line) for line in lines)
                parts.append(Text(f"full log: {row.log}", style="bold"))
            self.console.print(Group(*parts))

    def _disclosure_summary(self) -> None:
        """Which moderately_sensitive outputs would not pass the disclosure checks."""
        checks = {
            path: check for row in self.rows.values() for path, check in row.disclosure.items()
        }
        if not checks:
            return
        profiles = ", ".join(sorted({check["profile"] for check in checks.values()}))
        failing = [path for path, check in checks.items() if check["verdict"] == "fail"]
        review = [path for path, check in checks.items() if check["verdict"] == "needs review"]
        if not failing and not review:
            self.console.print(
                Text(
                    f"All {_outputs(len(checks))} pass the disclosure checks ({profiles}).",
                    style="green",
                )
            )
            return
        parts = [Text(f"Disclosure checks ({profiles}):", style="bold")]
        if failing:
            parts.append(
                Text(f"  {_outputs(len(failing))} would fail the disclosure checks:", style="red")
            )
            parts.extend(_problem_lines(failing, checks))
        if review:
            parts.append(
                Text(
                    f"  {_outputs(len(review))} would need an output checker's review:",
                    style="yellow",
                )
            )
            parts.extend(_problem_lines(review, checks))
        parts.append(
            Text(
                "  `osschools disclosure check FILE...` shows why, cell by cell; "
                "docs/disclosure.md says how to make outputs pass.",
                style="dim",
            )
        )
        self.console.print(Group(*parts))


def _outputs(count: int) -> str:
    return f"{count} output{'' if count == 1 else 's'}"


def _problem_lines(paths: list[str], checks: dict[str, dict[str, Any]]) -> list[Text]:
    lines = []
    for path in sorted(paths):
        rules = ", ".join(
            dict.fromkeys(
                finding["rule"]
                for finding in checks[path]["findings"]
                if finding["verdict"] == checks[path]["verdict"]
            )
        )
        lines.append(Text(f"    {path}" + (f" ({rules})" if rules else "")))
    return lines
