"""Build the backbone of a synthetic trust: schools, calendars, pupils, enrolments and census
records.

Pupils flow through the years: each year every pupil moves up a year group, the top year group
leaves, a few pupils leave between years or during the year and newcomers take their places, trust
primaries' year 6 leavers fill part of the trust secondaries' year 7 intake, and some year 11s stay
on into a sixth form. Characteristics persist from year to year with a little change, and drive the
planted ability and absence rates (see the module docstring of dummy_data.backbone for the latent
columns).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dummy_data.backbone import Backbone, SchoolCalendar, random_stream
from dummy_data.calendar import build_calendar
from dummy_data.population import (
    YEAR_GROUP_LABELS,
    assign_absence_rates,
    draw_pupils,
    upns,
    yearly_characteristics,
)
from dummy_data.schools import build_schools, school_rows, year_group_range

FORM_SIZE = {"primary": 30, "all_through": 30, "secondary": 28, "special": 10}
BETWEEN_YEAR_LEAVING = 0.03
PRIMARY_TO_SECONDARY_SHARE_OF_LEAVERS = 0.5
STAY_ON_SHARE = 0.55


def build_backbone(settings) -> Backbone:
    schools = build_schools(settings)
    calendars = {
        (trust_id, year): build_calendar(year, inset_at_start=int(trust_id) % 4)
        for trust_id in schools.trust_id.unique()
        for year in settings.academic_years
    }
    targets = _cohort_targets(settings, schools)
    rolls = _rolls_by_year(settings, schools, targets, calendars)
    roll = pd.concat(rolls, ignore_index=True)

    pupils = draw_pupils(settings, roll.drop_duplicates("pupil_id"))
    pupils["upn"] = upns(pupils, schools)
    enrolments = _enrolments(settings, roll, pupils)
    characteristics = _census_records(settings, enrolments, calendars)
    return Backbone(
        settings=settings,
        schools=schools,
        pupils=pupils.drop(
            columns=[
                "_school_id",
                "_entry_year",
                "_fsm_propensity",
                "_sen_base",
                "_absence_propensity",
            ]
        ),
        enrolments=enrolments,
        pupil_characteristics=characteristics,
        calendars=calendars,
    )


def _cohort_targets(settings, schools: pd.DataFrame) -> dict[tuple[int, int], int]:
    """Target pupils per (school, year group index), from the school's size and its year groups."""
    targets = {}
    for school in school_rows(schools):
        groups = year_group_range(school)
        weights = np.array([0.5 if g < 0 or g >= 12 else 1.0 for g in groups])
        rng = random_stream(settings.seed, "cohort sizes", school.school_id)
        sizes = school._size * weights / weights.sum() * rng.normal(1, 0.06, len(groups))
        for g, size in zip(groups, sizes, strict=True):
            targets[(school.school_id, g)] = max(int(round(size)), 4)
    return targets


class _PupilIds:
    """Hands out pupil ids in order of first appearance."""

    def __init__(self) -> None:
        self.next_id = 1

    def take(self, n: int) -> np.ndarray:
        ids = np.arange(self.next_id, self.next_id + n, dtype=np.int64)
        self.next_id += n
        return ids


def _rolls_by_year(settings, schools, targets, calendars) -> list[pd.DataFrame]:
    """One frame per academic year: every pupil spell with its school, year group and dates."""
    ids = _PupilIds()
    rolls: list[pd.DataFrame] = []
    previous: pd.DataFrame | None = None
    for year in settings.academic_years:
        continuing = _with_transfers(
            settings, _continuing(settings, previous, schools, year), schools, year
        )
        spells = []
        by_school_group = continuing.groupby(["school_id", "year_group_index"]).pupil_id
        stayers_of = {key: ids_.to_numpy() for key, ids_ in by_school_group}
        for school in school_rows(schools):
            calendar = calendars[(school.trust_id, year)]
            rng = random_stream(settings.seed, "roll", school.school_id, year)
            for g in year_group_range(school):
                target = targets[(school.school_id, g)]
                stayers = stayers_of.get((school.school_id, g), np.zeros(0, np.int64))[:target]
                start_ids = np.concatenate([stayers, ids.take(target - len(stayers))])
                spells.append(
                    _year_spells(settings, rng, school, g, year, calendar, start_ids, ids)
                )
        previous = pd.DataFrame(
            {column: np.concatenate([spell[column] for spell in spells]) for column in spells[0]}
        )
        rolls.append(previous)
    return rolls


def _continuing(settings, previous, schools, year) -> pd.DataFrame:
    """Last year's pupils on roll at 31 August, moved up a year group, minus those who leave.

    Trust primaries' year 6 leavers are kept (now at year group 7 in their old primary) so that
    `_with_transfers` can move some of them to a trust secondary.
    """
    columns = ["pupil_id", "school_id", "year_group_index", "trust_id", "phase"]
    if previous is None:
        return pd.DataFrame({c: pd.Series(dtype="int64") for c in columns})
    rng = random_stream(settings.seed, "between years", year)
    stayed = previous[previous.end_date == np.datetime64(f"{year}-08-31")]
    stayed = stayed[rng.random(len(stayed)) >= BETWEEN_YEAR_LEAVING].copy()
    stayed["year_group_index"] += 1
    stayed = stayed.merge(
        schools[["school_id", "trust_id", "phase", "_top_year_group", "_has_sixth_form"]],
        on="school_id",
    )
    into_sixth = stayed.year_group_index == 12
    stays_on = stayed._has_sixth_form & (rng.random(len(stayed)) < STAY_ON_SHARE)
    keep = (stayed.year_group_index <= stayed._top_year_group) & (~into_sixth | stays_on)
    primary_leaver = (stayed.phase == "primary") & (stayed.year_group_index == 7)
    return stayed[keep | primary_leaver][columns]


