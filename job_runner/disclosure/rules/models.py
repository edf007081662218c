"""TODO: being written."""

from __future__ import annotations

from job_runner.disclosure.outputs import OutputFile
from job_runner.disclosure.profiles import Profile
from job_runner.disclosure.report import Finding
from job_runner.disclosure.tables import Table


def check_model_table(table: Table, rules: Profile) -> list[Finding]:
    return []


def check_model_text(output: OutputFile, rules: Profile) -> list[Finding]:
    return []
