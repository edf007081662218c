"""Timetables: each school's periods, its classes and their pupils, who teaches them and when, and
the lessons that follow from them on every open day.

Primary, special and alternative provision classes are their registration groups, taught the whole
week by a class teacher (two when part-timers share a class). Secondary year groups split into
half-year bands of registration groups; maths, science and (in key stage 3) a language are set by
ability within a band, other subjects are taught in mixed groups of the band, and years 10 to 13
choose option blocks. All classes of a band's subject meet at the same periods, so a pupil's classes
never clash; the periods of each subject are spread over the cycle, away from periods where its
department is already busy, and maths goes after lunch at about the settings' share. Teachers are
then placed class by class: a free specialist with spare time if there is one, with stronger
teachers leaning to the top or bottom sets as the settings say, and some classes shared by two.

Frames of `Timetable` (schema columns plus latent `_` columns):
- `periods`: plus `_start_minute`, `_end_minute` (minutes after midnight).
- `classes`: plus `_class_effect` (planted, SD units) and `_afternoon_share` (share of the class's
  timetabled periods that start at or after 12:00; 0 for form groups, which have no lessons).
- `class_memberships`, `class_teachers`: plus `_school_id`, `_academic_year`.
- `class_periods` (not a schema table): one row per class and period of the cycle it meets in, with
  its teacher and room; lessons are these rows repeated on every open day of the matching cycle day.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import time
from itertools import permutations
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from dummy_data.backbone import Backbone, random_stream

if TYPE_CHECKING:
    from dummy_data.workforce import Workforce

YEAR_GROUP_INDEX = {"N1": -2, "N2": -1, "R": 0, **{str(g): g for g in range(1, 15)}}
FAMILY = {
    "biology": "science",
    "chemistry": "science",
    "physics": "science",
    "french": "languages",
    "spanish": "languages",
}
WEEK_HOURS = 25.0
KEY_STAGE_3_HOURS = {
    "english": 4.0,
    "maths": 4.0,
    "science": 3.0,
    "language": 2.0,
    "history": 1.5,
    "geography": 1.5,
    "re": 1.0,
    "computing": 1.0,
    "art": 1.0,
    "music": 1.0,
    "drama": 1.0,
    "pe": 2.0,
    "design_technology": 2.0,
}
KEY_STAGE_4_HOURS = {
    "english": 4.0,
    "maths": 4.0,
    "science": 5.0,
    "pe": 2.0,
    "re": 1.0,
    "A": 3.0,
    "B": 3.0,
    "C": 3.0,
}
SIXTH_FORM_HOURS = {"A": 4.5, "B": 4.5, "C": 4.5}
SET_SUBJECTS = {"maths", "science", "language"}
OPTION_BLOCKS = ("A", "B", "C")
OPTIONS_CHOSEN = len(OPTION_BLOCKS)
# How popular each option subject is (relative weights; each pupil takes three different ones).
OPTION_SUBJECTS = {
    "key_stage_4": {
        "history": 0.3,
        "geography": 0.28,
        "french": 0.2,
        "spanish": 0.14,
        "computing": 0.18,
        "business": 0.17,
        "art": 0.17,
        "design_technology": 0.17,
        "drama": 0.12,
        "music": 0.08,
        "re": 0.09,
    },
    "sixth_form": {
        "maths": 0.3,
        "english": 0.15,
        "history": 0.15,
        "geography": 0.12,
        "biology": 0.25,
        "chemistry": 0.2,
        "physics": 0.12,
        "business": 0.15,
        "computing": 0.1,
        "art": 0.1,
        "drama": 0.05,
        "music": 0.03,
        "french": 0.05,
        "spanish": 0.05,
        "re": 0.08,
        "design_technology": 0.05,
    },
}
GROUP_SIZE = {"set": 23, "key_stage_4": 24, "sixth_form": 16}
BAND_SIZE = 200
WHOLE_CURRICULUM_CLASS_SIZE = 27
FORM_SIZE = 26  # mean secondary registration group, for staffing estimates
SUBJECT_CODES = {
    "english": "En",
    "maths": "Ma",
    "science": "Sc",
    "biology": "Bi",
    "chemistry": "Ch",
    "physics": "Ph",
    "history": "Hi",
    "geography": "Gg",
    "french": "Fr",
    "spanish": "Sp",
    "computing": "Cp",
    "art": "Ar",
    "music": "Mu",
    "drama": "Dr",
    "pe": "PE",
    "re": "RE",
    "design_technology": "DT",
    "business": "Bs",
}
ROOM_PREFIX = {
    "english": "E",
    "maths": "M",
    "science": "S",
    "languages": "L",
    "history": "H",
    "geography": "G",
    "computing": "C",
    "art": "A",
    "music": "Mu",
    "drama": "D",
    "pe": "PE",
    "re": "RE",
    "design_technology": "T",
    "business": "B",
    "primary_class": "P",
}
NOON = 12 * 60
LUNCH_FROM = 11 * 60 + 40
MAX_CYCLE_DAYS = 10
LESSON_ID_CLASS_FACTOR = 10_000  # lesson_id = class_id * 10000 + open-day index * 10 + period


def subject_family(subject: str) -> str:
    """The department a subject belongs to: a specialist in one subject of it teaches them all."""
    return FAMILY.get(subject, subject)


def year_group_index(year_group: str) -> int:
    return YEAR_GROUP_INDEX[year_group]


def taught_by_subject(phase: str, year_group: str) -> bool:
    """Whether a year group is taught by subject (secondary) or as a whole-curriculum class."""
    return phase in ("secondary", "all_through") and year_group_index(year_group) >= 7


def key_stage(year_group: str) -> str:
    index = year_group_index(year_group)
    return "key_stage_3" if index <= 9 else "key_stage_4" if index <= 11 else "sixth_form"


def curriculum_hours(stage: str, maths_hours: float = 4.0) -> dict[str, float]:
    """Weekly hours of each teaching unit (a subject or an option block) of a key stage."""
    if stage == "sixth_form":
        return dict(SIXTH_FORM_HOURS)
    hours = dict(KEY_STAGE_3_HOURS if stage == "key_stage_3" else KEY_STAGE_4_HOURS)
    scale = (WEEK_HOURS - maths_hours) / (WEEK_HOURS - hours["maths"])
    return {unit: maths_hours if unit == "maths" else h * scale for unit, h in hours.items()}


def option_take_up(stage: str) -> dict[str, float]:
    """Expected share of a year group taking each option subject."""
    weights = OPTION_SUBJECTS[stage]
    total = sum(weights.values())
    return {subject: min(OPTIONS_CHOSEN * w / total, 1.0) for subject, w in weights.items()}


def teaching_demand(phase: str, cohorts: dict[str, int]) -> dict[str, float]:
    """Class-hours a week each department teaches for these year group sizes (used to staff)."""
    demand: dict[str, float] = {}

    def add(family: str, hours: float) -> None:
        demand[family] = demand.get(family, 0.0) + hours

    for year_group, pupils in sorted(cohorts.items()):
        if phase == "alternative_provision":
            for unit, hours in KEY_STAGE_3_HOURS.items():
                add(subject_family("french" if unit == "language" else unit), hours * pupils)
        elif not taught_by_subject(phase, year_group):
            add("primary_class", WEEK_HOURS * pupils / WHOLE_CURRICULUM_CLASS_SIZE)
        else:
            stage = key_stage(year_group)
            for unit, hours in curriculum_hours(stage).items():
                if unit in OPTION_BLOCKS:
                    for subject, share in option_take_up(stage).items():
                        add(
                            subject_family(subject),
                            hours / OPTIONS_CHOSEN * pupils * share / GROUP_SIZE[stage],
                        )
                else:
                    subject = "french" if unit == "language" else unit
                    size = GROUP_SIZE["set"] if unit in SET_SUBJECTS else FORM_SIZE
                    add(subject_family(subject), hours * pupils / size)
    return demand


def largest_remainder(exact: np.ndarray, total: int) -> np.ndarray:
    """Whole numbers summing to `total`, each the floor or ceiling of `exact` (scaled to total)."""
    exact = np.asarray(exact, dtype=float)
    scaled = exact / exact.sum() * total if exact.sum() > 0 else exact
    whole = np.floor(scaled).astype(int)
    order = np.argsort(-(scaled - whole), kind="stable")
    whole[order[: total - whole.sum()]] += 1
    return whole


# ---------------------------------------------------------------------------------------------
# Periods and cycle days


def school_day(rng: np.random.Generator, periods_per_day: int) -> list[tuple[int, int]]:
    """(start, end) minutes of each taught period: from about 08:45, a morning break after period 2
    and lunch after the first period ending at or after 11:40."""
    start = int(rng.choice([520, 525, 525, 530, 540]))
    length = {5: int(rng.choice([60, 60, 55])), 6: int(rng.choice([50, 50, 55]))}.get(
        periods_per_day, max(35, min(60, 300 // periods_per_day // 5 * 5))
    )
    break_minutes = int(rng.choice([15, 20]))
    lunch_minutes = int(rng.choice([35, 40, 45, 60]))
    times, clock, lunch_taken = [], start, False
    for number in range(1, periods_per_day + 1):
        times.append((clock, clock + length))
        clock += length
        if number == 2:
            clock += break_minutes
        if not lunch_taken and clock >= LUNCH_FROM and number < periods_per_day:
            clock += lunch_minutes
            lunch_taken = True
    return times


def build_periods(backbone: Backbone) -> pd.DataFrame:
    frames = []
    for school in backbone.schools.itertuples():
        rng = random_stream(backbone.settings.seed, "periods", school.school_id)
        day = school_day(rng, int(school.periods_per_day))
        days = np.repeat(np.arange(1, school.timetable_cycle_days + 1), len(day))
        numbers = np.tile(np.arange(1, len(day) + 1), school.timetable_cycle_days)
        starts = np.tile([s for s, _ in day], school.timetable_cycle_days)
        ends = np.tile([e for _, e in day], school.timetable_cycle_days)
        frames.append(
            pd.DataFrame(
                {
                    "period_id": period_ids(school.school_id, days, numbers),
                    "school_id": school.school_id,
                    "day_in_cycle": days,
                    "period_number": numbers,
                    "start_time": [time(m // 60, m % 60) for m in starts],
                    "end_time": [time(m // 60, m % 60) for m in ends],
                    "_start_minute": starts,
                    "_end_minute": ends,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def period_ids(school_id, day_in_cycle, period_number):
    return np.asarray(school_id) * 1000 + np.asarray(day_in_cycle) * 10 + np.asarray(period_number)


def cycle_days(open_dates: np.ndarray, cycle_length: int) -> np.ndarray:
    """Day of the timetable cycle (0-based) of each open date. A two-week cycle alternates week A
    and week B over the weeks the school is open, starting with week A."""
    days = open_dates.astype("datetime64[D]").astype(np.int64)
    weekday = (days - 4) % 7  # 1970-01-05 was a Monday
    if cycle_length == 5:
        return weekday
    monday = days - weekday
    week = np.concatenate([[0], np.cumsum(np.diff(monday) > 0)])
    return (week % 2) * 5 + weekday


# ---------------------------------------------------------------------------------------------
# Classes and their pupils


@dataclass
class Unit:
    """Classes that meet at the same periods: a band's sets or groups of one subject, an option
    block of a year group, or one whole-curriculum class."""

    kind: str  # whole, set, mixed, option
    year_group: str
    band: str  # band of sets and mixed classes, block letter of option blocks
    classes: list[int]
    periods: int
    form: str = ""  # registration group of a mixed class
    slots: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))


@dataclass
class SchoolYearClasses:
    """The classes of one school in one year before they get ids, with their pupils."""

    records: list[dict] = field(default_factory=list)
    members: list[tuple[np.ndarray, int]] = field(default_factory=list)  # (pupil ids, class index)
    units: list[Unit] = field(default_factory=list)

    def add(self, members: np.ndarray, **record) -> int:
        self.records.append(record)
        self.members.append((members, len(self.records) - 1))
        return len(self.records) - 1


def _class_record(subject, year_group, code, grouping, set_rank=None, number_of_sets=None) -> dict:
    return {
        "subject": subject,
        "year_group": year_group,
        "class_code": code,
        "grouping": grouping,
        "set_rank": set_rank,
        "number_of_sets": number_of_sets,
    }


@dataclass(frozen=True)
class SchoolCurriculum:
    """A school's choices: its key stage 3 language and its maths time."""

    language: str
    maths_hours: float

    @classmethod
    def draw(cls, seed: int, school_id: int) -> SchoolCurriculum:
        rng = random_stream(seed, "curriculum", school_id)
        language = "french" if rng.random() < 0.6 else "spanish"
        return cls(language, float(np.clip(rng.normal(4, 0.4), 3.5, 4.5)))

    def unit_periods(self, stage: str, cycle: CycleSlots) -> dict[str, int]:
        """Periods per cycle of each unit: maths its hours in whole periods, the other units the
        rest of the cycle in proportion to their hours."""
        hours = curriculum_hours(stage, self.maths_hours)
        total = round(sum(hours.values()) / WEEK_HOURS * cycle.count)
        maths = {}
        if "maths" in hours:
            minutes = float(np.mean(cycle.end_minute - cycle.start_minute))
            maths = {"maths": int(round(hours.pop("maths") * 60 / minutes * cycle.days / 5))}
        others = largest_remainder(np.array(list(hours.values())), total - sum(maths.values()))
        return {**maths, **dict(zip(hours, others, strict=True))}


