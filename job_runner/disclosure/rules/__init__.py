"""The checks, one module per family of rules from sdc.md.

Each rule is a function returning findings (`job_runner.disclosure.report.Finding`):
- file rules: `(output: OutputFile, rules: Profile) -> list[Finding]`, on every file;
- table rules: `(table: Table, rules: Profile) -> list[Finding]`, on every CSV table;
- text rules: `(output: OutputFile, rules: Profile) -> list[Finding]`, on text files;
- figure rules: `(output: OutputFile, rules: Profile, tables: dict[str, Table]) -> list[Finding]`,
  on figures, with the request's tables by name so a figure can find its counts;
- request rules: `(tables: list[Table], rules: Profile, released: ReleasedTables | None)
  -> dict[str, list[Finding]]` (findings by table path), across all tables of one request and the
  tables released before.
"""

from job_runner.disclosure.rules import (
    class_disclosure,
    counts,
    differencing,
    dominance,
    figures,
    files,
    identifiers,
    models,
    rounding,
    statistics,
    suppression,
)

FILE_RULES = (files.check_file_gate,)
TABLE_RULES = (
    identifiers.check_identifiers,
    counts.check_minimum_counts,
    counts.check_implied_counts,
    class_disclosure.check_class_disclosure,
    dominance.check_dominance,
    rounding.check_rounding,
    suppression.check_suppressed_intervals,
    statistics.check_extremes,
    statistics.check_percentiles,
    statistics.check_standard_deviations,
    models.check_model_table,
)
TEXT_RULES = (identifiers.check_text_identifiers, models.check_model_text)
FIGURE_RULES = (figures.check_figure,)
REQUEST_RULES = (differencing.check_differencing,)
