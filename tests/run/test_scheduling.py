"""Parallel actions, failures with and without --continue-on-error, timeouts."""

from __future__ import annotations

from pathlib import Path

from tests.run.helpers import FAIL, SLEEP, WRITE, make_project, run, statuses

FAILING = """
    broken:
      run: python:v2 fail.py
      outputs: {highly_sensitive: {x: output/x.txt}}
    after_broken:
      run: python:v2 write.py output/after.txt after
      needs: [broken]
      outputs: {highly_sensitive: {after: output/after.txt}}
    independent:
      run: python:v2 write.py output/independent.txt independent
      outputs: {highly_sensitive: {independent: output/independent.txt}}
"""


def failing_project(folder: Path) -> Path:
    return make_project(folder, FAILING, {"fail.py": FAIL, "write.py": WRITE})


def test_a_failure_stops_new_actions(tmp_path: Path) -> None:
    project = failing_project(tmp_path)
    result = run(project, "run_all", "--concurrency", "1")
    assert result.exit_code == 1
    assert statuses(project, "broken") == ["failed"]
    assert statuses(project, "after_broken") == ["cancelled"]
    assert statuses(project, "independent") == ["cancelled"]
    assert "independent: cancelled (not started: broken failed)" in result.output


def test_continue_on_error_runs_what_does_not_need_the_failure(tmp_path: Path) -> None:
    project = failing_project(tmp_path)
    result = run(project, "run_all", "--concurrency", "1", "--continue-on-error")
    assert result.exit_code == 1
    assert statuses(project, "independent") == ["succeeded"]
    assert statuses(project, "after_broken") == ["cancelled"]
    assert "after_broken: cancelled (not run: needs broken, which failed)" in result.output


def test_independent_actions_run_at_the_same_time(tmp_path: Path) -> None:
    actions = """
        first:
          run: python:v2 sleep.py output/first.txt 1
          outputs: {highly_sensitive: {t: output/first.txt}}
        second:
          run: python:v2 sleep.py output/second.txt 1
          outputs: {highly_sensitive: {t: output/second.txt}}
        last:
          run: python:v2 sleep.py output/last.txt 0
          needs: [first, second]
          outputs: {highly_sensitive: {t: output/last.txt}}
    """
    project = make_project(tmp_path, actions, {"sleep.py": SLEEP})
    assert run(project, "run_all", "--concurrency", "2").exit_code == 0

    def times(name: str) -> list[float]:
        return [float(line) for line in (project / "output" / f"{name}.txt").read_text().split()]

    (first_start, first_end), (second_start, second_end) = times("first"), times("second")
    assert first_start < second_end and second_start < first_end  # they overlapped
    assert times("last")[0] > max(first_end, second_end)  # and `last` waited for both


def test_concurrency_one_runs_one_at_a_time(tmp_path: Path) -> None:
    actions = """
        first:
          run: python:v2 sleep.py output/first.txt 0.2
          outputs: {highly_sensitive: {t: output/first.txt}}
        second:
          run: python:v2 sleep.py output/second.txt 0.2
          outputs: {highly_sensitive: {t: output/second.txt}}
    """
    project = make_project(tmp_path, actions, {"sleep.py": SLEEP})
    assert run(project, "run_all", "--concurrency", "1").exit_code == 0
    first = (project / "output" / "first.txt").read_text().split()
    second = (project / "output" / "second.txt").read_text().split()
    assert float(first[1]) < float(second[0])


def test_an_action_that_runs_too_long_is_stopped(tmp_path: Path) -> None:
    actions = """
        slow:
          run: python:v2 sleep.py output/slow.txt 60
          outputs: {highly_sensitive: {t: output/slow.txt}}
    """
    project = make_project(tmp_path, actions, {"sleep.py": SLEEP})
    result = run(project, "slow", "--timeout", "0.5")
    assert result.exit_code == 1
    assert "slow failed: timed out after 0.5 seconds" in result.output
    assert statuses(project, "slow") == ["failed"]
    assert not (project / "output").exists()
