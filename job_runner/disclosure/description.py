"""The sidecar file in which a researcher states exactly what an output is.

Beside `output/rates.csv` sits `output/rates.csv.sdc.json` (declare it as a moderately_sensitive
output too). Everything in it is optional except `description`; what it leaves out the checker
infers from the table. `osschools disclosure describe` and `job_runner.disclosure.tabulate`
write it for you.

    {
      "description": "Absence rate by FSM eligibility and year group, 2023/24",
      "population": "pupils on roll at the trust's secondary schools",
      "population_size": 7312,
      "unit": "pupil",
      "controls": "opensafely: counts of 7 or fewer redacted; counts rounded to the nearest 5",
      "rounding": 5,
      "total_label": "Total",
      "columns": {
        "fsm": {"role": "dimension", "sensitive": true},
        "pupils": {"role": "denominator"},
        "persistently_absent": {"role": "numerator", "count": "pupils", "sensitive": true},
        "rate": {"role": "percentage", "numerator": "persistently_absent", "count": "pupils"},
        "max_sessions": {"role": "maximum", "design_bound": true}
      }
    }
"""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SIDECAR_SUFFIX = ".sdc.json"
# Dominance evidence (the largest contributions per cell) is for checking, never for release:
# it lives in its own file, which the project declares highly_sensitive.
EVIDENCE_SUFFIX = ".sdc-evidence.json"


class Role(enum.StrEnum):
    """What a table column holds."""

    DIMENSION = "dimension"  # a grouping: school, year group, FSM
    COUNT = "count"  # a number of units
    NUMERATOR = "numerator"  # a count of units with some attribute, out of a denominator
    DENOMINATOR = "denominator"  # the count of units a ratio is out of
    PERCENTAGE = "percentage"  # numerator / denominator x 100
    PROPORTION = "proportion"  # numerator / denominator
    RATE = "rate"  # numerator / denominator x scale (per 1,000 ...)
    MEAN = "mean"
    SUM = "sum"  # a total of a magnitude (sessions, spend), not of units
    SD = "sd"
    PERCENTILE = "percentile"  # median, quartiles, p10 ...
    MINIMUM = "minimum"
    MAXIMUM = "maximum"
    RANGE = "range"
    COEFFICIENT = "coefficient"
    STD_ERROR = "std_error"
    STATISTIC = "statistic"  # t, z, F, chi-squared
    P_VALUE = "p_value"
    CONFIDENCE = "confidence"  # a confidence interval bound
    DF = "df"  # degrees of freedom
    PREDICTION = "prediction"  # a residual, fitted value or prediction per unit
    IDENTIFIER = "identifier"  # a pupil or teacher identifier
    OTHER = "other"  # known to be harmless (a label, a code), not checked


# Roles whose values are statistics over some units: each needs its count of units.
STATISTIC_ROLES = frozenset(
    {
        Role.PERCENTAGE,
        Role.PROPORTION,
        Role.RATE,
        Role.MEAN,
        Role.SUM,
        Role.SD,
        Role.PERCENTILE,
        Role.MINIMUM,
        Role.MAXIMUM,
        Role.RANGE,
    }
)
# Roles whose values are counts of units.
COUNT_ROLES = frozenset({Role.COUNT, Role.NUMERATOR, Role.DENOMINATOR})


class ColumnDescription(BaseModel):
    """One column: its role and, for statistics, which columns it is computed from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Role
    count: str | None = Field(
        default=None, description="the column holding the number of units this value describes"
    )
    numerator: str | None = None
    scale: float | None = Field(
        default=None, description="for ratios: 100 for percentages, 1,000 for per-thousand rates"
    )
    rounding: int | Literal["midpoint6", "none"] | None = Field(
        default=None, description="how this count column was rounded, if not as the table says"
    )
    sensitive: bool = Field(default=False, description="a sensitive attribute (class disclosure)")
    design_bound: bool = Field(
        default=False, description="a minimum or maximum fixed by design, not by the data"
    )
    total: bool = Field(default=False, description="a count column that is the sum of the others")


class Contributors(BaseModel):
    """Dominance evidence for one cell of a sum or mean: how many units contributed and the
    largest contributions as shares of the sum of absolute values (so the evidence itself
    reveals no magnitude). Written by `tabulate`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: dict[str, Any] = Field(default_factory=dict)
    column: str
    n: int = Field(ge=0)
    largest_shares: list[float] = Field(
        description="the largest absolute contributions over the sum of absolute values, "
        "largest first"
    )
    negative: bool = Field(default=False, description="whether some contributions were negative")


