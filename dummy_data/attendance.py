"""Attendance marks and exclusions, realised from the backbone's planted absence rates.

For each school and academic year the marks are a pupils x open days x sessions matrix of int8
indexes into `ATTENDANCE_CODES`, filled in layers (each later layer overwrites the earlier):

1. present: `/` in the morning, `\\` in the afternoon;
2. absence: each enrolment misses a share of its possible sessions equal to its planted
   `_absence_rate` (exactly, up to rounding to whole sessions), as spells of whole days (about
   `absence_spell_days` long, longer for frequent absentees), a holiday spell for some pupils, and
   single sessions (appointments, arriving after registers closed). Spells do not overlap and fall
   more densely where the day intensity is higher: it rises through the autumn term, and the terms
   follow `absence_by_term`. Each spell has one reason (illness, unauthorised, other authorised,
   holiday); unauthorised spells are commoner for frequent absentees and FSM pupils, and the reason
   mix is calibrated once over the whole trust to `absence_reasons`;
3. events on present sessions: late `L` (`U`, after registers closed, is an absence and part of the
   budget in 2), approved educational activity (V P B K W) and the rare pupil-level `Y` codes;
4. `E` over the sessions of every suspension, and from a permanent exclusion to the end of the
   enrolment (the pupil stays on roll, marked `E`, until the exclusion is confirmed);
5. not possible: `X` for the unattended session of part-time nursery pupils and the first afternoons
   of a phased reception start, `#` and `Y4` on the rare whole-school closure days.

A permanent exclusion ends the pupil's time at the school, and this family cannot change enrolments,
so permanent exclusions are drawn among enrolments the pupil does not follow with a later one at the
same school, strongly preferring those that end during the year. The exclusion starts on the
enrolment's last open day (its end date, for the backbone's leavers) when that is before the year's
last open day, otherwise on one of the enrolment's last ten open days.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
import pyarrow as pa

from dummy_data.backbone import Backbone, SchoolCalendar, random_stream
from dummy_data.settings import GeneratorSettings

# The attendance_code codelist, in its order: marks are int8 indexes into this tuple.
ATTENDANCE_CODES = (
    "/", "\\", "L", "K", "V", "P", "W", "B",
    "C", "C1", "C2", "E", "I", "J1", "M", "R", "S", "T",
    "G", "N", "O", "U",
    "D", "X", "Q", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7", "Z", "#",
)  # fmt: skip
CODE = {code: np.int8(index) for index, code in enumerate(ATTENDANCE_CODES)}
SESSIONS = ("AM", "PM")
YEAR_GROUP_INDEX = {"N1": -2, "N2": -1, "R": 0, **{str(g): g for g in range(1, 15)}}
EXCLUSION_CATEGORIES = ("PERM", "SUSP", "LUNC")
EXCLUSION_REASONS = (
    "PP", "PA", "VP", "VA", "BU", "RA", "LG", "DS", "SM", "DA", "DM", "TH", "PD", "MT", "WE", "OT",
)  # fmt: skip

# A spell's session: both (a whole day), or just the morning or afternoon.
BOTH, AM, PM = 2, 0, 1

# Codes within each reason, by share. S (study leave) and J1 (interviews) are for years 11 and over.
UNAUTHORISED_DAY_CODES = {"O": 0.72, "N": 0.2, "G": 0.08}
OTHER_AUTHORISED_DAY_CODES = {
    "C": 0.32,
    "M": 0.3,
    "R": 0.18,
    "T": 0.05,
    "C2": 0.05,
    "S": 0.05,
    "J1": 0.03,
    "C1": 0.02,
}
HOLIDAY_CODES = {"G": 0.9, "C": 0.1}
SINGLE_SESSION_CODES = {"M": 0.45, "I": 0.2, "O": 0.12, "U": 0.08, "N": 0.05, "C": 0.05, "R": 0.05}
REASON_OF_SINGLE_CODE = {
    "M": "other_authorised",
    "I": "illness",
    "O": "unauthorised",
    "U": "unauthorised",
    "N": "unauthorised",
    "C": "other_authorised",
    "R": "other_authorised",
}
APPROVED_ACTIVITY_CODES = {"V": 0.55, "P": 0.15, "B": 0.15, "W": 0.1, "K": 0.05}
WHOLE_DAY_ACTIVITY = ("V", "W", "K")
PUPIL_NOT_POSSIBLE_CODES = {"Y1": 0.35, "Y2": 0.15, "Y3": 0.1, "Y7": 0.4}
PUPIL_NOT_POSSIBLE_RATE = 0.0005  # Y-code days per pupil day
MORNING_LATE_SHARE = 0.85
PART_TIME_NURSERY_SHARE = 0.6
PHASED_RECEPTION_SHARE = 0.4  # schools whose reception pupils start with mornings only
PHASED_RECEPTION_DAYS = 5
HOLIDAY_DAYS_MIN, HOLIDAY_EXTRA_DAYS_MEAN = 3, 2.0
HOLIDAY_FULL_CHANCE_AT_DAYS = 10  # whole days absent from which a pupil's holiday chance is fullest
UNAUTHORISED_FSM_ODDS = 1.25
REFERENCE_ABSENCE_RATE = 0.071
RATE_BANDS = 20  # absence rate bands for the day intensity of spells (see _warped_days)

# Exclusions: relative risk by year group index (N1 -2 ... 14), and by pupil group.
EXCLUSION_RISK_BY_YEAR_GROUP = {
    -2: 0,
    -1: 0,
    0: 0.2,
    1: 0.25,
    2: 0.3,
    3: 0.6,
    4: 0.8,
    5: 1,
    6: 1.2,
    7: 6,
    8: 10,
    9: 11,
    10: 10,
    11: 7,
    12: 1.5,
    13: 1,
    14: 1,
}
EXCLUSION_RISK_FSM, EXCLUSION_RISK_BOY, EXCLUSION_RISK_AP = 2.5, 2.5, 3.0
EXCLUSION_RISK_SEN = {"N": 1.0, "K": 2.5, "E": 2.0}
EXCLUSION_FRAILTY_SHAPE = 0.6  # gamma frailty: suspensions concentrate on a few pupils
SUSPENSION_SESSIONS = {
    1: 0.1,
    2: 0.42,
    3: 0.04,
    4: 0.17,
    5: 0.02,
    6: 0.1,
    8: 0.04,
    10: 0.06,
    15: 0.02,
    20: 0.015,
    30: 0.006,
    60: 0.003,
    90: 0.001,
}
SUSPENSION_AFTERNOON_START = 0.15
PERMANENT_MID_YEAR_PREFERENCE = 20.0
PERMANENT_LAST_DAYS = 10
SUSPENSION_REASONS = {
    "PD": 50,
    "VA": 12,
    "PP": 9,
    "VP": 8,
    "PA": 5,
    "DA": 3,
    "DM": 3,
    "WE": 2,
    "BU": 1.5,
    "RA": 1,
    "SM": 1,
    "TH": 1,
    "MT": 1,
    "LG": 0.3,
    "DS": 0.2,
    "OT": 4,
}
PERMANENT_REASONS = {
    "PD": 35,
    "PA": 12,
    "PP": 10,
    "WE": 10,
    "DA": 10,
    "VA": 10,
    "VP": 4,
    "SM": 2,
    "DM": 2,
    "BU": 1,
    "RA": 1,
    "TH": 1,
    "MT": 1,
    "OT": 1,
}
REASON_COUNT_SHARES = (0.72, 0.2, 0.08)


@dataclass(frozen=True)
class Roll:
    """Enrolments as arrays, with their open-day span in their year's calendar.

    `first_day` and `last_day` index the calendar's open dates (inclusive); enrolments without an
    open day are dropped. Sorted like the backbone's enrolments: school, academic year, pupil.
    """

    pupil_id: np.ndarray
    school_id: np.ndarray
    academic_year: np.ndarray
    trust_id: np.ndarray
    first_day: np.ndarray
    last_day: np.ndarray
    year_days: np.ndarray  # open days in the enrolment's academic year
    year_group_index: np.ndarray
    absence_rate: np.ndarray
    fsm: np.ndarray
    exclusion_risk: np.ndarray
    followed_at_school: np.ndarray  # the pupil has a later enrolment at the same school

    def __len__(self) -> int:
        return len(self.pupil_id)

    def take(self, rows: slice | np.ndarray) -> Roll:
        return Roll(**{field.name: getattr(self, field.name)[rows] for field in fields(self)})

    @property
    def days(self) -> np.ndarray:
        return self.last_day - self.first_day + 1

    @property
    def year_share(self) -> np.ndarray:
        return self.days / self.year_days


@dataclass(frozen=True)
class Calibration:
    """Constants calibrated once over the whole trust (see `calibrate`)."""

    holiday_chance: float  # of a pupil with at least HOLIDAY_FULL_CHANCE_AT_DAYS whole days absent
    unauthorised_scale: float  # chance of an unauthorised spell is this times the pupil's weight
    other_authorised_chance: float
    suspension_scale: float  # expected suspensions a year per unit of exclusion risk
    lunchtime_scale: float
    permanent_scale: float


@dataclass(frozen=True)
class Spells:
    """Absence spells of one school-year: row of the roll, first open day, days, code, session."""

    row: np.ndarray
    start: np.ndarray
    days: np.ndarray
    code: np.ndarray
    session: np.ndarray


@dataclass(frozen=True)
class Exclusions:
    """Exclusions of one school-year, with their span in sessions of the roll row's year."""

    row: np.ndarray
    category: np.ndarray  # index into EXCLUSION_CATEGORIES
    first_session: np.ndarray  # 2 * open day index + session
    sessions: np.ndarray  # for E marks; lunchtime suspensions mark nothing
    marks_e: np.ndarray


