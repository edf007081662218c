"""Aggregate tables from microdata, with their description and the disclosure controls applied.

    from job_runner.disclosure.profiles import profile
    from job_runner.disclosure.tabulate import tabulate

    result = tabulate(
        pupils,
        by=["fsm", "year_group"],
        statistics={"pupils": "count", "mean_missed": ("sessions_missed", "mean")},
        rules=profile("srs"),
        description="Sessions missed by FSM eligibility and year group, 2023/24",
        population="pupils on roll at the trust's secondary schools",
        unit="pupil",
        margins=True,
    )
    result.table                          # one row per group: the `by` columns, then the statistics
    result.notes                          # per cell: what the controls did
    result.write("output/absence.csv")    # the CSV and its description, absence.csv.sdc.json

`statistics` maps each output column to "count" (the number of units in the group) or to a
`(column, aggregation)` pair, the aggregation one of count (values present), sum, mean, sd and
median. A count of units is always included: named `n`, unless a "count" statistic names it.
Every combination of the `by` values appears, empty groups included (their zeros are cells too);
rows whose `by` value is missing are left out (fill them with a label such as "unknown" to keep
them). With `margins=True` there are also total rows, labelled "Total", for every dimension and
combination of dimensions.

With `control=True` (the default) the profile's rules (`rules`, the default profile when None) are
applied before anything is returned:
- counts: small ones redacted, the rest rounded as the profile says (`controls.control_counts`);
- statistics over a group with a small number of values are redacted, and standard deviations
  without enough degrees of freedom (`n - 1 < sd_min_df`);
- sums and means that fail the dominance rules (NK, p%: `rules.dominance`) are redacted, and
  so are standard deviations of values that fail them;
- a sum of a 0/1 (or true/false) column counts units, so it is controlled as a count, and its
  mean is a proportion, recomputed from the controlled counts;
- totals are recomputed from the cells shown: a total count is the sum of the controlled counts,
  a total statistic is taken over the units of the groups whose value is shown, so no total gives
  away a redacted cell.
With `control=False` the table is raw, as computed (what ACRO computes with `suppress=False`): for
checking, never for release.

The description (`TableDescription`) states every column's role and, for each shown sum and mean,
the dominance evidence (`Contributors`: how many units, the largest absolute contributions as
shares of the sum of absolute values), so the checker can apply the NK and p% rules.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from job_runner.disclosure.controls import control_counts
from job_runner.disclosure.description import (
    ColumnDescription,
    Contributors,
    Role,
    TableDescription,
    write_description,
)
from job_runner.disclosure.profiles import Profile, profile
from job_runner.disclosure.rules.dominance import failed_rules, shares_needed
from job_runner.disclosure.tables import is_sensitive, table_from_frame

Aggregation = Literal["count", "sum", "mean", "sd", "median"]
Statistic = Literal["count"] | tuple[str, Aggregation]

AGGREGATIONS = ("count", "sum", "mean", "sd", "median")
TOTAL = "Total"
COUNT_COLUMN = "n"

# What the controls did to a cell (Tabulation.notes).
UNCHANGED = "unchanged"
ROUNDED = "rounded"
MIDPOINT6 = "midpoint6"
SMALL = "redacted: small count"
DOMINANCE_NK = "redacted: dominance (NK)"
DOMINANCE_P = "redacted: dominance (p%)"
FEW_DF = "redacted: too few degrees of freedom"
EMPTY = "empty: no values"
RECOMPUTED_SUM = "recomputed: sum of the shown cells"
RECOMPUTED_OVER = "recomputed: over the units of the shown cells"
RECOMPUTED_RATIO = "recomputed from the controlled counts"
NONE_SHOWN = "empty: no cell shown to total"

_COUNT_NOTES = {"redacted": SMALL, "rounded": ROUNDED, "midpoint6": MIDPOINT6}
_COUNT_KINDS = ("units", "count", "numerator")
_ROLES = {
    "units": Role.COUNT,
    "count": Role.COUNT,
    "numerator": Role.NUMERATOR,
    "proportion": Role.PROPORTION,
    "sum": Role.SUM,
    "mean": Role.MEAN,
    "sd": Role.SD,
    "median": Role.PERCENTILE,
}


@dataclass(frozen=True)
class Tabulation:
    """A table made by `tabulate`: `table` (one row per group), its `description` (the sidecar)
    and `notes` (the table's `by` columns, then per statistic what the controls did)."""

    table: pd.DataFrame
    description: TableDescription
    notes: pd.DataFrame

    def write(self, path: str | Path) -> Path:
        """Write the table as CSV to `path` and its description beside it (`<path>.sdc.json`),
        each to a temporary name and then renamed. Declare both as outputs."""
        path = Path(path)
        write_description(path, self.description)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        self.table.to_csv(temporary, index=False)
        temporary.replace(path)
        return path


@dataclass(frozen=True)
class _Statistic:
    name: str
    source: str | None  # None: the number of units (rows) in the group
    aggregation: str
    indicator: bool = False  # the source holds only 0 and 1 (or true and false)

    @property
    def kind(self) -> str:
        """units, count, numerator, proportion, sum, mean, sd or median."""
        if self.source is None:
            return "units"
        if self.indicator and self.aggregation == "sum":
            return "numerator"
        if self.indicator and self.aggregation == "mean":
            return "proportion"
        return self.aggregation

    @property
    def dominance(self) -> bool:
        """Whether the dominance rules apply: to sums and means, and here to standard
        deviations too (one dominant value shows in the SD as plainly as in the mean)."""
        return self.kind in ("sum", "mean", "sd")

    @property
    def evidenced(self) -> bool:
        """Whether the description carries dominance evidence (the checker's sums and means)."""
        return self.kind in ("sum", "mean")


@dataclass
class _Cells:
    """Aggregates for some groups, indexed by the groups' keys (a MultiIndex over `by`)."""

    values: pd.DataFrame  # the statistics
    units: pd.DataFrame  # per statistic, the values it is taken over
    numerators: pd.DataFrame  # per proportion, the count of ones
    evidence: dict[tuple[str, tuple], tuple[int, list[float], bool]]  # (column, key) -> ...


def tabulate(
    microdata: pd.DataFrame,
    by: str | Sequence[str],
    statistics: Mapping[str, Statistic] | None = None,
    *,
    rules: Profile | None = None,
    control: bool = True,
    description: str,
    population: str | None = None,
    unit: str | None = None,
    margins: bool = False,
) -> Tabulation:
    """An aggregate table of `microdata` by the `by` columns, with its description; see the
    module's documentation."""
    dimensions = [by] if isinstance(by, str) else list(by)
    rules = rules if rules is not None else profile()
    specs = _statistics(microdata, dimensions, dict(statistics or {}))
    frame, levels = _grouping_frame(microdata, dimensions, specs)
    keep = max(shares_needed(rules), 2)

    body = _aggregate(frame, dimensions, specs, keep)
    notes = pd.DataFrame(UNCHANGED, index=body.values.index, columns=[s.name for s in specs])
    if control:
        body, notes = _control(body, notes, specs, rules)
    parts, part_notes = [body], [notes]
    if margins:
        for totalled in _margin_sets(dimensions):
            cells, cell_notes = _margin(
                frame, body, dimensions, totalled, specs, rules, keep, control
            )
            parts.append(cells)
            part_notes.append(cell_notes)

    values = pd.concat([part.values for part in parts])
    notes = pd.concat(part_notes)
    evidence = {index: item for part in parts for index, item in part.evidence.items()}
    order = _crosstab_order(values.index, levels)
    values, notes = values.iloc[order], notes.iloc[order]
    notes = notes.where(values.notna() | (notes != UNCHANGED), EMPTY)

    table = _long_form(values, dimensions, specs)
    notes_table = pd.concat(
        [table[dimensions], notes.reset_index(drop=True).set_axis(table.index)], axis=1
    )
    sidecar = _description(
        table, values, evidence, dimensions, specs, rules, control, margins,
        description=description, population=population, unit=unit,
    )  # fmt: skip
    return Tabulation(table=table, description=sidecar, notes=notes_table)


# The statistics asked for


def _statistics(
    microdata: pd.DataFrame, dimensions: list[str], statistics: dict[str, Statistic]
) -> list[_Statistic]:
    if not dimensions:
        raise ValueError("tabulate needs at least one column to group by")
    missing = [name for name in dimensions if name not in microdata.columns]
    if missing:
        raise ValueError(f"cannot group by {', '.join(missing)}: no such column in the microdata")
    unit_counts = [name for name, spec in statistics.items() if spec == "count"]
    if len(unit_counts) > 1:
        raise ValueError(f"give the count of units once, not as {', '.join(unit_counts)}")
    specs = []
    if not unit_counts:
        if COUNT_COLUMN in statistics or COUNT_COLUMN in dimensions:
            raise ValueError(
                f"the count of units is written as {COUNT_COLUMN!r}, which is taken; name it "
                'with a "count" statistic, e.g. statistics={"pupils": "count", ...}'
            )
        specs.append(_Statistic(COUNT_COLUMN, None, "count"))
    for name, spec in statistics.items():
        if name in dimensions:
            raise ValueError(f"{name!r} is both a `by` column and a statistic; rename one")
        if spec == "count":
            specs.append(_Statistic(name, None, "count"))
            continue
        if not (isinstance(spec, tuple | list) and len(spec) == 2):
            raise ValueError(
                f'statistic {name!r}: expected "count" or (column, aggregation), not {spec!r}'
            )
        source, aggregation = spec
        if source not in microdata.columns:
            raise ValueError(f"statistic {name!r}: no column {source!r} in the microdata")
        if aggregation not in AGGREGATIONS:
            raise ValueError(
                f"statistic {name!r}: the aggregation must be one of {', '.join(AGGREGATIONS)}, "
                f"not {aggregation!r}"
            )
        values = microdata[source]
        if aggregation != "count" and not pd.api.types.is_numeric_dtype(values):
            raise ValueError(f"statistic {name!r}: {source} is not numeric, so it has no "
                             f"{aggregation}")  # fmt: skip
        specs.append(_Statistic(name, source, aggregation, _is_indicator(values)))
    return specs


def _is_indicator(values: pd.Series) -> bool:
    """Whether a column holds only 0 and 1 (or true and false): its sum counts units."""
    if pd.api.types.is_bool_dtype(values):
        return True
    if not pd.api.types.is_numeric_dtype(values):
        return False
    present = values.dropna()
    return len(present) > 0 and bool(present.isin([0, 1]).all())


def _grouping_frame(
    microdata: pd.DataFrame, dimensions: list[str], specs: list[_Statistic]
) -> tuple[pd.DataFrame, dict[str, list[Any]]]:
    """The columns needed, rows with a missing `by` value left out, each `by` column a
    categorical of its values in order (so that empty groups are kept)."""
    sources = list(dict.fromkeys(spec.source for spec in specs if spec.source is not None))
    frame = microdata[[*dimensions, *[s for s in sources if s not in dimensions]]]
    frame = frame.dropna(subset=dimensions).copy()
    levels = {}
    for name in dimensions:
        column = frame[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            categories = list(column.cat.categories)
        else:
            categories = list(pd.unique(column))
            with contextlib.suppress(TypeError):  # values that do not sort keep their order
                categories = sorted(categories)
        if any(str(value) == TOTAL for value in categories):
            raise ValueError(
                f"{name} has a value {TOTAL!r}, the label of the total rows; rename it"
            )
        levels[name] = categories
        frame[name] = pd.Categorical(column, categories=categories)
    for spec in specs:
        if spec.source is not None and pd.api.types.is_bool_dtype(frame[spec.source]):
            frame[spec.source] = frame[spec.source].astype("Float64").astype(float)
    return frame, levels


# Aggregation


def _aggregate(
    frame: pd.DataFrame, dimensions: list[str], specs: list[_Statistic], keep: int
) -> _Cells:
    grouped = frame.groupby(dimensions, observed=False, sort=True)
    sizes = grouped.size()
    index = _as_multiindex(sizes.index)
    values, units, numerators = {}, {}, {}
    evidence: dict[tuple[str, tuple], tuple[int, list[float], bool]] = {}
    for spec in specs:
        if spec.source is None:
            values[spec.name] = units[spec.name] = sizes.to_numpy()
            continue
        column = grouped[spec.source]
        present = column.count().to_numpy()
        units[spec.name] = present
        kind = spec.kind
        if kind == "count":
            result = present
        elif kind in ("sum", "numerator"):
            result = column.sum(min_count=1).to_numpy()
        elif kind in ("mean", "proportion"):
            result = column.mean().to_numpy()
        elif kind == "sd":
            result = column.std(ddof=1).to_numpy()
        else:
            result = column.median().to_numpy()
        values[spec.name] = result
        if kind == "proportion":
            numerators[spec.name] = column.sum(min_count=1).fillna(0).to_numpy()
        if spec.dominance:
            for key, item in _contributions(frame, dimensions, spec.source, keep).items():
                evidence[(spec.name, key)] = item
    cells = _Cells(
        values=pd.DataFrame(values, index=index),
        units=pd.DataFrame(units, index=index),
        numerators=pd.DataFrame(numerators, index=index),
        evidence=evidence,
    )
    for spec in specs:
        if spec.kind in _COUNT_KINDS:
            cells.values[spec.name] = cells.values[spec.name].astype("Int64")
        else:
            cells.values[spec.name] = cells.values[spec.name].astype(float)
    return cells


def _contributions(
    frame: pd.DataFrame, dimensions: list[str], source: str, keep: int
) -> dict[tuple, tuple[int, list[float], bool]]:
    """Per group with values: their number, the `keep` largest absolute values as shares of
    the sum of absolute values (largest first), and whether any value is negative."""
    data = frame[[*dimensions, source]].dropna(subset=[source])
    data = data.assign(_magnitude=data[source].astype(float).abs())
    data = data.sort_values("_magnitude", ascending=False, kind="stable")
    grouped = data.groupby(dimensions, observed=True, sort=False)
    totals = grouped["_magnitude"].sum()
    counts = grouped.size()
    negative = grouped[source].min() < 0
    top = data[grouped.cumcount() < keep].groupby(dimensions, observed=True, sort=False)
    largest = top["_magnitude"].agg(list)
    result = {}
    for key in counts.index:
        total = float(totals[key])
        shares = [float(value) / total if total > 0 else 0.0 for value in largest[key]]
        result[_as_key(key)] = (int(counts[key]), shares, bool(negative[key]))
    return result


def _as_multiindex(index: pd.Index) -> pd.MultiIndex:
    if isinstance(index, pd.MultiIndex):
        return index
    return pd.MultiIndex.from_arrays([index])


def _as_key(key: Any) -> tuple:
    return key if isinstance(key, tuple) else (key,)


# Controls


def _control(
    cells: _Cells, notes: pd.DataFrame, specs: list[_Statistic], rules: Profile
) -> tuple[_Cells, pd.DataFrame]:
    """The profile's rules applied to each cell; for totals (`margins`) the count columns are
    recomputed by the caller, so only the statistics are controlled here."""
    values = cells.values.copy()
    notes = notes.copy()
    for spec in specs:
        name = spec.name
        if spec.kind in _COUNT_KINDS:
            controlled, how = control_counts(values[name], rules)
            values[name] = controlled
            notes[name] = how.map(lambda note: _COUNT_NOTES.get(note, UNCHANGED)).to_numpy()
        elif spec.kind == "proportion":
            values[name], notes[name] = _control_proportion(cells, name, rules)
        else:
            values[name], notes[name] = _control_statistic(cells, values[name], spec, rules)
    return _Cells(values, cells.units, cells.numerators, cells.evidence), notes


def _control_statistic(
    cells: _Cells, values: pd.Series, spec: _Statistic, rules: Profile
) -> tuple[pd.Series, pd.Series]:
    notes = pd.Series(UNCHANGED, index=values.index, dtype=object)
    for position, (key, units) in enumerate(cells.units[spec.name].items()):
        if math.isnan(values.iloc[position]):
            continue
        note = None
        if rules.is_small(units):
            note = SMALL
        elif spec.kind == "sd" and units - 1 < rules.sd_min_df:
            note = FEW_DF
        elif spec.dominance:
            _, shares, _ = cells.evidence[(spec.name, _as_key(key))]
            failed = failed_rules(shares, rules)
            if failed:
                note = DOMINANCE_NK if "dominance_nk" in failed else DOMINANCE_P
        if note is not None:
            notes.iloc[position] = note
    values = values.mask((notes != UNCHANGED).to_numpy())
    return values, notes


def _control_proportion(cells: _Cells, name: str, rules: Profile) -> tuple[pd.Series, pd.Series]:
    """A proportion of a 0/1 column, recomputed from its controlled numerator and count."""
    numerator, _ = control_counts(cells.numerators[name].astype("Int64"), rules)
    count, _ = control_counts(cells.units[name], rules)
    ratio = numerator.astype("Float64") / count.astype("Float64")
    ratio = ratio.mask(count == 0).astype(float)
    notes = pd.Series(
        RECOMPUTED_RATIO if rules.rounding != "none" else UNCHANGED,
        index=ratio.index,
        dtype=object,
    )
    notes[(numerator.isna() | count.isna()).to_numpy()] = SMALL
    return ratio.where((notes != SMALL).to_numpy()), notes


# Totals


def _margin_sets(dimensions: list[str]) -> list[tuple[str, ...]]:
    """The sets of dimensions a total is taken over: each one alone, ..., all of them."""
    return [
        combination
        for size in range(1, len(dimensions) + 1)
        for combination in itertools.combinations(dimensions, size)
    ]


def _totalled(frame: pd.DataFrame, totalled: tuple[str, ...]) -> pd.DataFrame:
    frame = frame.copy()
    for name in totalled:
        frame[name] = pd.Categorical([TOTAL] * len(frame), categories=[TOTAL])
    return frame


def _margin(
    frame: pd.DataFrame,
    body: _Cells,
    dimensions: list[str],
    totalled: tuple[str, ...],
    specs: list[_Statistic],
    rules: Profile,
    keep: int,
    control: bool,
) -> tuple[_Cells, pd.DataFrame]:
    """The total rows over the `totalled` dimensions. Raw: over all units. Controlled: count
    columns are the sums of the shown (controlled) cells, statistics are taken over the units
    of the groups whose value is shown, then controlled like any cell."""
    raw = _aggregate(_totalled(frame, totalled), dimensions, specs, keep)
    notes = pd.DataFrame(UNCHANGED, index=raw.values.index, columns=[s.name for s in specs])
    if not control:
        return raw, notes
    values = raw.values.copy()
    evidence = {}
    body_keys = [_as_key(key) for key in body.values.index]
    totals = [_total_key(key, dimensions, totalled) for key in body_keys]
    margin_keys = [_as_key(key) for key in values.index]
    for spec in specs:
        name = spec.name
        if spec.kind in _COUNT_KINDS:
            sums = _sum_by(totals, body.values[name])
            values[name] = pd.array([sums.get(key) for key in margin_keys], dtype="Int64")
            notes[name] = RECOMPUTED_SUM
        elif spec.kind == "proportion":
            shown = body.values[name].notna().to_numpy()
            numerators = _controlled(body.numerators[name], rules).where(shown)
            counts = _controlled(body.units[name], rules).where(shown)
            tops, bottoms = _sum_by(totals, numerators), _sum_by(totals, counts)
            values[name] = [
                tops[key] / bottoms[key] if bottoms.get(key) else np.nan for key in margin_keys
            ]
            notes[name] = RECOMPUTED_SUM
        else:
            shown_keys = {
                key for key, value in zip(body_keys, body.values[name], strict=True)
                if not pd.isna(value)
            }  # fmt: skip
            rows = pd.MultiIndex.from_frame(frame[dimensions]).isin(list(shown_keys))
            subset = frame[rows]
            cells = _aggregate(_totalled(subset, totalled), dimensions, [spec], keep)
            column, column_notes = _control_statistic(cells, cells.values[name], spec, rules)
            values[name] = column.to_numpy()
            notes[name] = column_notes.where(column_notes != UNCHANGED, RECOMPUTED_OVER).to_numpy()
            evidence.update(cells.evidence)
    recomputed = notes.isin([RECOMPUTED_SUM, RECOMPUTED_OVER]).to_numpy()
    notes = notes.mask(values.isna().to_numpy() & recomputed, NONE_SHOWN)
    return _Cells(values, raw.units, raw.numerators, evidence), notes


def _total_key(key: tuple, dimensions: list[str], totalled: tuple[str, ...]) -> tuple:
    return tuple(
        TOTAL if name in totalled else value for name, value in zip(dimensions, key, strict=True)
    )


def _sum_by(keys: list[tuple], values: pd.Series) -> dict[tuple, float]:
    """The shown values summed per key; a key with none shown has no sum."""
    sums: dict[tuple, float] = {}
    for key, value in zip(keys, values, strict=True):
        if not pd.isna(value):
            sums[key] = sums.get(key, 0) + value
    return sums


def _controlled(counts: pd.Series, rules: Profile) -> pd.Series:
    return control_counts(counts.astype("Int64"), rules)[0].astype("Float64")


def _crosstab_order(index: pd.MultiIndex, levels: dict[str, list[Any]]) -> np.ndarray:
    """Rows in crosstab order: by each dimension's values in turn, its total last."""
    positions = []
    for level, name in enumerate(index.names):
        rank = {_hashable(value): place for place, value in enumerate(levels[name])}
        positions.append(
            [
                len(rank) if _is_total(value) else rank[_hashable(value)]
                for value in index.get_level_values(level)
            ]
        )
    return np.lexsort(positions[::-1])


def _is_total(value: Any) -> bool:
    return isinstance(value, str) and value == TOTAL


def _hashable(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


# Output


def _long_form(
    values: pd.DataFrame, dimensions: list[str], specs: list[_Statistic]
) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            name: np.asarray(
                [_hashable(value) for value in values.index.get_level_values(name)], dtype=object
            )
            for name in dimensions
        }
    )
    for spec in specs:
        table[spec.name] = values[spec.name].to_numpy()
        table[spec.name] = table[spec.name].astype("Int64" if spec.kind in _COUNT_KINDS else float)
    return table


def _description(
    table: pd.DataFrame,
    values: pd.DataFrame,
    evidence: dict[tuple[str, tuple], tuple[int, list[float], bool]],
    dimensions: list[str],
    specs: list[_Statistic],
    rules: Profile,
    control: bool,
    margins: bool,
    *,
    description: str,
    population: str | None,
    unit: str | None,
) -> TableDescription:
    count_column = next(spec.name for spec in specs if spec.kind == "units")
    rounding: int | str = "none"
    if control and rules.rounding == "base":
        rounding = rules.base
    elif control and rules.rounding == "midpoint6":
        rounding = "midpoint6"
    # Sensitive attributes as the checker infers them from the names (fsm, sen, excluded ...).
    text = table.astype(object).where(table.notna(), "").astype(str)
    inferred = table_from_frame("tabulate", text)
    columns = {
        name: ColumnDescription(role=Role.DIMENSION, sensitive=is_sensitive(inferred, name))
        for name in dimensions
    }
    for spec in specs:
        options: dict[str, Any] = {"sensitive": is_sensitive(inferred, spec.name)}
        if spec.kind in _COUNT_KINDS:
            options["rounding"] = rounding
        if spec.kind not in ("units", "count"):
            options["count"] = count_column
        if spec.kind == "proportion":
            options["scale"] = 1.0
        columns[spec.name] = ColumnDescription(role=_ROLES[spec.kind], **options)
    contributors = []
    for position, key in enumerate(values.index):
        row_key = {name: _text(value) for name, value in zip(dimensions, key, strict=True)}
        for spec in specs:
            item = evidence.get((spec.name, _as_key(key)))
            if not spec.evidenced or item is None or pd.isna(values[spec.name].iloc[position]):
                continue
            n, shares, negative = item
            contributors.append(
                Contributors(
                    key=row_key,
                    column=spec.name,
                    n=n,
                    largest_shares=shares,
                    negative=negative,
                )
            )
    if control:
        controls = (
            f"{rules.describe()}; statistics over small groups redacted; sums and means "
            "failing the dominance rules redacted; totals recomputed from the shown cells"
        )
    else:
        controls = "none: the raw table from tabulate(control=False), not for release"
    return TableDescription(
        description=description,
        population=population,
        unit=unit,
        controls=controls,
        rounding=rounding,
        total_label=TOTAL if margins else None,
        columns=columns,
        contributors=contributors,
    )


def _text(value: Any) -> str:
    """A `by` value as the CSV shows it."""
    return str(_hashable(value))
