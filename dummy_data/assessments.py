"""In-school assessments and their results, and the national key stage 2 and key stage 4 results.

The score model (shared/domain.md): a result's latent score is

    pupil ability (that year's enrolment `_ability`) + school `_effect`
    + the planted effects of the class's teachers that year, weighted by their share of the class
    + the class's `_class_effect`
    + effects.absence_per_10_points x (the pupil's `_absence_rate` x 10)
    + effects.afternoon_maths x the class's `_afternoon_share` (maths classes only)
    + noise N(0, effects.noise_sd),

standardised against a national reference (`LatentReference`) and mapped onto the assessment's
scale (dummy_data.scales): GCSE grades through the national grade shares, less a grade-a-year
progression for younger pupils; KS3 bands, standardised scores and primary judgements linearly or
by cuts; percentages and raw marks from each assessment's mean and spread, clipped at 0 and 100
(a few assessments are far too easy or too hard, `_ceiling_floor`, so marks pile up at one end).
Target grades follow ability alone; effort grades follow ability and attendance; on-track
judgements follow the latent score less ability (progress, whatever the starting point).

Assessments (`assessment_catalogue`) follow from the classes each school teaches: for every school,
academic year, year group and subject, the rules in `RULES` set termly data drops (two or three a
year, by school policy), effort grades and on-track judgements at some schools, target and forecast
grades and mocks in key stage 4, mocks in year 13, and standardised tests. Rules marked `common`
are set by the trust (school_id null, is_common true) and taken by every school of the trust with
that year group and subject. Each data drop, mock season or test of a school (or of the trust) has
one window per term and year, shared by its assessments.

Results (`school_year_results`, one batch per school and year): each class sits an assessment on
one open day of the window; the members of the class that day who are enrolled at the school in the
assessment's year group get a result, but for a share about `missing_result_rate` (more among
frequent absentees). Some absentees from tests are recorded "Ab", with no numeric value. The MIS
did not link a share `result_without_class_rate` of results to their class (class_id null; the
share varies between assessments). result_id is assessment_id x 10^10 + pupil_id.

Key stage 2 (`ks2_results`): pupils enrolled in year 6 at a trust school in the KS2 test week of a
year in the data span have a record for that year. Pupils in year 7 or above in the data span
without one have an imported record with chance `ks2_imported_rate`, for the year they were in
year 6. There are no records for years before 2015 (before scaled scores) nor for 2019 and 2020
(tests cancelled in the pandemic). Scores follow ability, calibrated to the national 2024 results.

Key stage 4 (`ks4_results`): pupils enrolled in year 11 at a trust school when the exams start
take English, maths, combined or triple science and a number of options that rises with ability
(and falls for FSM pupils, who enter fewer qualifications nationally), chosen first among the
subjects of their year 11 option classes. Grades follow the score model (with the pupil's year 11
class of that subject, if any), cut so that the grade shares match Ofqual's for 2024. Business is a
vocational qualification whose grade is mapped to its GCSE equivalent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from statistics import NormalDist
from typing import Protocol

import numpy as np
import pandas as pd
import pyarrow as pa

from dummy_data.backbone import Backbone, random_stream
from dummy_data.scales import (
    ABSENT_INDEX,
    EFFORT_INDEX,
    MAX_MARK,
    ON_TRACK_INDEX,
    PRIMARY_INDEX,
    PRIMARY_JUDGEMENTS,
    STANDARDISED_RANGE,
    VOCABULARY,
    gcse_grades,
    ks3_bands,
    numeric_by_vocabulary,
    ordinal_grades,
    percent_by_vocabulary,
    vocational_grades,
    whole_numbers,
)
from dummy_data.settings import GeneratorSettings

Batch = pa.Table | pd.DataFrame

YEAR_GROUPS = ("N1", "N2", "R", *(str(n) for n in range(1, 15)))
YEAR_NUMBERS = np.arange(-2, 15)
SUBJECTS = (
    "english", "maths", "science", "biology", "chemistry", "physics", "history", "geography",
    "french", "spanish", "computing", "art", "music", "drama", "pe", "re", "design_technology",
    "business", "form", "primary_class",
)  # fmt: skip
TERMS = ("autumn", "spring", "summer")
SCALE_CODES = (
    "gcse_9_1", "vocational_pmd", "ks3_band", "effort_1_3", "on_track", "standardised_score",
    "primary_judgement", "percentage", "raw_mark",
)  # fmt: skip
ASSESSMENT_TYPES = ("termly", "mock", "standardised", "effort", "target", "forecast")
SUBJECT_LABELS = {
    "english": "English", "maths": "Maths", "science": "Science", "biology": "Biology",
    "chemistry": "Chemistry", "physics": "Physics", "history": "History",
    "geography": "Geography", "french": "French", "spanish": "Spanish",
    "computing": "Computing", "art": "Art", "music": "Music", "drama": "Drama", "pe": "PE",
    "re": "RE", "design_technology": "Design and Technology", "business": "Business",
}  # fmt: skip

PRIMARY_YEARS = ("1", "2", "3", "4", "5", "6")
KS3_YEARS = ("7", "8", "9")
KS4_YEARS = ("10", "11")
KS5_YEARS = ("12", "13")
LEAVING_YEARS = ("11", "13")  # no summer data drop: study leave and exams
CORE = ("english", "maths", "science")
# Subjects assessed through a primary (whole-curriculum) class.
PRIMARY_CLASS_SUBJECTS = ("english", "maths", "science")
TEST_TYPE_CODES = (ASSESSMENT_TYPES.index("mock"), ASSESSMENT_TYPES.index("standardised"))
RAW_MARK_CODE = SCALE_CODES.index("raw_mark")
TARGET_CODE, FORECAST_CODE, EFFORT_CODE = (
    ASSESSMENT_TYPES.index(kind) for kind in ("target", "forecast", "effort")
)


@dataclass(frozen=True)
class Rule:
    """Assessments set for every matching school, year, year group and subject.

    `scale` is a scale code or a school policy: "primary_scale", "ks3_scale", "gcse_current" (fine
    grades at some schools), "gcse_whole". GCSE scales become P/M/D/D* for business.
    """

    assessment_type: str
    year_groups: tuple[str, ...]
    terms: tuple[str, ...]
    window: str
    label: str
    scale: str
    subjects: tuple[str, ...] | None = None  # None: every subject taught
    common: bool = False
    policy: str | None = None  # the school policy flag the rule needs
    max_marks: tuple[tuple[str, int], ...] = ()  # by subject, for raw marks
    subject_label: tuple[tuple[str, str], ...] = ()


DROPS = TERMS  # data drops: every term, but two-drop schools skip autumn and leavers summer
RULES: tuple[Rule, ...] = (
    Rule("termly", PRIMARY_YEARS, DROPS, "drop", "{term} Assessment", "primary_scale",
         ("english", "maths")),
    Rule("termly", PRIMARY_YEARS, ("summer",), "drop", "{term} Assessment", "primary_judgement",
         ("science",)),
    Rule("standardised", ("3", "4", "5"), ("summer",), "test", "Standardised Test",
         "standardised_score", ("english", "maths"), common=True,
         subject_label=(("english", "Reading"),)),
    Rule("mock", ("6",), ("spring",), "mock", "Practice SATs Paper", "raw_mark",
         ("english", "maths"), common=True, max_marks=(("english", 50), ("maths", 110)),
         subject_label=(("english", "Reading"),)),
    Rule("termly", KS3_YEARS, DROPS, "drop", "{term} Assessment", "ks3_scale"),
    Rule("termly", KS3_YEARS, ("summer",), "exam", "End of Year Exam", "raw_mark", CORE,
         common=True, max_marks=(("english", 80), ("maths", 100), ("science", 100))),
    Rule("standardised", ("7", "8"), ("autumn",), "test", "Standardised Test",
         "standardised_score", ("english",), common=True, subject_label=(("english", "Reading"),)),
    Rule("standardised", ("7",), ("autumn",), "test", "Standardised Test", "standardised_score",
         ("maths",), common=True),
    Rule("termly", KS4_YEARS, DROPS, "drop", "{term} Current Grade", "gcse_current"),
    Rule("target", KS4_YEARS, ("autumn",), "target", "Target Grade", "gcse_whole"),
    Rule("forecast", ("11",), ("autumn", "spring"), "drop", "{term} Forecast Grade", "gcse_whole"),
    Rule("forecast", ("10",), ("summer",), "drop", "{term} Forecast Grade", "gcse_whole"),
    Rule("mock", ("11",), ("autumn",), "mock", "Mock Exam (December)", "gcse_whole", CORE,
         common=True),
    Rule("mock", ("11",), ("spring",), "mock", "Mock Exam (March)", "gcse_whole"),
    Rule("mock", ("10",), ("summer",), "exam", "Mock Exam (June)", "raw_mark"),
    Rule("termly", KS5_YEARS, DROPS, "drop", "{term} Assessment", "percentage"),
    Rule("mock", ("13",), ("spring",), "mock", "Mock Exam (February)", "percentage"),
    Rule("effort", KS3_YEARS + KS4_YEARS, DROPS, "drop", "{term} Effort", "effort_1_3",
         policy="records_effort"),
    Rule("termly", KS3_YEARS + KS4_YEARS, DROPS, "drop", "{term} On Track", "on_track", CORE,
         policy="records_on_track"),
)  # fmt: skip

# Windows by (kind, term): the share of the term's open days before the window opens (low, high)
# and the open days it lasts (low, high).
WINDOWS = {
    ("drop", "autumn"): ((0.72, 0.84), (8, 12)),
    ("drop", "spring"): ((0.60, 0.78), (8, 12)),
    ("drop", "summer"): ((0.50, 0.68), (8, 12)),
    ("target", "autumn"): ((0.06, 0.18), (5, 10)),
    ("mock", "autumn"): ((0.80, 0.88), (5, 8)),
    ("mock", "spring"): ((0.30, 0.45), (5, 8)),
    ("exam", "summer"): ((0.60, 0.75), (5, 10)),
    ("test", "autumn"): ((0.10, 0.25), (5, 10)),
    ("test", "summer"): ((0.40, 0.55), (5, 10)),
}

# School policies: chance of each choice.
THREE_DROPS_SHARE = 0.5  # the others skip the autumn data drop
RECORDS_EFFORT_SHARE = 0.3
RECORDS_ON_TRACK_SHARE = 0.35
FINE_GRADES_SHARE = 0.7
KS3_SCALES = {"gcse_9_1": 0.45, "ks3_band": 0.3, "percentage": 0.25}
PRIMARY_SCALES = {"primary_judgement": 0.65, "percentage": 0.2, "raw_mark": 0.15}
RAW_MAX_MARKS = (40, 50, 60, 80, 100, 120)
CEILING_FLOOR_SHARE = 0.06  # of percentage and raw-mark assessments

# Scale maps. GCSE shares (Ofqual 2024, U to 9) define a national grade for a standardised score.
GCSE_SHARES = (0.025, 0.055, 0.085, 0.13, 0.16, 0.17, 0.15, 0.10, 0.075, 0.05)
GRADES_PER_YEAR = 0.6  # a pupil's working-at grade rises this much a year towards year 11
GRADES_PER_TERM = 0.2
KS3_LEVEL_YEAR7, KS3_LEVELS_PER_YEAR, KS3_LEVELS_PER_TERM, KS3_LEVEL_SD = 4.0, 0.7, 0.25, 1.3
PRIMARY_JUDGEMENT_CUTS = np.array([-0.55, 1.05])  # about 29% WTS, 56% EXS, 15% GDS
PERCENT_MEAN, PERCENT_MEAN_SD, PERCENT_SD = 55.0, 7.0, (16.0, 22.0)
CEILING_MEAN, FLOOR_MEAN = (86.0, 94.0), (8.0, 16.0)
TARGET_UPLIFT, TARGET_SD = 0.5, 0.3  # grades above the national grade of ability
EFFORT_ABILITY, EFFORT_ABSENCE, EFFORT_SD = 0.45, -4.0, 0.85
EFFORT_CUTS = np.array([-1.04, 0.52])  # standardised effort score: 15% 3 (concern), 30% 1
ON_TRACK_CUTS = np.array([-1.0, -0.35, 0.35, 1.0])
ABSENT_PER_ABSENCE = 0.25  # chance of "Ab" in a test per unit of absence rate
# Absence rate of the national reference pupil: the 97% Beta(0.9, 15.6) + 3% Beta(6, 4) mixture.
REFERENCE_ABSENCE_MEAN, REFERENCE_ABSENCE_SD = 0.071, 0.110
RESULT_ID_BASE = 10**10


class TeacherEffects(Protocol):
    teacher_effects: pd.DataFrame


class ClassLists(Protocol):
    classes: pd.DataFrame
    class_memberships: pd.DataFrame
    class_teachers: pd.DataFrame


def generate_assessments(
    backbone: Backbone, workforce: TeacherEffects, timetable: ClassLists
) -> Iterator[tuple[str, Batch]]:
    """Batches of `assessments`, `assessment_results` (one per school and year), `ks2_results` and
    `ks4_results`."""
    settings = backbone.settings
    catalogue = assessment_catalogue(backbone, timetable.classes)
    yield "assessments", catalogue
    classes = classes_with_shifts(settings, workforce, timetable)
    sources = ResultSources.build(backbone, classes, timetable.class_memberships, catalogue)
    for school_id in backbone.schools.school_id:
        for year in settings.academic_years:
            results = school_year_results(backbone, sources, int(school_id), year)
            if results.num_rows:
                yield "assessment_results", results
    yield "ks2_results", ks2_results(backbone)
    yield "ks4_results", ks4_results(backbone, classes, timetable.class_memberships)


# The national reference a latent score is standardised against.


@dataclass(frozen=True)
class LatentReference:
    """Mean and SD of ability, of the latent score and of progress (the latent score less ability)
    over a nationally representative body of pupils: the settings' shares of FSM and SEN pupils,
    the national mix of absence."""

    ability_mean: float
    ability_sd: float
    progress_mean: float
    progress_sd: float

    @classmethod
    def of(cls, settings: GeneratorSettings) -> LatentReference:
        effects = settings.effects
        shifts = [
            (settings.fsm_rate, effects.fsm_ability),
            (settings.sen_support_rate, effects.sen_support_ability),
            (settings.ehcp_rate, effects.ehcp_ability),
        ]
        absence = effects.absence_per_10_points * 10
        progress_sds = [effects.school_sd, effects.teacher_sd, effects.class_sd, effects.noise_sd,
                        absence * REFERENCE_ABSENCE_SD]  # fmt: skip
        return cls(
            ability_mean=sum(rate * shift for rate, shift in shifts),
            ability_sd=float(
                np.sqrt(1 + sum(rate * (1 - rate) * shift**2 for rate, shift in shifts))
            ),
            progress_mean=absence * REFERENCE_ABSENCE_MEAN,
            progress_sd=float(np.sqrt(sum(sd**2 for sd in progress_sds))),
        )

    @property
    def score_mean(self) -> float:
        return self.ability_mean + self.progress_mean

    @property
    def score_sd(self) -> float:
        return float(np.hypot(self.ability_sd, self.progress_sd))

    def ability_z(self, ability: np.ndarray) -> np.ndarray:
        return (ability - self.ability_mean) / self.ability_sd

    def progress_z(self, progress: np.ndarray) -> np.ndarray:
        return (progress - self.progress_mean) / self.progress_sd

    def score_z(self, score: np.ndarray) -> np.ndarray:
        return (score - self.score_mean) / self.score_sd


NATIONAL_GRADE_CUTS = [NormalDist().inv_cdf(c) for c in np.cumsum(GCSE_SHARES)[:-1]]


def national_grade(z: np.ndarray) -> np.ndarray:
    """A continuous GCSE grade for a nationally standardised score: rounded, it gives the grade
    shares of `GCSE_SHARES` over a standard normal population."""
    z_points = [NATIONAL_GRADE_CUTS[0] - 1.0, *NATIONAL_GRADE_CUTS, NATIONAL_GRADE_CUTS[-1] + 1.0]
    grade_points = [-0.5, *(g + 0.5 for g in range(9)), 9.49]
    return np.interp(z, z_points, grade_points)


# The assessment catalogue.

CATALOGUE_ORDER = ["academic_year", "trust_id", "_owner", "_year_group_code", "_subject_code",
                   "window_start", "assessment_type", "name"]  # fmt: skip


def assessment_catalogue(backbone: Backbone, classes: pd.DataFrame) -> pd.DataFrame:
    """Every assessment, with the schema columns of `assessments` and the latent parameters of its
    results: `_owner` (school_id, or 0 for the trust), `_window` (kind), `_window_first` (index of
    the first window day among the calendar's open dates), `_window_days`, `_fine` (fine GCSE
    grades), `_mean_percent` and `_sd_percent` (percentage and raw-mark scales), `_ceiling_floor`
    ("ceiling", "floor" or "") and `_unlinked_share` (chance a result has no class)."""
    settings = backbone.settings
    keys = subject_keys(classes).merge(backbone.schools[["school_id", "trust_id"]], on="school_id")
    keys = keys.merge(school_policies(settings, backbone.schools), on="school_id")
    catalogue = pd.concat([_rule_rows(rule, keys) for rule in RULES], ignore_index=True)
    catalogue = catalogue.merge(
        assessment_windows(backbone, catalogue),
        on=["trust_id", "_owner", "academic_year", "_window", "term"],
    )
    catalogue = _with_parameters(settings, catalogue)
    catalogue = _with_window_dates(backbone, catalogue)
    catalogue["name"] = _names(catalogue)
    catalogue["_year_group_code"] = _codes(catalogue.year_group, YEAR_GROUPS)
    catalogue["_subject_code"] = _codes(catalogue.subject, SUBJECTS)
    catalogue = catalogue.sort_values(CATALOGUE_ORDER, kind="stable", ignore_index=True)
    catalogue.insert(0, "assessment_id", np.arange(1, len(catalogue) + 1, dtype=np.int64))
    catalogue["school_id"] = catalogue._owner.where(catalogue._owner > 0).astype("Int64")
    catalogue["is_common"] = catalogue._owner == 0
    return catalogue


def subject_keys(classes: pd.DataFrame) -> pd.DataFrame:
    """(school_id, academic_year, year_group, subject) assessed, with `class_subject`: the subject
    of the classes results come from (the subject itself, or primary_class for whole-curriculum
    classes when the school has no class of that subject)."""
    columns = ["school_id", "academic_year", "year_group"]
    taught = classes.loc[~classes.subject.isin(["form", "primary_class"]), [*columns, "subject"]]
    taught = taught.drop_duplicates().assign(class_subject=lambda frame: frame.subject)
    primary = classes.loc[classes.subject == "primary_class", columns].drop_duplicates()
    primary = primary.merge(pd.DataFrame({"subject": PRIMARY_CLASS_SUBJECTS}), how="cross")
    primary = primary.merge(taught, how="left", on=[*columns, "subject"], indicator=True)
    primary = primary[primary._merge == "left_only"].drop(columns="_merge")
    primary["class_subject"] = "primary_class"
    keys = pd.concat([taught, primary], ignore_index=True)
    return keys.sort_values([*columns, "subject"], ignore_index=True)


def school_policies(settings: GeneratorSettings, schools: pd.DataFrame) -> pd.DataFrame:
    """Each school's assessment habits, kept from year to year."""
    rows = []
    for school_id in schools.school_id:
        rng = random_stream(settings.seed, "assessment policy", school_id)
        draws = rng.random(6)
        rows.append(
            {
                "school_id": school_id,
                "autumn_drop": draws[0] < THREE_DROPS_SHARE,
                "records_effort": draws[1] < RECORDS_EFFORT_SHARE,
                "records_on_track": draws[2] < RECORDS_ON_TRACK_SHARE,
                "fine_grades": draws[3] < FINE_GRADES_SHARE,
                "ks3_scale": _pick(KS3_SCALES, draws[4]),
                "primary_scale": _pick(PRIMARY_SCALES, draws[5]),
            }
        )
    return pd.DataFrame(rows)


