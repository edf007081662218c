"""Rounding conformance (sdc.md rule 5): claimed rounding, the profile's rounding, midpoint-6,
and totals recomputed from rounded cells."""

import pytest

from job_runner.disclosure.profiles import profile
from job_runner.disclosure.rules.rounding import check_rounding, conforms
from tests.disclosure.conftest import found, table_from_csv

OPENSAFELY = profile("opensafely")
SRS = profile("srs")


@pytest.mark.parametrize(
    "value, rounding, expected",
    [
        (0, 5, True),
        (4, 5, False),
        (5, 5, True),
        (6, 5, False),
        (10, 10, True),
        (15, 10, False),
        (10.5, 5, False),
        (0, "midpoint6", True),
        (2, "midpoint6", False),
        (3, "midpoint6", True),
        (4, "midpoint6", False),
        (6, "midpoint6", False),
        (8, "midpoint6", False),
        (9, "midpoint6", True),
        (10, "midpoint6", False),
        (15, "midpoint6", True),
        (21, "midpoint6", True),
        (3.5, "midpoint6", False),
        (7, None, True),
    ],
)
def test_conforms(value, rounding, expected):
    assert conforms(value, rounding) is expected


# A table that says it is rounded


@pytest.mark.parametrize("value, fails", [(45, False), (47, True), (50, False), (0, False)])
def test_a_table_rounded_to_a_base_holds_only_multiples_of_it(value, fails):
    table = table_from_csv(f"school,pupils\nA,{value}\nB,100\n", {"rounding": 5})
    expected = [("rounding", "fail", 0, "pupils")] if fails else []
    assert found(check_rounding(table, SRS)) == expected


def test_a_column_can_say_its_own_rounding():
    table = table_from_csv(
        "school,pupils,events\nA,25,7\nB,30,15\n",
        {"rounding": 10, "columns": {"events": {"role": "count", "rounding": "none"}}},
    )
    assert found(check_rounding(table, SRS)) == [("rounding", "fail", 0, "pupils")]


def test_a_claimed_rounding_finding_says_how_to_fix_it():
    table = table_from_csv("school,pupils\nA,47\n", {"rounding": 5})
    [finding] = check_rounding(table, SRS)
    assert "round_to_base(..., base=5)" in finding.message
    assert finding.numbers == {"value": 47.0, "rounding": 5, "required_by": "table"}


@pytest.mark.parametrize(
    "value, fails", [(0, False), (1, True), (3, False), (6, True), (9, False), (12, True)]
)
def test_a_midpoint6_column_holds_only_0_3_9_15(value, fails):
    table = table_from_csv(f"school,pupils_midpoint6\nA,{value}\nB,15\n")
    expected = [("rounding", "fail", 0, "pupils_midpoint6")] if fails else []
    assert found(check_rounding(table, SRS)) == expected


def test_a_column_described_as_midpoint6():
    table = table_from_csv(
        "school,pupils\nA,5\n", {"columns": {"pupils": {"role": "count", "rounding": "midpoint6"}}}
    )
    [finding] = check_rounding(table, SRS)
    assert "midpoint6(" in finding.message


def test_no_claim_and_no_profile_rounding_means_no_check():
    table = table_from_csv("school,pupils\nA,47\n")
    assert found(check_rounding(table, SRS)) == []


# A profile that rounds every count


@pytest.mark.parametrize("value, fails", [(14, True), (15, False), (16, True), (0, False)])
def test_opensafely_needs_every_count_rounded_to_5(value, fails):
    table = table_from_csv(f"school,pupils\nA,{value}\nB,100\n")
    expected = [("rounding", "fail", 0, "pupils")] if fails else []
    assert found(check_rounding(table, OPENSAFELY)) == expected


def test_a_profile_with_another_base():
    table = table_from_csv("school,pupils\nA,15\nB,20\n")
    assert found(check_rounding(table, profile("srs", rounding="base", base=10))) == [
        ("rounding", "fail", 0, "pupils")
    ]


def test_opensafely_lets_midpoint6_columns_be_midpoint6():
    table = table_from_csv("school,pupils_midpoint6,absent_midpoint6\nA,9,3\nB,15,5\n")
    assert found(check_rounding(table, OPENSAFELY)) == [("rounding", "fail", 1, "absent_midpoint6")]


def test_a_midpoint6_profile_needs_every_count_midpoint6():
    table = table_from_csv("school,pupils\nA,9\nB,10\n")
    assert found(check_rounding(table, profile("opensafely", rounding="midpoint6"))) == [
        ("rounding", "fail", 1, "pupils")
    ]


