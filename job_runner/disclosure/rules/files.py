"""The file gate (sdc.md rule 13): allowed types, size limit, CSV row limit."""

from __future__ import annotations

from job_runner.disclosure.outputs import OutputFile
from job_runner.disclosure.profiles import Profile
from job_runner.disclosure.report import Finding, Verdict


def check_file_gate(output: OutputFile, rules: Profile) -> list[Finding]:
    findings = []
    if output.suffix not in rules.allowed_types:
        findings.append(
            Finding(
                "file_type",
                Verdict.FAIL,
                f"{output.suffix or 'a file without an extension'} cannot be released; "
                f"write one of {', '.join(rules.allowed_types)}",
                numbers={"type": output.suffix, "allowed": list(rules.allowed_types)},
            )
        )
    if output.size > rules.max_file_bytes:
        findings.append(
            Finding(
                "file_size",
                Verdict.FAIL,
                f"{output.size / 1024 / 1024:.1f} MB is over the "
                f"{rules.max_file_bytes / 1024 / 1024:g} MB limit; release aggregates",
                numbers={"bytes": output.size, "limit": rules.max_file_bytes},
            )
        )
    if output.kind == "table":
        rows = _data_rows(output)
        if rows > rules.max_csv_rows:
            findings.append(
                Finding(
                    "row_limit",
                    Verdict.FAIL,
                    f"{rows:,} rows is over the {rules.max_csv_rows:,}-row limit for CSV "
                    "files; release aggregates, not row-level data",
                    numbers={"rows": rows, "limit": rules.max_csv_rows},
                )
            )
    return findings


def _data_rows(output: OutputFile) -> int:
    """Lines after the header (a cheap count that needs no parsing)."""
    with output.path.open("rb") as file:
        lines = sum(block.count(b"\n") for block in iter(lambda: file.read(1 << 20), b""))
    with output.path.open("rb") as file:
        file.seek(max(output.size - 1, 0))
        ends_with_newline = file.read(1) == b"\n"
    return max(lines - (1 if ends_with_newline else 0), 0) if output.size else 0
