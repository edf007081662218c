"""`osschools check [PATH]`: validate a project.yaml without running anything."""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.text import Text

from job_runner.pipeline.errors import PipelineError
from job_runner.pipeline.validation import load_pipeline


@click.command("check")
@click.argument("path", default="project.yaml", type=click.Path(dir_okay=False))
def check_command(path: str) -> None:
    """Check PATH (default project.yaml) and list every problem with its line number."""
    console = Console(soft_wrap=True, highlight=False)
    try:
        pipeline = load_pipeline(path)
    except PipelineError as error:
        for problem in error.problems:
            line = Text()
            line.append(f"{problem.location()}: ", style="bold")
            line.append(problem.message, style="red")
            console.print(line)
        count = len(error.problems)
        console.print(Text(f"{count} problem{'s' if count != 1 else ''} found", style="bold red"))
        sys.exit(1)
    by_level: dict[str, int] = {"highly_sensitive": 0, "moderately_sensitive": 0}
    for action in pipeline.actions.values():
        for level, _name, _path in action.outputs.files():
            by_level[level] += 1
    count = len(pipeline.actions)
    summary = ", ".join(f"{number} {level}" for level, number in by_level.items())
    console.print(
        Text(f"{path} is valid: {count} action{'s' if count != 1 else ''}; outputs: {summary}"),
        style="green",
    )
