"""The `osschools` command line: one group, with each part of the project adding a subgroup."""

from __future__ import annotations

import os
import sys

import click

from dummy_data.cli import dummy_data_group
from schema.cli import schema_group

DEBUG_VARIABLE = "OSSCHOOLS_DEBUG"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="osschools", prog_name="osschools")
def cli() -> None:
    """A trusted research environment for English school data."""


cli.add_command(schema_group, name="schema")
cli.add_command(dummy_data_group, name="dummy-data")


def main(argv: list[str] | None = None) -> None:
    """Run `osschools`; an unexpected error becomes one line on stderr and exit code 1.

    Set OSSCHOOLS_DEBUG=1 to get the full traceback instead.
    """
    try:
        cli.main(args=argv, prog_name="osschools")
    except Exception as error:  # click handles its own usage errors and exits before this
        if os.environ.get(DEBUG_VARIABLE) == "1":
            raise
        click.echo(f"Error: {one_line(error)} (set {DEBUG_VARIABLE}=1 for details)", err=True)
        sys.exit(1)


def one_line(error: BaseException) -> str:
    """`Type: message`, with the message folded onto a single line."""
    message = " ".join(str(error).split())
    return f"{type(error).__name__}: {message}" if message else type(error).__name__
