"""Each action sees only the project's files and the outputs it needs, keeps only what it
declares, and runs in a scrubbed environment."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.run.helpers import COPY, WRITE, make_project, run, statuses, write

READ_WITHOUT_NEEDS = """
    data:
      run: python:v2 write.py output/data.txt hello
      outputs: {highly_sensitive: {data: output/data.txt}}
    shout:
      run: python:v2 copy.py output/data.txt output/shout.txt
      outputs: {moderately_sensitive: {shout: output/shout.txt}}
"""


def test_an_undeclared_dependency_fails(tmp_path: Path) -> None:
    project = make_project(tmp_path, READ_WITHOUT_NEEDS, {"write.py": WRITE, "copy.py": COPY})
    result = run(project, "run_all", "--concurrency", "1")
    assert result.exit_code == 1
    assert (project / "output" / "data.txt").exists()  # in the project, but not visible to shout
    assert statuses(project, "shout") == ["failed"]
    log = (project / "metadata" / "shout.log").read_text()
    assert "FileNotFoundError" in log
    assert "output/data.txt" in log


def test_declaring_the_dependency_makes_it_visible(tmp_path: Path) -> None:
    actions = READ_WITHOUT_NEEDS.replace("shout.txt\n", "shout.txt\n      needs: [data]\n", 1)
    project = make_project(tmp_path, actions, {"write.py": WRITE, "copy.py": COPY})
    assert run(project, "run_all").exit_code == 0
    assert (project / "output" / "shout.txt").read_text() == "HELLO\n"


def test_git_ignored_files_are_not_visible(tmp_path: Path) -> None:
    actions = """
        shout:
          run: python:v2 copy.py data/local.txt output/shout.txt
          outputs: {moderately_sensitive: {shout: output/shout.txt}}
    """
    files = {"copy.py": COPY, "data/local.txt": "secret\n", ".gitignore": "data/\n"}
    project = make_project(tmp_path, actions, files)
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    assert run(project, "shout").exit_code == 1
    (project / ".gitignore").write_text("")
    assert run(project, "shout").exit_code == 0  # untracked but not ignored: visible


UNDECLARED = """
    import os
    from pathlib import Path

    Path("output").mkdir()
    Path("output/kept.csv").write_text("a\\n1\\n")
    Path("output/extra.csv").write_text("b\\n2\\n")
    Path("scratch.txt").write_text("x")
"""


def test_undeclared_outputs_are_dropped(tmp_path: Path) -> None:
    actions = """
        make:
          run: python:v2 make.py
          outputs: {highly_sensitive: {kept: output/kept.csv}}
    """
    project = make_project(tmp_path, actions, {"make.py": UNDECLARED})
    assert run(project, "make").exit_code == 0
    assert sorted(path.name for path in (project / "output").iterdir()) == ["kept.csv"]
    assert not (project / "scratch.txt").exists()
    log = (project / "metadata" / "make.log").read_text()
    assert (
        "not kept (written but not declared as outputs):\n  output/extra.csv\n  scratch.txt" in log
    )


def test_a_declared_output_that_matches_nothing_fails(tmp_path: Path) -> None:
    actions = """
        make:
          run: python:v2 make.py
          outputs:
            highly_sensitive:
              kept: output/kept.csv
              typo: output/extar.csv
    """
    project = make_project(tmp_path, actions, {"make.py": UNDECLARED})
    result = run(project, "make")
    assert result.exit_code == 1
    message = "output `typo`: `output/extar.csv` matched no file the action wrote; did you mean"
    assert message in result.output
    assert "`output/extra.csv`" in result.output
    assert not (project / "output").exists()  # nothing is kept from a failed action


def test_a_pattern_output_keeps_every_match_and_drops_stale_ones(tmp_path: Path) -> None:
    actions = """
        figures:
          run: python:v2 figures.py
          outputs: {moderately_sensitive: {figures: output/figures/*.svg}}
    """
    figures = """
        import os
        from pathlib import Path

        Path("output/figures").mkdir(parents=True)
        for name in os.environ["OSSCHOOLS_ACTION_CONFIG"] and ["a", "b"]:
            Path(f"output/figures/{name}.svg").write_text("<svg/>")
    """
    project = make_project(tmp_path, actions, {"figures.py": figures})
    assert run(project, "figures").exit_code == 0
    write(project / "figures.py", figures.replace('["a", "b"]', '["a"]'))
    assert run(project, "figures").exit_code == 0
    assert [path.name for path in (project / "output" / "figures").iterdir()] == ["a.svg"]


ENVIRONMENT = """
    import json
    import os
    from pathlib import Path

    Path("output").mkdir()
    Path("output/env.json").write_text(json.dumps({"env": dict(os.environ), "cwd": os.getcwd()}))
"""


def test_the_environment_is_scrubbed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OSSCHOOLS_TEST_SECRET", "hunter2")
    monkeypatch.setenv("OSSCHOOLS_DSN", "postgresql://user:password@db/real")
    actions = """
        env:
          run: python:v2 env.py
          config: {year: 2024}
          outputs: {highly_sensitive: {env: output/env.json}}
    """
    project = make_project(tmp_path, actions, {"env.py": ENVIRONMENT})
    assert run(project, "env").exit_code == 0
    seen = json.loads((project / "output" / "env.json").read_text())
    env = seen["env"]
    assert "OSSCHOOLS_TEST_SECRET" not in env
    assert "OSSCHOOLS_DSN" not in env
    assert "hunter2" not in json.dumps(seen)
    assert json.loads(env["OSSCHOOLS_ACTION_CONFIG"]) == {"year": 2024}
    assert env["HOME"] != str(Path.home())
    assert not env["HOME"].startswith(str(project))
    assert not seen["cwd"].startswith(str(project))  # its own working directory
    assert not Path(seen["cwd"]).exists()  # removed afterwards
