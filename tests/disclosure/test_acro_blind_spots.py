"""ACRO 1.0.2's blind spots (sdc.md, "Known limits of the reference tool"): each test shows ACRO
not flagging a disclosure, run on the equivalent microdata where that means something, and our
checker (`check_files` on the output files, profile("srs")) catching it.

ACRO runs once for every case (tests/disclosure/acro/driver.py in .venv-acro).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from job_runner.disclosure.checker import check_file, check_files
from job_runner.disclosure.description import TableDescription, write_description
from job_runner.disclosure.profiles import profile
from job_runner.disclosure.report import Verdict
from job_runner.disclosure.tabulate import tabulate
from tests.disclosure.acro.runner import (
    acro_cells,
    crosstab_case,
    custom_case,
    ols_case,
    run_acro,
)

SRS = profile("srs")


def pupils(sizes: dict[str, int], **columns) -> pd.DataFrame:
    """`sizes[school]` pupils per school, all in one phase (ACRO's crosstab needs a column)."""
    schools = [school for school, size in sizes.items() for _ in range(size)]
    return pd.DataFrame({"school": schools, "phase": "secondary", **columns})


def failures(report, rule: str) -> list[tuple]:
    """Our failing findings of one rule, as (row, column) (None for the whole file)."""
    return [
        (finding.cell.row, finding.cell.column) if finding.cell else None
        for finding in report.findings
        if finding.rule == rule and finding.verdict is Verdict.FAIL
    ]


def describe(path, description: str, **fields) -> None:
    write_description(path, TableDescription(description=description, **fields))


def flagged(case) -> dict[tuple, dict]:
    """ACRO's flags per cell: the cells with a failed or review check."""
    return {
        key: {"failed": cell["failed"], "review": cell["review"]}
        for key, cell in acro_cells(case).items()
        if cell["failed"] or cell["review"]
    }


# The cases: microdata for ACRO, output files for us


def differencing_case(folder):
    """All pupils by school, and pupils without an EHC plan by school: every count is 25 or
    more, but the two tables differ by 1 to 3 pupils per school, the pupils with a plan."""
    everyone = pupils({"A": 40, "B": 30, "C": 25})
    everyone["ehcp"] = [index in (0, 1, 40, 70, 71, 72) for index in range(len(everyone))]
    without = everyone[~everyone.ehcp]
    files = []
    for name, data, population in (
        ("all_pupils", everyone, "all pupils on roll"),
        ("without_ehcp", without, "pupils on roll without an EHC plan"),
    ):
        data.to_csv(folder / f"{name}_microdata.csv", index=False)
        result = tabulate(
            data, "school", {"pupils": "count"}, rules=SRS,
            description="Pupils by school", population=population, unit="pupil",
        )  # fmt: skip
        files.append(result.write(folder / f"{name}.csv"))
    cases = [
        crosstab_case(
            f"differencing {name}", folder / f"{name}_microdata.csv", ["school"], ["phase"]
        )  # fmt: skip
        for name in ("all_pupils", "without_ehcp")
    ]
    return cases, files


def suppressed_total_case(folder):
    """Pupils by year with year 8's 8 pupils suppressed, and the total kept: 63 - 25 - 30 = 8."""
    data = pd.DataFrame({"year": ["7"] * 25 + ["8"] * 8 + ["9"] * 30, "phase": "secondary"})
    data.to_csv(folder / "years_microdata.csv", index=False)
    table = folder / "pupils_by_year.csv"
    table.write_text("year,pupils\n7,25\n8,\n9,30\nTotal,63\n")
    describe(
        table,
        "Pupils by year group",
        population="pupils on roll",
        unit="pupil",
        controls="counts below 10 suppressed",
        rounding="none",
        total_label="Total",
    )
    case = crosstab_case("suppressed total", folder / "years_microdata.csv", ["year"], ["phase"],
                         margins=True)  # fmt: skip
    return [case], [table]


def model_case(folder):
    """Attainment on KS2 with a school fixed effect, where school E has one pupil: its
    coefficient is that pupil's residual."""
    generator = np.random.default_rng(7)
    data = pupils({"A": 40, "B": 40, "C": 40, "D": 40, "E": 1})
    data["ks2"] = generator.normal(105, 5, len(data)).round(1)
    effects = data.school.map({"A": 0, "B": 1, "C": -1, "D": 2, "E": 5})
    data["score"] = (0.5 * data.ks2 + effects + generator.normal(0, 2, len(data))).round(2)
    data.to_csv(folder / "model_microdata.csv", index=False)
    formula = "score ~ ks2 + C(school)"
    fit = smf.ols(formula, data).fit()
    units = data.school.value_counts()
    table = pd.DataFrame(
        {
            "term": fit.params.index,
            "coef": fit.params.round(4).to_numpy(),
            "std_err": fit.bse.round(4).to_numpy(),
            "p_value": fit.pvalues.round(4).to_numpy(),
            # The pupils each term is estimated from: a school's dummy, its school's pupils.
            "n": [
                int(units[term[-2]]) if term.startswith("C(school)") else len(data)
                for term in fit.params.index
            ],  # fmt: skip
        }
    )
    path = folder / "model.csv"
    table.to_csv(path, index=False)
    describe(path, "Attainment on KS2 with school fixed effects", unit="pupil")
    return [ols_case("single-unit fixed effect", folder / "model_microdata.csv", formula)], [path]


def maximum_case(folder):
    """The most sessions missed by a pupil, per school of exactly 10 pupils."""
    data = pupils({"A": 10, "B": 10, "C": 10}, sessions_missed=list(range(3, 33)))
    data.to_csv(folder / "sessions_microdata.csv", index=False)
    table = data.groupby("school").agg(
        n=("sessions_missed", "size"), max_sessions_missed=("sessions_missed", "max")
    )
    path = folder / "max_sessions.csv"
    table.to_csv(path)
    describe(path, "Most sessions missed per school", unit="pupil")
    case = crosstab_case("maximum over 10 units", folder / "sessions_microdata.csv", ["school"],
                         ["phase"], values="sessions_missed", aggfunc="max")  # fmt: skip
    return [case], [path]


def custom_table_case(folder):
    """A table the researcher made with pandas, with a school of 4 pupils."""
    path = folder / "made_elsewhere.csv"
    path.write_text("school,pupils\nA,40\nB,4\nC,25\n")
    describe(path, "Pupils by school", population="pupils on roll", unit="pupil")
    return [custom_case("a table made some other way", path)], [path]


def negative_case(folder):
    """Change in spend per school: school A is +500 and -490 (and ten pupils at +1), school B
    one pupil's +1,000 (and ten at +1), school C spread out."""
    data = pd.concat(
        [
            pupils({"A": 12}, change=[500.0, -490.0] + [1.0] * 10),
            pupils({"B": 11}, change=[1000.0] + [1.0] * 10),
            pupils({"C": 20}, change=[float(value) for value in range(1, 21)]),
        ]
    )
    data.to_csv(folder / "change_microdata.csv", index=False)
    result = tabulate(
        data, "school", {"change": ("change", "sum")}, rules=SRS, control=False,
        description="Change in spend per school", unit="pupil",
    )  # fmt: skip
    case = crosstab_case("negative values", folder / "change_microdata.csv", ["school"],
                         ["phase"], values="change", aggfunc="sum")  # fmt: skip
    return [case], [result.write(folder / "change.csv")]


CASES = {
    "differencing": differencing_case,
    "suppressed total": suppressed_total_case,
    "model": model_case,
    "maximum": maximum_case,
    "custom": custom_table_case,
    "negative": negative_case,
}


@pytest.fixture(scope="module")
def blind_spots(tmp_path_factory):
    """Per blind spot: our output files; and ACRO's verdicts by case name."""
    folder = tmp_path_factory.mktemp("acro-blind-spots")
    cases, files = [], {}
    for name, make in CASES.items():
        acro_cases, files[name] = make(folder)
        cases += acro_cases
    return files, run_acro(cases, folder)


def test_differencing_between_two_tables(blind_spots):
    files, acro = blind_spots
    for name in ("differencing all_pupils", "differencing without_ehcp"):
        assert acro[name]["status"] == "pass"
        assert flagged(acro[name]) == {}
    # Each table on its own passes our checks too: every count is 25 or more.
    for path in files["differencing"]:
        assert check_file(path, SRS).failures() == []
    # Together they differ by 1 to 3 pupils per school: the pupils with an EHC plan.
    reports = check_files(files["differencing"], SRS)
    assert any(failures(report, "differencing") for report in reports)


def test_totals_revealing_a_suppressed_cell(blind_spots):
    files, acro = blind_spots
    case = acro["suppressed total"]
    # ACRO flags year 8 (8 pupils), but nothing in its margins, which give year 8 away.
    assert {dict(key)["year"] for key in flagged(case)} == {"8"}
    assert all(dict(key)["year"] != "Total" for key in flagged(case))
    [table] = files["suppressed total"]
    report = check_file(table, SRS)
    assert failures(report, "minimum_count") == []  # what ACRO checks is fine as released
    assert failures(report, "suppressed_interval")


def test_a_single_unit_fixed_effect_in_a_model(blind_spots):
    files, acro = blind_spots
    case = acro["single-unit fixed effect"]
    assert "C(school)[T.E]" in case["terms"]
    assert case["df_resid"] >= 10
    assert case["status"] == "pass"
    [table] = files["model"]
    report = check_file(table, SRS)
    rows = pd.read_csv(table)
    school_e = int(rows.index[rows.term == "C(school)[T.E]"][0])
    assert school_e in [cell[0] for cell in failures(report, "model_cell")]


def test_a_maximum_over_ten_units(blind_spots):
    files, acro = blind_spots
    case = acro["maximum over 10 units"]
    assert case["status"] == "pass"
    assert flagged(case) == {}
    [table] = files["maximum"]
    assert sorted(failures(check_file(table, SRS), "extreme")) == [
        (0, "max_sessions_missed"),
        (1, "max_sessions_missed"),
        (2, "max_sessions_missed"),
    ]


def test_a_table_made_some_other_way(blind_spots):
    files, acro = blind_spots
    case = acro["a table made some other way"]
    # ACRO takes it as a custom output: recorded for review, no check run.
    assert case["status"] == "review"
    assert case["sdc"] == {}
    [table] = files["custom"]
    assert failures(check_file(table, SRS), "minimum_count") == [(1, "pupils")]


def test_dominance_with_negative_values(blind_spots):
    files, acro = blind_spots
    case = acro["negative values"]
    by_school = {dict(key)["school"]: flags for key, flags in flagged(case).items()}
    # ACRO gives up on school A (a negative value: review, no verdict) and, because the table
    # has a negative value, checks no other cell: school B's single dominant pupil goes unseen.
    assert by_school == {"A": {"failed": [], "review": ["NKCheck", "PPercentCheck"]}}
    [table] = files["negative"]
    report = check_file(table, SRS)
    assert sorted(failures(report, "dominance_nk")) == [(0, "change"), (1, "change")]
    assert sorted(failures(report, "dominance_p")) == [(0, "change"), (1, "change")]
