"""Disclosure controls: each rule on and either side of its threshold, totals, profiles."""

import pandas as pd
import pytest

from job_runner.disclosure.controls import (
    Profile,
    control_counts,
    control_ratio_table,
    midpoint6,
    profile,
    recompute_totals,
    redact_small,
    round_to_base,
)


def values(series: pd.Series) -> list:
    return [None if pd.isna(value) else value for value in series]


def test_redact_small_inclusive_threshold_redacts_the_threshold_itself():
    assert values(redact_small([6, 7, 8], threshold=7)) == [None, None, 8]


def test_redact_small_exclusive_threshold_keeps_the_threshold_itself():
    assert values(redact_small([9, 10, 11], threshold=10, inclusive=False)) == [None, 10, 11]


def test_redact_small_zero_is_redacted_unless_kept():
    assert values(redact_small([0, 3, 20], threshold=7)) == [None, None, 20]
    assert values(redact_small([0, 3, 20], threshold=7, redact_zero=False)) == [0, None, 20]


def test_redact_small_keeps_missing_values_missing():
    assert values(redact_small(pd.Series([None, 30], dtype="Int64"), threshold=7)) == [None, 30]


def test_redact_small_works_on_a_dataframe():
    table = pd.DataFrame({"a": [1, 50], "b": [8, 7]})
    assert redact_small(table, threshold=7).to_dict(orient="list") == {
        "a": [None, 50],
        "b": [8, None],
    }


def test_counts_must_be_whole_numbers():
    with pytest.raises(ValueError, match="whole numbers"):
        redact_small([1.5], threshold=7)


def test_round_to_base_5_either_side_of_the_midpoint():
    assert values(round_to_base([0, 2, 3, 7, 8, 12, 13])) == [0, 0, 5, 5, 10, 10, 15]


def test_round_to_base_ties_go_away_from_zero():
    assert values(round_to_base([4, 5, 6, 15, -5, -4], base=10)) == [0, 10, 10, 20, -10, 0]


def test_round_to_base_rejects_a_base_below_one():
    with pytest.raises(ValueError, match="positive"):
        round_to_base([3], base=0)


def test_midpoint6():
    assert values(midpoint6([0, 1, 6, 7, 12, 13, None])) == [0, 3, 3, 9, 9, 15, None]


def test_midpoint6_rejects_negative_counts():
    with pytest.raises(ValueError, match="zero or more"):
        midpoint6([-1])


def test_recompute_totals_from_controlled_cells():
    table = pd.DataFrame(
        {"fsm": [12, 3, 99], "not_fsm": [40, 20, 99]}, index=["school_a", "school_b", "Total"]
    )
    controlled = round_to_base(redact_small(table, threshold=7))
    totals = recompute_totals(controlled)
    assert totals.to_dict(orient="index") == {
        "school_a": {"fsm": 10, "not_fsm": 40, "Total": 50},
        "school_b": {"fsm": None, "not_fsm": 20, "Total": 20},
        "Total": {"fsm": 10, "not_fsm": 60, "Total": 70},
    }


def test_recompute_totals_of_only_redacted_cells_is_missing():
    table = pd.DataFrame({"count": [5, 6]}, index=["a", "b"])
    totals = recompute_totals(redact_small(table, threshold=7), axis="rows")
    assert values(totals["count"]) == [None, None, None]
    assert list(totals.columns) == ["count"]


def test_named_profiles():
    opensafely = profile("opensafely")
    assert (opensafely.threshold, opensafely.inclusive, opensafely.rounding, opensafely.base) == (
        7,
        True,
        "base",
        5,
    )
    srs = profile("srs")
    assert (srs.threshold, srs.inclusive, srs.rounding) == (10, False, "none")
    assert (srs.nk_n, srs.nk_k, srs.p_percent, srs.sd_min_df, srs.model_min_df) == (
        2,
        0.9,
        0.1,
        10,
        10,
    )
    assert isinstance(srs, Profile)


def test_profile_overrides():
    rules = profile("srs", rounding="base", base=10, threshold=20)
    assert (rules.threshold, rules.inclusive, rules.rounding, rules.base) == (20, False, "base", 10)


def test_profile_errors():
    with pytest.raises(ValueError, match="no disclosure profile 'ons'"):
        profile("ons")
    with pytest.raises(ValueError, match="unknown disclosure setting 'treshold'"):
        profile("srs", treshold=5)
    with pytest.raises(ValueError, match="rounding"):
        profile("srs", rounding="up")


def test_control_counts_notes_say_which_rule_applied():
    counts = pd.Series([7, 8, None], dtype="Int64")
    controlled, notes = control_counts(counts, profile("opensafely"))
    assert values(controlled) == [None, 10, None]
    assert list(notes) == ["redacted", "rounded", "missing"]


def test_srs_profile_fails_cells_below_ten_and_does_not_round():
    controlled, notes = control_counts(pd.Series([9, 10, 11]), profile("srs"))
    assert values(controlled) == [None, 10, 11]
    assert list(notes) == ["redacted", "unchanged", "unchanged"]


def test_control_ratio_table_redacts_the_ratio_with_either_count():
    table = pd.DataFrame(
        {
            "numerator": [3, 12, 40],
            "denominator": [100, 13, 6],
            "ratio": [0.03, 12 / 13, 40 / 6],
        }
    )
    controlled = control_ratio_table(table, profile("opensafely"))
    assert values(controlled.table["numerator"]) == [None, 10, 40]
    assert values(controlled.table["denominator"]) == [100, 15, None]
    assert values(controlled.table["ratio"]) == [None, 10 / 15, None]
    assert controlled.notes.to_dict(orient="list") == {
        "numerator": ["redacted", "rounded", "rounded"],
        "denominator": ["rounded", "rounded", "redacted"],
        "ratio": ["redacted", "recomputed", "redacted"],
    }


def test_control_ratio_table_with_midpoint6_renames_the_count_columns():
    table = pd.DataFrame({"numerator": [0, 5], "denominator": [7, 13], "ratio": [0.0, 5 / 13]})
    rules = profile("opensafely", threshold=None, rounding="midpoint6")
    controlled = control_ratio_table(table, rules)
    assert controlled.table.to_dict(orient="list") == {
        "numerator_midpoint6": [0, 3],
        "denominator_midpoint6": [9, 15],
        "ratio": [0.0, 3 / 15],
    }


def test_ratio_is_missing_when_the_controlled_denominator_is_zero():
    table = pd.DataFrame({"numerator": [1], "denominator": [2], "ratio": [0.5]})
    controlled = control_ratio_table(table, profile("opensafely", threshold=None))
    assert values(controlled.table["ratio"]) == [None]


def test_describe_profiles():
    assert profile("opensafely").describe() == (
        "opensafely: counts of 7 or fewer redacted; counts rounded to the nearest 5; ratios "
        "recomputed from the controlled counts"
    )
    assert profile("srs").describe() == (
        "srs: counts below 10 redacted; ratios recomputed from the controlled counts"
    )