class TableDescription(BaseModel):
    """Everything a researcher can say about an output (the sidecar's contents)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str
    population: str | None = None
    population_size: int | None = Field(default=None, ge=0)
    unit: str | None = None
    controls: str | None = None
    rounding: int | Literal["midpoint6", "none"] | None = None
    total_label: str | None = None
    columns: dict[str, ColumnDescription] = Field(default_factory=dict)
    contributors: list[Contributors] = Field(default_factory=list)
    counts_file: str | None = Field(
        default=None, description="for a figure: the file with the counts it shows"
    )
    bounds: dict[str, tuple[float, float]] = Field(
        default_factory=dict, description="for a histogram: the data's declared design range"
    )


class DescriptionError(ValueError):
    """A sidecar that cannot be used; the message names the file and the field."""


def sidecar_path(output: str | Path) -> Path:
    """Where the description of `output` lives."""
    output = Path(output)
    return output.with_name(output.name + SIDECAR_SUFFIX)


def is_sidecar(path: str | Path) -> bool:
    return str(path).endswith(SIDECAR_SUFFIX)


def evidence_path(output: str | Path) -> Path:
    """Where the dominance evidence for `output` lives (declare it highly_sensitive)."""
    output = Path(output)
    return output.with_name(output.name + EVIDENCE_SUFFIX)


def is_evidence(path: str | Path) -> bool:
    return str(path).endswith(EVIDENCE_SUFFIX)


def read_description(output: str | Path) -> TableDescription | None:
    """The description beside `output`, with the dominance evidence from its evidence file when
    there is one; None when there is no description."""
    content = _read_json(sidecar_path(output))
    if content is None:
        return None
    if isinstance(content, dict) and content.get("contributors"):
        raise DescriptionError(
            f"{sidecar_path(output)}: contributors: dominance evidence must not be in the "
            f"description, which is released; write it to {evidence_path(output).name} "
            "(tabulate(...).write() does) and declare that file highly_sensitive"
        )
    description = _validate(sidecar_path(output), TableDescription, content)
    evidence = _read_json(evidence_path(output))
    if evidence is None:
        return description
    contributors = _validate(evidence_path(output), Evidence, evidence).contributors
    return description.model_copy(update={"contributors": contributors})


class Evidence(BaseModel):
    """The evidence file's contents."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    contributors: list[Contributors] = Field(default_factory=list)


def _read_json(path: Path) -> Any:
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise DescriptionError(f"{path}: cannot read it ({error})") from None
    except json.JSONDecodeError as error:
        raise DescriptionError(
            f"{path}:{error.lineno}:{error.colno}: not valid JSON ({error.msg})"
        ) from None


def _validate(path: Path, model: type[BaseModel], content: Any) -> Any:
    try:
        return model.model_validate(content)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']) or '(top level)'}: {problem['msg']}"
            for problem in error.errors()
        )
        raise DescriptionError(f"{path}: {problems}") from None


def write_description(output: str | Path, description: TableDescription) -> Path:
    """Write the description beside `output`, and its dominance evidence (if any) to the
    evidence file; each to a temporary name, then renamed. Returns the description's path."""
    if description.contributors:
        _write_json(
            evidence_path(output),
            Evidence(contributors=description.contributors).model_dump(mode="json"),
        )
    public = description.model_copy(update={"contributors": []})
    path = sidecar_path(output)
    _write_json(path, public.model_dump(mode="json", exclude_defaults=True))
    return path


def _write_json(path: Path, content: Any) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)
