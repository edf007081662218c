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
    (Role.PREDICTION, frozenset({"resid", "residual", "residuals", "fitted", "predicted",
                                 "prediction", "predictions", "yhat"})),
    (Role.NUMERATOR, frozenset({"numerator"})),
    (Role.DENOMINATOR, frozenset({"denominator"})),
    (Role.PERCENTAGE, frozenset({"percent", "percentage", "pct", "perc", "%"})),
    (Role.PROPORTION, frozenset({"proportion", "prop", "share", "fraction"})),
    (Role.RATE, frozenset({"rate", "ratio"})),
    (Role.SD, frozenset({"sd", "std", "stdev", "stddev", "std_dev", "deviation", "variance",
                         "var"})),
    (Role.STD_ERROR, frozenset({"se", "sem", "stderr", "std_err", "standard_error", "bse"})),
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
    (Role.DF, frozenset({"df", "dof"})),
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
        rows = []
        for position in range(len(self.raw)):
            if any(
                is_total_label(self.raw.iloc[position][name], self.total_label)
                for name in self.dimensions
            ):
                rows.append(position)
        return rows

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
        return {name: self.raw.iloc[row][name] for name in self.dimensions}

    def cell(self, row: int, column: str) -> Cell:
        return Cell(row=row, column=column, key=self.key(row))

    def value(self, row: int, column: str) -> float:
        return float(self.values.iloc[row][column])

    def is_shown(self, row: int, column: str) -> bool:
        return not bool(self.suppressed.iloc[row][column]) and not np.isnan(
            self.values.iloc[row][column]
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
    raw = raw.astype(str)
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
    return Table(
        path=path,
        raw=raw,
        values=values,
        suppressed=suppressed & values.isna(),
        columns=columns,
        described=described,
        description=description,
        total_label=description.total_label if description else None,
    )


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
    if not numeric:
        return Role.DIMENSION
    if _PERCENTILE_NAME.match(normal) or any(_PERCENTILE_NAME.match(word) for word in words):
        return Role.PERCENTILE
    word_set = set(words) | {normal}
    for role, names in _NAME_ROLES:
        if word_set & names:
            return role
    if _COUNT_NAME.search(normal):
        return Role.COUNT
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
    if column.scale is None:
        if column.role is Role.PERCENTAGE:
            updates["scale"] = 100.0
        elif column.role is Role.PROPORTION:
            updates["scale"] = 1.0
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


def is_sensitive(table: Table, column: str) -> bool:
    """Whether a column or dimension is a sensitive attribute (class disclosure): stated in the
    description, or named like one (SEN, FSM, exclusion, absence, ethnicity ...)."""
    if table.columns[column].sensitive:
        return True
    if column in table.described:
        return False
    return bool(set(tokens(column)) & _SENSITIVE) or normal_name(column) in _SENSITIVE
