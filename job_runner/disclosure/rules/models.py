"""Models (sdc.md rule 10): residual degrees of freedom, dummy and fixed-effect cells with few
units, and residuals or predictions per unit.

Tables (`check_model_table`). A table with a coefficient, standard error, test statistic or
p-value column is a model table (a confidence interval alone is not: means have them too).
- `model_df`: the residual degrees of freedom come from the row labelled Residual(s) of a `df`
  column (an ANOVA table), else a `df` column named for residuals (`df_resid`), else the table's
  only `df` column (every row), else the number of observations (a `nobs` column) less the number
  of terms. Below the profile's `model_min_df` (8 under opensafely, 10 under srs) fails; with no
  way to tell, the table needs review.
- `model_cell`: a term that is a level of a categorical variable (a dummy or fixed effect, alone
  or in an interaction) estimates something about the units at that level, so it needs their
  number: from the count column of the table (the `count` the sidecar names for a model column,
  else the table's one count column, such as `n`). Fewer than the smallest safe count fails;
  no count, or a suppressed one, needs review. Levels are read from statsmodels/patsy names
  (`C(school)[T.B]`, `school[T.B]`, `C(a)[T.x]:b`) and R names (`factor(school)B`, `fsmTRUE`,
  `sexMale`, and `schoolB` when a sibling such as `schoolC` shares the prefix). The reference
  level has no term and so cannot be checked here.
- `model_per_unit` (any table): a residual, fitted value or prediction column in a table of
  `MANY_ROWS` rows or more (or with at least `row_level_fraction` of the population) is one value
  per unit and fails. In a smaller table it is a prediction per group, which needs its group's
  count like any statistic: a small count fails, no count needs review.

Text (`check_model_text`): statsmodels `summary()`/`summary2()` output (OLS, GLM, Logit, MixedLM;
printed, or as HTML from `as_html()`) and R `summary()` output (lm, glm, lme4), one model at a time
(a file may hold several).
- `model_df`: statsmodels' "Df Residuals:", R's "Residual standard error/deviance: ... on N
  degrees of freedom"; for mixed models, which print neither, the number of observations less
  the number of fixed effects.
- `model_cell`: dummy and fixed-effect terms need review (a summary cannot show the units per
  level: release them beside it). Mixed models: a stated smallest group size ("Min. group size:")
  below the smallest safe count fails, as does an average group size below it (so some group
  must be small); otherwise the groups need review.
- `extreme`: R's residual summary (Min, 1Q, Median, 3Q, Max of the residuals) shows the largest
  and smallest residual, each one unit's; `model_per_unit`: R's "ALL n residuals:" lists them all.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

import numpy as np

from job_runner.disclosure.description import Role, sidecar_path
from job_runner.disclosure.outputs import OutputFile
from job_runner.disclosure.profiles import Profile
from job_runner.disclosure.report import Finding, Verdict
from job_runner.disclosure.rules.identifiers import MANY_ROWS
from job_runner.disclosure.tables import Table, normal_name, tokens

MODEL_ROLES = (Role.COEFFICIENT, Role.STD_ERROR, Role.STATISTIC, Role.P_VALUE)
_RESIDUAL_LABELS = frozenset({"residual", "residuals", "resid", "error", "within"})
_TERM_COLUMNS = ("term", "terms", "variable", "variables", "parameter", "param", "covariate",
                 "predictor", "coefficient", "effect", "unnamed_0", "")  # fmt: skip
_NOT_TERMS = frozenset({"intercept", "(intercept)", "const", "constant", "_cons"})
_NOBS_WORDS = frozenset({"nobs", "n_obs", "obs", "observations", "no_observations"})
_UNIT_WORDS = frozenset({"n", "count", "units", "pupils", "teachers", "students", "obs",
                         "observations", "size", "number", "num"})  # fmt: skip


def check_model_table(table: Table, rules: Profile) -> list[Finding]:
    """Residual df, dummy cells and per-unit predictions of a model table (see the module)."""
    findings = _predictions(table, rules)
    if table.with_role(*MODEL_ROLES):
        findings.extend(_table_residual_df(table, rules))
        findings.extend(_table_cells(table, rules))
    return findings


def check_model_text(output: OutputFile, rules: Profile) -> list[Finding]:
    """Model summaries printed by statsmodels or R (see the module)."""
    findings = []
    for summary in _summaries(_numbered_lines(output)):
        findings.extend(_check_summary(summary, rules))
    return findings


# Terms


_PATSY_LEVEL = re.compile(r"^(?P<factor>.+?)\[(?:T\.)?[^\]]*\]$")
_R_FACTOR = re.compile(r"^(?P<factor>(?:as\.)?factor\(.+\))[^()]+$")
_R_BINARY = re.compile(r"^(?P<factor>.*[a-z0-9_.)])(?:TRUE|FALSE|Yes|No|Male|Female)$")
_R_SPLIT = re.compile(r"(?<=[a-z_.)])(?=[A-Z0-9])")
_R_LEVEL = re.compile(r"^[A-Z0-9][A-Za-z0-9 +\-]*$")
_INTERACTION = re.compile(r":(?![^\[]*\])")  # a colon outside a [level]


def factors_of(terms: list[str]) -> dict[str, str | None]:
    """For each term of a model, the categorical variable it is a level of (for an interaction,
    its categorical parts joined by ":"), or None for a continuous term or the intercept."""
    parts = {term: _INTERACTION.split(term.strip()) for term in terms}
    patsy = any(_PATSY_LEVEL.match(part) for split in parts.values() for part in split)
    r_prefixes = set() if patsy else _r_prefixes([p for split in parts.values() for p in split])
    result = {}
    for term, split in parts.items():
        factors = [_factor_of_part(part, r_prefixes) for part in split]
        named = [factor for factor in factors if factor]
        result[term] = ":".join(named) if named else None
    return result


def _factor_of_part(part: str, r_prefixes: set[str]) -> str | None:
    if part.strip().lower() in _NOT_TERMS:
        return None
    for pattern in (_PATSY_LEVEL, _R_FACTOR, _R_BINARY):
        match = pattern.match(part)
        if match:
            return match.group("factor")
    for prefix, _ in _r_splits(part):
        if prefix in r_prefixes:
            return prefix
    return None


def _r_splits(part: str) -> list[tuple[str, str]]:
    """Where R may have joined a variable's name and a level (`schoolB`), shortest name first."""
    splits = []
    for match in _R_SPLIT.finditer(part):
        prefix, level = part[: match.start()], part[match.start() :]
        if len(prefix) >= 2 and _R_LEVEL.match(level):
            splits.append((prefix, level))
    return splits


