"""Structure inference: which role each column of a typical output table gets, which rows are
totals, and what each ratio is a ratio of, without a sidecar and with one."""

import pytest

from job_runner.disclosure.tables import is_sensitive, rounding_interval
from tests.disclosure.conftest import table_from_csv

# The attendance example's table as its analysis writes it (counts rounded to 5, shares to 3 dp).
EXAMPLE = """\
group,n_pupils,n_persistently_absent,n_sessions_possible,n_sessions_missed,absence_rate,persistent_absence_share
"FSM, primary",270,65,101100,8025,0.079,0.241
"FSM, secondary",790,325,297705,37740,0.127,0.411
"not FSM, primary",875,90,328110,15665,0.048,0.103
"not FSM, secondary",2290,490,860390,63385,0.074,0.214
Total,4225,970,1587305,124815,0.079,0.23
"""


def roles(table) -> dict[str, str]:
    return {name: column.role.value for name, column in table.columns.items()}


def ratio_of(table, column) -> tuple:
    described = table.columns[column]
    return described.numerator, described.count, described.scale


# Long tables


def test_a_long_table_with_a_total_row():
    table = table_from_csv(
        """
        school,pupils
        A,20
        B,30
        Total,50
        """
    )
    assert roles(table) == {"school": "dimension", "pupils": "count"}
    assert table.total_rows == [2]
    assert table.body_rows == [0, 1]
    assert not table.is_wide()
    assert table.key(1) == {"school": "B"}


@pytest.mark.parametrize("label", ["Total", "total", "All", "Overall", "All pupils"])
def test_total_labels(label):
    table = table_from_csv(f"year_group,pupils\n7,20\n{label},20\n")
    assert table.total_rows == [1]


def test_the_sidecar_names_the_total_label():
    table = table_from_csv("school,pupils\nA,20\nEveryone,20\n", {"total_label": "Everyone"})
    assert table.total_rows == [1]


def test_subtotals_of_two_dimensions():
    table = table_from_csv(
        """
        school,year,pupils
        A,7,20
        A,Total,20
        Total,7,20
        Total,Total,20
        """
    )
    assert roles(table) == {"school": "dimension", "year": "dimension", "pupils": "count"}
    assert table.total_rows == [1, 2, 3]


# Wide crosstabs


def test_a_wide_crosstab_with_a_total_column():
    table = table_from_csv(
        """
        year_group,fsm,non_fsm,total
        7,10,20,30
        Total,10,20,30
        """
    )
    assert roles(table) == {
        "year_group": "dimension",
        "fsm": "count",
        "non_fsm": "count",
        "total": "count",
    }
    assert table.is_wide()
    assert table.total_columns == ["total"]
    assert table.total_rows == [1]


def test_a_table_with_statistics_is_not_a_crosstab():
    table = table_from_csv("school,n,mean_score\nA,20,3.5\n")
    assert not table.is_wide()


# Numerators, denominators and percentages


def test_named_numerator_denominator_and_ratio_as_measures_write_them():
    table = table_from_csv(
        """
        measure,interval_start,interval_end,ratio,numerator,denominator,school
        fsm,2023-09-01,2023-09-30,0.25,10,40,A
        fsm,2023-09-01,2023-09-30,0.5,20,40,B
        """
    )
    assert roles(table) == {
        "measure": "dimension",
        "interval_start": "dimension",
        "interval_end": "dimension",
        "ratio": "rate",
        "numerator": "numerator",
        "denominator": "denominator",
        "school": "dimension",
    }
    assert ratio_of(table, "ratio") == ("numerator", "denominator", 1.0)
    assert table.count_for("numerator") == "denominator"


def test_a_percentage_is_paired_with_its_counts_by_their_values():
    table = table_from_csv(
        """
        school,pupils,absent,excluded,pct_absent,pct_excluded
        A,100,10,5,10.0,5.0
        B,200,30,4,15.0,2.0
        """
    )
    assert ratio_of(table, "pct_absent") == ("absent", "pupils", 100.0)
    assert ratio_of(table, "pct_excluded") == ("excluded", "pupils", 100.0)
    assert roles(table)["absent"] == "numerator"
    assert roles(table)["pupils"] == "denominator"