def _pick(shares: dict[str, float], draw: float) -> str:
    cumulative = np.cumsum(list(shares.values()))
    return list(shares)[int(np.searchsorted(cumulative, draw * cumulative[-1], side="right"))]


def _rule_rows(rule: Rule, keys: pd.DataFrame) -> pd.DataFrame:
    """The assessments one rule sets: one per matching key and term (one per trust for common)."""
    rows = keys[keys.year_group.isin(rule.year_groups)]
    if rule.subjects is not None:
        rows = rows[rows.subject.isin(rule.subjects)]
    if rule.policy:
        rows = rows[rows[rule.policy].astype(bool)]
    rows = rows.merge(pd.DataFrame({"term": rule.terms}), how="cross")
    if rule.window == "drop":
        skipped = (rows.term == "autumn") & ~rows.autumn_drop.astype(bool)
        leaving = (rows.term == "summer") & rows.year_group.isin(LEAVING_YEARS)
        rows = rows[~skipped & ~leaving]
    if rule.common:
        rows = rows.drop_duplicates(["trust_id", "academic_year", "year_group", "subject", "term"])
    scale = _rule_scale(rule, rows)
    max_marks = dict(rule.max_marks)
    labels = dict(rule.subject_label)
    return pd.DataFrame(
        {
            "trust_id": rows.trust_id,
            "_owner": 0 if rule.common else rows.school_id,
            "academic_year": rows.academic_year,
            "subject": rows.subject,
            "year_group": rows.year_group,
            "assessment_type": rule.assessment_type,
            "scale": scale,
            "term": rows.term,
            "_window": rule.window,
            "_label": rule.label,
            "_subject_label": rows.subject.map(lambda s: labels.get(s, SUBJECT_LABELS.get(s, s))),
            "_fine": (scale == "gcse_9_1")
            & rows.fine_grades.astype(bool)
            & (rule.scale in ("gcse_current", "ks3_scale")),
            "_max_mark": rows.subject.map(max_marks).astype("Int64") if max_marks else pd.NA,
        }
    ).reset_index(drop=True)