def _r_prefixes(parts: list[str]) -> set[str]:
    """Names that two or more terms share as a prefix before a level (schoolB, schoolC) and that
    are not terms themselves (age, age2 are two variables)."""
    seen: dict[str, set[str]] = {}
    for part in set(parts):
        for prefix, _ in _r_splits(part):
            seen.setdefault(prefix, set()).add(part)
    return {prefix for prefix, members in seen.items() if len(members) >= 2} - set(parts)


# Tables


def _table_residual_df(table: Table, rules: Profile) -> list[Finding]:
    cells = _residual_df_cells(table)
    if cells is None:
        nobs = _nobs_residual_df(table)
        if nobs is None:
            return [
                Finding(
                    "model_df",
                    Verdict.REVIEW,
                    "cannot tell the model's residual degrees of freedom: add them as a "
                    "df_resid column (or the number of observations as nobs), so the check can "
                    f"make sure they are at least {rules.model_min_df}",
                    numbers={"model_min_df": rules.model_min_df},
                )
            ]
        df, nobs_column, terms = nobs
        if df < rules.model_min_df:
            return [_df_finding(table, df, rules, None, f"{nobs_column} less {terms} terms")]
        return []
    findings = []
    for row, column in cells:
        df = table.value(row, column)
        if df < rules.model_min_df:
            findings.append(_df_finding(table, df, rules, (row, column), column))
    return findings


