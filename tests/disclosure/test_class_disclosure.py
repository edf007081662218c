"""Class disclosure (sdc.md rule 3): zero and 100% cells in sensitive attributes, with the
default profiles (where zeros already fail the minimum count) and with zeros kept."""

import pytest

from job_runner.disclosure.profiles import profile
from job_runner.disclosure.rules.class_disclosure import check_class_disclosure
from job_runner.disclosure.rules.counts import check_minimum_counts
from tests.disclosure.conftest import found, table_from_csv

OPENSAFELY = profile("opensafely")
SRS = profile("srs")
SRS_ZEROS_KEPT = profile("srs", redact_zero=False)
UNROUNDED = [SRS, SRS_ZEROS_KEPT, profile("opensafely", rounding="none", redact_zero=False)]

# Numerators of a sensitive attribute


@pytest.mark.parametrize("rules", UNROUNDED)
@pytest.mark.parametrize(
    "excluded, pupils, verdict",
    [
        (0, 40, "fail"),  # no one excluded
        (1, 40, None),
        (39, 40, None),
        (40, 40, "fail"),  # everyone excluded
        (0, 0, None),  # an empty group says nothing about anyone
    ],
)
def test_a_sensitive_numerator_of_none_or_all_fails(rules, excluded, pupils, verdict):
    table = table_from_csv(
        f"""
        school,excluded,pupils,percent
        A,{excluded},{pupils},{100 * excluded / pupils if pupils else ""}
        B,20,50,40
        """
    )
    expected = [("class_disclosure", verdict, 0, "excluded")] if verdict else []
    assert found(check_class_disclosure(table, rules)) == expected


def test_a_numerator_that_is_not_sensitive_is_not_checked():
    table = table_from_csv("school,passed,pupils,percent\nA,40,40,100\nB,0,30,0\n")
    assert found(check_class_disclosure(table, SRS_ZEROS_KEPT)) == []


def test_the_sidecar_can_mark_an_attribute_sensitive():
    description = {
        "columns": {"passed": {"role": "numerator", "count": "pupils", "sensitive": True}}
    }
    table = table_from_csv("school,passed,pupils\nA,40,40\nB,10,30\n", description)
    assert found(check_class_disclosure(table, SRS_ZEROS_KEPT)) == [
        ("class_disclosure", "fail", 0, "passed")
    ]


def test_the_sidecar_can_say_an_attribute_is_not_sensitive():
    description = {"columns": {"excluded": {"role": "numerator", "count": "pupils"}}}
    table = table_from_csv("school,excluded,pupils\nA,40,40\nB,10,30\n", description)
    assert found(check_class_disclosure(table, SRS_ZEROS_KEPT)) == []


def test_a_measures_table_of_a_sensitive_attribute():
    description = {"columns": {"numerator": {"role": "numerator", "sensitive": True}}}
    table = table_from_csv(
        """
        measure,school,ratio,numerator,denominator
        fsm_rate,A,1.0,30,30
        fsm_rate,B,0.5,15,30
        """,
        description,
    )
    findings = check_class_disclosure(table, SRS)
    assert found(findings) == [("class_disclosure", "fail", 0, "numerator")]
    assert "everyone in this group" in findings[0].message
    assert findings[0].numbers == {"count": 30.0, "denominator": 30.0}


def test_a_sensitive_count_of_zero_fails_outside_a_crosstab():
    table = table_from_csv("school,excluded\nA,0\nB,12\n")
    assert found(check_class_disclosure(table, SRS_ZEROS_KEPT)) == [
        ("class_disclosure", "fail", 0, "excluded")
    ]


def test_zeros_fail_both_rules_by_default_and_only_class_disclosure_when_kept():
    table = table_from_csv("school,excluded,pupils,percent\nA,0,40,0\nB,20,50,40\n")
    assert found(check_minimum_counts(table, SRS)) == [("minimum_count", "fail", 0, "excluded")]
    assert found(check_class_disclosure(table, SRS)) == [
        ("class_disclosure", "fail", 0, "excluded")
    ]
    assert found(check_minimum_counts(table, SRS_ZEROS_KEPT)) == []
    assert found(check_class_disclosure(table, SRS_ZEROS_KEPT)) == [
        ("class_disclosure", "fail", 0, "excluded")
    ]


