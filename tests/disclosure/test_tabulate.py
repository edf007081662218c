"""tabulate: tables from microdata, their description and dominance evidence, and the controls."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from job_runner.disclosure.checker import check_file
from job_runner.disclosure.description import Role, read_description
from job_runner.disclosure.profiles import profile
from job_runner.disclosure.tabulate import tabulate

OPENSAFELY = profile("opensafely")
SRS = profile("srs")


def pupils(groups: dict[str, list[float]], column: str = "spend") -> pd.DataFrame:
    """One row per pupil: school -> the pupils' values."""
    return pd.DataFrame(
        [{"school": school, column: value} for school, values in groups.items() for value in values]
    )


def cells(frame: pd.DataFrame, column: str) -> list:
    return [None if pd.isna(value) else value for value in frame[column]]


def raw(data, by, statistics=None, **options):
    return tabulate(data, by, statistics, control=False, description="a test table", **options)


def controlled(data, by, statistics=None, rules=SRS, **options):
    return tabulate(data, by, statistics, rules=rules, description="a test table", **options)


# The raw table


def test_one_row_per_group_with_every_combination_and_a_count():
    data = pd.DataFrame({"school": ["B", "A", "A", "B"], "year": [8, 7, 7, 7]})
    table = raw(data, ["school", "year"]).table
    assert table.to_dict("list") == {
        "school": ["A", "A", "B", "B"],
        "year": [7, 8, 7, 8],
        "n": [2, 0, 1, 1],  # A has no year 8 pupils: a zero cell, shown
    }


def test_statistics_of_each_kind():
    data = pd.DataFrame(
        {"school": ["A"] * 4 + ["B"] * 2, "score": [1.0, 2.0, 3.0, None, 10.0, 20.0]}
    )
    statistics = {
        "pupils": "count",
        "scores": ("score", "count"),
        "total": ("score", "sum"),
        "mean": ("score", "mean"),
        "sd": ("score", "sd"),
        "median": ("score", "median"),
    }
    table = raw(data, "school", statistics).table
    assert list(table.columns) == ["school", *statistics]  # no `n`: "pupils" counts the units
    assert table.to_dict("list") == {
        "school": ["A", "B"],
        "pupils": [4, 2],
        "scores": [3, 2],  # values present
        "total": [6.0, 30.0],
        "mean": [2.0, 15.0],
        "sd": [1.0, pytest.approx(7.0710678)],
        "median": [2.0, 15.0],
    }


def test_rows_without_a_group_are_left_out():
    data = pd.DataFrame({"school": ["A", None, "A"]})
    assert raw(data, "school").table.to_dict("list") == {"school": ["A"], "n": [2]}


def test_margins_in_crosstab_order_over_all_units():
    data = pd.DataFrame(
        {"school": ["A", "A", "B"], "year": ["7", "8", "8"], "spend": [1.0, 2.0, 4.0]}
    )
    table = raw(data, ["school", "year"], {"spend": ("spend", "sum")}, margins=True).table
    rows = zip(table.school, table.year, cells(table, "n"), cells(table, "spend"), strict=True)
    assert list(rows) == [
        ("A", "7", 1, 1.0),
        ("A", "8", 1, 2.0),
        ("A", "Total", 2, 3.0),
        ("B", "7", 0, None),  # no units: no sum
        ("B", "8", 1, 4.0),
        ("B", "Total", 1, 4.0),
        ("Total", "7", 1, 1.0),
        ("Total", "8", 2, 6.0),
        ("Total", "Total", 3, 7.0),
    ]


def test_the_raw_table_is_not_controlled():
    result = raw(pupils({"A": [1.0] * 3}), "school", {"spend": ("spend", "sum")})
    assert cells(result.table, "n") == [3]
    assert result.notes.to_dict("list") == {
        "school": ["A"],
        "n": ["unchanged"],
        "spend": ["unchanged"],
    }
    assert "not for release" in result.description.controls


# Controls: counts


