"""What the checks found: findings per cell or file, a verdict per file, and the JSON report.

The JSON report (`FileReport.to_json()`) is a stable interface: the secure backend's agent and the
output-checking app read it. Its schema is documented in docs/disclosure.md and versioned by
`REPORT_SCHEMA`; fields are only ever added within a version.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

REPORT_SCHEMA = "osschools.disclosure-report/1"


class Verdict(enum.StrEnum):
    """A check's outcome, ordered from harmless to blocking."""

    PASS = "pass"
    REVIEW = "needs review"
    FAIL = "fail"

    @property
    def rank(self) -> int:
        return list(Verdict).index(self)


def worst(verdicts: Any) -> Verdict:
    """The most severe of some verdicts; pass when there are none."""
    return max(verdicts, key=lambda verdict: verdict.rank, default=Verdict.PASS)


@dataclass(frozen=True)
class Cell:
    """One cell of a table: its row position (0-based, in the file's data rows), the row's
    dimension values (its key, e.g. {"school": "A", "year": "2023"}), and its column."""

    row: int
    column: str
    key: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "key": self.key}


@dataclass(frozen=True)
class Finding:
    """One rule's outcome on a cell (or, with `cell=None`, on the whole file).

    `rule` is a stable identifier (see `RULES`), `message` says what is wrong and what to do,
    and `numbers` holds the values the verdict rests on (the count, the threshold, ...).
    """

    rule: str
    verdict: Verdict
    message: str
    cell: Cell | None = None
    numbers: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "verdict": self.verdict.value,
            "message": self.message,
            "cell": self.cell.to_json() if self.cell else None,
            "numbers": _plain(self.numbers),
        }


# Every rule a finding can name, with the sdc.md rule it implements.
RULES: dict[str, str] = {
    "file_type": "file gate: the file type may be released",
    "file_size": "file gate: the file is within the size limit",
    "row_limit": "file gate: a CSV file is within the row limit",
    "unreadable": "the file could be read and understood",
    "identifier": "identifier gate: no identifying columns or values",
    "row_level": "identifier gate: the table is not row-level",
    "description": "the output says what it is, its population and the controls applied",
    "structure": "the checker could tell what each column holds",
    "minimum_count": "minimum count per cell, margin, numerator and denominator",
    "implied_count": "counts implied by percentages, means and rates",
    "class_disclosure": "no zero or 100% cell in a sensitive attribute",
    "dominance_nk": "NK dominance: the largest contributors are not most of a sum",
    "dominance_p": "p% rule: the rest of a sum hides the largest contributor",
    "rounding": "rounded counts are multiples of the base; midpoint-6 columns hold 3, 9, 15, ...",
    "suppressed_interval": "totals do not pin a suppressed cell to a narrow interval",
    "differencing": "no two outputs differ by a small group",
    "extreme": "minima, maxima and ranges only as declared design bounds",
    "percentile": "percentiles and medians only over groups of at least the threshold",
    "standard_deviation": "standard deviations need enough degrees of freedom",
    "model_df": "models have enough residual degrees of freedom",
    "model_cell": "no dummy, fixed-effect or interaction cell with few units",
    "model_per_unit": "no residuals or predictions per unit",
    "figure_counts": "figures come with their underlying counts",
    "histogram": "histogram bins meet the threshold; edge bins hide the minimum and maximum",
    "checker_error": "a check could not run on this file",
}


@dataclass
class FileReport:
    """The checks' result for one output file."""

    path: str
    kind: str  # "table", "figure", "text", "model", "description" or "other"
    findings: list[Finding] = field(default_factory=list)
    structure: dict[str, Any] | None = None
    cells_checked: int = 0
    # Per table cell, the worst verdict: {"columns": [...], "rows": [[verdict, ...], ...]}.
    cell_verdicts: dict[str, Any] | None = None
    sha256: str | None = None
    size: int | None = None
    profile: dict[str, Any] | None = None
    description_sha256: str | None = None

    @property
    def verdict(self) -> Verdict:
        return worst(finding.verdict for finding in self.findings)

    def failures(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.verdict is Verdict.FAIL]

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": REPORT_SCHEMA,
            "file": self.path,
            "sha256": self.sha256,
            "size": self.size,
            "description_sha256": self.description_sha256,
            "kind": self.kind,
            "verdict": self.verdict.value,
            "summary": self.summary(),
            "profile": self.profile,
            "structure": self.structure,
            "cells_checked": self.cells_checked,
            "findings": [finding.to_json() for finding in self.findings],
            "cell_verdicts": self.cell_verdicts,
        }

    def summary(self) -> dict[str, int]:
        """How many findings of each verdict."""
        counts = {verdict.value: 0 for verdict in Verdict}
        for finding in self.findings:
            counts[finding.verdict.value] += 1
        return counts


def _plain(value: Any) -> Any:
    """Numbers and containers as JSON can hold them (numpy and pandas scalars become Python's)."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        try:
            return value.item()
        except (ValueError, AttributeError):
            return str(value)
    if isinstance(value, float) and value != value:
        return None
    return value
