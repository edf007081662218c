"""`osschools run --executor docker`: actions in their images, locked down.

Needs a Docker engine and the action images (the `action_images` fixture builds them, and skips
without Docker locally; in CI it fails instead)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from job_runner import images
from job_runner.cli import cli
from job_runner.run.docker_executor import JOB_LABEL
from tests.run.helpers import (
    FAIL,
    OSSCHOOLS,
    WRITE,
    jobs,
    make_project,
    manifest,
    statuses,
    wait_for,
)

pytestmark = pytest.mark.usefixtures("action_images")


def run(project: Path, *args: str) -> Result:
    arguments = ["run", "--project-dir", str(project), "--executor", "docker", *args]
    return CliRunner().invoke(cli, arguments, catch_exceptions=False)


def docker_client() -> Any:
    return images.docker_client()


def containers_of(job_id: str) -> list[Any]:
    client = docker_client()
    return client.containers.list(all=True, filters={"label": f"{JOB_LABEL}={job_id}"})


# Probes the sandbox from inside and writes what it found.
PROBE = """
    import json
    import os
    import socket
    from pathlib import Path

    def connect(host):
        try:
            socket.create_connection((host, 53 if host != "127.0.0.1" else 22), timeout=2)
        except OSError as error:
            return type(error).__name__
        return "connected"

    def write(path):
        try:
            Path(path).write_text("x")
        except OSError as error:
            return type(error).__name__
        return "written"

    report = {
        "uid": os.getuid(),
        "gid": os.getgid(),
        "cwd": os.getcwd(),
        "network": {host: connect(host) for host in ("1.1.1.1", "127.0.0.1")},
        "interfaces": sorted(name for _, name in socket.if_nameindex()),
        "writes": {path: write(path) for path in ("/etc/x", "/opt/venv/x", "/home/x", "/x")},
        "tmp": write("/tmp/x"),
        "config": os.environ.get("OSSCHOOLS_ACTION_CONFIG"),
        "job_id": os.environ.get("OSSCHOOLS_JOB_ID"),
        "dummy_data": os.environ.get("OSSCHOOLS_DUMMY_DATA"),
        "data_mounted": Path("/data").exists(),
        "secret": os.environ.get("SECRET_TOKEN"),
    }
    Path("output").mkdir()
    Path("output/report.json").write_text(json.dumps(report))
"""


def test_a_python_action_runs_locked_down(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_TOKEN", "do-not-leak")
    actions = """
        probe:
          run: python:v2 probe.py
          config: {n: 1}
          outputs: {moderately_sensitive: {report: output/report.json}}
    """
    project = make_project(tmp_path, actions, {"probe.py": PROBE})
    result = run(project, "probe")
    assert result.exit_code == 0, result.output
    assert "Executor: docker (as asked)" in result.output
    report = json.loads((project / "output" / "report.json").read_text())
    [job] = jobs(project, "probe")
    assert (report["uid"], report["gid"], report["cwd"]) == (10000, 10000, "/workspace")
    assert report["network"] == {"1.1.1.1": "OSError", "127.0.0.1": "ConnectionRefusedError"}
    assert report["interfaces"] == ["lo"]
    assert set(report["writes"].values()) <= {"OSError", "PermissionError"}
    assert report["tmp"] == "written"
    assert report["config"] == '{"n": 1}'
    assert report["job_id"] == job["id"]
    assert (report["dummy_data"], report["data_mounted"], report["secret"]) == (None, False, None)
    # The runner owns what it collected, and no container is left behind.
    assert (project / "output" / "report.json").stat().st_uid == os.geteuid()
    assert job["executor"] == "docker"
    assert containers_of(job["id"]) == []


DEFINITION = """
    from ehrql_schools import create_dataset
    from ehrql_schools.tables.schools import enrolments, pupils

    dataset = create_dataset()
    dataset.define_population(enrolments.exists_for_pupil())
    dataset.sex = pupils.sex
    dataset.enrolments = enrolments.count_for_pupil()
"""
FIGURE = """
    import matplotlib.pyplot as plt
    import pandas as pd
    from pathlib import Path

    dataset = pd.read_csv("output/dataset.csv.gz")
    table = dataset.groupby("sex").agg(pupils=("pupil_id", "count"))
    table["mean_enrolments"] = dataset.groupby("sex")["enrolments"].mean().round(2)
    table.to_csv("output/by_sex.csv")
    ax = table["pupils"].plot.bar()
    ax.set_ylabel("pupils")
    plt.savefig("output/by_sex.png")