@pytest.mark.parametrize(
    ("rules", "sizes", "expected"),
    [
        # 7 or fewer redacted, the rest rounded to 5
        (OPENSAFELY, [0, 6, 7, 8, 12], [None, None, None, 10, 10]),
        # fewer than 10 redacted, the rest shown as they are
        (SRS, [0, 8, 9, 10, 11], [None, None, None, 10, 11]),
    ],
    ids=["opensafely", "srs"],
)
def test_counts_are_controlled_by_the_profile(rules, sizes, expected):
    data = pd.DataFrame(
        {
            "school": [f"S{place}" for place, size in enumerate(sizes) for _ in range(size)],
            "year": ["7"] * sum(sizes),
        }
    )
    data.loc[len(data)] = ["S0", "8"]  # S0 has nobody in year 7: a zero cell
    result = controlled(data, ["school", "year"], rules=rules)
    year7 = result.table[result.table.year == "7"]
    assert cells(year7, "n") == expected


def test_count_notes_say_what_was_done():
    data = pupils({"A": [1.0] * 7, "B": [1.0] * 12})
    result = controlled(data, "school", rules=OPENSAFELY)
    assert result.notes.to_dict("list") == {
        "school": ["A", "B"],
        "n": ["redacted: small count", "rounded"],
    }


# Controls: statistics


@pytest.mark.parametrize("rules", [OPENSAFELY, SRS], ids=lambda rules: rules.name)
def test_statistics_over_a_small_group_are_redacted(rules):
    small = rules.smallest_safe_count - 1
    data = pupils({"A": [2.0] * small, "B": [2.0] * (small + 1)})
    result = controlled(data, "school", {"mean": ("spend", "mean")}, rules=rules)
    assert cells(result.table, "mean") == [None, 2.0]
    assert result.notes["mean"].tolist() == ["redacted: small count", "unchanged"]


def test_a_statistic_counts_the_values_present_not_the_rows():
    # Ten pupils, but only nine spends: the mean is over nine.
    data = pupils({"A": [1.0] * 9 + [None]})
    result = controlled(data, "school", {"mean": ("spend", "mean")})
    assert cells(result.table, "n") == [10]
    assert cells(result.table, "mean") == [None]


@pytest.mark.parametrize(
    ("size", "shown"),
    [(10, False), (11, True)],  # srs: n - 1 >= 10
)
def test_standard_deviations_need_degrees_of_freedom(size, shown):
    data = pupils({"A": [float(value) for value in range(size)]})
    result = controlled(data, "school", {"sd": ("spend", "sd")})
    assert (cells(result.table, "sd") != [None]) is shown
    if not shown:
        assert result.notes["sd"].tolist() == ["redacted: too few degrees of freedom"]


@pytest.mark.parametrize(
    ("values", "note"),
    [
        ([45.0, 44.0] + [1.0] * 11, "unchanged"),  # the two largest are 89%
        ([45.0, 45.0] + [1.0] * 10, "redacted: dominance (NK)"),  # exactly 90%
        ([100.0, 50.0] + [1.0] * 10, "redacted: dominance (NK)"),  # NK and p% on its limit
    ],
)
def test_dominated_sums_and_means_are_redacted(values, note):
    statistics = {"spend": ("spend", "sum"), "mean": ("spend", "mean"), "sd": ("spend", "sd")}
    result = controlled(pupils({"A": values}), "school", statistics)
    assert result.notes.loc[0, ["spend", "mean", "sd"]].tolist() == [note] * 3


def test_a_sum_failing_only_the_p_rule_is_redacted_for_it():
    rules = profile("srs", nk_n=0)
    result = controlled(pupils({"A": [100.0, 50.0] + [1.0] * 9}), "school",
                        {"spend": ("spend", "sum")}, rules=rules)  # fmt: skip
    assert result.notes["spend"].tolist() == ["redacted: dominance (p%)"]


def test_dominance_with_negative_values_is_on_absolute_values():
    values = [500.0, -490.0] + [1.0] * 10  # sums to 20; the two largest are 99% of 1,000
    result = controlled(pupils({"A": values}), "school", {"spend": ("spend", "sum")})
    assert result.notes["spend"].tolist() == ["redacted: dominance (NK)"]


def test_a_sum_of_a_zero_one_column_is_a_count_of_units():
    data = pd.DataFrame({"school": ["A"] * 20 + ["B"] * 20, "fsm": [True] * 3 + [False] * 37})
    result = controlled(
        data, "school", {"fsm_pupils": ("fsm", "sum"), "fsm_share": ("fsm", "mean")},
        rules=OPENSAFELY,
    )  # fmt: skip
    # 3 FSM pupils would pass a dominance check (three equal shares): as a count it is small.
    assert cells(result.table, "fsm_pupils") == [None, None]
    assert cells(result.table, "fsm_share") == [None, None]
    assert result.description.columns["fsm_pupils"].role is Role.NUMERATOR
    assert result.description.columns["fsm_share"].role is Role.PROPORTION


