"""`sqlrunner`: run one read-only SQL query from a file and write its result, as the schools
pilot does today.

    sqlrunner QUERY.sql --output output/results.csv [--dsn DSN] [--batch-size N]

The database is `--dsn`, else $OSSCHOOLS_DSN, else the local synthetic trust (see
`ehrql_schools.dsn`). The file must hold exactly one query (`SELECT`, `WITH ... SELECT`, `VALUES`,
`TABLE`; DuckDB's `FROM ...` too); anything else is refused before the database is touched. The
database enforces it as well: DuckDB files are opened read-only with external access (reading
other files, extensions) switched off, and on PostgreSQL the query runs in a transaction after
`SET TRANSACTION READ ONLY`, through a server-side cursor (PostgreSQL allows only queries there).

Rows are fetched `--batch-size` at a time and written as they come (CSV, or by the output's
extension .csv.gz, .arrow, .parquet); the file appears only once complete. A database error is
reported as `QUERY.sql, line N: message`, the line taken from the database's error where it
gives one. The password of a DSN is never printed.
"""

from __future__ import annotations

import datetime
import decimal
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from ehrql_schools import dsn as dsn_module
from ehrql_schools import outputs
from ehrql_schools.command_line import run_command_line

READ_ONLY_KEYWORDS = {
    "duckdb": ("SELECT", "WITH", "VALUES", "TABLE", "FROM"),
    "postgresql": ("SELECT", "WITH", "VALUES", "TABLE"),
}
DUCKDB_LINE = re.compile(r"\bLINE (\d+):")
WORD = re.compile(r"[A-Za-z_]+")
DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
COMMAND_SETTINGS = {"help_option_names": ["-h", "--help"]}
#: Database type names (DuckDB's and PostgreSQL's, lower case, without arguments) by the Python
#: type their values are written as; any other type is written as text.
COLUMN_TYPES: dict[type, frozenset[str]] = {
    bool: frozenset({"boolean", "bool"}),
    int: frozenset(
        [
            "tinyint",
            "smallint",
            "integer",
            "int",
            "bigint",
            "hugeint",
            "utinyint",
            "usmallint",
            "uinteger",
            "ubigint",
            "uhugeint",
            "int2",
            "int4",
            "int8",
            "oid",
        ]
    ),
    float: frozenset({"float", "double", "real", "float4", "float8", "double precision"})
    | {"decimal", "numeric"},
    datetime.date: frozenset({"date"}),
    datetime.time: frozenset({"time", "time without time zone"}),
}


class QueryFileError(Exception):
    """The SQL file cannot be run; the message names the file (and line) and what to do."""


@dataclass(frozen=True)
class Statement:
    """One statement of a SQL file: its text (no trailing `;`) and where it starts."""

    text: str
    line: int
    first_word: str


# Reading the file


