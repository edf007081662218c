"""Per-cell verdicts agree with ACRO 1.0.2 on count, sum and mean tables from the same microdata.

ACRO computes each table itself (`crosstab`, suppression off) in .venv-acro, through
tests/disclosure/acro/driver.py; we compute the same table with
`tabulate(..., control=False)`, write it with its description and check the files with
`check_file` under profile("srs"). ACRO's settings are the srs profile's (runner.SRS_SETTINGS).

ACRO's rules, read from its source (acro/sdcchecks.py, 1.0.2), and ours:
- threshold (MinimumThresholdCheck): fails when the cell's count of records `< safe_threshold`,
  so 9 fails and 10 passes: our srs profile, `inclusive=False` (rule `minimum_count` on `n`).
- zeros (PresenceOfZeroCheck, frequency tables only): fails when the count is 0 and
  `zeros_are_disclosive`; ours: zero is a small count (`redact_zero=True`), rule `minimum_count`.
  A zero is below the threshold too, so both of ACRO's checks flag it.
- NK (NKCheck): `sum of the safe_nk_n largest values / sum >= safe_nk_k` fails, on the limit
  included, as ours (`dominance_nk`). ACRO takes the raw values; when any value in the table is
  negative it checks no cell and asks for review of the cells with negatives (see
  test_acro_blind_spots.py); ours works on absolute values.
- p% (PPercentCheck): `(sum - largest - second) / largest < safe_pratio_p` fails, on the limit
  passes (and a largest of 0 passes). Ours, `1 - s1 - s2 < p * s1` in shares of the total, is
  the same inequality divided by the total; ACRO's largest is the maximum (nlargest for the two).
- Empty cells of a sum or mean table: ACRO's value is NaN and only the threshold flags them;
  ours are empty (not shown), so only `minimum_count` flags their `n = 0`.

Where they differ on these tables (`KNOWN_DIFFERENCES`), and why ours is right:
- Floating point: ACRO compares floating-point quotients, so a cell whose two largest values are
  exactly 90% of its sum in decimal (0.30 and 0.60 of a total of 1.00) passes in ACRO because
  0.3 + 0.6 is 0.8999999999999999 in binary floating point. The rule is about the values, not
  their binary rounding: 0.9 of 1.0 is on the limit and fails. Our check counts shares within
  1e-9 of a limit as on it.
- All contributions zero: ACRO's p% check fails the cell. Its source says "if top1==0, treat as
  non-disclosive" but writes `sub_total.where(top1 == 0, sub_total / top1)`, which keeps the
  rest (0) exactly where the largest is 0, and 0 < 0.1. With no contribution at all there is no
  largest contributor to estimate: the p% inequality, `rest < p * largest`, is 0 < 0 and passes.
  (That every unit's value is 0 is a class disclosure, not a dominance one.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from job_runner.disclosure.checker import check_file
from job_runner.disclosure.profiles import profile
from job_runner.disclosure.tabulate import tabulate
from tests.disclosure.acro.runner import acro_cells, crosstab_case, run_acro

SRS = profile("srs")
DIMENSIONS = ["school", "year"]
STATISTIC = "spend"
COMPARED = ("MinimumThresholdCheck", "PresenceOfZeroCheck", "NKCheck", "PPercentCheck")
OUR_RULES = {"dominance_nk": "NKCheck", "dominance_p": "PPercentCheck"}

# (school, year): the values of the units in that cell. Each row of the edge table sits on or
# either side of one threshold.
EDGE_CELLS: dict[tuple[str, str], list[float]] = {
    # counts 9, 10, 11 around the threshold of 10
    ("A", "Y1"): [float(value) for value in range(10, 19)],
    ("A", "Y2"): [float(value) for value in range(10, 20)],
    ("A", "Y3"): [float(value) for value in range(10, 21)],
    # a zero cell (B has units in other years, Y1 in other schools) and a single unit
    ("B", "Y2"): [500.0],
    ("B", "Y3"): [float(value) for value in range(1, 26)],
    # NK: the two largest exactly 90%, 89%, 91% of the sum
    ("C", "Y1"): [45.0, 45.0] + [1.0] * 10,
    ("C", "Y2"): [45.0, 44.0] + [1.0] * 11,
    ("C", "Y3"): [46.0, 45.0] + [1.0] * 9,
    # p%: the rest exactly 10%, 9% and 11% of the largest (100)
    ("D", "Y1"): [100.0, 50.0] + [1.0] * 10,
    ("D", "Y2"): [100.0, 50.0] + [1.0] * 9,
    ("D", "Y3"): [100.0, 50.0] + [1.0] * 11,
    # 0.30 + 0.60 of 1.00: exactly 90% in decimal, 0.8999999999999999 in floating point
    ("E", "Y1"): [0.3, 0.6] + [0.01] * 10,
    # all contributions zero; an ordinary spread
    ("E", "Y2"): [0.0] * 10,
    ("E", "Y3"): [float(value) for value in range(20, 50)],
}

# (table, key) -> (our failing checks, ACRO's failing checks) among COMPARED, and why.
STATISTIC_TABLES = ("edges sum", "edges mean", "edges sum margins", "edges mean margins")
KNOWN_DIFFERENCES = {
    **{
        (table, (("school", "E"), ("year", "Y1"))): (
            {"NKCheck"},
            set(),
            "0.3 + 0.6 of 1.0 is 90% (fails); ACRO's float quotient 0.8999999999999999 passes",
        )
        for table in STATISTIC_TABLES
    },
    **{
        (table, (("school", "E"), ("year", "Y2"))): (
            set(),
            {"PPercentCheck"},
            "all contributions 0: no largest to estimate; ACRO's inverted where() fails it",
        )
        for table in STATISTIC_TABLES
    },
}


def edge_microdata() -> pd.DataFrame:
    rows = [
        {"school": school, "year": year, STATISTIC: value}
        for (school, year), values in EDGE_CELLS.items()
        for value in values
    ]
    return pd.DataFrame(rows).sample(frac=1, random_state=4).reset_index(drop=True)


def random_microdata(seed: int = 20240901) -> pd.DataFrame:
    """Eight schools by five year groups, cells of 0 to 40 pupils, integer spends with a few
    dominant pupils."""
    generator = np.random.default_rng(seed)
    rows = []
    for school in [f"S{number:02d}" for number in range(1, 9)]:
        for year in ["Y07", "Y08", "Y09", "Y10", "Y11"]:
            size = int(generator.choice([0, 1, 3, 8, 9, 10, 11, 12, 15, 25, 40]))
            spend = np.round(generator.lognormal(3, 1, size))
            if size and generator.random() < 0.35:
                spend[0] *= generator.choice([5, 20, 100])
            rows += [{"school": school, "year": year, STATISTIC: float(v)} for v in spend]
    return pd.DataFrame(rows)


def our_cells(table: pd.DataFrame, report, count_table: bool) -> dict[tuple, set[str]]:
    """Our failing checks per cell, named as ACRO names them."""
    failed: dict[tuple, set[str]] = {
        tuple(sorted((name, str(row[name])) for name in DIMENSIONS)): set()
        for _, row in table.iterrows()
    }
    keys = list(failed)
    for finding in report.findings:
        if finding.cell is None or finding.verdict.value != "fail":
            continue
        key = keys[finding.cell.row]
        if finding.rule == "minimum_count" and finding.cell.column == "n":
            failed[key].add("MinimumThresholdCheck")
            if count_table and finding.numbers["count"] == 0:
                failed[key].add("PresenceOfZeroCheck")
        elif finding.rule in OUR_RULES and finding.cell.column == STATISTIC:
            failed[key].add(OUR_RULES[finding.rule])
    return failed


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory) -> dict[str, dict[tuple, tuple[set[str], set[str]]]]:
    """Per table, per cell: (our failing checks, ACRO's failing checks)."""
    folder = tmp_path_factory.mktemp("acro-crosscheck")
    cases, ours = [], {}
    for data_name, data in {"edges": edge_microdata(), "random": random_microdata()}.items():
        microdata = folder / f"{data_name}.csv"
        data.to_csv(microdata, index=False)
        for aggfunc in (None, "sum", "mean"):
            for margins in (False, True):
                name = f"{data_name} {aggfunc or 'count'}{' margins' if margins else ''}"
                cases.append(
                    crosstab_case(
                        name,
                        microdata,
                        ["school"],
                        ["year"],
                        values=STATISTIC if aggfunc else None,
                        aggfunc=aggfunc,
                        margins=margins,
                    )
                )
                statistics = {STATISTIC: (STATISTIC, aggfunc)} if aggfunc else {}
                result = tabulate(
                    data,
                    DIMENSIONS,
                    statistics,
                    rules=SRS,
                    control=False,
                    description=f"spend by school and year ({name})",
                    margins=margins,
                )
                path = result.write(folder / f"{name.replace(' ', '_')}.csv")
                report = check_file(path, SRS)
                ours[name] = our_cells(result.table, report, count_table=aggfunc is None)
    acro = run_acro(cases, folder)
    compared = {}
    for name, our_failed in ours.items():
        theirs = {
            key: {check for check in cell["failed"] if check in COMPARED}
            for key, cell in acro_cells(acro[name]).items()
        }
        assert set(theirs) == set(our_failed), f"{name}: not the same cells"
        assert not any(cell["review"] for cell in acro[name]["cells"]), name
        compared[name] = {key: (our_failed[key], theirs[key]) for key in our_failed}
    return compared


TABLES = [
    f"{data} {kind}{margins}"
    for data in ("edges", "random")
    for kind in ("count", "sum", "mean")
    for margins in ("", " margins")
]


@pytest.mark.parametrize("table", TABLES)
def test_per_cell_verdicts_agree_with_acro(verdicts, table):
    disagreements = {}
    for key, (ours, theirs) in verdicts[table].items():
        expected = KNOWN_DIFFERENCES.get((table, key))
        if expected is not None:
            assert (ours, theirs) == expected[:2], (key, expected[2])
        elif ours != theirs:
            disagreements[key] = {"ours": sorted(ours), "acro": sorted(theirs)}
    assert disagreements == {}


def test_the_tables_exercise_every_compared_check(verdicts):
    flagged = set()
    for cells in verdicts.values():
        for ours, theirs in cells.values():
            flagged |= ours & theirs
    assert flagged == set(COMPARED)


def key(school: str, year: str) -> tuple:
    return (("school", school), ("year", year))


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ((key("A", "Y1")), {"MinimumThresholdCheck"}),  # 9 units
        ((key("A", "Y2")), set()),  # 10 units
        ((key("A", "Y3")), set()),  # 11 units
        ((key("B", "Y1")), {"MinimumThresholdCheck", "PresenceOfZeroCheck"}),  # no units
        ((key("B", "Y2")), {"MinimumThresholdCheck"}),  # one unit
    ],
)
def test_counts_on_and_either_side_of_the_threshold(verdicts, cell, expected):
    assert verdicts["edges count"][cell] == (expected, expected)