"""
STUDY = """
    generate_dataset:
      run: ehrql:v1 generate-dataset analysis/dataset_definition.py --output output/dataset.csv.gz
      outputs: {highly_sensitive: {dataset: output/dataset.csv.gz}}
    describe:
      run: python:v2 analysis/describe.py
      needs: [generate_dataset]
      outputs:
        moderately_sensitive:
          table: output/by_sex.csv
          figure: output/by_sex.png
"""


def test_an_example_study_ehrql_then_a_table_and_figure(
    tmp_path: Path, dummy_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OSSCHOOLS_DUMMY_DATA", str(dummy_data))
    files = {"analysis/dataset_definition.py": DEFINITION, "analysis/describe.py": FIGURE}
    project = make_project(tmp_path / "study", STUDY, files)

    result = run(project, "run_all")

    assert result.exit_code == 0, result.output
    outputs = manifest(project)["outputs"]
    assert outputs["output/dataset.csv.gz"]["columns"] == 3
    table = (project / "output" / "by_sex.csv").read_text().splitlines()
    assert table[0] == "sex,pupils,mean_enrolments"
    assert (project / "output" / "by_sex.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The moderately_sensitive table was checked for disclosure where it was made: it has no
    # description beside it, so at best it needs an output checker's review.
    check = outputs["output/by_sex.csv"]["disclosure"]
    assert (check["profile"], check["verdict"]) == ("opensafely", "needs review") or check[
        "verdict"
    ] == "fail"
    assert "Wrote" in (project / "metadata" / "generate_dataset.log").read_text()

    again = run(project, "run_all")
    assert again.exit_code == 0, again.output
    assert statuses(project, "generate_dataset") == ["succeeded", "skipped"]
    assert statuses(project, "describe") == ["succeeded", "skipped"]


def test_an_isolated_definition_says_it_relies_on_the_container_having_no_network(
    tmp_path: Path, dummy_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Docker's seccomp profile refuses unshare(), so the definition cannot have namespaces of
    # its own; the container has no network, and the log says so rather than warn of network.
    monkeypatch.setenv("OSSCHOOLS_DUMMY_DATA", str(dummy_data))
    actions = """
        generate_dataset:
          run: >-
            ehrql:v1 generate-dataset analysis/dataset_definition.py --isolated
            --output output/dataset.csv.gz
          outputs: {highly_sensitive: {dataset: output/dataset.csv.gz}}
    """
    files = {"analysis/dataset_definition.py": DEFINITION}
    project = make_project(tmp_path / "study", actions, files)

    result = run(project, "generate_dataset")

    assert result.exit_code == 0, result.output
    log = (project / "metadata" / "generate_dataset.log").read_text()
    assert "WITH network access" not in log
    assert "without a network namespace of its own" in log
    assert "no network interface but loopback (as in a container started with --network" in log


@pytest.fixture
def own_python_image(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A throwaway repository whose python:v2 is the real image plus a label; calling the
    fixture rebuilds it (a new image id)."""
    client = docker_client()
    repository = f"osschools-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(images, "REPOSITORY", repository)
    built: list[str] = []

    def rebuild(generation: int) -> str:
        container = client.containers.create("osschools/python:v2", command=["-c", "pass"])
        try:
            image = container.commit(
                repository=f"{repository}/python",
                tag="v2",
                conf={"Labels": {"org.osschools.test": str(generation)}},
            )
        finally:
            container.remove(force=True)
        built.append(image.id)
        return image.id

    yield rebuild
    for image_id in reversed(built):
        with contextlib.suppress(Exception):
            client.images.remove(image_id, force=True)


def test_unchanged_actions_are_skipped_and_a_rebuilt_image_reruns(
    tmp_path: Path, own_python_image: Any
) -> None:
    actions = """
        write:
          run: python:v2 write.py output/a.txt hello
          outputs: {highly_sensitive: {a: output/a.txt}}
    """
    project = make_project(tmp_path, actions, {"write.py": WRITE})
    first = own_python_image(1)
    assert run(project, "write").exit_code == 0
    assert run(project, "write").exit_code == 0
    assert statuses(project, "write") == ["succeeded", "skipped"]
    second = own_python_image(2)
    assert second != first
    assert run(project, "write").exit_code == 0
    assert statuses(project, "write") == ["succeeded", "skipped", "succeeded"]