def _forms(pupils: pd.DataFrame) -> pd.Series:
    return pupils.registration_group.fillna(pupils.year_group + "A").astype(str)


def whole_curriculum_classes(found: SchoolYearClasses, pupils: pd.DataFrame, slots: int) -> None:
    """Each registration group is a class taught the whole week."""
    forms = _forms(pupils)
    for code in sorted(forms.unique()):
        members = pupils.pupil_id.to_numpy()[forms.to_numpy() == code]
        year_group = pupils.year_group.iloc[0]
        index = found.add(members, **_class_record("primary_class", year_group, code, "mixed"))
        found.units.append(Unit("whole", year_group, "", [index], slots))


def _bands(forms: np.ndarray) -> np.ndarray:
    """Half-year bands x, y (z) of whole registration groups, of up to about 200 pupils."""
    count = int(np.ceil(len(forms) / BAND_SIZE))
    codes, sizes = np.unique(forms, return_counts=True)
    before = np.cumsum(sizes) - sizes
    band_of_form = np.minimum((before + sizes / 2) / len(forms) * count, count - 1).astype(int)
    return np.array(list("xyz"))[band_of_form[np.searchsorted(codes, forms)]]


def set_sizes(pupils: int, sets: int) -> np.ndarray:
    """Sets from top to bottom: lower sets smaller (about 0.8 of the mean) than top ones (1.25)."""
    weights = np.linspace(1.25, 0.8, sets) if sets > 1 else np.ones(1)
    return largest_remainder(weights, pupils)