def generate_attendance(backbone: Backbone) -> Iterator[tuple[str, pa.Table]]:
    """Yield `attendance_sessions` and `exclusions` batches, one of each per school and year."""
    settings = backbone.settings
    roll = build_roll(backbone)
    calibration = calibrate(settings, roll)
    next_exclusion_id = 1
    for rows in _school_year_slices(roll):
        part = roll.take(rows)
        calendar = backbone.calendar(int(part.trust_id[0]), int(part.academic_year[0]))
        marks, exclusions = school_year_attendance(settings, calibration, calendar, part)
        yield "attendance_sessions", marks
        if exclusions.num_rows:
            yield "exclusions", _with_ids(exclusions, next_exclusion_id)
            next_exclusion_id += exclusions.num_rows
    if next_exclusion_id == 1:  # the table exists even when empty
        empty = _exclusions_table(roll.take(slice(0, 0)), _no_exclusions(), np.zeros(0, np.int32))
        yield "exclusions", _with_ids(empty, 1)


def _with_ids(exclusions: pa.Table, first_id: int) -> pa.Table:
    ids = np.arange(first_id, first_id + exclusions.num_rows, dtype=np.int32)
    return exclusions.add_column(0, "exclusion_id", pa.array(ids))


def _school_year_slices(roll: Roll) -> list[slice]:
    key = roll.school_id.astype(np.int64) * 10_000 + roll.academic_year
    bounds = np.flatnonzero(np.diff(key)) + 1
    edges = np.concatenate([[0], bounds, [len(roll)]])
    return [slice(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]


def build_roll(backbone: Backbone) -> Roll:
    """The backbone's enrolments as a `Roll`, each with its span of open days."""
    enrolments = backbone.enrolments
    n = len(enrolments)
    first, last, year_days = np.zeros(n, np.int64), np.full(n, -1, np.int64), np.ones(n, np.int64)
    trust = enrolments._trust_id.to_numpy()
    year = enrolments.academic_year.to_numpy()
    start = enrolments.start_date.to_numpy().astype("datetime64[D]")
    end = enrolments.end_date.to_numpy().astype("datetime64[D]")
    for (trust_id, academic_year), calendar in backbone.calendars.items():
        rows = (trust == trust_id) & (year == academic_year)
        first[rows] = np.searchsorted(calendar.open_dates, start[rows], side="left")
        last[rows] = np.searchsorted(calendar.open_dates, end[rows], side="right") - 1
        year_days[rows] = len(calendar.open_dates)
    year_group_index = enrolments.year_group.map(YEAR_GROUP_INDEX).to_numpy().astype(np.int64)
    sex = backbone.pupils.set_index("pupil_id").sex.reindex(enrolments.pupil_id).to_numpy()
    later_start = enrolments.groupby(["pupil_id", "school_id"]).start_date.transform("max")
    roll = Roll(
        pupil_id=enrolments.pupil_id.to_numpy().astype(np.int32),
        school_id=enrolments.school_id.to_numpy().astype(np.int32),
        academic_year=year.astype(np.int64),
        trust_id=trust.astype(np.int64),
        first_day=first,
        last_day=last,
        year_days=year_days,
        year_group_index=year_group_index,
        absence_rate=enrolments._absence_rate.to_numpy().astype(np.float64),
        fsm=enrolments._fsm.to_numpy().astype(bool),
        exclusion_risk=exclusion_risk(enrolments, year_group_index, sex),
        followed_at_school=(later_start > enrolments.start_date).to_numpy(),
    )
    order = np.lexsort((roll.academic_year, roll.school_id))  # stable: pupils keep their order
    return roll.take(order[roll.last_day[order] >= roll.first_day[order]])


def exclusion_risk(
    enrolments: pd.DataFrame, year_group_index: np.ndarray, sex: np.ndarray
) -> np.ndarray:
    """Relative risk of exclusion: year group, FSM, SEN, sex, alternative provision and absence."""
    by_year_group = np.array([EXCLUSION_RISK_BY_YEAR_GROUP[g] for g in range(-2, 15)])
    return (
        by_year_group[year_group_index + 2]
        * np.where(enrolments._fsm.to_numpy(), EXCLUSION_RISK_FSM, 1.0)
        * enrolments._sen.map(EXCLUSION_RISK_SEN).fillna(1.0).to_numpy(dtype=np.float64)
        * np.where(sex == "M", EXCLUSION_RISK_BOY, 1.0)
        * np.where(enrolments._phase.to_numpy() == "alternative_provision", EXCLUSION_RISK_AP, 1.0)
        * (1 + 4 * enrolments._absence_rate.to_numpy())
    )


def _unauthorised_weight(rate: np.ndarray, fsm: np.ndarray) -> np.ndarray:
    """Frequent absentees and FSM pupils have a larger share of unauthorised absence."""
    return np.sqrt(rate / REFERENCE_ABSENCE_RATE) * np.where(fsm, UNAUTHORISED_FSM_ODDS, 1.0)


def _holiday_weight(whole_days: np.ndarray) -> np.ndarray:
    return np.minimum(whole_days / HOLIDAY_FULL_CHANCE_AT_DAYS, 1.0)


def calibrate(settings: GeneratorSettings, roll: Roll) -> Calibration:
    """Solve the reason mix so the trust's expected absence by reason matches the settings.

    Works on expected sessions (rate x possible sessions) of every enrolment: single sessions take
    their fixed code mix, a holiday takes about min(whole days, 5) days, and the rest of the whole
    days split between unauthorised, other authorised and illness. Also scales the exclusion risks
    so the trust's expected exclusions per 100 pupils match the settings.
    """
    shares = {
        reason: value / sum(settings.absence_reasons.values())
        for reason, value in settings.absence_reasons.items()
    }
    absent = roll.absence_rate * 2 * roll.days
    total = max(absent.sum(), 1e-9)
    single = settings.single_session_absence_share * absent
    single_by_reason = {reason: 0.0 for reason in shares}
    for code, share in SINGLE_SESSION_CODES.items():
        single_by_reason[REASON_OF_SINGLE_CODE[code]] += share * single.sum()
    whole_days = (absent - single) / 2
    typical_holiday = np.minimum(whole_days, HOLIDAY_DAYS_MIN + HOLIDAY_EXTRA_DAYS_MEAN)
    holiday_demand = (2 * _holiday_weight(whole_days) * typical_holiday).sum()
    holiday_chance = min(shares["holiday"] * total / max(holiday_demand, 1e-9), 1.0)
    rest = 2 * (whole_days - holiday_chance * _holiday_weight(whole_days) * typical_holiday)
    unauthorised = shares["unauthorised"] * total - single_by_reason["unauthorised"]
    unauthorised_demand = (rest * _unauthorised_weight(roll.absence_rate, roll.fsm)).sum()
    other = shares["other_authorised"] * total - single_by_reason["other_authorised"]
    year_pupils = roll.year_share.sum()
    weighted_risk = max((roll.exclusion_risk * roll.year_share).sum(), 1e-9)
    return Calibration(
        holiday_chance=holiday_chance,
        unauthorised_scale=max(unauthorised, 0) / max(unauthorised_demand, 1e-9),
        other_authorised_chance=float(np.clip(other / max(rest.sum(), 1e-9), 0, 1)),
        suspension_scale=settings.suspensions_per_100 / 100 * year_pupils / weighted_risk,
        lunchtime_scale=settings.lunchtime_suspensions_per_100 / 100 * year_pupils / weighted_risk,
        permanent_scale=settings.permanent_exclusions_per_100 / 100 * year_pupils / weighted_risk,
    )


def school_year_attendance(
    settings: GeneratorSettings, calibration: Calibration, calendar: SchoolCalendar, roll: Roll
) -> tuple[pa.Table, pa.Table]:
    """The marks and exclusions of one school in one academic year (exclusions without ids)."""
    school_id, year = int(roll.school_id[0]), calendar.academic_year
    rng = random_stream(settings.seed, "attendance", school_id, year)
    n_days = len(calendar.open_dates)
    part_time_session = _part_time_nursery_session(rng, roll)
    spells = absence_spells(
        rng, settings, calibration, roll, part_time_session >= 0, _day_intensity(settings, calendar)
    )
    codes = _present_and_absent(spells, len(roll), n_days)
    minutes = np.zeros(codes.shape, np.int16)
    _mark_single_sessions(rng, codes, minutes, spells)
    _mark_late(rng, settings, codes, minutes, roll)
    _mark_day_events(
        rng,
        codes,
        roll,
        settings.approved_activity_rate,
        APPROVED_ACTIVITY_CODES,
        WHOLE_DAY_ACTIVITY,
    )
    _mark_day_events(
        rng,
        codes,
        roll,
        PUPIL_NOT_POSSIBLE_RATE,
        PUPIL_NOT_POSSIBLE_CODES,
        tuple(PUPIL_NOT_POSSIBLE_CODES),
    )
    exclusion_rng = random_stream(settings.seed, "exclusions", school_id, year)
    exclusions = draw_exclusions(exclusion_rng, calibration, roll)
    _mark_exclusions(codes, exclusions)
    _mark_not_compulsory(rng, codes, roll, part_time_session)
    _mark_school_closures(
        random_stream(settings.seed, "school closures", school_id, year), settings, codes, calendar
    )
    marks = _marks_table(codes, minutes, roll, calendar)
    start_dates = calendar.open_dates[exclusions.first_session // 2]
    start_days = start_dates.astype("datetime64[D]").astype(np.int32)
    table = _exclusions_table(roll, exclusions, start_days, exclusion_rng)
    return marks, table


def _stochastic_round(rng: np.random.Generator, values: np.ndarray) -> np.ndarray:
    return np.floor(values + rng.random(len(values))).astype(np.int64)


def _draw_codes(rng: np.random.Generator, mix: dict[str, float], n: int) -> np.ndarray:
    codes = np.array([CODE[code] for code in mix], dtype=np.int8)
    weights = np.array(list(mix.values()), dtype=np.float64)
    return codes[rng.choice(len(codes), n, p=weights / weights.sum())]


def _day_intensity(settings: GeneratorSettings, calendar: SchoolCalendar) -> np.ndarray:
    """Relative chance of absence on each open day: the terms' rates, rising through the autumn."""
    terms = calendar.terms.astype(np.int64)
    intensity = np.asarray(settings.absence_by_term, dtype=np.float64)[terms]
    autumn = terms == 0
    if autumn.sum() > 1:
        position = np.linspace(-0.5, 0.5, int(autumn.sum()))
        intensity[autumn] *= 1 + settings.autumn_absence_rise * position
    return intensity


def _part_time_nursery_session(rng: np.random.Generator, roll: Roll) -> np.ndarray:
    """The one session a part-time nursery pupil attends (AM or PM); -1 for everyone else."""
    part_time = (roll.year_group_index < 0) & (rng.random(len(roll)) < PART_TIME_NURSERY_SHARE)
    return np.where(part_time, rng.integers(0, 2, len(roll)), -1)


def absence_spells(
    rng: np.random.Generator,
    settings: GeneratorSettings,
    calibration: Calibration,
    roll: Roll,
    part_time: np.ndarray,
    intensity: np.ndarray,
) -> Spells:
    """Spells of absence for each roll row, adding up to its planted rate of possible sessions."""
    n, days = len(roll), roll.days
    per_day = np.where(part_time, 1, 2)
    absent = np.minimum(_stochastic_round(rng, roll.absence_rate * per_day * days), per_day * days)
    single = np.where(part_time, 0, rng.binomial(absent, settings.single_session_absence_share))
    single += (absent - single) % per_day  # what is left must be whole days
    single = np.minimum(single, 2 * days - absent)  # whole days plus single days fit in the days
    whole = (absent - single) // per_day
    holiday = np.where(
        rng.random(n) < calibration.holiday_chance * _holiday_weight(whole),
        np.minimum(whole, HOLIDAY_DAYS_MIN + rng.poisson(HOLIDAY_EXTRA_DAYS_MEAN, n)),
        0,
    )
    other = whole - holiday
    rate = np.minimum(roll.absence_rate, 0.9)
    spell_days = 1 + (settings.absence_spell_days - 1) / np.sqrt(1 - rate)
    count = np.where(other > 0, 1 + _stochastic_round(rng, (other - 1) / spell_days), 0)
    other_row, other_days = _compositions(rng, other, count)
    has_holiday = holiday > 0
    single_row = np.repeat(np.arange(n), single)
    single_code = _draw_codes(rng, SINGLE_SESSION_CODES, len(single_row))
    late_after_close = single_code == CODE["U"]
    single_session = np.where(late_after_close | (rng.random(len(single_row)) < 0.5), AM, PM)
    spells = Spells(
        row=np.concatenate([other_row, np.flatnonzero(has_holiday), single_row]),
        start=np.zeros(0, np.int64),  # placed below
        days=np.concatenate([other_days, holiday[has_holiday], np.ones(len(single_row), np.int64)]),
        code=np.concatenate(
            [
                _whole_day_codes(rng, calibration, roll, other_row),
                _draw_codes(rng, HOLIDAY_CODES, int(has_holiday.sum())),
                single_code,
            ]
        ),
        session=np.concatenate([np.full(len(other_row) + has_holiday.sum(), BOTH), single_session]),
    )
    return _placed(rng, spells, roll, intensity, occupied=whole + single)


def _compositions(
    rng: np.random.Generator, totals: np.ndarray, parts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Split each total into its number of parts of at least 1, with near-geometric lengths.

    The cuts are sorted uniform points over the surplus (total - parts), so the lengths are one plus
    the spacings. Returns the row of each part and its length.
    """
    row = np.repeat(np.arange(len(totals)), parts)
    surplus = (totals - parts)[row]
    points = rng.random(len(row))
    last_of_row = np.r_[row[1:] != row[:-1], True] if len(row) else np.zeros(0, bool)
    points[last_of_row] = 1.0
    points = points[np.lexsort((points, row))]
    cuts = np.floor(points * surplus).astype(np.int64)
    previous = np.r_[0, cuts[:-1]] if len(row) else cuts
    first_of_row = np.r_[True, row[1:] != row[:-1]] if len(row) else np.zeros(0, bool)
    previous[first_of_row] = 0
    return row, 1 + cuts - previous


def _whole_day_codes(
    rng: np.random.Generator, calibration: Calibration, roll: Roll, row: np.ndarray
) -> np.ndarray:
    """A reason for each whole-day spell, then a code within the reason."""
    unauthorised = np.minimum(
        calibration.unauthorised_scale * _unauthorised_weight(roll.absence_rate, roll.fsm)[row], 0.9
    )
    other = np.minimum(calibration.other_authorised_chance, 1 - unauthorised)
    draw = rng.random(len(row))
    codes = np.full(len(row), CODE["I"], np.int8)
    is_unauthorised = draw < unauthorised
    is_other = ~is_unauthorised & (draw < unauthorised + other)
    codes[is_unauthorised] = _draw_codes(rng, UNAUTHORISED_DAY_CODES, int(is_unauthorised.sum()))
    other_codes = _draw_codes(rng, OTHER_AUTHORISED_DAY_CODES, int(is_other.sum()))
    below_year_11 = roll.year_group_index[row[is_other]] < 11
    other_codes[below_year_11 & np.isin(other_codes, [CODE["S"], CODE["J1"]])] = CODE["C"]
    codes[is_other] = other_codes
    return codes


def _grouped_exclusive_cumsum(values: np.ndarray, row: np.ndarray, n_rows: int) -> np.ndarray:
    """For each element, the sum of the values before it in its row (rows sorted)."""
    inclusive = np.cumsum(values)
    row_totals = np.bincount(row, weights=values, minlength=n_rows).astype(np.int64)
    before_row = np.cumsum(row_totals) - row_totals
    return inclusive - values - before_row[row]


def _placed(
    rng: np.random.Generator,
    spells: Spells,
    roll: Roll,
    intensity: np.ndarray,
    occupied: np.ndarray,
) -> Spells:
    """Put each row's spells in a random order at non-overlapping days within its enrolment.

    The free days of a row are split into gaps around its spells by sorted uniform points, warped by
    the day intensity so that spells fall more often where absence is commoner.
    """
    n = len(roll)
    order = np.lexsort((rng.random(len(spells.row)), spells.row))
    row, days = spells.row[order], spells.days[order]
    before = _grouped_exclusive_cumsum(days, row, n)
    points = rng.random(len(row))
    points = points[np.lexsort((points, row))]
    first, last = roll.first_day[row], roll.last_day[row]
    day_position = _warped_days(points, first, last, roll.absence_rate[row], intensity)
    free = (roll.days - occupied)[row]
    gap = np.minimum(np.floor((day_position - first) / roll.days[row] * (free + 1)), free)
    return Spells(
        row=row,
        start=first + gap.astype(np.int64) + before,
        days=days,
        code=spells.code[order],
        session=spells.session[order],
    )


def _warped_days(
    points: np.ndarray,
    first: np.ndarray,
    last: np.ndarray,
    rate: np.ndarray,
    intensity: np.ndarray,
) -> np.ndarray:
    """Map points in [0, 1) to day positions in [first, last + 1) with density following intensity.

    Spells fill calendar days as well as marking them, which flattens the pattern for frequent
    absentees: with spells placed at density k among free days, the share of days absent is
    r k / (1 - r + r k) rather than r k. So each rate band uses k = i (1 - r) / (1 - r i) for the
    day intensity i (mean 1), which makes the share absent r i again.
    """
    intensity = intensity / intensity.mean()
    band = np.minimum((rate * RATE_BANDS).astype(np.int64), RATE_BANDS - 1)
    band_rate = (np.arange(RATE_BANDS) + 0.5) / RATE_BANDS
    density = (
        intensity * (1 - band_rate[:, None]) / np.maximum(1 - band_rate[:, None] * intensity, 0.05)
    )
    cumulative = np.concatenate([np.zeros((RATE_BANDS, 1)), np.cumsum(density, axis=1)], axis=1)
    # One increasing lookup table for all bands: band b's cumulative shifted past band b - 1's.
    offset = np.arange(RATE_BANDS)[:, None] * (cumulative[:, -1].max() + 1)
    table = (cumulative + offset).ravel()
    days = np.tile(np.arange(len(intensity) + 1, dtype=np.float64), RATE_BANDS)
    low, high = cumulative[band, first], cumulative[band, last + 1]
    return np.interp(low + points * (high - low) + offset[band, 0], table, days)


def _present_and_absent(spells: Spells, n_rows: int, n_days: int) -> np.ndarray:
    """The marks matrix (rows x days x 2) with present marks and the whole-day absence spells."""
    whole = spells.session == BOTH
    width = n_days + 1
    start = spells.row[whole] * width + spells.start[whole]
    code = spells.code[whole].astype(np.float64)
    change = np.bincount(start, weights=code, minlength=n_rows * width) - np.bincount(
        start + spells.days[whole], weights=code, minlength=n_rows * width
    )
    day_code = np.cumsum(change.reshape(n_rows, width), axis=1)[:, :n_days].astype(np.int8)
    absent = day_code > 0
    codes = np.empty((n_rows, n_days, 2), np.int8)
    codes[:, :, 0] = np.where(absent, day_code, CODE["/"])
    codes[:, :, 1] = np.where(absent, day_code, CODE["\\"])
    return codes


def _mark_single_sessions(
    rng: np.random.Generator, codes: np.ndarray, minutes: np.ndarray, spells: Spells
) -> None:
    single = spells.session != BOTH
    row, day, session = spells.row[single], spells.start[single], spells.session[single]
    codes[row, day, session] = spells.code[single]
    late = spells.code[single] == CODE["U"]
    minutes[row[late], day[late], session[late]] = np.minimum(
        29 + rng.geometric(1 / 15, int(late.sum())), 90
    )


def _random_days(
    rng: np.random.Generator, roll: Roll, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """`counts` random open days within each row's enrolment: (row, day)."""
    row = np.repeat(np.arange(len(roll)), counts)
    day = roll.first_day[row] + np.floor(rng.random(len(row)) * roll.days[row]).astype(np.int64)
    return row, day


def _mark_late(
    rng: np.random.Generator,
    settings: GeneratorSettings,
    codes: np.ndarray,
    minutes: np.ndarray,
    roll: Roll,
) -> None:
    """Late marks on present sessions, a little commoner for frequent absentees."""
    chance = settings.late_rate * (0.7 + 0.3 * roll.absence_rate / REFERENCE_ABSENCE_RATE)
    row, day = _random_days(rng, roll, rng.poisson(np.minimum(chance, 0.5) * 2 * roll.days))
    session = np.where(rng.random(len(row)) < MORNING_LATE_SHARE, AM, PM)
    present = codes[row, day, session] <= CODE["\\"]
    row, day, session = row[present], day[present], session[present]
    codes[row, day, session] = CODE["L"]
    minutes[row, day, session] = np.minimum(rng.geometric(0.12, len(row)), 30)


def _mark_day_events(
    rng: np.random.Generator,
    codes: np.ndarray,
    roll: Roll,
    rate: float,
    mix: dict[str, float],
    whole_day_codes: tuple[str, ...],
) -> None:
    """Rare days of a code on present sessions; codes not in `whole_day_codes` take the PM only."""
    row, day = _random_days(rng, roll, rng.poisson(rate * roll.days))
    code = _draw_codes(rng, mix, len(row))
    if "W" in mix:  # work experience is for years 10 and over
        code[(code == CODE["W"]) & (roll.year_group_index[row] < 10)] = CODE["V"]
    whole_day = np.isin(code, [CODE[c] for c in whole_day_codes])
    for session, sessions_rows in ((AM, whole_day), (PM, np.ones(len(row), bool))):
        r, d = row[sessions_rows], day[sessions_rows]
        present = codes[r, d, session] <= CODE["\\"]
        codes[r[present], d[present], session] = code[sessions_rows][present]


def draw_exclusions(rng: np.random.Generator, calibration: Calibration, roll: Roll) -> Exclusions:
    """Suspensions, lunchtime suspensions and permanent exclusions of one school-year."""
    n = len(roll)
    risk = (
        roll.exclusion_risk
        * roll.year_share
        * rng.gamma(EXCLUSION_FRAILTY_SHAPE, 1 / EXCLUSION_FRAILTY_SHAPE, n)
    )
    permanent = _permanent_exclusions(rng, calibration, roll)
    stop = np.full(n, np.iinfo(np.int64).max)
    stop[permanent.row] = permanent.first_session
    suspensions = _suspensions(rng, roll, rng.poisson(calibration.suspension_scale * risk), stop)
    lunch_row, lunch_day = _random_days(rng, roll, rng.poisson(calibration.lunchtime_scale * risk))
    keep = 2 * lunch_day < stop[lunch_row]
    lunchtime = Exclusions(
        row=lunch_row[keep],
        category=np.full(int(keep.sum()), EXCLUSION_CATEGORIES.index("LUNC")),
        first_session=2 * lunch_day[keep],
        sessions=np.ones(int(keep.sum()), np.int64),
        marks_e=np.zeros(int(keep.sum()), bool),
    )
    merged = [permanent, suspensions, lunchtime]
    combined = Exclusions(
        *(np.concatenate([getattr(e, f.name) for e in merged]) for f in fields(Exclusions))
    )
    order = np.lexsort((combined.category, combined.first_session, combined.row))
    return Exclusions(*(getattr(combined, f.name)[order] for f in fields(Exclusions)))


def _permanent_exclusions(
    rng: np.random.Generator, calibration: Calibration, roll: Roll
) -> Exclusions:
    """Permanent exclusions among enrolments the pupil does not follow at this school."""
    weight = roll.exclusion_risk * ~roll.followed_at_school * (roll.year_group_index >= 1)
    leaves_mid_year = roll.last_day < roll.year_days - 1
    weight = weight * np.where(leaves_mid_year, PERMANENT_MID_YEAR_PREFERENCE, 1.0)
    expected = calibration.permanent_scale * (roll.exclusion_risk * roll.year_share).sum()
    count = min(int(rng.poisson(expected)), int((weight > 0).sum()))
    if count == 0:
        return _no_exclusions()
    row = np.sort(rng.choice(len(roll), count, replace=False, p=weight / weight.sum()))
    back = np.where(leaves_mid_year[row], 0, rng.integers(0, PERMANENT_LAST_DAYS, count))
    day = np.maximum(roll.last_day[row] - back, roll.first_day[row])
    return Exclusions(
        row=row,
        category=np.full(count, EXCLUSION_CATEGORIES.index("PERM")),
        first_session=2 * day,
        sessions=2 * (roll.last_day[row] - day + 1),
        marks_e=np.ones(count, bool),
    )


def _suspensions(
    rng: np.random.Generator, roll: Roll, counts: np.ndarray, stop: np.ndarray
) -> Exclusions:
    """Suspensions laid end to end when they would overlap, cut short at the enrolment's end or at
    a permanent exclusion (`stop`, the row's first session no longer available)."""
    row, day = _random_days(rng, roll, counts)
    first = 2 * day + (rng.random(len(row)) < SUSPENSION_AFTERNOON_START)
    lengths = np.array(list(SUSPENSION_SESSIONS))
    weights = np.array(list(SUSPENSION_SESSIONS.values()))
    length = lengths[rng.choice(len(lengths), len(row), p=weights / weights.sum())]
    order = np.lexsort((first, row))
    row, first, length = row[order], first[order], length[order]
    before = _grouped_exclusive_cumsum(length, row, len(roll))
    # first' = max over earlier j in the row of (first_j - before_j) + before: a running max per row
    offset = row * 10**7
    first = np.maximum.accumulate(first - before + offset) - offset + before
    end = np.minimum(first + length, np.minimum(2 * (roll.last_day[row] + 1), stop[row]))
    keep = end > first
    return Exclusions(
        row=row[keep],
        category=np.full(int(keep.sum()), EXCLUSION_CATEGORIES.index("SUSP")),
        first_session=first[keep],
        sessions=(end - first)[keep],
        marks_e=np.ones(int(keep.sum()), bool),
    )


def _no_exclusions() -> Exclusions:
    empty = np.zeros(0, np.int64)
    return Exclusions(empty, empty, empty, empty, np.zeros(0, bool))


def _mark_exclusions(codes: np.ndarray, exclusions: Exclusions) -> None:
    n_rows, n_days, _ = codes.shape
    width = 2 * n_days + 1
    marked = exclusions.marks_e
    start = exclusions.row[marked] * width + exclusions.first_session[marked]
    change = np.bincount(start, minlength=n_rows * width) - np.bincount(
        start + exclusions.sessions[marked], minlength=n_rows * width
    )
    excluded = np.cumsum(change.reshape(n_rows, width), axis=1)[:, : 2 * n_days] > 0
    codes.reshape(n_rows, 2 * n_days)[excluded] = CODE["E"]


def _mark_not_compulsory(
    rng: np.random.Generator, codes: np.ndarray, roll: Roll, part_time_session: np.ndarray
) -> None:
    """X: the session a part-time nursery pupil does not attend, and a phased reception start."""
    for attended in (AM, PM):
        codes[part_time_session == attended, :, 1 - attended] = CODE["X"]
    if rng.random() < PHASED_RECEPTION_SHARE:
        starters = (roll.year_group_index == 0) & (roll.first_day == 0)
        codes[starters, :PHASED_RECEPTION_DAYS, PM] = CODE["X"]


def _mark_school_closures(
    rng: np.random.Generator,
    settings: GeneratorSettings,
    codes: np.ndarray,
    calendar: SchoolCalendar,
) -> None:
    """Rare whole-school closures: planned (#) on any day, unexpected (Y4, snow) in winter."""
    dates = calendar.open_dates.astype("datetime64[D]")
    months = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    winter = np.flatnonzero(np.isin(months, [12, 1, 2]))
    planned = rng.choice(len(dates), rng.poisson(0.7 * settings.school_closure_days))
    snow_days = rng.poisson(0.3 * settings.school_closure_days) if len(winter) else 0
    unexpected = rng.choice(winter, snow_days)
    codes[:, planned, :] = CODE["#"]
    codes[:, unexpected, :] = CODE["Y4"]


def _date32(days_since_epoch: np.ndarray) -> pa.Array:
    return pa.Array.from_buffers(
        pa.date32(), len(days_since_epoch), [None, pa.py_buffer(days_since_epoch)]
    )


def _dictionary(indices: np.ndarray, values: tuple[str, ...]) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(indices, pa.int8()), pa.array(values))


def _marks_table(
    codes: np.ndarray, minutes: np.ndarray, roll: Roll, calendar: SchoolCalendar
) -> pa.Table:
    """One row per pupil, open day and session on roll, in that order."""
    n_rows, n_days, _ = codes.shape
    counts = 2 * roll.days
    total = int(counts.sum())
    row_start = np.cumsum(counts) - counts
    cell = np.repeat(np.arange(n_rows) * 2 * n_days + 2 * roll.first_day - row_start, counts)
    cell += np.arange(total)
    code = codes.reshape(-1)[cell]
    is_late = (code == CODE["L"]) | (code == CODE["U"])
    dates = calendar.open_dates.astype("datetime64[D]").astype(np.int32)
    return pa.Table.from_arrays(
        [
            pa.array(np.repeat(roll.pupil_id, counts)),
            pa.array(np.repeat(roll.school_id, counts)),
            _date32(dates[cell // 2 % n_days]),
            _dictionary((cell & 1).astype(np.int8), SESSIONS),
            _dictionary(code, ATTENDANCE_CODES),
            pa.Array.from_buffers(
                pa.int16(),
                total,
                [
                    pa.py_buffer(np.packbits(is_late, bitorder="little")),
                    pa.py_buffer(minutes.reshape(-1)[cell]),
                ],
            ),
        ],
        names=["pupil_id", "school_id", "date", "session", "attendance_code", "minutes_late"],
    )


def _reasons(
    rng: np.random.Generator, category: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Up to three distinct reasons per exclusion (drawn without replacement); -1 for none."""
    n = len(category)
    weights = np.array(
        [
            [SUSPENSION_REASONS.get(reason, 0.0) for reason in EXCLUSION_REASONS],
            [PERMANENT_REASONS.get(reason, 0.0) for reason in EXCLUSION_REASONS],
        ]
    )[(category == EXCLUSION_CATEGORIES.index("PERM")).astype(np.int64)]
    with np.errstate(divide="ignore"):
        keys = np.log(weights) + rng.gumbel(size=(n, len(EXCLUSION_REASONS)))
    ranked = np.argsort(-keys, axis=1, kind="stable")[:, :3]
    how_many = 1 + rng.choice(3, n, p=REASON_COUNT_SHARES)
    return tuple(np.where(how_many > k, ranked[:, k], -1) for k in range(3))


def _exclusions_table(
    roll: Roll,
    exclusions: Exclusions,
    start_dates: np.ndarray,
    rng: np.random.Generator | None = None,
) -> pa.Table:
    reasons = _reasons(rng, exclusions.category) if rng is not None else (np.zeros(0, int),) * 3
    permanent = exclusions.category == EXCLUSION_CATEGORIES.index("PERM")
    return pa.Table.from_arrays(
        [
            pa.array(roll.pupil_id[exclusions.row], pa.int32()),
            pa.array(roll.school_id[exclusions.row], pa.int32()),
            _date32(start_dates.astype(np.int32)),
            _dictionary(exclusions.category.astype(np.int8), EXCLUSION_CATEGORIES),
            pa.array(exclusions.sessions.astype(np.int32), pa.int32(), mask=permanent),
            *[
                pa.DictionaryArray.from_arrays(
                    pa.array(reason.astype(np.int8), pa.int8(), mask=reason < 0),
                    pa.array(EXCLUSION_REASONS),
                )
                for reason in reasons
            ],
        ],
        names=[
            "pupil_id",
            "school_id",
            "start_date",
            "category",
            "sessions",
            "reason_1",
            "reason_2",
            "reason_3",
        ],
    )