def test_a_proportion_is_recomputed_from_the_rounded_counts():
    data = pd.DataFrame({"school": ["A"] * 22, "fsm": [1] * 9 + [0] * 13})
    result = controlled(
        data, "school", {"fsm_pupils": ("fsm", "sum"), "fsm_share": ("fsm", "mean")},
        rules=OPENSAFELY,
    )  # fmt: skip
    assert cells(result.table, "fsm_pupils") == [10]  # 9 rounded to 10
    assert cells(result.table, "fsm_share") == [0.5]  # 10 / 20, not 9 / 22
    assert result.notes["fsm_share"].tolist() == ["recomputed from the controlled counts"]


# Controls: totals


def test_totals_are_recomputed_from_the_shown_cells():
    data = pupils({"A": [2.0] * 12, "B": [100.0] * 3, "C": [1.0] * 20})
    result = controlled(data, "school", {"spend": ("spend", "sum"), "mean": ("spend", "mean")},
                        rules=OPENSAFELY, margins=True)  # fmt: skip
    table = result.table
    assert cells(table, "school") == ["A", "B", "C", "Total"]
    # B (3 pupils) redacted: the totals leave it out, so they cannot give it away.
    assert cells(table, "n") == [10, None, 20, 30]  # the sum of the rounded counts
    assert cells(table, "spend") == [24.0, None, 20.0, 44.0]
    assert cells(table, "mean") == [2.0, None, 1.0, pytest.approx(44 / 32)]  # over 32 pupils
    assert result.notes.iloc[3].tolist() == [
        "Total",
        "recomputed: sum of the shown cells",
        "recomputed: over the units of the shown cells",
        "recomputed: over the units of the shown cells",
    ]


def test_a_total_of_only_redacted_cells_is_empty():
    result = controlled(pupils({"A": [1.0] * 3, "B": [1.0] * 4}), "school", margins=True)
    assert cells(result.table, "n") == [None, None, None]
    assert result.notes["n"].tolist()[-1] == "empty: no cell shown to total"


def test_totals_of_two_dimensions():
    data = pd.DataFrame(
        {
            "school": ["A"] * 30 + ["B"] * 25,
            "year": ["7"] * 15 + ["8"] * 15 + ["7"] * 5 + ["8"] * 20,
        }
    )
    table = controlled(data, ["school", "year"], margins=True).table
    assert list(zip(table.school, table.year, cells(table, "n"), strict=True)) == [
        ("A", "7", 15),
        ("A", "8", 15),
        ("A", "Total", 30),
        ("B", "7", None),
        ("B", "8", 20),
        ("B", "Total", 20),
        ("Total", "7", 15),
        ("Total", "8", 35),
        ("Total", "Total", 50),
    ]


def test_without_rules_the_default_profile_controls():
    result = tabulate(pupils({"A": [1.0] * 7}), "school", description="a test table")
    assert cells(result.table, "n") == [None]
    assert result.description.controls.startswith("opensafely")


# The description and the evidence


def test_the_description_states_every_column():
    result = controlled(
        pupils({"A": [float(value) for value in range(12)]}),
        "school",
        {"spend": ("spend", "sum"), "mean": ("spend", "mean"), "sd": ("spend", "sd")},
        rules=OPENSAFELY,
        population="pupils at the trust's schools",
        unit="pupil",
        margins=True,
    )
    description = result.description
    assert {name: column.role for name, column in description.columns.items()} == {
        "school": Role.DIMENSION,
        "n": Role.COUNT,
        "spend": Role.SUM,
        "mean": Role.MEAN,
        "sd": Role.SD,
    }
    assert description.columns["mean"].count == "n"
    assert description.columns["n"].rounding == 5
    assert (description.rounding, description.total_label) == (5, "Total")
    assert (description.population, description.unit) == ("pupils at the trust's schools", "pupil")
    assert description.controls.startswith("opensafely: counts of 7 or fewer redacted")


def test_sensitive_dimensions_are_marked_as_the_checker_would_infer():
    data = pd.DataFrame({"fsm": [True] * 10, "school": ["A"] * 10})
    columns = controlled(data, ["school", "fsm"]).description.columns
    assert (columns["fsm"].sensitive, columns["school"].sensitive) == (True, False)


