"""Summary statistics that describe few units (sdc.md rules 8 and 9, and the SD rule).

- `extreme`: every shown minimum, maximum or range fails (it is one unit's value), unless its
  column is declared a design bound in the sidecar (`"design_bound": true`: the maximum possible
  sessions, the scaled score range 80-120) or the profile sets `extremes_allowed`.
- `percentile`: a median, quartile or other percentile needs its group's count
  (`Table.count_for`) to be at least the profile's smallest safe count (8 under opensafely, 10
  under srs): a shown percentile over fewer units fails. Without a count column the check cannot
  tell and the column needs review; a shown percentile whose count is suppressed needs review
  (the count may have been suppressed for being small).
- `standard_deviation`: a standard deviation (or variance) over n units needs `n - 1 >=
  sd_min_df` (7 under opensafely, 10 under srs) and n at least the smallest safe count; a
  standard deviation over a small n is caught here, not by the minimum count rule. Missing and
  suppressed counts are treated as for percentiles.
"""

from __future__ import annotations

import numpy as np

from job_runner.disclosure.description import Role, sidecar_path
from job_runner.disclosure.profiles import Profile
from job_runner.disclosure.report import Finding, Verdict
from job_runner.disclosure.tables import Table

_EXTREME_WORDS = {Role.MINIMUM: "minimum", Role.MAXIMUM: "maximum", Role.RANGE: "range"}


def check_extremes(table: Table, rules: Profile) -> list[Finding]:
    """Minima, maxima and ranges fail unless declared design bounds (see the module)."""
    if rules.extremes_allowed:
        return []
    findings = []
    for column in table.with_role(Role.MINIMUM, Role.MAXIMUM, Role.RANGE):
        if table.columns[column].design_bound:
            continue
        what = _EXTREME_WORDS[table.role(column)]
        values = _numbers(table, column)
        for row in _shown_rows(values):
            findings.append(
                Finding(
                    "extreme",
                    Verdict.FAIL,
                    f"{column} shows a {what}, which is the value of a single unit; remove it "
                    "(a percentile over enough units can show the spread instead). If it is "
                    "fixed by design and not by the data (the maximum possible sessions, the "
                    f'scaled score range 80-120), declare it with "design_bound": true for '
                    f"{column} in {sidecar_path(table.path).name}",
                    table.cell(row, column),
                    {"value": float(values[row]), "role": what},
                )
            )
    return findings


def check_percentiles(table: Table, rules: Profile) -> list[Finding]:
    """Percentiles and medians over fewer units than the smallest safe count fail."""
    findings = []
    safe = rules.smallest_safe_count
    for column in table.with_role(Role.PERCENTILE):
        count = table.count_for(column)
        if count is None:
            findings.append(_no_count("percentile", table, column, "percentile"))
            continue
        counts = _numbers(table, count)
        for row in _shown_rows(_numbers(table, column)):
            n = float(counts[row])
            if np.isnan(n):
                findings.append(_suppressed_count("percentile", table, row, column, count))
                continue
            if n < safe:
                findings.append(
                    Finding(
                        "percentile",
                        Verdict.FAIL,
                        f"{column} is a percentile over {count} = {n:g} units; percentiles "
                        f"need at least {safe} ({rules.describe_threshold()}), so with so few "
                        "it is close to one unit's value: redact it, or merge small groups",
                        table.cell(row, column),
                        {"n": n, "smallest_safe_count": safe, "count_column": count},
                    )
                )
    return findings


def check_standard_deviations(table: Table, rules: Profile) -> list[Finding]:
    """Standard deviations need `n - 1 >= sd_min_df` (and n not small)."""
    findings = []
    safe = rules.smallest_safe_count
    for column in table.with_role(Role.SD):
        count = table.count_for(column)
        if count is None:
            findings.append(_no_count("standard_deviation", table, column, "standard deviation"))
            continue
        counts = _numbers(table, count)
        for row in _shown_rows(_numbers(table, column)):
            n = float(counts[row])
            if np.isnan(n):
                findings.append(_suppressed_count("standard_deviation", table, row, column, count))
                continue
            if n - 1 < rules.sd_min_df or n < safe:
                needed = max(rules.sd_min_df + 1, safe)
                findings.append(
                    Finding(
                        "standard_deviation",
                        Verdict.FAIL,
                        f"{column} is a standard deviation over {count} = {n:g} units, "
                        f"{n - 1:g} degrees of freedom; it needs at least {rules.sd_min_df} "
                        f"(n of {needed} or more): redact it, or merge small groups",
                        table.cell(row, column),
                        {
                            "n": n,
                            "df": n - 1,
                            "sd_min_df": rules.sd_min_df,
                            "smallest_safe_count": safe,
                            "count_column": count,
                        },
                    )
                )
    return findings


def _numbers(table: Table, column: str) -> np.ndarray:
    """A column's values, NaN where not shown (a suppressed cell has no value): one array
    rather than a lookup per cell, for tables of thousands of rows."""
    return table.values[column].to_numpy(dtype=float)


def _shown_rows(values: np.ndarray) -> list[int]:
    return [int(row) for row in np.flatnonzero(~np.isnan(values))]


def _no_count(rule: str, table: Table, column: str, what: str) -> Finding:
    return Finding(
        rule,
        Verdict.REVIEW,
        f"cannot tell how many units each {what} in {column} is over: add the count to the "
        f'table and name it in {sidecar_path(table.path).name} ("{column}": {{"role": ..., '
        '"count": "n"}), so the check can make sure each group is large enough',
        numbers={"column": column},
    )


def _suppressed_count(rule: str, table: Table, row: int, column: str, count: str) -> Finding:
    return Finding(
        rule,
        Verdict.REVIEW,
        f"{column} is shown but its count {count} is suppressed: if the count was suppressed "
        f"for being small, {column} describes too few units and must be suppressed too",
        table.cell(row, column),
        {"count_column": count},
    )
