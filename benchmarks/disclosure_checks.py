"""Time the disclosure checks on outputs like researchers release, and the differencing check's
cost as the number of released tables grows.

    .venv/bin/python benchmarks/disclosure_checks.py [--repeats 3] [--seed 4] [--largest 5000]

Everything is generated from the seed into a temporary folder, then timed in one run:
1. 100 realistic output tables, each with its sidecar: pupils by school x year group x FSM with
   Total rows (redacted at 7, rounded to 5, totals recomputed), persistent absence rates with
   numerator and denominator, mean KS2 scores with n and SD, a school x year crosstab with a Total
   row and column, SEN tables with suppressed cells and totals rounded from the true totals
   (some protected by secondary suppression, some not, a few not rounded at all), pupils
   without an EHC plan by school and year, and single-number outputs, all from
   one synthetic trust so that the tables agree with each other as a real request's do.
   Timed: `check_folder` (writing every report; median of --repeats) and `check_files` on the
   same paths. The share of time per rule comes from a separate instrumented run (each rule
   function wrapped in a timer), so it does not slow the timed runs.
2. One 5,000-row table (1,000 schools x year groups 7 to 10 and a Total row per school, two
   count columns, suppressed cells, true totals): `check_file`, and the suppressed-interval rule
   alone.
3. Differencing: one new table (pupils without an EHC plan by 30 schools) against 10, 100, 1,000
   and --largest released tables, half of them sharing its dimension and schools and half over
   other dimensions. Times: indexing the released tables (`ReleasedTables(tables)`), and
   `check_differencing` for the new table, with the time per matching released table; the
   per-table cost should stay flat as the number grows (linear growth), and the unrelated
   half should cost nothing. Also: `ReleasedTables.from_folder` on 1,000 released files.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table as RichTable

from job_runner.disclosure import checker
from job_runner.disclosure.controls import recompute_totals, redact_small, round_to_base
from job_runner.disclosure.description import TableDescription
from job_runner.disclosure.profiles import profile
from job_runner.disclosure.rules.differencing import ReleasedTables, check_differencing
from job_runner.disclosure.rules.suppression import check_suppressed_intervals
from job_runner.disclosure.tables import Table, read_table, table_from_frame

OPENSAFELY = profile("opensafely")
YEARS = ["7", "8", "9", "10", "11"]


# Generating outputs


def school_names(count: int) -> list[str]:
    return [f"School {number:03d}" for number in range(1, count + 1)]


class Population:
    """One trust's pupils, counted by school x year group x FSM x SEN status, so that every
    table generated from it is consistent with the others (as a real request's are)."""

    SEN = ("ehc_plan", "sen_support", "no_sen")

    def __init__(self, rng: np.random.Generator, schools: int = 40) -> None:
        self.rng = rng
        self.schools = school_names(schools)
        rows = []
        for school in self.schools:
            size, fsm_share = rng.integers(8, 240), rng.uniform(0.05, 0.45)
            for year in YEARS:
                for fsm, share in (("yes", fsm_share), ("no", 1 - fsm_share)):
                    pupils = rng.poisson(size * share)
                    sen = rng.multinomial(pupils, [0.03, 0.12, 0.85])
                    rows += [
                        (school, year, fsm, status, count)
                        for status, count in zip(self.SEN, sen, strict=True)
                    ]
        self.counts = pd.DataFrame(rows, columns=["school", "year_group", "fsm", "sen", "pupils"])
        self.absent = rng.binomial(self.counts["pupils"], rng.uniform(0.05, 0.3, len(rows)))
        self.score = {school: rng.normal(104, 3) for school in self.schools}

    def some_schools(self) -> pd.DataFrame:
        chosen = self.rng.choice(self.schools, size=int(self.rng.integers(4, 16)), replace=False)
        return self.counts.assign(absent=self.absent)[self.counts["school"].isin(chosen)]


def write_output(folder: Path, name: str, frame: pd.DataFrame, sidecar: dict) -> Path:
    path = folder / f"{name}.csv"
    frame.to_csv(path, index=False)
    (folder / f"{name}.csv.sdc.json").write_text(json.dumps(sidecar, indent=2))
    return path


def opensafely_counts(counts: pd.Series) -> pd.Series:
    return round_to_base(redact_small(counts, threshold=7), base=5)


def counts_by_school_year_fsm(population: Population) -> pd.DataFrame:
    """Pupils by school x year x FSM, controlled the OpenSAFELY way, with Total rows over FSM and
    over schools (recomputed from the controlled cells)."""
    data = population.some_schools()
    body = data.groupby(["school", "year_group", "fsm"], as_index=False)["pupils"].sum()
    body["pupils"] = opensafely_counts(body["pupils"])
    over_fsm = body.groupby(["school", "year_group"], as_index=False)["pupils"].sum(min_count=1)
    over_fsm["fsm"] = "Total"
    over_schools = body.groupby(["year_group", "fsm"], as_index=False)["pupils"].sum(min_count=1)
    over_schools["school"] = "Total"
    table = pd.concat([body, over_fsm, over_schools], ignore_index=True)
    return table.sort_values(["school", "year_group", "fsm"], ignore_index=True)


def absence_rates(population: Population) -> pd.DataFrame:
    data = population.some_schools()
    table = data.groupby(["school", "year_group"], as_index=False)[["absent", "pupils"]].sum()
    table.columns = ["school", "year_group", "numerator", "denominator"]
    for column in ("numerator", "denominator"):
        table[column] = opensafely_counts(table[column])
    rate = table["numerator"].astype("Float64") / table["denominator"].astype("Float64") * 100
    table["percentage"] = rate.round(1)
    return table


def mean_scores(population: Population) -> pd.DataFrame:
    data = population.some_schools()
    table = data.groupby(["school", "fsm"], as_index=False)["pupils"].sum()
    table["n"] = opensafely_counts(table["pupils"])
    table["mean_score"] = [
        round(population.score[school] + population.rng.normal(0, 1), 1)
        for school in table["school"]
    ]
    table["sd_score"] = population.rng.uniform(5, 9, len(table)).round(1)
    return table.drop(columns="pupils")


def crosstab(population: Population) -> pd.DataFrame:
    """Pupils by school (rows) and year group (columns), redacted and rounded, totals recomputed."""
    data = population.some_schools()
    counts = data.pivot_table("pupils", "school", "year_group", aggfunc="sum")[YEARS]
    counts.columns = [f"year_{year}" for year in YEARS]
    table = recompute_totals(counts.apply(opensafely_counts), label="Total")
    return table.rename_axis("school").reset_index()


def without_ehc_plan(population: Population) -> pd.DataFrame:
    """Pupils without an EHC plan by school and year group (redacted, rounded): nested in every
    table of all pupils by school and year group."""
    data = population.some_schools()
    data = data[data["sen"] != "ehc_plan"]
    table = data.groupby(["school", "year_group"], as_index=False)["pupils"].sum()
    table["pupils"] = opensafely_counts(table["pupils"])
    return table


def sen_with_true_totals(
    population: Population, protected: bool, rounded: bool = True
) -> pd.DataFrame:
    """Pupils by school x year group x SEN status, small cells suppressed and everything
    rounded to 5, but with the Total rows rounded from the true totals (not recomputed from
    the shown cells); `protected` adds secondary suppression (the next smallest cell of each
    total with one suppressed cell); `rounded=False` leaves every count unrounded (the
    mistake of a researcher who applied the threshold only)."""
    data = population.some_schools()
    groups = ["school", "year_group"]
    table = data.groupby([*groups, "sen"], as_index=False)["pupils"].sum()
    totals = table.groupby(groups, as_index=False)["pupils"].sum().assign(sen="Total")
    table = pd.concat([table, totals], ignore_index=True).sort_values(
        [*groups, "sen"], ignore_index=True
    )
    body = table["sen"] != "Total"
    small = body & (table["pupils"] <= 7)
    if protected:
        for _, group in table[body].groupby(groups):
            hidden = small[group.index]
            if hidden.sum() == 1:
                small[group["pupils"][~hidden].idxmin()] = True
    if rounded:
        table["pupils"] = round_to_base(table["pupils"])
    table["pupils"] = table["pupils"].astype(object)
    table.loc[small, "pupils"] = "[REDACTED]"
    return table


def single_number(population: Population, number: int) -> pd.DataFrame:
    """The trust's pupils, or those without an EHC plan (rounded): a differencing pair."""
    data = population.counts
    if number % 2:
        data = data[data["sen"] != "ehc_plan"]
    return pd.DataFrame({"pupils": round_to_base([int(data["pupils"].sum())])})


def sidecar(description: str, rounding: int | None = 5, **columns: dict) -> dict:
    content = {
        "description": description,
        "population": "pupils on roll at the trust's schools, autumn census 2024",
        "population_size": 8200,
        "unit": "pupil",
        "controls": "opensafely: counts of 7 or fewer redacted; counts rounded to the nearest 5",
    }
    if rounding is not None:
        content["rounding"] = rounding
    if columns:
        content["columns"] = columns
    return content


def generate_outputs(folder: Path, rng: np.random.Generator, count: int = 100) -> list[Path]:
    """`count` output tables with sidecars, cycling through the kinds researchers release."""
    population = Population(rng)
    kinds: list[Callable[[int], Path]] = [
        lambda n: write_output(
            folder,
            f"pupils_by_school_year_fsm_{n}",
            counts_by_school_year_fsm(population),
            sidecar("Pupils by school, year group and FSM eligibility", fsm={"role": "dimension"}),
        ),
        lambda n: write_output(
            folder,
            f"persistent_absence_{n}",
            absence_rates(population),
            sidecar(
                "Persistent absence by school and year group",
                numerator={"role": "numerator", "count": "denominator", "sensitive": True},
                denominator={"role": "denominator"},
                percentage={"role": "percentage", "numerator": "numerator", "count": "denominator"},
            ),
        ),
        lambda n: write_output(
            folder,
            f"ks2_scores_{n}",
            mean_scores(population),
            sidecar("Mean KS2 scaled score by school and FSM", fsm={"role": "dimension"}),
        ),
        lambda n: write_output(
            folder,
            f"pupils_crosstab_{n}",
            crosstab(population),
            sidecar("Pupils by school and year group"),
        ),
        lambda n: write_output(
            folder,
            f"sen_by_school_{n}",
            sen_with_true_totals(population, protected=n % 3 != 0, rounded=n % 4 != 0),
            sidecar("Pupils by school, year group and SEN status", rounding=5 if n % 4 else None),
        ),
        lambda n: write_output(
            folder,
            f"pupils_without_ehc_plan_{n}",
            without_ehc_plan(population),
            sidecar("Pupils without an EHC plan by school and year group"),
        ),
        lambda n: write_output(
            folder, f"pupils_total_{n}", single_number(population, n), sidecar("Pupils on roll")
        ),
    ]
    return [kinds[number % len(kinds)](number) for number in range(count)]


def large_table(folder: Path, rng: np.random.Generator) -> Path:
    """5,000 rows: 1,000 schools x year groups 7-10 and a Total row each, true totals."""
    rows = []
    for school in school_names(1_000):
        size = rng.integers(5, 120)
        counts = [(year, int(rng.poisson(size)), 0) for year in YEARS[:4]]
        counts = [(year, pupils, int(rng.binomial(pupils, 0.2))) for year, pupils, _ in counts]
        rows += [(school, year, pupils, fsm) for year, pupils, fsm in counts]
        rows.append((school, "Total", sum(row[1] for row in counts), sum(row[2] for row in counts)))
    table = pd.DataFrame(rows, columns=["school", "year_group", "pupils", "fsm_pupils"])
    for column in ("pupils", "fsm_pupils"):
        small = (table[column] <= 7) & (table["year_group"] != "Total")
        table[column] = table[column].astype(object)
        table.loc[small, column] = "[REDACTED]"
    return write_output(
        folder,
        "pupils_by_school_year_5000",
        table,
        sidecar("Pupils and FSM pupils by school and year group", rounding=None),
    )


# Differencing


def frame_table(path: str, frame: pd.DataFrame) -> Table:
    description = TableDescription(description=path, unit="pupil")
    return table_from_frame(path, frame.astype(str), description)


def differencing_tables(rng: np.random.Generator, released: int) -> tuple[Table, list[Table]]:
    """The new table and `released` tables, half by the same 30 schools (one in 25 of them
    nested with a small difference: a finding) and half by year group and region
    (unrelated)."""
    schools = school_names(30)
    everyone = rng.integers(60, 400, size=len(schools))
    without = everyone - rng.integers(12, 30, len(schools))
    new = frame_table(
        "new/pupils_without_ehcp.csv", pd.DataFrame({"school": schools, "pupils": without})
    )
    tables = []
    for number in range(released):
        if number % 50 == 0:  # nested, one school differing by 3 pupils: a finding
            pupils = without + 20
            pupils[number % len(schools)] = without[number % len(schools)] + 3
            frame = pd.DataFrame({"school": schools, "pupils": pupils})
        elif number % 2 == 0:
            frame = pd.DataFrame(
                {"school": schools, "pupils": everyone + rng.integers(0, 40, len(schools))}
            )
        else:
            frame = pd.DataFrame(
                {
                    "region": [f"Region {number % 7}"] * 5,
                    "year_group": YEARS,
                    "pupils": rng.integers(100, 900, 5),
                }
            )
        tables.append(frame_table(f"released/{number}.csv", frame))
    return new, tables


def time_differencing(rng: np.random.Generator, sizes: list[int], repeats: int) -> list[dict]:
    """For no released tables, each size (half sharing), and the unrelated half of the largest
    alone: indexing time, the matching tables and the median time of the check."""
    new, all_tables = differencing_tables(rng, max(sizes))
    unrelated = all_tables[1::2]
    configurations = [("none", []), *((f"{size:,}", all_tables[:size]) for size in sizes)]
    configurations.append((f"{len(unrelated):,} unrelated only", unrelated))
    indexed_new = ReleasedTables([new]).tables[0]
    results = []
    for label, tables in configurations:
        started = time.perf_counter()
        released = ReleasedTables(tables)
        indexing = time.perf_counter() - started
        checks = []
        for _ in range(repeats):
            started = time.perf_counter()
            findings = check_differencing([new], OPENSAFELY, released)
            checks.append(time.perf_counter() - started)
        results.append(
            {
                "released": label,
                "tables": len(tables),
                "matching": len(released.matching_rows(indexed_new)),
                "indexing": indexing,
                "check": statistics.median(checks),
                "findings": sum(len(found) for found in findings.values()),
            }
        )
    return results


# Timing the checker


def median_time(function: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def rule_shares(paths: list[Path], folder: Path) -> dict[str, float]:
    """Seconds per rule function (and per table read) in one instrumented `check_files`."""
    spent: dict[str, float] = defaultdict(float)

    def timed(function: Callable, name: str | None = None) -> Callable:
        @functools.wraps(function)
        def wrapper(*arguments, **options):
            started = time.perf_counter()
            try:
                return function(*arguments, **options)
            finally:
                spent[name or function.__name__] += time.perf_counter() - started

        return wrapper

    saved = {
        name: getattr(checker, name)
        for name in ("FILE_RULES", "TABLE_RULES", "TEXT_RULES", "REQUEST_RULES", "read_table")
    }
    try:
        for name in ("FILE_RULES", "TABLE_RULES", "TEXT_RULES", "REQUEST_RULES"):
            setattr(checker, name, tuple(timed(rule) for rule in saved[name]))
        checker.read_table = timed(read_table, "reading and structure (read_table)")
        started = time.perf_counter()
        checker.check_files(paths, OPENSAFELY, root=folder)
        spent["total"] = time.perf_counter() - started
    finally:
        for name, value in saved.items():
            setattr(checker, name, value)
    return dict(spent)


def verdict_counts(reports: list) -> str:
    counts: dict[str, int] = defaultdict(int)
    for report in reports:
        counts[report.verdict.value] += 1
    return ", ".join(f"{count} {verdict}" for verdict, count in sorted(counts.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--largest", type=int, default=5_000, help="the most released tables")
    options = parser.parse_args()
    rng = np.random.default_rng(options.seed)
    console = Console(width=110)

    with tempfile.TemporaryDirectory(prefix="osschools-sdc-bench-") as directory:
        folder = Path(directory) / "outputs"
        folder.mkdir()
        paths = generate_outputs(folder, rng)
        rows = sum(len(read_table(path).raw) for path in paths)
        checker.check_files(paths, OPENSAFELY, root=folder)  # warm-up (imports, caches)
        folder_time = median_time(
            lambda: checker.check_folder(folder, OPENSAFELY, only_new=False), options.repeats
        )
        files_time = median_time(
            lambda: checker.check_files(paths, OPENSAFELY, root=folder), options.repeats
        )
        reports = checker.check_files(paths, OPENSAFELY, root=folder)
        shares = rule_shares(paths, folder)

        big_folder = Path(directory) / "large"
        big_folder.mkdir()
        big = large_table(big_folder, rng)
        big_time = median_time(lambda: checker.check_file(big, OPENSAFELY), options.repeats)
        big_table = read_table(big)
        interval_time = median_time(
            lambda: check_suppressed_intervals(big_table, OPENSAFELY), options.repeats
        )
        big_report = checker.check_file(big, OPENSAFELY)
        big_intervals = [f for f in big_report.findings if f.rule == "suppressed_interval"]

    table = RichTable(title=f"Disclosure checks, opensafely profile (median of {options.repeats})")
    table.add_column("what")
    table.add_column("files", justify="right")
    table.add_column("rows", justify="right")
    table.add_column("time (s)", justify="right")
    table.add_column("per file (ms)", justify="right")
    table.add_column("verdicts")
    table.add_row(
        "check_folder (writes reports)",
        str(len(paths)),
        f"{rows:,}",
        f"{folder_time:.2f}",
        f"{1000 * folder_time / len(paths):.1f}",
        verdict_counts(reports),
    )
    table.add_row(
        "check_files",
        str(len(paths)),
        f"{rows:,}",
        f"{files_time:.2f}",
        f"{1000 * files_time / len(paths):.1f}",
        "",
    )
    table.add_row(
        "check_file, one 5,000-row table",
        "1",
        f"{len(big_table.raw):,}",
        f"{big_time:.2f}",
        f"{1000 * big_time:.0f}",
        big_report.verdict.value,
    )
    table.add_row(
        "  of which suppressed_interval",
        "1",
        f"{len(big_table.raw):,}",
        f"{interval_time:.2f}",
        f"{1000 * interval_time:.0f}",
        f"{len(big_intervals)} cells exposed",
    )
    console.print(table)

    share_table = RichTable(title="Share of check_files time per rule (one instrumented run)")
    share_table.add_column("rule")
    share_table.add_column("time (ms)", justify="right")
    share_table.add_column("share", justify="right")
    total = shares.pop("total")
    for name, seconds in sorted(shares.items(), key=lambda item: -item[1]):
        share_table.add_row(name, f"{1000 * seconds:.1f}", f"{100 * seconds / total:.1f}%")
    share_table.add_row("total check_files", f"{1000 * total:.1f}", "100%")
    console.print(share_table)

    sizes = sorted({size for size in (10, 100, 1_000, options.largest) if size <= options.largest})
    growth = time_differencing(rng, sizes, max(options.repeats, 5))
    growth_table = RichTable(
        title="Differencing: one new table (30 schools) against N released tables, half sharing "
        f"its dimension and schools (median of {max(options.repeats, 5)})"
    )
    for name in (
        "released",
        "matching",
        "index (ms)",
        "check (ms)",
        "over none (ms)",
        "per matching table (us)",
        "per released table (us)",
        "findings",
    ):
        growth_table.add_column(name, justify="right")
    baseline = growth[0]["check"]
    for result in growth:
        extra = result["check"] - baseline
        per_matching = f"{1e6 * extra / result['matching']:.0f}" if result["matching"] else "-"
        per_table = f"{1e6 * extra / result['tables']:.1f}" if result["tables"] else "-"
        growth_table.add_row(
            result["released"],
            f"{result['matching']:,}",
            f"{1000 * result['indexing']:.1f}",
            f"{1000 * result['check']:.2f}",
            f"{1000 * extra:.2f}",
            per_matching,
            per_table,
            str(result["findings"]),
        )
    console.print(growth_table)
    console.print(
        "The cost per matching table should stay flat as N grows (linear growth), and the "
        "unrelated tables alone should cost about nothing over none."
    )
    count, seconds = time_from_folder(rng, 1_000)
    console.print(
        f"ReleasedTables.from_folder on {count:,} released CSV files with sidecars (reading "
        f"and indexing): {seconds:.2f} s, {1000 * seconds / count:.1f} ms per file"
    )


def time_from_folder(rng: np.random.Generator, count: int) -> tuple[int, float]:
    _, tables = differencing_tables(rng, count)
    with tempfile.TemporaryDirectory(prefix="osschools-sdc-released-") as directory:
        folder = Path(directory)
        for table in tables:
            path = folder / Path(table.path).name
            table.raw.to_csv(path, index=False)
            sidecar_text = json.dumps({"description": "released table", "unit": "pupil"})
            path.with_name(path.name + ".sdc.json").write_text(sidecar_text)
        started = time.perf_counter()
        released = ReleasedTables.from_folder(folder)
        seconds = time.perf_counter() - started
    return len(released), seconds


if __name__ == "__main__":
    main()