def _add_sets(found, rng, members, ability, subject, year_group, band, periods) -> None:
    sets = int(np.clip(round(len(members) / GROUP_SIZE["set"]), 1, 8))
    order = np.argsort(-(ability + rng.normal(0, 0.5, len(members))), kind="stable")
    bounds = np.concatenate([[0], np.cumsum(set_sizes(len(members), sets))])
    classes = [
        found.add(
            members[order[bounds[rank] : bounds[rank + 1]]],
            **_class_record(
                subject,
                year_group,
                f"{year_group}{band}/{SUBJECT_CODES[subject]}{rank + 1}",
                "set",
                rank + 1,
                sets,
            ),
        )
        for rank in range(sets)
    ]
    found.units.append(Unit("set", year_group, band, classes, periods))


def _split(rng, members: np.ndarray, groups: int) -> list[np.ndarray]:
    position = np.empty(len(members), dtype=int)
    position[rng.permutation(len(members))] = np.arange(len(members))
    return [np.sort(members[position % groups == k]) for k in range(groups)]


def option_choices(rng, pupils: int, stage: str) -> np.ndarray:
    """Three different option subjects per pupil (indexes into OPTION_SUBJECTS[stage])."""
    weights = np.array(list(OPTION_SUBJECTS[stage].values()))
    keys = np.log(weights)[None, :] + rng.gumbel(size=(pupils, len(weights)))
    return np.argsort(-keys, axis=1)[:, :OPTIONS_CHOSEN]


def offered_blocks(choices: np.ndarray, subjects: int, size: int) -> np.ndarray:
    """Which blocks offer each subject: its groups spread over the blocks in turn."""
    groups = np.ceil(np.bincount(choices.ravel(), minlength=subjects) / size).astype(int)
    offered = np.zeros((subjects, OPTIONS_CHOSEN), dtype=bool)
    next_block = 0
    for subject in np.argsort(-groups, kind="stable"):
        for k in range(min(groups[subject], OPTIONS_CHOSEN)):
            offered[subject, (next_block + k) % OPTIONS_CHOSEN] = True
        next_block = (next_block + groups[subject]) % OPTIONS_CHOSEN
    return offered


def block_subjects(rng, choices: np.ndarray, offered: np.ndarray) -> np.ndarray:
    """The subject each pupil takes in each block: their choices in an order the blocks allow, or
    (when none does) the offered subject nearest their choices."""
    orders = np.array(list(permutations(range(OPTIONS_CHOSEN))))
    placed = choices[:, orders]  # pupils x orders x blocks: subject in each block
    fits = offered[placed, np.arange(OPTIONS_CHOSEN)[None, None, :]].all(axis=2)
    best = np.argmax(fits + rng.random(fits.shape), axis=1)
    taken = placed[np.arange(len(choices)), best]
    for pupil in np.flatnonzero(~fits.any(axis=1)):
        used: set[int] = set()
        for block in range(OPTIONS_CHOSEN):
            wanted = [s for s in choices[pupil] if offered[s, block] and s not in used]
            spare = [s for s in np.flatnonzero(offered[:, block]) if s not in used]
            taken[pupil, block] = (wanted or spare)[0]
            used.add(int(taken[pupil, block]))
    return taken


def _add_options(found, rng, members, stage, year_group, periods) -> None:
    """Option blocks: every pupil takes one subject in each block, in groups of up to GROUP_SIZE."""
    subjects = list(OPTION_SUBJECTS[stage])
    choices = option_choices(rng, len(members), stage)
    taken = block_subjects(rng, choices, offered_blocks(choices, len(subjects), GROUP_SIZE[stage]))
    for block_index, block in enumerate(OPTION_BLOCKS):
        classes = []
        for subject_index, subject in enumerate(subjects):
            chosen = members[taken[:, block_index] == subject_index]
            if len(chosen) == 0:
                continue
            groups = int(np.ceil(len(chosen) / GROUP_SIZE[stage]))
            for k, group in enumerate(_split(rng, chosen, groups)):
                code = f"{year_group}{block}/{SUBJECT_CODES[subject]}{k + 1}"
                classes.append(
                    found.add(group, **_class_record(subject, year_group, code, "option"))
                )
        found.units.append(Unit("option", year_group, block, classes, periods[block]))


def subject_classes(
    found: SchoolYearClasses,
    rng,
    pupils: pd.DataFrame,
    curriculum: SchoolCurriculum,
    cycle: CycleSlots,
) -> None:
    """Form groups, sets by band, mixed classes by form and option blocks of a secondary year
    group."""
    year_group = pupils.year_group.iloc[0]
    forms = _forms(pupils).to_numpy()
    bands = _bands(forms)
    ids, ability = pupils.pupil_id.to_numpy(), pupils._ability.to_numpy()
    stage = key_stage(year_group)
    periods = curriculum.unit_periods(stage, cycle)
    form_codes = sorted(np.unique(forms))
    for code in form_codes:
        found.add(ids[forms == code], **_class_record("form", year_group, code, "form"))
    if stage != "key_stage_3":
        _add_options(found, rng, ids, stage, year_group, periods)
    for unit, count in periods.items():
        subject = curriculum.language if unit == "language" else unit
        if unit in OPTION_BLOCKS:
            continue
        if unit in SET_SUBJECTS:
            for band in sorted(np.unique(bands)):
                inside = bands == band
                _add_sets(
                    found, rng, ids[inside], ability[inside], subject, year_group, band, count
                )
            continue
        for code in form_codes:
            index = found.add(
                ids[forms == code],
                **_class_record(subject, year_group, f"{code}/{SUBJECT_CODES[subject]}", "mixed"),
            )
            band = bands[forms == code][0]
            found.units.append(Unit("mixed", year_group, band, [index], count, form=code))


def school_year_classes(
    seed: int,
    school,
    year: int,
    spells: pd.DataFrame,
    curriculum: SchoolCurriculum,
    cycle: CycleSlots,
) -> SchoolYearClasses:
    """Every class of a school in a year, with the pupils in it (one row per pupil)."""
    found = SchoolYearClasses()
    pupils = spells.drop_duplicates("pupil_id")
    pupils = pupils.assign(_order=pupils.year_group.map(YEAR_GROUP_INDEX)).sort_values(
        ["_order", "pupil_id"], kind="stable"
    )
    for _, cohort in pupils.groupby("_order", sort=True):
        group = cohort.year_group.iloc[0]
        if taught_by_subject(school.phase, group):
            rng = random_stream(seed, "classes", school.school_id, year, group)
            subject_classes(found, rng, cohort, curriculum, cycle)
        else:
            whole_curriculum_classes(found, cohort, cycle.count)
    return found


# ---------------------------------------------------------------------------------------------
# Periods of each unit


