"""Figures (sdc.md rule 11): the counts behind a figure come beside it; histogram bins meet the
threshold and their outer edges do not give away the data's minimum and maximum.

`figure_counts`: a figure's counts table is the `counts_file` its sidecar names (relative to the
figure's folder), else the CSV with the same name in the same folder (attendance.png ->
attendance.csv), else the only CSV with that stem anywhere in the request. It is looked for among
the request's tables, then on disk beside the figure (a counts file checked in an earlier request
is not checked again). Without one the figure needs review; with one, the figure gets a passing
finding naming it: the table's own report holds its verdict (a figure does not inherit it).

`histogram`: a counts table is a histogram's when it has bin edges: a pair of columns such as
bin_start/bin_end, lower/upper, left/right, low/high, from/to (with any common prefix), or a
column of interval labels as pandas writes them ("(10.0, 20.0]"). Then
- every shown bin count that is small under the profile fails (the figure shows it as a bar),
  and a suppressed one needs review (make sure the figure leaves the bar out too);
- the outer edges (the first bin's lower edge, the last bin's upper edge) may be the data's
  minimum and maximum (numpy's default bins start and end there). With `bounds` declared for the
  variable in the figure's or the table's sidecar, the outer edges must reach the bounds (first
  edge <= lower bound, last edge >= upper bound) or the figure fails; without bounds it needs
  review. Open outer edges (empty, -inf, inf) give nothing away and pass.

SVG figures are text and are also scanned for identifiers (see `identifiers`).
"""

from __future__ import annotations

import math
import re
from pathlib import Path, PurePosixPath

from job_runner.disclosure.description import (
    DescriptionError,
    TableDescription,
    read_description,
    sidecar_path,
)
from job_runner.disclosure.outputs import OutputFile
from job_runner.disclosure.profiles import Profile
from job_runner.disclosure.report import Finding, Verdict
from job_runner.disclosure.rules.identifiers import scan_text
from job_runner.disclosure.tables import Table, UnreadableTable, normal_name, read_table

Bins = dict[int, tuple[float, float]]  # body row -> (lower edge, upper edge)
_EDGE_PAIRS = (
    ("start", "end"),
    ("lower", "upper"),
    ("left", "right"),
    ("low", "high"),
    ("from", "to"),
    ("min", "max"),
)
_INTERVAL = re.compile(
    r"^\s*[\[(]\s*(?P<lower>[-+]?(?:[\d.]+(?:e[-+]?\d+)?|inf))\s*,"
    r"\s*(?P<upper>[-+]?(?:[\d.]+(?:e[-+]?\d+)?|inf))\s*[\])]\s*$",
    re.IGNORECASE,
)


def check_figure(output: OutputFile, rules: Profile, tables: dict[str, Table]) -> list[Finding]:
    """The figure's counts, its histogram bins, and (for SVG) identifiers in its text."""
    findings = []
    if output.suffix == ".svg":
        findings.extend(scan_text(output.text(), output.name))
    try:
        found = _counts_table(output, tables)
    except (DescriptionError, UnreadableTable) as error:
        return [*findings, _no_counts(output, f"its counts file cannot be read ({error})")]
    if found is None:
        described = output.description.counts_file if output.description else None
        reason = (
            f"its counts file {described} is neither in this request nor beside it"
            if described
            else "no table of the counts it shows was found"
        )
        return [*findings, _no_counts(output, reason)]
    name, table = found
    findings.append(
        Finding(
            "figure_counts",
            Verdict.PASS,
            f"the counts it shows are in {name}, which is checked on its own",
            numbers={"counts_file": name},
        )
    )
    findings.extend(_histogram(output, name, table, rules))
    return findings


# Finding the counts


def _counts_table(output: OutputFile, tables: dict[str, Table]) -> tuple[str, Table] | None:
    figure = PurePosixPath(output.name)
    described = output.description.counts_file if output.description else None
    if described:
        wanted = {str(figure.parent / described), str(PurePosixPath(described))}
        for name, table in tables.items():
            if name in wanted:
                return name, table
        return _from_disk(output.path.parent / described, str(figure.parent / described))
    same_folder = str(figure.with_suffix(".csv"))
    if same_folder in tables:
        return same_folder, tables[same_folder]
    same_stem = [name for name in tables if PurePosixPath(name).stem == figure.stem]
    if len(same_stem) == 1:
        return same_stem[0], tables[same_stem[0]]
    return _from_disk(output.path.with_suffix(".csv"), same_folder)


def _from_disk(path: Path, name: str) -> tuple[str, Table] | None:
    if not path.is_file():
        return None
    table = read_table(path, read_description(path))
    table.path = name
    return name, table


def _no_counts(output: OutputFile, reason: str) -> Finding:
    stem = PurePosixPath(output.name).stem
    return Finding(
        "figure_counts",
        Verdict.REVIEW,
        f"{reason}: a figure can only be checked through its numbers. Release the counts it "
        f"shows as a CSV beside it ({stem}.csv), or name the file as counts_file in "
        f"{sidecar_path(output.name).name}",
        numbers={"figure": output.name},
    )


# Histograms


def _histogram(output: OutputFile, name: str, table: Table, rules: Profile) -> list[Finding]:
    edges = _bin_edges(table)
    if edges is None:
        return []
    variable, edge_columns, bins = edges
    counts = [column for column in table.count_columns if column not in edge_columns]
    findings = _bin_counts(name, table, counts, bins, rules)
    bounds = _bounds(output.description, table.description, variable=variable)
    findings.extend(_outer_edges(name, bins, bounds, variable))
    return findings


