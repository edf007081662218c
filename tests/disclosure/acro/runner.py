"""Running ACRO (tests/disclosure/acro/driver.py, in .venv-acro) from the tests.

from tests.disclosure.acro.runner import crosstab_case, run_acro

results = run_acro([crosstab_case("pupils", csv_path, ["school"], ["year"])], tmp_path)
results["pupils"]["cells"]   # [{"key": {...}, "value": ..., "failed": [...], "review": [...]}]
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
ACRO_PYTHON = ROOT / ".venv-acro" / "bin" / "python"
DRIVER = Path(__file__).with_name("driver.py")

# ACRO's settings for the srs profile: threshold 10 ("fewer than 10" fails), NK(2, 0.9),
# p% 10%, zeros disclosive, 10 residual degrees of freedom.
SRS_SETTINGS = {
    "safe_threshold": 10,
    "safe_dof_threshold": 10,
    "safe_nk_n": 2,
    "safe_nk_k": 0.9,
    "safe_pratio_p": 0.1,
    "zeros_are_disclosive": True,
    "check_missing_values": False,
}

# ACRO's label for its margins, and ours.
ACRO_TOTAL = "All"
TOTAL = "Total"


def acro_python() -> Path:
    """The virtualenv's Python; the test fails (never skips) without it."""
    if not ACRO_PYTHON.exists():
        where = "CI must build it" if os.environ.get("CI") else "build it"
        pytest.fail(
            f"ACRO's virtualenv {ACRO_PYTHON.parent.parent} is missing: {where} with "
            "`make acro-venv` (`make test` does it)",
            pytrace=False,
        )
    return ACRO_PYTHON


def crosstab_case(
    name: str,
    microdata: Path,
    index: list[str],
    columns: list[str],
    *,
    values: str | None = None,
    aggfunc: str | None = None,
    margins: bool = False,
) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "crosstab",
        "microdata": str(microdata),
        "index": index,
        "columns": columns,
        "values": values,
        "aggfunc": aggfunc,
        "margins": margins,
    }


def ols_case(name: str, microdata: Path, formula: str) -> dict[str, Any]:
    return {"name": name, "kind": "ols", "microdata": str(microdata), "formula": formula}


def custom_case(name: str, path: Path) -> dict[str, Any]:
    return {"name": name, "kind": "custom", "path": str(path)}


def run_acro(
    cases: list[dict[str, Any]], folder: Path, settings: dict[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """ACRO's verdicts on every case (one run of the driver), by case name."""
    job, result = folder / "acro-job.json", folder / "acro-result.json"
    job.write_text(
        json.dumps({"settings": settings or SRS_SETTINGS, "cases": cases}), encoding="utf-8"
    )
    completed = subprocess.run(
        [str(acro_python()), str(DRIVER), str(job), str(result)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if completed.returncode != 0:
        pytest.fail(f"the ACRO driver failed:\n{completed.stderr[-4000:]}", pytrace=False)
    output = json.loads(result.read_text(encoding="utf-8"))
    assert output["acro_version"] == "1.0.2"
    return output["cases"]


def acro_cells(case: dict[str, Any]) -> dict[tuple, dict[str, Any]]:
    """A crosstab's cells by key, as sorted (dimension, label) pairs, ACRO's "All" read as
    our "Total"."""
    cells = {}
    for cell in case["cells"]:
        key = tuple(
            sorted(
                (name, TOTAL if label == ACRO_TOTAL else label)
                for name, label in cell["key"].items()
            )
        )
        cells[key] = cell
    return cells
