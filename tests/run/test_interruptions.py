"""A runner killed mid-action (kill -9) or interrupted (Ctrl-C) leaves no partial outputs and
the job state says what happened."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from job_runner.run.executors import kill_leftover_processes
from job_runner.run.state import JobState
from tests.run.helpers import jobs, make_project, manifest, run, start, statuses, wait_for

# Sleeps for the number of seconds in seconds.txt, with a partial output meanwhile.
SLEEPER = """
    import time
    from pathlib import Path

    Path("output").mkdir()
    Path("output/slow.txt").write_text("partial")
    print("sleeping", flush=True)
    time.sleep(float(Path("seconds.txt").read_text()))
    Path("output/slow.txt").write_text("complete")
"""
ACTIONS = """
    slow:
      run: python:v2 sleeper.py
      outputs: {highly_sensitive: {t: output/slow.txt}}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path, ACTIONS, {"sleeper.py": SLEEPER, "seconds.txt": "60"})


def started(project: Path) -> dict:
    """Wait until the action is running and has printed; return its job row."""
    log = project / "metadata" / "slow.log"
    wait_for(lambda: log.exists() and "sleeping" in log.read_text())
    [job] = jobs(project, "slow")
    assert job["status"] == "running"
    return job


def leftover_processes(job_id: str) -> bool:
    marker = f"OSSCHOOLS_JOB_ID={job_id}".encode()
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                return True
        except OSError:
            continue
    return False


def test_a_crashed_run_is_cancelled_and_rerun(project: Path) -> None:
    runner = start(project, "slow")
    job = started(project)
    os.kill(runner.pid, signal.SIGKILL)
    runner.wait(timeout=30)
    assert not (project / "output").exists()  # the partial output stayed in the work folder
    (project / "seconds.txt").write_text("0")

    result = run(project, "slow")

    assert result.exit_code == 0, result.output
    assert "An earlier run stopped while running slow; marked cancelled" in result.output
    assert statuses(project, "slow") == ["cancelled", "succeeded"]
    assert (project / "output" / "slow.txt").read_text() == "complete"
    assert not leftover_processes(job["id"])
    assert not Path(job["workdir"]).exists()


def test_outputs_half_moved_by_a_crashed_run_are_not_taken_as_complete(project: Path) -> None:
    (project / "seconds.txt").write_text("0")
    assert run(project, "slow").exit_code == 0
    # A runner that died while moving outputs into place: its job is still `running`, and the
    # output in the project is not the one the last successful job recorded.
    state = JobState(project / ".osschools" / "jobs.sqlite")
    state.start(state.create("slow", None, "local"), project / "gone")
    state.close()
    (project / "output" / "slow.txt").write_text("partial")

    assert run(project, "slow").exit_code == 0

    assert statuses(project, "slow") == ["succeeded", "cancelled", "succeeded"]
    assert (project / "output" / "slow.txt").read_text() == "complete"


@pytest.fixture(params=["local", "docker"])
def executor(request: pytest.FixtureRequest) -> str:
    """Each executor; docker needs an engine and the action images (`action_images` skips
    without them, and fails in CI)."""
    if request.param == "docker":
        request.getfixturevalue("action_images")
    return request.param


def containers_of(job_id: str) -> list[Any]:
    """The containers (running or not) that the docker executor made for `job_id`."""
    from job_runner import images
    from job_runner.run.docker_executor import JOB_LABEL

    client = images.docker_client()
    try:
        return client.containers.list(all=True, filters={"label": f"{JOB_LABEL}={job_id}"})
    finally:
        client.close()


def test_ctrl_c_cancels_and_exits_130(project: Path, executor: str) -> None:
    runner = start(project, "slow", executor=executor)
    try:
        job = started(project)
        if executor == "docker":
            [container] = containers_of(job["id"])
            assert container.status == "running"
        os.killpg(runner.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the whole group
        output, _ = runner.communicate(timeout=60)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.communicate()

    assert runner.returncode == 130, output
    assert "Cancelling" in output
    [job] = jobs(project, "slow")
    assert (job["status"], job["executor"]) == ("cancelled", executor)
    assert not (project / "output").exists()  # the partial output was never collected
    assert job["outputs"] == "{}"
    assert not Path(job["workdir"]).exists()
    assert not leftover_processes(job["id"])
    if executor == "docker":
        assert containers_of(job["id"]) == []
    assert "cancelled" in (project / "metadata" / "slow.log").read_text()
    recorded = manifest(project)
    assert recorded["actions"]["slow"]["status"] == "cancelled"
    assert "output/slow.txt" not in recorded["outputs"]

    (project / "seconds.txt").write_text("0")
    result = run(project, "slow", executor=executor)

    assert result.exit_code == 0, result.output
    assert statuses(project, "slow") == ["cancelled", "succeeded"]
    assert (project / "output" / "slow.txt").read_text() == "complete"


def test_leftover_processes_are_found_by_job_id(tmp_path: Path) -> None:
    assert kill_leftover_processes("no-such-job") == 0
