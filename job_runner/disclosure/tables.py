"""Reading an output table and learning its structure: which columns are dimensions, counts,
totals, percentages, means ... from the sidecar where the researcher stated it, otherwise from
column names and values."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from job_runner.disclosure.description import (
    COUNT_ROLES,
    STATISTIC_ROLES,
    ColumnDescription,
    Role,
    TableDescription,
)
from job_runner.disclosure.report import Cell

# How files show a suppressed value (lower-cased, stripped).
SUPPRESSED_MARKERS = frozenset(
    {
        "",
        "na",
        "n/a",
        "nan",
        "null",
        "none",
        "*",
        "**",
        "c",
        "x",
        "~",
        "-",
        "..",
        ".",
        "redacted",
        "[redacted]",
        "suppressed",
        "[suppressed]",
        "[low]",
        "low",
        "dc",
        "<na>",
    }
)
_LESS_THAN = re.compile(r"^\s*(<|&lt;)\s*\d+\s*$")
TOTAL_LABELS = ("total", "all", "overall", "grand total", "all pupils", "all teachers")
IDENTIFYING_COLUMNS = frozenset(
    {
        "pupil_id", "upn", "uln", "unique_pupil_number", "teacher_id", "staff_id", "trn",
        "teacher_reference_number", "person_id", "patient_id", "candidate_number",
        "date_of_birth", "dob", "birth_date", "postcode", "post_code", "address", "name",
        "first_name", "forename", "forenames", "surname", "last_name", "full_name",
        "legal_surname", "email", "phone",
    }
)  # fmt: skip

# Column-name tokens that say what a numeric column holds, checked in this order.
_NAME_ROLES: tuple[tuple[Role, frozenset[str]], ...] = (
    (Role.DF, frozenset({"df", "dof"})),  # before PREDICTION: df_resid is not a residual
    (Role.PREDICTION, frozenset({"resid", "residual", "residuals", "fitted", "predicted",
                                 "prediction", "predictions", "yhat"})),
    (Role.NUMERATOR, frozenset({"numerator"})),
    (Role.DENOMINATOR, frozenset({"denominator"})),
    (Role.PERCENTAGE, frozenset({"percent", "percentage", "pct", "perc", "%"})),
    (Role.PROPORTION, frozenset({"proportion", "prop", "share", "fraction"})),
    (Role.RATE, frozenset({"rate", "ratio"})),
    # Before SD: std_err and std_error (statsmodels' "Std.Err.", broom's std.error) hold "std".
    (Role.STD_ERROR, frozenset({"se", "sem", "stderr", "std_err", "std_error", "standard_error",
                                "bse"})),
    (Role.SD, frozenset({"sd", "std", "stdev", "stddev", "std_dev", "deviation", "variance",
                         "var"})),
    (Role.MEAN, frozenset({"mean", "average", "avg"})),
    (Role.PERCENTILE, frozenset({"median", "percentile", "quartile", "decile", "iqr", "q1", "q3",
                                 "quantile", "lq", "uq"})),
    (Role.MINIMUM, frozenset({"min", "minimum", "lowest", "smallest", "earliest"})),
    (Role.MAXIMUM, frozenset({"max", "maximum", "highest", "largest", "latest"})),
    (Role.RANGE, frozenset({"range"})),
    (Role.COEFFICIENT, frozenset({"coef", "coefficient", "estimate", "beta", "effect", "or",
                                  "odds", "hr"})),
    (Role.STATISTIC, frozenset({"t", "z", "f", "chi2", "statistic", "tvalue", "zvalue"})),
    (Role.P_VALUE, frozenset({"p", "pvalue", "p_value", "pval", "sig"})),
    (Role.CONFIDENCE, frozenset({"ci", "lci", "uci", "lower", "upper", "conf", "lcl", "ucl"})),
    (Role.SUM, frozenset({"sum"})),
    (Role.COUNT, frozenset({"n", "count", "counts", "number", "num", "total", "frequency",
                            "freq", "size", "population", "cohort", "pupils", "teachers",
                            "schools", "classes", "students", "staff", "people", "units",
                            "observations", "obs", "events", "sessions", "midpoint6"})),
    (Role.DIMENSION, frozenset({"year", "month", "week", "term", "period", "band", "group",
                                "key_stage", "ks", "set", "rank", "code", "id", "urn", "level",
                                "grade", "bin", "category", "age", "decile_group", "quintile"})),
)  # fmt: skip
_PERCENTILE_NAME = re.compile(r"^(p|q|pct|centile)_?\d{1,2}$")
# Whole column names (as written) with a fixed role: histogram bin edges, statsmodels' and R's
# confidence bounds ("[0.025", "0.975]", "2.5 %"), pandas describe()'s percentiles ("25%").
_WHOLE_NAME_ROLES: tuple[tuple[re.Pattern[str], Role], ...] = (
    (re.compile(r"^(left|right|edges?|bin_(lower|upper|left|right|min|max)|(lower|upper)_edge)$",
                re.IGNORECASE), Role.DIMENSION),
    (re.compile(r"^(\[\s*0?\.\d+|0?\.\d+\s*\]|\d{1,2}\.\d+\s*%)$"), Role.CONFIDENCE),
    (re.compile(r"^\d{1,2}\s*%$"), Role.PERCENTILE),
)  # fmt: skip
_COUNT_NAME = re.compile(r"^(n|num|number|count)_|_(n|count)$")
_SENSITIVE = frozenset(
    {"sen", "send", "ehcp", "ehc", "fsm", "disadvantaged", "disadvantage", "pupil_premium",
     "pp", "excluded", "exclusion", "exclusions", "suspended", "suspension", "suspensions",
     "absent", "absence", "persistent", "persistently", "ethnicity", "ethnic", "eal",
     "cla", "looked_after", "child_in_need", "cin", "safeguarding", "behaviour", "sex",
     "gender", "religion", "disability", "disabled", "permanent"}
)  # fmt: skip


def tokens(name: str) -> list[str]:
    """A column name as lower-case words: `meanKS2_score` -> ["mean", "ks2", "score"]."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name.replace("%", " % "))
    return [word for word in re.split(r"[^A-Za-z0-9%]+", spaced.lower()) if word]