@dataclass(frozen=True)
class CycleSlots:
    """The periods of a school's timetable cycle, indexed day * periods_per_day + period."""

    days: int
    periods_per_day: int
    start_minute: np.ndarray  # per slot
    end_minute: np.ndarray

    @property
    def count(self) -> int:
        return self.days * self.periods_per_day

    @property
    def day(self) -> np.ndarray:
        return np.arange(self.count) // self.periods_per_day

    @property
    def afternoon(self) -> np.ndarray:
        return self.start_minute >= NOON


def place_unit(
    rng,
    free: np.ndarray,
    count: int,
    cycle: CycleSlots,
    penalty: np.ndarray,
    afternoon_share: float | None = None,
) -> np.ndarray:
    """Choose `count` free periods for a unit: where its teachers are free (no `penalty`), spread
    over the days of the cycle and (for maths) with about `afternoon_share` of them after 12:00.
    Marks them no longer free."""
    day = cycle.day
    used_on_day = np.zeros(cycle.days)
    afternoon = cycle.afternoon
    want_afternoon = rng.binomial(count, afternoon_share) if afternoon_share is not None else -1
    chosen = []
    for pick in range(min(count, int(free.sum()))):
        score = penalty + 2.0 * used_on_day[day] + 0.5 * rng.random(cycle.count)
        if want_afternoon >= 0:
            score = score + 100.0 * (afternoon != (pick < want_afternoon))
        score[~free] = np.inf
        slot = int(np.argmin(score))
        chosen.append(slot)
        free[slot] = False
        used_on_day[day[slot]] += 1
    return np.sort(np.array(chosen, dtype=int))


class Staffroom:
    """The teachers of a school in a year: when each works, when they are already teaching, and
    how many more periods they can take on."""

    def __init__(self, staff: pd.DataFrame, cycle: CycleSlots, rng: np.random.Generator) -> None:
        self.rng = rng
        self.teacher_ids = staff.teacher_id.to_numpy()
        self.family = staff.main_subject.map(subject_family).to_numpy()
        self.effect = staff.effect.to_numpy()
        self.post = staff.post.to_numpy()
        weekday = cycle.day % 5
        self.available = (staff._working_days.to_numpy()[:, None] >> weekday[None, :]) & 1 == 1
        self.busy = np.zeros_like(self.available)
        self.spare = np.round(staff._teaching_share.to_numpy() * self.available.sum(axis=1)).astype(
            int
        )
        # A teacher may go a little over their usual load rather than leave a class to others.
        self.allowance = np.round(
            0.08 * (staff._teaching_share.to_numpy() > 0) * self.available.sum(axis=1)
        ).astype(int)
        self.slots_total = cycle.count
        self.clashes = 0
        self.families, self.family_code = np.unique(self.family, return_inverse=True)
        self.demand_left = np.zeros(len(self.families))  # periods of classes not yet staffed

    def expect(self, family: str, periods: int) -> None:
        """Count periods of classes still to be staffed against the department's time."""
        code = np.searchsorted(self.families, family)
        if code < len(self.families) and self.families[code] == family:
            self.demand_left[code] += periods

    def team_for(self, free: np.ndarray, count: int, families: list[str]) -> list[int]:
        """Teachers for classes that meet together in `count` of the `free` periods, one by one:
        a specialist free in enough of the periods the others are free in, else a specialist free
        in half of them (who will share the class), else anyone free in enough of them."""
        open_ = self.available & ~self.busy & (self.spare + self.allowance >= count)[:, None]
        common = free.copy()
        team: list[int] = []
        for family in families:
            overlap = (open_ & common[None, :]).sum(axis=1)
            specialist = self.family == family
            tier = np.select(
                [
                    specialist & (overlap >= count),
                    specialist & (2 * overlap >= count),
                    overlap >= count,
                ],
                [3, 2, 1],
                0,
            )
            score = 10.0 * tier + self.score(family)
            score[team] = -np.inf
            teacher = int(np.argmax(score))
            if overlap[teacher] >= count:
                common &= open_[teacher]
            team.append(teacher)
        return team

    def department_pressure(self) -> dict[str, float]:
        """Periods each department still has to staff, per period its teachers can give."""
        spare = np.bincount(self.family_code, np.maximum(self.spare, 0), len(self.families))
        return dict(zip(self.families, self.demand_left / np.maximum(spare, 1), strict=True))

    def free_for(self, slots: np.ndarray) -> np.ndarray:
        return (
            self.available[:, slots].all(axis=1)
            & ~self.busy[:, slots].any(axis=1)
            & (self.spare + self.allowance >= len(slots))
        )

    def score(self, family: str) -> np.ndarray:
        """Specialists first; then teachers of departments with time to spare beyond what their
        own classes still need; then those with most time to spare, with a little chance."""
        spare = np.bincount(self.family_code, np.maximum(self.spare, 0), len(self.families))
        teachers = np.bincount(self.family_code, minlength=len(self.families))
        slack = (spare - self.demand_left) / (teachers * self.slots_total)
        specialist = self.family == family
        return (
            4.0 * specialist
            + np.where(specialist, 0.0, 4.0 * np.clip(slack[self.family_code], -0.5, 0.5))
            + self.spare / self.slots_total
            + 0.3 * self.rng.random(len(self.teacher_ids))
        )

    def take(self, teacher: int, slots: np.ndarray) -> None:
        self.clashes += int(self.busy[teacher, slots].sum())
        self.busy[teacher, slots] = True
        self.spare[teacher] -= len(slots)

    def release(self, teacher: int, slots: np.ndarray) -> None:
        self.busy[teacher, slots] = False
        self.spare[teacher] += len(slots)

    def best_free(self, slots: np.ndarray, family: str, exclude=()) -> int:
        """The best free teacher for these periods, or -1 if no one is free for all of them."""
        free = self.free_for(slots)
        free[[t for t in np.atleast_1d(exclude) if t >= 0]] = False
        if not free.any():
            return -1
        return int(np.argmax(np.where(free, self.score(family), -np.inf)))

    def in_pieces(self, slots: np.ndarray, family: str) -> list[tuple[int, np.ndarray]]:
        """Teachers for periods nobody can take all of: each in turn takes as many as they can,
        a specialist who can take half of them before anyone else. If nobody at all is free for
        a period, the teacher with least else to do that day takes it anyway."""
        pieces, left = [], slots
        while len(left):
            open_ = self.available[:, left] & ~self.busy[:, left]
            coverable = np.minimum(open_.sum(axis=1), np.maximum(self.spare, 0))
            if coverable.max() == 0:
                coverable = open_.sum(axis=1)
            if coverable.max() == 0:
                open_ = np.ones_like(open_)
                coverable = len(left) - self.busy[:, left].sum(axis=1) / (len(left) + 1)
            specialist = (self.family == family) & (coverable > 0)
            teacher = int(
                np.argmax(
                    coverable + specialist * len(left) / 2 + 0.1 * self.rng.random(len(coverable))
                )
            )
            can = np.flatnonzero(open_[teacher])[: max(int(np.ceil(coverable[teacher])), 1)]
            taken = left[can]
            self.take(teacher, taken)
            pieces.append((teacher, taken))
            left = np.delete(left, can)
        return pieces