def _residual_df_cells(table: Table) -> list[tuple[int, str]] | None:
    """The cells holding residual degrees of freedom, or None when there are none."""
    columns = table.with_role(Role.DF)
    if not columns:
        return None
    marks = np.zeros(len(table.raw), dtype=bool)
    for name in table.dimensions:
        marks |= table.raw[name].map(normal_name).isin(_RESIDUAL_LABELS).to_numpy(dtype=bool)
    residual_rows = [int(row) for row in np.flatnonzero(marks)]
    if residual_rows:
        chosen, rows = columns, residual_rows
    else:
        named = [name for name in columns if {"resid", "residual", "residuals"} & set(tokens(name))]
        if named:
            chosen = named
        elif len(columns) == 1:
            chosen = columns
        else:
            return None
        rows = list(range(len(table.raw)))
    shown = {name: _shown(table, name) for name in chosen}
    return [(row, name) for name in chosen for row in rows if shown[name][row]]


def _nobs_residual_df(table: Table) -> tuple[float, str, int] | None:
    """Observations less terms, from a column of the number of observations."""
    for column in table.count_columns:
        if not (set(tokens(column)) | {normal_name(column)}) & _NOBS_WORDS:
            continue
        shown = table.values[column].dropna().unique()
        if len(shown) != 1:
            return None
        coefficient = table.with_role(*MODEL_ROLES)[0]
        terms = int(_shown(table, coefficient)[table.body_rows].sum())
        return float(shown[0]) - terms, column, terms
    return None


def _df_finding(
    table: Table, df: float, rules: Profile, at: tuple[int, str] | None, source: str
) -> Finding:
    return Finding(
        "model_df",
        Verdict.FAIL,
        f"the model has {df:g} residual degrees of freedom ({source}); models need at least "
        f"{rules.model_min_df}: with so few units per parameter the estimates describe "
        "individuals. Fit it on more units, or with fewer terms",
        table.cell(*at) if at else None,
        {"df": df, "model_min_df": rules.model_min_df},
    )


def _table_cells(table: Table, rules: Profile) -> list[Finding]:
    term_column = _term_column(table)
    if term_column is None:
        return []
    shown_at = table.with_role(Role.COEFFICIENT) or table.with_role(*MODEL_ROLES)
    shown = np.logical_or.reduce([_shown(table, column) for column in shown_at])
    rows = [row for row in table.body_rows if shown[row]]
    labels = table.raw[term_column].astype(str).to_numpy()
    terms = {row: labels[row] for row in rows}
    factors = factors_of(list(terms.values()))
    count = _unit_count_column(table)
    counts = table.values[count].to_numpy(dtype=float) if count else None
    safe = rules.smallest_safe_count
    findings = []
    for row, term in terms.items():
        factor = factors[term]
        if factor is None:
            continue
        numbers = {"term": term, "factor": factor, "smallest_safe_count": safe}
        if counts is None or np.isnan(counts[row]):
            where = "" if count is None else f" ({count} is not shown in this row)"
            findings.append(
                Finding(
                    "model_cell",
                    Verdict.REVIEW,
                    f"{term} is a level of {factor} (a dummy or fixed effect): show the number "
                    f"of units for each level{where}, in a column such as n, so the check can "
                    f"make sure none has fewer than {safe}",
                    table.cell(row, shown_at[0]),
                    numbers,
                )
            )
            continue
        n = float(counts[row])
        if n < safe:
            findings.append(
                Finding(
                    "model_cell",
                    Verdict.FAIL,
                    f"{term} is a level of {factor} with {count} = {n:g} units; a dummy or "
                    f"fixed effect over fewer than {safe} units describes those units "
                    "(one pupil's school effect is that pupil's result): merge small levels "
                    "or leave them out of the model",
                    table.cell(row, shown_at[0]),
                    {**numbers, "n": n, "count_column": count},
                )
            )
    return findings


def _shown(table: Table, column: str) -> np.ndarray:
    """Which cells of a column are shown, as one array (a suppressed cell has no value)."""
    return ~np.isnan(table.values[column].to_numpy(dtype=float))


def _term_column(table: Table) -> str | None:
    dimensions = table.dimensions
    for name in dimensions:
        if normal_name(name) in _TERM_COLUMNS:
            return name
    return dimensions[0] if dimensions else None


