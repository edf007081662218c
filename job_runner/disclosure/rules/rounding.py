"""Rounding conformance (sdc.md rule 5): counts that say they are rounded must be, and under a
profile that rounds every count (OpenSAFELY), every count is, with totals recomputed as the sum
of the rounded cells they total."""

from __future__ import annotations

import numpy as np

from job_runner.disclosure.description import Role
from job_runner.disclosure.profiles import Profile
from job_runner.disclosure.report import Finding, Verdict
from job_runner.disclosure.tables import Table, is_total_label

Rounding = int | str | None  # a base, "midpoint6", or None (not rounded)


def count_rounding(table: Table, column: str, rules: Profile) -> Rounding:
    """How a count column's values are rounded: as the table or column says, else as the
    profile requires (midpoint-6 for a column named `..._midpoint6`)."""
    claimed = table.rounding_of(column)
    if claimed is not None:
        return claimed
    if rules.rounding == "base":
        return rules.base
    if rules.rounding == "midpoint6":
        return "midpoint6"
    return None


def conforms(value: float, rounding: Rounding) -> bool:
    """Whether a shown count could have been rounded this way: a multiple of the base, or for
    midpoint-6 one of 0, 3, 9, 15, 21 ..."""
    if rounding is None or rounding == "none":
        return True
    if value != round(value):
        return False
    if rounding == "midpoint6":
        return value == 0 or (value >= 3 and (value - 3) % 6 == 0)
    return value % int(rounding) == 0


def check_rounding(table: Table, rules: Profile) -> list[Finding]:
    """Each shown count that is not rounded as it must be fails.

    - A count column that says how it was rounded (the sidecar's `rounding`, the column's own
      `rounding`, or a name ending in `midpoint6`) must hold only multiples of its base, or
      only 0, 3, 9, 15 ... for midpoint-6.
    - A profile that rounds every count (`rounding="base"`, OpenSAFELY) needs every count
      column to be multiples of `base`, except midpoint-6 columns; `rounding="midpoint6"` needs
      every count column to be midpoint-6.
    - Under a profile that rounds to a base, each total (a total row, or a total column of a
      crosstab) must be the sum of the rounded cells it totals, redacted cells counting 0: a
      true total beside rounded cells lets a reader undo the rounding.
    """
    findings = []
    for column in table.count_columns:
        requirements = _requirements(table, column, rules)
        if not requirements:
            continue
        totals = _total_sums(table, column) if _recomputes_totals(table, column, rules) else {}
        values = table.values[column].to_numpy()
        shown = ~table.suppressed[column].to_numpy() & ~np.isnan(values)
        failing = np.zeros(len(values), dtype=bool)
        for rounding, _ in requirements:
            failing |= ~_conforming(values, rounding)
        # Only rows that are totals or break a rounding can give a finding.
        candidates = set(np.flatnonzero(shown & failing).tolist()) | set(totals)
        for row in sorted(candidates):
            if not shown[row]:
                continue
            value = float(values[row])
            if row in totals and abs(totals[row] - value) > 1e-9:
                findings.append(_total_finding(table, row, column, value, totals[row]))
                continue
            for rounding, source in requirements:
                if not conforms(value, rounding):
                    findings.append(_cell_finding(table, row, column, value, rounding, source))
                    break
    return findings


def _conforming(values: np.ndarray, rounding: Rounding) -> np.ndarray:
    """`conforms` for a whole column at once (NaN conforms: it is not shown)."""
    with np.errstate(invalid="ignore"):
        whole = values == np.round(values)
        if rounding is None or rounding == "none":
            result = np.ones(len(values), dtype=bool)
        elif rounding == "midpoint6":
            result = whole & ((values == 0) | ((values >= 3) & ((values - 3) % 6 == 0)))
        else:
            result = whole & (values % int(rounding) == 0)
    return result | np.isnan(values)


