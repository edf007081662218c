"""Minimum counts and implied counts (sdc.md rules 1 and 2), on and either side of each
threshold, for both profiles and with overrides."""

import pytest

from job_runner.disclosure.profiles import profile
from job_runner.disclosure.rules.counts import check_implied_counts, check_minimum_counts
from tests.disclosure.conftest import found, table_from_csv

OPENSAFELY = profile("opensafely")
SRS = profile("srs")
# OpenSAFELY's threshold without its rounding, to test implied counts exactly at the threshold.
OPENSAFELY_UNROUNDED = profile("opensafely", rounding="none")


def one_count(count: int):
    return table_from_csv(f"school,pupils\nA,{count}\nB,50\n")


# Minimum counts


@pytest.mark.parametrize(
    "rules, count, fails",
    [
        (OPENSAFELY, 6, True),
        (OPENSAFELY, 7, True),  # "7 or fewer"
        (OPENSAFELY, 8, False),
        (SRS, 9, True),
        (SRS, 10, False),  # "fewer than 10"
        (SRS, 11, False),
        (profile("srs", threshold=5), 4, True),
        (profile("srs", threshold=5), 5, False),
        (profile("srs", threshold=5), 6, False),
        (profile("opensafely", threshold=10), 10, True),
        (profile("opensafely", threshold=10), 11, False),
        (profile("srs", threshold=None), 1, False),
    ],
)
def test_minimum_count_on_and_either_side_of_the_threshold(rules, count, fails):
    expected = [("minimum_count", "fail", 0, "pupils")] if fails else []
    assert found(check_minimum_counts(one_count(count), rules)) == expected


@pytest.mark.parametrize("rules", [OPENSAFELY, SRS])
def test_zero_is_small_by_default(rules):
    assert found(check_minimum_counts(one_count(0), rules)) == [
        ("minimum_count", "fail", 0, "pupils")
    ]


@pytest.mark.parametrize("name", ["opensafely", "srs"])
def test_zero_passes_when_the_profile_keeps_zeros(name):
    assert found(check_minimum_counts(one_count(0), profile(name, redact_zero=False))) == []


def test_minimum_count_says_what_to_do_and_gives_the_numbers():
    [finding] = check_minimum_counts(one_count(9), SRS)
    assert "redact" in finding.message
    assert "below 10" in finding.message
    assert finding.numbers == {"count": 9.0, "threshold": 10, "margin": False}
    assert finding.cell.key == {"school": "A"}


def test_total_rows_and_total_columns_are_checked_as_margins():
    table = table_from_csv(
        """
        year,fsm,non_fsm,total
        7,20,30,50
        8,20,30,50
        Total,40,5,45
        """
    )
    findings = check_minimum_counts(table, OPENSAFELY)
    assert found(findings) == [("minimum_count", "fail", 2, "non_fsm")]
    assert findings[0].numbers["margin"] is True


def test_a_small_total_column_fails():
    table = table_from_csv("year,fsm,non_fsm,total\n7,0,6,6\n")
    assert found(check_minimum_counts(table, profile("srs", redact_zero=False))) == [
        ("minimum_count", "fail", 0, "non_fsm"),
        ("minimum_count", "fail", 0, "total"),
    ]


def test_numerators_and_denominators_are_both_checked():
    table = table_from_csv(
        """
        school,numerator,denominator,ratio
        A,9,40,0.225
        B,20,9,2.222
        """
    )
    assert found(check_minimum_counts(table, SRS)) == [
        ("minimum_count", "fail", 0, "numerator"),
        ("minimum_count", "fail", 1, "denominator"),
    ]


@pytest.mark.parametrize("marker", ["[REDACTED]", "<8", "*", "", "c", "REDACTED", "<10"])
def test_suppressed_cells_are_not_counts(marker):
    table = table_from_csv(f"school,pupils\nA,{marker}\nB,50\n")
    assert found(check_minimum_counts(table, OPENSAFELY)) == []


def test_statistics_are_not_counts():
    table = table_from_csv("school,n,mean_score\nA,20,3\n")
    assert found(check_minimum_counts(table, OPENSAFELY)) == []


# Implied counts: a percentage beside its count implies its numerator


def percent_of(percent: float, n: int):
    return table_from_csv(f"school,pupils,percent_fsm\nA,{n},{percent:g}\nB,200,50\n")