def _rule_scale(rule: Rule, rows: pd.DataFrame) -> pd.Series:
    """The scale of each assessment a rule sets: its own, or the school's policy."""
    if rule.scale in ("primary_scale", "ks3_scale"):
        scale = rows[rule.scale]
    else:
        scale = pd.Series("gcse_9_1" if rule.scale.startswith("gcse") else rule.scale, rows.index)
    vocational = rows.subject.isin(VOCATIONAL_SUBJECTS) & (scale == "gcse_9_1")
    return scale.where(~vocational, "vocational_pmd")


def assessment_windows(backbone: Backbone, catalogue: pd.DataFrame) -> pd.DataFrame:
    """One window per owner (school, or 0 for the trust), academic year, window kind and term:
    `_window_first` (index into the calendar's open dates) and `_window_days`."""
    owners = catalogue[["trust_id", "_owner", "academic_year"]].drop_duplicates()
    rows = []
    for trust_id, owner, year in owners.sort_values(list(owners.columns)).itertuples(index=False):
        calendar = backbone.calendar(trust_id, year)
        rng = random_stream(backbone.settings.seed, "assessment windows", trust_id, owner, year)
        for (kind, term), ((low, high), (shortest, longest)) in WINDOWS.items():
            term_code = TERMS.index(term)
            first = int(np.searchsorted(calendar.terms, term_code, "left"))
            end = int(np.searchsorted(calendar.terms, term_code, "right"))
            days = int(rng.integers(shortest, longest + 1))
            start = first + int(rng.uniform(low, high) * (end - first))
            start = min(start, end - days)
            rows.append((trust_id, owner, year, kind, term, start, days))
    columns = ["trust_id", "_owner", "academic_year", "_window", "term", "_window_first",
               "_window_days"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def _with_parameters(settings: GeneratorSettings, catalogue: pd.DataFrame) -> pd.DataFrame:
    """The catalogue with maximum marks, the spread of percentage marks (a few with a ceiling or
    floor) and each assessment's share of results without a class."""
    rng = random_stream(settings.seed, "assessment parameters")
    n = len(catalogue)
    raw = (catalogue.scale == "raw_mark").to_numpy()
    drawn_max = np.array(RAW_MAX_MARKS)[rng.integers(0, len(RAW_MAX_MARKS), n)]
    max_mark = catalogue._max_mark.astype("Float64").fillna(pd.Series(drawn_max, catalogue.index))
    catalogue["max_mark"] = max_mark.where(raw).astype("Int64")
    marked = raw | (catalogue.scale == "percentage").to_numpy()
    extreme = marked & (rng.random(n) < CEILING_FLOOR_SHARE)
    ceiling = extreme & (rng.random(n) < 0.5)
    floor = extreme & ~ceiling
    mean = rng.normal(PERCENT_MEAN, PERCENT_MEAN_SD, n)
    mean = np.where(ceiling, rng.uniform(*CEILING_MEAN, n), mean)
    mean = np.where(floor, rng.uniform(*FLOOR_MEAN, n), mean)
    catalogue["_mean_percent"] = np.where(marked, mean, np.nan)
    catalogue["_sd_percent"] = np.where(marked, rng.uniform(*PERCENT_SD, n), np.nan)
    catalogue["_ceiling_floor"] = np.select([ceiling, floor], ["ceiling", "floor"], "")
    catalogue["_unlinked_share"] = _unlinked_shares(rng, settings.result_without_class_rate, n)
    return catalogue.drop(columns="_max_mark")


def _unlinked_shares(rng: np.random.Generator, rate: float, n: int) -> np.ndarray:
    """Each assessment's chance that a result is not linked to its class: Beta with mean `rate`,
    so some assessments are hardly ever linked and others almost always."""
    if rate <= 0 or rate >= 1:
        return np.full(n, float(rate))
    return rng.beta(2 * rate, 2 * (1 - rate), n)


def _with_window_dates(backbone: Backbone, catalogue: pd.DataFrame) -> pd.DataFrame:
    """The catalogue with the dates of the first and last open day of each window."""
    starts = np.empty(len(catalogue), "datetime64[D]")
    ends = np.empty(len(catalogue), "datetime64[D]")
    for (trust_id, year), rows in catalogue.groupby(["trust_id", "academic_year"]).indices.items():
        open_dates = backbone.calendar(trust_id, year).open_dates
        first = catalogue._window_first.to_numpy()[rows]
        starts[rows] = open_dates[first]
        ends[rows] = open_dates[first + catalogue._window_days.to_numpy()[rows] - 1]
    catalogue["window_start"] = starts
    catalogue["window_end"] = ends
    return catalogue


def _names(catalogue: pd.DataFrame) -> pd.Series:
    """Names as shown in the MIS, e.g. "Y9 Maths Spring Assessment", "Trust Y11 English Mock"."""
    owner = pd.Series(np.where(catalogue._owner == 0, "Trust Y", "Y"), catalogue.index)
    label = [
        label.format(term=term.title())
        for label, term in zip(catalogue._label.tolist(), catalogue.term.tolist(), strict=True)
    ]
    return owner + catalogue.year_group + " " + catalogue._subject_label + " " + label


# Results.


def classes_with_shifts(
    settings: GeneratorSettings, workforce: TeacherEffects, timetable: ClassLists
) -> pd.DataFrame:
    """Classes with `_teacher_effect` (their teachers' planted effects that year, weighted by share)
    and `_shift`: what the class adds to its members' latent scores."""
    classes = timetable.classes
    taught = (
        timetable.class_teachers[["teacher_id", "class_id", "share_percent"]]
        .merge(classes[["class_id", "academic_year"]], on="class_id")
        .merge(workforce.teacher_effects, on=["teacher_id", "academic_year"], how="left")
    )
    weighted = (taught.share_percent / 100 * taught.effect.fillna(0)).groupby(taught.class_id).sum()
    columns = ["class_id", "school_id", "academic_year", "subject", "year_group", "grouping",
               "_class_effect", "_afternoon_share"]  # fmt: skip
    frame = classes[columns].copy()
    frame["_teacher_effect"] = weighted.reindex(frame.class_id, fill_value=0.0).to_numpy()
    maths = frame.subject == "maths"
    afternoon = settings.effects.afternoon_maths * frame._afternoon_share * maths
    frame["_shift"] = frame._teacher_effect + frame._class_effect + afternoon
    return frame


def _days(values: pd.Series | np.ndarray) -> np.ndarray:
    """Dates as whole days since 1970-01-01."""
    return np.asarray(values, dtype="datetime64[D]").astype(np.int64)


def _codes(values: pd.Series, codes: tuple[str, ...]) -> np.ndarray:
    """Positions of the values among the codes (-1 where absent)."""
    return pd.Index(codes).get_indexer(values).astype(np.int64)


def _by_school_year(school_id: np.ndarray, year: np.ndarray) -> dict[tuple[int, int], slice]:
    """Row ranges of each (school, year) in arrays sorted by school and year."""
    key = school_id.astype(np.int64) * 10_000 + year
    values, starts = np.unique(key, return_index=True)
    ends = [*starts[1:], len(key)]
    return {
        (int(v // 10_000), int(v % 10_000)): slice(s, e)
        for v, s, e in zip(values, starts, ends, strict=True)
    }


@dataclass(frozen=True)
class Columns:
    """Named numpy columns taken out by school and year with `at`, sorted there by the `within`
    columns."""

    arrays: dict[str, np.ndarray]
    order: np.ndarray  # rows by school and year
    ranges: dict[tuple[int, int], slice]  # of each (school, year) in `order`
    within: tuple[str, ...]

    @classmethod
    def of(cls, arrays: dict[str, np.ndarray], within: tuple[str, ...] = ()) -> Columns:
        school_id = arrays.pop("school_id").astype(np.int64)
        year = arrays.pop("academic_year").astype(np.int64)
        order = np.argsort(school_id * 10_000 + year, kind="stable")
        return cls(arrays, order, _by_school_year(school_id[order], year[order]), within)

    def at(self, school_id: int, year: int) -> dict[str, np.ndarray]:
        rows = self.order[self.ranges.get((school_id, year), slice(0, 0))]
        if self.within:
            rows = rows[np.lexsort([self.arrays[name][rows] for name in reversed(self.within)])]
        return {name: values[rows] for name, values in self.arrays.items()}


@dataclass(frozen=True)
class ResultSources:
    """What results are drawn from, as numpy columns by school and year: class memberships with
    their class's year group, subject and shift; enrolments with ability and absence; the subjects
    each school assesses with the subject of the class they are linked to; the assessments."""

    members: Columns
    enrolments: Columns
    subject_keys: Columns
    assessments: Columns
    school_effect: dict[int, float]
    trust_of: dict[int, int]
    reference: LatentReference

    @classmethod
    def build(
        cls,
        backbone: Backbone,
        classes: pd.DataFrame,
        memberships: pd.DataFrame,
        catalogue: pd.DataFrame,
    ) -> ResultSources:
        schools = backbone.schools
        return cls(
            members=_member_columns(classes, memberships),
            enrolments=_enrolment_columns(backbone.enrolments),
            subject_keys=_subject_key_columns(classes),
            assessments=_assessment_columns(catalogue),
            school_effect=dict(zip(schools.school_id, schools._effect, strict=True)),
            trust_of=dict(zip(schools.school_id, schools.trust_id, strict=True)),
            reference=LatentReference.of(backbone.settings),
        )


def _group_keys(year_group: pd.Series, subject: pd.Series) -> np.ndarray:
    """A year group and subject as one number."""
    return _codes(year_group, YEAR_GROUPS) * 64 + _codes(subject, SUBJECTS)


def _member_columns(classes: pd.DataFrame, memberships: pd.DataFrame) -> Columns:
    """Class memberships with their class's year group and subject (`group_key`) and shift."""
    position = pd.Index(classes.class_id).get_indexer(memberships.class_id)
    group_key = _group_keys(classes.year_group, classes.subject).astype(np.int32)
    columns = {
        "pupil_id": memberships.pupil_id.to_numpy().astype(np.int32),
        "class_id": memberships.class_id.to_numpy().astype(np.int32),
        "start": _days(memberships.start_date).astype(np.int32),
        "end": _days(memberships.end_date).astype(np.int32),
        "school_id": classes.school_id.to_numpy()[position],
        "academic_year": classes.academic_year.to_numpy()[position],
        "group_key": group_key[position],
        "shift": classes._shift.to_numpy().astype(float)[position],
    }
    return Columns.of(columns, within=("group_key", "pupil_id", "start", "class_id"))


def _enrolment_columns(spells: pd.DataFrame) -> Columns:
    columns = {
        "pupil_id": spells.pupil_id.to_numpy().astype(np.int64),
        "start": _days(spells.start_date),
        "end": _days(spells.end_date),
        "school_id": spells.school_id.to_numpy(),
        "academic_year": spells.academic_year.to_numpy(),
        "year_group": _codes(spells.year_group, YEAR_GROUPS),
        "ability": spells._ability.to_numpy().astype(float),
        "absence": spells._absence_rate.to_numpy().astype(float),
    }
    return Columns.of(columns, within=("pupil_id", "start"))


def _subject_key_columns(classes: pd.DataFrame) -> Columns:
    """The year groups and subjects each school assesses (`key`) and the year group and subject of
    the classes results come from (`group_key`)."""
    keys = subject_keys(classes)
    columns = {
        "school_id": keys.school_id.to_numpy(),
        "academic_year": keys.academic_year.to_numpy(),
        "key": _group_keys(keys.year_group, keys.subject),
        "group_key": _group_keys(keys.year_group, keys.class_subject),
    }
    return Columns.of(columns)


def _assessment_columns(catalogue: pd.DataFrame) -> Columns:
    """The catalogue as numpy columns by owner (school_id, or minus the trust id for the trust's
    common assessments) and year."""
    year_group = _codes(catalogue.year_group, YEAR_GROUPS)
    return Columns.of(
        {
            "school_id": np.where(catalogue._owner > 0, catalogue._owner, -catalogue.trust_id),
            "academic_year": catalogue.academic_year.to_numpy().astype(np.int64),
            "assessment_id": catalogue.assessment_id.to_numpy().astype(np.int64),
            "year_group": year_group,
            "key": _group_keys(catalogue.year_group, catalogue.subject),
            "type": _codes(catalogue.assessment_type, ASSESSMENT_TYPES),
            "scale": _codes(catalogue.scale, SCALE_CODES),
            "term": _codes(catalogue.term, TERMS),
            "window_first": catalogue._window_first.to_numpy().astype(np.int64),
            "window_days": catalogue._window_days.to_numpy().astype(np.int64),
            "fine": catalogue._fine.to_numpy().astype(bool),
            "mean_percent": catalogue._mean_percent.to_numpy().astype(float),
            "sd_percent": catalogue._sd_percent.to_numpy().astype(float),
            "max_mark": catalogue.max_mark.astype("Float64").fillna(np.nan).to_numpy(float),
            "unlinked_share": catalogue._unlinked_share.to_numpy().astype(float),
        }
    )


def _many_to_many(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row pairs (left row, right row) with equal keys, in left order, then right order."""
    order = np.arange(len(right)) if _is_sorted(right) else np.argsort(right, kind="stable")
    ordered = right[order]
    low = np.searchsorted(ordered, left, "left")
    counts = np.searchsorted(ordered, left, "right") - low
    left_rows = np.repeat(np.arange(len(left)), counts)
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return left_rows, order[np.repeat(low, counts) + within]


def _is_sorted(values: np.ndarray) -> bool:
    return bool(np.all(values[1:] >= values[:-1]))


def _spell_at(spells: dict[str, np.ndarray], pupil_id: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Row of each pupil's enrolment spell covering the day among `spells` (sorted by pupil and
    start), or -1."""
    spell_key = spells["pupil_id"].astype(np.int64) << 20 | spells["start"]
    row = np.searchsorted(spell_key, pupil_id.astype(np.int64) << 20 | day, "right") - 1
    found = row >= 0
    row = np.where(found, row, 0)
    if len(spells["pupil_id"]) == 0:
        return np.full(len(pupil_id), -1)
    found &= (spells["pupil_id"][row] == pupil_id) & (spells["end"][row] >= day)
    return np.where(found, row, -1)


def school_year_results(
    backbone: Backbone, sources: ResultSources, school_id: int, year: int
) -> pa.Table:
    """The assessment results of one school's pupils in one academic year, by result_id."""
    settings = backbone.settings
    rng = random_stream(settings.seed, "assessment results", school_id, year)
    trust_id = sources.trust_of[school_id]
    open_days = _days(backbone.calendar(trust_id, year).open_dates)
    sittings = Sittings.find(
        sources, school_id, trust_id, year, open_days, int(rng.integers(2**62))
    )
    missing = rng.random(len(sittings.sat)) < settings.missing_result_rate * (
        0.5 + 0.5 * sittings.absence / REFERENCE_ABSENCE_MEAN
    )
    sittings = sittings.subset(~missing)
    score = (
        sittings.ability + sources.school_effect[school_id] + sittings.shift
        + settings.effects.absence_per_10_points * sittings.absence * 10
        + rng.normal(0, settings.effects.noise_sd, len(sittings.sat))
    )  # fmt: skip
    marks = Marks.of(rng, sources.reference, sittings, score)
    text = result_texts(rng, marks, sittings.absence)
    linked = rng.random(len(sittings.sat)) >= sittings.assessments["unlinked_share"][sittings.sat]
    return _results_table(sittings, linked, text)


@dataclass(frozen=True)
class Sittings:
    """Who sat which assessment when, in one school and year: the row of `assessments` sat, the
    pupil, the class they sat it in, the day, and the pupil's ability and absence that year and
    the class's shift. Ordered by result_id."""

    assessments: dict[str, np.ndarray]
    sat: np.ndarray
    pupil_id: np.ndarray
    class_id: np.ndarray
    day: np.ndarray
    ability: np.ndarray
    absence: np.ndarray
    shift: np.ndarray

    @classmethod
    def find(
        cls,
        sources: ResultSources,
        school_id: int,
        trust_id: int,
        year: int,
        open_days: np.ndarray,
        salt: int,
    ) -> Sittings:
        """The members of each class on the day it sat an assessment, who were enrolled at the
        school in the assessment's year group, once per pupil and assessment."""
        assessments = _linked_assessments(sources, school_id, trust_id, year)
        members = sources.members.at(school_id, year)
        spells = sources.enrolments.at(school_id, year)
        # Members come by group key and pupil, assessments by id: pairs come by result_id.
        sat, member = _many_to_many(assessments["group_key"], members["group_key"])
        day = _sitting_days(salt, assessments, sat, members["class_id"][member], open_days)
        spell = _spell_at(spells, members["pupil_id"][member], day)
        sits = (members["start"][member] <= day) & (day <= members["end"][member]) & (spell >= 0)
        sits[sits] = spells["year_group"][spell[sits]] == assessments["year_group"][sat[sits]]
        member, sat, day, spell = member[sits], sat[sits], day[sits], spell[sits]
        # A pupil who moved class could meet an assessment twice: keep the first.
        result_id = assessments["assessment_id"][sat] * RESULT_ID_BASE + members["pupil_id"][member]
        first = np.ones(len(result_id), dtype=bool)
        first[1:] = result_id[1:] != result_id[:-1]
        member, sat, day, spell = member[first], sat[first], day[first], spell[first]
        return cls(
            assessments=assessments,
            sat=sat,
            pupil_id=members["pupil_id"][member],
            class_id=members["class_id"][member],
            day=day,
            ability=spells["ability"][spell],
            absence=spells["absence"][spell],
            shift=members["shift"][member],
        )

    def subset(self, rows: np.ndarray) -> Sittings:
        return _rows_of(self, rows)

    def of_assessment(self, name: str) -> np.ndarray:
        return self.assessments[name][self.sat]


def _rows_of(results: Sittings | Marks, rows: np.ndarray) -> Sittings | Marks:
    """Some rows of per-result arrays (every field but the assessments they index into)."""
    per_result = [field.name for field in fields(results) if field.name != "assessments"]
    return replace(results, **{name: getattr(results, name)[rows] for name in per_result})


def _linked_assessments(
    sources: ResultSources, school_id: int, trust_id: int, year: int
) -> dict[str, np.ndarray]:
    """The school's own assessments and its trust's common ones that year, by assessment_id, each
    with `group_key`: the year group and subject of the classes its results come from. Common
    assessments of a subject the school does not teach in that year group drop out."""
    own = sources.assessments.at(school_id, year)
    common = sources.assessments.at(-trust_id, year)
    keys = sources.subject_keys.at(school_id, year)
    assessment_rows, key_rows = _many_to_many(
        np.concatenate([own["key"], common["key"]]), keys["key"]
    )
    linked = {name: np.concatenate([own[name], common[name]])[assessment_rows] for name in own}
    linked["group_key"] = keys["group_key"][key_rows]
    order = np.argsort(linked["assessment_id"], kind="stable")
    return {name: values[order] for name, values in linked.items()}


def _sitting_days(
    salt: int,
    assessments: dict[str, np.ndarray],
    sat: np.ndarray,
    class_id: np.ndarray,
    open_days: np.ndarray,
) -> np.ndarray:
    """The day each class sits each assessment: an open day of the window drawn by hashing the
    assessment and class, so all of a class's members share it."""
    draw = _uniform_hash(salt, assessments["assessment_id"][sat], class_id)
    offset = (draw * assessments["window_days"][sat]).astype(np.int64)
    return open_days[assessments["window_first"][sat] + offset]


def _uniform_hash(salt: int, *keys: np.ndarray) -> np.ndarray:
    """Uniform numbers in [0, 1) determined by the salt and the keys (splitmix64 mixing)."""
    mixed = np.full(len(keys[0]), salt, dtype=np.uint64)
    for key in keys:
        mixed = _splitmix(mixed ^ key.astype(np.uint64))
    return (mixed >> np.uint64(11)).astype(np.float64) / 2.0**53


def _splitmix(x: np.ndarray) -> np.ndarray:
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@dataclass(frozen=True)
class Marks:
    """What decides the raw texts of some results: their standardised latent score (`z`), ability
    (`ability_z`), progress (latent score less ability, standardised), effort score, and the
    assessment each sat (`sat`, a row of `assessments`)."""

    z: np.ndarray
    ability_z: np.ndarray
    progress: np.ndarray
    effort: np.ndarray
    target_noise: np.ndarray
    sat: np.ndarray
    assessments: dict[str, np.ndarray]

    @classmethod
    def of(
        cls,
        rng: np.random.Generator,
        reference: LatentReference,
        sittings: Sittings,
        score: np.ndarray,
    ) -> Marks:
        kind = sittings.of_assessment("type")
        ability_z = reference.ability_z(sittings.ability)
        effort_noise = np.zeros(len(score))
        effort_noise[kind == EFFORT_CODE] = rng.normal(0, EFFORT_SD, (kind == EFFORT_CODE).sum())
        effort = (
            EFFORT_ABILITY * ability_z
            + EFFORT_ABSENCE * (sittings.absence - REFERENCE_ABSENCE_MEAN)
            + effort_noise
        )
        effort_sd = np.hypot(
            np.hypot(EFFORT_ABILITY, EFFORT_ABSENCE * REFERENCE_ABSENCE_SD), EFFORT_SD
        )
        target_noise = np.zeros(len(score))
        target_noise[kind == TARGET_CODE] = rng.normal(0, TARGET_SD, (kind == TARGET_CODE).sum())
        return cls(
            z=reference.score_z(score),
            ability_z=ability_z,
            progress=reference.progress_z(score - sittings.ability),
            effort=effort / effort_sd,
            target_noise=target_noise,
            sat=sittings.sat,
            assessments=sittings.assessments,
        )

    def subset(self, rows: np.ndarray) -> Marks:
        return _rows_of(self, rows)

    def of_assessment(self, name: str) -> np.ndarray:
        return self.assessments[name][self.sat]

    @property
    def year_number(self) -> np.ndarray:
        return YEAR_NUMBERS[self.of_assessment("year_group")]

    @property
    def percent(self) -> np.ndarray:
        """A percentage mark: the assessment's mean and SD of marks, clipped at 0 and 100."""
        mean, sd = self.of_assessment("mean_percent"), self.of_assessment("sd_percent")
        return np.clip(mean + sd * self.z, 0, 100)

    @property
    def grade(self) -> np.ndarray:
        """A continuous GCSE grade: the final grade the score points to for forecasts, a target
        above the grade ability points to for targets, else the grade the pupil works at now."""
        kind = self.of_assessment("type")
        final = national_grade(self.z)
        working_at = (
            final
            - GRADES_PER_YEAR * np.maximum(11 - self.year_number, 0)
            - GRADES_PER_TERM * (2 - self.of_assessment("term"))
        )
        target = np.maximum(national_grade(self.ability_z) + TARGET_UPLIFT + self.target_noise, 1)
        return np.select([kind == TARGET_CODE, kind == FORECAST_CODE], [target, final], working_at)

    @property
    def ks3_level(self) -> np.ndarray:
        return (
            KS3_LEVEL_YEAR7
            + KS3_LEVELS_PER_YEAR * (self.year_number - 7)
            + KS3_LEVELS_PER_TERM * self.of_assessment("term")
            + KS3_LEVEL_SD * self.z
        )


SCALE_MARKING = {
    "gcse_9_1": lambda marks: gcse_grades(marks.grade, marks.of_assessment("fine")),
    "vocational_pmd": lambda marks: vocational_grades(marks.grade),
    "ks3_band": lambda marks: ks3_bands(marks.ks3_level),
    "effort_1_3": lambda marks: ordinal_grades(marks.effort, EFFORT_CUTS, EFFORT_INDEX[::-1]),
    "on_track": lambda marks: ordinal_grades(marks.progress, ON_TRACK_CUTS, ON_TRACK_INDEX),
    "standardised_score": lambda marks: whole_numbers(100 + 15 * marks.z, *STANDARDISED_RANGE),
    "primary_judgement": lambda marks: ordinal_grades(marks.z, PRIMARY_JUDGEMENT_CUTS,
                                                      PRIMARY_INDEX),
    "percentage": lambda marks: whole_numbers(marks.percent, 0, 100),
    "raw_mark": lambda marks: whole_numbers(
        marks.percent * marks.of_assessment("max_mark") / 100, 0, MAX_MARK),
}  # fmt: skip


def result_texts(rng: np.random.Generator, marks: Marks, absence: np.ndarray) -> np.ndarray:
    """Each result's raw text (a `VOCABULARY` index) on its assessment's scale; "Ab" for some
    absentees from tests."""
    scale = marks.of_assessment("scale")
    text = np.zeros(len(scale), dtype=np.int32)
    for code in np.flatnonzero(np.bincount(scale, minlength=len(SCALE_CODES))):
        at = np.flatnonzero(scale == code)
        text[at] = SCALE_MARKING[SCALE_CODES[code]](marks.subset(at))
    sitting = np.isin(marks.of_assessment("type"), TEST_TYPE_CODES) | (scale == RAW_MARK_CODE)
    absent = sitting & (rng.random(len(scale)) < ABSENT_PER_ABSENCE * absence)
    return np.where(absent, ABSENT_INDEX, text)


RAW_TEXTS = pa.array(VOCABULARY, pa.string())


def _results_table(sittings: Sittings, linked: np.ndarray, text: np.ndarray) -> pa.Table:
    """The results as an arrow table, with their numeric value and percent read from their text."""
    scale = sittings.of_assessment("scale")
    numeric = np.full(len(text), np.nan)
    percent = np.full(len(text), np.nan)
    for code in np.flatnonzero(np.bincount(scale, minlength=len(SCALE_CODES))):
        at = np.flatnonzero(scale == code)
        name = SCALE_CODES[code]
        numeric[at] = numeric_by_vocabulary(name)[text[at]]
        percent[at] = (
            np.round(100 * numeric[at] / sittings.of_assessment("max_mark")[at], 2)
            if name == "raw_mark"
            else percent_by_vocabulary(name)[text[at]]
        )
    assessment_id = sittings.of_assessment("assessment_id")
    return pa.table(
        {
            "result_id": pa.array(assessment_id * RESULT_ID_BASE + sittings.pupil_id, pa.int64()),
            "pupil_id": pa.array(sittings.pupil_id, pa.int32()),
            "assessment_id": pa.array(assessment_id, pa.int32()),
            "result_date": pa.array(sittings.day.astype("datetime64[D]"), pa.date32()),
            "class_id": pa.array(sittings.class_id, pa.int32(), mask=~linked),
            "raw_result": pa.DictionaryArray.from_arrays(pa.array(text, pa.int32()), RAW_TEXTS),
            "numeric_result": pa.array(numeric, pa.float64(), from_pandas=True),
            "result_percent": pa.array(percent, pa.float64(), from_pandas=True),
        }
    )


# Key stage 2.

KS2_TEST_DAY = "05-12"  # the KS2 tests are sat in the second week of May
KS2_FIRST_YEAR = 2015  # the first tests with scaled scores were sat in May 2016
KS2_CANCELLED_YEARS = (2019, 2020)  # no tests in the pandemic
KS2_SUBJECTS = ("reading", "maths", "gps", "writing")
# Per subject: mean and SD of the scaled score before rounding and clipping to 80-120, and the
# shift of the subject score for girls (boys get the opposite), in SD of the subject score.
KS2_SCORE = {"reading": (105.2, 8.0, 0.06), "maths": (104.1, 7.0, -0.05), "gps": (105.0, 8.0, 0.15)}
KS2_WRITING_CUTS = np.array([-0.58, 1.25])  # WTS below, GDS above: 72% EXS or GDS, 13% GDS
KS2_WRITING_GIRLS = 0.12
KS2_SUBJECT_CORRELATION = 0.93  # loading of each subject score on ability
KS2_BELOW_TEST = -2.3  # ability z below which a pupil works below the standard of the tests (B)
KS2_ABSENT_PER_ABSENCE = 0.12  # chance of A per unit of absence rate
KS2_UNABLE, KS2_MISSING, KS2_JUST_ARRIVED_EAL = 0.002, 0.002, 0.01


def ks2_cohort(backbone: Backbone) -> pd.DataFrame:
    """Pupils with a KS2 record: pupil_id, academic_year of the tests, and their spell's ability,
    absence, SEN and EAL (from the year 6 spell, or the earliest spell for imported records)."""
    spells = backbone.enrolments.assign(
        _year_number=lambda frame: YEAR_NUMBERS[_codes(frame.year_group, YEAR_GROUPS)]
    )
    test_day = pd.to_datetime(spells.academic_year.add(1).astype(str) + "-" + KS2_TEST_DAY)
    year_six = spells[
        (spells.year_group == "6") & (spells.start_date <= test_day) & (spells.end_date >= test_day)
    ].drop_duplicates("pupil_id")
    older = spells[(spells._year_number >= 7) & ~spells.pupil_id.isin(year_six.pupil_id)]
    older = older.assign(ks2_year=older.academic_year - (older._year_number - 6))
    older = older.sort_values(
        ["pupil_id", "academic_year", "start_date"], kind="stable"
    ).drop_duplicates("pupil_id")
    rng = random_stream(backbone.settings.seed, "ks2 imported")
    imported = older[rng.random(len(older)) < backbone.settings.ks2_imported_rate]
    cohort = pd.concat([year_six.assign(ks2_year=year_six.academic_year), imported])
    sat = (cohort.ks2_year >= KS2_FIRST_YEAR) & ~cohort.ks2_year.isin(KS2_CANCELLED_YEARS)
    cohort = cohort[sat].merge(backbone.pupils[["pupil_id", "sex"]], on="pupil_id")
    columns = ["pupil_id", "ks2_year", "sex", "_ability", "_absence_rate", "_sen", "_eal"]
    return cohort[columns].sort_values("pupil_id", ignore_index=True)


def ks2_results(backbone: Backbone) -> pd.DataFrame:
    """One row per pupil of `ks2_cohort` and KS2 subject."""
    settings = backbone.settings
    cohort = ks2_cohort(backbone)
    rng = random_stream(settings.seed, "ks2 results")
    n = len(cohort)
    pupils = Ks2Pupils(
        ability=LatentReference.of(settings).ability_z(cohort._ability.to_numpy()),
        girl=np.where(cohort.sex.to_numpy() == "F", 1.0, -1.0),
        absence=cohort._absence_rate.to_numpy(),
        just_arrived=cohort._eal.to_numpy().astype(bool) & (rng.random(n) < KS2_JUST_ARRIVED_EAL),
    )
    frames = []
    for subject in KS2_SUBJECTS:
        score = pupils.subject_score(rng)
        draw = rng.random(n)
        if subject == "writing":
            status, scaled, judgement = pupils.writing(score, draw)
        else:
            status, scaled, judgement = pupils.test(subject, score, draw)
        frames.append(
            pd.DataFrame(
                {
                    "pupil_id": cohort.pupil_id.to_numpy(),
                    "academic_year": cohort.ks2_year.to_numpy(),
                    "subject": subject,
                    "scaled_score": pd.array(scaled, "Int64"),
                    "status": status,
                    "writing_judgement": judgement,
                }
            )
        )
    return pd.concat(frames).sort_values(["pupil_id", "subject"], kind="stable", ignore_index=True)


@dataclass(frozen=True)
class Ks2Pupils:
    """The KS2 cohort's standardised ability, sex (+1 girls, -1 boys), absence rate and whether
    each pupil had just arrived in England (status J)."""

    ability: np.ndarray
    girl: np.ndarray
    absence: np.ndarray
    just_arrived: np.ndarray

    def subject_score(self, rng: np.random.Generator) -> np.ndarray:
        loading = KS2_SUBJECT_CORRELATION
        return loading * self.ability + np.sqrt(1 - loading**2) * rng.normal(0, 1, len(self.girl))

    def test(self, subject: str, score: np.ndarray, draw: np.ndarray) -> Ks2Outcome:
        """Status and scaled score of a test: B for pupils working below the standard of the
        tests, else A (absent, more often for frequent absentees), T, M or J for a few."""
        mean, sd, girls = KS2_SCORE[subject]
        status = np.select(
            [
                self.ability < KS2_BELOW_TEST,
                self.just_arrived,
                draw < KS2_ABSENT_PER_ABSENCE * self.absence,
                draw > 1 - KS2_UNABLE,
                draw > 1 - KS2_UNABLE - KS2_MISSING,
            ],
            ["B", "J", "A", "T", "M"],
            "S",
        )
        scaled = np.clip(np.rint(mean + sd * (score + girls * self.girl)), 80, 120)
        return status, np.where(status == "S", scaled, np.nan), np.full(len(score), None)

    def writing(self, score: np.ndarray, draw: np.ndarray) -> Ks2Outcome:
        """Status and judgement of the writing teacher assessment."""
        status = np.select([self.ability < KS2_BELOW_TEST, draw < KS2_MISSING], ["B", "M"], "S")
        cut = np.searchsorted(KS2_WRITING_CUTS, score + KS2_WRITING_GIRLS * self.girl)
        judgement = np.asarray(PRIMARY_JUDGEMENTS)[cut]
        return status, np.full(len(score), np.nan), np.where(status == "S", judgement, None)


Ks2Outcome = tuple[np.ndarray, np.ndarray, np.ndarray]  # status, scaled score, writing judgement


# Key stage 4.

KS4_EXAM_DAY = "05-15"  # GCSE exams start in mid-May
# Option subjects and their popularity (share of pupils taking them, roughly).
KS4_OPTIONS = {
    "history": 0.45, "geography": 0.42, "french": 0.2, "spanish": 0.2, "computing": 0.13,
    "art": 0.2, "music": 0.06, "drama": 0.08, "pe": 0.12, "re": 0.35, "design_technology": 0.12,
    "business": 0.15,
}  # fmt: skip
EBACC_OPTIONS = ("history", "geography", "french", "spanish", "computing")
VOCATIONAL_SUBJECTS = ("business",)
TRIPLE_SCIENCE = ("biology", "chemistry", "physics")
EBACC_SUBJECTS = ("science", *TRIPLE_SCIENCE, *EBACC_OPTIONS)
TRIPLE_SCIENCE_ABILITY, TRIPLE_SCIENCE_SLOPE = 0.75, 1.6  # logistic in ability z
OPTIONS_MEAN, OPTIONS_PER_SD, OPTIONS_SD = 5.1, 0.5, 0.5
OPTIONS_FSM = -1.8  # disadvantaged pupils enter fewer qualifications
# Grading ease by subject, in SD of the latent score: English and maths, taken by everyone, grade
# about as high as the (more selective) entries of other subjects, as nationally.
KS4_SUBJECT_EASE = {"english": 0.25, "maths": 0.25}
EBACC_PULL = 0.6  # more able pupils lean to EBacc options (on the log-odds of choosing them)
OPTION_CLASS_PULL = 10.0  # a pupil's own option classes come first
SPECIALIST_PHASES = ("special", "alternative_provision")
# Cuts on the standardised latent score of an entry between U|1, 1|2 ... 8|9: the quantiles of the
# entries of the niot preset (170 schools) at Ofqual's 2024 shares (GCSE_SHARES).
KS4_GRADE_CUTS = np.array([-1.992, -1.359, -0.893, -0.433, 0.004, 0.432, 0.855, 1.236, 1.702])
# Vocational grades as (upper bound on the national grade, A8 points, GCSE-equivalent grade).
VOCATIONAL_POINTS = (
    (0.5, 0.0, "U"), (1.5, 1.25, "1"), (2.25, 2.0, "2"), (3.25, 2.75, "3"), (4.75, 4.0, "4"),
    (6.25, 5.5, "5"), (7.75, 7.0, "7"), (np.inf, 8.5, "8"),
)  # fmt: skip


def ks4_cohort(backbone: Backbone) -> pd.DataFrame:
    """Year 11 spells at a trust school on the first day of the exams, one per pupil."""
    spells = backbone.enrolments
    exam_day = pd.to_datetime(spells.academic_year.add(1).astype(str) + "-" + KS4_EXAM_DAY)
    year_11 = spells[
        (spells.year_group == "11")
        & (spells.start_date <= exam_day)
        & (spells.end_date >= exam_day)
    ]
    return year_11.drop_duplicates("pupil_id").sort_values("pupil_id", ignore_index=True)


def ks4_results(
    backbone: Backbone, classes: pd.DataFrame, memberships: pd.DataFrame
) -> pd.DataFrame:
    """One row per year 11 pupil and qualification, with Attainment 8 slots."""
    settings = backbone.settings
    cohort = ks4_cohort(backbone)
    rng = random_stream(settings.seed, "ks4 results")
    reference = LatentReference.of(settings)
    year_11_classes = _year_11_classes(cohort, classes, memberships)
    entries = ks4_entries(
        rng, cohort, reference.ability_z(cohort._ability.to_numpy()), year_11_classes
    )
    row = entries.row.to_numpy()
    class_shift = (
        entries[["pupil_id", "class_subject"]]
        .merge(year_11_classes, how="left", on=["pupil_id", "class_subject"])
        ._shift.fillna(0)
        .to_numpy()
    )
    school_effect = backbone.schools.set_index("school_id")._effect
    score = (
        cohort._ability.to_numpy()[row]
        + school_effect.loc[cohort.school_id].to_numpy()[row] + class_shift
        + settings.effects.absence_per_10_points * cohort._absence_rate.to_numpy()[row] * 10
        + rng.normal(0, settings.effects.noise_sd, len(entries))
    )  # fmt: skip
    z = reference.score_z(score) + entries.subject.map(KS4_SUBJECT_EASE).fillna(0).to_numpy()
    vocational = entries.subject.isin(VOCATIONAL_SUBJECTS).to_numpy()
    grade, points = _gcse_grades(z)
    vocational_grade, vocational_points = _vocational_grades(national_grade(z))
    results = pd.DataFrame(
        {
            "pupil_id": entries.pupil_id.to_numpy(),
            "academic_year": cohort.academic_year.to_numpy()[row],
            "subject": entries.subject,
            "qualification": np.where(vocational, "VTQ", "GCSE"),
            "grade": np.where(vocational, vocational_grade, grade),
            "points": np.where(vocational, vocational_points, points),
        }
    )
    results["attainment8_slot"] = attainment8_slots(results)
    return results


def _year_11_classes(
    cohort: pd.DataFrame, classes: pd.DataFrame, memberships: pd.DataFrame
) -> pd.DataFrame:
    """Each cohort pupil's year 11 class per subject (the one they were in last), with its
    grouping and shift."""
    year_11 = classes[classes.year_group == "11"][
        ["class_id", "academic_year", "subject", "grouping", "_shift"]
    ]
    spells = (
        memberships[memberships.class_id.isin(year_11.class_id)][
            ["pupil_id", "class_id", "end_date"]
        ]
        .merge(year_11, on="class_id")
        .merge(cohort[["pupil_id", "academic_year"]], on=["pupil_id", "academic_year"])
    )
    last = spells.sort_values(
        ["pupil_id", "subject", "end_date", "class_id"], kind="stable"
    ).drop_duplicates(["pupil_id", "subject"], keep="last")
    return last.rename(columns={"subject": "class_subject"})[
        ["pupil_id", "class_subject", "grouping", "_shift"]
    ]


def ks4_entries(
    rng: np.random.Generator,
    cohort: pd.DataFrame,
    ability_z: np.ndarray,
    year_11_classes: pd.DataFrame,
) -> pd.DataFrame:
    """(row of the cohort, pupil_id, subject, class_subject) of every qualification entered."""
    n = len(cohort)
    specialist = cohort._phase.isin(SPECIALIST_PHASES).to_numpy()
    triple = rng.random(n) < 1 / (
        1 + np.exp(-TRIPLE_SCIENCE_SLOPE * (ability_z - TRIPLE_SCIENCE_ABILITY))
    )
    triple &= ~specialist
    options = np.clip(
        np.rint(
            OPTIONS_MEAN
            + OPTIONS_PER_SD * ability_z
            + OPTIONS_FSM * cohort._fsm.to_numpy()
            + rng.normal(0, OPTIONS_SD, n)
        ),
        0,
        len(KS4_OPTIONS),
    )
    options = np.where(specialist, np.minimum(options, 1), options)
    chosen = _chosen_options(rng, cohort, ability_z, options, year_11_classes)
    rows = [np.arange(n), np.arange(n), np.flatnonzero(~triple)]
    subjects = [np.full(n, "english"), np.full(n, "maths"), np.full((~triple).sum(), "science")]
    for science in TRIPLE_SCIENCE:
        rows.append(np.flatnonzero(triple))
        subjects.append(np.full(triple.sum(), science))
    option_rows, option_columns = np.nonzero(chosen)
    rows.append(option_rows)
    subjects.append(np.asarray(list(KS4_OPTIONS))[option_columns])
    entries = pd.DataFrame({"row": np.concatenate(rows), "subject": np.concatenate(subjects)})
    entries["pupil_id"] = cohort.pupil_id.to_numpy()[entries.row]
    has_class = (
        entries[["pupil_id", "subject"]]
        .merge(
            year_11_classes.rename(columns={"class_subject": "subject"}),
            how="left",
            on=["pupil_id", "subject"],
        )
        .grouping.notna()
        .to_numpy()
    )
    entries["class_subject"] = np.where(
        entries.subject.isin(TRIPLE_SCIENCE) & ~has_class, "science", entries.subject
    )
    return entries.sort_values(["pupil_id", "subject"], ignore_index=True)


def _chosen_options(
    rng: np.random.Generator,
    cohort: pd.DataFrame,
    ability_z: np.ndarray,
    options: np.ndarray,
    year_11_classes: pd.DataFrame,
) -> np.ndarray:
    """Pupils x option subjects: True where chosen. Weighted sampling without replacement (the
    Gumbel top-k trick), a pupil's own option classes first."""
    subjects = list(KS4_OPTIONS)
    weights = np.log(np.array(list(KS4_OPTIONS.values())))
    ebacc = np.isin(subjects, EBACC_OPTIONS)
    key = (
        weights
        + EBACC_PULL * np.outer(ability_z, ebacc)
        + rng.gumbel(size=(len(cohort), len(subjects)))
    )
    taken = year_11_classes[
        (year_11_classes.grouping == "option") & year_11_classes.class_subject.isin(subjects)
    ]
    row = pd.Index(cohort.pupil_id).get_indexer(taken.pupil_id)
    column = pd.Index(subjects).get_indexer(taken.class_subject)
    key[row, column] += OPTION_CLASS_PULL
    rank = (-key).argsort(axis=1).argsort(axis=1)
    return rank < options[:, None]


def _gcse_grades(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    grade = np.searchsorted(KS4_GRADE_CUTS, z, side="right")
    return np.where(grade == 0, "U", grade.astype(str)), grade.astype(float)


def _vocational_grades(grade: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    bounds = np.array([bound for bound, _, _ in VOCATIONAL_POINTS])
    level = np.minimum(np.searchsorted(bounds, grade, side="right"), len(bounds) - 1)
    return (
        np.array([code for _, _, code in VOCATIONAL_POINTS])[level],
        np.array([points for _, points, _ in VOCATIONAL_POINTS])[level],
    )


def attainment8_slots(results: pd.DataFrame) -> np.ndarray:
    """Attainment 8 slot of each result: English and maths, the best three EBacc results, then the
    best three of the rest (None where a result does not count)."""
    order = results.assign(_ebacc=results.subject.isin(EBACC_SUBJECTS)).sort_values(
        ["pupil_id", "points", "subject"], ascending=[True, False, True]
    )
    slot = pd.Series(None, index=order.index, dtype=object)
    slot[order.subject == "english"] = "english"
    slot[order.subject == "maths"] = "maths"
    ebacc = order[order._ebacc]
    slot[ebacc.index[ebacc.groupby("pupil_id").cumcount().to_numpy() < 3]] = "ebacc"
    rest = order[slot.isna()]
    slot[rest.index[rest.groupby("pupil_id").cumcount().to_numpy() < 3]] = "open"
    return slot.reindex(results.index).to_numpy()
