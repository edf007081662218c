"""Each example is a complete project: `osschools run run_all` (local executor) runs it end to end
on a small synthetic trust, and what it would release is disclosure-controlled.

Until the disclosure checks read outputs themselves, the interim check here is the examples'
convention: every count column of a moderately_sensitive CSV is named `n_...`, and holds only
multiples of 5 or redacted (empty) cells, never a count of 1 to 7.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from job_runner.cli import cli

# The analysis scripts need the python image's stack; locally, `make demo` installs it.
pytest.importorskip("matplotlib", reason="needs the analysis stack: make demo installs it")
pytest.importorskip("statsmodels", reason="needs the analysis stack: make demo installs it")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PROJECTS = sorted(path.parent.name for path in EXAMPLES.glob("*/project.yaml"))
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="session")
def trust(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the small synthetic trust goes; the first run generates it."""
    return tmp_path_factory.mktemp("examples_trust") / "synthetic_trust.duckdb"


def released_files(project: Path) -> list[Path]:
    pipeline = yaml.safe_load((project / "project.yaml").read_text())
    patterns = [
        pattern
        for action in pipeline["actions"].values()
        for pattern in action["outputs"].get("moderately_sensitive", {}).values()
    ]
    return sorted(path for pattern in patterns for path in project.glob(pattern))


def test_the_four_examples_have_projects() -> None:
    assert PROJECTS == [
        "afternoon_maths",
        "attendance_disadvantage",
        "strongest_teachers_lowest_sets",
        "teacher_value_added",
    ]


@pytest.mark.parametrize("example", PROJECTS)
def test_example_project_runs_and_releases_only_controlled_counts(
    example: str, trust: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OSSCHOOLS_DUMMY_DATA", str(trust))
    monkeypatch.delenv("OSSCHOOLS_DSN", raising=False)
    project = tmp_path / example
    ignore = shutil.ignore_patterns("output", "metadata", ".osschools", "__pycache__")
    shutil.copytree(EXAMPLES / example, project, ignore=ignore)

    arguments = ["run", "--project-dir", str(project), "--executor", "local", "run_all"]
    result = CliRunner().invoke(cli, arguments, catch_exceptions=False)

    assert result.exit_code == 0, result.output
    released = released_files(project)
    csvs = [path for path in released if path.suffix == ".csv"]
    assert csvs, "no CSV table released"
    assert [path for path in released if path.suffix == ".png"], "no PNG figure released"
    for png in (path for path in released if path.suffix == ".png"):
        assert png.read_bytes().startswith(PNG_SIGNATURE), png
    counted = False
    for csv in csvs:
        table = pd.read_csv(csv)
        for column in (name for name in table.columns if name.startswith("n_")):
            counted = True
            counts = table[column].dropna()
            where = f"{csv.name}: {column}"
            assert (counts == counts.round()).all(), f"{where} holds values that are not counts"
            assert (counts % 5 == 0).all(), f"{where} has counts not rounded to 5: {list(counts)}"
            assert not counts.between(1, 7).any(), f"{where} has small counts: {list(counts)}"
    assert counted, "no count (n_...) column in any released CSV"
