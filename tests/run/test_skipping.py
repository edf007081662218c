"""An action is skipped when nothing it depends on changed since it last succeeded."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.run.helpers import COPY, WRITE, make_project, run, statuses, write

ACTIONS = """
    data:
      run: python:v2 write.py output/data.txt hello
      outputs: {highly_sensitive: {data: output/data.txt}}
    shout:
      run: python:v2 copy.py output/data.txt output/shout.txt
      needs: [data]
      config: {volume: 11}
      outputs: {moderately_sensitive: {shout: output/shout.txt}}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    project = make_project(tmp_path, ACTIONS, {"write.py": WRITE, "copy.py": COPY})
    assert run(project, "run_all").exit_code == 0
    return project


def test_unchanged_actions_are_skipped(project: Path) -> None:
    result = run(project, "run_all")
    assert result.exit_code == 0, result.output
    assert "data: skipped (unchanged since its last successful run)" in result.output
    assert statuses(project, "data") == ["succeeded", "skipped"]
    assert statuses(project, "shout") == ["succeeded", "skipped"]
    assert (project / "output" / "shout.txt").read_text() == "HELLO\n"


def test_force_reruns_everything(project: Path) -> None:
    assert run(project, "shout", "-f").exit_code == 0
    assert statuses(project, "data") == ["succeeded", "succeeded"]
    assert statuses(project, "shout") == ["succeeded", "succeeded"]


def test_changed_code_reruns(project: Path) -> None:
    write(project / "copy.py", COPY.replace(".upper()", ".lower()"))
    assert run(project, "run_all").exit_code == 0
    # Every action sees every project file, so any change reruns them all.
    assert statuses(project, "data")[-1] == "succeeded"
    assert statuses(project, "shout")[-1] == "succeeded"
    assert (project / "output" / "shout.txt").read_text() == "hello\n"


def test_changed_config_reruns(project: Path) -> None:
    text = (project / "project.yaml").read_text()
    (project / "project.yaml").write_text(text.replace("volume: 11", "volume: 12"))
    assert run(project, "run_all").exit_code == 0
    assert statuses(project, "data")[-1] == "skipped"
    assert statuses(project, "shout")[-1] == "succeeded"


def test_changed_needed_output_reruns_the_dependent(project: Path) -> None:
    text = (project / "project.yaml").read_text()
    (project / "project.yaml").write_text(text.replace("data.txt hello", "data.txt bye"))
    assert run(project, "shout").exit_code == 0
    assert statuses(project, "data")[-1] == "succeeded"
    assert statuses(project, "shout")[-1] == "succeeded"
    assert (project / "output" / "shout.txt").read_text() == "BYE\n"


def test_a_deleted_or_edited_output_reruns(project: Path) -> None:
    (project / "output" / "shout.txt").write_text("edited by hand")
    (project / "output" / "data.txt").unlink()
    assert run(project, "run_all").exit_code == 0
    assert statuses(project, "data")[-1] == "succeeded"
    assert statuses(project, "shout")[-1] == "succeeded"
    assert (project / "output" / "shout.txt").read_text() == "HELLO\n"


def test_a_failed_run_is_never_taken_as_up_to_date(project: Path) -> None:
    write(project / "copy.py", "raise SystemExit(1)\n")
    assert run(project, "run_all").exit_code == 1
    write(project / "copy.py", COPY)
    assert run(project, "run_all").exit_code == 0
    # Back to the code of the last success, whose outputs are untouched: skipped.
    assert statuses(project, "shout") == ["succeeded", "failed", "skipped"]
