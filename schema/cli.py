"""`osschools schema`: check the schema files, print their DDL, write the schema reference."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import cast

import click

from schema.ddl import Dialects, ddl_statements
from schema.loader import load_schema
from schema.models import Schema
from schema.problems import SchemaError
from schema.reference import render_reference

DEFAULT_DOCS = Path("docs/schema.md")

path_option = click.option(
    "--path",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Schema folder holding tables/ and codelists/ (default: the standard schema).",
)


@click.group(name="schema")
def schema_group() -> None:
    """The standardised MAT dataset: check it and derive its SQL and reference."""


@schema_group.command()
@path_option
def check(path: Path | None) -> None:
    """Check every table and code list file; list every problem with its file and line."""
    schema = _load_or_exit(path)
    click.echo(
        f"schema OK: {len(schema.base_tables)} tables, {len(schema.views)} views, "
        f"{len(schema.codelists)} code lists"
    )


@schema_group.command()
@path_option
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_DOCS,
    show_default=True,
    help="Markdown file to write.",
)
@click.option("--check", "check_only", is_flag=True, help="Only check that OUTPUT is up to date.")
def docs(path: Path | None, output: Path, check_only: bool) -> None:
    """Write the schema reference (Markdown)."""
    text = render_reference(_load_or_exit(path))
    if check_only:
        current = output.read_text(encoding="utf-8") if output.is_file() else None
        if current != text:
            raise click.ClickException(
                f"{output} is out of date; run `osschools schema docs --output {output}`"
            )
        click.echo(f"{output} is up to date")
        return
    write_atomically(output, text)
    click.echo(f"wrote {output}")


@schema_group.command()
@path_option
@click.option(
    "--dialect", type=click.Choice(["duckdb", "postgresql"]), required=True, help="SQL dialect."
)
@click.option(
    "--constraints/--no-constraints",
    default=True,
    show_default=True,
    help="Include PRIMARY KEY and UNIQUE constraints.",
)
@click.option("--foreign-keys", is_flag=True, help="Include FOREIGN KEY constraints.")
def ddl(path: Path | None, dialect: str, constraints: bool, foreign_keys: bool) -> None:
    """Print the CREATE TABLE and CREATE VIEW statements (never CHECK constraints)."""
    schema = _load_or_exit(path)
    statements = ddl_statements(
        schema, cast(Dialects, dialect), constraints=constraints, foreign_keys=foreign_keys
    )
    click.echo("\n\n".join(f"{statement};" for statement in statements))


def _load_or_exit(path: Path | None) -> Schema:
    """Load the schema, or print every problem and exit with status 1."""
    try:
        return load_schema(path)
    except SchemaError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        count = len(error.problems)
        click.echo(f"{count} problem{'s' if count != 1 else ''} in the schema", err=True)
        raise SystemExit(1) from None


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file in the same folder and `os.replace`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as file:
            file.write(text)
        # mkstemp makes the file private (0600); give it the mode of the file it replaces.
        os.chmod(temporary, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
