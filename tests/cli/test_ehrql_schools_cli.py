import datetime
import gzip
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.ipc as pa_ipc
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from ehrql_schools import dsn as dsn_module
from ehrql_schools import loader
from ehrql_schools.cli import cli, main, parse_parameters
from ehrql_schools.engines.duckdb import DuckDBEngine
from ehrql_schools.engines.sql import DatabaseError

DEFINITIONS = Path(__file__).parent / "definitions"


PUPILS = DEFINITIONS / "pupils.py"
PUPIL_TYPES = {
    "pupil_id": pa.int64(),
    "sex": pa.string(),
    "date_of_birth": pa.date32(),
    "enrolments": pa.int64(),
    "half_birth_month": pa.float64(),
    "born_in_autumn": pa.bool_(),
    "first_maths_lesson": pa.time64("us"),
}


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(arg) for arg in args])


def expected_rows(trust: Path, definition: Path = PUPILS, **parameters: str) -> list[tuple]:
    dataset = loader.load_dataset_definition(definition, parameters)
    engine = DuckDBEngine(f"duckdb:///{trust}")
    return [row for batch in engine.get_results(dataset) for row in batch]


def read_back(path: Path) -> pa.Table:
    name = path.name
    if name.endswith(".parquet"):
        return pq.read_table(path)
    if name.endswith(".arrow"):
        return pa_ipc.open_file(path).read_all()
    options = pa_csv.ConvertOptions(column_types=PUPIL_TYPES, strings_can_be_null=True)
    return pa_csv.read_csv(path, convert_options=options)


# generate-dataset


@pytest.mark.parametrize("extension", ["csv", "csv.gz", "arrow", "parquet"])
def test_each_format_round_trips(tiny_trust: Path, tmp_path: Path, extension: str) -> None:
    output = tmp_path / "out" / "nested" / f"dataset.{extension}"
    result = run("generate-dataset", PUPILS, "--dsn", tiny_trust, "-o", output, "--no-isolated")
    assert result.exit_code == 0, result.output
    table = read_back(output)
    assert dict(zip(table.schema.names, table.schema.types, strict=True)) == PUPIL_TYPES
    rows = [tuple(row.values()) for row in table.to_pylist()]
    assert rows == expected_rows(tiny_trust)
    assert f"Wrote {len(rows):,} rows to {output}" in result.stderr
    assert list(output.parent.iterdir()) == [output]


def test_csv_gz_is_gzipped(tiny_trust: Path, tmp_path: Path) -> None:
    output = tmp_path / "dataset.csv.gz"
    run("generate-dataset", PUPILS, "--dsn", tiny_trust, "-o", output, "--no-isolated")
    assert gzip.decompress(output.read_bytes()).startswith(b'"pupil_id","sex"')


def test_small_batches_give_the_same_file(tiny_trust: Path, tmp_path: Path) -> None:
    args = ["generate-dataset", PUPILS, "--dsn", tiny_trust, "--no-isolated"]
    run(*args, "-o", tmp_path / "big.csv")
    run(*args, "-o", tmp_path / "small.csv", "--batch-size", "7")
    assert (tmp_path / "big.csv").read_bytes() == (tmp_path / "small.csv").read_bytes()


def test_no_output_prints_csv(tiny_trust: Path, tmp_path: Path) -> None:
    result = run("generate-dataset", PUPILS, "--dsn", tiny_trust, "--no-isolated")
    assert result.exit_code == 0
    run("generate-dataset", PUPILS, "--dsn", tiny_trust, "-o", tmp_path / "d.csv", "--no-isolated")
    assert result.stdout == (tmp_path / "d.csv").read_text()
    lines = result.stdout.splitlines()
    assert lines[0] == ",".join(f'"{name}"' for name in PUPIL_TYPES)
    assert len(lines) == 1 + len(expected_rows(tiny_trust))


def test_isolated_by_default_on_a_given_database(tiny_trust: Path, tmp_path: Path) -> None:
    output = tmp_path / "d.parquet"
    result = run("generate-dataset", PUPILS, "--dsn", tiny_trust, "-o", output)
    assert result.exit_code == 0, result.output
    assert pq.read_table(output).num_rows == len(expected_rows(tiny_trust))


