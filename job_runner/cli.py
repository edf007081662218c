"""The `osschools` command line: one group, with each part of the project adding a subgroup."""

from __future__ import annotations

import click

from dummy_data.cli import dummy_data_group
from ehrql_schools.command_line import DEBUG_VARIABLE, one_line, run_command_line
from job_runner.disclosure.cli import disclosure_group
from job_runner.images import images_group
from job_runner.pipeline.cli import check_command
from job_runner.run.cli import run_command
from schema.cli import schema_group

__all__ = ["DEBUG_VARIABLE", "cli", "main", "one_line"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="osschools", prog_name="osschools")
def cli() -> None:
    """A trusted research environment for English school data."""


cli.add_command(schema_group, name="schema")
cli.add_command(dummy_data_group, name="dummy-data")
cli.add_command(check_command, name="check")
cli.add_command(images_group, name="images")
cli.add_command(run_command, name="run")
cli.add_command(disclosure_group, name="disclosure")


def main(argv: list[str] | None = None) -> None:
    """Run `osschools`; an unexpected error becomes one line on stderr and exit code 1.

    Set OSSCHOOLS_DEBUG=1 to get the full traceback instead.
    """
    run_command_line(cli, "osschools", argv)
