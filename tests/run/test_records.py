"""metadata/<action>.log and metadata/manifest.json (their disclosure warnings:
test_disclosure_warnings.py)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from tests.run.helpers import FAIL, make_project, manifest, run

TABLE = """
    import sys
    from pathlib import Path

    rows = int(sys.argv[1])
    Path("output").mkdir()
    Path("output/table.csv").write_text(
        "pupil_id,score\\n" + "".join(f"{i},{i % 7}\\n" for i in range(rows))
    )
    print(f"wrote {rows} rows")
"""
ACTIONS = """
    table:
      run: python:v2 table.py ROWS
      outputs: {moderately_sensitive: {table: output/table.csv}}
"""


def table_project(folder: Path, rows: int) -> Path:
    return make_project(folder, ACTIONS.replace("ROWS", str(rows)), {"table.py": TABLE})


def test_the_log_has_the_output_then_a_summary(tmp_path: Path) -> None:
    project = table_project(tmp_path, 3)
    assert run(project, "table").exit_code == 0
    log = (project / "metadata" / "table.log").read_text()
    assert log.index("run: python:v2 table.py 3") < log.index("wrote 3 rows")
    assert log.index("wrote 3 rows") < log.index("status: succeeded")
    assert "exit code: 0" in log
    assert "output/table.csv  (moderately_sensitive, " in log
    assert "3 rows x 2 columns" in log
    for word in ("started: ", "finished: ", "duration: "):
        assert word in log


def test_timestamps_prefix_each_log_line(tmp_path: Path) -> None:
    project = table_project(tmp_path, 3)
    assert run(project, "table", "--timestamps").exit_code == 0
    line = next(
        line
        for line in (project / "metadata" / "table.log").read_text().splitlines()
        if line.endswith("wrote 3 rows")
    )
    assert line[:4].isdigit() and "T" in line.split()[0]


def test_the_manifest_lists_every_output(tmp_path: Path) -> None:
    project = table_project(tmp_path, 3)
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    subprocess.run(["git", "add", "."], cwd=project, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"],
        cwd=project,
        check=True,
    )
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True
    ).stdout.strip()
    assert run(project, "table").exit_code == 0
    data = manifest(project)
    entry = data["outputs"]["output/table.csv"]
    content = (project / "output" / "table.csv").read_bytes()
    assert entry["action"] == "table"
    assert entry["level"] == "moderately_sensitive"
    assert entry["size"] == len(content)
    assert entry["sha256"] == hashlib.sha256(content).hexdigest()
    assert (entry["rows"], entry["columns"]) == (3, 2)
    assert entry["commit"] == commit
    assert data["actions"]["table"]["status"] == "succeeded"


def test_a_failure_is_recorded_and_its_log_shown(tmp_path: Path) -> None:
    actions = """
        broken:
          run: python:v2 fail.py
          outputs: {highly_sensitive: {x: output/x.csv}}
    """
    project = make_project(tmp_path, actions, {"fail.py": FAIL})
    result = run(project, "broken")
    assert result.exit_code == 1
    assert "broken failed: exit code 3" in result.output
    assert "about to fail" in result.output  # the end of the log
    assert f"full log: {project / 'metadata' / 'broken.log'}" in result.output
    assert manifest(project)["actions"]["broken"]["exit_code"] == 3


def test_outputs_the_disclosure_checks_would_refuse_are_warned_about(tmp_path: Path) -> None:
    project = table_project(tmp_path, 5_001)
    result = run(project, "table")
    assert result.exit_code == 0  # a warning, not a failure
    check = manifest(project)["outputs"]["output/table.csv"]["disclosure"]
    assert (check["verdict"], check["profile"]) == ("fail", "opensafely")
    first = check["findings"][0]
    assert (first["verdict"], first["rule"], first["count"]) == ("fail", "row_limit", 1)
    assert first["message"].startswith("5,001 rows is over the 5,000-row limit for CSV files")
    assert (
        "warning: table: output/table.csv would fail the disclosure checks (opensafely): "
        "row_limit: 5,001 rows is over" in result.output
    )
    log = (project / "metadata" / "table.log").read_text()
    assert "    disclosure checks (opensafely): fail\n      fail: row_limit: 5,001 rows" in log