def split_statements(sql: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the `;`-separated pieces of `sql`, ignoring semicolons inside
    quotes, quoted identifiers, comments and PostgreSQL dollar quotes."""
    pieces: list[tuple[int, int]] = []
    start = index = 0
    length = len(sql)
    while index < length:
        char = sql[index]
        if char == "-" and sql.startswith("--", index):
            newline = sql.find("\n", index)
            index = length if newline < 0 else newline + 1
        elif char == "/" and sql.startswith("/*", index):
            index = _end_of_block_comment(sql, index)
        elif char in "'\"":
            index = _end_of_quoted(sql, index, char)
        elif char == "$" and (match := DOLLAR_TAG.match(sql, index)):
            if index and (sql[index - 1].isalnum() or sql[index - 1] == "_"):
                index += 1  # a $ inside an identifier (PostgreSQL allows it), not a quote
                continue
            end = sql.find(match.group(0), match.end())
            index = length if end < 0 else end + len(match.group(0))
        elif char == ";":
            pieces.append((start, index))
            index += 1
            start = index
        else:
            index += 1
    pieces.append((start, length))
    return pieces


def _end_of_block_comment(sql: str, index: int) -> int:
    depth, index = 1, index + 2
    while index < len(sql) and depth:
        if sql.startswith("/*", index):
            depth, index = depth + 1, index + 2
        elif sql.startswith("*/", index):
            depth, index = depth - 1, index + 2
        else:
            index += 1
    return index


def _end_of_quoted(sql: str, index: int, quote: str) -> int:
    index += 1
    while index < len(sql):
        if sql[index] == quote:
            if sql.startswith(quote * 2, index):
                index += 2  # a doubled quote stands for itself
                continue
            return index + 1
        index += 1
    return index


def strip_comments(sql: str) -> str:
    """`sql` with its comments blanked out (spaces, newlines kept) so that offsets and lines stay
    those of `sql`; quoted text is kept."""
    result: list[str] = []
    index = 0
    while index < len(sql):
        end = index
        if sql.startswith("--", index):
            newline = sql.find("\n", index)
            end = len(sql) if newline < 0 else newline
        elif sql.startswith("/*", index):
            end = _end_of_block_comment(sql, index)
        if end > index:
            result.append(re.sub(r"[^\n]", " ", sql[index:end]))
            index = end
        elif sql[index] in "'\"":
            end = _end_of_quoted(sql, index, sql[index])
            result.append(sql[index:end])
            index = end
        else:
            result.append(sql[index])
            index += 1
    return "".join(result)


def read_statement(path: Path, dialect: str) -> Statement:
    """The single read-only statement in the file at `path`, or QueryFileError saying why not."""
    if path.suffix.lower() != ".sql":
        raise QueryFileError(f"{path} is not a .sql file: sqlrunner runs one SQL file")
    try:
        sql = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise QueryFileError(f"no SQL file at {path}: check the path") from None
    except UnicodeDecodeError:
        raise QueryFileError(f"{path} is not UTF-8 text: save it as UTF-8") from None
    except OSError as error:
        raise QueryFileError(f"cannot read {path}: {error.strerror}") from None
    statements = []
    for start, end in split_statements(sql):
        code = strip_comments(sql[start:end])
        if code.strip():
            offset = start + len(code) - len(code.lstrip())
            statements.append((start, end, line_at(sql, offset), code))
    if not statements:
        raise QueryFileError(f"{path} has no SQL statement: write one SELECT query in it")
    if len(statements) > 1:
        raise QueryFileError(
            f"{path}, line {statements[1][2]}: a second statement; sqlrunner runs exactly one "
            "query per file: remove the others or give each its own action"
        )
    start, end, line, code = statements[0]
    word = WORD.match(code.lstrip().lstrip("(").lstrip())
    first_word = word.group(0).upper() if word else code.strip()[:20]
    allowed = READ_ONLY_KEYWORDS[dialect]
    if first_word not in allowed:
        raise QueryFileError(
            f"{path}, line {line}: sqlrunner runs one read-only query ({', '.join(allowed)}), "
            f"not {first_word}"
        )
    # Keep the text before the statement (blank lines, comments) so that line numbers in the
    # database's errors are the file's line numbers.
    return Statement(text=sql[:end], line=line, first_word=first_word)


def line_at(text: str, offset: int) -> int:
    """The 1-based line number of a character offset."""
    return text.count("\n", 0, max(offset, 0)) + 1


# Column types


def python_type(type_name: str) -> type:
    """The Python type a column of this database type is written as: the types the output
    writers know, and text for everything else (timestamps, intervals, lists, JSON, ...)."""
    name = type_name.lower().split("(")[0].strip()
    for python, names in COLUMN_TYPES.items():
        if name in names:
            return python
    return str


def convert_rows(rows: Sequence[Sequence[Any]], types: Sequence[type]) -> list[tuple[Any, ...]]:
    """Rows with each value made the Python type its column is written as."""
    converters = [_converter(type_) for type_ in types]
    if all(converter is None for converter in converters):
        return [tuple(row) for row in rows]
    return [
        tuple(
            value if value is None or convert is None else convert(value)
            for value, convert in zip(row, converters, strict=True)
        )
        for row in rows
    ]


def _converter(type_: type) -> Any:
    if type_ is str:
        return _text
    if type_ is float:
        return float
    if type_ is int:
        return int
    return None


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat(sep=" ") if isinstance(value, datetime.datetime) else str(value)
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)


# Running the query


@dataclass
class Result:
    columns: list[str]
    types: list[type]
    batches: Iterator[list[tuple[Any, ...]]]


class DatabaseFailure(Exception):
    """The database refused the query; `position` is a 1-based character offset or None."""

    def __init__(self, message: str, line: int | None = None, position: int | None = None):
        super().__init__(message)
        self.line = line
        self.position = position


def run_duckdb(database: dsn_module.Database, sql: str, batch_size: int) -> Result:
    import duckdb

    config = {"enable_external_access": False, "lock_configuration": True}
    try:
        connection = duckdb.connect(str(database.url.database), read_only=True, config=config)
    except duckdb.Error as error:
        raise DatabaseFailure(f"cannot open {database.display}: {error}") from None
    try:
        cursor = connection.execute(sql)
        description = cursor.description or []
    except duckdb.Error as error:
        connection.close()
        message = str(error)
        match = DUCKDB_LINE.search(message)
        # The message quotes the line with a caret under it: keep only the explanation.
        summary = message.split("\n\nLINE ")[0].strip()
        raise DatabaseFailure(summary, line=int(match.group(1)) if match else None) from None
    columns = [column[0] for column in description]
    types = [python_type(str(column[1])) for column in description]

    def batches() -> Iterator[list[tuple[Any, ...]]]:
        try:
            while rows := cursor.fetchmany(batch_size):
                yield convert_rows(rows, types)
        except duckdb.Error as error:
            raise DatabaseFailure(str(error)) from None
        finally:
            connection.close()

    return Result(columns, types, batches())


#: The query runs through a server-side cursor: rows come `--batch-size` at a time, and
#: PostgreSQL accepts only a query there (no data-modifying statements, even inside WITH).
DECLARE_CURSOR = "DECLARE sqlrunner NO SCROLL CURSOR FOR "


def run_postgresql(database: dsn_module.Database, sql: str, batch_size: int) -> Result:
    import psycopg
    import sqlalchemy as sa

    engine = sa.create_engine(database.url)
    args, kwargs = engine.dialect.create_connect_args(database.url)
    engine.dispose()
    try:
        connection = psycopg.connect(*args, **kwargs)
    except psycopg.Error as error:
        message = " ".join(str(error).split())
        raise DatabaseFailure(f"cannot connect to {database.display}: {message}") from None
    fetch = f"FETCH FORWARD {int(batch_size)} FROM sqlrunner"
    try:
        connection.execute("SET TRANSACTION READ ONLY")
        connection.execute((DECLARE_CURSOR + sql).encode("utf-8"))
        cursor = connection.execute(fetch)
        first = cursor.fetchall()
        description = cursor.description or []
    except psycopg.Error as error:
        connection.close()
        diag = getattr(error, "diag", None)
        position = getattr(diag, "statement_position", None) if diag else None
        primary = getattr(diag, "message_primary", None) if diag else None
        raise DatabaseFailure(
            primary or str(error).splitlines()[0],
            position=int(position) - len(DECLARE_CURSOR) if position else None,
        ) from None
    columns = [column.name for column in description]
    types = [
        python_type(_postgres_type_name(connection, column.type_code)) for column in description
    ]

    def batches() -> Iterator[list[tuple[Any, ...]]]:
        try:
            rows = first
            while rows:
                yield convert_rows(rows, types)
                rows = connection.execute(fetch).fetchall()
            connection.rollback()
        except psycopg.Error as error:
            raise DatabaseFailure(str(error).splitlines()[0]) from None
        finally:
            connection.close()

    return Result(columns, types, batches())


def _postgres_type_name(connection: Any, oid: int) -> str:
    info = connection.adapters.types.get(oid)
    return info.name if info is not None else "text"


def check_columns(path: Path, columns: Sequence[str]) -> None:
    if not columns:
        raise QueryFileError(f"{path}: the query returns no columns: SELECT at least one")
    seen: set[str] = set()
    for column in columns:
        if column in seen:
            raise QueryFileError(
                f"{path}: the result has two columns named {column!r}: name them apart with AS"
            )
        seen.add(column)


def run_query(path: Path, output: Path, database: dsn_module.Database, batch_size: int) -> int:
    """Run the query in the file at `path` on `database` and write the rows to `output`; the
    number of rows. Mistakes raise QueryFileError or DatabaseFailure."""
    statement = read_statement(path, database.dialect)
    run = run_postgresql if database.dialect == "postgresql" else run_duckdb
    result = run(database, statement.text, batch_size)
    try:
        check_columns(path, result.columns)
    except QueryFileError:
        result.batches.close()  # type: ignore[attr-defined]
        raise
    return outputs.write_rows(output, result.columns, result.types, result.batches)


def describe_failure(path: Path, sql: str, failure: DatabaseFailure) -> str:
    """`FILE, line N: message` with the line from the database's error where it gave one."""
    line = failure.line
    if line is None and failure.position is not None:
        line = line_at(sql, failure.position - 1)
    where = f"{path}, line {line}" if line is not None else str(path)
    return f"{where}: {' '.join(str(failure).split())}"


# The command line


@click.command(context_settings=COMMAND_SETTINGS)
@click.version_option(package_name="osschools", prog_name="sqlrunner")
@click.argument("query", type=click.Path(path_type=Path, dir_okay=False), metavar="QUERY.sql")
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help=f"File to write the result to, by extension: {outputs.FORMATS_TEXT}.",
)
@click.option(
    "--dsn",
    help=(
        "Database: a SQLAlchemy URL (duckdb:///FILE, postgresql://USER:PASSWORD@HOST/DB) or a "
        ".duckdb file. Default: $OSSCHOOLS_DSN, else the local synthetic trust "
        "($OSSCHOOLS_DUMMY_DATA or .osschools/synthetic_trust.duckdb, generated on first use)."
    ),
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    help="Rows fetched and written at a time.",
)
def cli(query: Path, output: Path, dsn: str | None, batch_size: int) -> None:
    """Run the one read-only SQL query in QUERY.sql and write its rows to --output."""
    if outputs.format_of(output) is None:
        raise click.ClickException(f"--output must end {outputs.FORMATS_TEXT} (got {output})")
    try:
        database = dsn_module.resolve(dsn)
        read_statement(query, database.dialect)  # refuse a bad file before touching the database
        database.prepare()
    except (dsn_module.DSNError, QueryFileError) as error:
        raise click.ClickException(str(error)) from None
    try:
        count = run_query(query, output, database, batch_size)
    except QueryFileError as error:
        raise click.ClickException(str(error)) from None
    except DatabaseFailure as error:
        sql = query.read_text(encoding="utf-8")
        message = describe_failure(query, sql, error)
        raise click.ClickException(f"{database.redact(message)} (on {database.display})") from None
    except outputs.OutputError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Wrote {count:,} rows to {output}", err=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `sqlrunner` console script."""
    run_command_line(cli, "sqlrunner", argv)


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