def test_a_proportion_computed_from_counts_is_paired_allowing_for_its_decimals():
    table = table_from_csv(EXAMPLE)
    assert ratio_of(table, "persistent_absence_share") == (
        "n_persistently_absent",
        "n_pupils",
        1.0,
    )
    assert ratio_of(table, "absence_rate") == ("n_sessions_missed", "n_sessions_possible", 1.0)
    assert table.total_rows == [4]


def test_a_rate_of_unknown_scale_gets_the_scale_its_counts_show():
    table = table_from_csv("school,excluded,pupils,rate\nA,3,2000,1.5\nB,10,4000,2.5\n")
    assert ratio_of(table, "rate") == ("excluded", "pupils", 1000.0)


@pytest.mark.parametrize(
    "name, scale", [("rate_per_1000", 1000.0), ("rate_per_100k", 100_000.0), ("rate", None)]
)
def test_a_rate_named_per_so_many_has_that_scale(name, scale):
    table = table_from_csv(f"school,pupils,{name}\nA,[REDACTED],5\n")
    assert table.columns[name].scale == scale


def test_rounded_counts_still_pair_with_a_ratio_of_the_true_counts():
    # True counts 12 of 47 (25.5%), rounded to 10 of 45.
    table = table_from_csv(
        "school,fsm,pupils,percent\nA,10,45,25.5\nB,20,100,20.0\n", {"rounding": 5}
    )
    assert ratio_of(table, "percent") == ("fsm", "pupils", 100.0)


def test_two_counts_and_a_percentage_with_every_numerator_redacted():
    table = table_from_csv(
        """
        school,absent,pupils,percent
        A,[REDACTED],20,25
        B,*,40,25
        """
    )
    assert roles(table)["absent"] == "numerator"
    assert ratio_of(table, "percent") == ("absent", "pupils", 100.0)


def test_a_share_of_the_total_has_its_count_as_numerator_and_no_count():
    table = table_from_csv(
        """
        ethnicity,n,percent
        White,60,60.0
        Asian,30,30.0
        Black,10,10.0
        Total,100,100.0
        """
    )
    assert ratio_of(table, "percent") == ("n", None, 100.0)


def test_a_share_with_a_redacted_count_and_no_total_row():
    table = table_from_csv(
        """
        ethnicity,n,percent
        White,60,60.0
        Asian,35,35.0
        Black,[REDACTED],5.0
        """
    )
    assert ratio_of(table, "percent") == ("n", None, 100.0)


def test_shares_within_groups():
    table = table_from_csv(
        """
        school,fsm,n,percent
        A,yes,20,40
        A,no,30,60
        B,yes,10,10
        B,no,90,90
        """
    )
    assert ratio_of(table, "percent") == ("n", None, 100.0)


def test_a_percentage_that_is_not_a_share_keeps_its_count():
    table = table_from_csv("school,n,pct_fsm\nA,20,40\nB,30,10\n")
    assert ratio_of(table, "pct_fsm") == (None, "n", 100.0)


def test_the_sidecar_wins_over_inference():
    table = table_from_csv(
        "school,absent,pupils,percent\nA,5,20,25\n",
        {
            "columns": {
                "absent": {"role": "count"},
                "percent": {"role": "percentage", "count": "pupils", "numerator": "absent"},
            }
        },
    )
    assert roles(table)["absent"] == "count"  # as described, not turned into a numerator
    assert ratio_of(table, "percent") == ("absent", "pupils", 100.0)
    assert table.described == {"absent", "percent"}


def test_a_numerator_is_not_also_the_count():
    table = table_from_csv(
        "school,absent,pct_absent\nA,4,50\n",
        {"columns": {"pct_absent": {"role": "percentage", "numerator": "absent"}}},
    )
    assert ratio_of(table, "pct_absent") == ("absent", None, 100.0)


