"""Total time of an example project under `osschools run`, cold and warm, for each executor,
timed side by side.

    .venv/bin/python benchmarks/example_project.py [--examples attendance_disadvantage|all]
        [--repeats 3] [--executors local,docker]

For each example (default: attendance_disadvantage; `all`: every folder of examples/) and each
executor, from a fresh temporary copy of the example (its files without output/, metadata/ and
.osschools/):
- cold: `osschools run --project-dir COPY --executor E run_all` with no outputs, so every action
  runs;
- warm: the same command again straight after, so every action is skipped as unchanged (the
  benchmark checks that it was).
Each is a subprocess, timed from start to exit: what a researcher waits for, Python's start-up
included. One untimed warm-up round first (it builds missing images and fills the caches), then
the rounds alternate between executors. The synthetic trust (small preset) is generated once
beforehand, untimed, and shared through OSSCHOOLS_DUMMY_DATA.

Prints the median (and min-max) seconds of each, the docker/local ratios and differences, and the
median duration of each action's job in the cold runs (from the job state database). The docker
executor needs a Docker engine and builds missing images in the warm-up round; without an engine
only local is timed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ehrql_schools import dsn as dsn_module
from job_runner.run.executors import docker_engine_reachable

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
OSSCHOOLS = Path(sys.executable).parent / "osschools"
LEFT_OUT = shutil.ignore_patterns("output", "metadata", ".osschools", "__pycache__")
PHASES = {"cold": "succeeded", "warm": "skipped"}  # and the status every action must have


def copy_example(name: str, folder: Path) -> Path:
    target = folder / name
    shutil.copytree(EXAMPLES / name, target, ignore=LEFT_OUT)
    return target


def time_run(project: Path, executor: str, env: dict[str, str], expected: str) -> float:
    """Seconds that `osschools run ... run_all` took; every action must end `expected`."""
    command = [str(OSSCHOOLS), "run", "--project-dir", str(project), "--executor", executor]
    started = time.perf_counter()
    result = subprocess.run(
        [*command, "run_all"], env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{project.name}, {executor}: `osschools run` failed:\n{result.stdout}")
    actions = manifest_actions(project)
    wrong = {name: action["status"] for name, action in actions.items()}
    wrong = {name: status for name, status in wrong.items() if status != expected}
    if wrong:
        raise SystemExit(f"{project.name}, {executor}: expected every action {expected}: {wrong}")
    return elapsed


def manifest_actions(project: Path) -> dict[str, dict]:
    return json.loads((project / "metadata" / "manifest.json").read_text())["actions"]


def cold_durations(project: Path) -> dict[str, float]:
    """How long each action's job took in the cold run (its succeeded job), from the job state
    database: from the start of the action to its outputs recorded."""
    with sqlite3.connect(project / ".osschools" / "jobs.sqlite") as db:
        rows = db.execute(
            "SELECT action, finished_at - started_at FROM jobs WHERE status = 'succeeded'"
        ).fetchall()
    return dict(rows)


def seconds(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", default="attendance_disadvantage")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--executors", default="local,docker")
    options = parser.parse_args()
    if options.examples == "all":
        examples = sorted(path.parent.name for path in EXAMPLES.glob("*/project.yaml"))
    else:
        examples = [name for name in options.examples.split(",") if name]
    for name in examples:
        if not (EXAMPLES / name / "project.yaml").is_file():
            raise SystemExit(f"no example project {name} in {EXAMPLES}")
    names = [name for name in options.executors.split(",") if name]
    if "docker" in names and not docker_engine_reachable():
        print("No Docker engine is reachable: timing the local executor only.")
        names.remove("docker")
    console = Console()
    if not console.is_terminal:
        console.width = 120  # not cut to 80 columns in a log

    # (example, executor, phase) -> seconds; (example, executor, action) -> cold durations
    totals: dict[tuple[str, str, str], list[float]] = {}
    actions: dict[tuple[str, str, str], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="osschools-example-bench-") as folder:
        root = Path(folder)
        trust = root / "synthetic_trust.duckdb"
        started = time.perf_counter()
        dsn_module.ensure_synthetic_trust(trust, dsn_module.generate_synthetic_trust)
        console.print(f"synthetic trust (small preset): {time.perf_counter() - started:.1f} s")
        env = {**os.environ, dsn_module.DUMMY_DATA_VARIABLE: str(trust)}
        for round_ in range(options.repeats + 1):
            order = names if round_ % 2 else list(reversed(names))
            for example in examples:
                for executor in order:
                    project = copy_example(example, root / f"{round_}-{executor}")
                    for phase, expected in PHASES.items():
                        elapsed = time_run(project, executor, env, expected)
                        if round_:  # round 0 builds images and warms up caches
                            totals.setdefault((example, executor, phase), []).append(elapsed)
                    if round_:
                        for action, duration in cold_durations(project).items():
                            actions.setdefault((example, executor, action), []).append(duration)
                    shutil.rmtree(project.parent)
            if round_:
                console.print(f"round {round_} of {options.repeats} done")

    title = f"`osschools run run_all`, seconds: median (min-max) of {options.repeats}"
    table = Table(title=title, caption="cold: every action runs; warm: every action skipped")
    table.add_column("example")
    table.add_column("run")
    for executor in names:
        table.add_column(executor, justify="right")
    both = {"local", "docker"} <= set(names)
    if both:
        table.add_column("docker/local", justify="right")
        table.add_column("docker-local", justify="right")
    for example in examples:
        for phase in PHASES:
            row = [example, phase]
            row += [seconds(totals[(example, executor, phase)]) for executor in names]
            if both:
                local = statistics.median(totals[(example, "local", phase)])
                docker = statistics.median(totals[(example, "docker", phase)])
                row += [f"{docker / local:.2f}x", f"{docker - local:+.2f}"]
            table.add_row(*row)
    console.print(table)

    per_action = Table(title="Each action in the cold runs, seconds (median)")
    per_action.add_column("example")
    per_action.add_column("action")
    for executor in names:
        per_action.add_column(executor, justify="right")
    if both:
        per_action.add_column("docker/local", justify="right")
    for example in examples:
        action_names = sorted({key[2] for key in actions if key[0] == example})
        for action in action_names:
            medians = {
                executor: statistics.median(actions[(example, executor, action)])
                for executor in names
            }
            row = [example, action, *(f"{medians[executor]:.2f}" for executor in names)]
            if both:
                row.append(f"{medians['docker'] / medians['local']:.2f}x")
            per_action.add_row(*row)
    console.print(per_action)


if __name__ == "__main__":
    main()