def normal_name(name: str) -> str:
    return "_".join(tokens(name))


def is_total_label(value: Any, label: str | None = None) -> bool:
    text = str(value).strip().lower()
    if label is not None:
        return text == label.strip().lower()
    return text in TOTAL_LABELS


@dataclass
class Table:
    """An output table as read: `raw` holds the file's text, `values` the numbers (NaN where a
    cell is suppressed or not numeric), `suppressed` marks cells shown as suppressed."""

    path: str
    raw: pd.DataFrame
    values: pd.DataFrame
    suppressed: pd.DataFrame
    columns: dict[str, ColumnDescription]
    described: set[str] = field(default_factory=set)  # columns the sidecar described
    description: TableDescription | None = None
    total_label: str | None = None

    # Structure

    def role(self, column: str) -> Role:
        return self.columns[column].role

    def with_role(self, *roles: Role) -> list[str]:
        return [name for name, column in self.columns.items() if column.role in roles]

    @property
    def dimensions(self) -> list[str]:
        return self.with_role(Role.DIMENSION)

    @property
    def count_columns(self) -> list[str]:
        return self.with_role(*COUNT_ROLES)

    @property
    def statistic_columns(self) -> list[str]:
        return self.with_role(*STATISTIC_ROLES)

    def count_for(self, column: str) -> str | None:
        """The column holding the number of units a statistic or numerator describes."""
        return self.columns[column].count

    def rounding_of(self, column: str) -> int | str | None:
        """How a count column says it was rounded: a base, "midpoint6", or None (unknown)."""
        own = self.columns[column].rounding
        if own is not None:
            return None if own == "none" else own
        if normal_name(column).endswith("midpoint6"):
            return "midpoint6"
        table = self.description.rounding if self.description else None
        return None if table == "none" else table

    @cached_property
    def total_rows(self) -> list[int]:
        """Rows that are margins: a dimension shows the total label."""
        marks = np.zeros(len(self.raw), dtype=bool)
        for name in self.dimensions:
            labels = self.raw[name].map(lambda value: is_total_label(value, self.total_label))
            marks |= labels.to_numpy(dtype=bool)
        return [int(position) for position in np.flatnonzero(marks)]

    @cached_property
    def body_rows(self) -> list[int]:
        totals = set(self.total_rows)
        return [position for position in range(len(self.raw)) if position not in totals]

    @property
    def total_columns(self) -> list[str]:
        return [name for name, column in self.columns.items() if column.total]

    def is_wide(self) -> bool:
        """Whether the count columns are the categories of a second dimension (a crosstab)."""
        return (
            len(self.count_columns) > 1
            and all(self.role(name) is Role.COUNT for name in self.count_columns)
            and not self.statistic_columns
        )

    def key(self, row: int) -> dict[str, Any]:
        return {name: self.raw[name].iat[row] for name in self.dimensions}

    def cell(self, row: int, column: str) -> Cell:
        return Cell(row=row, column=column, key=self.key(row))

    def value(self, row: int, column: str) -> float:
        return float(self.values[column].iat[row])

    def is_shown(self, row: int, column: str) -> bool:
        # Column first, then the row: `iloc[row]` would build the whole row for one cell.
        return not bool(self.suppressed[column].iat[row]) and not np.isnan(
            self.values[column].iat[row]
        )

    def structure(self) -> dict[str, Any]:
        """The structure as the report shows it."""
        return {
            "rows": len(self.raw),
            "total_rows": self.total_rows,
            "columns": {
                name: {
                    **column.model_dump(mode="json", exclude_defaults=True),
                    "source": "description" if name in self.described else "inferred",
                }
                for name, column in self.columns.items()
            },
        }


