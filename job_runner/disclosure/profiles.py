"""Disclosure rule profiles: every parameter the controls and the checks use, in one place.

Two named profiles follow sdc.md. `opensafely`: any statistic describing 7 or fewer units is
redacted, counts rounded to 5, minima and maxima never released. `srs` (ONS Secure Research
Service, UK LLC, ACRO's defaults): threshold 10 on every cell, margin, numerator and denominator,
dominance NK(2, 0.9) and p% (10%), standard deviations and models need 10 degrees of freedom.

Any parameter can be overridden, in code (`profile("srs", threshold=5)`) or in a backend's
configuration file (`load_profile("disclosure.yaml")`):

    profile: srs
    threshold: 10
    max_csv_rows: 2000
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from job_runner.pipeline.outputs import MODERATELY_SENSITIVE_TYPES


@dataclass(frozen=True)
class Profile:
    """A set of disclosure rules and their parameters.

    Controls (applied by the researcher before writing):
    - `threshold`, `inclusive`: a count is small when `count <= threshold` (inclusive, OpenSAFELY's
      "7 or fewer") or `count < threshold` (SRS's "fewer than 10"); `None` disables the rule.
    - `redact_zero`: whether zero counts as small.
    - `rounding`: "base" (to the nearest multiple of `base`), "midpoint6" or "none".

    Checks (run on every output):
    - `nk_n`, `nk_k`: dominance fails when the `nk_n` largest contributors are `nk_k` or more of a
      sum (on absolute values); `nk_n=0` disables it.
    - `p_percent`: the p% rule fails when the rest of a sum, without the two largest contributors,
      is less than `p_percent` of the largest; 0 disables it.
    - `sd_min_df`: a standard deviation needs `n - 1 >= sd_min_df`.
    - `model_min_df`: a model needs residual degrees of freedom of at least this.
    - `extremes_allowed`: whether minima, maxima and ranges may be shown at all (design bounds
      declared in a table's description are always allowed).
    - `protection_width`: a suppressed cell whose feasible interval (from the table's totals) is
      narrower than this is exposed; `None` means the threshold (or 1 without one).
    - `row_level_fraction`: a table with at least this fraction of the population's size in rows
      looks row-level.
    - `max_file_bytes`, `max_csv_rows`, `allowed_types`: the file gate.
    """

    name: str
    threshold: int | None
    inclusive: bool
    redact_zero: bool = True
    rounding: Literal["base", "midpoint6", "none"] = "none"
    base: int = 5
    nk_n: int = 2
    nk_k: float = 0.9
    p_percent: float = 0.10
    sd_min_df: int = 10
    model_min_df: int = 10
    extremes_allowed: bool = False
    protection_width: int | None = None
    row_level_fraction: float = 0.5
    max_file_bytes: int = 16 * 1024 * 1024
    max_csv_rows: int = 5_000
    allowed_types: tuple[str, ...] = MODERATELY_SENSITIVE_TYPES

    def __post_init__(self) -> None:
        if self.rounding not in ("base", "midpoint6", "none"):
            raise ValueError(
                f"rounding must be 'base', 'midpoint6' or 'none', not {self.rounding!r}"
            )
        if self.threshold is not None and self.threshold < 0:
            raise ValueError(f"the threshold must be zero or more, not {self.threshold}")
        if self.base < 1:
            raise ValueError(f"the rounding base must be a positive whole number, not {self.base}")
        if not 0 <= self.nk_k <= 1:
            raise ValueError(f"nk_k is a fraction between 0 and 1, not {self.nk_k}")
        if not 0 <= self.p_percent <= 1:
            raise ValueError(
                f"p_percent is a fraction between 0 and 1 (0.1 for 10%), not {self.p_percent}"
            )
        object.__setattr__(
            self, "allowed_types", tuple(_suffix(kind) for kind in self.allowed_types)
        )

    def is_small(self, count: float) -> bool:
        """Whether a count of units is too small to show under this profile."""
        if self.threshold is None:
            return False
        if count == 0:
            return self.redact_zero
        return count <= self.threshold if self.inclusive else count < self.threshold

    @property
    def smallest_safe_count(self) -> int:
        """The smallest count of units this profile lets a statistic describe."""
        if self.threshold is None:
            return 1
        return self.threshold + 1 if self.inclusive else self.threshold

    @property
    def minimum_protection_width(self) -> int:
        if self.protection_width is not None:
            return self.protection_width
        return self.threshold if self.threshold else 1

    def describe_threshold(self) -> str:
        if self.threshold is None:
            return "no minimum count"
        if self.inclusive:
            return f"counts of {self.threshold} or fewer are small"
        return f"counts below {self.threshold} are small"

    def describe(self) -> str:
        """The controls in words, for the output and for output checkers."""
        parts = []
        if self.threshold is not None:
            if self.inclusive:
                parts.append(f"counts of {self.threshold} or fewer redacted")
            else:
                parts.append(f"counts below {self.threshold} redacted")
            if not self.redact_zero:
                parts[-1] += " (zeros kept)"
        if self.rounding == "base":
            parts.append(f"counts rounded to the nearest {self.base}")
        elif self.rounding == "midpoint6":
            parts.append("counts midpoint-6 rounded")
        parts.append("ratios recomputed from the controlled counts")
        return f"{self.name}: " + "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        values["allowed_types"] = list(self.allowed_types)
        return values


def _suffix(kind: str) -> str:
    kind = kind.strip().lower()
    return kind if kind.startswith(".") else f".{kind}"


PROFILES: dict[str, Profile] = {
    "opensafely": Profile(
        "opensafely",
        threshold=7,
        inclusive=True,
        rounding="base",
        base=5,
        # "Any statistic describing 7 or fewer units": n >= 8, so n - 1 >= 7.
        sd_min_df=7,
        model_min_df=8,
    ),
    "srs": Profile("srs", threshold=10, inclusive=False, rounding="none"),
}

SETTINGS = tuple(field.name for field in dataclasses.fields(Profile) if field.name != "name")


def profile(name: str = "opensafely", **overrides: Any) -> Profile:
    """A named profile (`opensafely` or `srs`) with any of its parameters overridden:
    `profile("srs", rounding="base", base=10)`."""
    if name not in PROFILES:
        raise ValueError(f"no disclosure profile {name!r}; the profiles are {', '.join(PROFILES)}")
    unknown = sorted(set(overrides) - set(SETTINGS))
    if unknown:
        raise ValueError(
            f"unknown disclosure setting {unknown[0]!r}; the settings are {', '.join(SETTINGS)}"
        )
    if "allowed_types" in overrides:
        overrides["allowed_types"] = tuple(overrides["allowed_types"])
    return dataclasses.replace(PROFILES[name], **overrides)


class ProfileConfigError(ValueError):
    """A disclosure configuration file that cannot be used; the message names the file."""


def load_profile(path: str | Path) -> Profile:
    """The profile a configuration file names, with its overrides (YAML: `profile: NAME` and
    any settings)."""
    path = Path(path)
    try:
        settings = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as error:
        raise ProfileConfigError(
            f"{path}: cannot read the disclosure configuration ({error.strerror})"
        ) from None
    except yaml.YAMLError as error:
        raise ProfileConfigError(f"{path}: not valid YAML ({error})") from None
    if not isinstance(settings, dict):
        raise ProfileConfigError(f"{path}: expected settings as `name: value` lines")
    name = settings.pop("profile", "opensafely")
    try:
        return profile(str(name), **settings)
    except (TypeError, ValueError) as error:
        raise ProfileConfigError(f"{path}: {error}") from None