def _unit_count_column(table: Table, among: list[str] | None = None) -> str | None:
    """The column with the number of units behind each row."""
    for column in among or table.with_role(*MODEL_ROLES):
        if table.count_for(column):
            return table.count_for(column)
    counts = [name for name in table.count_columns if not set(tokens(name)) & _NOBS_WORDS]
    if len(counts) == 1:
        return counts[0]
    named = [name for name in counts if set(tokens(name)) & _UNIT_WORDS]
    return named[0] if len(named) == 1 else None


def _predictions(table: Table, rules: Profile) -> list[Finding]:
    columns = table.with_role(Role.PREDICTION)
    if not columns:
        return []
    rows = len(table.body_rows)
    population = table.description.population_size if table.description else None
    per_unit = rows >= MANY_ROWS or bool(
        population and rows >= rules.row_level_fraction * population
    )
    findings = []
    for column in columns:
        if per_unit:
            findings.append(
                Finding(
                    "model_per_unit",
                    Verdict.FAIL,
                    f"{column} holds residuals, fitted values or predictions in {rows:,} rows: "
                    "one per unit, which cannot be released; release the model's coefficients, "
                    "or predictions for groups of units",
                    numbers={"column": column, "rows": rows, "many_rows": MANY_ROWS},
                )
            )
            continue
        findings.extend(_group_predictions(table, column, rules))
    return findings


def _group_predictions(table: Table, column: str, rules: Profile) -> list[Finding]:
    count = table.count_for(column) or _unit_count_column(table, [column])
    if count is None:
        return [
            Finding(
                "model_per_unit",
                Verdict.REVIEW,
                f"{column} holds residuals, fitted values or predictions: if they are for groups "
                "of units, add each group's number of units and name it in "
                f'{sidecar_path(table.path).name} ("count"); per-unit values cannot be released',
                numbers={"column": column},
            )
        ]
    findings = []
    safe = rules.smallest_safe_count
    for row in range(len(table.raw)):
        if not table.is_shown(row, column) or not table.is_shown(row, count):
            continue
        n = table.value(row, count)
        if n < safe:
            findings.append(
                Finding(
                    "model_per_unit",
                    Verdict.FAIL,
                    f"{column} is a prediction for {count} = {n:g} units; predictions need "
                    f"groups of at least {safe}: redact it or merge small groups",
                    table.cell(row, column),
                    {"n": n, "smallest_safe_count": safe, "count_column": count},
                )
            )
    return findings


# Text


@dataclass
class _Summary:
    """One model's printed summary: its lines, numbered in the file (from 1)."""

    lines: list[tuple[int, str]] = field(default_factory=list)

    def search(self, pattern: re.Pattern[str]) -> tuple[int, re.Match[str]] | None:
        for number, line in self.lines:
            match = pattern.search(line)
            if match:
                return number, match
        return None


_SUMMARY_START = re.compile(
    r"Regression Results|\bResults: |^Call:|mixed model fit by|^Model:\s+MixedLM", re.IGNORECASE
)
_DF_RESIDUALS = re.compile(r"Df Residuals:\s+(\d+(?:\.\d+)?)")
_R_RESIDUAL_DF = re.compile(
    r"Residual (?:standard error|deviance):.*?\bon\s+(\d+(?:\.\d+)?)\s+degrees of freedom"
)
_NOBS = re.compile(r"No\. Observations:\s+(\d+)|Number of obs:\s*(\d+)")
_STATSMODELS_GROUPS = re.compile(r"No\. Groups:\s+(\d+)")
_R_GROUPS = re.compile(r"Number of obs:\s*\d+,\s*groups:\s*(.+)$")
_R_GROUP = re.compile(r"([^\s,;]+),\s*(\d+)")
_MIN_GROUP = re.compile(r"\bmin(?:imum|\.)? group size:?\s*(\d+)", re.IGNORECASE)
_MIXED = re.compile(r"MixedLM|Mixed Linear Model|mixed model fit by|Random effects:")
_STATSMODELS_HEADER = re.compile(r"^\s*(?:coef|Coef\.)\s")
_TAG = re.compile(r"<[^>]*>")
_TABLE_END = re.compile(r"</table\s*>", re.IGNORECASE)
_R_COEFFICIENTS = re.compile(r"^(?:Coefficients|Fixed effects):")
_SEPARATOR = re.compile(r"^\s*(?:={5,}|-{5,}|---)\s*$")
_TERM_ROW = re.compile(
    r"^(?P<term>\S.*?)\s+(?:[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|NA|nan)(?:\s|$)"
)
_VARIANCE_TERM = re.compile(r"\s(?:Var|Cov|Corr)$")
_R_RESIDUALS = re.compile(r"^(?:Scaled |Deviance )?[Rr]esiduals:\s*$")
_R_ALL_RESIDUALS = re.compile(r"^ALL \d+ residuals:")


