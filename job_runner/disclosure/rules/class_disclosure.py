"""Class disclosure (sdc.md rule 3): a zero or 100% cell in a sensitive attribute tells a reader
something about every unit in a group ("every pupil excluded at school A has SEN"), however
many units the group has."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from job_runner.disclosure.description import Role
from job_runner.disclosure.profiles import Profile
from job_runner.disclosure.report import Finding, Verdict, worst
from job_runner.disclosure.rules.counts import RATIO_ROLES
from job_runner.disclosure.rules.rounding import Rounding, conforms, count_rounding
from job_runner.disclosure.tables import Table, is_sensitive, is_total_label, rounding_interval


def check_class_disclosure(table: Table, rules: Profile) -> list[Finding]:
    """Cells that say all or none of a group have a sensitive attribute.

    - A numerator of a sensitive attribute equal to 0, or to its denominator (> 0); outside
      a crosstab, a 0 in a count column of a sensitive attribute ("excluded") too.
    - A percentage or proportion of a sensitive attribute of 0 or 100% (0 or 1), or a rate of
      0, where its numerator is not shown; a group whose count is not shown is taken to have
      units (the figure would not exist otherwise).
    - A crosstab whose columns are the categories of a sensitive attribute, and a long table
      with a sensitive dimension: a group (a row of the crosstab; the rows sharing the other
      dimensions' values, for each count column of a long table) with every unit in one
      category, the others 0, fails on each of those cells. A total shown beside it counts
      as the group's size, so a category equal to it puts everyone there even when the other
      categories are redacted.

    Rounded counts make "all" and "none" uncertain: all-of-a-group findings on rounded counts
    (as the table says, or as the profile rounds every count; a value that is not a multiple
    of the base was not rounded) and figures shown to too few decimals to be exact need
    review. A rounded 0 stands for a true 0 when every count it
    could stand for would have been redacted (0 to 2 with base 5 under a threshold of 7), as
    when the profile was followed; otherwise it needs review too.
    """
    findings = [
        *_numerator_findings(table, rules),
        *_ratio_findings(table, rules),
        *_crosstab_findings(table, rules),
        *_long_findings(table, rules),
    ]
    return _worst_per_cell(findings)


@dataclass(frozen=True)
class _Group:
    """One group's cells across the categories of a sensitive attribute: (row, column, value
    or None when redacted, category), its size when a total shows it, whether that size is a
    rounded count, and words for the group and the attribute."""

    cells: tuple[tuple[int, str, float | None, str], ...]
    total: float | None
    total_rounded: bool
    where: str
    attribute: str


def _numerator_findings(table: Table, rules: Profile) -> Iterator[Finding]:
    for numerator, denominator in _numerator_pairs(table).items():
        if not _sensitive(table, numerator):
            continue
        numerator_rounding = count_rounding(table, numerator, rules)
        denominator_rounding = count_rounding(table, denominator, rules) if denominator else None
        for row in range(len(table.raw)):
            if not table.is_shown(row, numerator):
                continue
            value = table.value(row, numerator)
            size = _shown_value(table, row, denominator)
            if value == 0 and size != 0:
                yield _finding(
                    table,
                    row,
                    numerator,
                    _zero_verdict(numerator_rounding, rules),
                    f"{numerator} = 0{_out_of(denominator, size)}: no one in this group "
                    f"({_describe(table, row)}) is {numerator}",
                    {"count": value, "denominator": size},
                )
            elif size is not None and value == size > 0:
                yield _finding(
                    table,
                    row,
                    numerator,
                    Verdict.REVIEW
                    if _is_rounded(value, numerator_rounding)
                    or _is_rounded(value, denominator_rounding)
                    else Verdict.FAIL,
                    f"{numerator} = {denominator} = {size:g}: everyone in this group "
                    f"({_describe(table, row)}) is {numerator}",
                    {"count": value, "denominator": size},
                )


def _ratio_findings(table: Table, rules: Profile) -> Iterator[Finding]:
    for ratio in table.with_role(*RATIO_ROLES):
        described = table.columns[ratio]
        numerator = described.numerator if described.numerator in table.columns else None
        count = described.count if described.count in table.columns else None
        scale = described.scale
        if not (_sensitive(table, ratio) or (numerator and _sensitive(table, numerator))):
            continue
        for row in range(len(table.raw)):
            if not table.is_shown(row, ratio):
                continue
            if numerator is not None and table.is_shown(row, numerator):
                continue  # the numerator's own check is exact
            value = table.value(row, ratio)
            size = _shown_value(table, row, count)
            if size == 0:
                continue
            everyone = scale is not None and described.role is not Role.RATE and value == scale
            if value != 0 and not everyone:
                continue
            exact = _shown_exactly(table, row, ratio, size) and not (
                count and _is_rounded(size, count_rounding(table, count, rules))
            )
            share = "no one" if value == 0 else "everyone"
            yield _finding(
                table,
                row,
                ratio,
                Verdict.FAIL if exact else Verdict.REVIEW,
                f"{ratio} = {value:g}{_out_of(count, size)}: {share} in this group "
                f"({_describe(table, row)}) is {numerator or ratio}",
                {"value": value, "scale": scale, "denominator": size},
            )


def _crosstab_findings(table: Table, rules: Profile) -> Iterator[Finding]:
    if not table.is_wide():
        return
    categories = [name for name in table.count_columns if name not in table.total_columns]
    if len(categories) < 2 or not any(_sensitive(table, name) for name in categories):
        return
    totals = table.total_columns[:1] if len(table.total_columns) == 1 else []
    total_rounding = count_rounding(table, totals[0], rules) if totals else None
    for row in range(len(table.raw)):
        yield from _one_category(
            table,
            rules,
            _Group(
                cells=tuple(
                    (row, name, _shown_value(table, row, name), name) for name in categories
                ),
                total=_shown_value(table, row, totals[0]) if totals else None,
                total_rounded=_is_rounded(
                    _shown_value(table, row, totals[0]) if totals else None, total_rounding
                ),
                where=_describe(table, row),
                attribute=" / ".join(categories),
            ),
        )


def _long_findings(table: Table, rules: Profile) -> Iterator[Finding]:
    for dimension in table.dimensions:
        if not is_sensitive(table, dimension):
            continue
        others = [name for name in table.dimensions if name != dimension]
        groups: dict[tuple, list[int]] = {}
        group_totals: dict[tuple, list[int]] = {}
        for row, key in enumerate(table.raw[others].itertuples(index=False, name=None)):
            is_total = is_total_label(table.raw[dimension].iat[row], table.total_label)
            (group_totals if is_total else groups).setdefault(key, []).append(row)
        for column in table.count_columns:
            rounding = count_rounding(table, column, rules)
            for key, rows in groups.items():
                totals = group_totals.get(key, [])
                if len(rows) < 2 and not totals:
                    continue  # one category alone: the others may be missing, not empty
                total = _shown_value(table, totals[0], column) if len(totals) == 1 else None
                where = ", ".join(
                    f"{name} {value}" for name, value in zip(others, key, strict=True)
                )
                yield from _one_category(
                    table,
                    rules,
                    _Group(
                        cells=tuple(
                            (
                                row,
                                column,
                                _shown_value(table, row, column),
                                str(table.raw[dimension].iat[row]),
                            )
                            for row in rows
                        ),
                        total=total,
                        total_rounded=_is_rounded(total, rounding),
                        where=where or "the whole table",
                        attribute=dimension,
                    ),
                )


def _one_category(table: Table, rules: Profile, group: _Group) -> Iterator[Finding]:
    """Findings when every unit of the group is in one category: the others shown as 0, or
    redacted when a total equal to that category shows they are empty."""
    values = [cell[2] for cell in group.cells]
    if group.total is not None and group.total > 0:
        full = [cell for cell in group.cells if cell[2] == group.total]
    elif all(value is not None for value in values):
        full = [cell for cell in group.cells if cell[2] > 0]
    else:
        return
    if len(full) != 1:
        return
    rest = [cell for cell in group.cells if cell is not full[0]]
    if any(cell[2] not in (None, 0) for cell in rest):
        return  # some units elsewhere (the total is rounded): not everyone in one category
    zeros_exact = all(
        _zero_verdict(count_rounding(table, cell[1], rules), rules) is Verdict.FAIL for cell in rest
    )
    everyone_shown_elsewhere_zero = all(cell[2] == 0 for cell in rest)
    size, category = full[0][2], full[0][3]
    full_rounded = _is_rounded(size, count_rounding(table, full[0][1], rules))
    certain = (everyone_shown_elsewhere_zero and zeros_exact) or not (
        group.total_rounded or full_rounded
    )
    message = (
        f"all {size:g} units in this group ({group.where}) are in one category ({category}) "
        f"of {group.attribute}, so a reader learns it for every one of them"
    )
    for row, column, value, _ in [full[0], *rest]:
        if value is not None:
            yield _finding(
                table,
                row,
                column,
                Verdict.FAIL if certain else Verdict.REVIEW,
                message,
                {"group_size": size, "category": category, "count": value},
            )


# Helpers


def _numerator_pairs(table: Table) -> dict[str, str | None]:
    """Each numerator column with its denominator column (None when not shown). Outside a
    crosstab, a count column is a numerator too: the number in its row's group with the
    attribute it counts."""
    pairs: dict[str, str | None] = {}
    if not table.is_wide():
        pairs |= {name: None for name in table.with_role(Role.COUNT)}
    for name in table.with_role(Role.NUMERATOR):
        count = table.count_for(name)
        pairs[name] = count if count in table.columns else None
    for name in table.with_role(*RATIO_ROLES):
        described = table.columns[name]
        if described.numerator in table.columns and (pairs.get(described.numerator) is None):
            count = described.count if described.count in table.columns else None
            pairs[described.numerator] = count
    return pairs


def _sensitive(table: Table, column: str) -> bool:
    """A count or ratio column of a sensitive attribute, or one whose ratio is."""
    if is_sensitive(table, column):
        return True
    return any(
        described.numerator == column and is_sensitive(table, name)
        for name, described in table.columns.items()
        if described.role in RATIO_ROLES
    )


def _is_rounded(value: float | None, rounding: Rounding) -> bool:
    """Whether a shown count may be a rounded one (a value that is not a multiple of the base
    was not rounded)."""
    return value is not None and rounding is not None and conforms(value, rounding)


def _zero_verdict(rounding: Rounding, rules: Profile) -> Verdict:
    """A shown 0 is a true 0 unless rounded to a base whose band above 0 holds counts the
    profile would not have redacted."""
    if rounding is None or rounding == "midpoint6":
        return Verdict.FAIL
    _, highest = rounding_interval(0.0, rounding)
    return Verdict.FAIL if highest < 1 or rules.is_small(highest) else Verdict.REVIEW


def _shown_exactly(table: Table, row: int, ratio: str, size: float | None) -> bool:
    """Whether a ratio of 0 or 100% is exactly that: shown to enough decimals that one unit
    fewer or more in a group of this size would show differently."""
    if size is None:
        return False
    scale = table.columns[ratio].scale or 1.0
    text = table.raw[ratio].iat[row].strip()
    decimals = 15 if "e" in text.lower() else len(text.partition(".")[2])
    return scale / size > 0.5 * 10.0**-decimals


def _shown_value(table: Table, row: int, column: str | None) -> float | None:
    if column is None or not table.is_shown(row, column):
        return None
    return table.value(row, column)


def _out_of(column: str | None, size: float | None) -> str:
    return f" out of {column} = {size:g}" if column and size is not None else ""


def _describe(table: Table, row: int) -> str:
    key = table.key(row)
    return ", ".join(f"{name} {value}" for name, value in key.items()) or f"row {row + 1}"


def _finding(
    table: Table, row: int, column: str, verdict: Verdict, what: str, numbers: dict
) -> Finding:
    advice = (
        "redact it, or combine groups or categories so none is all or nothing"
        if verdict is Verdict.FAIL
        else "rounding may hide a few units, so an output checker must judge whether it is "
        "truly all or none; to be safe, redact it or combine groups"
    )
    return Finding(
        "class_disclosure", verdict, f"{what}; {advice}", table.cell(row, column), numbers
    )


def _worst_per_cell(findings: list[Finding]) -> list[Finding]:
    """One finding per cell: the most severe."""
    kept: dict[tuple, Finding] = {}
    for finding in findings:
        key = (finding.cell.row, finding.cell.column) if finding.cell else (None, id(finding))
        if key not in kept or worst([kept[key].verdict, finding.verdict]) is not kept[key].verdict:
            kept[key] = finding
    return list(kept.values())
