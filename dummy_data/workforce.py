"""The trust's teachers: who they are, their contracts year by year and their planted effects.

Staff numbers follow the pupil-teacher ratio of each school's phase (full-time equivalent teachers
per pupil on roll at the autumn census), split between departments by the teaching the curriculum
needs. Teachers leave at the end of an academic year with a hazard that depends on their experience
(11.3% after their first year, a third within five years, the settings' rate overall) and are
replaced by new teachers, most of them early in their careers; a few move between the trust's
schools. Each teacher has one contract row per school and academic year, so posts and pay points can
change from year to year.

Frames:
- `teachers`: schema columns, plus `_first_year_teaching` (academic year they started teaching).
- `teacher_contracts`: schema columns, plus `_academic_year`, `_experience` (years taught before
  that year), `_working_days` (bitmask of the weekdays worked, bit 0 Monday) and `_teaching_share`
  (share of the periods of their working days they can teach). Sorted by school, year and teacher.
- `teacher_effects`: teacher_id, academic_year, effect (the planted effect on scores, SD units).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dummy_data.backbone import Backbone, random_stream
from dummy_data.timetable import subject_family, taught_by_subject, teaching_demand

MAX_EXPERIENCE = 45
FIRST_YEAR_LEAVING = 0.113
# Years two to five: a third of new teachers have gone within five years.
EARLY_CAREER_LEAVING = 1 - (0.67 / (1 - FIRST_YEAR_LEAVING)) ** 0.25
MID_CAREER_LEAVING = 0.09
LATE_CAREER_LEAVING = 0.3  # from 30 years' experience, mostly retirement
MOVING_WITHIN_TRUST = 0.02
NEW_HIRE_EXPERIENCE = {"new": 0.55, "early": 0.15}  # the rest come from the stationary distribution
FULL_WEEK = 0b11111
# Teacher FTE a whole-curriculum class needs at least (its teacher, part of a leader's or
# part-timer's week), beside the head; special schools' small classes get by with less.
CLASS_STAFFING = {"primary": 1.1, "secondary": 1.1, "special": 1.0}

PHASE_FAMILY = {
    "primary": "primary",
    "secondary": "secondary",
    "all_through": "secondary",
    "special": "special",
    "alternative_provision": "special",
}
FEMALE_SHARE = {"primary": 0.86, "secondary": 0.64, "special": 0.74}
PART_TIME_SHARE = {"primary": 0.26, "secondary": 0.19, "special": 0.22}
PART_TIME_FTE = np.array([0.4, 0.5, 0.6, 0.6, 0.8, 0.8, 0.9])
QTS_STATUS = {"QTS": 0.925, "QTLS": 0.01, "none": 0.065}
TRAINING_ROUTES = {
    "university_led": 0.38,
    "school_direct": 0.2,
    "scitt": 0.17,
    "teach_first": 0.07,
    "undergraduate": 0.09,
    "apprenticeship": 0.02,
    "assessment_only": 0.04,
    "overseas": 0.03,
}
CONTRACT_TYPES = {"permanent": 0.88, "fixed_term": 0.09, "temporary": 0.03}
FAMILY_MAIN_SUBJECTS = {
    "science": {"science": 0.4, "biology": 0.25, "chemistry": 0.2, "physics": 0.15},
    "languages": {"french": 0.6, "spanish": 0.4},
}
# Share of the periods of their working days a teacher in each post can teach.
TEACHING_SHARE = {
    "head_teacher": 0.0,
    "deputy_head": 0.4,
    "assistant_head": 0.6,
    "leading_practitioner": 0.75,
    "classroom_teacher": 0.88,
    "unqualified_teacher": 0.88,
}


@dataclass(frozen=True)
class Workforce:
    teachers: pd.DataFrame
    teacher_contracts: pd.DataFrame
    teacher_effects: pd.DataFrame


def build_workforce(backbone: Backbone) -> Workforce:
    settings = backbone.settings
    needs = staffing_needs(backbone)
    hazards = leaving_hazards(settings.teacher_leaving_rate)
    register = _TeacherRegister(len(settings.academic_years))
    rosters: list[pd.DataFrame] = []
    roster = pd.DataFrame()
    for index, year in enumerate(settings.academic_years):
        need = needs[needs.academic_year == year]
        if index == 0:
            roster = _initial_staff(backbone, need, hazards, register)
        else:
            roster = _next_year_staff(backbone, roster, need, hazards, register, year)
        roster = assign_posts(roster, register.frame(), previous=rosters[-1] if rosters else None)
        rosters.append(roster)
    teachers = register.frame()
    contracts = _contracts(settings, pd.concat(rosters, ignore_index=True), teachers, needs)
    return Workforce(
        teachers=teachers[TEACHER_COLUMNS].reset_index(drop=True),
        teacher_contracts=contracts,
        teacher_effects=_effects(settings, contracts, teachers),
    )


TEACHER_COLUMNS = [
    "teacher_id",
    "sex",
    "birth_year",
    "qts_status",
    "qts_year",
    "training_route",
    "main_subject",
    "_first_year_teaching",
]


def leaving_hazards(rate: float) -> np.ndarray:
    """Chance of leaving at the end of a year by years already taught (index 0 is a first year).

    The shape follows the national pattern; it is scaled so that a workforce in its stationary state
    loses `rate` of its teachers a year.
    """
    experience = np.arange(MAX_EXPERIENCE + 1)
    base = np.select(
        [experience == 0, experience <= 4, experience < 30],
        [FIRST_YEAR_LEAVING, EARLY_CAREER_LEAVING, MID_CAREER_LEAVING],
        LATE_CAREER_LEAVING,
    )

    def hazards(scale: float) -> np.ndarray:
        scaled = np.minimum(base * scale, 1.0)
        scaled[-1] = 1.0
        return scaled

    low, high = 0.01, 20.0
    for _ in range(60):
        scale = (low + high) / 2
        low, high = (
            (scale, high) if stationary_leaving_rate(hazards(scale)) < rate else (low, scale)
        )
    return hazards((low + high) / 2)


def survival(hazards: np.ndarray) -> np.ndarray:
    """Share of new teachers still teaching at each experience."""
    return np.concatenate([[1.0], np.cumprod(1 - hazards[:-1])])


def stationary_leaving_rate(hazards: np.ndarray) -> float:
    # In a stationary workforce leavers equal joiners, all of whom start at experience 0.
    return 1 / survival(hazards).sum()


def stationary_experience(rng: np.random.Generator, hazards: np.ndarray, n: int) -> np.ndarray:
    weights = survival(hazards)
    return rng.choice(len(weights), n, p=weights / weights.sum())


def staffing_needs(backbone: Backbone) -> pd.DataFrame:
    """Per school and year: pupils on roll at the autumn census, the teacher FTE they need and the
    share of that FTE each department needs (`family_shares`, a dict)."""
    enrolments = backbone.enrolments
    rows = []
    schools = backbone.schools.set_index("school_id")
    for (school_id, year), spells in enrolments.groupby(["school_id", "academic_year"], sort=True):
        school = schools.loc[school_id]
        census = backbone.calendar(school.trust_id, year).census_dates[0]
        on_roll = spells[
            (spells.start_date.to_numpy() <= census) & (spells.end_date.to_numpy() >= census)
        ]
        cohorts = on_roll.year_group.value_counts().to_dict()
        demand = teaching_demand(school.phase, cohorts)
        total = sum(demand.values())
        whole_groups = [g for g in cohorts if not taught_by_subject(school.phase, g)]
        # Every whole-curriculum class needs its teacher, whatever the ratio says.
        classes = on_roll.registration_group[on_roll.year_group.isin(whole_groups)].nunique()
        rows.append(
            {
                "school_id": school_id,
                "academic_year": year,
                "trust_id": school.trust_id,
                "phase": school.phase,
                "pupils": len(on_roll),
                "fte": max(
                    len(on_roll) / backbone.settings.pupil_teacher_ratio[school.phase],
                    CLASS_STAFFING[PHASE_FAMILY[school.phase]] * classes + 1.0,
                ),
                "family_shares": {family: hours / total for family, hours in demand.items()},
            }
        )
    return pd.DataFrame(rows)


class _TeacherRegister:
    """Every teacher ever employed, numbered in the order they first appear."""

    def __init__(self, years: int) -> None:
        self.years = years
        self.chunks: list[pd.DataFrame] = []
        self.count = 0

    def add(self, chunk: pd.DataFrame) -> pd.DataFrame:
        chunk = chunk.copy()
        chunk.insert(0, "teacher_id", np.arange(self.count + 1, self.count + len(chunk) + 1))
        self.count += len(chunk)
        self.chunks.append(chunk)
        return chunk

    def frame(self) -> pd.DataFrame:
        return pd.concat(self.chunks, ignore_index=True)


def _choice(rng: np.random.Generator, shares: dict[str, float], n: int) -> np.ndarray:
    codes = np.array(list(shares))
    weights = np.array(list(shares.values()), dtype=float)
    return codes[rng.choice(len(codes), n, p=weights / weights.sum())]


def draw_teachers(
    rng: np.random.Generator,
    settings,
    phase_family: str,
    year: int,
    experience: np.ndarray,
    main_subject: np.ndarray,
    fte: np.ndarray,
) -> pd.DataFrame:
    """Lasting attributes of new teachers with the given experience, subject and FTE."""
    n = len(experience)
    first_year = year - experience
    entry_age = np.minimum(21 + rng.gamma(1.6, 2.5, n).astype(int), np.maximum(64 - experience, 21))
    qts = _choice(rng, QTS_STATUS, n)
    route = np.where(qts == "QTS", _choice(rng, TRAINING_ROUTES, n), "none")
    route[(qts == "none") & (rng.random(n) < 0.25)] = "apprenticeship"
    days = np.clip(np.round(fte * 5), 1, 4).astype(int)
    # Part-timers work the first or the last days of the week, so two often make a whole week.
    first_days = (1 << days) - 1
    last_days = FULL_WEEK ^ ((1 << (5 - days)) - 1)
    working_days = np.where(
        fte < 1, np.where(np.arange(n) % 2 == 0, first_days, last_days), FULL_WEEK
    )
    rho = settings.effects.teacher_year_correlation
    z = np.empty((n, settings.years))
    z[:, 0] = rng.normal(0, 1, n)
    for k in range(1, settings.years):
        z[:, k] = rho * z[:, k - 1] + np.sqrt(1 - rho**2) * rng.normal(0, 1, n)
    upper_delay = rng.choice([0, 1, 2, 3, 99], n, p=[0.3, 0.2, 0.15, 0.1, 0.25])
    frame = pd.DataFrame(
        {
            "sex": np.where(rng.random(n) < FEMALE_SHARE[phase_family], "F", "M"),
            "birth_year": first_year - entry_age,
            "qts_status": qts,
            "qts_year": pd.array(np.where(qts == "none", 0, first_year), dtype="Int64"),
            "training_route": route,
            "main_subject": main_subject,
            "_first_year_teaching": first_year,
            "_fte": fte,
            "_working_days": working_days,
            "_leader_propensity": rng.normal(0, 1, n),
            "_upper_threshold": 6 + upper_delay,
            "_contract_type": _choice(rng, CONTRACT_TYPES, n),
            "_phase_family": phase_family,
        }
    )
    frame.loc[qts == "none", "qts_year"] = pd.NA
    for k in range(settings.years):
        frame[f"_z{k}"] = z[:, k]
    return frame


def _draw_fte(rng: np.random.Generator, phase_family: str, n: int) -> np.ndarray:
    part_time = rng.random(n) < PART_TIME_SHARE[phase_family]
    return np.where(part_time, rng.choice(PART_TIME_FTE, n), 1.0)


def _enough_fte(rng: np.random.Generator, phase_family: str, missing: float) -> np.ndarray:
    """FTEs of new teachers until `missing` FTE is filled (the last may overshoot a little)."""
    if missing <= 0.2:
        return np.zeros(0)
    fte = _draw_fte(rng, phase_family, int(missing / 0.5) + 4)
    count = int(np.searchsorted(np.cumsum(fte), missing - 0.2)) + 1
    return fte[:count]


def _subjects_for(
    rng: np.random.Generator,
    fte: np.ndarray,
    shares: dict[str, float],
    need: float,
    staffed: dict[str, float],
) -> np.ndarray:
    """Main subjects of new teachers, each going to the department furthest below its share."""
    staffed = dict(staffed)
    families = []
    for teacher_fte in fte:
        gaps = {family: share * need - staffed.get(family, 0.0) for family, share in shares.items()}
        family = max(sorted(gaps), key=lambda name: gaps[name])
        staffed[family] = staffed.get(family, 0.0) + teacher_fte
        families.append(family)
    return np.array(
        [
            _choice(rng, FAMILY_MAIN_SUBJECTS[family], 1)[0]
            if family in FAMILY_MAIN_SUBJECTS
            else family
            for family in families
        ],
        dtype=object,
    )


def _hire(
    backbone: Backbone,
    need_row,
    register: _TeacherRegister,
    experience: np.ndarray,
    rng: np.random.Generator,
    staffed: dict[str, float],
    missing: float,
) -> pd.DataFrame:
    """New teachers filling `missing` FTE at a school, as roster rows for the year."""
    family = PHASE_FAMILY[need_row.phase]
    fte = _enough_fte(rng, family, missing)
    experience = experience[: len(fte)]
    subjects = _subjects_for(rng, fte, need_row.family_shares, need_row.fte, staffed)
    teachers = register.add(
        draw_teachers(
            rng, backbone.settings, family, need_row.academic_year, experience, subjects, fte
        )
    )
    tenure = np.zeros(len(fte), dtype=int)
    if need_row.academic_year == backbone.settings.first_academic_year:
        tenure = (rng.random(len(fte)) * (experience + 1)).astype(int)
    return pd.DataFrame(
        {
            "teacher_id": teachers.teacher_id.to_numpy(),
            "school_id": need_row.school_id,
            "academic_year": need_row.academic_year,
            "experience": experience,
            "fte": fte,
            "main_subject": subjects,
            "start_date": first_of_september(need_row.academic_year - tenure),
        }
    )


def first_of_september(years) -> np.ndarray:
    years = np.asarray(years, dtype=np.int64)
    return ((years - 1970).astype("datetime64[Y]").astype("datetime64[M]") + 8).astype(
        "datetime64[D]"
    )


def _initial_staff(backbone, needs, hazards, register) -> pd.DataFrame:
    staff = []
    for row in needs.itertuples():
        rng = random_stream(backbone.settings.seed, "workforce", "initial staff", row.school_id)
        experience = stationary_experience(rng, hazards, int(row.fte / 0.5) + 4)
        staff.append(_hire(backbone, row, register, experience, rng, {}, row.fte))
    return pd.concat(staff, ignore_index=True)


def _hire_experience(rng: np.random.Generator, hazards: np.ndarray, n: int) -> np.ndarray:
    """Experience of new hires: most in their first or early years of teaching."""
    kind = rng.random(n)
    new = kind < NEW_HIRE_EXPERIENCE["new"]
    early = ~new & (kind < NEW_HIRE_EXPERIENCE["new"] + NEW_HIRE_EXPERIENCE["early"])
    return np.select(
        [new, early], [0, rng.integers(1, 3, n)], stationary_experience(rng, hazards, n)
    )


def _next_year_staff(backbone, previous, needs, hazards, register, year) -> pd.DataFrame:
    """Last year's staff minus leavers, plus movers within the trust and new hires."""
    seed = backbone.settings.seed
    stayers = []
    for school_id, staff in previous.groupby("school_id", sort=True):
        rng = random_stream(seed, "workforce", "leaving", school_id, year)
        leaves = rng.random(len(staff)) < hazards[np.minimum(staff.experience, MAX_EXPERIENCE)]
        stayers.append(staff[~leaves])
    staff = pd.concat(stayers, ignore_index=True)
    staff["experience"] += 1
    staff["academic_year"] = year
    staff["start_date"] = np.datetime64(f"{year}-09-01")
    staff = _moves_within_trusts(backbone, staff, needs, year)
    roster = [staff]
    for row in needs.itertuples():
        here = staff[staff.school_id == row.school_id]
        rng = random_stream(seed, "workforce", "hires", row.school_id, year)
        staffed = (
            here.assign(family=here.main_subject.map(subject_family)).groupby("family").fte.sum()
        )
        missing = row.fte - here.fte.sum()
        experience = _hire_experience(rng, hazards, int(max(missing, 0) / 0.5) + 4)
        roster.append(_hire(backbone, row, register, experience, rng, staffed.to_dict(), missing))
    return pd.concat(roster, ignore_index=True).sort_values(
        ["school_id", "teacher_id"], ignore_index=True
    )


