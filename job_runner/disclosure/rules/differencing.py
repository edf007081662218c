"""Differencing across outputs (sdc.md rule 7): two tables over nested populations whose
matching cells differ by a small group.

"Pupils by school" and "pupils without an EHC plan by school" are each safe, but subtracting
one from the other gives the pupils with an EHC plan at each school. The check compares every
table of a request with the request's other tables and with the tables released before
(`ReleasedTables`, read from a folder of released CSV files and their sidecars).

Matching cells: rows with the same dimensions and the same values of them (names compared
lower-case with words joined by "_", values stripped and case-folded). A dimension showing the
total label drops out, so the Total rows of "pupils by school and FSM" match the rows of
"pupils by school", and a grand total matches a one-row table of counts without dimensions (a
single-number output). Columns compared: count columns of the same name; failing any, the one
count column of each table. Tables whose sidecars name different units (pupil, teacher) are
not compared.

The verdict, for each pair of count columns of two tables:

- the tables are nested when, in every matching cell where both are shown, one table's count
  is at least the other's (with rounding, when that is possible given both counts' rounding);
  tables that are not nested are not compared further (overlapping populations);
- neither count rounded: a difference d > 0 that the profile calls small (`rules.is_small`;
  under opensafely 1 to 7, under srs 1 to 9) fails, on the cell of each table of the request;
- either count rounded (to a base, or midpoint-6): the true difference is only known within
  the rounding, from lower - upper to upper - lower of the two counts' intervals
  (`tables.rounding_interval`; a total that equals the sum of its shown rounded parts was
  recomputed from them, and is known only within the sum of their intervals), and rounding is
  the protection OpenSAFELY relies on against differencing. Needs review: a shown difference
  of at most one rounding step (the base, or 6 for midpoint-6; the coarser of the two) that
  the rounding cannot explain away (the true difference is at least 1, so the populations do
  differ) and whose least true value is small: the output checker should confirm the
  unrounded counts are not released elsewhere. Anything else passes: two roundings of one
  population, or a difference of two steps or more.

A total that equals the sum of its shown cells while some of its cells are suppressed counts
only the shown cells (recomputed after redaction), not a population: it is not compared.

Findings go on the request's tables only (a released table is not checked again), one per cell
and other table, naming the other file, column, row and the difference.

Cost: every table is indexed by each row's signature (the dimensions not at their total and
their values) in a dict, so a new table meets only the tables that share a signature with one
of its rows; the work grows with the number of matching rows, and unrelated tables (other
dimensions, other keys) cost nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from job_runner.disclosure.description import DescriptionError, read_description
from job_runner.disclosure.profiles import Profile
from job_runner.disclosure.report import Cell, Finding, Verdict
from job_runner.disclosure.rules.suppression import margin_keys, table_lines
from job_runner.disclosure.tables import Table, UnreadableTable, normal_name, read_table

RULE = "differencing"

Signature = tuple[tuple[str, str], ...]


@dataclass
class IndexedTable:
    """What the check keeps of a table: its count columns as numbers (NaN where not shown),
    their rounding intervals, and each row's signature."""

    path: str
    unit: str | None
    columns: dict[str, str]  # normal name -> column name
    values: dict[str, np.ndarray]
    low: dict[str, np.ndarray]
    high: dict[str, np.ndarray]
    step: dict[str, float]  # the rounding step (0 when not rounded)
    signatures: list[Signature]
    table: Table | None = field(default=None, repr=False)  # kept for the request's tables
    _texts: dict[str, list[str]] | None = field(default=None, repr=False)

    def cell(self, row: int, column: str) -> Cell:
        if self.table is None:
            return Cell(row=row, column=column, key=dict(self.signatures[row]))
        if self._texts is None:
            self._texts = {name: self.table.raw[name].tolist() for name in self.table.dimensions}
        return Cell(row=row, column=column, key={n: v[row] for n, v in self._texts.items()})


