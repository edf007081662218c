import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from job_runner.sqlrunner import QueryFileError, cli, read_statement, split_statements

BY_SEX = """\
-- pupils by sex
SELECT sex, count(*) AS pupils, avg(pupil_id) AS mean_id, min(date_of_birth) AS first_birth,
       sum(pupil_id) AS id_total, 'it''s; fine' AS note
FROM pupils
GROUP BY sex
ORDER BY sex;  -- the end
"""


def run(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, [str(arg) for arg in args], env=env)


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def duckdb_rows(trust: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(trust), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def csv_rows(path: Path) -> list[tuple]:
    return [tuple(row.values()) for row in pa_csv.read_csv(path).to_pylist()]


def test_writes_the_result_as_csv(tiny_trust: Path, tmp_path: Path) -> None:
    query = write(tmp_path / "by_sex.sql", BY_SEX)
    output = tmp_path / "output" / "by_sex.csv"
    result = run(query, "--output", output, "--dsn", tiny_trust)
    assert result.exit_code == 0, result.output
    expected = duckdb_rows(tiny_trust, BY_SEX.replace(";  -- the end", ""))
    rows = csv_rows(output)
    assert [row[:2] for row in rows] == [row[:2] for row in expected]
    assert [row[2] for row in rows] == pytest.approx([row[2] for row in expected])
    assert [row[3] for row in rows] == [row[3] for row in expected]
    assert isinstance(rows[0][3], datetime.date)
    assert [row[4] for row in rows] == [int(row[4]) for row in expected]  # HUGEINT as a number
    assert {row[5] for row in rows} == {"it's; fine"}
    assert output.read_text().splitlines()[0] == (
        '"sex","pupils","mean_id","first_birth","id_total","note"'
    )
    assert f"Wrote {len(rows)} rows to {output}" in result.stderr
    assert sorted(path.name for path in output.parent.iterdir()) == ["by_sex.csv"]


def test_writes_parquet_by_extension_and_reads_the_dsn_from_the_environment(
    tiny_trust: Path, tmp_path: Path
) -> None:
    query = write(tmp_path / "q.sql", "SELECT pupil_id, upn FROM pupils ORDER BY pupil_id")
    output = tmp_path / "pupils.parquet"
    result = run(query, "-o", output, env={"OSSCHOOLS_DSN": str(tiny_trust)})
    assert result.exit_code == 0, result.output
    table = pq.read_table(output)
    assert table.column_names == ["pupil_id", "upn"]
    expected = duckdb_rows(tiny_trust, "SELECT pupil_id, upn FROM pupils ORDER BY pupil_id")
    assert [tuple(row.values()) for row in table.to_pylist()] == expected


def test_streams_in_batches(tiny_trust: Path, tmp_path: Path) -> None:
    query = write(tmp_path / "q.sql", "SELECT pupil_id FROM pupils ORDER BY pupil_id")
    output = tmp_path / "ids.csv"
    result = run(query, "-o", output, "--dsn", tiny_trust, "--batch-size", "7")
    assert result.exit_code == 0, result.output
    count = duckdb_rows(tiny_trust, "SELECT count(*) FROM pupils")[0][0]
    assert len(csv_rows(output)) == count > 7


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT 1;\n\nSELECT 2;\n", "line 3: a second statement"),
        ("-- only a comment\n;\n", "has no SQL statement"),
        ("DELETE FROM pupils", "line 1: sqlrunner runs one read-only query"),
        ("\n\nINSERT INTO schools SELECT * FROM schools", "line 3: sqlrunner runs one read-only"),
        ("COPY pupils TO 'x.csv'", "not COPY"),
        ("ATTACH 'other.duckdb'", "not ATTACH"),
        ("PRAGMA database_list", "not PRAGMA"),
        ("CREATE TABLE x AS SELECT 1", "not CREATE"),
        ("SET enable_external_access = true", "not SET"),
    ],
)
def test_refuses_anything_but_one_query(
    tiny_trust: Path, tmp_path: Path, sql: str, message: str
) -> None:
    query = write(tmp_path / "bad.sql", sql)
    output = tmp_path / "out.csv"
    result = run(query, "-o", output, "--dsn", tiny_trust)
    assert result.exit_code == 1
    assert f"Error: {query}" in result.stderr
    assert message in result.stderr
    assert not output.exists()


