"""Dominance: NK and p% on sums and means, from the contributors evidence in the description."""

from __future__ import annotations

import pytest

from job_runner.disclosure.profiles import profile
from job_runner.disclosure.rules.dominance import check_dominance
from tests.disclosure.conftest import found, table_from_csv

PROFILES = [profile("opensafely"), profile("srs")]
SPEND = {"spend": {"role": "sum", "count": "n"}}


def shares(*values: float) -> list[float]:
    """Contributions as shares of their absolute total, largest first (as tabulate writes)."""
    total = sum(abs(value) for value in values)
    return sorted((abs(value) / total if total else 0.0 for value in values), reverse=True)


def one_cell(
    values: list[float], *, role: str = "sum", negative: bool | None = None, keep: int = 3
) -> object:
    """A table of one school's spend, with evidence of its contributions."""
    evidence = {
        "key": {"school": "A"},
        "column": "spend",
        "n": len(values),
        "largest_shares": shares(*values)[:keep],
        "negative": any(value < 0 for value in values) if negative is None else negative,
    }
    return table_from_csv(
        f"""
        school,n,spend
        A,{len(values)},{sum(values):g}
        """,
        {"columns": {"spend": {"role": role, "count": "n"}}, "contributors": [evidence]},
    )


def rules_failed(table, rules) -> list[tuple]:
    return found(check_dominance(table, rules))


NK = ("dominance_nk", "fail", 0, "spend")
P = ("dominance_p", "fail", 0, "spend")


# NK: the two largest 90% or more fails


@pytest.mark.parametrize("rules", PROFILES, ids=lambda rules: rules.name)
@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([45, 44] + [1] * 11, []),  # 89%
        ([45, 45] + [1] * 10, [NK]),  # exactly 90%
        ([46, 45] + [1] * 9, [NK]),  # 91%
    ],
    ids=["89%", "90%", "91%"],
)
def test_nk_on_and_either_side_of_ninety_percent(rules, values, expected):
    assert rules_failed(one_cell(values), rules) == expected


def test_nk_exactly_on_the_limit_despite_floating_point():
    # 0.3 + 0.6 is 0.8999999999999999 in floating point; in decimal it is 90% and fails.
    assert sum(shares(0.3, 0.6, *[0.01] * 10)[:2]) < 0.9
    assert rules_failed(one_cell([0.3, 0.6] + [0.01] * 10), profile("srs")) == [NK]


def test_nk_finding_gives_the_share_and_the_rule():
    [finding] = check_dominance(one_cell([45, 45] + [1] * 10), profile("srs"))
    assert finding.numbers["share"] == pytest.approx(0.9)
    assert (finding.numbers["nk_n"], finding.numbers["nk_k"], finding.numbers["n"]) == (2, 0.9, 12)
    assert "90%" in finding.message and "redact" in finding.message


def test_a_single_contributor_dominates():
    assert rules_failed(one_cell([500]), profile("srs")) == [NK, P]


def test_all_contributions_zero_is_not_dominated():
    assert rules_failed(one_cell([0] * 10), profile("srs")) == []


# p%: the rest below 10% of the largest fails


@pytest.mark.parametrize("rules", PROFILES, ids=lambda rules: rules.name)
@pytest.mark.parametrize(
    ("rest", "expected"),
    [(9, [P]), (10, []), (11, [])],
    ids=["9% of the largest", "exactly 10%", "11%"],
)
def test_p_percent_on_and_either_side_of_ten_percent(rules, rest, expected):
    # NK off to see p% alone: with NK(2, 0.9) on, these cells fail NK as well.
    rules = profile(rules.name, nk_n=0)
    assert rules_failed(one_cell([100, 50] + [1] * rest), rules) == expected


def test_p_percent_finding_gives_the_shares():
    rules = profile("srs", nk_n=0)
    [finding] = check_dominance(one_cell([100, 50] + [1] * 9), rules)
    assert finding.numbers["largest_share"] == pytest.approx(100 / 159)
    assert finding.numbers["rest_share"] == pytest.approx(9 / 159)
    assert finding.numbers["p_percent"] == 0.1


# Negative values: the rules hold on absolute values


def test_negative_contributions_are_checked_on_absolute_values():
    # +500, -490 and ten 1s sum to 20, yet the two largest are 99% of the absolute total.
    table = one_cell([500, -490] + [1] * 10)
    findings = check_dominance(table, profile("srs"))
    assert found(findings) == [NK, P]
    assert findings[0].numbers["negative"] is True
    assert "absolute values" in findings[0].message


def test_negative_contributions_that_do_not_dominate_pass():
    assert rules_failed(one_cell([-20, 30, -25] + [15] * 12), profile("srs")) == []