def _requirements(table: Table, column: str, rules: Profile) -> list[tuple[Rounding, str]]:
    """The roundings a count column must conform to, with who asks: "table" or "profile"."""
    requirements: list[tuple[Rounding, str]] = []
    claimed = table.rounding_of(column)
    if claimed is not None:
        requirements.append((claimed, "table"))
    if rules.rounding == "base" and claimed not in ("midpoint6", rules.base):
        requirements.append((rules.base, "profile"))
    elif rules.rounding == "midpoint6" and claimed != "midpoint6":
        requirements.append(("midpoint6", "profile"))
    return requirements


def _recomputes_totals(table: Table, column: str, rules: Profile) -> bool:
    """Totals must be sums of rounded cells when the profile rounds to a base (midpoint-6
    columns excepted: a sum of midpoint-6 values is not one)."""
    return rules.rounding == "base" and count_rounding(table, column, rules) != "midpoint6"


def _total_sums(table: Table, column: str) -> dict[int, float]:
    """For each total cell in this column, the sum of the shown cells it totals."""
    sums: dict[int, float | None] = dict(_row_total_sums(table, column))
    if column in table.total_columns and _is_crosstab_total(table, column):
        parts = [
            other
            for other in table.with_role(Role.COUNT)
            if other != column and other not in table.total_columns
        ]
        if len(parts) >= 2:
            for row in range(len(table.raw)):
                if row not in sums:
                    sums[row] = sum(_shown(table, row, part) for part in parts)
    return {row: total for row, total in sums.items() if total is not None}


def _row_total_sums(table: Table, column: str) -> dict[int, float]:
    """For each total row, the sum of the shown cells it totals: the rows that agree with it on
    every dimension it does not total over, and are not totals on those it does."""
    labels = {name: table.raw[name].to_numpy(dtype=object) for name in table.dimensions}
    is_total = {
        name: np.array([is_total_label(label, table.total_label) for label in values])
        for name, values in labels.items()
    }
    body = np.array(table.body_rows, dtype=int)
    cells = table.values[column].to_numpy()
    sums = {}
    for total_row in table.total_rows:
        covered = np.ones(len(body), dtype=bool)
        for name, values in labels.items():
            if not is_total[name][total_row]:
                covered &= values[body] == values[total_row]
        if covered.any():
            sums[total_row] = float(np.nansum(cells[body[covered]]))
    return sums


def _is_crosstab_total(table: Table, column: str) -> bool:
    """A total column is the sum of the other count columns unless it is the denominator of a
    ratio or numerator (then it counts a population, not the categories shown)."""
    if table.role(column) is Role.DENOMINATOR:
        return False
    return not any(
        described.count == column for name, described in table.columns.items() if name != column
    )


def _shown(table: Table, row: int, column: str) -> float:
    """A cell's value, 0 when redacted (recomputed totals leave redacted cells out)."""
    return table.value(row, column) if table.is_shown(row, column) else 0.0


def _cell_finding(
    table: Table, row: int, column: str, value: float, rounding: Rounding, source: str
) -> Finding:
    why = (
        "the table says its counts are rounded"
        if source == "table"
        else "this profile releases only rounded counts"
    )
    if rounding == "midpoint6":
        message = (
            f"{column} = {value:g} is not a midpoint-6 value (0, 3, 9, 15, 21 ...), and {why} "
            "that way; apply midpoint6(...) to the true count"
        )
    else:
        message = (
            f"{column} = {value:g} is not a multiple of {rounding}, and {why} to {rounding}; "
            f"round it with round_to_base(..., base={rounding})"
        )
    return Finding(
        "rounding",
        Verdict.FAIL,
        message,
        table.cell(row, column),
        {"value": value, "rounding": rounding, "required_by": source},
    )


def _total_finding(table: Table, row: int, column: str, value: float, cells: float) -> Finding:
    return Finding(
        "rounding",
        Verdict.FAIL,
        f"{column} = {value:g} is a total, but not the sum of the rounded cells it totals "
        f"({cells:g}): a true total beside rounded cells lets a reader undo the rounding; "
        "recompute it from the rounded, redacted cells with recompute_totals(...)",
        table.cell(row, column),
        {"total": value, "sum_of_cells": cells},
    )