def test_rounded_counts_make_everyone_uncertain_but_not_a_zero():
    # Under OpenSAFELY, 40 of 40 may be 38 of 42; a rounded 0 (0 to 2) would have been
    # redacted unless it was a true 0.
    table = table_from_csv("school,excluded,pupils,percent\nA,40,40,100\nB,0,40,0\n")
    assert found(check_class_disclosure(table, profile("opensafely", redact_zero=False))) == [
        ("class_disclosure", "needs review", 0, "excluded"),
        ("class_disclosure", "fail", 1, "excluded"),
    ]


def test_a_count_that_is_not_a_multiple_of_the_base_was_not_rounded():
    table = table_from_csv("school,excluded,pupils,percent\nA,23,23,100\nB,5,40,12.5\n")
    assert found(check_class_disclosure(table, OPENSAFELY)) == [
        ("class_disclosure", "fail", 0, "excluded")
    ]


def test_a_zero_rounded_to_a_large_base_needs_review():
    # Rounded to 100, 0 stands for 0 to 49: not all of those would have been redacted.
    table = table_from_csv("school,excluded\nA,0\nB,100\n", {"rounding": 100})
    assert found(check_class_disclosure(table, SRS_ZEROS_KEPT)) == [
        ("class_disclosure", "needs review", 0, "excluded")
    ]


# Percentages of a sensitive attribute


@pytest.mark.parametrize(
    "percent, verdict",
    [("0", "fail"), ("0.5", None), ("99.5", None), ("100", "fail"), ("100.0", "fail")],
)
def test_a_sensitive_percentage_of_0_or_100_fails(percent, verdict):
    table = table_from_csv(f"school,pupils,percent_fsm\nA,40,{percent}\nB,40,50\n")
    expected = [("class_disclosure", verdict, 0, "percent_fsm")] if verdict else []
    assert found(check_class_disclosure(table, SRS)) == expected


@pytest.mark.parametrize(
    "proportion, verdict",
    [
        ("0.000", "fail"),
        ("1.000", "fail"),
        ("0.500", None),
        ("1.0", "needs review"),  # 39 of 40 (0.975) shows as 1.0 too
    ],
)
def test_a_sensitive_proportion_of_0_or_1_fails(proportion, verdict):
    table = table_from_csv(f"school,pupils,proportion_fsm\nA,40,{proportion}\nB,40,0.500\n")
    expected = [("class_disclosure", verdict, 0, "proportion_fsm")] if verdict else []
    assert found(check_class_disclosure(table, SRS)) == expected


def test_a_percentage_of_an_empty_group_says_nothing():
    table = table_from_csv("school,pupils,percent_fsm\nA,0,0\nB,40,50\n")
    assert found(check_class_disclosure(table, SRS_ZEROS_KEPT)) == []


def test_a_percentage_rounded_to_100_may_not_be_everyone():
    # 100% of 400 to whole percentages could be 399 of 400 (99.75%).
    table = table_from_csv("school,pupils,percent_fsm\nA,400,100\nB,400,50\n")
    assert found(check_class_disclosure(table, SRS)) == [
        ("class_disclosure", "needs review", 0, "percent_fsm")
    ]


def test_a_percentage_without_a_count_needs_review():
    table = table_from_csv("school,percent_fsm\nA,100\nB,50\n")
    assert found(check_class_disclosure(table, SRS)) == [
        ("class_disclosure", "needs review", 0, "percent_fsm")
    ]


def test_a_percentage_shown_with_its_numerator_is_judged_on_the_numerator():
    table = table_from_csv("school,fsm,pupils,percent_fsm\nA,40,40,100\nB,20,40,50\n")
    assert found(check_class_disclosure(table, SRS)) == [("class_disclosure", "fail", 0, "fsm")]


def test_a_percentage_whose_numerator_is_redacted_is_judged_on_itself():
    table = table_from_csv("school,fsm,pupils,percent_fsm\nA,[REDACTED],40,0\nB,20,40,50\n")
    assert found(check_class_disclosure(table, SRS)) == [
        ("class_disclosure", "fail", 0, "percent_fsm")
    ]