# Means and standard deviations


def test_a_mean_and_sd_table():
    table = table_from_csv("school,n,mean_ks2,sd_ks2,median_ks2\nA,30,100.5,4.2,101\n")
    assert roles(table) == {
        "school": "dimension",
        "n": "count",
        "mean_ks2": "mean",
        "sd_ks2": "sd",
        "median_ks2": "percentile",
    }
    assert table.count_for("mean_ks2") == "n"
    assert table.count_for("sd_ks2") == "n"


def test_a_sum_and_a_mean_without_a_count():
    table = table_from_csv("school,sum_sessions,mean_sessions\nA,200,40\n")
    assert roles(table) == {"school": "dimension", "sum_sessions": "sum", "mean_sessions": "mean"}
    assert table.count_for("mean_sessions") is None


# Suppressed cells


@pytest.mark.parametrize(
    "marker", ["[REDACTED]", "<8", "< 10", "*", "", "c", "x", "NA", "REDACTED", "-"]
)
def test_suppressed_markers(marker):
    table = table_from_csv(f'school,pupils\nA,"{marker}"\nB,20\n')
    assert roles(table)["pupils"] == "count"
    assert not table.is_shown(0, "pupils")
    assert table.is_shown(1, "pupils")
    assert table.suppressed["pupils"].iat[0]


def test_a_column_with_every_value_redacted_is_read_by_its_name():
    table = table_from_csv("school,pupils,mean_score\nA,[REDACTED],[REDACTED]\nB,<8,*\n")
    assert roles(table) == {"school": "dimension", "pupils": "count", "mean_score": "mean"}


def test_an_unnamed_column_with_every_value_redacted_is_a_count():
    table = table_from_csv("school,absent\nA,[REDACTED]\nB,<8\n")
    assert roles(table)["absent"] == "count"


def test_an_empty_column_is_not_a_count():
    table = table_from_csv("school,notes,pupils\nA,,20\nB,,30\n")
    assert roles(table)["notes"] == "dimension"


def test_numbers_with_thousands_separators():
    table = table_from_csv('school,pupils\nA,"1,200"\n')
    assert table.value(0, "pupils") == 1200


# Sensitivity and rounding


@pytest.mark.parametrize(
    "column, sensitive",
    [
        ("fsm", True),
        ("sen_status", True),
        ("persistently_absent", True),
        ("n_excluded", True),
        ("ethnicity", True),
        ("school", False),
        ("pupils", False),
    ],
)
def test_sensitive_attributes_by_name(column, sensitive):
    table = table_from_csv(f"{column},x\nA,1\n")
    assert is_sensitive(table, column) is sensitive


def test_the_sidecar_says_what_is_sensitive():
    table = table_from_csv(
        "school,fsm,passed\nA,yes,1\n",
        {
            "columns": {
                "fsm": {"role": "dimension"},
                "passed": {"role": "count", "sensitive": True},
            }
        },
    )
    assert not is_sensitive(table, "fsm")
    assert is_sensitive(table, "passed")


def test_rounding_of_a_column():
    table = table_from_csv(
        "school,pupils,absent_midpoint6,events\nA,10,3,7\n",
        {"rounding": 5, "columns": {"events": {"role": "count", "rounding": "none"}}},
    )
    assert table.rounding_of("pupils") == 5
    assert table.rounding_of("absent_midpoint6") == "midpoint6"
    assert table.rounding_of("events") is None
    assert table_from_csv("school,pupils\nA,10\n").rounding_of("pupils") is None


@pytest.mark.parametrize(
    "shown, rounding, interval",
    [
        (10, None, (10, 10)),
        (10, 5, (8, 12)),
        (0, 5, (0, 2)),
        (10, 10, (5, 14)),
        (0, "midpoint6", (0, 0)),
        (3, "midpoint6", (1, 6)),
        (9, "midpoint6", (7, 12)),
    ],
)
def test_rounding_interval(shown, rounding, interval):
    assert rounding_interval(shown, rounding) == interval
