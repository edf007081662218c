"""Behaviour incidents and achievements recorded in the MIS.

Each pupil-year has a rate of incidents and of achievements: the settings' mean for the pupil's
stage, a school culture factor, and a pupil factor that is larger for FSM, SEN, boys, low ability
and frequent absence (incidents) or for high ability and good attendance (achievements), times a
lasting propensity of the pupil (log-normal, strongly skewed for incidents, so a minority of pupils
account for most of them). Most events happen in a lesson of one of the pupil's classes on that day
and are recorded by the teacher of that lesson (the cover teacher in covered lessons); the rest
(break-time incidents, attendance awards...) are recorded outside lessons by the pupil's tutor or
another teacher of the school. Lesson ids follow the rule of `dummy_data.timetable.lesson_ids`, so
no lesson is listed here.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa

from dummy_data.backbone import Backbone, random_stream
from dummy_data.timetable import (
    LessonPlan,
    Timetable,
    lesson_plans,
    mix_bits,
    year_group_index,
)
from dummy_data.workforce import Workforce

# (share of events of the type, chance it happens in a lesson, points)
INCIDENTS = {
    "disruption": (0.35, 0.97, -1),
    "homework_missing": (0.2, 0.9, -1),
    "equipment": (0.12, 0.85, -1),
    "lateness": (0.12, 0.8, -1),
    "defiance": (0.12, 0.85, -2),
    "unkindness": (0.06, 0.4, -3),
    "physical": (0.03, 0.3, -5),
}
ACHIEVEMENTS = {
    "effort": (0.35, 0.95, 1),
    "progress": (0.2, 0.95, 2),
    "homework": (0.25, 0.9, 1),
    "kindness": (0.12, 0.3, 1),
    "attendance_award": (0.08, 0.0, 5),
}
EVENT_TYPES = np.array(["achievement", "behaviour"])
CATEGORIES = np.array(sorted({*INCIDENTS, *ACHIEVEMENTS}))
SORT_KEYS = ["date_index", "pupil_id", "event_type", "category"]
LASTING_SD = {"behaviour": 1.0, "achievement": 0.5}
TUTOR_RECORDS = 0.6  # share of events outside lessons recorded by the pupil's tutor
EVENT_ID_BLOCK = 10**8


def generate_behaviour(
    backbone: Backbone, workforce: Workforce, timetable: Timetable
) -> Iterator[tuple[str, pa.Table]]:
    """`behaviour_events` batches, one per school and year."""
    spells_by = dict(tuple(backbone.enrolments.groupby(["school_id", "academic_year"])))
    members_by = dict(tuple(timetable.class_memberships.groupby(["_school_id", "_academic_year"])))
    staff_by = dict(tuple(workforce.teacher_contracts.groupby(["school_id", "_academic_year"])))
    tutors = pupil_tutors(timetable)
    schools = backbone.schools.set_index("school_id")
    sexes = backbone.pupils.set_index("pupil_id").sex
    for plan in lesson_plans(backbone, workforce, timetable):
        key = (plan.school_id, plan.academic_year)
        school = schools.loc[plan.school_id]
        spells = spells_by[key].reset_index(drop=True)
        events = school_year_events(
            backbone.settings,
            plan,
            school,
            spells,
            sexes.reindex(spells.pupil_id).to_numpy(),
            members_by[key],
            staff_by[key].teacher_id.to_numpy(),
            tutors.get(key, pd.Series()),
        )
        if events.num_rows:
            yield "behaviour_events", events


def pupil_tutors(timetable: Timetable) -> dict[tuple[int, int], pd.Series]:
    """Per school and year, each pupil's tutor: the main teacher of their form group or of their
    whole-curriculum class."""
    classes = timetable.classes
    pastoral = classes[classes.subject.isin(["form", "primary_class"])][["class_id"]]
    teachers = timetable.class_teachers.sort_values(
        ["class_id", "share_percent", "teacher_id"], ascending=[True, False, True]
    ).drop_duplicates("class_id")
    tutors = (
        timetable.class_memberships.merge(pastoral, on="class_id")
        .merge(teachers[["class_id", "teacher_id"]], on="class_id")
        .drop_duplicates(["_school_id", "_academic_year", "pupil_id"])
    )
    return {
        key: frame.set_index("pupil_id").teacher_id
        for key, frame in tutors.groupby(["_school_id", "_academic_year"])
    }


def stage_of(phase: str, year_groups: pd.Series) -> np.ndarray:
    if phase in ("special", "alternative_provision"):
        return np.full(len(year_groups), phase)
    secondary = year_groups.map(year_group_index).to_numpy() >= 7
    return np.where(secondary, "secondary", "primary")


def lasting_propensity(pupil_ids: np.ndarray, salt: int, sd: float) -> np.ndarray:
    """A pupil's lasting propensity, log-normal with mean 1, from their id alone (so it is the same
    in every school and year)."""
    bits = mix_bits(np.asarray(pupil_ids, dtype=np.uint64) * np.uint64(4) + np.uint64(salt))
    u1 = ((bits >> np.uint64(11)).astype(np.float64) + 0.5) / 2.0**53
    u2 = ((mix_bits(bits) >> np.uint64(11)).astype(np.float64) + 0.5) / 2.0**53
    z = np.sqrt(-2 * np.log(u1)) * np.cos(2 * np.pi * u2)
    return np.exp(sd * z - sd**2 / 2)


def event_rates(spells: pd.DataFrame, male: np.ndarray, kind: str) -> np.ndarray:
    """Relative rate of each pupil-year (mean 1 over the given spells) before the lasting factor."""
    fsm, sen = spells._fsm.to_numpy(), spells._sen.to_numpy()
    ability, absence = spells._ability.to_numpy(), spells._absence_rate.to_numpy()
    if kind == "behaviour":
        linear = (
            0.5 * fsm
            + 0.6 * (sen == "K")
            + 0.5 * (sen == "E")
            + 0.45 * male
            - 0.3 * ability
            + 3.0 * absence
        )
    else:
        linear = 0.25 * ability - 2.0 * absence + 0.15 * ~male
    relative = np.exp(linear)
    return relative / relative.mean() if len(relative) else relative


def school_year_events(
    settings,
    plan: LessonPlan,
    school,
    spells: pd.DataFrame,
    sex: np.ndarray,
    members: pd.DataFrame,
    staff: np.ndarray,
    tutors: pd.Series,
) -> pa.Table:
    rng = random_stream(settings.seed, "behaviour", plan.school_id, plan.academic_year)
    culture = random_stream(settings.seed, "behaviour culture", plan.school_id).lognormal(0, 0.35)
    stage = stage_of(school.phase, spells.year_group)
    dates = plan.dates
    first = np.searchsorted(dates, spells.start_date.to_numpy().astype("datetime64[D]"))
    last = np.searchsorted(dates, spells.end_date.to_numpy().astype("datetime64[D]"), side="right")
    days_on_roll = np.maximum(last - first, 0)
    parts = []
    for salt, (kind, categories, means) in enumerate(
        [
            ("behaviour", INCIDENTS, settings.behaviour_incidents_per_pupil),
            ("achievement", ACHIEVEMENTS, settings.achievements_per_pupil),
        ]
    ):
        rate = (
            pd.Series(stage).map(means).to_numpy()
            * culture
            * event_rates(spells, sex == "M", kind)
            * lasting_propensity(spells.pupil_id.to_numpy(), salt, LASTING_SD[kind])
            * rng.lognormal(-0.045, 0.3, len(spells))
            * days_on_roll
            / len(dates)
        )
        spell = np.repeat(np.arange(len(spells)), rng.poisson(rate))
        date_index = first[spell] + (rng.random(len(spell)) * days_on_roll[spell]).astype(int)
        names = np.array(list(categories))
        shares = np.array([v[0] for v in categories.values()])
        category = rng.choice(len(names), len(spell), p=shares / shares.sum())
        in_lesson = rng.random(len(spell)) < np.array([v[1] for v in categories.values()])[category]
        points = np.array([v[2] for v in categories.values()])[category]
        if kind == "behaviour":
            points = points - (rng.random(len(spell)) < 0.2) * (points <= -2)
        parts.append(
            pd.DataFrame(
                {
                    "spell": spell,
                    "date_index": date_index,
                    "event_type": np.int8(np.searchsorted(EVENT_TYPES, kind)),
                    "category": np.searchsorted(CATEGORIES, names)[category].astype(np.int8),
                    "points": points,
                    "in_lesson": in_lesson,
                }
            )
        )
    events = pd.concat(parts, ignore_index=True)
    events["pupil_id"] = spells.pupil_id.to_numpy()[events.spell.to_numpy()]
    # Integer codes sort as the names would (both code lists are in alphabetical order).
    order = np.lexsort([events[key].to_numpy() for key in SORT_KEYS[::-1]])
    events = events.iloc[order].reset_index(drop=True)
    lesson_id, teacher = _lessons_of(rng, plan, school, events, members)
    outside = lesson_id < 0
    teacher[outside] = _recorders(rng, events.pupil_id.to_numpy()[outside], staff, tutors)
    year_offset = plan.academic_year - settings.first_academic_year
    first_id = (plan.school_id * 100 + year_offset) * EVENT_ID_BLOCK
    return pa.table(
        {
            "event_id": np.arange(first_id, first_id + len(events), dtype=np.int64),
            "pupil_id": events.pupil_id.to_numpy().astype(np.int32),
            "school_id": np.full(len(events), plan.school_id, dtype=np.int32),
            "event_date": pa.array(dates[events.date_index.to_numpy()]),
            "lesson_id": pa.array(lesson_id, mask=outside, type=pa.int64()),
            "event_type": pa.DictionaryArray.from_arrays(
                events.event_type.to_numpy(), pa.array(EVENT_TYPES)
            ),
            "category": pa.DictionaryArray.from_arrays(
                events.category.to_numpy(), pa.array(CATEGORIES)
            ),
            "points": events.points.to_numpy().astype(np.int32),
            "recorded_by_teacher_id": teacher.astype(np.int32),
        }
    )


def _lessons_of(rng, plan: LessonPlan, school, events: pd.DataFrame, members: pd.DataFrame):
    """Lesson id and teacher of each in-lesson event: one of the pupil's lessons that day, chosen
    at random; -1 for events outside lessons (or with no lesson that day)."""
    periods = int(school.periods_per_day)
    slots = plan.slots
    cycle_slot = (slots.day_in_cycle.to_numpy() - 1) * periods + slots.period_number.to_numpy() - 1
    pupils, pupil_index = np.unique(members.pupil_id.to_numpy(), return_inverse=True)
    schedule = np.full((len(pupils), int(school.timetable_cycle_days) * periods), -1)
    membership = pd.DataFrame({"pupil": pupil_index, "class_id": members.class_id.to_numpy()})
    taught = membership.merge(
        pd.DataFrame({"class_id": slots.class_id.to_numpy(), "row": np.arange(len(slots))}),
        on="class_id",
    )
    schedule[taught.pupil.to_numpy(), cycle_slot[taught.row.to_numpy()]] = taught.row.to_numpy()
    n = len(events)
    date_index = events.date_index.to_numpy()
    who = np.searchsorted(pupils, events.pupil_id.to_numpy())
    known = (who < len(pupils)) & (pupils[np.minimum(who, len(pupils) - 1)] == events.pupil_id)
    day = plan.cycle_day[date_index] - 1
    today = schedule[
        np.minimum(who, len(pupils) - 1)[:, None],
        day[:, None] * periods + np.arange(periods)[None, :],
    ]
    pick = np.argmax((today >= 0) * rng.random((n, periods)), axis=1)
    row = today[np.arange(n), pick]
    found = events.in_lesson.to_numpy() & known & (row >= 0)
    lesson_id = np.full(n, -1, dtype=np.int64)
    teacher = np.zeros(n, dtype=np.int64)
    if found.any():
        lesson_id[found] = plan.lesson_ids(row[found], date_index[found])
        teacher[found] = plan.teachers(row[found], date_index[found])[0]
    return lesson_id, teacher


def _recorders(rng, pupil_ids: np.ndarray, staff: np.ndarray, tutors: pd.Series) -> np.ndarray:
    """The teacher recording an event outside lessons: mostly the pupil's tutor, else any teacher
    of the school that year."""
    tutor = tutors.reindex(pupil_ids).to_numpy()
    anyone = staff[rng.integers(0, len(staff), len(pupil_ids))]
    by_tutor = (rng.random(len(pupil_ids)) < TUTOR_RECORDS) & ~pd.isna(tutor)
    return np.where(by_tutor, np.nan_to_num(tutor.astype(float)), anyone).astype(np.int64)