def _numbered_lines(output: OutputFile) -> list[tuple[int, str]]:
    """The file's lines with their numbers. HTML (statsmodels' `summary().as_html()`) is read
    as its text: tags removed, blank lines left out, the end of a table made a separator."""
    lines = output.text().splitlines()
    if output.suffix not in (".html", ".htm"):
        return list(enumerate(lines, start=1))
    readable = []
    for number, line in enumerate(lines, start=1):
        text = "=====" if _TABLE_END.search(line) else html.unescape(_TAG.sub(" ", line)).strip()
        if text:
            readable.append((number, text))
    return readable


def _summaries(lines: list[tuple[int, str]]) -> list[_Summary]:
    """The text cut where each printed summary starts (the text before the first, if any, is a
    summary of its own so that nothing goes unread)."""
    summaries = [_Summary()]
    for number, line in lines:
        if _SUMMARY_START.search(line) and summaries[-1].lines and _has_model(summaries[-1]):
            summaries.append(_Summary())
        summaries[-1].lines.append((number, line))
    return summaries


def _has_model(summary: _Summary) -> bool:
    return bool(_terms(summary) or summary.search(_NOBS) or summary.search(_DF_RESIDUALS))


def _check_summary(summary: _Summary, rules: Profile) -> list[Finding]:
    terms = _terms(summary)
    findings = []
    if terms or summary.search(_NOBS) or summary.search(_DF_RESIDUALS):
        findings.extend(_summary_df(summary, terms, rules))
        findings.extend(_summary_terms(terms, rules))
        findings.extend(_summary_groups(summary, rules))
    findings.extend(_summary_residuals(summary))
    return findings


def _terms(summary: _Summary) -> list[tuple[int, str]]:
    """The coefficient rows: (line number, term). A block starts at a statsmodels header
    (`coef std err ...`) or R's "Coefficients:"/"Fixed effects:", and ends at a blank or
    separator line (the separator right under a statsmodels header does not end it)."""
    rows = []
    in_block, block_rows = False, 0
    for number, line in summary.lines:
        if _STATSMODELS_HEADER.match(line) or _R_COEFFICIENTS.match(line):
            in_block, block_rows = True, 0
            continue
        if not in_block:
            continue
        if _SEPARATOR.match(line) and block_rows == 0:
            continue
        if not line.strip() or _SEPARATOR.match(line):
            in_block = False
            continue
        match = _TERM_ROW.match(line)
        if match and not _VARIANCE_TERM.search(match.group("term")):
            rows.append((number, match.group("term").strip()))
            block_rows += 1
    return rows


def _summary_df(summary: _Summary, terms: list[tuple[int, str]], rules: Profile) -> list[Finding]:
    found = summary.search(_DF_RESIDUALS) or summary.search(_R_RESIDUAL_DF)
    if found:
        line, match = found
        df, source = float(match.group(1)), "as printed"
    else:
        nobs = summary.search(_NOBS)
        if nobs is None or not terms or not summary.search(_MIXED):
            return [
                Finding(
                    "model_df",
                    Verdict.REVIEW,
                    "a model summary without its residual degrees of freedom: print them "
                    f"(they must be at least {rules.model_min_df})",
                    numbers={"model_min_df": rules.model_min_df},
                )
            ]
        line, match = nobs
        observations = int(match.group(1) or match.group(2))
        df = float(observations - len(terms))
        source = f"{observations} observations less {len(terms)} fixed effects"
    if df >= rules.model_min_df:
        return []
    return [
        Finding(
            "model_df",
            Verdict.FAIL,
            f"the model at line {line} has {df:g} residual degrees of freedom ({source}); models "
            f"need at least {rules.model_min_df}: with so few units per parameter the estimates "
            "describe individuals. Fit it on more units, or with fewer terms",
            numbers={"df": df, "model_min_df": rules.model_min_df, "line": line},
        )
    ]