# Reading


class UnreadableTable(ValueError):
    """A table file that cannot be parsed; the message says why."""


def read_table(path: str | Path, description: TableDescription | None = None) -> Table:
    """Read a CSV output and learn its structure (the description wins where it speaks)."""
    path = Path(path)
    try:
        raw = pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding="utf-8", skipinitialspace=True
        )
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as error:
        raise UnreadableTable(f"not a readable CSV table ({error})") from None
    raw.columns = [str(name).strip() for name in raw.columns]
    return table_from_frame(str(path), raw, description)


def table_from_frame(
    path: str, raw: pd.DataFrame, description: TableDescription | None = None
) -> Table:
    """A Table from text cells (as read from a CSV file)."""
    raw = raw.astype(object).where(raw.notna(), "").astype(str)
    suppressed = raw.apply(lambda column: column.map(_is_suppressed_marker))
    values = raw.apply(lambda column: pd.to_numeric(column.str.replace(",", ""), errors="coerce"))
    values = values.astype(float)
    described = set(description.columns) if description else set()
    unknown = described - set(raw.columns)
    if unknown:
        from job_runner.disclosure.description import DescriptionError

        raise DescriptionError(
            f"the description names column{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(sorted(unknown))} that the table does not have; "
            f"its columns are {', '.join(raw.columns)}"
        )
    columns = infer_columns(raw, values, suppressed, description)
    table = Table(
        path=path,
        raw=raw,
        values=values,
        suppressed=suppressed & values.isna(),
        columns=columns,
        described=described,
        description=description,
        total_label=description.total_label if description else None,
    )
    pair_ratios(table)
    return table


def _is_suppressed_marker(text: str) -> bool:
    text = text.strip().lower()
    return text in SUPPRESSED_MARKERS or bool(_LESS_THAN.match(text))


# Inference


def infer_columns(
    raw: pd.DataFrame,
    values: pd.DataFrame,
    suppressed: pd.DataFrame,
    description: TableDescription | None = None,
) -> dict[str, ColumnDescription]:
    """Each column's description: the sidecar's where given, otherwise inferred."""
    stated = description.columns if description else {}
    roles = {
        name: stated[name].role if name in stated else infer_role(name, raw[name], values[name])
        for name in raw.columns
    }
    columns = {}
    for name in raw.columns:
        if name in stated:
            columns[name] = _complete(name, stated[name], roles)
        else:
            columns[name] = _complete(name, ColumnDescription(role=roles[name]), roles)
    return columns