def _bin_edges(table: Table) -> tuple[str, list[str], Bins] | None:
    """The histogram's variable, its edge columns, and each body row's (lower, upper) edges;
    None when the table has no bins."""
    rows = table.body_rows
    names = {normal_name(column): column for column in table.columns}
    for normal, column in names.items():
        for low, high in _EDGE_PAIRS:
            prefix = _edge_prefix(normal, low)
            if prefix is None:
                continue
            partner = names.get(f"{prefix}_{high}" if prefix else high)
            if partner is None:
                continue
            bins = {row: (_edge(table, row, column), _edge(table, row, partner)) for row in rows}
            if _is_binning(bins):
                return (prefix or column), [column, partner], bins
    for column in table.dimensions:
        labels = [_INTERVAL.match(str(table.raw.iloc[row][column])) for row in rows]
        if rows and all(labels):
            bins = {
                row: (float(match.group("lower")), float(match.group("upper")))
                for row, match in zip(rows, labels, strict=True)
            }
            if _is_binning(bins):
                return column, [column], bins
    return None


def _is_binning(bins: Bins) -> bool:
    """Whether intervals are a histogram's bins: at least two, in order and not overlapping
    (confidence intervals and per-group ranges overlap), edges open only at the ends."""
    ordered = sorted(
        bins.values(), key=lambda edges: -math.inf if math.isnan(edges[0]) else edges[0]
    )
    if len(ordered) < 2:
        return False
    for index, (lower, upper) in enumerate(ordered):
        if math.isnan(lower) and index > 0 or math.isnan(upper) and index < len(ordered) - 1:
            return False
        if lower > upper:
            return False
    return all(
        current[1] <= following[0] and current[0] < following[0]
        for current, following in zip(ordered, ordered[1:], strict=False)
    )


def _edge_prefix(normal: str, word: str) -> str | None:
    """The prefix before `word`: "" for the column `lower`, "score" for `score_lower`, "bin"
    for `bin_start`; None when the name does not end in the word."""
    if normal == word:
        return ""
    if normal.endswith(f"_{word}"):
        return normal[: -len(word) - 1]
    return None


def _edge(table: Table, row: int, column: str) -> float:
    """An edge's value; NaN (open) when empty or suppressed."""
    return table.value(row, column) if table.is_shown(row, column) else math.nan


def _bin_counts(
    name: str, table: Table, counts: list[str], bins: Bins, rules: Profile
) -> list[Finding]:
    findings = []
    for column in counts:
        for row, (lower, upper) in bins.items():
            where = {"counts_file": name, "row": row, "column": column, "bin": [lower, upper]}
            if not table.is_shown(row, column):
                findings.append(
                    Finding(
                        "histogram",
                        Verdict.REVIEW,
                        f"the bin from {lower:g} to {upper:g} is suppressed in {name} "
                        f"({column}): make sure the figure does not show that bar either",
                        numbers=where,
                    )
                )
                continue
            count = table.value(row, column)
            if rules.is_small(count):
                findings.append(
                    Finding(
                        "histogram",
                        Verdict.FAIL,
                        f"the bin from {lower:g} to {upper:g} holds {count:g} units ({column} in "
                        f"{name}; {rules.describe_threshold()}): widen the bins or merge small "
                        "ones so that every bar shows enough units",
                        numbers={**where, "count": count, "threshold": rules.threshold},
                    )
                )
    return findings


def _bounds(
    *descriptions: TableDescription | None, variable: str
) -> tuple[str, tuple[float, float]] | None:
    """The declared design range for the histogram's variable: the one declared, or the one
    named like the variable (the figure's sidecar first)."""
    declared: dict[str, tuple[float, float]] = {}
    for description in reversed(descriptions):
        if description is not None:
            declared.update(description.bounds)
    if len(declared) == 1:
        return next(iter(declared.items()))
    for key, bounds in declared.items():
        if normal_name(key) == normal_name(variable):
            return key, bounds
    return None


def _outer_edges(
    name: str,
    bins: Bins,
    bounds: tuple[str, tuple[float, float]] | None,
    variable: str,
) -> list[Finding]:
    lowers = [lower for lower, _ in bins.values()]
    uppers = [upper for _, upper in bins.values()]
    first = -math.inf if any(map(_is_open, lowers)) else min(lowers, default=-math.inf)
    last = math.inf if any(map(_is_open, uppers)) else max(uppers, default=math.inf)
    numbers = {"counts_file": name, "first_edge": first, "last_edge": last}
    if math.isinf(first) and math.isinf(last):
        return []
    if bounds is None:
        return [
            Finding(
                "histogram",
                Verdict.REVIEW,
                f"the bins in {name} run from {first:g} to {last:g}: if these edges came from "
                "the data they are its smallest and largest values. Declare the variable's "
                'design range in the sidecar ("bounds": {"' + variable + '": [80, 120]} for a '
                "scaled score), or make the outer bins open (below 80, 120 and over)",
                numbers=numbers,
            )
        ]
    key, (low, high) = bounds
    if first <= low and last >= high:
        return []
    return [
        Finding(
            "histogram",
            Verdict.FAIL,
            f"the bins in {name} run from {first:g} to {last:g}, inside the declared range of "
            f"{key} ({low:g} to {high:g}): an outer edge inside the range may be the smallest or "
            f"largest value in the data; start the first bin at {low:g} and end the last at "
            f"{high:g}",
            numbers={**numbers, "bounds": [low, high], "variable": key},
        )
    ]


def _is_open(edge: float) -> bool:
    return math.isnan(edge) or math.isinf(edge)