@pytest.mark.parametrize(
    ("args", "isolated"),
    [((), False), (("--dsn", "TRUST"), True), (("--dsn", "TRUST", "--no-isolated"), False)],
)
def test_isolation_follows_the_database(
    monkeypatch: pytest.MonkeyPatch, tiny_trust: Path, args: tuple[str, ...], isolated: bool
) -> None:
    monkeypatch.setenv("OSSCHOOLS_DUMMY_DATA", str(tiny_trust))
    seen = []
    real = loader.load_definition

    def spy(kind: loader.Kind, path: Path, parameters: dict, **options: bool):
        seen.append(options["isolated"])
        return real(kind, path, parameters)

    monkeypatch.setattr(loader, "load_definition", spy)
    args = tuple(str(tiny_trust) if arg == "TRUST" else arg for arg in args)
    assert run("generate-dataset", PUPILS, *args).exit_code == 0
    assert seen == [isolated]


def test_parameters_reach_the_definition(tiny_trust: Path) -> None:
    args = ["generate-dataset", PUPILS, "--dsn", tiny_trust, "--no-isolated"]
    assert len(run(*args, "--", "--year=2022").stdout.splitlines()) > 1
    assert len(run(*args, "--", "--year", "2030").stdout.splitlines()) == 1  # header only


def test_parse_parameters() -> None:
    given = ["--a=1", "--b", "two", "--c=x=y"]
    assert parse_parameters(given) == {"a": "1", "b": "two", "c": "x=y"}
    assert parse_parameters([]) == {}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["year=2022"], "is not of the form --name=value"),
        (["--year"], "parameter --year has no value"),
        (["--year", "--month=1"], "parameter --year has no value"),
        (["--1x=2"], "parameter name '1x' is not valid"),
        (["--a=1", "--a=2"], "parameter --a is given twice"),
    ],
)
def test_bad_parameters(tiny_trust: Path, arguments: list[str], message: str) -> None:
    result = run("generate-dataset", PUPILS, "--dsn", tiny_trust, "--", *arguments)
    assert result.exit_code == 1
    assert message in result.stderr


def test_a_failure_leaves_no_file(
    monkeypatch: pytest.MonkeyPatch, tiny_trust: Path, tmp_path: Path
) -> None:
    def failing(self, dataset, batch_size=10_000):
        yield [(1, "F", None, 1, 0.5, True, None)]
        raise DatabaseError("the database could not run the query: boom")

    monkeypatch.setattr(DuckDBEngine, "get_results", failing)
    output = tmp_path / "out" / "dataset.parquet"
    output.parent.mkdir()
    output.write_text("the previous dataset")
    result = run("generate-dataset", PUPILS, "--dsn", tiny_trust, "-o", output, "--no-isolated")
    assert result.exit_code == 1
    assert "boom" in result.stderr
    assert list(output.parent.iterdir()) == [output]
    assert output.read_text() == "the previous dataset"


# Event-level tables

EVENTS = DEFINITIONS / "with_event_table.py"


def test_event_tables_go_in_a_folder(tiny_trust: Path, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    args = ["generate-dataset", EVENTS, "--dsn", tiny_trust, "-o", folder, "--no-isolated"]
    result = run(*args, "--format", "parquet")
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in folder.iterdir()) == [
        "dataset.parquet",
        "enrolment_rows.parquet",
    ]
    events = pq.read_table(folder / "enrolment_rows.parquet")
    assert events.schema.names == ["pupil_id", "start_date", "school_id"]
    assert events.schema.types == [pa.int64(), pa.date32(), pa.int64()]
    with duckdb.connect(str(tiny_trust), read_only=True) as connection:
        (count,) = connection.execute("SELECT count(*) FROM enrolments").fetchone()
    assert events.num_rows == count
    assert pq.read_table(folder / "dataset.parquet").schema.names == ["pupil_id", "sex"]


def test_event_tables_default_to_csv(tiny_trust: Path, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    result = run("generate-dataset", EVENTS, "--dsn", tiny_trust, "-o", folder)
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in folder.iterdir()) == ["dataset.csv", "enrolment_rows.csv"]
    assert "enrolment_rows:" in result.stderr


@pytest.mark.parametrize("output", [(), ("-o", "dataset.csv")])
def test_event_tables_need_a_folder(tiny_trust: Path, output: tuple[str, ...]) -> None:
    result = run("generate-dataset", EVENTS, "--dsn", tiny_trust, *output)
    assert result.exit_code == 1
    assert "--output must be a folder" in result.stderr


def test_dump_sql_includes_event_tables() -> None:
    result = run("dump-dataset-sql", EVENTS)
    assert result.exit_code == 0, result.output
    assert "-- event-level table enrolment_rows" in result.stdout


# Mistakes