def order_by_set_correlation(rng, effects: np.ndarray, correlation: float) -> np.ndarray:
    """An order of teachers for sets 1, 2, ...: the rank correlation between effect and set
    position (top set first) is about `correlation`."""
    if len(effects) < 2:
        return np.arange(len(effects))
    ranks = np.argsort(np.argsort(effects, kind="stable"), kind="stable")
    z = (ranks - ranks.mean()) / ranks.std()
    key = correlation * z + np.sqrt(max(1 - correlation**2, 0)) * rng.normal(0, 1, len(effects))
    return np.argsort(-key, kind="stable")


UNIT_ORDER = {"option": 0, "set": 1, "mixed": 2}
Assignment = tuple[int, int, np.ndarray]  # class index, teacher index, periods of the cycle


def staff_whole_classes(room: Staffroom, units: list[Unit], cycle: CycleSlots) -> list[Assignment]:
    """Whole-curriculum classes meet every period, with one teacher or part-timers sharing."""
    assigned = []
    for unit in units:
        if unit.kind != "whole":
            continue
        unit.slots = np.arange(cycle.count)
        teacher = room.best_free(unit.slots, "primary_class")
        if teacher >= 0:
            room.take(teacher, unit.slots)
            assigned.append((unit.classes[0], teacher, unit.slots))
        else:
            assigned += [
                (unit.classes[0], t, s) for t, s in room.in_pieces(unit.slots, "primary_class")
            ]
    return assigned


def _is_maths_sets(unit: Unit, records: list[dict]) -> bool:
    return unit.kind == "set" and records[unit.classes[0]]["subject"] == "maths"


def timetable_units(
    rng,
    room: Staffroom,
    units: list[Unit],
    records: list[dict],
    cycle: CycleSlots,
    afternoon_maths_share: float,
    set_correlation: float,
) -> list[Assignment]:
    """Give every subject unit its periods and teachers. Maths sets go first (so they get their
    afternoon share), then option blocks, other sets and each form's other subjects, in the
    periods its year group, band and form leave free. Periods go where enough specialists are
    free; each class then gets the free specialist with most time to spare (sets in the order of
    the settings' teacher-set correlation), or another teacher, or pieces of several when no
    single teacher is free for all its periods."""
    assigned: list[Assignment] = []
    free_of: dict[tuple[str, str, str], np.ndarray] = {}
    subject_units = [u for u in units if u.kind != "whole"]
    for unit in subject_units:
        for index in unit.classes:
            room.expect(subject_family(records[index]["subject"]), unit.periods)
    pressure = room.department_pressure()

    def mixed_order(unit: Unit) -> tuple:
        subject = records[unit.classes[0]]["subject"]
        if unit.kind != "mixed":
            return (0.0, 0, subject)
        return (-round(pressure.get(subject_family(subject), 0.0), 2), -unit.periods, subject)

    ordered = sorted(
        subject_units,
        key=lambda u: (
            not _is_maths_sets(u, records),
            UNIT_ORDER[u.kind],
            *mixed_order(u),
            year_group_index(u.year_group),
            u.band,
            u.form,
        ),
    )
    for unit in ordered:
        year_free = free_of.setdefault((unit.year_group, "", ""), np.ones(cycle.count, dtype=bool))
        free = year_free
        if unit.kind == "option":  # the whole year group must be free, sets placed already too
            free = year_free.copy()
            for (year_group, band, _), band_free in free_of.items():
                if year_group == unit.year_group and band:
                    free &= band_free
        else:
            free = free_of.setdefault((unit.year_group, unit.band, ""), year_free.copy())
            if unit.kind == "mixed":
                free = free_of.setdefault((unit.year_group, unit.band, unit.form), free.copy())
        families = [subject_family(records[index]["subject"]) for index in unit.classes]
        team = room.team_for(free, unit.periods, families)
        away = (~room.available[team] | room.busy[team]).sum(axis=0)
        short = np.maximum(len(team) - (room.available & ~room.busy).sum(axis=0), 0)
        unit.slots = place_unit(
            rng,
            free,
            unit.periods,
            cycle,
            60.0 * away + 1000.0 * short,
            afternoon_maths_share if _is_maths_sets(unit, records) else None,
        )
        if unit.kind == "option":
            year_free[unit.slots] = False
            for (year_group, band, _), band_free in free_of.items():
                if year_group == unit.year_group and band:
                    band_free[unit.slots] = False
        assigned += _staff_unit(room, unit, families, team, set_correlation, rng)
    return assigned


def _staff_unit(
    room: Staffroom, unit: Unit, families: list[str], team: list[int], correlation: float, rng
) -> list[Assignment]:
    """Each class gets its team member if they are free for all the unit's periods, else another
    specialist who is, else the member (when a specialist) for the periods they are free and
    others for the rest, else anyone free for all of them, else several teachers in turn."""
    slots = unit.slots
    whole: list[int] = []
    pieces: list[list[tuple[int, np.ndarray]]] = []
    for family, member in zip(families, team, strict=True):
        if room.free_for(slots)[member]:
            teacher = member
        else:
            teacher = room.best_free(slots, family, exclude=whole)
        specialist = teacher >= 0 and room.family[teacher] == family
        if specialist or (teacher >= 0 and room.family[member] != family):
            room.take(teacher, slots)
            whole.append(teacher)
            pieces.append([])
            continue
        whole.append(-1)
        member_free = room.available[member, slots] & ~room.busy[member, slots]
        if room.family[member] == family and 2 * member_free.sum() >= len(slots):
            room.take(member, slots[member_free])
            pieces.append(
                [(member, slots[member_free])] + room.in_pieces(slots[~member_free], family)
            )
        else:
            pieces.append(room.in_pieces(slots, family))
    if unit.kind == "set":
        staffed = [k for k, t in enumerate(whole) if t >= 0]
        order = order_by_set_correlation(rng, room.effect[[whole[k] for k in staffed]], correlation)
        for k, teacher in zip(staffed, [whole[staffed[j]] for j in order], strict=True):
            whole[k] = teacher
    for family in families:
        room.expect(family, -len(slots))
    assigned = []
    for index, teacher, parts in zip(unit.classes, whole, pieces, strict=True):
        if teacher >= 0:
            assigned.append((index, teacher, slots))
        else:
            assigned += [(index, t, s) for t, s in parts]
    return assigned


def prefer_specialists(
    room: Staffroom, assigned: list[Assignment], records: list[dict]
) -> list[Assignment]:
    """Hand classes taught outside the teacher's subject to a specialist free at their periods, or
    swap them with a class that teacher's subject needs and the other teacher is a specialist of."""
    result = list(assigned)
    family_of = [subject_family(records[index]["subject"]) for index, _, _ in result]
    waiting: dict[tuple[str, str], list[int]] = {}
    for k, (index, teacher, slots) in enumerate(result):
        if room.family[teacher] == family_of[k] or records[index]["subject"] == "primary_class":
            continue
        room.busy[teacher, slots] = False
        room.spare[teacher] += len(slots)
        specialist = room.best_free(slots, family_of[k])
        if specialist >= 0 and room.family[specialist] == family_of[k]:
            room.take(specialist, slots)
            result[k] = (index, specialist, slots)
            continue
        room.take(teacher, slots)
        partners = waiting.get((room.family[teacher], family_of[k]), [])
        for position, other in enumerate(partners):
            other_index, other_teacher, other_slots = result[other]
            if _can_swap(room, teacher, slots, other_teacher, other_slots):
                room.busy[teacher, slots] = False
                room.busy[other_teacher, other_slots] = False
                room.busy[teacher, other_slots] = True
                room.busy[other_teacher, slots] = True
                room.spare[teacher] += len(slots) - len(other_slots)
                room.spare[other_teacher] += len(other_slots) - len(slots)
                result[k] = (index, other_teacher, slots)
                result[other] = (other_index, teacher, other_slots)
                del partners[position]
                break
        else:
            waiting.setdefault((family_of[k], room.family[teacher]), []).append(k)
    return result


