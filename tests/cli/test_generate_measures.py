"""`ehrql-schools generate-measures`: measures to a file or stdout, disclosure-controlled."""

from __future__ import annotations

import datetime
import gzip
import io
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.ipc as pa_ipc
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from ehrql_schools import loader
from ehrql_schools.cli import cli
from ehrql_schools.engines.duckdb import DuckDBEngine
from ehrql_schools.engines.sql import DatabaseError
from ehrql_schools.measures import compute_measures, disclosure_summary, frame_rows

DEFINITIONS = Path(__file__).parent / "definitions"
MEASURES = DEFINITIONS / "measures.py"
COLUMNS = [
    "measure",
    "interval_start",
    "interval_end",
    "ratio",
    "numerator",
    "denominator",
    "school",
    "year_group",
    "disclosure_control",
]
TYPES = [
    pa.string(),
    pa.date32(),
    pa.date32(),
    pa.float64(),
    pa.int64(),
    pa.int64(),
    pa.int64(),
    pa.string(),
    pa.string(),
]


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(arg) for arg in args])


def expected(trust: Path, **parameters: str) -> list[tuple]:
    """The measures computed in this process, as rows typed like the output's."""
    model = loader.load_measures_definition(MEASURES, parameters)
    frame = compute_measures(model, DuckDBEngine(f"duckdb:///{trust}"))
    return [
        (m, datetime.date.fromisoformat(s), datetime.date.fromisoformat(e), *rest)
        for m, s, e, *rest in frame_rows(frame)
    ]


def read_back(path: Path | bytes) -> pa.Table:
    if isinstance(path, bytes):
        path = pa.BufferReader(path)  # type: ignore[assignment]
    elif path.name.endswith(".parquet"):
        return pq.read_table(path)
    elif path.name.endswith(".arrow"):
        return pa_ipc.open_file(path).read_all()
    types = dict(zip(COLUMNS, TYPES, strict=True))
    options = pa_csv.ConvertOptions(column_types=types, strings_can_be_null=True)
    return pa_csv.read_csv(path, convert_options=options)


def rows_of(table: pa.Table) -> list[tuple]:
    return [tuple(row.values()) for row in table.to_pylist()]


@pytest.mark.parametrize("extension", ["csv", "csv.gz", "arrow", "parquet"])
def test_each_format_holds_the_measures(tiny_trust: Path, tmp_path: Path, extension: str) -> None:
    output = tmp_path / "out" / f"measures.{extension}"
    result = run("generate-measures", MEASURES, "--dsn", tiny_trust, "-o", output)
    assert result.exit_code == 0, result.output
    table = read_back(output)
    assert table.schema.names == COLUMNS
    assert table.schema.types == TYPES
    rows = expected(tiny_trust)
    assert rows_of(table) == rows
    assert len(rows) > 10
    assert list(output.parent.iterdir()) == [output]  # no temporary file left
    if extension == "csv.gz":
        assert gzip.decompress(output.read_bytes()).startswith(b'"measure","interval_start"')


def test_the_summary_counts_what_disclosure_control_changed(
    tiny_trust: Path, tmp_path: Path
) -> None:
    output = tmp_path / "measures.csv"
    result = run("generate-measures", MEASURES, "--dsn", tiny_trust, "-o", output)
    assert result.exit_code == 0, result.output
    model = loader.load_measures_definition(MEASURES)
    frame = compute_measures(model, DuckDBEngine(f"duckdb:///{tiny_trust}"))
    counts = disclosure_summary(frame)
    assert counts["redacted"] > 0  # the tiny trust has small groups
    assert counts["rounded"] > 0
    (summary,) = result.stderr.splitlines()
    assert summary == (
        f"Wrote {len(frame):,} rows to {output} (2 measures, 3 intervals); disclosure control "
        f"(opensafely): {counts['redacted']:,} count cells redacted, {counts['rounded']:,} "
        f"rounded, {counts['ratios_redacted']:,} ratios redacted"
    )
    assert "WARNING" not in result.stderr
    records = set(read_back(output).column("disclosure_control").to_pylist())
    assert len(records) == 1
    assert records.pop().startswith("opensafely: counts of 7 or fewer redacted")


def test_no_output_prints_csv(tiny_trust: Path) -> None:
    result = run("generate-measures", MEASURES, "--dsn", tiny_trust, "--batch-size", "7")
    assert result.exit_code == 0, result.output
    assert rows_of(read_back(result.stdout_bytes)) == expected(tiny_trust)
    assert "Wrote" not in result.stdout
    assert "rows to stdout (2 measures, 3 intervals)" in result.stderr