def _summary_terms(terms: list[tuple[int, str]], rules: Profile) -> list[Finding]:
    factors = factors_of([term for _, term in terms])
    levels: dict[str, list[int]] = {}
    for line, term in terms:
        if factors[term]:
            levels.setdefault(factors[term], []).append(line)
    return [
        Finding(
            "model_cell",
            Verdict.REVIEW,
            f"{factor} enters the model as {len(lines)} dummy or fixed-effect "
            f"term{'s' if len(lines) > 1 else ''} (the first at line {lines[0]}); a summary "
            "cannot show how many units each level has: release the number of units per level "
            f"beside it, and merge or leave out levels with fewer than "
            f"{rules.smallest_safe_count}",
            numbers={
                "factor": factor,
                "terms": len(lines),
                "first_line": lines[0],
                "smallest_safe_count": rules.smallest_safe_count,
            },
        )
        for factor, lines in levels.items()
    ]


def _summary_groups(summary: _Summary, rules: Profile) -> list[Finding]:
    groups = _groups(summary)
    if not groups:
        return []
    safe = rules.smallest_safe_count
    stated = summary.search(_MIN_GROUP)
    nobs = summary.search(_NOBS)
    observations = int(nobs[1].group(1) or nobs[1].group(2)) if nobs else None
    findings = []
    for name, count in groups:
        numbers = {"grouping": name, "groups": count, "smallest_safe_count": safe}
        if stated is not None and len(groups) == 1:
            smallest = int(stated[1].group(1))
            if smallest < safe:
                findings.append(
                    _group_finding(
                        Verdict.FAIL,
                        f"the smallest group of {name} has {smallest} units",
                        safe,
                        {**numbers, "min_group_size": smallest},
                    )
                )
            continue
        if observations is not None and observations / count < safe:
            findings.append(
                _group_finding(
                    Verdict.FAIL,
                    f"{observations} observations in {count} groups of {name} is fewer than "
                    f"{safe} per group on average, so some groups are small",
                    safe,
                    {**numbers, "observations": observations},
                )
            )
            continue
        findings.append(
            Finding(
                "model_cell",
                Verdict.REVIEW,
                f"a mixed model with {count} groups of {name}: the summary does not show the "
                "smallest group's size; print it (e.g. `Min. group size: 15`) or release the "
                f"number of units per group, so the check can make sure none has fewer "
                f"than {safe}",
                numbers=numbers,
            )
        )
    return findings


def _groups(summary: _Summary) -> list[tuple[str, int]]:
    statsmodels = summary.search(_STATSMODELS_GROUPS)
    if statsmodels:
        return [("the grouping variable", int(statsmodels[1].group(1)))]
    r = summary.search(_R_GROUPS)
    if r:
        return [(name, int(count)) for name, count in _R_GROUP.findall(r[1].group(1))]
    return []


def _group_finding(verdict: Verdict, what: str, safe: int, numbers: dict) -> Finding:
    return Finding(
        "model_cell",
        verdict,
        f"{what}; a group with fewer than {safe} units has an effect that describes those "
        "units: merge small groups or leave them out of the model",
        numbers=numbers,
    )


def _summary_residuals(summary: _Summary) -> list[Finding]:
    findings = []
    for index, (number, line) in enumerate(summary.lines):
        if _R_ALL_RESIDUALS.match(line):
            findings.append(
                Finding(
                    "model_per_unit",
                    Verdict.FAIL,
                    f"line {number} lists every residual of the model (one per unit): print "
                    "the coefficients and degrees of freedom instead of the whole summary",
                    numbers={"line": number},
                )
            )
        elif _R_RESIDUALS.match(line):
            header = summary.lines[index + 1][1] if index + 1 < len(summary.lines) else ""
            if "Min" in header and "Max" in header:
                findings.append(
                    Finding(
                        "extreme",
                        Verdict.FAIL,
                        f"line {number} shows the smallest and largest residuals, each one "
                        "unit's value: leave the residuals out (print coef(summary(model)) and "
                        "the degrees of freedom instead of the whole summary)",
                        numbers={"line": number},
                    )
                )
    return findings