def _can_swap(room: Staffroom, first: int, first_slots, second: int, second_slots) -> bool:
    """Whether two teachers could exchange these classes without a clash."""
    first_busy = room.busy[first].copy()
    first_busy[first_slots] = False
    second_busy = room.busy[second].copy()
    second_busy[second_slots] = False
    return bool(
        room.available[first, second_slots].all()
        and not first_busy[second_slots].any()
        and room.available[second, first_slots].all()
        and not second_busy[first_slots].any()
    )


def share_some_classes(
    room: Staffroom, assigned: list[Assignment], records: list[dict], single_rate: float, rng
) -> list[Assignment]:
    """Hand part of some single-teacher subject classes to a second specialist free at those
    times, until about `single_rate` of the school's teaching classes have a single teacher."""
    teachers_of: dict[int, int] = {}
    for index, _, _ in assigned:
        teachers_of[index] = teachers_of.get(index, 0) + 1
    single = sum(count == 1 for count in teachers_of.values())
    to_share = int(round(single - single_rate * len(teachers_of)))
    result = list(assigned)
    for k in rng.permutation(len(result)):
        if to_share <= 0:
            break
        index, teacher, slots = result[k]
        subject = records[index]["subject"]
        if teachers_of[index] > 1 or subject == "primary_class" or len(slots) < 2:
            continue
        part = np.sort(
            rng.choice(slots, max(1, round(len(slots) * rng.uniform(0.3, 0.5))), replace=False)
        )
        room.release(teacher, part)
        partner = room.best_free(part, subject_family(subject), exclude=teacher)
        if partner < 0 or room.family[partner] != subject_family(subject):
            room.take(teacher, part)
            continue
        room.take(partner, part)
        result[k] = (index, teacher, np.setdiff1d(slots, part))
        result.append((index, partner, part))
        teachers_of[index] = 2
        to_share -= 1
    return result


def form_tutors(room: Staffroom, forms: list[int], rng) -> list[tuple[int, int]]:
    """(class index, teacher index): a classroom teacher for each form group, one form each while
    there are enough of them."""
    classroom = np.flatnonzero(np.isin(room.post, ["classroom_teacher", "unqualified_teacher"]))
    if len(classroom) == 0:
        classroom = np.arange(len(room.teacher_ids))
    order = classroom[rng.permutation(len(classroom))]
    return [(form, int(order[k % len(order)])) for k, form in enumerate(forms)]


# ---------------------------------------------------------------------------------------------
# The whole timetable


@dataclass(frozen=True)
class Timetable:
    periods: pd.DataFrame
    classes: pd.DataFrame
    class_memberships: pd.DataFrame
    class_teachers: pd.DataFrame
    class_periods: pd.DataFrame


def school_cycles(periods: pd.DataFrame) -> dict[int, CycleSlots]:
    cycles = {}
    for school_id, rows in periods.groupby("school_id", sort=True):
        rows = rows.sort_values(["day_in_cycle", "period_number"])
        cycles[school_id] = CycleSlots(
            days=int(rows.day_in_cycle.max()),
            periods_per_day=int(rows.period_number.max()),
            start_minute=rows._start_minute.to_numpy(),
            end_minute=rows._end_minute.to_numpy(),
        )
    return cycles


def build_timetable(backbone: Backbone, workforce: Workforce) -> Timetable:
    settings = backbone.settings
    periods = build_periods(backbone)
    cycles = school_cycles(periods)
    staff_by = _staff_by_school_year(workforce)
    parts: dict[str, list[pd.DataFrame]] = {
        "classes": [],
        "members": [],
        "teachers": [],
        "periods": [],
    }
    spells_by = backbone.enrolments.groupby(["school_id", "academic_year"], sort=True)
    schools = backbone.schools.set_index("school_id")
    jobs = []
    for (school_id, year), spells in spells_by:
        staff = staff_by.get((school_id, year))
        if staff is None or staff.empty:
            continue
        school = schools.loc[school_id].copy()
        school["school_id"] = school_id
        jobs.append((settings, school, year, spells, cycles[school_id], staff))
    next_class_id = 1
    for built in _in_parallel(_school_year_timetable, jobs):
        for name in ("classes", "members", "teachers", "periods"):
            built[name]["class_id"] += next_class_id - 1
            parts[name].append(built[name])
        next_class_id += len(built["classes"])
    class_periods = pd.concat(parts["periods"], ignore_index=True)
    classes = pd.concat(parts["classes"], ignore_index=True)
    classes["_afternoon_share"] = _afternoon_shares(classes, class_periods, periods)
    return Timetable(
        periods=periods,
        classes=classes,
        class_memberships=pd.concat(parts["members"], ignore_index=True),
        class_teachers=pd.concat(parts["teachers"], ignore_index=True),
        class_periods=class_periods,
    )


def _staff_by_school_year(workforce: Workforce) -> dict[tuple[int, int], pd.DataFrame]:
    contracts = workforce.teacher_contracts.merge(
        workforce.teachers[["teacher_id", "main_subject"]], on="teacher_id"
    ).merge(
        workforce.teacher_effects.rename(columns={"academic_year": "_academic_year"}),
        on=["teacher_id", "_academic_year"],
    )
    contracts = contracts.sort_values(["school_id", "_academic_year", "teacher_id"])
    return {key: frame for key, frame in contracts.groupby(["school_id", "_academic_year"])}


PARALLEL_FROM = 40  # school-years; below this, starting worker processes costs more than it saves


def _in_parallel(function, jobs: list[tuple]) -> Iterator:
    """`function(*job)` for each job, in order, on every CPU when there are enough jobs.

    Workers are spawned, not forked: the caller may have threads (the trust writer) whose locks a
    forked child would inherit."""
    workers = min(len(os.sched_getaffinity(0)), 8)
    if len(jobs) < PARALLEL_FROM or workers < 2:
        yield from itertools.starmap(function, jobs)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        yield from pool.map(function, *zip(*jobs, strict=True), chunksize=4)


