"""The `ehrql-schools` command line, which the `ehrql` action image runs."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="osschools", prog_name="ehrql-schools")
def cli() -> None:
    """Generate datasets and measures from dataset definitions over school data."""


def main() -> None:
    """Entry point of the `ehrql-schools` console script."""
    cli(prog_name="ehrql-schools")
