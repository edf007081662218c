"""Assessment scales: each raw text reads as one numeric result and percent, and continuous values
land on the right texts."""

import numpy as np
import pytest

from dummy_data.scales import (
    ABSENT,
    EFFORT_INDEX,
    SCALES,
    VOCABULARY,
    gcse_grades,
    ks3_bands,
    numeric_by_vocabulary,
    ordinal_grades,
    parse_result,
    percent_by_vocabulary,
    vocational_grades,
    whole_numbers,
)
from schema import load_schema


def texts(indexes: np.ndarray) -> list[str]:
    return [VOCABULARY[i] for i in indexes]


@pytest.mark.parametrize(
    ("scale", "raw", "max_mark", "numeric", "percent"),
    [
        ("gcse_9_1", "6+", None, 6.33, 70.37),
        ("gcse_9_1", "6-", None, 5.67, 62.96),
        ("gcse_9_1", "5", None, 5.0, 55.56),
        ("gcse_9_1", "9", None, 9.0, 100.0),
        ("gcse_9_1", "U", None, 0.0, 0.0),
        ("gcse_9_1", "1-", None, 0.67, 7.41),
        ("vocational_pmd", "D*", None, 4.0, 100.0),
        ("vocational_pmd", "M", None, 2.0, 50.0),
        ("vocational_pmd", "U", None, 0.0, 0.0),
        ("ks3_band", "8A+", None, 8.89, 100.0),
        ("ks3_band", "6A+", None, 6.89, 74.65),
        ("ks3_band", "7B", None, 7.44, 81.69),
        ("ks3_band", "1C-", None, 1.0, 0.0),
        ("effort_1_3", "1", None, 1.0, 100.0),
        ("effort_1_3", "3", None, 3.0, 0.0),
        ("on_track", "--", None, -2.0, 0.0),
        ("on_track", "=", None, 0.0, 50.0),
        ("on_track", "++", None, 2.0, 100.0),
        ("standardised_score", "69", None, 69.0, 0.0),
        ("standardised_score", "105", None, 105.0, 50.0),
        ("standardised_score", "141", None, 141.0, 100.0),
        ("primary_judgement", "WTS", None, 1.0, 0.0),
        ("primary_judgement", "EXS", None, 2.0, 50.0),
        ("primary_judgement", "GDS", None, 3.0, 100.0),
        ("percentage", "57", None, 57.0, 57.0),
        ("raw_mark", "37", 50, 37.0, 74.0),
        ("raw_mark", "37", None, 37.0, None),
    ],
)
def test_raw_texts_read_as_numbers_on_their_scale(scale, raw, max_mark, numeric, percent):
    assert parse_result(scale, raw, max_mark) == pytest.approx((numeric, percent))


@pytest.mark.parametrize(
    ("scale", "raw"),
    [
        ("gcse_9_1", "9+"), ("gcse_9_1", "10"), ("gcse_9_1", "D*"), ("ks3_band", "9A"),
        ("ks3_band", "6D"), ("effort_1_3", "4"), ("on_track", "+++"), ("primary_judgement", "PKS"),
        ("standardised_score", "68"), ("standardised_score", "142"), ("percentage", "101"),
        ("raw_mark", "51"), ("percentage", ABSENT), ("gcse_9_1", ""),
    ],
)  # fmt: skip
def test_texts_that_are_not_results_on_the_scale_read_as_nothing(scale, raw):
    assert parse_result(scale, raw, 50) == (None, None)


def test_the_vocabulary_is_unique_and_every_scale_reads_within_0_to_100():
    assert len(set(VOCABULARY)) == len(VOCABULARY)
    for scale in SCALES:
        percent = percent_by_vocabulary(scale)
        numeric = numeric_by_vocabulary(scale)
        assert np.nanmin(percent, initial=0) >= 0
        assert np.nanmax(percent, initial=100) <= 100
        assert np.isnan(numeric[VOCABULARY.index(ABSENT)])


def test_the_scales_are_the_codelists():
    codes = load_schema().codelists["assessment_scale"].codes
    assert set(SCALES) == {code.code for code in codes}


def test_gcse_grades_round_to_thirds_or_whole_grades():
    grade = np.array([0.2, 0.4, 0.7, 5.8, 6.4, 8.9, 9.6])
    assert texts(gcse_grades(grade, True)) == ["U", "U", "1-", "6-", "6+", "9", "9"]
    assert texts(gcse_grades(grade, False)) == ["U", "U", "1", "6", "6", "9", "9"]


def test_other_scales_place_continuous_values():
    assert texts(vocational_grades(np.array([1.0, 4.0, 5.0, 7.0, 8.0]))) == [
        "U",
        "P",
        "M",
        "D",
        "D*",
    ]
    assert texts(ks3_bands(np.array([0.5, 6.9, 7.44, 9.5]))) == ["1C-", "6A+", "7B", "8A+"]
    assert texts(
        ordinal_grades(np.array([-2.0, 0.0, 2.0]), np.array([-1.0, 1.0]), EFFORT_INDEX[::-1])
    ) == ["3", "2", "1"]
    assert texts(whole_numbers(np.array([60.4, 150.0, 99.5]), 69, 141)) == ["69", "141", "100"]


def test_every_generated_text_reads_back_to_the_value_it_came_from():
    grade = np.linspace(0, 9, 100)
    for text, value in zip(texts(gcse_grades(grade, True)), grade, strict=True):
        numeric, _ = parse_result("gcse_9_1", text)
        assert abs(numeric - value) <= 0.34 or (text == "U" and value < 0.5)
    level = np.linspace(1, 8.89, 100)
    for text, value in zip(texts(ks3_bands(level)), level, strict=True):
        assert abs(parse_result("ks3_band", text)[0] - value) < 0.06
