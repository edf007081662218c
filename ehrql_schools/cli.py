"""The `ehrql-schools` command line, which the `ehrql` action image runs.

    ehrql-schools generate-dataset DEFINITION [--output FILE] [--dsn DSN] [-- --name=value ...]
    ehrql-schools generate-measures DEFINITION [--output FILE] [--dsn DSN] [-- --name=value ...]
    ehrql-schools dump-dataset-sql DEFINITION [--dialect duckdb|postgresql]
    ehrql-schools debug DEFINITION [--limit N]
    ehrql-schools assure TEST_FILE

Mistakes (a missing file, an error in the definition, a table missing from the database, an
output that cannot be written) end with a short message and exit code 1; set OSSCHOOLS_DEBUG=1
for the traceback.
"""

from __future__ import annotations

import re
import sys
import traceback
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ehrql_schools import dsn as dsn_module
from ehrql_schools import outputs
from ehrql_schools.command_line import DEBUG_VARIABLE, debugging, one_line, run_command_line
from ehrql_schools.engines.sql import DatabaseError
from ehrql_schools.query_model import nodes

if TYPE_CHECKING:
    import pandas as pd

    from ehrql_schools.loader import Kind
    from ehrql_schools.measures import MeasuresModel

PARAMETER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
DIALECT_URLS = {
    "duckdb": "duckdb:///:memory:",
    "postgresql": "postgresql+psycopg://localhost/osschools",
}
COMMAND_SETTINGS = {"help_option_names": ["-h", "--help"]}


@click.group(context_settings=COMMAND_SETTINGS)
@click.version_option(package_name="osschools", prog_name="ehrql-schools")
def cli() -> None:
    """Generate datasets from dataset definitions over school data."""


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `ehrql-schools` console script: an unexpected error becomes one line
    on stderr and exit code 1 (the traceback with OSSCHOOLS_DEBUG=1), as for `osschools`."""
    run_command_line(cli, "ehrql-schools", argv)


# Options shared by commands

definition_argument = click.argument(
    "definition", type=click.Path(path_type=Path, dir_okay=False), metavar="DEFINITION"
)
parameters_argument = click.argument("parameters", nargs=-1, type=click.UNPROCESSED)
dsn_option = click.option(
    "--dsn",
    help=(
        "Database: a SQLAlchemy URL (duckdb:///FILE, postgresql://USER:PASSWORD@HOST/DB) or a "
        ".duckdb file. Default: $OSSCHOOLS_DSN, else the local synthetic trust "
        "($OSSCHOOLS_DUMMY_DATA or .osschools/synthetic_trust.duckdb, generated on first use)."
    ),
)
isolated_option = click.option(
    "--isolated/--no-isolated",
    default=None,
    help="Run the definition in a sandboxed subprocess. Default: isolated unless on the local "
    "synthetic trust.",
)


def parse_parameters(arguments: Sequence[str]) -> dict[str, str]:
    """The `--name=value` (or `--name value`) arguments given after `--`."""
    parameters: dict[str, str] = {}
    remaining = list(arguments)
    while remaining:
        argument = remaining.pop(0)
        if not argument.startswith("--"):
            raise click.ClickException(
                f"parameter {argument!r} is not of the form --name=value: give parameters "
                "after `--`, e.g. `-- --year=2024`"
            )
        name, equals, value = argument[2:].partition("=")
        if not equals:
            if not remaining or remaining[0].startswith("--"):
                raise click.ClickException(
                    f"parameter --{name} has no value: give it as --{name}=VALUE"
                )
            value = remaining.pop(0)
        if not PARAMETER_NAME.match(name):
            raise click.ClickException(
                f"parameter name {name!r} is not valid: use letters, digits, _ and -"
            )
        if name in parameters:
            raise click.ClickException(f"parameter --{name} is given twice")
        parameters[name] = value
    return parameters


def load_definition(
    definition: Path,
    parameters: dict[str, str],
    isolated: bool,
    database: dsn_module.Database | None = None,
    kind: Kind = "dataset",
) -> Any:
    """The compiled dataset of the definition file (the measures model of a measures
    definition, with `kind="measures"`); its mistakes become ClickExceptions.

    Isolated loading may fall back to running with network only for a local DuckDB database
    (where there is no real data to reach), never for PostgreSQL.
    """
    from ehrql_schools.isolation import IsolationError
    from ehrql_schools.loader import label
    from ehrql_schools.loader import load_definition as load
    from ehrql_schools.query_language import QueryError

    if not definition.is_file():
        raise click.ClickException(f"no {label(kind)} at {definition}: check the path")
    fallback = database is None or database.dialect == "duckdb"
    try:
        return load(
            kind, definition, parameters, isolated=isolated, allow_network_fallback=fallback
        )
    except QueryError as error:
        raise click.ClickException(str(error)) from None
    except IsolationError as error:
        raise click.ClickException(f"{definition}: {error}") from None
    except Exception as error:
        if debugging():
            raise
        raise click.ClickException(describe_definition_error(definition, error)) from None


def describe_definition_error(definition: Path, error: BaseException) -> str:
    """`FILE, line N: Type: message` at the definition's line that raised the error."""
    if isinstance(error, SyntaxError) and error.filename:
        return f"{error.filename}, line {error.lineno}: SyntaxError: {error.msg}"
    target = definition.resolve()
    lines = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if Path(frame.filename).resolve() == target
    ]
    where = f"{lines[-1].filename}, line {lines[-1].lineno}" if lines else str(definition)
    return f"{where}: {one_line(error)}{'' if lines else f' (set {DEBUG_VARIABLE}=1 for details)'}"