def infer_role(name: str, raw: pd.Series, numbers: pd.Series) -> Role:
    """What a column holds, from its name and values."""
    words = tokens(name)
    normal = "_".join(words)
    if normal in IDENTIFYING_COLUMNS or normal.endswith(("pupil_id", "teacher_id", "_upn")):
        return Role.IDENTIFIER
    shown = raw[~raw.map(_is_suppressed_marker)]
    numeric = len(shown) > 0 and numbers[shown.index].notna().all()
    # A column with every value suppressed is read by its name alone.
    if not numeric and len(shown) > 0:
        return Role.DIMENSION
    for pattern, role in _WHOLE_NAME_ROLES:
        if pattern.match(name.strip()):
            return role
    if _PERCENTILE_NAME.match(normal) or any(_PERCENTILE_NAME.match(word) for word in words):
        return Role.PERCENTILE
    word_set = set(words) | {normal}
    for role, names in _NAME_ROLES:
        if word_set & names:
            return role
    if _COUNT_NAME.search(normal):
        return Role.COUNT
    if not numeric:
        # Every value suppressed ("[REDACTED]", "<8", "*"): counts are what gets suppressed.
        return Role.COUNT if (raw.str.strip() != "").any() else Role.DIMENSION
    observed = numbers.dropna()
    if len(observed) and (observed >= 0).all() and (observed == observed.round()).all():
        return Role.COUNT
    return Role.OTHER


def _complete(name: str, column: ColumnDescription, roles: dict[str, Role]) -> ColumnDescription:
    """Fill in what a column's description leaves out: the count a statistic is over, the
    numerator of a ratio, the scale of a percentage, whether a count column is a total."""
    updates: dict[str, Any] = {}
    if column.role in STATISTIC_ROLES | {Role.NUMERATOR} and column.count is None:
        count = _denominator_for(name, roles)
        if count is not None:
            updates["count"] = count
    if column.role in (Role.PERCENTAGE, Role.PROPORTION, Role.RATE) and column.numerator is None:
        numerators = [other for other, role in roles.items() if role is Role.NUMERATOR]
        if len(numerators) == 1:
            updates["numerator"] = numerators[0]
    if updates.get("count", column.count) == updates.get("numerator", column.numerator):
        updates.pop("count", None)  # a ratio's numerator is not also its count of units
    if column.scale is None:
        if column.role is Role.PERCENTAGE:
            updates["scale"] = 100.0
        elif column.role is Role.PROPORTION:
            updates["scale"] = 1.0
        elif column.role is Role.RATE and (per := _PER_NAME.search(normal_name(name))):
            updates["scale"] = float(per[1]) * (1_000 if per[2] else 1)
    if column.role in COUNT_ROLES and not column.total and is_total_label(name):
        updates["total"] = True
    return column.model_copy(update=updates) if updates else column


def _denominator_for(name: str, roles: dict[str, Role]) -> str | None:
    """The count column a statistic describes: the denominator, else the one count column
    that reads as a number of units (n, count, pupils ...)."""
    denominators = [other for other, role in roles.items() if role is Role.DENOMINATOR]
    if len(denominators) == 1:
        return denominators[0]
    counts = [other for other, role in roles.items() if role is Role.COUNT and other != name]
    named = [other for other in counts if set(tokens(other)) & _UNIT_WORDS]
    if len(named) == 1:
        return named[0]
    if len(counts) == 1:
        return counts[0]
    return None


_UNIT_WORDS = frozenset(
    {"n", "count", "number", "num", "total", "pupils", "teachers", "students", "size",
     "population", "cohort", "denominator", "observations", "obs"}
)  # fmt: skip


_PER_NAME = re.compile(r"(?:^|_)per_?(\d+)(k?)(?:_|$)")  # rate_per_1000, per_100k
_RATIO_ROLES = (Role.PERCENTAGE, Role.PROPORTION, Role.RATE)
_RATE_SCALES = (1.0, 100.0, 1_000.0, 10_000.0, 100_000.0)