def test_the_database_is_read_only(tiny_trust: Path, tmp_path: Path) -> None:
    before = duckdb_rows(tiny_trust, "SELECT count(*) FROM schools")
    query = write(
        tmp_path / "sneaky.sql", "WITH x AS (SELECT 1) INSERT INTO schools SELECT * FROM schools"
    )
    result = run(query, "-o", tmp_path / "out.csv", "--dsn", tiny_trust)
    assert result.exit_code == 1
    assert "read-only" in result.stderr
    assert duckdb_rows(tiny_trust, "SELECT count(*) FROM schools") == before


def test_no_access_to_other_files(tiny_trust: Path, tmp_path: Path) -> None:
    secret = write(tmp_path / "secret.csv", "a\n1\n")
    query = write(tmp_path / "read.sql", f"SELECT * FROM read_csv('{secret}')")
    result = run(query, "-o", tmp_path / "out.csv", "--dsn", tiny_trust)
    assert result.exit_code == 1
    assert f"{query}, line 1: Permission Error" in result.stderr
    assert not (tmp_path / "out.csv").exists()


def test_database_errors_name_the_file_and_line(tiny_trust: Path, tmp_path: Path) -> None:
    query = write(tmp_path / "typo.sql", "-- a typo\nSELECT\n  pupil_id,\n  nope\nFROM pupils\n")
    result = run(query, "-o", tmp_path / "out.csv", "--dsn", tiny_trust)
    assert result.exit_code == 1
    assert f"Error: {query}, line 4: Binder Error:" in result.stderr
    assert '"nope"' in result.stderr
    assert str(tiny_trust) in result.stderr


def test_a_failing_query_leaves_no_file(tiny_trust: Path, tmp_path: Path) -> None:
    query = write(
        tmp_path / "cast.sql",
        "SELECT CAST(CASE WHEN pupil_id > 50 THEN 'x' ELSE '1' END AS INTEGER) AS n "
        "FROM pupils ORDER BY pupil_id",
    )
    output = tmp_path / "out" / "n.csv"
    result = run(query, "-o", output, "--dsn", tiny_trust, "--batch-size", "10")
    assert result.exit_code == 1
    assert "Conversion Error" in result.stderr
    assert not output.exists()
    assert not output.parent.exists() or list(output.parent.iterdir()) == []


def test_duplicate_column_names_are_refused(tiny_trust: Path, tmp_path: Path) -> None:
    query = write(tmp_path / "dup.sql", "SELECT 1 AS a, 2 AS a")
    result = run(query, "-o", tmp_path / "out.csv", "--dsn", tiny_trust)
    assert result.exit_code == 1
    assert "two columns named 'a'" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.sql", "-o", "out.csv"], "no SQL file at missing.sql"),
        (["q.txt", "-o", "out.csv"], "is not a .sql file"),
        (["q.sql", "-o", "out.xlsx"], "--output must end .csv"),
        (["q.sql", "-o", "out.csv", "--dsn", "nowhere.duckdb"], "no DuckDB file at nowhere"),
        (["q.sql"], "Missing option '--output'"),
    ],
)
def test_usage_mistakes(tmp_path: Path, args: list[str], message: str) -> None:
    write(tmp_path / "q.sql", "SELECT 1 AS one")
    write(tmp_path / "q.txt", "SELECT 1 AS one")
    result = run(*args)
    assert result.exit_code != 0
    assert message in result.stderr


def test_split_statements_ignores_semicolons_in_quotes_and_comments() -> None:
    sql = (
        "SELECT 'a;b', \"c;d\" -- e;f\n"
        "/* g; /* nested; */ h; */ FROM t WHERE x = $$i;j$$ AND y = $tag$k;$$;l$tag$;\n"
        "SELECT 2"
    )
    pieces = [sql[start:end] for start, end in split_statements(sql)]
    assert len(pieces) == 2
    assert pieces[1].strip() == "SELECT 2"


