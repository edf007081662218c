"""Run ACRO 1.0.2 on a batch of cases and write its verdicts as JSON (runs in .venv-acro).

    .venv-acro/bin/python tests/disclosure/acro/driver.py job.json result.json

The job:

    {
      "settings": {"safe_threshold": 10, "safe_nk_n": 2, "safe_nk_k": 0.9,
                   "safe_pratio_p": 0.1, "zeros_are_disclosive": true},
      "cases": [
        {"name": "pupils by school and year", "kind": "crosstab",
         "microdata": "/tmp/.../pupils.csv", "index": ["school"], "columns": ["year"],
         "values": null, "aggfunc": null, "margins": false},
        {"name": "attainment model", "kind": "ols", "microdata": "...",
         "formula": "score ~ ks2 + C(school)"},
        {"name": "a researcher's CSV", "kind": "custom", "path": "/tmp/.../table.csv"}
      ]
    }

`settings` are ACRO's own configuration keys (its default.yaml), applied over its defaults.
The result, per case by name: ACRO's overall status, each check's status, and for a crosstab
every cell (`key`: dimension -> label, ACRO's margin label "All" included) with the checks that
flagged it, split into `failed` (the check failed on the cell) and `review` (the check gave up
on the cell and asked for review, as the dominance checks do where a value is negative). For a
model: the residual degrees of freedom ACRO saw and its terms. For a custom output: what ACRO
recorded (it runs no check on one).

Importing ACRO takes seconds, so one run handles every case. The dimensions are read as text
(so the labels match the CSV), values as numbers.
"""

from __future__ import annotations

import json
import logging
import sys
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

warnings.simplefilter("ignore")
logging.disable(logging.INFO)  # ACRO logs every table and check at INFO

import acro  # noqa: E402  (after silencing its logging)
from acro.version import __version__ as acro_version  # noqa: E402


def main(job_path: str, result_path: str) -> None:
    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    session = acro.ACRO(suppress=False)
    # ACRO's checks read the session's config dict (SDCChecks keeps a reference to it).
    session.config.update(job.get("settings", {}))
    assert session.sdc_checks.risk_appetite is session.config
    results = {}
    for case in job["cases"]:
        results[case["name"]] = run_case(session, case)
    settings = {key: session.config[key] for key in sorted(job.get("settings", {}))}
    output = {"acro_version": acro_version, "settings": settings, "cases": results}
    Path(result_path).write_text(json.dumps(output, indent=1, default=str), encoding="utf-8")


def run_case(session: Any, case: dict[str, Any]) -> dict[str, Any]:
    kind = case.get("kind", "crosstab")
    if kind == "crosstab":
        return crosstab(session, case)
    if kind == "ols":
        return ols(session, case)
    if kind == "custom":
        return custom(session, case)
    raise ValueError(f"unknown kind of case {kind!r}")


def crosstab(session: Any, case: dict[str, Any]) -> dict[str, Any]:
    dimensions = [*case["index"], *case["columns"]]
    data = pd.read_csv(case["microdata"], dtype=dict.fromkeys(dimensions, str))
    values = data[case["values"]] if case.get("values") else None
    table = session.crosstab(
        [data[name] for name in case["index"]],
        [data[name] for name in case["columns"]],
        values=values,
        aggfunc=case.get("aggfunc"),
        margins=bool(case.get("margins", False)),
    )
    record = latest(session)
    statuses = record.fair["check_status"]
    flagged: dict[tuple[int, int], dict[str, list[str]]] = {}
    for check, positions in record.sdc["cells"].items():
        outcome = "review" if statuses.get(check) == "review" else "failed"
        for row, column in positions:
            assert row < table.shape[0] and column < table.shape[1], (check, row, column)
            flagged.setdefault((row, column), {"failed": [], "review": []})[outcome].append(check)
    cells = []
    for row, row_label in enumerate(table.index):
        for column, column_label in enumerate(table.columns):
            value = table.iat[row, column]
            cells.append(
                {
                    "key": {
                        **labels(table.index.names, row_label),
                        **labels(table.columns.names, column_label),
                    },
                    "value": None if pd.isna(value) else float(value),
                    **flagged.get((row, column), {"failed": [], "review": []}),
                }
            )
    return {"status": record.status, "check_status": statuses, "cells": cells}


def ols(session: Any, case: dict[str, Any]) -> dict[str, Any]:
    data = pd.read_csv(case["microdata"])
    results = session.olsr(formula=case["formula"], data=data)
    record = latest(session)
    return {
        "status": record.status,
        "check_status": record.fair.get("check_status", {}),
        "summary": record.summary,
        "df_resid": float(results.df_resid),
        "terms": list(results.params.index),
    }


def custom(session: Any, case: dict[str, Any]) -> dict[str, Any]:
    """A file made without ACRO, added as a custom output (ACRO records it, checks nothing)."""
    session.custom_output(case["path"])
    record = latest(session)
    return {"status": record.status, "sdc": record.sdc, "summary": record.summary}


def latest(session: Any) -> Any:
    return session.results.results[f"output_{session.results.output_id - 1}"]


def labels(names: list[str | None], label: Any) -> dict[str, str]:
    parts = label if isinstance(label, tuple) else (label,)
    return {str(name): str(part) for name, part in zip(names, parts, strict=True)}


if __name__ == "__main__":
    main(*sys.argv[1:3])