def _school_year_timetable(settings, school, year, spells, cycle, staff, first_class_id=1):
    """Classes, memberships, class teachers and class periods of one school in one year, with
    class ids numbered from `first_class_id`."""
    seed, school_id = settings.seed, int(school.school_id)
    curriculum = SchoolCurriculum.draw(seed, school_id)
    found = school_year_classes(seed, school, year, spells, curriculum, cycle)
    rng = random_stream(seed, "timetable", school_id, year)
    room = Staffroom(staff, cycle, random_stream(seed, "staffing", school_id, year))
    assigned = staff_whole_classes(room, found.units, cycle)
    assigned += timetable_units(
        rng,
        room,
        found.units,
        found.records,
        cycle,
        settings.afternoon_maths_share,
        settings.effects.teacher_set_correlation,
    )
    assigned = prefer_specialists(room, assigned, found.records)
    assigned = share_some_classes(
        room, assigned, found.records, settings.single_teacher_class_rate, rng
    )
    forms = [k for k, r in enumerate(found.records) if r["grouping"] == "form"]
    tutors = form_tutors(room, forms, rng)
    class_ids = np.arange(first_class_id, first_class_id + len(found.records))
    classes = pd.DataFrame(found.records)
    classes.insert(0, "class_id", class_ids)
    classes.insert(1, "school_id", school_id)
    classes.insert(2, "academic_year", year)
    classes["set_rank"] = classes.set_rank.astype("Int64")
    classes["number_of_sets"] = classes.number_of_sets.astype("Int64")
    classes["_class_effect"] = random_stream(seed, "class effects", school_id, year).normal(
        0, settings.effects.class_sd, len(classes)
    )
    rooms = _rooms(room, found, assigned)
    periods = _class_periods(school_id, year, class_ids, room, assigned, rooms, cycle)
    return {
        "classes": classes,
        "members": _memberships(found, class_ids, spells, school_id, year),
        "teachers": _class_teachers(class_ids, room, assigned, tutors, school_id, year),
        "periods": periods,
    }


def _rooms(room: Staffroom, found: SchoolYearClasses, assigned) -> dict[tuple[int, int], str]:
    """Room of each (class index, teacher index): whole-curriculum classes have their own room,
    subject teachers teach in theirs (numbered within the department, like M12)."""
    numbers: dict[str, int] = {}
    teacher_room = {}
    for teacher in range(len(room.teacher_ids)):
        prefix = ROOM_PREFIX.get(room.family[teacher], "R")
        numbers[prefix] = numbers.get(prefix, 0) + 1
        teacher_room[teacher] = f"{prefix}{numbers[prefix]}"
    whole = [k for k, r in enumerate(found.records) if r["subject"] == "primary_class"]
    class_room = {k: f"C{n + 1}" for n, k in enumerate(whole)}
    return {
        (index, teacher): class_room.get(index, teacher_room[teacher])
        for index, teacher, _ in assigned
    }


def _class_periods(school_id, year, class_ids, room: Staffroom, assigned, rooms, cycle):
    index = np.concatenate([np.full(len(s), k) for k, _, s in assigned])
    teacher = np.concatenate([np.full(len(s), t) for _, t, s in assigned])
    slots = np.concatenate([s for _, _, s in assigned])
    room_codes = np.concatenate([np.full(len(s), rooms[(k, t)]) for k, t, s in assigned])
    day = slots // cycle.periods_per_day + 1
    number = slots % cycle.periods_per_day + 1
    frame = pd.DataFrame(
        {
            "class_id": class_ids[index],
            "school_id": school_id,
            "academic_year": year,
            "period_id": period_ids(school_id, day, number),
            "day_in_cycle": day,
            "period_number": number,
            "teacher_id": room.teacher_ids[teacher],
            "room": room_codes,
        }
    )
    return frame.sort_values(["day_in_cycle", "period_number", "class_id"], ignore_index=True)


def _memberships(found, class_ids, spells, school_id, year) -> pd.DataFrame:
    members = pd.DataFrame(
        {
            "pupil_id": np.concatenate([m for m, _ in found.members]),
            "class_id": np.concatenate([np.full(len(m), class_ids[k]) for m, k in found.members]),
        }
    )
    dates = spells[["pupil_id", "start_date", "end_date"]]
    frame = members.merge(dates, on="pupil_id").sort_values(
        ["class_id", "pupil_id", "start_date"], ignore_index=True
    )
    frame["_school_id"] = school_id
    frame["_academic_year"] = year
    return frame


def _class_teachers(class_ids, room: Staffroom, assigned, tutors, school_id, year):
    taught = pd.DataFrame(
        {
            "class_index": [k for k, _, _ in assigned] + [k for k, _ in tutors],
            "teacher": [t for _, t, _ in assigned] + [t for _, t in tutors],
            "periods": [len(s) for _, _, s in assigned] + [1] * len(tutors),
        }
    )
    taught = taught.groupby(["class_index", "teacher"], as_index=False, sort=True).periods.sum()
    total = taught.groupby("class_index").periods.transform("sum")
    teachers = taught.groupby("class_index").teacher.transform("size")
    return pd.DataFrame(
        {
            "teacher_id": room.teacher_ids[taught.teacher.to_numpy()],
            "class_id": class_ids[taught.class_index.to_numpy()],
            "role": np.where(teachers == 1, "main", "shared"),
            "share_percent": (100 * taught.periods / total).to_numpy(),
            "_school_id": school_id,
            "_academic_year": year,
        }
    )


def _afternoon_shares(classes, class_periods, periods) -> np.ndarray:
    start = class_periods.period_id.map(periods.set_index("period_id")._start_minute)
    share = (start >= NOON).groupby(class_periods.class_id).mean()
    return classes.class_id.map(share).fillna(0.0).to_numpy()


# ---------------------------------------------------------------------------------------------
# Lessons


def lesson_ids(
    class_id: np.ndarray, date_index: np.ndarray, period_number: np.ndarray
) -> np.ndarray:
    """The lesson of a class on the open day `date_index` of its year, in a period of that day."""
    return (
        np.asarray(class_id, dtype=np.int64) * LESSON_ID_CLASS_FACTOR
        + np.asarray(date_index, dtype=np.int64) * 10
        + np.asarray(period_number, dtype=np.int64)
    )


def teacher_absence(rng: np.random.Generator, teachers: int, days: int, rate: float) -> np.ndarray:
    """Days (columns) each teacher (rows) is away: spells of about two days, some teachers away
    more often than others, on about `rate` of days overall."""
    mean_spell = 2.0
    start_chance = -np.log1p(-rate) / mean_spell * rng.gamma(2.0, 0.5, teachers)
    starts = rng.random((teachers, days)) < start_chance[:, None]
    lengths = rng.geometric(1 / mean_spell, (teachers, days))
    change = np.zeros((teachers, days + 1), dtype=np.int32)
    teacher, day = np.nonzero(starts)
    np.add.at(change, (teacher, day), 1)
    np.add.at(change, (teacher, np.minimum(day + lengths[teacher, day], days)), -1)
    return np.cumsum(change, axis=1)[:, :days] > 0