def test_read_statement_keeps_lines_and_drops_the_final_semicolon(tmp_path: Path) -> None:
    path = write(
        tmp_path / "q.sql", "\n-- comment\nWITH a AS (SELECT 1) SELECT * FROM a;\n-- end\n"
    )
    statement = read_statement(path, "postgresql")
    assert statement.line == 3
    assert statement.first_word == "WITH"
    assert statement.text == "\n-- comment\nWITH a AS (SELECT 1) SELECT * FROM a"
    with pytest.raises(QueryFileError, match="not FROM"):
        read_statement(write(tmp_path / "f.sql", "FROM pupils"), "postgresql")
    assert read_statement(write(tmp_path / "g.sql", "(SELECT 1)"), "duckdb").first_word == "SELECT"


# PostgreSQL


@pytest.fixture(scope="module")
def postgres_trust(postgres_url: str, tiny_settings: Any) -> str:
    from dummy_data.generate import generate_trust
    from dummy_data.writers import PostgresWriter
    from schema import load_schema

    generate_trust(tiny_settings, PostgresWriter(postgres_url, load_schema(), replace=True))
    engine = sa.create_engine(postgres_url)
    try:
        with engine.begin() as connection:
            # A function that writes: only the read-only transaction stops a query calling it.
            connection.exec_driver_sql(
                "CREATE FUNCTION forget_pupils() RETURNS bigint LANGUAGE sql VOLATILE AS "
                "'DELETE FROM pupils; SELECT 1::bigint'"
            )
    finally:
        engine.dispose()
    return postgres_url


def postgres_rows(url: str, sql: str) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.exec_driver_sql(sql)]
    finally:
        engine.dispose()


def test_postgresql_matches_duckdb(postgres_trust: str, tiny_trust: Path, tmp_path: Path) -> None:
    sql = (
        "SELECT sex, count(*) AS pupils, min(date_of_birth) AS first_birth, "
        "sum(pupil_id) AS id_total, avg(pupil_id) AS mean_id\n"
        "FROM pupils WHERE upn LIKE '%' GROUP BY sex ORDER BY sex;"
    )
    query = write(tmp_path / "q.sql", sql)
    pg_output, duck_output = tmp_path / "pg.csv", tmp_path / "duck.csv"
    result = run(query, "-o", pg_output, "--dsn", postgres_trust, "--batch-size", "1")
    assert result.exit_code == 0, result.output
    assert run(query, "-o", duck_output, "--dsn", tiny_trust).exit_code == 0
    pg_rows, duck_rows = csv_rows(pg_output), csv_rows(duck_output)
    assert [row[:4] for row in pg_rows] == [row[:4] for row in duck_rows]
    assert [row[4] for row in pg_rows] == pytest.approx([row[4] for row in duck_rows])


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            "WITH gone AS (DELETE FROM pupils RETURNING pupil_id)\nSELECT count(*) FROM gone",
            "must not contain data-modifying statements",
        ),
        ("SELECT forget_pupils() AS forgotten", "cannot execute DELETE in a read-only transaction"),
    ],
)
def test_postgresql_cannot_write(
    postgres_trust: str, tmp_path: Path, sql: str, message: str
) -> None:
    before = postgres_rows(postgres_trust, "SELECT count(*) FROM pupils")
    query = write(tmp_path / "write.sql", sql)
    result = run(query, "-o", tmp_path / "out.csv", "--dsn", postgres_trust)
    assert result.exit_code == 1
    assert message in result.stderr
    assert postgres_rows(postgres_trust, "SELECT count(*) FROM pupils") == before


def test_postgresql_errors_name_the_line_and_hide_the_password(
    postgres_trust: str, tmp_path: Path
) -> None:
    url = sa.make_url(postgres_trust).set(password="s3cret-pw")
    dsn = url.render_as_string(hide_password=False)
    query = write(tmp_path / "typo.sql", "SELECT\n  pupil_id,\n  nope\nFROM pupils")
    result = run(query, "-o", tmp_path / "out.csv", "--dsn", dsn)
    assert result.exit_code == 1
    assert f'Error: {query}, line 3: column "nope" does not exist' in result.stderr
    assert "s3cret-pw" not in result.output
    assert "***" in result.stderr