FAILING = """
    broken:
      run: python:v2 fail.py
      outputs: {highly_sensitive: {t: output/broken.txt}}
    after_broken:
      run: python:v2 write.py output/after.txt x
      needs: [broken]
      outputs: {highly_sensitive: {t: output/after.txt}}
    independent:
      run: python:v2 write.py output/independent.txt x
      outputs: {highly_sensitive: {t: output/independent.txt}}
"""


def test_continue_on_error_and_the_failure_summary(tmp_path: Path) -> None:
    project = make_project(tmp_path, FAILING, {"fail.py": FAIL, "write.py": WRITE})
    result = run(project, "run_all", "--concurrency", "1", "--continue-on-error")
    assert result.exit_code == 1
    assert statuses(project, "broken") == ["failed"]
    assert statuses(project, "independent") == ["succeeded"]
    assert statuses(project, "after_broken") == ["cancelled"]
    assert "broken failed: exit code 3" in result.output
    assert "about to fail" in result.output  # the end of its log
    assert (project / "output" / "independent.txt").read_text() == "x\n"


def test_an_undeclared_dependency_fails(tmp_path: Path) -> None:
    actions = """
        first:
          run: python:v2 write.py output/first.txt x
          outputs: {highly_sensitive: {t: output/first.txt}}
        second:
          run: python:v2 copy.py output/first.txt output/second.txt
          outputs: {highly_sensitive: {t: output/second.txt}}
    """
    copy = "from pathlib import Path\nPath('output/second.txt').write_text(open('output/first.txt').read())\n"  # noqa: E501
    project = make_project(tmp_path, actions, {"write.py": WRITE, "copy.py": copy})
    assert run(project, "first").exit_code == 0
    result = run(project, "second")
    assert result.exit_code == 1
    assert "FileNotFoundError" in (project / "metadata" / "second.log").read_text()


UNDECLARED = """
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
    assert "not kept (written but not declared as outputs):\n  output/extra.csv" in log


SLEEPER = """
    import time
    from pathlib import Path

    Path("output").mkdir()
    Path("output/slow.txt").write_text("partial")
    print("sleeping", flush=True)
    time.sleep(60)
    Path("output/slow.txt").write_text("complete")
"""
SLOW = """
    slow:
      run: python:v2 sleeper.py
      outputs: {highly_sensitive: {t: output/slow.txt}}
"""


def test_an_action_that_runs_too_long_is_stopped_and_removed(tmp_path: Path) -> None:
    project = make_project(tmp_path, SLOW, {"sleeper.py": SLEEPER})
    result = run(project, "slow", "--timeout", "2")
    assert result.exit_code == 1
    assert "slow failed: timed out after 2 seconds" in result.output
    [job] = jobs(project, "slow")
    assert containers_of(job["id"]) == []
    assert not (project / "output").exists()


def test_a_crashed_run_leaves_no_container(tmp_path: Path) -> None:
    project = make_project(tmp_path, SLOW, {"sleeper.py": SLEEPER})
    command = [str(OSSCHOOLS), "run", "--project-dir", str(project), "--executor", "docker"]
    runner = subprocess.Popen(
        [*command, "slow"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        log = project / "metadata" / "slow.log"
        wait_for(lambda: log.exists() and "sleeping" in log.read_text(), timeout=60)
        [job] = jobs(project, "slow")
        [container] = containers_of(job["id"])
        workdir = Path(job["workdir"])
        runner.send_signal(signal.SIGKILL)
        runner.wait()
        container.reload()
        assert container.status == "running"  # the engine keeps it going without the runner
        assert container.labels["org.osschools.action"] == "slow"

        (project / "sleeper.py").write_text(
            "from pathlib import Path\nPath('output').mkdir()\n"
            "Path('output/slow.txt').write_text('complete')\n"
        )
        result = run(project, "slow")
        assert result.exit_code == 0, result.output
        assert "marked cancelled, will rerun" in result.output
        assert containers_of(job["id"]) == []
        assert not workdir.exists()
        assert statuses(project, "slow") == ["cancelled", "succeeded"]
        assert (project / "output" / "slow.txt").read_text() == "complete"
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
        if runner.stdout:
            runner.stdout.close()
