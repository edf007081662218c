"""ehrql and sqlrunner actions end to end on the local synthetic trust."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pytest

from tests.run.helpers import make_project, manifest, run, statuses

DEFINITION = """
    from ehrql_schools import create_dataset
    from ehrql_schools.tables.schools import enrolments, pupils

    dataset = create_dataset()
    dataset.define_population(enrolments.exists_for_pupil())
    dataset.sex = pupils.sex
    dataset.enrolments = enrolments.count_for_pupil()
"""
COUNT = """
    import csv
    import gzip
    from collections import Counter
    from pathlib import Path

    with gzip.open("output/dataset.csv.gz", "rt") as file:
        counts = Counter(row["sex"] for row in csv.DictReader(file))
    Path("output/by_sex.csv").write_text(
        "sex,pupils\\n" + "".join(f"{sex},{n}\\n" for sex, n in sorted(counts.items()))
    )
"""
ACTIONS = """
    generate_dataset:
      run: ehrql:v1 generate-dataset analysis/dataset_definition.py --output output/dataset.csv.gz
      outputs: {highly_sensitive: {dataset: output/dataset.csv.gz}}
    count:
      run: python:v2 analysis/count.py
      needs: [generate_dataset]
      outputs: {moderately_sensitive: {table: output/by_sex.csv}}
"""


def test_an_ehrql_dataset_then_an_analysis(
    tmp_path: Path, dummy_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OSSCHOOLS_DUMMY_DATA", str(dummy_data))
    files = {"analysis/dataset_definition.py": DEFINITION, "analysis/count.py": COUNT}
    project = make_project(tmp_path / "study", ACTIONS, files)

    result = run(project, "run_all")

    assert result.exit_code == 0, result.output
    assert dummy_data.is_file()
    with gzip.open(project / "output" / "dataset.csv.gz", "rt") as file:
        rows = list(csv.DictReader(file))
    assert rows and set(rows[0]) == {"pupil_id", "sex", "enrolments"}
    table = (project / "output" / "by_sex.csv").read_text().splitlines()
    assert table[0] == "sex,pupils"
    assert sum(int(line.split(",")[1]) for line in table[1:]) == len(rows)
    entry = manifest(project)["outputs"]["output/dataset.csv.gz"]
    assert (entry["rows"], entry["columns"]) == (len(rows), 3)
    assert "Wrote" in (project / "metadata" / "generate_dataset.log").read_text()

    assert run(project, "run_all").exit_code == 0
    assert statuses(project, "generate_dataset") == ["succeeded", "skipped"]


def test_a_sqlrunner_action_on_the_synthetic_trust(
    tmp_path: Path, dummy_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OSSCHOOLS_DUMMY_DATA", str(dummy_data))
    actions = """
        query:
          run: sqlrunner:v1 analysis/count.sql --output output/by_sex.csv
          outputs: {highly_sensitive: {table: output/by_sex.csv}}
    """
    sql = "SELECT sex, COUNT(*) AS pupils FROM pupils GROUP BY sex ORDER BY sex\n"
    project = make_project(tmp_path / "study", actions, {"analysis/count.sql": sql})
    result = run(project, "query")
    assert result.exit_code == 0, result.output
    lines = (project / "output" / "by_sex.csv").read_text().splitlines()
    assert lines[0] == '"sex","pupils"'
    assert len(lines) > 1
