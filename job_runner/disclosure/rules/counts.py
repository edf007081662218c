"""Minimum counts (sdc.md rules 1 and 2): every count of units shown, and every count implied
by a percentage, mean or rate, must describe more units than the threshold."""

from __future__ import annotations

import math

import numpy as np

from job_runner.disclosure.description import Role
from job_runner.disclosure.profiles import Profile
from job_runner.disclosure.report import Finding, Verdict
from job_runner.disclosure.rules.rounding import conforms, count_rounding
from job_runner.disclosure.tables import Table, rounding_interval, share_totals, tokens

RATIO_ROLES = (Role.PERCENTAGE, Role.PROPORTION, Role.RATE)


def check_minimum_counts(table: Table, rules: Profile) -> list[Finding]:
    """Every shown cell of a count, numerator, denominator or total column (margins included)
    that is small under the profile fails. Zero is small unless the profile keeps zeros
    (`redact_zero=False`)."""
    findings = []
    total_rows = set(table.total_rows)
    for column in table.count_columns:
        values = table.values[column].to_numpy()
        shown = ~table.suppressed[column].to_numpy() & ~np.isnan(values)
        for row in np.flatnonzero(shown).tolist():
            count = float(values[row])
            if rules.is_small(count):
                margin = row in total_rows or column in table.total_columns
                findings.append(
                    Finding(
                        "minimum_count",
                        Verdict.FAIL,
                        f"{column} = {count:g} is a count of {rules.smallest_safe_count - 1} "
                        f"or fewer units ({rules.describe_threshold()}); redact it"
                        + (
                            " (it is a total: combine groups, or redact it with enough cells "
                            "that it cannot be worked out)"
                            if margin
                            else ", and make sure no total or percentage gives it away"
                        ),
                        table.cell(row, column),
                        {"count": count, "threshold": rules.threshold, "margin": margin},
                    )
                )
    return findings


def check_implied_counts(table: Table, rules: Profile) -> list[Finding]:
    """Counts a reader can work out from derived figures, tested as if they were shown.

    - A percentage, proportion or rate beside its count n, without its numerator shown in that
      row, implies a numerator of value / scale x n (to the nearest whole number); one beside
      its numerator but no count implies a count of numerator / (value / scale); a share of
      its group's total (an "n, %" table) with that row's n redacted implies n = share x total.
    - A mean beside a sum of the same thing, without its count, implies n = sum / mean.
    - An implied count that is small fails. Implied zeros are left to class disclosure.
    - Rounded counts make implied counts approximate: with counts rounded to base b (as the
      table says, or as the profile rounds every count), a count shown as n stands for up to
      n + (b - 1) // 2 (n + 3 for midpoint-6), and the ratio may have been computed from the
      true counts, or from the rounded ones (when value x n is itself a rounded count, which
      then stands for up to its own band's top). The largest count either reading allows is
      tested: if even that is small, fail; if only the plain reading is small, needs
      review (it may or may not be small).
    - A percentage, rate or mean with no count of units beside it, or beside a count that is
      redacted in that row, needs review: nothing shows how many units it describes. So does a
      rate whose scale (per 100, per 1,000 ...) is unknown when it implies a numerator.
    """
    if rules.threshold is None:
        return []
    findings = []
    for column in table.with_role(*RATIO_ROLES):
        findings.extend(_ratio_findings(table, column, rules))
    for column in table.with_role(Role.MEAN):
        findings.extend(_mean_findings(table, column, rules))
    return findings


def _ratio_findings(table: Table, ratio: str, rules: Profile) -> list[Finding]:
    described = table.columns[ratio]
    numerator = described.numerator if described.numerator in table.columns else None
    count = described.count if described.count in table.columns else None
    scale = described.scale
    if numerator is None and count is None:
        return [_no_count(ratio, "percentage or rate")]
    shares = share_totals(table, ratio) if count is None else {}
    findings = []
    for row in range(len(table.raw)):
        if not table.is_shown(row, ratio):
            continue
        value = table.value(row, ratio)
        numerator_shown = numerator is not None and table.is_shown(row, numerator)
        if count is not None and table.is_shown(row, count):
            if numerator_shown or value == 0 or table.value(row, count) <= 0:
                continue  # the numerator is shown (and tested), or is 0
            if scale is None:
                findings.append(_unknown_scale(ratio))
                break
            findings.extend(
                _implied_numerator(table, rules, row, ratio, count, table.value(row, count))
            )
        elif numerator_shown and value > 0 and scale is not None:
            findings.extend(_implied_denominator(table, rules, row, ratio, numerator))
        elif row in shares and value > 0:
            findings.extend(_implied_numerator(table, rules, row, ratio, numerator, shares[row]))
        elif count is not None and not numerator_shown:
            findings.append(_hidden_count(table, row, ratio, count))
    return findings


def _implied_numerator(
    table: Table, rules: Profile, row: int, ratio: str, count: str, n: float
) -> list[Finding]:
    """value / scale x n, where n is the row's count, or its group's total for a share."""
    value, scale = table.value(row, ratio), table.columns[ratio].scale
    fraction = value / scale
    rounding = count_rounding(table, count, rules)
    of = f"{count} = {n:g}" if table.columns[ratio].count == count else f"the group's {n:g}"
    return _implied(
        table,
        rules,
        row,
        ratio,
        implied=fraction * n,
        highest=_highest(fraction * rounding_interval(n, rounding)[1], fraction * n, rounding),
        rounding=rounding,
        what=f"{_as_share(value, scale)} of {of} means",
        numbers={"value": value, "scale": scale, "denominator": n},
    )