def test_missing_definition(tiny_trust: Path) -> None:
    result = run("generate-dataset", "nowhere.py", "--dsn", tiny_trust)
    assert result.exit_code == 1
    assert result.stderr == "Error: no dataset definition at nowhere.py: check the path\n"


def test_unknown_extension(tiny_trust: Path) -> None:
    result = run("generate-dataset", PUPILS, "--dsn", tiny_trust, "-o", "dataset.xlsx")
    assert result.exit_code == 1
    assert "--output must end .csv, .csv.gz, .arrow or .parquet" in result.stderr


def test_format_only_for_event_tables(tiny_trust: Path) -> None:
    result = run("generate-dataset", PUPILS, "--dsn", tiny_trust, "-o", "d.csv", "--format", "csv")
    assert result.exit_code == 1
    assert "--format is for a dataset with event-level tables" in result.stderr


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ("query_error.py", "query_error.py, line 6: cannot compare a date with an integer"),
        ("name_error.py", "name_error.py, line 4: NameError: name 'pupil' is not defined"),
    ],
)
def test_mistakes_in_the_definition(tiny_trust: Path, definition: str, message: str) -> None:
    result = run("generate-dataset", DEFINITIONS / definition, "--dsn", tiny_trust)
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback (most recent call last)" not in result.output


def test_syntax_error_in_the_definition(tmp_path: Path) -> None:
    definition = tmp_path / "broken.py"
    definition.write_text("from ehrql_schools import create_dataset\n\ndataset = create_dataset(\n")
    result = run("dump-dataset-sql", definition)
    assert result.exit_code == 1
    assert "broken.py, line 3: syntax error: '(' was never closed" in result.stderr


def test_missing_table_suggests_regenerating(tmp_path: Path) -> None:
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    result = run("generate-dataset", PUPILS, "--dsn", empty, "--no-isolated")
    assert result.exit_code == 1
    assert "the database could not run the query" in result.stderr
    assert f"osschools dummy-data generate --output {empty}" in result.stderr


def test_unwritable_output(tiny_trust: Path, tmp_path: Path) -> None:
    (tmp_path / "a_file").write_text("")
    output = tmp_path / "a_file" / "dataset.csv"
    result = run("generate-dataset", PUPILS, "--dsn", tiny_trust, "-o", output, "--no-isolated")
    assert result.exit_code == 1
    assert f"{tmp_path / 'a_file'}: it is a file, not a folder" in result.stderr


@pytest.mark.parametrize(
    ("dsn", "message"),
    [
        ("trust.sqlite", "is not a SQLAlchemy URL (duckdb:///FILE, postgresql://...) or the path"),
        ("missing.duckdb", "no DuckDB file at missing.duckdb"),
        ("mysql://user:sekrit@host/db", "mysql://user:***@host/db: only DuckDB and PostgreSQL"),
    ],
)
def test_bad_dsn(dsn: str, message: str) -> None:
    result = run("generate-dataset", PUPILS, "--dsn", dsn)
    assert result.exit_code == 1
    assert message in result.stderr
    assert "sekrit" not in result.output


def test_password_is_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing listens on port 1: connecting fails, and the error must not show the password.
    monkeypatch.setenv("OSSCHOOLS_DSN", "postgres://researcher:sekrit@127.0.0.1:1/trust")
    for command in (["generate-dataset", PUPILS], ["debug", PUPILS]):
        result = run(*command)
        assert result.exit_code == 1
        assert "sekrit" not in result.output


def test_database_shows_url_without_password() -> None:
    database = dsn_module.resolve("postgres://researcher:sekrit@db.example/trust")
    assert database.url.drivername == "postgresql+psycopg"
    assert database.display == "postgresql+psycopg://researcher:***@db.example/trust"
    assert database.redact("failed for sekrit") == "failed for ***"


def test_redact_hides_a_short_password_only_where_it_is_the_password() -> None:
    database = dsn_module.resolve("postgres://researcher:y@db.example/trust")
    # Inside other words it is not the password: "query" stays "query".
    assert database.redact("the query failed: syntax error") == "the query failed: syntax error"
    assert (
        database.redact("cannot connect to postgresql://researcher:y@db.example/trust")
        == "cannot connect to postgresql://researcher:***@db.example/trust"
    )
    assert database.redact("host=db.example user=researcher password=y") == (
        "host=db.example user=researcher password=***"
    )
    assert database.redact("password='y' rejected") == "password='***' rejected"
    assert database.redact("the password is y.") == "the password is ***."


