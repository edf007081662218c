"""`osschools dummy-data`: build a synthetic trust."""

from __future__ import annotations

import time
from pathlib import Path

import click
from pydantic import ValidationError
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from dummy_data.settings import PRESETS, preset
from dummy_data.writers import OutputError, open_writer

DEFAULT_OUTPUT = Path("output") / "synthetic_trust.duckdb"


@click.group("dummy-data")
def dummy_data_group() -> None:
    """Synthetic trust data for developing studies without real data."""


@dummy_data_group.command("generate")
@click.option(
    "--output",
    "-o",
    "target",
    default=str(DEFAULT_OUTPUT),
    show_default=True,
    help="A .duckdb file, a folder (one Parquet file per table) or a postgresql:// URL.",
)
@click.option(
    "--scale",
    type=click.Choice(sorted(PRESETS)),
    default="small",
    show_default=True,
    help="Size preset: small builds in seconds; niot is the NIoT's four founding trusts.",
)
@click.option(
    "--seed", type=int, help="Random seed: the same seed gives identical data.  [default: 0]"
)
@click.option("--trusts", type=int, help="Number of trusts (overrides the preset).")
@click.option("--schools", type=int, help="Number of schools in all (overrides the preset).")
@click.option("--years", type=int, help="Academic years of data (overrides the preset).")
@click.option(
    "--first-year",
    "first_academic_year",
    type=int,
    help="First academic year, by its start year (2022 means 2022/23).",
)
@click.option(
    "--replace",
    is_flag=True,
    help="For a PostgreSQL URL: replace the schema's tables if they exist.",
)
def generate(target: str, scale: str, replace: bool, **overrides: int | None) -> None:
    """Generate a synthetic multi-academy trust that follows schema/, calibrated to national figures
    and with known planted effects (recorded in the dummy_data_settings table)."""
    from dummy_data.generate import generate_trust
    from schema import load_schema

    try:
        settings = preset(scale, **overrides)
    except ValidationError as error:
        raise click.UsageError(_settings_problems(error)) from None
    console = Console(stderr=True)
    started = time.perf_counter()
    try:
        writer = open_writer(target, load_schema(), replace=replace)
    except OutputError as error:
        raise click.ClickException(str(error)) from None
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.fields[rows]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        stage = progress.add_task("starting", rows="", total=None)
        tables: dict[str, int] = {}

        def on_rows(table: str, rows: int) -> None:
            if table not in tables:
                tables[table] = progress.add_task(f"  {table}", rows="", total=None)
            progress.update(tables[table], rows=f"{rows:,} rows")

        try:
            rows = generate_trust(
                settings,
                writer,
                on_stage=lambda name: progress.update(stage, description=name),
                on_rows=on_rows,
            )
        except OutputError as error:
            raise click.ClickException(str(error)) from None
        progress.update(stage, description="done")
    seconds = time.perf_counter() - started
    console.print(_summary(rows, target, seconds))


def _settings_problems(error: ValidationError) -> str:
    lines = [
        f"--{'-'.join(map(str, problem['loc'])).replace('_', '-')}: {problem['msg']}"
        for problem in error.errors()
    ]
    return "invalid settings:\n  " + "\n  ".join(lines)


def _summary(rows: dict[str, int], target: str, seconds: float) -> Table:
    table = Table(title=f"Synthetic trust written to {target} in {seconds:.1f} s")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in rows.items():
        if not name.startswith("dummy_data_"):
            table.add_row(name, f"{count:,}")
    return table
