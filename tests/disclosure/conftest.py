"""Helpers for the disclosure tests: a table from a little CSV text, findings as tuples.

from tests.disclosure.conftest import found, table_from_csv

table = table_from_csv(
    '''
    school,pupils
    A,7
    ''',
    {"rounding": 5},
)
assert found(check_minimum_counts(table, profile("opensafely"))) == [
    ("minimum_count", "fail", 0, "pupils")
]
"""

from __future__ import annotations

import io
import textwrap
from typing import Any

import pandas as pd

from job_runner.disclosure.description import TableDescription
from job_runner.disclosure.report import Finding
from job_runner.disclosure.tables import Table, table_from_frame


def table_from_csv(text: str, description: dict[str, Any] | None = None) -> Table:
    """A table read from CSV text (indentation is ignored), with an optional sidecar given as
    the dict its JSON would hold ("description" may be left out)."""
    raw = pd.read_csv(
        io.StringIO(textwrap.dedent(text).strip() + "\n"),
        dtype=str,
        keep_default_na=False,
        skipinitialspace=True,
    )
    raw.columns = [str(name).strip() for name in raw.columns]
    sidecar = None
    if description is not None:
        sidecar = TableDescription.model_validate({"description": "a test table", **description})
    return table_from_frame("table.csv", raw, sidecar)


def found(findings: list[Finding]) -> list[tuple[str, str, int | None, str | None]]:
    """Each finding as (rule, verdict, row, column); row and column are None for a finding on
    the whole file."""
    return [
        (
            finding.rule,
            finding.verdict.value,
            finding.cell.row if finding.cell else None,
            finding.cell.column if finding.cell else None,
        )
        for finding in findings
    ]
