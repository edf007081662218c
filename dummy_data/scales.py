"""The scales assessment results are recorded on: raw texts, and how each text reads as a number.

Every result keeps its raw text. `parse_result` is the one reading of a raw text on a scale: the
numeric value on the scale (None when the text is not a result, e.g. "Ab" for absent) and the
percentage of the scale's range, oriented so that 100 is always the best end of the scale:

| scale | raw texts | numeric | percent |
|---|---|---|---|
| gcse_9_1 | U, 1-, 1, 1+ ... 9-, 9 | U 0, "6+" 6.33, "6-" 5.67 | numeric / 9 |
| vocational_pmd | U, P, M, D, D* | 0 to 4 | numeric / 4 |
| ks3_band | 1C- ... 8A+ (C < B < A; - = +) | band + ninths: "6A+" 6.89 | over 1 to 8.89 |
| effort_1_3 | 1 (excellent), 2, 3 (concern) | 1 to 3 | 1 is 100, 3 is 0 |
| on_track | --, -, =, +, ++ | -2 to 2 | "--" 0, "++" 100 |
| standardised_score | 69 to 141 | the score | over 69 to 141 |
| primary_judgement | WTS, EXS, GDS | 1 to 3 | WTS 0, GDS 100 |
| percentage | 0 to 100 | the number | the number |
| raw_mark | 0 to max_mark | the mark | mark / max_mark |

Generators produce results as indexes into `VOCABULARY` (every raw text of every scale, once), so a
batch's raw_result column is a cheap dictionary array, and the numeric result and percent come from
`parse_result` applied once per vocabulary entry.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np

SCALES = (
    "gcse_9_1", "vocational_pmd", "ks3_band", "effort_1_3", "on_track", "standardised_score",
    "primary_judgement", "percentage", "raw_mark",
)  # fmt: skip
ABSENT = "Ab"  # sat nothing: kept as recorded, with no numeric value
MAX_MARK = 150
STANDARDISED_RANGE = (69, 141)
KS3_BANDS = 8
KS3_STEPS = ("C-", "C", "C+", "B-", "B", "B+", "A-", "A", "A+")
VOCATIONAL = ("U", "P", "M", "D", "D*")
EFFORT = ("1", "2", "3")
ON_TRACK = ("--", "-", "=", "+", "++")
PRIMARY_JUDGEMENTS = ("WTS", "EXS", "GDS")
# Ordinal scales: (texts, numeric value of the first text, whether the first text is the best).
ORDINAL_SCALES = {
    "vocational_pmd": (VOCATIONAL, 0, False),
    "effort_1_3": (EFFORT, 1, True),
    "on_track": (ON_TRACK, -2, False),
    "primary_judgement": (PRIMARY_JUDGEMENTS, 1, False),
}
NUMBER_RANGES = {"standardised_score": STANDARDISED_RANGE, "percentage": (0, 100)}
FINE_STEP = {"": 0.0, "+": 1 / 3, "-": -1 / 3}

_GCSE = re.compile(r"^([1-9])([+-]?)$")
_KS3 = re.compile(r"^([1-8])([CBA][+-]?)$")
_WHOLE_NUMBER = re.compile(r"^[0-9]{1,3}$")


def gcse_texts() -> tuple[str, ...]:
    """GCSE texts by fine level k = round(3 x grade): k 0 is U, k 2 "1-", k 3 "1" ... k 27 "9".

    Level 1 (a third of a grade above U) has no text of its own and reads as U.
    """
    fine = [f"{(k + 1) // 3}{('', '+', '-')[k % 3]}" for k in range(2, 28)]
    return ("U", "U", *fine)


def ks3_texts() -> tuple[str, ...]:
    """KS3 band texts by step q = 9 x (band - 1) + sub-step: q 0 is "1C-", q 71 is "8A+"."""
    return tuple(f"{band}{step}" for band in range(1, KS3_BANDS + 1) for step in KS3_STEPS)


VOCABULARY: tuple[str, ...] = tuple(
    dict.fromkeys(
        [ABSENT, *gcse_texts(), *VOCATIONAL, *ks3_texts(), *ON_TRACK, *PRIMARY_JUDGEMENTS]
        + [str(n) for n in range(MAX_MARK + 1)]
    )
)
_POSITION = {text: index for index, text in enumerate(VOCABULARY)}


def vocabulary_index(texts: tuple[str, ...] | list[str]) -> np.ndarray:
    """Positions of raw texts in `VOCABULARY`."""
    return np.array([_POSITION[text] for text in texts], dtype=np.int32)


GCSE_INDEX = vocabulary_index(gcse_texts())
KS3_INDEX = vocabulary_index(ks3_texts())
VOCATIONAL_INDEX = vocabulary_index(VOCATIONAL)
EFFORT_INDEX = vocabulary_index(EFFORT)
ON_TRACK_INDEX = vocabulary_index(ON_TRACK)
PRIMARY_INDEX = vocabulary_index(PRIMARY_JUDGEMENTS)
NUMBER_INDEX = vocabulary_index([str(n) for n in range(MAX_MARK + 1)])
ABSENT_INDEX = _POSITION[ABSENT]

Reading = tuple[float | None, float | None]


def _percent(value: float, low: float, high: float) -> float:
    return round(100 * (value - low) / (high - low), 2)


def parse_result(scale: str, raw: str, max_mark: int | None = None) -> Reading:
    """(numeric result, result percent) of a raw result text on a scale; (None, None) if none."""
    text = raw.strip()
    if scale == "gcse_9_1":
        return _parse_gcse(text)
    if scale == "ks3_band" and (match := _KS3.match(text)):
        value = int(match[1]) + KS3_STEPS.index(match[2]) / 9
        return round(value, 2), _percent(value, 1, KS3_BANDS + 8 / 9)
    if scale in ORDINAL_SCALES and text in ORDINAL_SCALES[scale][0]:
        texts, low, first_is_best = ORDINAL_SCALES[scale]
        value = float(low + texts.index(text))
        percent = _percent(value, low, low + len(texts) - 1)
        return value, round(100 - percent, 2) if first_is_best else percent
    if scale == "raw_mark" and _WHOLE_NUMBER.match(text):
        mark = int(text)
        if max_mark is None:
            return float(mark), None
        return (float(mark), _percent(mark, 0, max_mark)) if mark <= max_mark else (None, None)
    if scale in NUMBER_RANGES and _WHOLE_NUMBER.match(text):
        low, high = NUMBER_RANGES[scale]
        number = int(text)
        if low <= number <= high:
            return float(number), _percent(number, low, high)
    return None, None


def _parse_gcse(text: str) -> Reading:
    if text == "U":
        return 0.0, 0.0
    match = _GCSE.match(text)
    if not match:
        return None, None
    grade = int(match[1]) + FINE_STEP[match[2]]
    return (round(grade, 2), _percent(grade, 0, 9)) if grade <= 9 else (None, None)


@cache
def numeric_by_vocabulary(scale: str) -> np.ndarray:
    """The numeric result of every vocabulary entry read on the scale (NaN when not a result)."""
    values = [parse_result(scale, text, MAX_MARK)[0] for text in VOCABULARY]
    return np.array([np.nan if value is None else value for value in values])


@cache
def percent_by_vocabulary(scale: str) -> np.ndarray:
    """The result percent of every vocabulary entry on the scale (NaN when not derivable).

    Raw marks have no percent here: theirs depends on the assessment's maximum mark.
    """
    values = [parse_result(scale, text)[1] for text in VOCABULARY]
    return np.array([np.nan if value is None else value for value in values])


# Continuous values onto each scale's raw texts, as `VOCABULARY` indexes.

VOCATIONAL_CUTS = np.array([2.5, 4.75, 6.25, 7.75])  # on the GCSE grade scale: a pass is about a 4


def gcse_grades(grade: np.ndarray, fine: np.ndarray | bool) -> np.ndarray:
    """A continuous GCSE grade as a fine grade ("6+") where `fine`, else a whole grade ("6")."""
    thirds = np.clip(np.rint(grade * 3), 0, 27).astype(np.int64)
    whole = np.clip(np.rint(grade), 0, 9).astype(np.int64) * 3
    return GCSE_INDEX[np.where(fine, thirds, whole)]


def vocational_grades(grade: np.ndarray) -> np.ndarray:
    """A continuous GCSE-equivalent grade as U, P, M, D or D*."""
    return VOCATIONAL_INDEX[np.searchsorted(VOCATIONAL_CUTS, grade, side="right")]


def ks3_bands(level: np.ndarray) -> np.ndarray:
    """A continuous KS3 level (1.0 to 8.89) as a band and step, e.g. 6.9 -> "6A+"."""
    steps = np.clip(np.rint((level - 1) * 9), 0, 9 * KS3_BANDS - 1).astype(np.int64)
    return KS3_INDEX[steps]


def ordinal_grades(value: np.ndarray, cuts: np.ndarray, index: np.ndarray) -> np.ndarray:
    """A continuous value cut into ordered categories (`index`, lowest first) at `cuts`."""
    return index[np.searchsorted(cuts, value, side="right")]


def whole_numbers(value: np.ndarray, low: int, high: int) -> np.ndarray:
    """A continuous value rounded and clipped to a whole number from low to high."""
    return NUMBER_INDEX[np.clip(np.rint(value), low, high).astype(np.int64)]