def test_evidence_for_each_shown_sum_and_mean():
    data = pupils({"A": [4.0, -3.0, 2.0, 1.0] + [0.0] * 8, "B": [1.0] * 3})
    result = controlled(data, "school", {"spend": ("spend", "sum"), "sd": ("spend", "sd")})
    [evidence] = result.description.contributors  # not B (redacted), not the sd
    assert evidence.model_dump() == {
        "key": {"school": "A"},
        "column": "spend",
        "n": 12,
        "largest_shares": [0.4, 0.3],  # of the absolute total, 10
        "negative": True,
    }


def test_the_evidence_holds_as_many_shares_as_the_profile_needs():
    data = pupils({"A": [float(value) for value in range(1, 21)]})
    for rules, shares in ((SRS, 2), (profile("srs", nk_n=4), 4)):
        result = raw(data, "school", {"spend": ("spend", "sum")}, rules=rules)
        assert len(result.description.contributors[0].largest_shares) == shares


def test_write_puts_the_table_and_its_description_side_by_side(tmp_path):
    data = pupils({"A": [45.0, 45.0] + [1.0] * 10, "B": [float(v) for v in range(1, 31)]})
    result = raw(data, "school", {"spend": ("spend", "sum")}, rules=SRS)
    path = result.write(tmp_path / "spend.csv")
    assert path.read_text().splitlines() == ["school,n,spend", "A,12,100.0", "B,30,465.0"]
    assert read_description(path) == result.description
    released = json.loads((tmp_path / "spend.csv.sdc.json").read_text())
    assert released["description"]
    # The evidence (largest contributions) is kept apart from the released description.
    assert "contributors" not in released
    evidence = json.loads((tmp_path / "spend.csv.sdc-evidence.json").read_text())
    assert len(evidence["contributors"]) == 2
    assert sorted(item.name for item in tmp_path.iterdir()) == [
        "spend.csv",
        "spend.csv.sdc-evidence.json",
        "spend.csv.sdc.json",
    ]


def failures(report) -> list[tuple]:
    return sorted(
        (finding.rule, finding.cell.row, finding.cell.column)
        for finding in report.findings
        if finding.verdict.value == "fail" and finding.cell is not None
    )


def test_the_checker_finds_what_the_controls_remove(tmp_path):
    data = pupils(
        {
            "A": [45.0, 45.0] + [1.0] * 10,  # dominated
            "B": [1.0] * 9,  # small
            "C": [float(value) for value in range(1, 31)],
        }
    )
    statistics = {"spend": ("spend", "sum"), "mean": ("spend", "mean")}
    raw_path = raw(data, "school", statistics, rules=SRS).write(tmp_path / "raw.csv")
    report = check_file(raw_path, SRS)
    assert {
        finding for finding in failures(report) if finding[0] in ("minimum_count", "dominance_nk")
    } == {
        ("dominance_nk", 0, "spend"),
        ("dominance_nk", 0, "mean"),
        ("minimum_count", 1, "n"),
    }
    safe = controlled(data, "school", statistics, rules=SRS, margins=True)
    report = check_file(safe.write(tmp_path / "safe.csv"), SRS)
    assert failures(report) == []
    assert not [finding for finding in report.findings if finding.rule.startswith("dominance")]


# Mistakes


@pytest.mark.parametrize(
    ("by", "statistics", "message"),
    [
        ("class", {}, "no such column"),
        ("school", {"x": ("missing", "sum")}, "no column 'missing'"),
        ("school", {"x": ("spend", "max")}, "must be one of count, sum, mean, sd, median"),
        ("school", {"x": ("name", "mean")}, "not numeric"),
        ("school", {"n": ("spend", "sum")}, 'name it with a "count" statistic'),
        ("school", {"a": "count", "b": "count"}, "once"),
        ("school", {"school": ("spend", "sum")}, "both a `by` column and a statistic"),
        ("school", {"x": "mean"}, 'expected "count" or (column, aggregation)'),
        ([], {}, "at least one column"),
    ],
)
def test_mistakes_are_explained(by, statistics, message):
    data = pd.DataFrame({"school": ["A"], "spend": [1.0], "name": ["x"]})
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        raw(data, by, statistics)


def test_a_group_called_total_is_refused():
    with pytest.raises(ValueError, match="label of the total rows"):
        raw(pd.DataFrame({"school": ["Total"]}), "school")