# Crosstabs whose columns are the categories of a sensitive attribute


@pytest.mark.parametrize("rules", [SRS, SRS_ZEROS_KEPT])
def test_a_crosstab_row_with_everyone_in_one_category_fails(rules):
    table = table_from_csv(
        """
        year,fsm,non_fsm,total
        7,12,30,42
        8,0,25,25
        Total,12,55,67
        """
    )
    findings = check_class_disclosure(table, rules)
    assert found(findings) == [
        ("class_disclosure", "fail", 1, "non_fsm"),
        ("class_disclosure", "fail", 1, "fsm"),
    ]
    assert findings[0].numbers == {"group_size": 25.0, "category": "non_fsm", "count": 25.0}
    assert "year 8" in findings[0].message


def test_a_crosstab_total_gives_away_redacted_categories():
    table = table_from_csv(
        """
        year,ehcp,sen_support,no_sen,total
        7,[REDACTED],[REDACTED],40,40
        8,12,15,40,67
        """
    )
    assert found(check_class_disclosure(table, SRS)) == [("class_disclosure", "fail", 0, "no_sen")]


def test_only_crosstab_rows_with_everyone_in_one_category_fail():
    table = table_from_csv("year,ehcp,sen_support,no_sen\n7,0,12,40\n8,12,0,0\n")
    assert found(check_class_disclosure(table, SRS_ZEROS_KEPT)) == [
        ("class_disclosure", "fail", 1, "ehcp"),
        ("class_disclosure", "fail", 1, "sen_support"),
        ("class_disclosure", "fail", 1, "no_sen"),
    ]


def test_a_crosstab_of_categories_that_are_not_sensitive_passes():
    table = table_from_csv("year,maths,english\n7,0,30\n")
    assert found(check_class_disclosure(table, SRS_ZEROS_KEPT)) == []


def test_a_rounded_crosstab_with_a_redacted_category_needs_review():
    # 40 of 40 rounded: the redacted cell may hold 1 or 2.
    table = table_from_csv("year,fsm,non_fsm,total\n7,[REDACTED],40,40\n8,10,30,40\n")
    assert found(check_class_disclosure(table, OPENSAFELY)) == [
        ("class_disclosure", "needs review", 0, "non_fsm")
    ]


# Long tables with a sensitive dimension


@pytest.mark.parametrize("rules", [SRS, SRS_ZEROS_KEPT])
def test_a_group_with_everyone_in_one_category_of_a_sensitive_dimension_fails(rules):
    table = table_from_csv(
        """
        school,sen_status,pupils
        A,EHCP,0
        A,None,20
        B,EHCP,10
        B,None,20
        """
    )
    findings = check_class_disclosure(table, rules)
    assert found(findings) == [
        ("class_disclosure", "fail", 1, "pupils"),
        ("class_disclosure", "fail", 0, "pupils"),
    ]
    assert "school A" in findings[0].message
    assert findings[0].numbers["category"] == "None"


def test_a_group_total_row_gives_away_redacted_categories():
    table = table_from_csv(
        """
        school,fsm,pupils
        A,yes,[REDACTED]
        A,no,30
        A,Total,30
        B,yes,12
        B,no,30
        B,Total,42
        """
    )
    assert found(check_class_disclosure(table, SRS)) == [("class_disclosure", "fail", 1, "pupils")]


def test_a_group_with_one_category_row_and_no_total_is_left_alone():
    # The other categories may be missing rather than empty.
    table = table_from_csv("school,fsm,pupils\nA,yes,30\nB,yes,12\nB,no,30\n")
    assert found(check_class_disclosure(table, SRS)) == []


def test_a_long_table_with_no_sensitive_dimension_passes():
    table = table_from_csv("school,year_group,pupils\nA,7,0\nA,8,20\n")
    assert found(check_class_disclosure(table, SRS_ZEROS_KEPT)) == []


def test_one_finding_per_cell():
    # The numerator check and the long-table check both see row 0's zero.
    table = table_from_csv("fsm,excluded,pupils,percent\nyes,0,20,0\nno,12,30,40\n")
    cells = [(row, column) for _, _, row, column in found(check_class_disclosure(table, SRS))]
    assert len(cells) == len(set(cells))