def resolve_database(dsn: str | None) -> dsn_module.Database:
    try:
        return dsn_module.resolve(dsn)
    except dsn_module.DSNError as error:
        raise click.ClickException(str(error)) from None


def prepare_database(database: dsn_module.Database) -> None:
    try:
        database.prepare()
    except dsn_module.DSNError as error:
        raise click.ClickException(str(error)) from None


def database_error(database: dsn_module.Database, error: DatabaseError) -> click.ClickException:
    message = database.redact(str(error))
    if database.dialect == "duckdb":
        path = database.url.database
        if database.synthetic:
            hint = f"the synthetic trust may be out of date: delete {path} to regenerate it"
        else:
            hint = (
                f"if {path} is synthetic data, regenerate it: "
                f"osschools dummy-data generate --output {path}"
            )
        message = f"{message}\n{hint}"
    else:
        message = f"{message} (on {database.display})"
    return click.ClickException(message)


def columns_of(dataset: nodes.Dataset) -> tuple[list[str], list[type]]:
    names = [dataset.entity_key, *(name for name, _ in dataset.variables)]
    types = [int, *(series.type for _, series in dataset.variables)]
    return names, types


# generate-dataset


@cli.command("generate-dataset", context_settings=COMMAND_SETTINGS)
@definition_argument
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    help=f"File to write, by extension: {outputs.FORMATS_TEXT}. Default: CSV on stdout. "
    "A folder for a dataset with event-level tables.",
)
@click.option(
    "--format",
    "format_",
    type=click.Choice(outputs.FORMAT_NAMES),
    help="Format of the files in an --output folder (event-level tables).  [default: csv]",
)
@dsn_option
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    help="Rows fetched and written at a time.",
)
@isolated_option
@parameters_argument
def generate_dataset(
    definition: Path,
    output: Path | None,
    format_: str | None,
    dsn: str | None,
    batch_size: int,
    isolated: bool | None,
    parameters: tuple[str, ...],
) -> None:
    """Run the dataset DEFINITION and write one row per pupil (or teacher).

    Parameters for the definition's get_parameter() go after `--`:
    `ehrql-schools generate-dataset study.py -o out/dataset.csv -- --year=2024`
    """
    values = parse_parameters(parameters)
    database = resolve_database(dsn)
    dataset = load_definition(definition, values, default_isolation(isolated, database), database)
    event_tables = tuple(getattr(dataset, "event_tables", ()) or ())
    check_output(output, format_, bool(event_tables))
    prepare_database(database)
    engine = database.engine()
    try:
        if event_tables:
            assert output is not None
            counts = write_event_tables(engine, dataset, event_tables, output, format_, batch_size)
            summary = ", ".join(f"{name}: {count:,} rows" for name, count in counts.items())
            click.echo(f"Wrote {output}/ ({summary})", err=True)
            return
        names, types = columns_of(dataset)
        batches = engine.get_results(dataset, batch_size)
        if output is None:
            sys.stdout.flush()
            outputs.write_csv_stream(sys.stdout.buffer, names, types, batches)
            return
        count = outputs.write_rows(output, names, types, batches)
    except DatabaseError as error:
        raise database_error(database, error) from None
    except outputs.OutputError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Wrote {count:,} rows to {output}", err=True)


