"""TODO: being written."""

from __future__ import annotations

from job_runner.disclosure.outputs import OutputFile
from job_runner.disclosure.profiles import Profile
from job_runner.disclosure.report import Finding
from job_runner.disclosure.tables import Table


def check_figure(output: OutputFile, rules: Profile, tables: dict[str, Table]) -> list[Finding]:
    return []