@pytest.mark.parametrize(
    "rules, percent, n, verdict",
    [
        (OPENSAFELY_UNROUNDED, 30, 20, "fail"),  # 6
        (OPENSAFELY_UNROUNDED, 35, 20, "fail"),  # 7: on the threshold
        (OPENSAFELY_UNROUNDED, 40, 20, None),  # 8
        (SRS, 45, 20, "fail"),  # 9
        (SRS, 50, 20, None),  # 10: on the threshold
        (SRS, 55, 20, None),  # 11
        (profile("srs", threshold=5), 20, 20, "fail"),  # 4
        (profile("srs", threshold=5), 25, 20, None),  # 5
        (profile("srs", threshold=5), 30, 20, None),  # 6
    ],
)
def test_implied_numerator_on_and_either_side_of_the_threshold(rules, percent, n, verdict):
    expected = [("implied_count", verdict, 0, "percent_fsm")] if verdict else []
    assert found(check_implied_counts(percent_of(percent, n), rules)) == expected


def test_implied_numerator_finding_gives_the_numbers():
    [finding] = check_implied_counts(percent_of(35, 20), OPENSAFELY_UNROUNDED)
    assert finding.numbers == {
        "value": 35.0,
        "scale": 100.0,
        "denominator": 20.0,
        "implied_count": 7,
        "threshold": 7,
    }
    assert "35% of pupils = 20" in finding.message
    assert "redact percent_fsm" in finding.message


def test_implied_numerator_is_rounded_to_the_nearest_whole_number():
    # 33.3% of 21 is 6.99: seven pupils.
    table = table_from_csv("school,pupils,percent_fsm\nA,21,33.3\n")
    [finding] = check_implied_counts(table, OPENSAFELY_UNROUNDED)
    assert finding.numbers["implied_count"] == 7


def test_a_tiny_non_zero_percentage_implies_at_least_one_unit():
    table = table_from_csv("school,pupils,percent_fsm\nA,200,0.1\n")
    [finding] = check_implied_counts(table, SRS)
    assert finding.numbers["implied_count"] == 1


def test_an_implied_zero_is_left_to_class_disclosure():
    assert found(check_implied_counts(percent_of(0, 20), SRS)) == []


def test_proportions_and_rates_per_thousand_imply_numerators_too():
    proportions = table_from_csv("school,pupils,proportion_fsm\nA,20,0.45\n")
    rates = table_from_csv("school,pupils,exclusion_rate_per_1000\nA,2000,4.5\n")
    assert found(check_implied_counts(proportions, SRS)) == [
        ("implied_count", "fail", 0, "proportion_fsm")
    ]
    assert found(check_implied_counts(rates, SRS)) == [
        ("implied_count", "fail", 0, "exclusion_rate_per_1000")
    ]


def test_a_shown_numerator_is_tested_as_a_count_not_as_an_implied_one():
    table = table_from_csv("school,absent,pupils,percent\nA,9,20,45\n")
    assert found(check_implied_counts(table, SRS)) == []
    assert found(check_minimum_counts(table, SRS)) == [("minimum_count", "fail", 0, "absent")]


@pytest.mark.parametrize("marker", ["[REDACTED]", "<10", "*"])
def test_a_redacted_numerator_given_away_by_its_percentage_fails(marker):
    table = table_from_csv(
        f"""
        school,absent,pupils,percent
        A,{marker},20,45
        B,30,60,50
        """
    )
    assert found(check_implied_counts(table, SRS)) == [("implied_count", "fail", 0, "percent")]


def test_a_percentage_with_its_numerator_but_no_count_implies_the_count():
    # 50% with 4 absent: a group of 8 pupils.
    table = table_from_csv(
        "school,absent,percent_absent\nA,4,50\nB,40,40\n",
        {"columns": {"percent_absent": {"role": "percentage", "numerator": "absent"}}},
    )
    findings = check_implied_counts(table, profile("srs", threshold=5))
    assert found(findings) == []  # 8 and 100 are not small under a threshold of 5
    findings = check_implied_counts(table, SRS)
    assert found(findings) == [("implied_count", "fail", 0, "percent_absent")]
    assert findings[0].numbers["implied_count"] == 8


def test_a_share_of_the_total_with_its_count_redacted_implies_the_count():
    table = table_from_csv(
        """
        ethnicity,n,percent
        White,120,60.0
        Asian,62,31.0
        Black,[REDACTED],4.5
        Mixed,[REDACTED],4.5
        Total,200,100.0
        """
    )
    findings = check_implied_counts(table, SRS)
    assert found(findings) == [
        ("implied_count", "fail", 2, "percent"),
        ("implied_count", "fail", 3, "percent"),
    ]
    assert findings[0].numbers["implied_count"] == 9