def _moves_within_trusts(backbone, staff: pd.DataFrame, needs: pd.DataFrame, year) -> pd.DataFrame:
    """A few teachers move to another school of the same kind in their trust."""
    schools = needs[["school_id", "trust_id", "phase"]].assign(family=needs.phase.map(PHASE_FAMILY))
    staff = staff.merge(schools, on="school_id", how="left")
    for (trust_id, family), group in staff.groupby(["trust_id", "family"], sort=True):
        options = schools[(schools.trust_id == trust_id) & (schools.family == family)].school_id
        if len(options) < 2:
            continue
        rng = random_stream(backbone.settings.seed, "workforce", "moves", trust_id, family, year)
        moving = group.index[rng.random(len(group)) < MOVING_WITHIN_TRUST]
        targets = rng.choice(options.to_numpy(), len(moving))
        same = targets == staff.loc[moving, "school_id"].to_numpy()
        staff.loc[moving[~same], "school_id"] = targets[~same]
    return staff.drop(columns=["trust_id", "phase", "family"])


def leadership_posts(headcount: int, phase_family: str) -> list[str]:
    """Leadership posts of a school with this many teachers, most senior first."""
    deputies = 0 if headcount < 12 else 1 + (headcount >= 60) + (headcount >= 100)
    assistants = 0 if headcount < 15 else min(1 + headcount // 25, 6)
    practitioners = headcount // 40 if phase_family == "secondary" else 0
    return (
        ["head_teacher"]
        + ["deputy_head"] * deputies
        + ["assistant_head"] * assistants
        + ["leading_practitioner"] * practitioners
    )


def assign_posts(
    roster: pd.DataFrame, teachers: pd.DataFrame, previous: pd.DataFrame | None
) -> pd.DataFrame:
    """Each school's leadership posts go to its most senior full-time qualified teachers (those who
    led last year first); unqualified teachers hold unqualified posts, everyone else teaches."""
    lasting = teachers.set_index("teacher_id").loc[
        roster.teacher_id, ["qts_status", "_leader_propensity", "_phase_family"]
    ]
    roster = roster.assign(
        qts_status=lasting.qts_status.to_numpy(),
        _leader_score=lasting._leader_propensity.to_numpy() + roster.experience.to_numpy() / 4,
        _phase_family=lasting._phase_family.to_numpy(),
    )
    led_before = set()
    if previous is not None:
        led = previous[~previous.post.isin(["classroom_teacher", "unqualified_teacher"])]
        led_before = set(zip(led.teacher_id, led.school_id, strict=True))
    incumbent = np.array(
        [(t, s) in led_before for t, s in zip(roster.teacher_id, roster.school_id, strict=True)],
        dtype=bool,
    )
    roster["_leader_score"] += 3 * incumbent
    post = np.where(roster.qts_status == "none", "unqualified_teacher", "classroom_teacher")
    post = post.astype(object)
    for _, staff in roster.groupby("school_id", sort=True):
        eligible = staff[(staff.qts_status != "none") & (staff.fte == 1) & (staff.experience >= 5)]
        ranked = eligible.sort_values(["_leader_score", "teacher_id"], ascending=[False, True])
        posts = leadership_posts(len(staff), staff._phase_family.iloc[0])[: len(ranked)]
        post[roster.index.get_indexer(ranked.index[: len(posts)])] = posts
    roster["post"] = post
    return roster.drop(columns=["qts_status", "_leader_score"])


def pay(
    post: np.ndarray,
    experience: np.ndarray,
    upper_threshold: np.ndarray,
    headcount: np.ndarray,
    propensity: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Pay range and point from post, experience and school size (STPCD ranges)."""
    jitter = np.round(propensity).astype(int)
    leadership_point = np.select(
        [post == "head_teacher", post == "deputy_head"],
        [np.clip(10 + headcount // 3 + jitter, 8, 43), np.clip(5 + headcount // 8 + jitter, 3, 25)],
        np.clip(2 + headcount // 15 + jitter, 1, 15),
    )
    upper = experience >= upper_threshold
    pay_range = np.select(
        [
            np.isin(post, ["head_teacher", "deputy_head", "assistant_head"]),
            post == "leading_practitioner",
            post == "unqualified_teacher",
            upper,
        ],
        ["leadership", "leading_practitioner", "unqualified", "upper"],
        "main",
    )
    point = np.select(
        [
            pay_range == "leadership",
            pay_range == "leading_practitioner",
            pay_range == "unqualified",
            pay_range == "upper",
        ],
        [
            np.char.add("L", leadership_point.astype(str)),
            np.char.add("LP", np.clip(1 + (experience - 5) // 2, 1, 18).astype(str)),
            np.char.add("UQ", np.minimum(experience + 1, 6).astype(str)),
            np.char.add("U", np.minimum(1 + (experience - upper_threshold) // 2, 3).astype(str)),
        ],
        np.char.add("M", np.minimum(experience + 1, 6).astype(str)),
    )
    return pay_range, point


def _contracts(settings, roster: pd.DataFrame, teachers: pd.DataFrame, needs) -> pd.DataFrame:
    """One contract row per teacher, school and year; open-ended in the data's last year."""
    lasting = teachers.set_index("teacher_id").loc[roster.teacher_id]
    headcount = roster.groupby(["school_id", "academic_year"]).teacher_id.transform("size")
    post = roster.post.to_numpy().astype(str)
    pay_range, pay_point = pay(
        post,
        roster.experience.to_numpy(),
        lasting._upper_threshold.to_numpy(),
        headcount.to_numpy(),
        lasting._leader_propensity.to_numpy(),
    )
    last_year = settings.academic_years[-1]
    end = pd.Series(first_of_september(roster.academic_year + 1) - np.timedelta64(1, "D"))
    end = end.astype("datetime64[s]").where(roster.academic_year.to_numpy() != last_year)
    whole_curriculum = (roster.main_subject.to_numpy() == "primary_class") | (
        roster._phase_family.to_numpy() != "secondary"
    )
    teaching_share = pd.Series(post).map(TEACHING_SHARE).to_numpy()
    teaching_share = np.where(
        whole_curriculum & np.isin(post, ["classroom_teacher", "unqualified_teacher"]),
        1.0,
        teaching_share,
    )
    # Heads of small schools teach part of the week.
    small_head = (post == "head_teacher") & (headcount.to_numpy() < 10)
    teaching_share = np.where(small_head, 0.5, teaching_share)
    contracts = pd.DataFrame(
        {
            "contract_id": 0,
            "teacher_id": roster.teacher_id.to_numpy(),
            "school_id": roster.school_id.to_numpy(),
            "start_date": roster.start_date.to_numpy().astype("datetime64[s]"),
            "end_date": end.to_numpy(),
            "contract_type": lasting._contract_type.to_numpy(),
            "post": post,
            "pay_range": pay_range,
            "pay_point": pay_point,
            "fte": roster.fte.to_numpy(),
            "_academic_year": roster.academic_year.to_numpy(),
            "_experience": roster.experience.to_numpy(),
            "_working_days": lasting._working_days.to_numpy(),
            "_teaching_share": teaching_share,
        }
    )
    contracts = contracts.sort_values(
        ["school_id", "_academic_year", "teacher_id"], ignore_index=True
    )
    contracts["contract_id"] = np.arange(1, len(contracts) + 1)
    return contracts


def _effects(settings, contracts: pd.DataFrame, teachers: pd.DataFrame) -> pd.DataFrame:
    """The planted effect of each teacher in each year they teach: a persistent part (AR(1) across
    years) plus early-career growth, so a first-year teacher is 3 x growth below their later
    level."""
    effects = settings.effects
    lasting = teachers.set_index("teacher_id").loc[contracts.teacher_id]
    year_index = contracts._academic_year.to_numpy() - settings.first_academic_year
    z = lasting[[f"_z{k}" for k in range(settings.years)]].to_numpy()[
        np.arange(len(contracts)), year_index
    ]
    growth = effects.early_career_growth * (np.minimum(contracts._experience.to_numpy(), 3) - 3)
    frame = pd.DataFrame(
        {
            "teacher_id": contracts.teacher_id.to_numpy(),
            "academic_year": contracts._academic_year.to_numpy(),
            "effect": effects.teacher_sd * z + growth,
        }
    )
    return frame.sort_values(["teacher_id", "academic_year"], ignore_index=True)
