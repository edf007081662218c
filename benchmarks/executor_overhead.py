"""Per-action overhead of each executor: an action that does nothing (`python:v2 noop.py`),
timed side by side.

    .venv/bin/python benchmarks/executor_overhead.py [--repeats 15] [--executors local,docker]

For each executor, two timings, alternating between executors after one untimed warm-up round:
- executor.run: `Executor.run` alone on a staged work folder (start, wait, log, clean up: for
  docker, create + start + wait + remove the container and the ownership fix-ups);
- whole run: `osschools run -f noop` in this process (planning, hashing, staging, state database,
  manifest, collecting), what a researcher waits for per action.
Prints the median (and min, max) of each in milliseconds, and docker's extra cost over local.
The docker executor needs a Docker engine and the python image (`osschools images build python`).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from io import StringIO
from pathlib import Path

from click.testing import CliRunner
from rich.console import Console
from rich.table import Table

from job_runner.cli import cli
from job_runner.pipeline import load_pipeline
from job_runner.run.executors import Executor, LocalExecutor, docker_engine_reachable
from job_runner.run.planner import plan
from job_runner.run.workspace import Workspace

PROJECT = """version: "5"
actions:
  noop:
    run: python:v2 noop.py
    outputs: {highly_sensitive: {done: output/done.txt}}
"""
# Does nothing but write its one declared output (a run must produce what it declares).
NOOP = "import os\nos.makedirs('output', exist_ok=True)\nopen('output/done.txt', 'w').close()\n"


def make_project(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "project.yaml").write_text(PROJECT)
    (folder / "noop.py").write_text(NOOP)
    return folder


def executor_named(name: str, dummy_data: Path) -> Executor:
    if name == "local":
        return LocalExecutor(dummy_data)
    from job_runner.run.docker_executor import DockerExecutor

    return DockerExecutor(dummy_data)


def time_executor_run(executor: Executor, project: Path) -> float:
    [job] = plan(load_pipeline(project / "project.yaml"), ["noop"]).jobs
    workspace = Workspace(Path(tempfile.mkdtemp(prefix="osschools-bench-")))
    try:
        workspace.stage({"noop.py": project / "noop.py"})
        log = StringIO()
        started = time.perf_counter()
        status = executor.run(
            job,
            workspace.inputs,
            log,
            threading.Event(),
            job_id=f"bench-{time.monotonic_ns()}",
            home=workspace.home,
            tmp=workspace.tmp,
        )
        elapsed = time.perf_counter() - started
    finally:
        workspace.remove()
    if not status.succeeded:
        raise SystemExit(f"{executor.name}: the noop action failed: {status.message}\n{log}")
    return elapsed


def time_whole_run(name: str, project: Path) -> float:
    arguments = ["run", "--project-dir", str(project), "--executor", name, "-f", "noop"]
    started = time.perf_counter()
    result = CliRunner().invoke(cli, arguments, catch_exceptions=False)
    elapsed = time.perf_counter() - started
    if result.exit_code != 0:
        raise SystemExit(f"{name}: `osschools run` failed:\n{result.output}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--executors", default="local,docker")
    options = parser.parse_args()
    names = [name for name in options.executors.split(",") if name]
    if "docker" in names and not docker_engine_reachable():
        print("No Docker engine is reachable: timing the local executor only.")
        names.remove("docker")

    with tempfile.TemporaryDirectory(prefix="osschools-overhead-") as folder:
        root = Path(folder)
        dummy_data = root / "unused.duckdb"  # a python action never opens it
        executors = {name: executor_named(name, dummy_data) for name in names}
        projects = {name: make_project(root / name) for name in names}
        for name, executor in executors.items():
            [job] = plan(load_pipeline(projects[name] / "project.yaml"), ["noop"]).jobs
            executor.prepare([job])  # builds a missing image: not timed
        timings: dict[str, dict[str, list[float]]] = {
            name: {"run": [], "whole": []} for name in names
        }
        measures: list[tuple[str, Callable[[str], float]]] = [
            ("run", lambda name: time_executor_run(executors[name], projects[name])),
            ("whole", lambda name: time_whole_run(name, projects[name])),
        ]
        for round_ in range(options.repeats + 1):
            for name in names:
                for key, measure in measures:
                    elapsed = measure(name)
                    if round_:  # round 0 warms up caches and the engine
                        timings[name][key].append(elapsed)

    table = Table(title=f"Per-action overhead, noop action (median of {options.repeats}, ms)")
    table.add_column("executor")
    table.add_column("executor.run median", justify="right")
    table.add_column("min-max", justify="right")
    table.add_column("whole `osschools run` median", justify="right")
    table.add_column("min-max", justify="right")
    for name in names:
        row = [name]
        for key in ("run", "whole"):
            values = [value * 1000 for value in timings[name][key]]
            row += [f"{statistics.median(values):.0f}", f"{min(values):.0f}-{max(values):.0f}"]
        table.add_row(*row)
    console = Console()
    console.print(table)
    if {"local", "docker"} <= set(names):
        for key, label in (("run", "executor.run"), ("whole", "whole run")):
            local = statistics.median(timings["local"][key])
            docker = statistics.median(timings["docker"][key])
            console.print(
                f"docker costs {1000 * (docker - local):.0f} ms more per action than local "
                f"({label}; {docker / local:.1f}x)"
            )


if __name__ == "__main__":
    main()