def default_isolation(isolated: bool | None, database: dsn_module.Database) -> bool:
    """Isolated unless told otherwise, or running on the local synthetic trust."""
    return (not database.synthetic) if isolated is None else isolated


def check_output(output: Path | None, format_: str | None, has_event_tables: bool) -> None:
    if has_event_tables:
        if output is None or outputs.format_of(output) is not None:
            raise click.ClickException(
                "this dataset has event-level tables: --output must be a folder (no extension); "
                "--format sets the files' format"
            )
        return
    if format_ is not None:
        raise click.ClickException(
            "--format is for a dataset with event-level tables; the --output file's extension "
            "gives its format"
        )
    if output is not None and outputs.format_of(output) is None:
        raise click.ClickException(f"--output must end {outputs.FORMATS_TEXT} (got {output})")


def write_event_tables(
    engine: Any,
    dataset: nodes.Dataset,
    event_tables: tuple[tuple[str, Any], ...],
    folder: Path,
    format_: str | None,
    batch_size: int,
) -> dict[str, int]:
    """Write `dataset.<format>` and `<name>.<format>` for each event-level table."""
    if not hasattr(engine, "get_event_table_results"):
        raise click.ClickException(
            f"event-level tables need the engine's get_event_table_results(), which "
            f"{type(engine).__name__} does not have yet"
        )
    names, types = columns_of(dataset)
    tables = [("dataset", names, types, engine.get_results(dataset, batch_size))]
    for name, node in event_tables:
        columns = event_table_columns(dataset, name, node)
        batches = LazyBatches(lambda n=name: engine.get_event_table_results(dataset, n, batch_size))
        tables.append((name, [c for c, _ in columns], [t for _, t in columns], batches))
    return outputs.write_table_files(folder, format_ or "csv", tables)


def event_table_columns(dataset: nodes.Dataset, name: str, node: Any) -> list[tuple[str, type]]:
    """(name, type) of an event-level table's columns: the entity id, then its own."""
    columns = getattr(node, "output_columns", None)
    if not columns:
        raise click.ClickException(
            f"event-level tables need a query model node with output_columns: table {name} has none"
        )
    return list(columns)


class LazyBatches:
    """Batches of a query that starts only when the first batch is asked for."""

    def __init__(self, start: Any) -> None:
        self.start = start

    def __iter__(self) -> Iterator[list[tuple]]:
        return iter(self.start())


# generate-measures


@cli.command("generate-measures", context_settings=COMMAND_SETTINGS)
@definition_argument
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    help=f"File to write, by extension: {outputs.FORMATS_TEXT}. Default: CSV on stdout.",
)
@dsn_option
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    help="Rows fetched from the database at a time.",
)
@isolated_option
@parameters_argument
def generate_measures(
    definition: Path,
    output: Path | None,
    dsn: str | None,
    batch_size: int,
    isolated: bool | None,
    parameters: tuple[str, ...],
) -> None:
    """Run the measures DEFINITION and write one row per measure, interval and group, with
    disclosure control applied as the definition configures it (on by default).

    Parameters for the definition's get_parameter() go after `--`:
    `ehrql-schools generate-measures measures.py -o out/measures.csv -- --year=2024`
    """
    from ehrql_schools.measures import compute_measures, disclosure_enabled

    values = parse_parameters(parameters)
    database = resolve_database(dsn)
    isolate = default_isolation(isolated, database)
    model = load_definition(definition, values, isolate, database, kind="measures")
    check_output(output, None, False)
    if not disclosure_enabled(model):
        click.echo(
            f"WARNING: {definition} turns disclosure control off "
            "(configure_disclosure_control(enabled=False)): the counts are neither redacted nor "
            "rounded, and the output must not be released as it is.",
            err=True,
        )
    prepare_database(database)
    try:
        frame = compute_measures(model, database.engine(), batch_size)
    except DatabaseError as error:
        raise database_error(database, error) from None
    names, types, rows = measures_table(model, frame)
    try:
        if output is None:
            sys.stdout.flush()
            outputs.write_csv_stream(sys.stdout.buffer, names, types, [rows])
        else:
            outputs.write_rows(output, names, types, [rows])
    except outputs.OutputError as error:
        raise click.ClickException(str(error)) from None
    click.echo(measures_summary(model, frame, output), err=True)