def test_redact_hides_a_password_with_url_characters_as_written_and_encoded() -> None:
    database = dsn_module.resolve("postgres://researcher:p%40ss%3Aword@db.example/trust")
    assert database.url.password == "p@ss:word"
    assert database.redact("failed: 'p@ss:word' rejected") == "failed: '***' rejected"
    assert (
        database.redact("postgresql://researcher:p%40ss%3Aword@db.example/trust: refused")
        == "postgresql://researcher:***@db.example/trust: refused"
    )
    assert "p@ss:word" not in database.redact("connecting with password=p@ss:word")


def test_redact_without_a_password_changes_nothing(tiny_trust: Path) -> None:
    database = dsn_module.resolve(str(tiny_trust))
    assert database.redact("query failed for y") == "query failed for y"


def test_duckdb_dsn_forms(tiny_trust: Path) -> None:
    for dsn in (str(tiny_trust), f"duckdb:///{tiny_trust}"):
        database = dsn_module.resolve(dsn)
        assert (database.dialect, database.synthetic) == ("duckdb", False)
        assert database.url.database == str(tiny_trust)
        assert database.url.query == {"access_mode": "read_only"}


def test_unexpected_errors_are_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tiny_trust: Path
) -> None:
    def broken(self, dataset, batch_size=10_000):
        raise RuntimeError("engine\nbroke")

    monkeypatch.setattr(DuckDBEngine, "get_results", broken)
    args = ["generate-dataset", str(PUPILS), "--dsn", str(tiny_trust), "--no-isolated"]
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 1
    assert capsys.readouterr().err == (
        "Error: RuntimeError: engine broke (set OSSCHOOLS_DEBUG=1 for details)\n"
    )
    monkeypatch.setenv("OSSCHOOLS_DEBUG", "1")
    with pytest.raises(RuntimeError):
        main(args)


# The default database: the local synthetic trust


def test_synthetic_trust_is_generated_on_first_use(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tiny_settings: Callable[[], Any]
) -> None:
    monkeypatch.setattr(dsn_module, "synthetic_trust_settings", tiny_settings)
    path = tmp_path / ".osschools" / "synthetic_trust.duckdb"
    first = run("generate-dataset", PUPILS, "-o", "dataset.csv")
    assert first.exit_code == 0, first.output
    assert f"Generating the synthetic trust at {path}" in first.stderr
    assert path.is_file()
    second = run("generate-dataset", PUPILS, "-o", "dataset.csv")
    assert second.exit_code == 0
    assert "Generating" not in second.stderr
    assert sorted(p.name for p in path.parent.iterdir()) == [
        ".synthetic_trust.duckdb.lock",
        "synthetic_trust.duckdb",
    ]


def test_dummy_data_variable_names_the_synthetic_trust(
    monkeypatch: pytest.MonkeyPatch, tiny_trust: Path
) -> None:
    monkeypatch.setenv("OSSCHOOLS_DUMMY_DATA", str(tiny_trust))
    database = dsn_module.resolve(None)
    assert database.synthetic
    assert database.url.database == str(tiny_trust)
    result = run("generate-dataset", PUPILS)
    assert result.exit_code == 0
    assert "Generating" not in result.stderr
    assert len(result.stdout.splitlines()) == 1 + len(expected_rows(tiny_trust))


# dump-dataset-sql


def test_dump_duckdb_sql_runs(tiny_trust: Path) -> None:
    result = run("dump-dataset-sql", PUPILS, "--", "--year=2022")
    assert result.exit_code == 0, result.output
    assert result.stdout.lstrip().startswith(("WITH", "SELECT"))
    with duckdb.connect(str(tiny_trust), read_only=True) as connection:
        rows = connection.execute(result.stdout).fetchall()
    assert rows == expected_rows(tiny_trust)


def test_dump_postgresql_sql_runs(
    postgres_url: str, tiny_trust: Path, tiny_settings: Callable[[], Any]
) -> None:
    from dummy_data.generate import generate_trust
    from dummy_data.writers import PostgresWriter
    from schema import load_schema

    generate_trust(tiny_settings(), PostgresWriter(postgres_url, load_schema(), replace=True))
    result = run("dump-dataset-sql", PUPILS, "--dialect", "postgresql")
    assert result.exit_code == 0, result.output
    assert "COLLATE" in result.stdout or "collate" in result.stdout
    engine = sa.create_engine(postgres_url)
    try:
        with engine.connect() as connection:
            rows = [tuple(row) for row in connection.exec_driver_sql(result.stdout)]
    finally:
        engine.dispose()
    assert rows == expected_rows(tiny_trust)
    # and generate-dataset on PostgreSQL (isolated) gives the same rows
    output = Path("from_postgres.parquet")
    generated = run("generate-dataset", PUPILS, "--dsn", postgres_url, "-o", output)
    assert generated.exit_code == 0, generated.output
    assert [tuple(r.values()) for r in pq.read_table(output).to_pylist()] == rows