def test_a_share_of_the_total_with_its_counts_shown_passes():
    table = table_from_csv("ethnicity,n,percent\nWhite,60,60.0\nAsian,40,40.0\nTotal,100,100\n")
    assert found(check_implied_counts(table, SRS)) == []


# Implied counts: a mean and a sum without their count


@pytest.mark.parametrize(
    "rules, total, fails",
    [
        (OPENSAFELY, 280, True),  # 7 pupils
        (OPENSAFELY, 320, False),  # 8
        (SRS, 360, True),  # 9
        (SRS, 400, False),  # 10
    ],
)
def test_a_mean_and_a_sum_imply_their_count(rules, total, fails):
    table = table_from_csv(f"school,sum_sessions,mean_sessions\nA,{total},40\n")
    expected = [("implied_count", "fail", 0, "mean_sessions")] if fails else []
    assert found(check_implied_counts(table, rules)) == expected


def test_a_mean_with_its_count_shown_implies_nothing():
    table = table_from_csv("school,n,sum_sessions,mean_sessions\nA,40,200,5\n")
    assert found(check_implied_counts(table, SRS)) == []


# Implied counts from rounded counts


@pytest.mark.parametrize(
    "percent, verdict",
    [
        (25, "fail"),  # 5 of 20, and at most 7 whichever counts it was computed from
        (30, "fail"),  # 6 of 20: of the true count (18 to 22) at most 6.6
        (35, "needs review"),  # 7 of 20: up to 7.7 of 22
        (40, None),  # 8
        (50, None),  # 10 of 20 could be 8 to 12 if computed from rounded counts: not small
    ],
)
def test_implied_counts_allow_for_the_rounding_of_the_counts(percent, verdict):
    expected = [("implied_count", verdict, 0, "percent_fsm")] if verdict else []
    assert found(check_implied_counts(percent_of(percent, 20), OPENSAFELY)) == expected


def test_a_rounded_table_fails_only_when_the_implied_count_is_small_whatever_the_rounding():
    # The sidecar says counts are rounded to 5. 45% of 20 is 9, but 20 stands for 18 to 22,
    # and 45% of 22 is 9.9: perhaps 10. 5% of 200 is 10, or up to 12 when computed from
    # rounded counts: not small. 2.5% of 200 is 5, at most 7 either way: small.
    table = table_from_csv(
        "school,pupils,percent_fsm\nA,20,45\nB,200,5\nC,200,2.5\n", {"rounding": 5}
    )
    findings = check_implied_counts(table, SRS)
    assert found(findings) == [
        ("implied_count", "needs review", 0, "percent_fsm"),
        ("implied_count", "fail", 2, "percent_fsm"),
    ]
    assert findings[0].numbers["implied_count_at_most"] == 10
    assert findings[1].numbers["implied_count_at_most"] == 7


def test_midpoint6_counts_allow_for_their_band():
    # 9 stands for 7 to 12; half of it is at most 6.
    table = table_from_csv("school,pupils_midpoint6,percent_fsm\nA,9,50\nB,99,50\n")
    assert found(check_implied_counts(table, SRS)) == [("implied_count", "fail", 0, "percent_fsm")]


# Figures whose units cannot be counted


def test_a_percentage_with_no_count_needs_review():
    table = table_from_csv("school,percent_fsm\nA,25\nB,30\n")
    assert found(check_implied_counts(table, OPENSAFELY)) == [
        ("implied_count", "needs review", None, None)
    ]


def test_a_mean_with_no_count_needs_review():
    table = table_from_csv("school,mean_score\nA,25.1\n")
    [finding] = check_implied_counts(table, SRS)
    assert finding.verdict == "needs review"
    assert "show the number of units" in finding.message


def test_a_figure_whose_count_is_redacted_needs_review():
    table = table_from_csv("school,n,mean_score\nA,<10,25.1\nB,30,20.2\n")
    assert found(check_implied_counts(table, SRS)) == [
        ("implied_count", "needs review", 0, "mean_score")
    ]


def test_a_rate_of_unknown_scale_needs_review_once():
    table = table_from_csv("school,pupils,exclusion_rate\nA,2000,4.5\nB,3000,1.5\n")
    assert found(check_implied_counts(table, SRS)) == [
        ("implied_count", "needs review", None, None)
    ]


def test_no_threshold_means_no_implied_count_checks():
    table = table_from_csv("school,percent_fsm\nA,25\n")
    assert check_implied_counts(table, profile("srs", threshold=None)) == []
