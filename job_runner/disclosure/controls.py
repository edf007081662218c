"""Disclosure controls for counts: apply them to a table before it leaves the secure backend.

Every function takes counts as a pandas Series or DataFrame (a list works too) of whole numbers,
with missing values as NA, and returns new counts as pandas' nullable integers (`Int64`): a
redacted cell is `<NA>`, which a CSV shows as an empty cell. Nothing is changed in place.

    from job_runner.disclosure.controls import profile, redact_small, round_to_base

    table["pupils"] = round_to_base(redact_small(table["pupils"], threshold=7), base=5)

    # or, for a numerator / denominator / ratio table, a whole rule profile at once:
    controlled = control_ratio_table(table, profile("opensafely"))
    controlled.table   # the counts redacted and rounded, ratios recomputed from them
    controlled.notes   # per cell: which rule applied

The rules follow sdc.md (the OpenSAFELY and ONS SRS rule sets):

- `redact_small(counts, threshold, inclusive=True)`: counts of `threshold` or fewer are redacted
  (OpenSAFELY: "7 or fewer", threshold 7 inclusive); with `inclusive=False` only counts below the
  threshold are (SRS: "fewer than 10", threshold 10 exclusive). Zero is redacted too unless
  `redact_zero=False`.
- `round_to_base(counts, base=5)`: to the nearest multiple of `base`; an exact tie (possible only
  when `base` is even, e.g. 5 with base 10) goes away from zero (5 -> 10, -5 -> -10).
- `midpoint6(counts)`: `ceiling(x / 6) * 6 - 3` for x > 0 and 0 for 0 (1-6 -> 3, 7-12 -> 9, ...).
- `recompute_totals(table)`: total rows and columns as the sum of the controlled cells shown.
- `Profile` and `profile(name, **overrides)` (from `job_runner.disclosure.profiles`): the named
  rule sets `opensafely` and `srs`, any parameter overridden; `control_counts` and
  `control_ratio_table` apply one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import pandas as pd

from job_runner.disclosure.profiles import PROFILES, Profile, profile

__all__ = [
    "PROFILES",
    "Controlled",
    "Profile",
    "control_counts",
    "control_ratio_table",
    "is_small",
    "midpoint6",
    "profile",
    "recompute_totals",
    "redact_small",
    "round_to_base",
]

Counts = TypeVar("Counts", pd.Series, pd.DataFrame)

REDACTED = "redacted"
ROUNDED = "rounded"
MIDPOINT6 = "midpoint6"
UNCHANGED = "unchanged"
MISSING = "missing"


def _as_counts(counts: Any) -> Any:
    """The counts as nullable integers; a clear error for anything that is not whole numbers."""
    if not isinstance(counts, pd.Series | pd.DataFrame):
        counts = pd.Series(counts)
    try:
        return counts.astype("Int64")
    except (TypeError, ValueError, OverflowError):
        raise ValueError(
            "disclosure controls work on counts (whole numbers); got values that are not"
        ) from None


def is_small(counts: Counts, threshold: int, *, inclusive: bool = True) -> Counts:
    """Whether each count is small enough to redact: `count <= threshold` when `inclusive`,
    `count < threshold` otherwise. NA is not small (it is already hidden)."""
    counts = _as_counts(counts)
    small = counts <= threshold if inclusive else counts < threshold
    return small.fillna(False).astype(bool)


def redact_small(
    counts: Counts, threshold: int, *, inclusive: bool = True, redact_zero: bool = True
) -> Counts:
    """The counts with every small count redacted (set to NA).

    A count is small when it is `<= threshold` (inclusive, the OpenSAFELY "7 or fewer" with
    threshold 7) or `< threshold` (`inclusive=False`, the SRS "fewer than 10" with threshold 10).
    Zero is small too, unless `redact_zero=False`.
    """
    counts = _as_counts(counts)
    small = is_small(counts, threshold, inclusive=inclusive)
    if not redact_zero:
        small = small & (counts != 0).fillna(True).astype(bool)
    return counts.mask(small)


def round_to_base(counts: Counts, base: int = 5) -> Counts:
    """The counts rounded to the nearest multiple of `base`.

    Exact ties, which whole numbers have only when `base` is even, go away from zero: with base 10,
    5 -> 10, 15 -> 20 and -5 -> -10. With base 5 there are no ties: 2 -> 0, 3 -> 5, 7 -> 5, 8 -> 10.
    NA stays NA.
    """
    if base < 1:
        raise ValueError(f"the rounding base must be a positive whole number, not {base}")
    counts = _as_counts(counts)
    magnitude = (counts.abs() + base // 2) // base * base
    return magnitude.where(counts >= 0, -magnitude)


def midpoint6(counts: Counts) -> Counts:
    """Midpoint-6 rounding: `ceiling(x / 6) * 6 - 3 * (x != 0)`.

    0 stays 0; 1-6 become 3; 7-12 become 9; 13-18 become 15. It keeps zeros (so rates of zero stay
    zero) and every other count becomes the middle of its band of six. Counts must not be negative.
    NA stays NA.
    """
    counts = _as_counts(counts)
    if bool((counts < 0).fillna(False).to_numpy().any()):
        raise ValueError("midpoint-6 rounding is defined for counts of zero or more")
    ceiling = -((-counts) // 6)
    return ceiling * 6 - 3 * (counts != 0).astype("Int64")


def recompute_totals(
    table: pd.DataFrame,
    *,
    columns: Iterable[str] | None = None,
    label: str = "Total",
    axis: Literal["rows", "columns", "both"] = "both",
) -> pd.DataFrame:
    """The table with its totals recomputed as the sum of its (controlled) cells.

    `columns` are the count columns (default: every numeric column except a `label` column).
    `axis="rows"` sets a total row labelled `label` (in the index) with each column's sum;
    `axis="columns"` sets a `label` column with each row's sum; `"both"` does both. An existing
    total row or column of that label is replaced, so the released totals never reveal a redacted
    cell: a redacted cell adds nothing, and a total of only redacted cells is NA.
    """
    body = table.drop(index=label, errors="ignore")
    if columns is None:
        columns = [
            name
            for name in body.columns
            if name != label and pd.api.types.is_numeric_dtype(body[name])
        ]
    columns = list(columns)
    result = body.copy()
    if axis in ("columns", "both"):
        result[label] = _as_counts(result[columns]).sum(axis=1, min_count=1)
    if axis in ("rows", "both"):
        sums = _as_counts(result[[*columns, *([label] if label in result else [])]])
        total_row = sums.sum(axis=0, min_count=1)
        # Enlarge with a row of the right dtypes, so no column changes type on the way.
        total = pd.DataFrame([total_row.to_list()], index=[label], columns=total_row.index)
        result = pd.concat([result, _as_counts(total)])
        result[total_row.index] = _as_counts(result[total_row.index])
    return result


def control_counts(counts: pd.Series, rules: Profile) -> tuple[pd.Series, pd.Series]:
    """The counts with the profile's rules applied, and per count the rule that decided its
    value: "redacted", "rounded", "midpoint6", "unchanged" or "missing" (NA given)."""
    counts = _as_counts(counts)
    notes = pd.Series(UNCHANGED, index=counts.index, dtype=object)
    notes[counts.isna().to_numpy()] = MISSING
    controlled = counts
    if rules.threshold is not None:
        controlled = redact_small(
            counts, rules.threshold, inclusive=rules.inclusive, redact_zero=rules.redact_zero
        )
    redacted = (controlled.isna() & counts.notna()).to_numpy()
    if rules.rounding == "base":
        rounded = round_to_base(controlled, rules.base)
        notes[(rounded.notna() & (controlled.notna())).to_numpy()] = ROUNDED
        controlled = rounded
    elif rules.rounding == "midpoint6":
        controlled = midpoint6(controlled)
        notes[controlled.notna().to_numpy()] = MIDPOINT6
    notes[redacted] = REDACTED
    return controlled, notes


@dataclass(frozen=True)
class Controlled:
    """A table after disclosure control, with one note per controlled cell saying which rule
    applied (same index as the table; one column per controlled column)."""

    table: pd.DataFrame
    notes: pd.DataFrame


def control_ratio_table(
    table: pd.DataFrame,
    rules: Profile,
    *,
    numerator: str = "numerator",
    denominator: str = "denominator",
    ratio: str = "ratio",
    midpoint6_suffix: bool = True,
) -> Controlled:
    """Apply `rules` to each row's numerator and denominator and recompute the ratio from them.

    The ratio is redacted when the numerator or the denominator is, and is null when the
    controlled denominator is 0. With midpoint-6 rounding the count columns are renamed with a
    `_midpoint6` suffix (unless `midpoint6_suffix=False`), so checkers know what they hold. The
    notes hold, per row, the rule applied to each of the three columns.
    """
    result = table.copy()
    num, num_notes = control_counts(table[numerator], rules)
    den, den_notes = control_counts(table[denominator], rules)
    result[numerator], result[denominator] = num, den
    ratio_values = num.astype("Float64") / den.astype("Float64")
    ratio_values = ratio_values.mask(den == 0).astype(float)
    result[ratio] = ratio_values
    ratio_notes = pd.Series("recomputed", index=table.index, dtype=object)
    ratio_notes[(num.isna() | den.isna()).to_numpy()] = REDACTED
    if rules.rounding == "none":
        ratio_notes[(ratio_notes == "recomputed").to_numpy()] = UNCHANGED
    notes = pd.DataFrame({numerator: num_notes, denominator: den_notes, ratio: ratio_notes})
    if rules.rounding == "midpoint6" and midpoint6_suffix:
        names = {numerator: f"{numerator}_midpoint6", denominator: f"{denominator}_midpoint6"}
        result, notes = result.rename(columns=names), notes.rename(columns=names)
    return Controlled(result, notes)