def pair_ratios(table: Table) -> None:
    """Find, from the values, what each percentage, proportion or rate is a ratio of, where
    neither the sidecar nor the names said.

    - The one pair of count columns a, b with ratio = scale x a / b in every row showing all
      three (allowing for the ratio's decimals and the counts' rounding) is its numerator and
      denominator; a rate of unknown scale tries 1, 100, 1,000, 10,000 and 100,000. The
      columns become numerator and denominator unless the sidecar gave them a role.
    - Failing that, a percentage or proportion that is each row's share of its group's total
      of one count column ("n, %" tables) has that column as its numerator and no
      denominator column (the group total is the denominator).
    - With no row to test, and exactly two count columns, the one that is not the ratio's
      count is its numerator.
    """
    stated = table.description.columns if table.description else {}
    for name in table.with_role(*_RATIO_ROLES):
        column = table.columns[name]
        said = stated.get(name)
        if said is not None and said.numerator is not None and said.count is not None:
            continue
        numerators = [said.numerator] if said and said.numerator else table.count_columns
        denominators = [said.count] if said and said.count else table.count_columns
        scales = [column.scale] if column.scale else list(_RATE_SCALES)
        fits, tested = [], False
        for numerator in numerators:
            for denominator in denominators:
                if numerator == denominator:
                    continue
                for scale in scales:
                    fit = _ratio_fits(table, name, numerator, denominator, scale)
                    tested = tested or fit is not None
                    if fit:
                        fits.append((numerator, denominator, scale))
                        break
        if len(fits) > 1:
            fits = [fit for fit in fits if fit[1] == column.count]
        if len(fits) == 1:
            _set_ratio(table, name, *fits[0])
            continue
        if fits:
            continue
        shares = []
        if column.scale and not (said and said.count):
            shares = [
                count for count in numerators if _share_fits(table, name, count, column.scale)
            ]
        if len(shares) == 1:
            table.columns[name] = column.model_copy(update={"numerator": shares[0], "count": None})
        elif not tested and column.numerator is None and column.count is not None:
            others = [other for other in table.count_columns if other != column.count]
            if len(table.count_columns) == 2 and len(others) == 1:
                _set_ratio(table, name, others[0], column.count, column.scale)


def _set_ratio(
    table: Table, name: str, numerator: str, denominator: str, scale: float | None
) -> None:
    table.columns[name] = table.columns[name].model_copy(
        update={"numerator": numerator, "count": denominator, "scale": scale}
    )
    if numerator not in table.described and table.role(numerator) is Role.COUNT:
        table.columns[numerator] = table.columns[numerator].model_copy(
            update={"role": Role.NUMERATOR, "count": denominator}
        )
    if denominator not in table.described and table.role(denominator) is Role.COUNT:
        table.columns[denominator] = table.columns[denominator].model_copy(
            update={"role": Role.DENOMINATOR}
        )


