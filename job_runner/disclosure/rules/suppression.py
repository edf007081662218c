"""Totals that reveal suppressed cells (sdc.md rule 6).

A table with totals has an additive structure: each total is the sum of its body cells. A reader
who knows that can solve for suppressed cells. For every suppressed count cell the check finds
the interval [low, high] of values the table's arithmetic leaves for it, by linear programming:

- lines: in a long table, the row whose dimension shows the total label ("Total", "All" ...) is
  the sum of the rows of the same group (the same values of the other dimensions); in a total
  row, a blank dimension counts as a total too. A count column marked `total` (a column named
  Total, or `"total": true` in the sidecar) is, in each row, the sum of the other plain count
  columns (at least two). A wide crosstab with a Total row and a Total column has both.
- shown cells are what they show; in a column rounded to a base b (`Table.rounding_of`) a shown
  v stands for the true counts that round to v (to 5: v - 2 to v + 2; `tables.rounding_interval`),
  midpoint-6 likewise; suppressed cells are zero or more, and whole numbers when everything shown
  is (bounds are rounded inwards, and a fractional LP bound is re-solved as an integer program).
- the upper bound a reader might take from the suppression itself ("it was suppressed, so it is
  at most 7") is NOT used: the interval is what the totals alone reveal.

At most one LP pair (min, max) per suppressed cell, over the connected component of lines that
share suppressed cells with it (scipy's HiGHS); a component of one line is solved in closed
form. In a larger component the solutions found on the way are kept: a cell they already show
to pass (spanning the protection width, or not pinned while its own lines keep it above the
small counts) needs no LP of its own, and a cell whose maximum alone shows it passes needs one.

The verdict, per suppressed cell (protection width P = `rules.minimum_protection_width`, the
threshold unless set; small counts are those `rules.is_small` calls small, up to S =
`rules.smallest_safe_count - 1`):

- fail when the interval has width 0: the totals give the cell exactly (the classic case: a
  total minus the shown cells of its line; or lines that pin each other, which only the LP sees);
- fail when the interval is narrower than P and starts at or below S: the cell may be a small
  count and the reader learns it within fewer than P units. This is the "sliding protection"
  requirement of the cell-suppression literature (the feasible interval must be at least as wide
  as the required protection), applied to every cell that could be small. An interval that
  starts above S belongs to a cell that cannot be small (a secondary suppression): narrowing
  it reveals no small count, so it passes. With exact totals this reduces to the familiar rule
  that the suppressed cells of a line must together add up to at least P.

Not used, so never a finding:
- a line whose total equals the sum of its shown cells: that total was recomputed from the shown
  cells (as `controls.recompute_totals` writes it) and says nothing about the suppressed ones
  (a true total whose suppressed cells are all 0 looks the same, and is missed);
- a line that cannot hold (its shown cells add up to more than its total allows): its total is
  not the sum of those cells (overlapping groups, a different population), so a reader cannot
  use it either; a component whose lines cannot all hold together is skipped likewise.

A shown rounded cell may take any value its rounding allows within each component, whatever
lines outside the component say about it; this can only widen an interval, never report an
exposure that is not there.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import csr_array

from job_runner.disclosure.description import Role
from job_runner.disclosure.profiles import Profile
from job_runner.disclosure.report import Finding, Verdict
from job_runner.disclosure.tables import Table, is_total_label, rounding_interval

RULE = "suppressed_interval"
_TOLERANCE = 1e-6

CellId = tuple[int, str]  # (row, column)


@dataclass(frozen=True)
class Line:
    """One additive relation of a table: `total` is the sum of `parts`, over the dimension
    `over` (a total row) or, with `over=None`, across the columns (a total column)."""

    total: CellId
    parts: tuple[CellId, ...]
    over: str | None
    table: Table = field(compare=False, repr=False)

    @cached_property
    def label(self) -> str:
        """The total as a researcher reads it ("the total of pupils over fsm in the row
        school=A, fsm=Total (35)")."""
        row, column = self.total
        where = _where(self.table, row)
        shown = _shown(self.table, row, column)
        if self.over is None:
            return f"the {column} column in the row {where} ({shown})"
        return f"the total of {column} over {self.over} in the row {where} ({shown})"


@dataclass(frozen=True)
class Interval:
    """The values a suppressed cell can take, and the lines that say so."""

    low: float
    high: float
    lines: tuple[Line, ...]
    revealing: Line | None  # one line that gives this interval on its own, if any
    # False when the LP was not run because feasible solutions already span `low` to `high`,
    # at least the width asked for: the true interval is at least as wide.
    complete: bool = True

    @property
    def width(self) -> float:
        return self.high - self.low


def check_suppressed_intervals(table: Table, rules: Profile) -> list[Finding]:
    """Suppressed cells the table's totals pin exactly or to a narrow interval (see the
    module for the precise rule)."""
    if not table.suppressed.to_numpy().any():
        return []
    lines = table_lines(table)
    if not lines:
        return []
    findings = []
    for cell, interval in suppressed_intervals(table, lines, rules).items():
        finding = _judge(table, cell, interval, rules)
        if finding is not None:
            findings.append(finding)
    return findings


# The additive structure


def margin_keys(table: Table) -> list[tuple[str | None, ...]]:
    """Each row's dimension values (stripped text) in `table.dimensions` order, with None for a
    total; in a total row, a blank dimension is a total too ("Total,," for the grand total)."""
    dimensions = table.dimensions
    texts = [table.raw[name].astype(str).str.strip().tolist() for name in dimensions]
    keys = []
    for row in range(len(table.raw)):
        values = [column[row] for column in texts]
        totals = [is_total_label(value, table.total_label) for value in values]
        blank_is_total = any(totals)
        keys.append(
            tuple(
                None if is_total or (blank_is_total and value == "") else value
                for value, is_total in zip(values, totals, strict=True)
            )
        )
    return keys


def table_lines(table: Table, keys: list[tuple[str | None, ...]] | None = None) -> list[Line]:
    """Every total row and total column of the table as a line: total = sum of parts (`keys`:
    the table's `margin_keys`, when already known)."""
    return [*_row_lines(table, keys or margin_keys(table)), *_column_lines(table)]


def _row_lines(table: Table, keys: list[tuple[str | None, ...]]) -> Iterable[Line]:
    dimensions = table.dimensions
    for position, dimension in enumerate(dimensions):
        groups: dict[tuple, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
        for row, key in enumerate(keys):
            totals, parts = groups[key[:position] + key[position + 1 :]]
            (totals if key[position] is None else parts).append(row)
        for totals, parts in groups.values():
            if len(totals) != 1 or not parts:
                continue
            for column in table.count_columns:
                yield Line(
                    (totals[0], column), tuple((row, column) for row in parts), dimension, table
                )


def _column_lines(table: Table) -> Iterable[Line]:
    totals = table.total_columns
    if len(totals) != 1 or table.role(totals[0]) is Role.DENOMINATOR:
        return
    [total] = totals
    stated = total in table.described
    parts = [
        name
        for name in table.count_columns
        if name != total and (stated or table.role(name) is Role.COUNT)
    ]
    if len(parts) < 2:
        return
    for row in range(len(table.raw)):
        yield Line((row, total), tuple((row, name) for name in parts), None, table)


def _shown(table: Table, row: int, column: str) -> str:
    position = table.raw.columns.get_loc(column)
    if table.suppressed.iat[row, position]:
        return "suppressed"
    return str(table.raw.iat[row, position]).strip()


# The intervals


def suppressed_intervals(
    table: Table, lines: list[Line], rules: Profile | None = None
) -> dict[CellId, Interval]:
    """The interval the lines leave for each suppressed cell in them. With `rules`, a cell
    already known to pass gets an incomplete interval (`complete=False`) instead of its own
    two LPs: feasible solutions found on the way show it ranges at least the protection width,
    or they show it is not pinned and its own lines keep it above the small counts."""
    cells = _Cells(table)
    usable = [line for line in lines if cells.informative(line)]
    intervals: dict[CellId, Interval] = {}
    for component in _components(usable, cells):
        intervals.update(_solve(component, cells, rules))
    return intervals


class _Cells:
    """What the table shows of each count cell: unknown (suppressed or not a number), or the
    interval of true counts a shown value stands for."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self._values = {name: table.values[name].to_numpy() for name in table.count_columns}
        self._suppressed = {name: table.suppressed[name].to_numpy() for name in table.count_columns}
        self._rounding = {name: table.rounding_of(name) for name in table.count_columns}

    def unknown(self, cell: CellId) -> bool:
        row, column = cell
        return bool(np.isnan(self._values[column][row]))

    def suppressed(self, cell: CellId) -> bool:
        row, column = cell
        return bool(self._suppressed[column][row])

    def value(self, cell: CellId) -> float:
        row, column = cell
        return float(self._values[column][row])

    def band(self, cell: CellId) -> tuple[float, float]:
        """The true counts a shown cell can be (its value, unless rounded); 0 up for unknowns."""
        if self.unknown(cell):
            return 0.0, math.inf
        return rounding_interval(self.value(cell), self._rounding[cell[1]])

    def informative(self, line: Line) -> bool:
        """Whether a line can tell a reader something about an unknown cell: it has one, its
        total is not merely the sum of its shown cells, and it can hold."""
        if not any(self.unknown(cell) for cell in (line.total, *line.parts)):
            return False
        if self._recomputed(line):
            return False
        low, high = self.band(line.total)
        parts = [self.band(cell) for cell in line.parts]
        # total - sum(parts) must be able to be 0.
        return (
            low - sum(part[1] for part in parts) <= _TOLERANCE
            and high - sum(part[0] for part in parts) >= -_TOLERANCE
        )

    def _recomputed(self, line: Line) -> bool:
        """Whether the total is the sum of the shown cells only, some parts being unknown."""
        shown = [cell for cell in line.parts if not self.unknown(cell)]
        if self.unknown(line.total) or not 0 < len(shown) < len(line.parts):
            return False
        return abs(self.value(line.total) - sum(self.value(cell) for cell in shown)) < _TOLERANCE


def _components(lines: list[Line], cells: _Cells) -> list[list[Line]]:
    """The lines grouped so that lines sharing an unknown cell are in one group."""
    parent: dict[CellId, CellId] = {}

    def root(cell: CellId) -> CellId:
        while parent.setdefault(cell, cell) != cell:
            parent[cell] = parent[parent[cell]]
            cell = parent[cell]
        return cell

    anchors = []
    for line in lines:
        unknowns = [cell for cell in (line.total, *line.parts) if cells.unknown(cell)]
        first = root(unknowns[0])
        for cell in unknowns[1:]:
            parent[root(cell)] = first
        anchors.append(unknowns[0])
    groups: dict[CellId, list[Line]] = defaultdict(list)
    for line, anchor in zip(lines, anchors, strict=True):
        groups[root(anchor)].append(line)
    return list(groups.values())


@dataclass
class _Program:
    """The lines of one component as A x = b over its variable cells (unknown or rounded)."""

    variables: list[CellId]
    matrix: np.ndarray | csr_array  # dense when small
    rhs: np.ndarray
    low: np.ndarray
    high: np.ndarray
    integral: bool

    @cached_property
    def bounds(self) -> list[tuple[float, float]]:
        return list(zip(self.low, self.high, strict=True))


def _program(lines: list[Line], cells: _Cells) -> _Program:
    index: dict[CellId, int] = {}
    rows: list[dict[int, float]] = []
    rhs = []
    integral = True
    for line in lines:
        coefficients: dict[int, float] = defaultdict(float)
        constant = 0.0
        for cell, sign in ((line.total, 1.0), *((part, -1.0) for part in line.parts)):
            low, high = cells.band(cell)
            if low == high:
                constant += sign * low
                integral = integral and float(low).is_integer()
                continue
            integral = (
                integral
                and float(low).is_integer()
                and (math.isinf(high) or float(high).is_integer())
            )
            coefficients[index.setdefault(cell, len(index))] += sign
        rows.append(coefficients)
        rhs.append(-constant)
    variables = list(index)
    entries = [
        (number, variable, coefficient)
        for number, coefficients in enumerate(rows)
        for variable, coefficient in coefficients.items()
    ]
    positions, columns, values = zip(*entries, strict=True) if entries else ((), (), ())
    matrix: np.ndarray | csr_array
    if len(rows) * len(variables) <= 10_000:
        matrix = np.zeros((len(rows), len(variables)))
        np.add.at(matrix, (list(positions), list(columns)), values)
    else:
        matrix = csr_array(
            (
                np.array(values, dtype=float),
                (np.array(positions, dtype=int), np.array(columns, dtype=int)),
            ),
            shape=(len(rows), len(variables)),
        )
    bands = np.array([cells.band(cell) for cell in variables], dtype=float).reshape(-1, 2)
    return _Program(variables, matrix, np.array(rhs), bands[:, 0], bands[:, 1], integral)


def _solve(lines: list[Line], cells: _Cells, rules: Profile | None) -> dict[CellId, Interval]:
    program = _program(lines, cells)
    targets = [
        (number, cell) for number, cell in enumerate(program.variables) if cells.suppressed(cell)
    ]
    alone = {id(line): _program([line], cells) for line in lines}
    witnesses = _Witnesses(program)
    if len(lines) > 1 and rules is not None and len(targets) > 2:
        # Two extreme solutions first: they often show most cells range widely already.
        objective = np.zeros(len(program.variables))
        objective[[number for number, _ in targets]] = 1.0
        for direction in (1.0, -1.0):
            if not witnesses.solve(direction * objective):
                return {}
    intervals = {}
    for number, cell in targets:
        own = [line for line in lines if cell == line.total or cell in line.parts]
        singles = {id(line): _line_interval(alone[id(line)], cell) for line in own}
        if any(single is None for single in singles.values()):
            return {}  # one of its lines cannot hold with the others' bounds
        if len(lines) == 1:
            bounds = singles[id(lines[0])]
        else:
            known = None
            if rules is not None:
                passes, known = _passes_after_one(number, singles, witnesses, rules)
                if passes:
                    low, high = witnesses.low[number], witnesses.high[number]
                    intervals[cell] = Interval(low, high, tuple(own), None, complete=False)
                    continue
            bounds = _lp_interval(program, number, witnesses, known)
        if bounds is None:
            return {}  # the component's lines cannot all hold: no reader can use them
        low, high = _rounded(bounds, program.integral)
        revealing = next(
            (
                line
                for line in own
                if _width(_rounded(singles[id(line)], program.integral)) <= high - low
            ),
            None,
        )
        intervals[cell] = Interval(float(low), float(high), tuple(own), revealing)
    return intervals


def _passes_after_one(
    number: int, singles: dict, witnesses: _Witnesses, rules: Profile
) -> tuple[bool, float | None]:
    """`_passes`, tried first without an LP, then after maximising the cell (its least value
    is usually 0, which some solution found already shows); and the maximum if solved."""
    if _passes(number, singles, witnesses, rules):
        return True, None
    high = _bound(witnesses.program, number, -1.0, witnesses)
    return _passes(number, singles, witnesses, rules), high


def _passes(number: int, singles: dict, witnesses: _Witnesses, rules: Profile) -> bool:
    """Whether a cell passes without its own LPs: solutions already found span the protection
    width, or span something (so it is not pinned) while its own lines alone keep it above the
    largest small count (the true interval lies within each line's)."""
    spread = witnesses.width(number)
    if spread >= rules.minimum_protection_width - _TOLERANCE:
        return True
    if rules.threshold is None:
        return spread > _TOLERANCE
    least = max(low for low, _ in singles.values())
    return spread > _TOLERANCE and least > rules.smallest_safe_count - 1 + _TOLERANCE


class _Witnesses:
    """The least and greatest value of each variable over the feasible solutions found so far
    (whole-number solutions only, when the counts are whole numbers): each variable's true
    interval is at least this wide."""

    def __init__(self, program: _Program) -> None:
        self.program = program
        self.low = np.full(len(program.variables), np.inf)
        self.high = np.full(len(program.variables), -np.inf)

    def width(self, number: int) -> float:
        return float(self.high[number] - self.low[number])

    def record(self, solution: np.ndarray | None) -> None:
        if solution is None:
            return
        if self.program.integral and np.abs(solution - np.round(solution)).max() > _TOLERANCE:
            return
        np.minimum(self.low, solution, out=self.low)
        np.maximum(self.high, solution, out=self.high)

    def solve(self, objective: np.ndarray) -> bool:
        """Minimise `objective` and record the solution; False when nothing is feasible."""
        program = self.program
        solved = linprog(
            objective,
            A_eq=program.matrix,
            b_eq=program.rhs,
            bounds=program.bounds,
            method="highs",
        )
        if solved.status == 2:
            return False
        if solved.status == 0:
            self.record(solved.x)
        return True


def _rounded(bounds: tuple[float, float], integral: bool) -> tuple[float, float]:
    """Bounds moved inwards to whole numbers when the true counts are whole numbers."""
    low, high = bounds
    if integral:
        low = math.ceil(low - _TOLERANCE)
        high = high if math.isinf(high) else math.floor(high + _TOLERANCE)
    return float(low), float(high)


def _width(bounds: tuple[float, float]) -> float:
    return bounds[1] - bounds[0] - _TOLERANCE


def _line_interval(program: _Program, cell: CellId) -> tuple[float, float] | None:
    """A variable's interval from one line, in closed form: a x_i = b - sum of the others."""
    number = program.variables.index(cell)
    matrix = program.matrix
    coefficients = matrix[0] if isinstance(matrix, np.ndarray) else matrix.toarray()[0]
    products = np.stack([coefficients * program.low, coefficients * program.high])
    # Each other term's range; products of 0 and inf never arise (coefficients are +-1).
    lows, highs = products.min(axis=0), products.max(axis=0)
    lows[number] = highs[number] = 0.0
    rest_low, rest_high = float(lows.sum()), float(highs.sum())
    b, a = float(program.rhs[0]), float(coefficients[number])
    low, high = sorted(((b - rest_high) / a, (b - rest_low) / a))
    low, high = max(low, program.low[number]), min(high, program.high[number])
    return (low, high) if low <= high + _TOLERANCE else None


def _lp_interval(
    program: _Program,
    number: int,
    witnesses: _Witnesses | None = None,
    high: float | None = None,
) -> tuple[float, float] | None:
    """A variable's least and greatest value over the component (integer when fractional;
    `high` when already known); the solutions found are recorded as `witnesses`."""
    low = _bound(program, number, 1.0, witnesses)
    if high is None and low is not None:
        high = _bound(program, number, -1.0, witnesses)
    return None if low is None or high is None else (low, high)


def _bound(
    program: _Program, number: int, direction: float, witnesses: _Witnesses | None
) -> float | None:
    """A variable's least (direction 1) or greatest (-1) value; None when the lines cannot
    all hold."""
    objective = np.zeros(len(program.variables))
    objective[number] = direction
    solved = linprog(
        objective, A_eq=program.matrix, b_eq=program.rhs, bounds=program.bounds, method="highs"
    )
    if solved.status == 2:
        return None
    if solved.status == 3:
        return -direction * math.inf
    if solved.status != 0:
        raise RuntimeError(f"the linear program could not be solved ({solved.message})")
    if witnesses is not None:
        witnesses.record(solved.x)
    value = direction * solved.fun
    if program.integral and abs(value - round(value)) > _TOLERANCE:
        return _integer_bound(program, objective, direction)
    return value


def _integer_bound(program: _Program, objective: np.ndarray, direction: float) -> float | None:
    solved = milp(
        objective,
        constraints=LinearConstraint(program.matrix, program.rhs, program.rhs),
        integrality=np.ones(len(program.variables)),
        bounds=Bounds(program.low, program.high),
    )
    if solved.status == 0:
        return direction * solved.fun
    return math.inf if solved.status == 3 else None


# The verdict


def _judge(table: Table, cell: CellId, interval: Interval, rules: Profile) -> Finding | None:
    row, column = cell
    low, high = interval.low, interval.high
    width = rules.minimum_protection_width
    largest_small = rules.smallest_safe_count - 1 if rules.threshold is not None else None
    if not interval.complete:
        return None  # shown to be at least the protection width wide
    exact = interval.width <= _TOLERANCE
    narrow = largest_small is not None and interval.width < width and low <= largest_small
    if not exact and not narrow:
        return None
    where = _where(table, row)
    numbers = {
        "interval": [low, high],
        "width": interval.width,
        "protection_width": width,
        "totals": [line.label for line in interval.lines],
    }
    if interval.revealing is not None:
        how = f"{interval.revealing.label} minus the other cells of that total gives"
        numbers["revealed_by"] = interval.revealing.label
    else:
        how = (
            "together, "
            + " and ".join(line.label for line in interval.lines)
            + " (with the totals linked to them, and no count below zero) give"
        )
    advice = (
        "Suppress another cell in each total that holds it (the next smallest), or show the "
        "totals as the sum of the shown cells only"
    )
    if exact:
        return Finding(
            RULE,
            Verdict.FAIL,
            f"{column} for {where} is suppressed, but {how} it exactly ({low:g}). {advice}",
            table.cell(row, column),
            numbers,
        )
    return Finding(
        RULE,
        Verdict.FAIL,
        f"{column} for {where} is suppressed, but {how} it a range of only {low:g} to "
        f"{high:g}, narrower than {width}: a count that may be small "
        f"({rules.describe_threshold()}) is known within a few units. Suppress more "
        f"cells in each total that holds it, so that the suppressed cells of each total add "
        f"up to at least {width}, or show the totals as the sum of the shown cells only",
        table.cell(row, column),
        numbers,
    )


def _where(table: Table, row: int) -> str:
    positions = [table.raw.columns.get_loc(name) for name in table.dimensions]
    return (
        ", ".join(
            f"{name}={table.raw.iat[row, position]}"
            for name, position in zip(table.dimensions, positions, strict=True)
        )
        or f"row {row + 1}"
    )