@pytest.mark.parametrize("table", ["edges sum", "edges mean"])
@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (key("C", "Y1"), {"NKCheck"}),  # the two largest exactly 90%
        (key("C", "Y2"), set()),  # 89%
        (key("C", "Y3"), {"NKCheck"}),  # 91%
        (key("D", "Y1"), {"NKCheck"}),  # the rest exactly 10% of the largest: p% passes
        (key("D", "Y2"), {"NKCheck", "PPercentCheck"}),  # 9%
        (key("D", "Y3"), {"NKCheck"}),  # 11%
        (key("B", "Y2"), {"MinimumThresholdCheck", "NKCheck", "PPercentCheck"}),  # one unit
        (key("B", "Y1"), {"MinimumThresholdCheck"}),  # empty
    ],
)
def test_dominance_on_and_either_side_of_the_limits(verdicts, table, cell, expected):
    assert verdicts[table][cell] == (expected, expected)


@pytest.mark.parametrize("table", ["edges sum", "edges mean"])
def test_where_acro_is_wrong_we_differ_as_documented(verdicts, table):
    # Exactly 90% in decimal: we fail it, ACRO's floating point passes it.
    assert verdicts[table][key("E", "Y1")] == ({"NKCheck"}, set())
    # All ten contributions zero: no dominance (we pass); ACRO's p% fails it.
    assert verdicts[table][key("E", "Y2")] == (set(), {"PPercentCheck"})


def test_margins_are_checked_like_cells(verdicts):
    # School B's total (26 units) passes; year Y1's total includes A's 9 units and passes.
    for table in ("edges count margins", "edges sum margins"):
        assert verdicts[table][key("B", "Total")] == (set(), set())
        assert verdicts[table][key("Total", "Total")] == (set(), set())
    # School D's total is dominated by its three 100s: (100 + 100) / 492 is 41%, so it passes.
    assert verdicts["edges sum margins"][key("D", "Total")] == (set(), set())