def _implied_denominator(
    table: Table, rules: Profile, row: int, ratio: str, numerator: str
) -> list[Finding]:
    """numerator / (value / scale), for a ratio shown with its numerator but not its count."""
    value, scale = table.value(row, ratio), table.columns[ratio].scale
    fraction = value / scale
    top = table.value(row, numerator)
    rounding = count_rounding(table, numerator, rules)
    return _implied(
        table,
        rules,
        row,
        ratio,
        implied=top / fraction,
        highest=_highest(rounding_interval(top, rounding)[1] / fraction, top / fraction, rounding),
        rounding=rounding,
        what=f"{_as_share(value, scale)} with {numerator} = {top:g} means a group of",
        numbers={"value": value, "scale": scale, "numerator": top},
    )


def _mean_findings(table: Table, mean: str, rules: Profile) -> list[Finding]:
    count = table.count_for(mean)
    count = count if count in table.columns else None
    total = _sum_for(table, mean)
    if count is None and total is None:
        return [_no_count(mean, "mean")]
    findings = []
    for row in range(len(table.raw)):
        if not table.is_shown(row, mean) or (count is not None and table.is_shown(row, count)):
            continue
        value = table.value(row, mean)
        if total is not None and table.is_shown(row, total) and value != 0:
            implied = table.value(row, total) / value
            findings.extend(
                _implied(
                    table,
                    rules,
                    row,
                    mean,
                    implied=implied,
                    highest=implied,
                    rounding=None,
                    what=f"{mean} = {value:g} with {total} = {table.value(row, total):g} means",
                    numbers={"mean": value, "sum": table.value(row, total)},
                )
            )
        elif count is not None:
            findings.append(_hidden_count(table, row, mean, count))
    return findings


def _sum_for(table: Table, mean: str) -> str | None:
    """The sum of the same thing as a mean: the only sum, or the one named like it
    (mean_sessions, sum_sessions)."""
    sums = table.with_role(Role.SUM)
    if len(sums) == 1 and len(table.with_role(Role.MEAN)) == 1:
        return sums[0]
    named = [name for name in sums if _subject(name) == _subject(mean)]
    return named[0] if len(named) == 1 else None


_ROLE_WORDS = frozenset({"mean", "average", "avg", "sum", "total"})


def _subject(name: str) -> list[str]:
    return [word for word in tokens(name) if word not in _ROLE_WORDS]


def _highest(true_reading: float, product: float, rounding: int | str | None) -> float:
    """The largest count a derived figure can stand for: as computed from the true counts (the
    shown counts at the top of their rounding band: `true_reading`), or, when the plain
    `product` is itself a rounded count, as computed from the rounded counts (that count at
    the top of its band)."""
    nearest = _nearest(product)
    if abs(product - nearest) < 1e-6 and conforms(nearest, rounding):
        return max(true_reading, rounding_interval(nearest, rounding)[1])
    return true_reading


def _implied(
    table: Table,
    rules: Profile,
    row: int,
    column: str,
    *,
    implied: float,
    highest: float,
    rounding: int | str | None,
    what: str,
    numbers: dict,
) -> list[Finding]:
    count = max(_nearest(implied), 1)  # a non-zero figure stands for at least one unit
    most = max(_nearest(highest), count)
    numbers = {**numbers, "implied_count": count, "threshold": rules.threshold}
    if rounding is not None:
        numbers |= {"rounding": rounding, "implied_count_at_most": most}
    if rules.is_small(most):
        verdict = Verdict.FAIL
        about = f"about {count} units" if most == count else f"{count} to at most {most} units"
        advice = f"redact {column} here as you would the count"
    elif rules.is_small(count):
        verdict = Verdict.REVIEW
        about = f"about {count} units, or up to {most} given the rounding"
        advice = (
            f"an output checker must judge it; to be safe, redact {column} here, or compute it "
            "from the rounded counts"
        )
    else:
        return []
    return [
        Finding(
            "implied_count",
            verdict,
            f"{what} {about} ({rules.describe_threshold()}); {advice}",
            table.cell(row, column),
            numbers,
        )
    ]


def _nearest(number: float) -> int:
    return math.floor(number + 0.5)


def _as_share(value: float, scale: float) -> str:
    if scale == 100:
        return f"{value:g}%"
    if scale == 1:
        return f"a proportion of {value:g}"
    return f"a rate of {value:g} per {scale:g}"


def _no_count(column: str, kind: str) -> Finding:
    return Finding(
        "implied_count",
        Verdict.REVIEW,
        f"nothing shows how many units the {kind} {column} describes; show the number of units "
        "beside it (and say which column it is in the sidecar), so the checks can test it",
        numbers={"column": column},
    )


def _unknown_scale(column: str) -> Finding:
    return Finding(
        "implied_count",
        Verdict.REVIEW,
        f"cannot tell the scale of the rate {column} (per 1, 100, 1,000 ...), so not the counts "
        'it implies; say it in the sidecar (`"scale": 1000`) or show its numerator',
        numbers={"column": column},
    )


def _hidden_count(table: Table, row: int, column: str, count: str) -> Finding:
    return Finding(
        "implied_count",
        Verdict.REVIEW,
        f"{column} describes a group whose count ({count}) is redacted here, perhaps because it "
        f"is small; redact {column} too, or an output checker must judge it",
        table.cell(row, column),
        {"value": table.value(row, column)},
    )
