"""Extremes, percentiles and standard deviations: each on and either side of its threshold, for
both profiles and with overrides."""

import pytest

from job_runner.disclosure.profiles import profile
from job_runner.disclosure.rules.statistics import (
    check_extremes,
    check_percentiles,
    check_standard_deviations,
)
from tests.disclosure.conftest import found, table_from_csv

OPENSAFELY = profile("opensafely")
SRS = profile("srs")


# Extremes


def test_a_maximum_fails_in_every_shown_cell():
    table = table_from_csv(
        """
        school,n,max_sessions_missed
        A,40,61
        B,35,[REDACTED]
        """
    )
    assert found(check_extremes(table, OPENSAFELY)) == [
        ("extreme", "fail", 0, "max_sessions_missed")
    ]


def test_minimum_and_range_fail_too():
    table = table_from_csv(
        """
        school,n,min_score,score_range
        A,40,81,38
        """
    )
    assert found(check_extremes(table, SRS)) == [
        ("extreme", "fail", 0, "min_score"),
        ("extreme", "fail", 0, "score_range"),
    ]


def test_the_message_says_how_to_declare_a_design_bound():
    table = table_from_csv("school,n,max_score\nA,40,120\n")
    [finding] = check_extremes(table, OPENSAFELY)
    assert '"design_bound": true' in finding.message
    assert "table.csv.sdc.json" in finding.message


def test_a_declared_design_bound_passes():
    table = table_from_csv(
        """
        school,n,max_possible_sessions,max_score
        A,40,380,117
        """,
        {"columns": {"max_possible_sessions": {"role": "maximum", "design_bound": True}}},
    )
    assert found(check_extremes(table, OPENSAFELY)) == [("extreme", "fail", 0, "max_score")]


def test_a_profile_allowing_extremes_passes_them():
    table = table_from_csv("school,n,max_score\nA,40,117\n")
    assert check_extremes(table, profile("srs", extremes_allowed=True)) == []


# Percentiles: the group's count must be at least the smallest safe count (8 opensafely, 10 srs).


def median_table(n: int):
    return table_from_csv(f"school,n,median_score\nA,{n},101\n")


@pytest.mark.parametrize(
    "rules, n, verdicts",
    [
        (OPENSAFELY, 7, ["fail"]),
        (OPENSAFELY, 8, []),
        (OPENSAFELY, 9, []),
        (SRS, 9, ["fail"]),
        (SRS, 10, []),
        (SRS, 11, []),
        (profile("srs", threshold=5), 4, ["fail"]),
        (profile("srs", threshold=5), 5, []),
        (profile("opensafely", threshold=10), 10, ["fail"]),
        (profile("opensafely", threshold=10), 11, []),
    ],
)
def test_percentile_threshold(rules, n, verdicts):
    findings = check_percentiles(median_table(n), rules)
    assert [(f.rule, f.verdict.value) for f in findings] == [("percentile", v) for v in verdicts]


def test_a_small_group_fails_only_its_own_percentiles():
    table = table_from_csv(
        """
        year_group,pupils,p25_score,p75_score
        7,30,96,108
        8,6,95,110
        Total,36,96,109
        """,
        {"total_label": "Total", "columns": {"pupils": {"role": "count"}}},
    )
    assert found(check_percentiles(table, OPENSAFELY)) == [
        ("percentile", "fail", 1, "p25_score"),
        ("percentile", "fail", 1, "p75_score"),
    ]
    [first, _] = check_percentiles(table, OPENSAFELY)
    assert first.numbers == {"n": 6.0, "smallest_safe_count": 8, "count_column": "pupils"}


def test_a_suppressed_percentile_is_not_checked():
    table = table_from_csv("school,n,median_score\nA,[REDACTED],[REDACTED]\n")
    assert check_percentiles(table, OPENSAFELY) == []


def test_a_percentile_whose_count_is_suppressed_needs_review():
    table = table_from_csv(
        "school,n,median_score\nA,[REDACTED],101\n", {"columns": {"n": {"role": "count"}}}
    )
    assert found(check_percentiles(table, OPENSAFELY)) == [
        ("percentile", "needs review", 0, "median_score")
    ]


def test_a_percentile_without_a_count_needs_review():
    table = table_from_csv("school,median_score\nA,101\nB,99\n")
    assert found(check_percentiles(table, SRS)) == [("percentile", "needs review", None, None)]


def test_the_described_count_is_used():
    table = table_from_csv(
        """
        school,pupils,sessions,median_score
        A,5,2000,101
        """,
        {"columns": {"median_score": {"role": "percentile", "count": "pupils"}}},
    )
    assert found(check_percentiles(table, OPENSAFELY)) == [
        ("percentile", "fail", 0, "median_score")
    ]


# Standard deviations: n - 1 >= sd_min_df (7 opensafely, 10 srs), and n not small.


def sd_table(n: int):
    return table_from_csv(f"school,n,sd_score\nA,{n},12.5\n")


@pytest.mark.parametrize(
    "rules, n, verdicts",
    [
        (OPENSAFELY, 7, ["fail"]),  # df 6
        (OPENSAFELY, 8, []),  # df 7
        (OPENSAFELY, 9, []),
        (SRS, 10, ["fail"]),  # df 9
        (SRS, 11, []),  # df 10
        (SRS, 12, []),
        (profile("opensafely", sd_min_df=10), 10, ["fail"]),
        (profile("opensafely", sd_min_df=10), 11, []),
        # A lower df rule still needs n not small: srs's smallest safe count is 10.
        (profile("srs", sd_min_df=2), 9, ["fail"]),
        (profile("srs", sd_min_df=2), 10, []),
    ],
)
def test_standard_deviation_threshold(rules, n, verdicts):
    findings = check_standard_deviations(sd_table(n), rules)
    assert [(f.rule, f.verdict.value) for f in findings] == [
        ("standard_deviation", v) for v in verdicts
    ]


def test_a_standard_deviation_finding_gives_n_and_df():
    [finding] = check_standard_deviations(sd_table(10), SRS)
    assert finding.cell.row == 0 and finding.cell.column == "sd_score"
    assert finding.numbers["n"] == 10 and finding.numbers["df"] == 9
    assert finding.numbers["sd_min_df"] == 10


def test_a_standard_deviation_without_a_count_needs_review():
    table = table_from_csv("school,mean_score,sd_score\nA,101.2,12.5\n")
    assert found(check_standard_deviations(table, OPENSAFELY)) == [
        ("standard_deviation", "needs review", None, None)
    ]


def test_pandas_describe_output():
    """`df.groupby(...).score.describe()` as written to CSV: count, mean, std, min, 25%, 50%,
    75%, max."""
    table = table_from_csv(
        """
        school,count,mean,std,min,25%,50%,75%,max
        A,40,101.2,12.5,81,94,101,108,119
        B,7,99.0,10.1,85,92,98,104,113
        """
    )
    assert found(check_standard_deviations(table, OPENSAFELY)) == [
        ("standard_deviation", "fail", 1, "std")
    ]
    assert found(check_percentiles(table, OPENSAFELY)) == [
        ("percentile", "fail", 1, "25%"),
        ("percentile", "fail", 1, "50%"),
        ("percentile", "fail", 1, "75%"),
    ]
    assert found(check_extremes(table, OPENSAFELY)) == [
        ("extreme", "fail", 0, "min"),
        ("extreme", "fail", 1, "min"),
        ("extreme", "fail", 0, "max"),
        ("extreme", "fail", 1, "max"),
    ]