# Overrides


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, []),
        ({"nk_k": 0.8}, [NK]),  # the two largest are 85%
        ({"nk_n": 3}, [NK]),  # the three largest are 95%
        ({"p_percent": 0.5}, [P]),  # the rest (15) is under half the largest (45)
        ({"nk_n": 1, "nk_k": 0.45}, [NK]),  # the largest alone is 45%
    ],
)
def test_overridden_parameters(overrides, expected):
    table = one_cell([45, 40, 10] + [1] * 5)  # 85%, then 95% with the third
    assert rules_failed(table, profile("srs", **overrides)) == expected


def test_nk_n_zero_and_p_percent_zero_disable_the_rules():
    table = one_cell([500])
    assert rules_failed(table, profile("srs", nk_n=0)) == [P]
    assert rules_failed(table, profile("srs", p_percent=0)) == [NK]
    assert rules_failed(table, profile("srs", nk_n=0, p_percent=0)) == []


def test_too_few_shares_for_the_profile_cannot_be_checked():
    # Two shares cannot settle NK over the three largest.
    table = one_cell([45, 40, 10] + [1] * 5, keep=2)
    assert rules_failed(table, profile("srs", nk_n=3)) == [
        ("dominance_nk", "needs review", None, None)
    ]


def test_a_cell_with_fewer_units_than_nk_n_has_all_its_shares():
    table = one_cell([60, 40], keep=2)
    assert rules_failed(table, profile("srs", nk_n=3, p_percent=0)) == [NK]


# Means, evidence and its absence


def test_means_are_checked_like_sums():
    assert rules_failed(one_cell([46, 45] + [1] * 9, role="mean"), profile("srs")) == [NK]


def test_without_evidence_one_finding_for_the_file():
    table = table_from_csv(
        """
        school,n,spend,mean_spend
        A,12,100,8.3
        B,15,120,8
        C,,,
        """,
        {"columns": {"spend": {"role": "sum", "count": "n"}}},
    )
    findings = check_dominance(table, profile("srs"))
    assert found(findings) == [("dominance_nk", "needs review", None, None)]
    assert findings[0].numbers == {"columns": {"spend": 2, "mean_spend": 2}, "cells": 4}
    assert "tabulate" in findings[0].message


def test_without_evidence_and_nk_off_the_finding_names_the_p_rule():
    table = table_from_csv("school,n,spend\nA,12,100\n", {"columns": SPEND})
    assert rules_failed(table, profile("srs", nk_n=0)) == [
        ("dominance_p", "needs review", None, None)
    ]


def test_suppressed_cells_need_no_evidence():
    table = table_from_csv(
        """
        school,n,spend
        A,,[REDACTED]
        """,
        {"columns": SPEND},
    )
    assert check_dominance(table, profile("srs")) == []


def test_tables_without_sums_or_means_need_no_evidence():
    table = table_from_csv("school,pupils,rate\nA,30,0.5\n")
    assert check_dominance(table, profile("srs")) == []


def test_evidence_is_matched_to_rows_by_key():
    dominated = {"n": 11, "largest_shares": [0.95, 0.01]}
    spread = {"n": 20, "largest_shares": [0.06, 0.06]}
    table = table_from_csv(
        """
        school,year,n,spend
        A,7,11,100
        A,8,20,200
        """,
        {
            "columns": {"year": {"role": "dimension"}, **SPEND},
            "contributors": [
                # 8.0 and "7" are the year groups 8 and 7 as the CSV writes them
                {"key": {"school": "A", "year": 8.0}, "column": "spend", **spread},
                {"key": {"school": "A", "year": "7"}, "column": "spend", **dominated},
            ],
        },
    )
    assert rules_failed(table, profile("srs")) == [NK, P]


def test_evidence_for_other_cells_or_columns_does_not_count():
    table = table_from_csv(
        "school,n,spend\nA,11,100\n",
        {
            "columns": SPEND,
            "contributors": [
                {"key": {"school": "B"}, "column": "spend", "n": 11, "largest_shares": [0.1, 0.1]},
                {"key": {"school": "A"}, "column": "other", "n": 11, "largest_shares": [0.1, 0.1]},
            ],
        },
    )
    assert rules_failed(table, profile("srs")) == [("dominance_nk", "needs review", None, None)]


@pytest.mark.parametrize(
    "largest_shares",
    [[0.7, 0.6], [1.5], [-0.1, 0.1]],
    ids=["adding up to more than 1", "above 1", "negative"],
)
def test_evidence_that_is_not_shares_is_not_used(largest_shares):
    table = table_from_csv(
        "school,n,spend\nA,11,100\n",
        {
            "columns": SPEND,
            "contributors": [
                {
                    "key": {"school": "A"},
                    "column": "spend",
                    "n": 11,
                    "largest_shares": largest_shares,
                }
            ],
        },
    )
    assert rules_failed(table, profile("srs")) == [("dominance_nk", "needs review", None, None)]
