"""`osschools run [ACTION ...|run_all]`: run a project's actions on this machine."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.text import Text

from ehrql_schools import dsn as dsn_module
from job_runner.disclosure.cli import ProfileChoiceError, chosen_profile
from job_runner.pipeline import PipelineError, load_pipeline
from job_runner.run.display import Display
from job_runner.run.executors import EXECUTOR_CHOICES, ExecutorError, choose_executor
from job_runner.run.planner import PlanningError, plan
from job_runner.run.runner import RunError, Runner, RunOptions
from job_runner.run.workspace import STATE_FOLDER

PROJECT_FILE = "project.yaml"
DEFAULT_CONCURRENCY = max(1, min(4, os.cpu_count() or 1))


@click.command("run", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("actions", nargs=-1, metavar="[PROJECT.yaml] ACTION...|run_all")
@click.option(
    "--project-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The project folder, holding project.yaml.",
)
@click.option(
    "-f",
    "--force-run-dependencies",
    "force",
    is_flag=True,
    help="Rerun the actions and everything they need, even if unchanged since they last succeeded.",
)
@click.option(
    "--continue-on-error",
    is_flag=True,
    help="After a failure, keep running the actions that do not need the failed one.",
)
@click.option("--timestamps", is_flag=True, help="Timestamp each line of the logs and progress.")
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=DEFAULT_CONCURRENCY,
    show_default=True,
    help="How many actions may run at once.",
)
@click.option(
    "--executor",
    "executor_name",
    type=click.Choice(EXECUTOR_CHOICES),
    default="auto",
    show_default=True,
    help="Where actions run: docker containers, local subprocesses, or auto (docker when a "
    "Docker engine is reachable, else local).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Stop an action that runs longer than this many seconds.",
)
def run_command(
    actions: tuple[str, ...],
    project_dir: Path,
    force: bool,
    continue_on_error: bool,
    timestamps: bool,
    concurrency: int,
    executor_name: str,
    timeout: float | None,
) -> None:
    """Run ACTIONs of the project (and the actions they need), or run_all.

    An action is skipped when its outputs exist and nothing it depends on (its code, config,
    image, the files it can see, the outputs it needs) changed since it last succeeded; -f
    reruns. Each action sees only the project's files (without outputs and metadata/) and the
    outputs of the actions it needs. Logs go to metadata/<action>.log, a list of every output
    to metadata/manifest.json. Each moderately_sensitive output is run through the disclosure
    checks (the profile: $OSSCHOOLS_DISCLOSURE_PROFILE, else opensafely), with a warning for
    those that would not pass.
    """
    names = list(actions)
    project_file = project_dir / PROJECT_FILE
    if names and names[0].endswith((".yaml", ".yml")):
        project_file = Path(names.pop(0))
        project_dir = project_file.parent
    console = Console(highlight=False, soft_wrap=True)
    try:
        pipeline = load_pipeline(project_file)
    except PipelineError as error:
        for problem in error.problems:
            console.print(Text(f"{problem.location()}: {problem.message}", style="red"))
        sys.exit(1)
    try:
        the_plan = plan(pipeline, names)
    except PlanningError as error:
        raise click.UsageError(str(error)) from None
    try:
        choice = choose_executor(
            executor_name, dummy_data=dummy_data_path(project_dir), timeout=timeout
        )
    except ExecutorError as error:
        raise click.ClickException(str(error)) from None
    display = Display(the_plan.names, console, timestamps=timestamps)
    display.note(f"Executor: {choice.reason}")
    try:
        rules = chosen_profile()
    except ProfileChoiceError as error:
        raise click.ClickException(" ".join(str(error).split())) from None
    options = RunOptions(
        force=force,
        continue_on_error=continue_on_error,
        timestamps=timestamps,
        concurrency=concurrency,
        disclosure=rules,
    )
    runner = Runner(project_dir, pipeline, choice.executor, display, options)
    try:
        with display:
            result = runner.run(the_plan)
    except (RunError, ExecutorError) as error:
        raise click.ClickException(str(error)) from None
    except KeyboardInterrupt:
        console.print(Text("Interrupted before any action started.", style="yellow"))
        sys.exit(130)
    display.summary()
    if result.interrupted is not None:
        console.print(Text("Interrupted: running actions were cancelled.", style="yellow"))
    sys.exit(result.exit_code)


def dummy_data_path(project_dir: Path) -> Path:
    """The synthetic trust that ehrql and sqlrunner actions query: OSSCHOOLS_DUMMY_DATA, or
    .osschools/synthetic_trust.duckdb in the project (generated the first time it is needed)."""
    configured = os.environ.get(dsn_module.DUMMY_DATA_VARIABLE)
    if configured:
        return Path(configured).resolve()
    return (project_dir / STATE_FOLDER / "synthetic_trust.duckdb").resolve()