def _with_transfers(settings, continuing, schools, year) -> pd.DataFrame:
    """Move about half of the trust primaries' year 6 leavers to one of their trust's
    secondaries."""
    leaver = (continuing.phase == "primary") & (continuing.year_group_index == 7)
    leavers = continuing[leaver].copy()
    secondaries = schools[schools.phase == "secondary"].groupby("trust_id").school_id.apply(list)
    rng = random_stream(settings.seed, "transfers", year)
    choice = rng.random(len(leavers))
    destination = [
        secondaries[trust][int(c * 2 * len(secondaries[trust]))]
        if trust in secondaries.index and c < PRIMARY_TO_SECONDARY_SHARE_OF_LEAVERS
        else -1
        for trust, c in zip(leavers.trust_id, choice, strict=True)
    ]
    leavers["school_id"] = destination
    return pd.concat([continuing[~leaver], leavers[leavers.school_id > 0]], ignore_index=True)


def _year_spells(
    settings, rng, school, g, year, calendar: SchoolCalendar, start_ids, ids
) -> dict[str, np.ndarray]:
    """Spells of one year group in one school and year, with leavers and joiners during the year."""
    days = calendar.open_dates
    first, last = np.datetime64(f"{year}-09-01"), np.datetime64(f"{year + 1}-08-31")
    n = len(start_ids)
    leaves = rng.random(n) < settings.mobility_rate / 2
    end = np.where(leaves, days[rng.integers(10, len(days) - 10, n)], last)
    joiners = ids.take(rng.binomial(n, settings.mobility_rate / 2))
    start = np.concatenate([np.full(n, first), days[rng.integers(5, len(days) - 5, len(joiners))]])
    total = n + len(joiners)
    return {
        "pupil_id": np.concatenate([start_ids, joiners]),
        "school_id": np.full(total, school.school_id),
        "academic_year": np.full(total, year),
        "year_group_index": np.full(total, g),
        "start_date": start.astype("datetime64[D]"),
        "end_date": np.concatenate([end, np.full(len(joiners), last)]).astype("datetime64[D]"),
        "_phase": np.full(total, school.phase),
        "_trust_id": np.full(total, school.trust_id),
    }


def _registration_groups(settings, spells: pd.DataFrame) -> np.ndarray:
    """Forms of about 30 (primary) or 28 (secondary), lettered A, B, C... within each year group."""
    rng = random_stream(settings.seed, "registration groups")
    size = spells._phase.map(FORM_SIZE).fillna(12).to_numpy()
    cohort = (
        spells.groupby(["school_id", "academic_year", "year_group_index"])
        .pupil_id.transform("size")
        .to_numpy()
    )
    forms = np.maximum(np.ceil(cohort / size), 1)
    letters = np.array(list("ABCDEFGHJKLMNPRSTW"))[(rng.random(len(spells)) * forms).astype(int)]
    labels = spells.year_group_index.map(YEAR_GROUP_LABELS).to_numpy().astype(str)
    return np.char.add(labels, letters)


def _enrolments(settings, roll: pd.DataFrame, pupils: pd.DataFrame) -> pd.DataFrame:
    roll = roll.sort_values(
        ["school_id", "academic_year", "pupil_id", "start_date"], kind="stable", ignore_index=True
    )
    frame = yearly_characteristics(settings, roll, pupils)
    frame["_absence_rate"] = assign_absence_rates(settings, frame)
    frame = frame.drop(columns=["_absence_propensity"])
    frame.insert(0, "enrolment_id", np.arange(1, len(frame) + 1))
    frame["year_group"] = frame.year_group_index.map(YEAR_GROUP_LABELS)
    frame["enrolment_status"] = "C"
    frame["registration_group"] = _registration_groups(settings, frame)
    return frame


def _census_records(settings, enrolments: pd.DataFrame, calendars) -> pd.DataFrame:
    """One row per enrolment per census date that falls inside it."""
    rng = random_stream(settings.seed, "service children")
    service_child = rng.random(len(enrolments)) < 0.01
    records = []
    for census in range(3):
        dates = pd.DataFrame(
            [
                (trust, year, calendar.census_dates[census])
                for (trust, year), calendar in calendars.items()
            ],
            columns=["_trust_id", "academic_year", "census_date"],
        )
        census_date = (
            enrolments[["_trust_id", "academic_year"]]
            .merge(dates, how="left")
            .census_date.to_numpy()
            .astype("datetime64[D]")
        )
        inside = (enrolments.start_date.to_numpy() <= census_date) & (
            census_date <= enrolments.end_date.to_numpy()
        )
        chosen = enrolments[inside]
        records.append(
            pd.DataFrame(
                {
                    "pupil_id": chosen.pupil_id.to_numpy(),
                    "census_date": census_date[inside],
                    "school_id": chosen.school_id.to_numpy(),
                    "fsm": chosen._fsm.to_numpy(),
                    "fsm6": chosen._fsm6.to_numpy(),
                    "pupil_premium": (chosen._fsm6 | chosen._looked_after).to_numpy()
                    | service_child[inside],
                    "eal": chosen._eal.to_numpy(),
                    "sen_provision": chosen._sen.to_numpy(),
                    "sen_primary_need": chosen._sen_need.to_numpy(),
                    "looked_after": chosen._looked_after.to_numpy(),
                }
            )
        )
    return pd.concat(records, ignore_index=True).sort_values(
        ["pupil_id", "census_date"], ignore_index=True
    )