def measures_table(
    model: MeasuresModel, frame: pd.DataFrame
) -> tuple[list[str], list[type], list[tuple[Any, ...]]]:
    """Column names, types and rows of the measures output, typed for `outputs`: the interval
    dates as dates, counts as integers, each group column as its series' type (as strings
    where measures group by values of different types under one name)."""
    import datetime

    from ehrql_schools.measures import RECORD_COLUMN, frame_rows

    group_types: dict[str, set[type]] = {name: set() for name in model.group_columns}
    for query in model.queries:
        for columns in query.measures:
            for name, index in columns.group_by:
                group_types[name].add(query.dataset.variables[index][1].type)
    fixed: dict[str, type] = {"measure": str, "interval_start": datetime.date}
    fixed |= {"interval_end": datetime.date, "ratio": float, RECORD_COLUMN: str}
    names = [str(name) for name in frame.columns]
    types: list[type] = []
    for name in names:
        if name in fixed:
            types.append(fixed[name])
        elif name in group_types:
            found = group_types[name] - {nodes.NoneType}
            types.append(found.pop() if len(found) == 1 else str)
        else:
            types.append(int)  # numerator, denominator (or their _midpoint6 forms)
    dates = [i for i, type_ in enumerate(types) if type_ is datetime.date]
    strings = [i for i, name in enumerate(names) if name in group_types and types[i] is str]
    rows = []
    for row in frame_rows(frame):
        values = list(row)
        for i in dates:
            values[i] = None if values[i] is None else datetime.date.fromisoformat(values[i])
        for i in strings:
            values[i] = None if values[i] is None else str(values[i])
        rows.append(tuple(values))
    return names, types, rows


def measures_summary(model: MeasuresModel, frame: pd.DataFrame, output: Path | None) -> str:
    """One line: what was written, and what disclosure control did to it."""
    from ehrql_schools.measures import disclosure_enabled, disclosure_summary

    where = "stdout" if output is None else str(output)
    intervals = len({(query.interval_start, query.interval_end) for query in model.queries})
    text = (
        f"Wrote {len(frame):,} rows to {where} ({len(model.measure_names)} measures, "
        f"{intervals} intervals); "
    )
    if not disclosure_enabled(model):
        return text + "disclosure control DISABLED by the definition: nothing redacted or rounded"
    counts = disclosure_summary(frame)
    profile = model.disclosure_control.get("profile", "opensafely")
    return text + (
        f"disclosure control ({profile}): {counts['redacted']:,} count cells redacted, "
        f"{counts['rounded']:,} rounded, {counts['ratios_redacted']:,} ratios redacted"
    )


# dump-dataset-sql


@cli.command("dump-dataset-sql", context_settings=COMMAND_SETTINGS)
@definition_argument
@click.option(
    "--dialect",
    type=click.Choice(sorted(DIALECT_URLS)),
    default="duckdb",
    show_default=True,
    help="SQL dialect of the database it would run on.",
)
@isolated_option
@parameters_argument
def dump_dataset_sql(
    definition: Path, dialect: str, isolated: bool | None, parameters: tuple[str, ...]
) -> None:
    """Print the SQL query the dataset DEFINITION compiles to (no database needed)."""
    from ehrql_schools.engines.duckdb import DuckDBEngine
    from ehrql_schools.engines.postgresql import PostgreSQLEngine

    values = parse_parameters(parameters)
    dataset = load_definition(definition, values, bool(isolated))
    engine_class = PostgreSQLEngine if dialect == "postgresql" else DuckDBEngine
    engine = engine_class(DIALECT_URLS[dialect])
    click.echo(f"{engine.get_sql(dataset).rstrip()};")
    for name, _ in getattr(dataset, "event_tables", ()):
        click.echo(f"\n-- event-level table {name}")
        click.echo(f"{engine.get_event_table_sql(dataset, name).rstrip()};")


# debug