def index_table(table: Table, keep: bool = False) -> IndexedTable | None:
    """A table as the differencing check indexes it; None when it has no rows to compare (no
    count columns, or several rows and no dimensions to tell them apart)."""
    counts = table.count_columns
    if not counts or len(table.raw) == 0 or (not table.dimensions and len(table.raw) != 1):
        return None
    names = [normal_name(name) for name in table.dimensions]
    keys = margin_keys(table)
    signatures = [
        tuple(
            sorted(
                (name, value.casefold())
                for name, value in zip(names, key, strict=True)
                if value is not None
            )
        )
        for key in keys
    ]
    values, low, high, step = {}, {}, {}, {}
    for column in counts:
        shown = table.values[column].to_numpy(dtype=float).copy()
        shown[table.suppressed[column].to_numpy()] = np.nan
        rounding = table.rounding_of(column)
        values[column] = shown
        low[column], high[column] = _rounding_intervals(shown, rounding)
        step[column] = 6.0 if rounding == "midpoint6" else float(rounding or 0)
    _recomputed_totals(table, keys, values, low, high)
    unit = table.description.unit if table.description else None
    return IndexedTable(
        path=table.path,
        unit=unit.strip().casefold() if unit else None,
        columns={normal_name(column): column for column in counts},
        values=values,
        low=low,
        high=high,
        step=step,
        signatures=signatures,
        table=table if keep else None,
    )


def _recomputed_totals(
    table: Table,
    keys: list[tuple[str | None, ...]],
    values: dict[str, np.ndarray],
    low: dict[str, np.ndarray],
    high: dict[str, np.ndarray],
) -> None:
    """Adjust the totals that equal the sum of their shown parts (recomputed from the controlled
    cells, as OpenSAFELY asks): such a total of rounded cells is only known within the sum of
    its parts' intervals, and one that leaves suppressed parts out counts no whole population,
    so it is not compared at all."""
    lines = [line for line in table_lines(table, keys) if line.total[1] in values]
    if not lines:
        return

    def value(cell: tuple[int, str]) -> float:
        return float(values[cell[1]][cell[0]])

    recomputed = []
    for line in lines:
        total, parts = value(line.total), [value(part) for part in line.parts]
        shown = [part for part in parts if not np.isnan(part)]
        if shown and abs(total - sum(shown)) < 1e-9:
            recomputed.append((line, len(shown) < len(parts)))
    partial = {line.total for line, leaves_out in recomputed if leaves_out}
    for _ in range(len(table.dimensions) + 1):  # a total of totals that leave cells out, too
        more = {
            line.total
            for line, _ in recomputed
            if line.total not in partial and any(part in partial for part in line.parts)
        }
        if not more:
            break
        partial |= more
    for row, column in partial:
        values[column][row] = low[column][row] = high[column][row] = np.nan
    for _ in range(len(table.dimensions) + 1):  # totals of totals widen in turn
        widened = False
        for line, _ in recomputed:
            row, column = line.total
            if line.total in partial:
                continue
            least = sum(low[part_column][part_row] for part_row, part_column in line.parts)
            most = sum(high[part_column][part_row] for part_row, part_column in line.parts)
            if least < low[column][row] or most > high[column][row]:
                low[column][row] = min(least, low[column][row])
                high[column][row] = max(most, high[column][row])
                widened = True
        if not widened:
            break