def rounding_interval(shown: float, rounding: int | str | None) -> tuple[float, float]:
    """The true counts a count shown rounded this way can stand for: to base 5, 10 is 8 to 12;
    to base 10, 10 is 5 to 14 (ties go up); midpoint-6, 9 is 7 to 12 and 0 is 0."""
    if rounding is None or rounding == "none":
        return shown, shown
    if rounding == "midpoint6":
        return (0.0, 0.0) if shown == 0 else (max(shown - 2, 1.0), shown + 3)
    base = int(rounding)
    return max(shown - base // 2, 0.0), shown + (base - 1) // 2


def _slack(table: Table, column: str) -> float:
    """How far a count in this column can be from the true count, given its rounding."""
    rounding = table.rounding_of(column)
    if rounding is None:
        return 0.0
    return 3.0 if rounding == "midpoint6" else float(int(rounding) // 2)


def _display_step(text: str) -> float:
    """The precision a number is shown to: "0.241" -> 0.001, "25" -> 1."""
    text = text.strip()
    if "e" in text.lower():
        return 0.0
    whole, _, decimals = text.partition(".")
    return 10.0 ** -len(decimals)


def _telling(step, scale: float):
    """Whether a ratio shown to this precision can tell pairs apart: a proportion shown as 0
    or 1 cannot."""
    return step / scale <= 0.1


def _ratio_fits(
    table: Table, ratio: str, numerator: str, denominator: str, scale: float
) -> bool | None:
    """Whether ratio = scale x numerator / denominator in every row showing all three (None
    when no row does)."""
    value, top, bottom = (table.values[name] for name in (ratio, numerator, denominator))
    steps = table.raw[ratio].map(_display_step)
    rows = value.notna() & top.notna() & bottom.notna() & (bottom > 0) & _telling(steps, scale)
    if not rows.any():
        return None
    value, top, bottom, steps = value[rows], top[rows], bottom[rows], steps[rows]
    tolerance = (
        steps / 2 / scale * bottom
        + _slack(table, numerator)
        + value.abs() / scale * _slack(table, denominator)
        + 1e-9 * top.abs().clip(lower=1)
    )
    return bool(((value / scale * bottom - top).abs() <= tolerance).all() and (top > 0).any())


def _share_fits(table: Table, ratio: str, count: str, scale: float) -> bool:
    return _shares(table, ratio, count, scale) is not None


def share_totals(table: Table, ratio: str) -> dict[int, float]:
    """For a percentage or proportion that is each row's share of its group's total of its
    numerator (an "n, %" table: no denominator column), each body row's group total."""
    column = table.columns[ratio]
    if column.numerator is None or column.count is not None or not column.scale:
        return {}
    return _shares(table, ratio, column.numerator, column.scale) or {}


def _shares(table: Table, ratio: str, count: str, scale: float) -> dict[int, float] | None:
    """Whether the ratio is each row's share of its group's total of `count`, for some
    dimension the shares run over (the groups are the other dimensions' values): each row's
    group total if so, else None."""
    for over in table.dimensions or [None]:
        totals = _shares_over(table, ratio, count, scale, over)
        if totals is not None:
            return totals
    return None


def _shares_over(
    table: Table, ratio: str, count: str, scale: float, over: str | None
) -> dict[int, float] | None:
    others = [name for name in table.dimensions if name != over]
    keys = list(table.raw[others].itertuples(index=False, name=None))
    labels = table.raw[over] if over is not None else pd.Series([""] * len(table.raw))
    is_total = [over is not None and is_total_label(label, table.total_label) for label in labels]
    values, numbers = table.values[ratio].to_numpy(), table.values[count].to_numpy()
    steps = table.raw[ratio].map(_display_step).to_numpy()
    groups: dict[tuple, list[int]] = {}
    totals: dict[tuple, list[int]] = {}
    for row, key in enumerate(keys):
        (totals if is_total[row] else groups).setdefault(key, []).append(row)
    slack = _slack(table, count)
    checked = 0
    group_totals = {}
    for key, rows in groups.items():
        shown = [
            (values[row], numbers[row], steps[row])
            for row in rows
            if not np.isnan(values[row])
            and not np.isnan(numbers[row])
            and _telling(steps[row], scale)
        ]
        total_rows = [row for row in totals.get(key, []) if not np.isnan(numbers[row])]
        total = _group_total(numbers, rows, total_rows, shown, scale, slack)
        if total is None:
            continue
        total, total_error = total
        for value, number, step in shown:
            tolerance = step / 2 / scale * total + slack + value / scale * total_error + 1e-9
            if abs(value / scale * total - number) > tolerance:
                return None
            checked += number > 0
        group_totals.update(dict.fromkeys(rows, float(total)))
    return group_totals if checked >= 2 else None


def _group_total(
    numbers: np.ndarray,
    rows: list[int],
    total_rows: list[int],
    shown: list[tuple[float, float, float]],
    scale: float,
    slack: float,
) -> tuple[float, float] | None:
    """A group's total count and how far off it may be: its total row, else the sum of its
    cells, else (some cells suppressed) as the share with the largest value implies."""
    if len(total_rows) == 1:
        total, error = float(numbers[total_rows[0]]), slack
    elif not np.isnan(numbers[rows]).any():
        total, error = float(numbers[rows].sum()), slack * len(rows)
    else:
        value, number, step = max(shown, default=(0.0, 0.0, 0.0))
        if value <= step / 2:
            return None
        total = number * scale / value
        error = total * (step / 2 / value) + slack * scale / value
        if total + error < sum(number for _, number, _ in shown) - slack * len(shown):
            return None
    return (total, error) if total > 0 else None


def is_sensitive(table: Table, column: str) -> bool:
    """Whether a column or dimension is a sensitive attribute (class disclosure): stated in the
    description, or named like one (SEN, FSM, exclusion, absence, ethnicity ...)."""
    if table.columns[column].sensitive:
        return True
    if column in table.described:
        return False
    return bool(set(tokens(column)) & _SENSITIVE) or normal_name(column) in _SENSITIVE