@cli.command("debug", context_settings=COMMAND_SETTINGS)
@definition_argument
@dsn_option
@click.option(
    "--limit", type=click.IntRange(min=0), default=10, show_default=True, help="Rows to show."
)
@isolated_option
@parameters_argument
def debug(
    definition: Path,
    dsn: str | None,
    limit: int,
    isolated: bool | None,
    parameters: tuple[str, ...],
) -> None:
    """Run the dataset DEFINITION on synthetic data and show its first rows and, for each
    column, its type, share of nulls and range or commonest values."""
    values = parse_parameters(parameters)
    database = resolve_database(dsn)
    if database.dialect != "duckdb":
        raise click.ClickException("debug shows rows; run it on the synthetic data only")
    dataset = load_definition(definition, values, default_isolation(isolated, database), database)
    prepare_database(database)
    try:
        describe_dataset(dataset, database.engine(), f"{definition} on {database.display}", limit)
    except DatabaseError as error:
        raise database_error(database, error) from None


def describe_dataset(dataset: nodes.Dataset, engine: Any, title: str, limit: int) -> None:
    """Print the dataset's first rows, its size against the candidates and its columns."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    names, types = columns_of(dataset)
    rows = [row for batch in engine.get_results(dataset) for row in batch]
    candidates = sum(len(batch) for batch in engine.get_results(candidates_of(dataset)))
    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = 200
    entity = dataset.entity
    share = f" ({len(rows) / candidates:.1%})" if candidates else ""
    console.print(title, markup=False)
    console.print(
        f"population: {len(rows):,} {entity}s, of {candidates:,} {entity}s in the tables the "
        f"population uses{share}"
    )
    shown = Table(title=f"first {min(limit, len(rows)):,} of {len(rows):,} rows")
    for name in names:
        shown.add_column(name, overflow="fold")
    for row in rows[:limit]:
        shown.add_row(*(Text(show_value(value)) for value in row))
    console.print(shown)
    summary = Table(title="columns")
    for heading in ("column", "type", "null", "range or commonest values"):
        summary.add_column(heading)
    for index, (name, type_) in enumerate(zip(names, types, strict=True)):
        values = [row[index] for row in rows]
        nulls = sum(value is None for value in values)
        null_share = f"{nulls / len(values):.1%}" if values else "-"
        description = Text(describe_values(values, type_, index == 0))
        summary.add_row(Text(name), nodes.type_name(type_), null_share, description)
    console.print(summary)


def candidates_of(dataset: nodes.Dataset) -> nodes.Dataset:
    """A dataset whose rows are all the candidate entities: its population is always true."""
    population = dataset.population
    always = nodes.Or(nodes.Or(population, nodes.Not(population)), nodes.IsNull(population))
    return nodes.Dataset(dataset.entity, always, ())


def describe_values(values: list[Any], type_: type, is_id: bool = False) -> str:
    present = [value for value in values if value is not None]
    if not present:
        return ""
    if not is_id and (type_ in (str, bool) or len(set(present)) <= 5):
        common = Counter(present).most_common(3)
        text = ", ".join(
            f"{show_value(value)} {count / len(present):.0%}" for value, count in common
        )
        return f"{text} ({len(set(present)):,} distinct)"
    text = f"{show_value(min(present))} to {show_value(max(present))}"
    if type_ in (int, float) and not is_id:
        text += f", mean {sum(present) / len(present):.4g}"
    return text


def show_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, float):
        return f"{value:.6g}"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


# assure


@cli.command("assure", context_settings=COMMAND_SETTINGS)
@click.argument("test_file", type=click.Path(path_type=Path, dir_okay=False), metavar="TEST_FILE")
@parameters_argument
def assure(test_file: Path, parameters: tuple[str, ...]) -> None:
    """Check a dataset against hand-written test data in TEST_FILE (see
    ehrql_schools.assurance): report each pupil whose row is not what was expected."""
    from ehrql_schools.assurance import AssuranceError, run_test_file
    from ehrql_schools.query_language import QueryError

    values = parse_parameters(parameters)
    if not test_file.is_file():
        raise click.ClickException(f"no test file at {test_file}: check the path")
    try:
        result = run_test_file(test_file, values)
    except (AssuranceError, QueryError) as error:
        raise click.ClickException(str(error)) from None
    except Exception as error:
        if debugging():
            raise
        raise click.ClickException(describe_definition_error(test_file, error)) from None
    for failure in result.failures:
        click.echo(failure)
    click.echo(result.summary())
    if not result.ok:
        sys.exit(1)
