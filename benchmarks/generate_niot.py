"""Generate the NIoT-scale synthetic trust into DuckDB and report wall time, rows per second and
peak memory.

    .venv/bin/python benchmarks/generate_niot.py [--scale niot] [--output /tmp/niot.duckdb]

Target (issue: foundations): the whole trust, with three academic years of session attendance (about
130 million marks), in under 90 seconds and 4 GB peak memory on a 2-core machine.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from dummy_data.generate import generate_trust
from dummy_data.settings import preset
from dummy_data.writers import DuckDBWriter
from schema import load_schema


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="niot")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        output = args.output or Path(folder) / "trust.duckdb"
        stage_times: dict[str, float] = {}
        started = time.perf_counter()

        def on_stage(stage: str) -> None:
            stage_times[stage] = time.perf_counter() - started

        rows = generate_trust(
            preset(args.scale), DuckDBWriter(output, load_schema()), on_stage=on_stage
        )
        seconds = time.perf_counter() - started
        size = output.stat().st_size
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # The timetable is built in worker processes; their peak adds to ours while they run.
    worker_peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    total = sum(rows.values())
    report = Table(title=f"dummy-data generate --scale {args.scale} (DuckDB)")
    report.add_column("measure")
    report.add_column("value", justify="right")
    report.add_row("wall time", f"{seconds:.1f} s")
    report.add_row("peak memory (RSS)", f"{peak_mb:,.0f} MB")
    report.add_row("peak memory of one worker (RSS)", f"{worker_peak_mb:,.0f} MB")
    report.add_row("rows in all", f"{total:,}")
    report.add_row("rows per second", f"{total / seconds:,.0f}")
    report.add_row("attendance marks", f"{rows['attendance_sessions']:,}")
    report.add_row("database size", f"{size / 2**20:,.0f} MB")
    for stage, at in stage_times.items():
        report.add_row(f"  '{stage}' began at", f"{at:.1f} s")
    for table, count in rows.items():
        report.add_row(f"  {table}", f"{count:,}")
    Console().print(report)


if __name__ == "__main__":
    main()