def test_a_claim_and_the_profile_both_apply():
    # Rounded to 3 as claimed, but OpenSAFELY needs multiples of 5.
    table = table_from_csv("school,pupils\nA,15\nB,6\nC,10\n", {"rounding": 3})
    findings = check_rounding(table, OPENSAFELY)
    assert found(findings) == [("rounding", "fail", 1, "pupils"), ("rounding", "fail", 2, "pupils")]
    assert [finding.numbers["required_by"] for finding in findings] == ["profile", "table"]


def test_suppressed_cells_are_not_checked():
    table = table_from_csv("school,pupils\nA,[REDACTED]\nB,<8\nC,15\n")
    assert found(check_rounding(table, OPENSAFELY)) == []


def test_statistics_are_not_counts_and_need_no_rounding():
    table = table_from_csv("school,pupils,mean_score,percent_fsm\nA,15,3.7,12.3\n")
    assert found(check_rounding(table, OPENSAFELY)) == []


# Totals recomputed from the rounded cells


def test_a_true_total_row_beside_rounded_cells_fails_under_opensafely():
    table = table_from_csv(
        """
        school,pupils
        A,20
        B,35
        Total,57
        """
    )
    findings = check_rounding(table, OPENSAFELY)
    # 57 is also not a multiple of 5; the total finding says what matters.
    assert found(findings) == [("rounding", "fail", 2, "pupils")]
    assert findings[0].numbers == {"total": 57.0, "sum_of_cells": 55.0}
    assert "recompute_totals" in findings[0].message


def test_a_rounded_true_total_that_is_not_the_sum_of_the_cells_fails():
    # 20 + 35 = 55, but the true total (58) rounded gives 60.
    table = table_from_csv("school,pupils\nA,20\nB,35\nTotal,60\n")
    assert found(check_rounding(table, OPENSAFELY)) == [("rounding", "fail", 2, "pupils")]


def test_a_total_recomputed_from_the_rounded_cells_passes():
    table = table_from_csv("school,pupils\nA,20\nB,35\nTotal,55\n")
    assert found(check_rounding(table, OPENSAFELY)) == []


def test_redacted_cells_count_as_nothing_in_a_recomputed_total():
    table = table_from_csv("school,pupils\nA,20\nB,[REDACTED]\nC,35\nTotal,55\n")
    assert found(check_rounding(table, OPENSAFELY)) == []
    table = table_from_csv("school,pupils\nA,20\nB,[REDACTED]\nC,35\nTotal,60\n")
    assert found(check_rounding(table, OPENSAFELY)) == [("rounding", "fail", 3, "pupils")]


def test_totals_need_not_be_sums_without_profile_rounding():
    table = table_from_csv("school,pupils\nA,20\nB,35\nTotal,60\n", {"rounding": 5})
    assert found(check_rounding(table, SRS)) == []


def test_total_columns_of_a_crosstab_are_recomputed_too():
    table = table_from_csv(
        """
        year,fsm,non_fsm,total
        7,20,30,50
        8,10,25,40
        Total,30,55,85
        """
    )
    # Year 8's total should be 10 + 25 = 35. The grand total sums the total column above it
    # (50 + 40 = 90), so 85 fails too; the total row's 30 and 55 are right.
    assert found(check_rounding(table, OPENSAFELY)) == [
        ("rounding", "fail", 1, "total"),
        ("rounding", "fail", 2, "total"),
    ]


def test_subtotals_of_a_long_table_with_two_dimensions():
    table = table_from_csv(
        """
        school,year,pupils
        A,7,20
        A,8,30
        A,Total,50
        B,7,10
        B,8,15
        B,Total,30
        Total,7,30
        Total,8,45
        Total,Total,75
        """
    )
    # B's subtotal should be 25.
    assert found(check_rounding(table, OPENSAFELY)) == [("rounding", "fail", 5, "pupils")]


def test_a_denominator_named_total_is_not_a_sum_of_the_other_columns():
    table = table_from_csv("school,absent,total,percent\nA,10,40,25\nB,20,50,40\n")
    assert found(check_rounding(table, OPENSAFELY)) == []


def test_midpoint6_totals_need_not_be_sums():
    table = table_from_csv("school,pupils_midpoint6\nA,3\nB,3\nTotal,9\n")
    assert found(check_rounding(table, OPENSAFELY)) == []
