"""What a run leaves behind in metadata/: each action's log and the manifest of outputs, with
what the disclosure checks say about each moderately_sensitive output."""

from __future__ import annotations

import csv
import datetime
import gzip
import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from job_runner.disclosure.description import SIDECAR_SUFFIX
from job_runner.disclosure.profiles import Profile
from job_runner.disclosure.report import FileReport, Finding, Verdict

MANIFEST = "manifest.json"
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


def check_disclosure(
    project: Path, paths: Sequence[str], rules: Profile, *, undeclared: Iterable[str] = ()
) -> dict[str, dict[str, Any]]:
    """What the disclosure checks (`job_runner.disclosure`) say about an action's
    moderately_sensitive outputs, checked together as one release request: per output, its
    verdict and its failing and needs-review findings in short (`disclosure_summary`)."""
    if not paths:
        return {}
    from job_runner.disclosure.checker import check_files

    try:
        reports = check_files([project / path for path in paths], rules, root=project)
    except Exception as error:  # a broken check must not fail the action
        message = (
            f"the disclosure checks could not run ({type(error).__name__}: {error}); "
            "run `osschools disclosure check` on it"
        )
        finding = {"verdict": "needs review", "rule": "checker_error", "count": 1}
        return {
            path: _checked_with(rules, "needs review", [{**finding, "message": message}])
            for path in paths
        }
    undeclared = set(undeclared)
    return {
        path: disclosure_summary(report, rules, undeclared=undeclared)
        for path, report in zip(paths, reports, strict=True)
    }


def disclosure_summary(
    report: FileReport, rules: Profile, *, undeclared: Iterable[str] = ()
) -> dict[str, Any]:
    """A file's verdict and its failing and needs-review findings, one per rule and verdict
    (how many, and the first one's place and message), worst first."""
    groups: dict[tuple[Verdict, str], list[Finding]] = {}
    for finding in report.findings:
        if finding.verdict is not Verdict.PASS:
            groups.setdefault((finding.verdict, finding.rule), []).append(finding)
    sidecar = f"{report.path}{SIDECAR_SUFFIX}"
    findings = []
    for (verdict, rule), group in sorted(groups.items(), key=lambda item: -item[0][0].rank):
        message = _place(group[0]) + group[0].message
        if rule == "description" and sidecar in set(undeclared):
            message = (
                f"{sidecar} was written but is not declared as an output; declare it as "
                "moderately_sensitive in project.yaml"
            )
        findings.append(
            {"verdict": verdict.value, "rule": rule, "count": len(group), "message": message}
        )
    return _checked_with(rules, report.verdict.value, findings)


def _checked_with(rules: Profile, verdict: str, findings: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "verdict": verdict,
        "profile": rules.name,
        "profile_sha256": profile_digest(rules),
        "findings": findings,
    }


def profile_digest(rules: Profile) -> str:
    """A short digest of a profile's parameters: a check made with other parameters is stale."""
    text = json.dumps(rules.to_dict(), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def needs_disclosure_check(entry: dict[str, Any], rules: Profile) -> bool:
    """Whether a recorded moderately_sensitive output has no disclosure check with `rules`."""
    if entry.get("level") != "moderately_sensitive":
        return False
    check = entry.get("disclosure")
    return not check or check.get("profile_sha256") != profile_digest(rules)


def _place(finding: Finding) -> str:
    """Where a finding is, as a prefix: `n_pupils, line 4 (group=FSM): `."""
    if finding.cell is None:
        return ""
    key = ", ".join(f"{name}={value}" for name, value in finding.cell.key.items())
    return (
        f"{finding.cell.column}, line {finding.cell.row + 2}" + (f" ({key})" if key else "") + ": "
    )


def disclosure_warning(path: str, check: dict[str, Any]) -> str | None:
    """One line about an output that would not pass the disclosure checks, or None."""
    verdict = check.get("verdict")
    if verdict == "pass":
        return None
    outcome = "fail" if verdict == "fail" else "need an output checker's review in"
    findings = check.get("findings", [])
    line = f"{path} would {outcome} the disclosure checks ({check.get('profile')})"
    if findings:
        first = findings[0]
        line += f": {first['rule']}: {first['message']}"
        more = sum(finding["count"] for finding in findings) - 1
        if more:
            line += f" (and {more} more finding{'' if more == 1 else 's'})"
    return line


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
    """The manifest entry of one output file (its disclosure check is added by the runner)."""
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
            check = entry.get("disclosure")
            if check:
                lines.append(f"    disclosure checks ({check['profile']}): {check['verdict']}")
                for finding in check["findings"]:
                    count = f" x{finding['count']}" if finding["count"] > 1 else ""
                    lines.append(
                        f"      {finding['verdict']}: {finding['rule']}{count}: "
                        f"{finding['message']}"
                    )
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
