"""Time `generate_attendance` on a preset's backbone: marks per second and peak memory.

Usage: .venv/bin/python benchmarks/attendance_generation.py [preset] [--profile]
(default preset niot). Builds the backbone first (not timed), then drains the generator, counting
rows without keeping the batches, as the writer would.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import time

from dummy_data.attendance import generate_attendance
from dummy_data.build_backbone import build_backbone
from dummy_data.settings import preset


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("preset", nargs="?", default="niot")
    parser.add_argument("--profile", action="store_true", help="print the top functions by time")
    arguments = parser.parse_args()

    started = time.perf_counter()
    backbone = build_backbone(preset(arguments.preset))
    seconds = time.perf_counter() - started
    print(
        f"backbone: {len(backbone.enrolments):,} enrolments in {seconds:.1f} s, "
        f"peak RSS {_peak_rss_mb():,.0f} MB"
    )

    rows = {"attendance_sessions": 0, "exclusions": 0}
    profiler = cProfile.Profile() if arguments.profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    for table, batch in generate_attendance(backbone):
        rows[table] += batch.num_rows
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - started
    marks = rows["attendance_sessions"]
    print(
        f"attendance: {marks:,} marks and {rows['exclusions']:,} exclusions in {seconds:.1f} s "
        f"({marks / seconds / 1e6:.1f} million marks/s), peak RSS {_peak_rss_mb():,.0f} MB"
    )
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()