# debug


def test_debug_describes_the_dataset(tiny_trust: Path) -> None:
    count = len(expected_rows(tiny_trust))
    result = run("debug", PUPILS, "--dsn", tiny_trust, "--limit", "3")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"population: {count:,} pupils, of {count:,} pupils" in out
    assert f"first 3 of {count:,} rows" in out
    assert all(name in out for name in PUPIL_TYPES)
    assert "F " in out and "date_of_birth" in out and "time" in out
    rows_table = out.split("columns")[0]
    assert rows_table.count("│ 1 ") + rows_table.count("│ 2 ") + rows_table.count("│ 3 ") >= 3


def test_debug_counts_candidates(tiny_trust: Path) -> None:
    result = run("debug", DEFINITIONS / "simple.py", "--dsn", tiny_trust, "--limit", "0")
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(tiny_trust), read_only=True) as connection:
        (candidates,) = connection.execute(
            "SELECT count(DISTINCT pupil_id) FROM enrolments"
        ).fetchone()
    assert f"pupils, of {candidates:,} pupils in the tables the population uses" in result.stdout


def test_debug_refuses_postgresql() -> None:
    result = run("debug", PUPILS, "--dsn", "postgresql://u:sekrit@localhost/trust")
    assert result.exit_code == 1
    assert "debug shows rows; run it on the synthetic data only" in result.stderr


# assure


def test_assure_passes() -> None:
    result = run("assure", DEFINITIONS / "assure_simple_ok.py")
    assert result.exit_code == 0, result.output
    assert result.stdout == "All OK: 3 pupils checked\n"


def test_assure_teachers() -> None:
    result = run("assure", DEFINITIONS / "assure_teachers.py")
    assert result.exit_code == 0, result.output
    assert result.stdout == "All OK: 1 teacher checked\n"


def test_assure_reports_each_mismatch() -> None:
    result = run("assure", DEFINITIONS / "assure_simple_fail.py")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "pupil 1: column sex expected 'M', got 'F'",
        "pupil 2: expected in the population, but is not",
        "pupil 3: expected not in the population, but is",
        "3 of 3 pupils failed",
    ]


def test_assure_reports_malformed_test_data() -> None:
    result = run("assure", DEFINITIONS / "assure_bad_data.py")
    assert result.exit_code == 1
    assert "pupil 1: there is no table pupil; did you mean pupils?" in result.stderr
    assert "table enrolments has no column strat_date; did you mean start_date?" in result.stderr
    assert "pupil 1: the dataset has no column sexx; did you mean sex?" in result.stderr


def test_assure_needs_test_data(tmp_path: Path) -> None:
    test_file = tmp_path / "test.py"
    test_file.write_text((DEFINITIONS / "simple.py").read_text())
    result = run("assure", test_file)
    assert result.exit_code == 1
    assert "has no test_data" in result.stderr
    assert run("assure", tmp_path / "missing.py").exit_code == 1


def test_values_are_read_by_column_type() -> None:
    from ehrql_schools.assurance import convert

    assert convert("2024-09-01", datetime.date) == datetime.date(2024, 9, 1)
    assert convert("09:30", datetime.time) == datetime.time(9, 30)
    assert convert(2, float) == 2.0
    with pytest.raises(ValueError, match="expected an integer, got '2'"):
        convert("2", int)


def test_stdout_csv_is_readable_by_pyarrow(tiny_trust: Path) -> None:
    result = run("generate-dataset", PUPILS, "--dsn", tiny_trust, "--no-isolated")
    options = pa_csv.ConvertOptions(column_types=PUPIL_TYPES, strings_can_be_null=True)
    table = pa_csv.read_csv(io.BytesIO(result.stdout_bytes), convert_options=options)
    assert [tuple(row.values()) for row in table.to_pylist()] == expected_rows(tiny_trust)


def test_concurrent_commands_generate_the_synthetic_trust_once(tmp_path: Path) -> None:
    import threading
    import time

    path = tmp_path / "trust.duckdb"
    calls = []

    def generate(target: Path) -> None:
        calls.append(target)
        time.sleep(0.2)
        target.write_text("trust")

    threads = [
        threading.Thread(target=dsn_module.ensure_synthetic_trust, args=(path, generate))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [path]
