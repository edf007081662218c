"""Dominance (sdc.md rule 4): a sum or mean must not be mostly the contribution of a few units.

Two rules, on absolute values so that they hold when some contributions are negative (a sum of
+500 and -490 hides a contribution of 500 as badly as a sum of 500 and 10):

- NK (`dominance_nk`): fails when the `nk_n` largest contributions are `nk_k` or more of the
  sum of absolute values (SRS: the two largest are 90% or more). Exactly at `nk_k` fails.
- p% (`dominance_p`): fails when what is left without the two largest contributions is less
  than `p_percent` of the largest (SRS: 10%), in shares of the absolute total:
  `1 - s1 - s2 < p * s1`. Exactly at `p_percent` passes. If it failed, the second largest
  contributor could subtract their own value and learn the largest to within p%.

`nk_n=0` disables NK; `p_percent=0` disables p%.

The checker cannot see the units behind a cell, so it needs evidence: the sidecar's
`contributors` (description.Contributors: per cell, n and the largest absolute contributions as
shares of the sum of absolute values), which `job_runner.disclosure.tabulate` writes. Shares
that differ from a limit by less than 1e-9 count as equal to it, so a share computed as
0.8999999999999999 by floating point is treated as the 0.9 it stands for.

Every shown sum and mean needs evidence, means included. A mean of a bounded score (KS2 scaled
scores, 80-120) cannot be dominated, but the checker cannot see the bounds: a mean of sessions
missed or of exclusions (bounded below by 0) can be one pupil's value spread over ten. Rather
than guess, cells without evidence get one "needs review" finding for the file, which says how
to provide it. Percentages, proportions and rates are ratios of counts of units and are covered
by the count rules instead.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from job_runner.disclosure.description import Contributors, Role
from job_runner.disclosure.profiles import Profile
from job_runner.disclosure.report import Finding, Verdict
from job_runner.disclosure.tables import Table

TOLERANCE = 1e-9
DOMINANCE_ROLES = (Role.SUM, Role.MEAN)


def shares_needed(rules: Profile) -> int:
    """How many of the largest shares the profile's rules look at."""
    return max(rules.nk_n, 2 if rules.p_percent > 0 else 0)


def nk_share(shares: Sequence[float], rules: Profile) -> float:
    """The share of the `nk_n` largest contributions (shares largest first)."""
    return math.fsum(shares[: rules.nk_n])


def rest_share(shares: Sequence[float]) -> float:
    """The share left without the two largest contributions."""
    return max(0.0, 1.0 - math.fsum(shares[:2])) if shares else 1.0


def fails_nk(shares: Sequence[float], rules: Profile) -> bool:
    """The NK rule: the `nk_n` largest are `nk_k` or more of the total (on the limit fails)."""
    if rules.nk_n == 0:
        return False
    return nk_share(shares, rules) >= rules.nk_k - TOLERANCE


def fails_p(shares: Sequence[float], rules: Profile) -> bool:
    """The p% rule: the rest, without the two largest, is under `p_percent` of the largest (on
    the limit passes)."""
    if rules.p_percent == 0 or not shares:
        return False
    return rest_share(shares) < rules.p_percent * shares[0] - TOLERANCE


def failed_rules(shares: Sequence[float], rules: Profile) -> list[str]:
    """The dominance rule ids a cell with these shares (largest first) fails."""
    failed = []
    if fails_nk(shares, rules):
        failed.append("dominance_nk")
    if fails_p(shares, rules):
        failed.append("dominance_p")
    return failed


def usable_shares(evidence: Contributors, rules: Profile) -> list[float] | None:
    """The evidence's shares, largest first, or None when they cannot settle the rules: too
    few shares for the profile (fewer than `nk_n` from a cell with more units than that), or
    not shares at all (outside 0-1, or adding up to more than 1)."""
    shares = sorted((float(share) for share in evidence.largest_shares), reverse=True)
    if any(not 0 <= share <= 1 + TOLERANCE for share in shares):
        return None
    if math.fsum(shares) > 1 + TOLERANCE or len(shares) > evidence.n:
        return None
    if len(shares) < min(shares_needed(rules), evidence.n):
        return None
    return shares