def mix_bits(values: np.ndarray) -> np.ndarray:
    """A well-spread 64-bit hash (splitmix64), for choices that must follow from ids alone."""
    z = np.asarray(values, dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@dataclass(frozen=True)
class LessonPlan:
    """Everything that decides the lessons of one school in one year, without listing them: the
    open dates and their cycle days, the class periods, and which lessons are covered by whom."""

    school_id: int
    academic_year: int
    dates: np.ndarray  # open dates, datetime64[D]
    cycle_day: np.ndarray  # day_in_cycle (1-based) of each open date
    slots: pd.DataFrame  # class_periods of the school and year, by day, period and class
    start_minute: np.ndarray  # per slot row
    end_minute: np.ndarray
    cover_key: np.ndarray  # sorted slot row * number of dates + date index, of covered lessons
    cover_teacher: np.ndarray  # teacher id of each covered lesson, in cover_key order

    def lesson_ids(self, rows: np.ndarray, date_index: np.ndarray) -> np.ndarray:
        return lesson_ids(
            self.slots.class_id.to_numpy()[rows],
            date_index,
            self.slots.period_number.to_numpy()[rows],
        )

    def teachers(self, rows: np.ndarray, date_index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(teacher id, is cover) of the lessons of these slot rows on these open days."""
        key = np.asarray(rows, dtype=np.int64) * len(self.dates) + date_index
        position = np.minimum(np.searchsorted(self.cover_key, key), max(len(self.cover_key) - 1, 0))
        covered = (
            self.cover_key[position] == key if len(self.cover_key) else np.zeros(len(key), bool)
        )
        usual = self.slots.teacher_id.to_numpy()[rows]
        cover = self.cover_teacher[position] if len(self.cover_key) else usual
        return np.where(covered, cover, usual), covered

    def all_lessons(self) -> tuple[np.ndarray, np.ndarray]:
        """(slot row, date index) of every lesson, by date, period and class."""
        slot_day = self.slots.day_in_cycle.to_numpy()
        rows, dates = [], []
        for day in np.unique(slot_day):
            on_day = np.flatnonzero(slot_day == day)
            dated = np.flatnonzero(self.cycle_day == day)
            rows.append(np.tile(on_day, len(dated)))
            dates.append(np.repeat(dated, len(on_day)))
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        rows_, dates_ = np.concatenate(rows), np.concatenate(dates)
        order = np.argsort(dates_, kind="stable")
        return rows_[order], dates_[order]

    def lessons_table(self) -> pa.Table:
        rows, date_index = self.all_lessons()
        teacher, covered = self.teachers(rows, date_index)
        rooms, room_index = np.unique(self.slots.room.to_numpy().astype(str), return_inverse=True)
        micro = np.int64(60_000_000)
        return pa.table(
            {
                "lesson_id": self.lesson_ids(rows, date_index),
                "class_id": self.slots.class_id.to_numpy().astype(np.int32)[rows],
                "date": pa.array(self.dates[date_index]),
                "period_id": self.slots.period_id.to_numpy().astype(np.int32)[rows],
                "start_time": pa.array(self.start_minute[rows] * micro).view(pa.time64("us")),
                "end_time": pa.array(self.end_minute[rows] * micro).view(pa.time64("us")),
                "room": pa.DictionaryArray.from_arrays(
                    pa.array(room_index.astype(np.int32)[rows]), pa.array(rooms)
                ),
                "teacher_id": teacher.astype(np.int32),
                "is_cover": covered,
            }
        )


def lesson_plans(
    backbone: Backbone, workforce: Workforce, timetable: Timetable
) -> Iterator[LessonPlan]:
    """The lesson plan of every school and year, in school and year order."""
    settings = backbone.settings
    periods = timetable.periods.set_index("period_id")
    staff_by = {
        key: frame
        for key, frame in workforce.teacher_contracts.groupby(
            ["school_id", "_academic_year"], sort=True
        )
    }
    trust_of = backbone.schools.set_index("school_id").trust_id
    for (school_id, year), slots in timetable.class_periods.groupby(
        ["school_id", "academic_year"], sort=True
    ):
        calendar = backbone.calendar(int(trust_of[school_id]), int(year))
        cycle = int(backbone.schools.set_index("school_id").timetable_cycle_days[school_id])
        yield make_lesson_plan(
            settings,
            int(school_id),
            int(year),
            calendar.open_dates.astype("datetime64[D]"),
            cycle,
            slots.reset_index(drop=True),
            staff_by[(school_id, year)],
            periods,
        )


def make_lesson_plan(settings, school_id, year, dates, cycle_length, slots, staff, periods):
    cycle_day = cycle_days(dates, cycle_length) + 1
    teacher_ids = staff.teacher_id.to_numpy()
    rng = random_stream(settings.seed, "teacher absence", school_id, year)
    absent = teacher_absence(rng, len(teacher_ids), len(dates), settings.cover_rate)
    slot_teacher = np.searchsorted(teacher_ids, slots.teacher_id.to_numpy())
    cover_key, cover_teacher = _covers(slots, slot_teacher, staff, absent, cycle_day, len(dates))
    return LessonPlan(
        school_id=school_id,
        academic_year=year,
        dates=dates,
        cycle_day=cycle_day,
        slots=slots,
        start_minute=periods._start_minute.reindex(slots.period_id).to_numpy().astype(np.int64),
        end_minute=periods._end_minute.reindex(slots.period_id).to_numpy().astype(np.int64),
        cover_key=cover_key,
        cover_teacher=cover_teacher,
    )


def _covers(slots, slot_teacher, staff, absent, cycle_day, n_dates):
    """Covered lessons (those whose teacher is away) and who covers them: a teacher at school that
    day who has no class in that period, different teachers for lessons covered at the same time."""
    slot_day = slots.day_in_cycle.to_numpy()
    rows, dates = [], []
    for day in np.unique(slot_day):
        on_day = np.flatnonzero(slot_day == day)
        dated = np.flatnonzero(cycle_day == day)
        away = absent[slot_teacher[on_day]][:, dated]
        row, date = np.nonzero(away)
        rows.append(on_day[row])
        dates.append(dated[date])
    rows_ = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    dates_ = np.concatenate(dates) if dates else np.zeros(0, dtype=np.int64)
    if len(rows_) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    periods_per_day = int(slots.period_number.max())
    slot = (slot_day - 1) * periods_per_day + slots.period_number.to_numpy() - 1
    cycle_slots = int(slot.max()) + 1
    teaching = np.zeros((len(staff), cycle_slots), dtype=bool)
    teaching[slot_teacher, slot] = True
    weekday = (np.arange(cycle_slots) // periods_per_day) % 5
    working = (staff._working_days.to_numpy()[:, None] >> weekday[None, :]) & 1 == 1
    order = np.lexsort((rows_, slot[rows_], dates_))
    rows_, dates_ = rows_[order], dates_[order]
    moment = dates_ * cycle_slots + slot[rows_]
    first = np.concatenate([[True], moment[1:] != moment[:-1]])
    group_start = np.maximum.accumulate(np.where(first, np.arange(len(moment)), 0))
    rank = np.arange(len(moment)) - group_start
    free = (working & ~teaching)[:, slot[rows_]].T & ~absent[:, dates_].T
    count = free.sum(axis=1)
    offset = (mix_bits(moment) % np.maximum(count, 1).astype(np.uint64)).astype(np.int64)
    target = (offset + rank) % np.maximum(count, 1)
    chosen = np.argmax(np.cumsum(free, axis=1) > target[:, None], axis=1)
    # With no teacher free (or too few for all the absences of the moment) a teaching assistant
    # takes the class and the MIS keeps the timetabled teacher: no cover lesson is recorded.
    staffed = rank < count
    key = rows_.astype(np.int64)[staffed] * n_dates + dates_[staffed]
    order = np.argsort(key)
    return key[order], staff.teacher_id.to_numpy()[chosen[staffed][order]]


def generate_lessons(
    backbone: Backbone, workforce: Workforce, timetable: Timetable
) -> Iterator[tuple[str, pa.Table]]:
    """`lessons` batches, one per school and year."""
    for plan in lesson_plans(backbone, workforce, timetable):
        yield "lessons", plan.lessons_table()
