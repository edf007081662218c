"""Generating a trust end to end: determinism, output formats, failures leave nothing behind."""

from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from dummy_data.generate import generate_trust
from dummy_data.settings import GeneratorSettings
from dummy_data.writers import DuckDBWriter, OutputError, ParquetWriter, PostgresWriter, open_writer
from job_runner.cli import cli
from schema import load_schema

TINY = GeneratorSettings(seed=1, schools=3, years=1)


def parquet_trust(folder: Path, settings: GeneratorSettings) -> dict[str, bytes]:
    generate_trust(settings, ParquetWriter(folder, load_schema()))
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_same_seed_gives_byte_identical_files_and_another_seed_differs(tmp_path):
    first = parquet_trust(tmp_path / "a", TINY)
    again = parquet_trust(tmp_path / "b", TINY)
    other = parquet_trust(tmp_path / "c", TINY.model_copy(update={"seed": 2}))
    assert first == again
    assert "attendance_sessions.parquet" in first
    assert first["attendance_sessions.parquet"] != other["attendance_sessions.parquet"]


def test_duckdb_output_holds_the_same_rows_as_parquet(tmp_path):
    parquet_trust(tmp_path / "parquet", TINY)
    generate_trust(TINY, DuckDBWriter(tmp_path / "trust.duckdb", load_schema()))
    db = duckdb.connect(str(tmp_path / "trust.duckdb"))
    for table in ["pupils", "attendance_sessions", "lessons", "assessment_results"]:
        in_parquet = db.execute(
            f"SELECT COUNT(*) FROM (SELECT * FROM '{tmp_path}/parquet/{table}.parquet' "
            f"EXCEPT ALL SELECT * FROM {table})"
        ).fetchone()[0]
        assert in_parquet == 0, table


class Boom(Exception):
    pass


def failing_after_pupils(monkeypatch):
    import dummy_data.generate as generate

    real = generate.trust_batches

    def batches(settings, on_stage):
        for table, batch in real(settings, on_stage):
            yield table, batch
            if table == "pupils":
                raise Boom

    monkeypatch.setattr(generate, "trust_batches", batches)


def test_a_failed_generation_leaves_no_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    target = tmp_path / "trust.duckdb"
    target.write_text("previous output")
    failing_after_pupils(monkeypatch)
    with pytest.raises(Boom):
        generate_trust(TINY, DuckDBWriter(target, load_schema()))
    assert target.read_text() == "previous output"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trust.duckdb"]


def test_a_failed_parquet_generation_leaves_nothing(tmp_path, monkeypatch):
    failing_after_pupils(monkeypatch)
    with pytest.raises(Boom):
        generate_trust(TINY, ParquetWriter(tmp_path / "trust", load_schema()))
    assert list(tmp_path.iterdir()) == []


def test_unwritable_and_unknown_outputs_are_clear_errors(tmp_path):
    (tmp_path / "a-file").write_text("")
    with pytest.raises(OutputError, match="cannot create the folder .*a-file"):
        open_writer(str(tmp_path / "a-file" / "trust.duckdb"), load_schema())
    with pytest.raises(OutputError, match="ending .duckdb"):
        open_writer(str(tmp_path / "trust.csv"), load_schema())


def test_cli_generates_and_summarises(tmp_path):
    target = tmp_path / "trust.duckdb"
    result = CliRunner().invoke(
        cli, ["dummy-data", "generate", "--output", str(target), "--schools", "2", "--years", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "attendance_sessions" in result.output
    assert duckdb.connect(str(target)).execute("SELECT COUNT(*) FROM schools").fetchone()[0] == 2


def test_cli_rejects_bad_settings_naming_the_option(tmp_path):
    result = CliRunner().invoke(
        cli, ["dummy-data", "generate", "--output", str(tmp_path / "t.duckdb"), "--years", "0"]
    )
    assert result.exit_code == 2
    assert "--years" in result.output
    assert "greater than or equal to 1" in result.output
    assert not any(tmp_path.iterdir())


@pytest.mark.integration
def test_postgres_output_matches_duckdb(tmp_path, postgres_url):
    import sqlalchemy as sa

    generate_trust(TINY, PostgresWriter(postgres_url, load_schema()))
    generate_trust(TINY, DuckDBWriter(tmp_path / "trust.duckdb", load_schema()))
    db = duckdb.connect(str(tmp_path / "trust.duckdb"))
    engine = sa.create_engine(postgres_url)
    with engine.connect() as pg:
        for table in ["pupils", "attendance_sessions", "lessons", "students"]:
            count = pg.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar()
            assert count == db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0], table
        attendance = pg.execute(sa.text("SELECT AVG(attendance_percent) FROM students")).scalar()
    assert attendance == pytest.approx(
        db.execute("SELECT AVG(attendance_percent) FROM students").fetchone()[0]
    )
    with pytest.raises(OutputError, match="--replace"):
        PostgresWriter(postgres_url, load_schema())
    generate_trust(TINY, PostgresWriter(postgres_url, load_schema(), replace=True))
