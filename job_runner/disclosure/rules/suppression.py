"""TODO: being written."""

from __future__ import annotations

from job_runner.disclosure.profiles import Profile
from job_runner.disclosure.report import Finding
from job_runner.disclosure.tables import Table


def check_suppressed_intervals(table: Table, rules: Profile) -> list[Finding]:
    return []
