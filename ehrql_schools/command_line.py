"""What the `ehrql-schools` and `osschools` command lines share: how an unexpected error ends.

It lives here, in the lower layer, so that the query language (shipped alone in the ehrql image)
does not depend on the job runner; `job_runner.cli` imports it from here.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import click

DEBUG_VARIABLE = "OSSCHOOLS_DEBUG"


def debugging() -> bool:
    """Whether OSSCHOOLS_DEBUG=1 asks for tracebacks instead of one-line messages."""
    return os.environ.get(DEBUG_VARIABLE) == "1"


def one_line(error: BaseException) -> str:
    """`Type: message`, with the message folded onto a single line."""
    message = " ".join(str(error).split())
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def run_command_line(
    group: click.Command, prog_name: str, argv: Sequence[str] | None = None
) -> None:
    """Run a click command line; an unexpected error becomes one line on stderr and exit code 1
    (the full traceback with OSSCHOOLS_DEBUG=1). Click handles usage errors and ClickExceptions
    itself, and exits before this sees them."""
    try:
        group.main(args=None if argv is None else list(argv), prog_name=prog_name)
    except Exception as error:
        if debugging():
            raise
        click.echo(f"Error: {one_line(error)} (set {DEBUG_VARIABLE}=1 for details)", err=True)
        sys.exit(1)