def test_disabled_disclosure_control_is_warned_about(tiny_trust: Path, tmp_path: Path) -> None:
    output = tmp_path / "measures.csv"
    args = ["generate-measures", MEASURES, "--dsn", tiny_trust, "-o", output]
    result = run(*args, "--", "--disclosure=off")
    assert result.exit_code == 0, result.output
    warning, summary = result.stderr.splitlines()
    assert warning.startswith(f"WARNING: {MEASURES} turns disclosure control off")
    assert "must not be released" in warning
    assert summary.endswith(
        "disclosure control DISABLED by the definition: nothing redacted or rounded"
    )
    table = read_back(output)
    assert set(table.column("disclosure_control").to_pylist()) == {
        "disabled in the measures definition"
    }
    assert rows_of(table) == expected(tiny_trust, disclosure="off")
    assert any(row[4] is not None and row[4] % 5 for row in rows_of(table))  # not rounded


def test_parameters_reach_the_definition(tiny_trust: Path) -> None:
    result = run("generate-measures", MEASURES, "--dsn", tiny_trust, "--", "--year", "2030")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [",".join(f'"{name}"' for name in COLUMNS)]


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
        seen.append((kind, options["isolated"]))
        return real(kind, path, parameters)

    monkeypatch.setattr(loader, "load_definition", spy)
    args = tuple(str(tiny_trust) if arg == "TRUST" else arg for arg in args)
    assert run("generate-measures", MEASURES, *args).exit_code == 0
    assert seen == [("measures", isolated)]


def test_isolated_output_is_the_same(tiny_trust: Path, tmp_path: Path) -> None:
    isolated, in_process = tmp_path / "isolated.csv", tmp_path / "in_process.csv"
    assert run("generate-measures", MEASURES, "--dsn", tiny_trust, "-o", isolated).exit_code == 0
    args = ["generate-measures", MEASURES, "--dsn", tiny_trust, "--no-isolated"]
    assert run(*args, "-o", in_process).exit_code == 0
    assert isolated.read_bytes() == in_process.read_bytes()


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ("missing.py", "no measures definition at missing.py: check the path"),
        ("pupils.py", "pupils.py: defines no measures: assign `measures = create_measures()`"),
        ("query_error.py", "query_error.py, line "),
    ],
)
@pytest.mark.parametrize("isolation", ["--isolated", "--no-isolated"])
def test_mistakes_in_the_definition(
    tiny_trust: Path, definition: str, message: str, isolation: str
) -> None:
    path = DEFINITIONS / definition if definition != "missing.py" else Path(definition)
    result = run("generate-measures", path, "--dsn", tiny_trust, isolation)
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_measures_error_names_the_line(tiny_trust: Path, tmp_path: Path) -> None:
    path = tmp_path / "bad_measures.py"
    path.write_text(
        "from ehrql_schools.measures import create_measures\n"
        "from ehrql_schools.tables.schools import pupils\n"
        "measures = create_measures()\n"
        "measures.define_measure('m', pupils.sex, pupils.exists_for_pupil(), {}, [])\n"
    )
    result = run("generate-measures", path, "--dsn", tiny_trust)
    assert result.exit_code == 1
    assert f"{path}, line 4: the numerator of m must be a boolean or integer series" in (
        result.stderr
    )


def test_unknown_extension(tiny_trust: Path) -> None:
    result = run("generate-measures", MEASURES, "--dsn", tiny_trust, "-o", "measures.xlsx")
    assert result.exit_code == 1
    assert "--output must end .csv, .csv.gz, .arrow or .parquet" in result.stderr


def test_a_failure_leaves_no_file(
    monkeypatch: pytest.MonkeyPatch, tiny_trust: Path, tmp_path: Path
) -> None:
    def failing(self, dataset, batch_size=10_000):
        raise DatabaseError("the database could not run the query: boom")
        yield []

    monkeypatch.setattr(DuckDBEngine, "get_results", failing)
    output = tmp_path / "out" / "measures.csv"
    output.parent.mkdir()
    output.write_text("the previous measures")
    result = run("generate-measures", MEASURES, "--dsn", tiny_trust, "-o", output)
    assert result.exit_code == 1
    assert "boom" in result.stderr
    assert list(output.parent.iterdir()) == [output]
    assert output.read_text() == "the previous measures"


def test_missing_table_suggests_regenerating(tmp_path: Path) -> None:
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    result = run("generate-measures", MEASURES, "--dsn", empty, "-o", tmp_path / "m.csv")
    assert result.exit_code == 1
    assert "regenerate it" in result.stderr
    assert not (tmp_path / "m.csv").exists()


def test_stdout_csv_is_readable_by_pyarrow(tiny_trust: Path) -> None:
    result = run("generate-measures", MEASURES, "--dsn", tiny_trust)
    table = pa_csv.read_csv(io.BytesIO(result.stdout_bytes))
    assert table.schema.names == COLUMNS