def check_dominance(table: Table, rules: Profile) -> list[Finding]:
    """NK and p% on every shown sum and mean cell that has evidence in the description; one
    "needs review" finding for the file when some have none."""
    columns = table.with_role(*DOMINANCE_ROLES)
    if not columns or (rules.nk_n == 0 and rules.p_percent == 0):
        return []
    evidence = _evidence_by_cell(table)
    findings: list[Finding] = []
    unchecked: dict[str, int] = {}
    for column in columns:
        for row in range(len(table.raw)):
            if not table.is_shown(row, column):
                continue
            cell_evidence = evidence.get((column, _key_text(table.key(row))))
            shares = usable_shares(cell_evidence, rules) if cell_evidence else None
            if shares is None:
                unchecked[column] = unchecked.get(column, 0) + 1
                continue
            findings.extend(_cell_findings(table, row, column, cell_evidence, shares, rules))
    if unchecked:
        findings.append(_unchecked_finding(table, unchecked, rules))
    return findings


def _cell_findings(
    table: Table,
    row: int,
    column: str,
    evidence: Contributors,
    shares: list[float],
    rules: Profile,
) -> list[Finding]:
    shown = str(table.raw.iloc[row][column]).strip()
    absolute = " (on absolute values: some contributions are negative)" if evidence.negative else ""
    numbers: dict[str, Any] = {
        "n": evidence.n,
        "largest_shares": shares[: shares_needed(rules)],
        "negative": evidence.negative,
    }
    findings = []
    if fails_nk(shares, rules):
        share = nk_share(shares, rules)
        largest = "the largest contributor" if rules.nk_n == 1 else f"{rules.nk_n} largest"
        findings.append(
            Finding(
                "dominance_nk",
                Verdict.FAIL,
                f"{column} = {shown} is dominated: its {largest} contributors make up "
                f"{_percent(share)} of it{absolute}, and {_percent(rules.nk_k)} or more is "
                "disclosive; redact this cell, or group the units so no few of them dominate",
                table.cell(row, column),
                {**numbers, "share": share, "nk_n": rules.nk_n, "nk_k": rules.nk_k},
            )
        )
    if fails_p(shares, rules):
        rest = rest_share(shares)
        findings.append(
            Finding(
                "dominance_p",
                Verdict.FAIL,
                f"{column} = {shown}: without its two largest contributors the rest is "
                f"{_percent(rest)} of the total{absolute}, less than "
                f"{_percent(rules.p_percent)} of the largest contribution (which is "
                f"{_percent(shares[0])} of the total), so the second largest contributor could "
                "work out the largest closely; redact this cell, or group the units differently",
                table.cell(row, column),
                {
                    **numbers,
                    "largest_share": shares[0],
                    "rest_share": rest,
                    "p_percent": rules.p_percent,
                },
            )
        )
    return findings


def _unchecked_finding(table: Table, unchecked: dict[str, int], rules: Profile) -> Finding:
    cells = sum(unchecked.values())
    columns = ", ".join(unchecked)
    rule = "dominance_nk" if rules.nk_n else "dominance_p"
    return Finding(
        rule,
        Verdict.REVIEW,
        f"the dominance rules (NK and p%) could not be checked on {cells} sum or mean "
        f"cell{'s' if cells > 1 else ''} (column{'s' if len(unchecked) > 1 else ''} {columns}): "
        "nothing says how much the largest units contribute. Make the table with "
        "job_runner.disclosure.tabulate.tabulate(...) and write it with .write(path), which "
        "adds this evidence to the description; otherwise an output checker must judge it",
        numbers={"columns": unchecked, "cells": cells},
    )


def _evidence_by_cell(table: Table) -> dict[tuple[str, tuple], Contributors]:
    """The description's evidence by (column, key). A key given twice in the evidence, or
    shared by two rows of the table, is ambiguous and used for neither."""
    if table.description is None:
        return {}
    dimensions = table.dimensions
    found: dict[tuple[str, tuple], Contributors] = {}
    ambiguous = set()
    for evidence in table.description.contributors:
        if set(evidence.key) != set(dimensions):
            continue
        index = (evidence.column, _key_text(evidence.key))
        if index in found:
            ambiguous.add(index)
        found[index] = evidence
    keys = Counter(_key_text(table.key(row)) for row in range(len(table.raw)))
    return {
        index: evidence
        for index, evidence in found.items()
        if index not in ambiguous and keys[index[1]] == 1
    }


def _key_text(key: dict[str, Any]) -> tuple:
    """A row key as comparable text: "7", 7 and 7.0 are the same year group."""
    return tuple((name, _value_text(key[name])) for name in sorted(key))


_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _value_text(value: Any) -> str:
    text = str(value).strip()
    if _NUMBER.match(text):
        return format(float(text), ".15g")
    return text


def _percent(share: float) -> str:
    text = f"{share * 100:.1f}".rstrip("0").rstrip(".")
    return f"{text}%"