def _rounding_intervals(
    shown: np.ndarray, rounding: int | str | None
) -> tuple[np.ndarray, np.ndarray]:
    """`tables.rounding_interval` for a column of counts at once."""
    if rounding is None or rounding == "none":
        return shown.copy(), shown.copy()
    if rounding == "midpoint6":
        zero = shown == 0
        return np.where(zero, 0.0, np.maximum(shown - 2, 1.0)), np.where(zero, 0.0, shown + 3)
    base = int(rounding)
    return np.maximum(shown - base // 2, 0.0), shown + (base - 1) // 2


class ReleasedTables:
    """Tables released before, indexed by row signature for the differencing check.

    released = ReleasedTables.from_folder("releases/")   # every CSV with its sidecar
    released = ReleasedTables([table, ...])              # or from Table objects
    """

    def __init__(self, tables: Iterable[Table] = (), *, keep: bool = False) -> None:
        self.tables: list[IndexedTable] = []
        self._rows: dict[Signature, list[tuple[int, int]]] = defaultdict(list)
        self._keep = keep
        for table in tables:
            self.add(table)

    @classmethod
    def from_folder(cls, folder: str | Path) -> ReleasedTables:
        """Every readable CSV table under `folder`, with its sidecar description when it has
        one; files that cannot be read are left out. Paths are relative to `folder`."""
        folder = Path(folder)
        released = cls()
        for path in sorted(folder.rglob("*.csv")):
            try:
                description = read_description(path)
            except DescriptionError:
                description = None
            try:
                table = read_table(path, description)
            except (UnreadableTable, DescriptionError, OSError):
                continue
            table.path = str(path.relative_to(folder))
            released.add(table)
        return released

    def add(self, table: Table) -> None:
        indexed = index_table(table, keep=self._keep)
        if indexed is None:
            return
        number = len(self.tables)
        self.tables.append(indexed)
        for row, signature in enumerate(indexed.signatures):
            self._rows[signature].append((number, row))

    def __len__(self) -> int:
        return len(self.tables)

    def matching_rows(self, table: IndexedTable) -> dict[int, list[tuple[int, int]]]:
        """For each indexed table sharing a row signature with `table`, the matching rows as
        (row of `table`, row of the indexed table)."""
        matches: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for row, signature in enumerate(table.signatures):
            for number, other_row in self._rows.get(signature, ()):
                matches[number].append((row, other_row))
        return matches


def check_differencing(
    tables: list[Table], rules: Profile, released: ReleasedTables | None
) -> dict[str, list[Finding]]:
    """Cells of the request's tables that, subtracted from a matching cell of a nested table
    (in the request or released before), leave a small group (see the module)."""
    request = ReleasedTables(tables, keep=True)
    findings: dict[str, list[Finding]] = defaultdict(list)
    for number, table in enumerate(request.tables):
        for other, rows in request.matching_rows(table).items():
            if other > number:
                _compare(table, request.tables[other], rows, rules, findings, both=True)
        if released is not None:
            for other, rows in released.matching_rows(table).items():
                _compare(table, released.tables[other], rows, rules, findings, both=False)
    return dict(findings)


def _column_pairs(one: IndexedTable, other: IndexedTable) -> list[tuple[str, str]]:
    if one.unit and other.unit and one.unit != other.unit:
        return []
    same = [
        (one.columns[name], other.columns[name]) for name in one.columns if name in other.columns
    ]
    if same:
        return same
    if len(one.columns) == 1 and len(other.columns) == 1:
        return [(next(iter(one.columns.values())), next(iter(other.columns.values())))]
    return []


def _compare(
    one: IndexedTable,
    other: IndexedTable,
    rows: list[tuple[int, int]],
    rules: Profile,
    findings: dict[str, list[Finding]],
    *,
    both: bool,
) -> None:
    """Findings for the matching rows of two tables, on `one` (and on `other` when `both`)."""
    if one.path == other.path:
        return
    mine = np.fromiter((row for row, _ in rows), dtype=int, count=len(rows))
    theirs = np.fromiter((row for _, row in rows), dtype=int, count=len(rows))
    for column, other_column in _column_pairs(one, other):
        pair = _Pair(one, column, mine, other, other_column, theirs)
        if not pair.rows.size:
            continue
        swapped = pair.swapped()
        for larger, smaller in ((pair, swapped), (swapped, pair)):
            if not larger.may_contain(smaller):
                continue
            sides = [(larger, smaller), (smaller, larger)]
            if not both:
                sides = [side for side in sides if side[0].table is one]
            for position in _candidates(larger, smaller, rules):
                verdict, difference = _verdict(larger, smaller, position, rules)
                if verdict is None:
                    continue
                for here, there in sides:
                    findings[here.table.path].append(
                        _finding(here, there, position, verdict, difference, here is larger, rules)
                    )


@dataclass
class _Pair:
    """One count column of a table at its matching rows, beside the other table's column."""

    table: IndexedTable
    column: str
    all_rows: np.ndarray
    other_table: IndexedTable
    other_column: str
    other_rows: np.ndarray

    def __post_init__(self) -> None:
        shown = ~np.isnan(self.table.values[self.column][self.all_rows]) & ~np.isnan(
            self.other_table.values[self.other_column][self.other_rows]
        )
        self.rows = self.all_rows[shown]
        self.matched = self.other_rows[shown]
        self.values = self.table.values[self.column][self.rows]
        self.low = self.table.low[self.column][self.rows]
        self.high = self.table.high[self.column][self.rows]
        self.step = self.table.step[self.column]

    def swapped(self) -> _Pair:
        return _Pair(
            self.other_table,
            self.other_column,
            self.other_rows,
            self.table,
            self.column,
            self.all_rows,
        )

    def may_contain(self, smaller: _Pair) -> bool:
        """Whether this population may include the other in every matching cell."""
        return bool((self.high >= smaller.low).all())


def _candidates(larger: _Pair, smaller: _Pair, rules: Profile) -> np.ndarray:
    """The positions whose shown difference is positive and no more than could be small (or,
    rounded, one rounding step): only these can have a finding."""
    if rules.threshold is None:
        return np.empty(0, dtype=int)
    step = max(larger.step, smaller.step)
    shown = larger.values - smaller.values
    return np.flatnonzero((shown > 0) & (shown <= (step or rules.threshold)))


def _verdict(
    larger: _Pair, smaller: _Pair, position: int, rules: Profile
) -> tuple[Verdict | None, tuple[float, float, float]]:
    """The verdict on one matching cell, and (shown difference, least and greatest true
    difference)."""
    shown = float(larger.values[position] - smaller.values[position])
    low = max(float(larger.low[position] - smaller.high[position]), 0.0)
    high = float(larger.high[position] - smaller.low[position])
    difference = (shown, low, high)
    if shown <= 0:
        return None, difference
    step = max(larger.step, smaller.step)
    if not step:
        return (Verdict.FAIL if rules.is_small(shown) else None), difference
    if shown <= step and low >= 1 and rules.is_small(low):
        return Verdict.REVIEW, difference
    return None, difference


def _finding(
    here: _Pair,
    there: _Pair,
    position: int,
    verdict: Verdict,
    difference: tuple[float, float, float],
    here_is_larger: bool,
    rules: Profile,
) -> Finding:
    # `here` and `there` hold the same matching cells in the same order.
    row, other_row = int(here.rows[position]), int(there.rows[position])
    value, other_value = float(here.values[position]), float(there.values[position])
    shown, low, high = difference
    cell = here.table.cell(row, here.column)
    where = ", ".join(f"{name}={value}" for name, value in cell.key.items())
    other_cell = there.table.cell(other_row, there.column)
    other_where = ", ".join(f"{name}={value}" for name, value in other_cell.key.items())
    relation = "includes" if here_is_larger else "is part of"
    intro = (
        f"{here.column}{f' for {where}' if where else ''} is {value:g} here and {other_value:g} in "
        f"{there.table.path} ({there.column}"
        + (f", {other_where}" if other_where and other_where != where else "")
        + f"), whose population it {relation} in every matching cell"
    )
    numbers = {
        "value": value,
        "other_file": there.table.path,
        "other_column": there.column,
        "other_row": other_row,
        "other_value": other_value,
        "difference": shown,
        "difference_interval": [low, high],
        "threshold": rules.threshold,
    }
    if verdict is Verdict.FAIL:
        message = (
            f"{intro}: the difference, {shown:g}, is a small group "
            f"({rules.describe_threshold()}) that subtracting one table from the other reveals. "
            "Suppress this cell in one of the two tables (or merge the small group into a "
            "larger one), or round both tables"
        )
    else:
        message = (
            f"{intro}: they differ by {shown:g}, within their rounding, so the true difference "
            f"is between {low:g} and {high:g} and may be a small group "
            f"({rules.describe_threshold()}). Rounding protects it if the unrounded counts are "
            "released nowhere else; an output checker should confirm that"
        )
    return Finding(RULE, verdict, message, cell, numbers)
