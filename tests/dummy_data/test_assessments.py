"""Assessments, their results and the key stage 2 and 4 results: integrity, scales and calibration.

The families are generated against a stand-in timetable (`stand_in_timetable`) built from the
workforce and timetable contracts alone (frames of exactly their shapes), and once against the real
dummy_data.workforce and dummy_data.timetable.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from dummy_data.assessments import (
    ASSESSMENT_TYPES,
    KS4_EXAM_DAY,
    SUBJECTS,
    TERMS,
    YEAR_GROUPS,
    LatentReference,
    generate_assessments,
)
from dummy_data.backbone import Backbone, random_stream
from dummy_data.build_backbone import build_backbone
from dummy_data.scales import SCALES, parse_result
from dummy_data.settings import GeneratorSettings
from dummy_data.writers import arrow_schema, to_arrow
from schema import load_schema
from schema.constraints import constraint_checks

FAMILY_TABLES = ("assessments", "assessment_results", "ks2_results", "ks4_results")
# Subjects each year group is taught in the stand-in timetable, with the share of pupils taking it.
STAND_IN_CURRICULUM = {
    "primary_class": {str(g): 1.0 for g in range(1, 7)} | {"R": 1.0},
    "form": {str(g): 1.0 for g in range(7, 14)},
    "english": {str(g): 1.0 for g in range(7, 12)} | {"12": 0.3, "13": 0.3},
    "maths": {str(g): 1.0 for g in range(7, 12)} | {"12": 0.4, "13": 0.4},
    "science": {str(g): 1.0 for g in range(7, 12)},
    "history": {"7": 1.0, "8": 1.0, "9": 1.0, "10": 0.5, "11": 0.5, "12": 0.3, "13": 0.3},
    "geography": {"7": 1.0, "8": 1.0, "9": 1.0, "10": 0.45, "11": 0.45},
    "french": {"7": 1.0, "8": 1.0, "9": 1.0, "10": 0.3, "11": 0.3},
    "art": {"7": 1.0, "8": 1.0, "9": 1.0},
    "pe": {str(g): 1.0 for g in range(7, 12)},
    "business": {"10": 0.2, "11": 0.2},
    "computing": {"10": 0.2, "11": 0.2},
}
SET_SUBJECTS = ("maths", "science")
CLASS_SIZE = 26


@dataclass(frozen=True)
class StandInWorkforce:
    teacher_effects: pd.DataFrame


@dataclass(frozen=True)
class StandInTimetable:
    classes: pd.DataFrame
    class_memberships: pd.DataFrame
    class_teachers: pd.DataFrame


def stand_in_timetable(backbone: Backbone) -> tuple[StandInWorkforce, StandInTimetable]:
    """Classes of about 26 for every enrolment spell: sets by ability in secondary maths and
    science, options taken by some pupils, whole-curriculum classes in primary, forms. A fifth of
    classes are shared by two teachers; teachers' effects are N(0, 0.2) in each year."""
    seed = backbone.settings.seed
    members = pd.concat(
        [
            subject_members(seed, backbone.enrolments, subject, take_up)
            for subject, take_up in STAND_IN_CURRICULUM.items()
        ]
    )
    keys = ["school_id", "academic_year", "subject", "year_group", "class_number"]
    classes = members.drop_duplicates(keys).sort_values(keys, ignore_index=True)
    classes["class_id"] = np.arange(1, len(classes) + 1)
    classes["class_code"] = classes.year_group + classes.subject.str[:2] + classes.class_number
    setted = classes.grouping == "set"
    classes["set_rank"] = classes.class_number.astype(int).where(setted).astype("Int64")
    classes["number_of_sets"] = classes.class_count.where(setted).astype("Int64")
    rng = random_stream(seed, "stand-in class effects")
    classes["_class_effect"] = rng.normal(0, 0.08, len(classes))
    classes["_afternoon_share"] = np.where(
        setted | (classes.grouping == "mixed"), rng.random(len(classes)), 0.0
    )
    memberships = members.merge(classes[[*keys, "class_id"]], on=keys)
    memberships = memberships[["pupil_id", "class_id", "start_date", "end_date"]]
    class_columns = ["class_id", "school_id", "academic_year", "subject", "year_group",
                     "class_code", "grouping", "set_rank", "number_of_sets", "_class_effect",
                     "_afternoon_share"]  # fmt: skip
    teachers, effects = stand_in_teachers(seed, classes)
    timetable = StandInTimetable(classes[class_columns], memberships, teachers)
    return StandInWorkforce(effects), timetable


def subject_members(seed: int, spells: pd.DataFrame, subject: str, take_up: dict) -> pd.DataFrame:
    """The spells of pupils taking a subject, numbered into classes of about `CLASS_SIZE` in each
    school, year and year group: by ability (plus noise) for sets, at random otherwise."""
    rng = random_stream(seed, "stand-in classes", subject)
    spells = spells[spells.year_group.isin(list(take_up))]
    spells = spells[rng.random(len(spells)) < spells.year_group.map(take_up).to_numpy()]
    cohort = [spells.school_id, spells.academic_year, spells.year_group]
    size = spells.groupby(cohort).pupil_id.transform("size")
    count = np.maximum(np.rint(size / CLASS_SIZE), 1).astype(int)
    optional = spells.year_group.map(take_up).to_numpy() < 1
    grouping = (
        "form" if subject == "form" else "set" if subject in SET_SUBJECTS else None
    ) or np.where(optional, "option", "mixed")
    noise = rng.normal(0, 0.5, len(spells))
    setted = subject in SET_SUBJECTS
    order = spells._ability + noise if setted else pd.Series(noise, spells.index)
    rank = order.groupby(cohort).rank(ascending=False, method="first") - 1
    return spells.assign(
        subject=subject,
        grouping=grouping,
        class_number=(rank * count // size + 1).astype(int).astype(str),
        class_count=count,
    )


def stand_in_teachers(seed: int, classes: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Four teachers per school department, each class taught by one of them (a fifth shared
    60/40 with a second), and their effects each year."""
    rng = random_stream(seed, "stand-in teachers")
    n = len(classes)
    department = classes.groupby(["school_id", "subject"]).ngroup().to_numpy()
    main = department * 100 + (np.arange(n) % 4) + 1
    shared = rng.random(n) < 0.2
    teachers = pd.concat(
        [
            pd.DataFrame(
                {
                    "teacher_id": main,
                    "class_id": classes.class_id,
                    "role": np.where(shared, "shared", "main"),
                    "share_percent": np.where(shared, 60.0, 100.0),
                }
            ),
            pd.DataFrame(
                {
                    "teacher_id": main[shared] + 50,
                    "class_id": classes.class_id[shared],
                    "role": "shared",
                    "share_percent": 40.0,
                }
            ),
        ],
        ignore_index=True,
    )
    years = np.sort(classes.academic_year.unique())
    ids = np.unique(teachers.teacher_id)
    effects = pd.DataFrame(
        {
            "teacher_id": np.repeat(ids, len(years)),
            "academic_year": np.tile(years, len(ids)),
            "effect": rng.normal(0, 0.2, len(ids) * len(years)),
        }
    )
    return teachers, effects


@dataclass(frozen=True)
class Queries:
    """SQL over a family's tables."""

    connection: duckdb.DuckDBPyConnection

    def value(self, sql: str):
        return self.connection.execute(sql).fetchone()[0]

    def zero(self, sql: str) -> bool:
        return self.value(sql) == 0

    def rows(self, sql: str) -> list[tuple]:
        return self.connection.execute(sql).fetchall()

    def frame(self, sql: str) -> pd.DataFrame:
        return self.connection.execute(sql).df()


@dataclass(frozen=True)
class Family:
    """A generated trust's assessment family with what it was generated from."""

    backbone: Backbone
    workforce: StandInWorkforce
    timetable: StandInTimetable
    tables: dict[str, pa.Table]

    def database(self) -> Queries:
        """The family's tables, their references and latent frames in an in-memory DuckDB."""
        db = duckdb.connect()
        schema = load_schema()
        inputs = {
            "pupils": self.backbone.pupils,
            "schools": self.backbone.schools,
            "classes": self.timetable.classes,
        }
        for name, frame in {**inputs, **self.tables}.items():
            db.register(name, to_arrow(frame, arrow_schema(schema, name), keep_dictionaries=False))
        db.register("enrolments", self.backbone.enrolments)
        db.register("class_memberships", self.timetable.class_memberships)
        db.register("class_teachers", self.timetable.class_teachers)
        db.register("teacher_effects", self.workforce.teacher_effects)
        db.register(
            "assessment_latent",
            self.tables["assessments"].select(
                ["assessment_id", "_ceiling_floor", "_unlinked_share"]
            ),
        )
        return Queries(db)


def generate_family(backbone, workforce, timetable) -> Family:
    batches: dict[str, list] = {}
    for table, batch in generate_assessments(backbone, workforce, timetable):
        batches.setdefault(table, []).append(
            batch
            if isinstance(batch, pa.Table)
            else pa.Table.from_pandas(batch, preserve_index=False)
        )
    tables = {name: pa.concat_tables(parts) for name, parts in batches.items()}
    return Family(backbone, workforce, timetable, tables)


@pytest.fixture(scope="module")
def small() -> Family:
    backbone = build_backbone(GeneratorSettings(seed=5, years=2))
    return generate_family(backbone, *stand_in_timetable(backbone))


@pytest.fixture(scope="module")
def moderate() -> Family:
    """60 schools at a fifth of the usual size: enough secondaries (about 15) that their planted
    school effects mostly cancel out, as they do nationally."""
    backbone = build_backbone(GeneratorSettings(seed=11, schools=60, pupil_scale=0.2, years=3))
    return generate_family(backbone, *stand_in_timetable(backbone))


@pytest.fixture(scope="module")
def db(small):
    queries = small.database()
    yield queries
    queries.connection.close()


# Schema and integrity.


@pytest.mark.parametrize(
    ("codes", "codelist"),
    [
        (YEAR_GROUPS, "year_group"),
        (SUBJECTS, "subject"),
        (TERMS, "term"),
        (ASSESSMENT_TYPES, "assessment_type"),
    ],
)
def test_code_tuples_follow_their_codelists(codes, codelist):
    assert codes == tuple(code.code for code in load_schema().codelists[codelist].codes)


def test_every_table_is_generated(small):
    assert set(small.tables) == set(FAMILY_TABLES)
    assert all(small.tables[name].num_rows > 0 for name in FAMILY_TABLES)


@pytest.mark.parametrize(
    "check",
    [check for check in constraint_checks(load_schema(), "duckdb") if check.table in FAMILY_TABLES],
    ids=lambda check: f"{check.table}:{check.rule}",
)
def test_schema_constraint_holds(db, check):
    assert db.value(check.sql) == 0


def test_results_with_a_class_come_from_its_members_on_the_day(db):
    assert db.zero("""
        SELECT COUNT(*) FROM assessment_results r
        WHERE r.class_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM class_memberships m
            WHERE m.pupil_id = r.pupil_id AND m.class_id = r.class_id
              AND r.result_date BETWEEN m.start_date AND m.end_date)
    """)


def test_every_result_is_of_a_pupil_enrolled_in_the_assessments_school_and_year_group(db):
    assert db.zero("""
        SELECT COUNT(*) FROM assessment_results r
        JOIN assessments a USING (assessment_id)
        LEFT JOIN classes c USING (class_id)
        WHERE NOT EXISTS (
            SELECT 1 FROM enrolments e JOIN schools s USING (school_id)
            WHERE e.pupil_id = r.pupil_id AND e.year_group = a.year_group
              AND e.academic_year = a.academic_year
              AND r.result_date BETWEEN e.start_date AND e.end_date
              AND s.trust_id = a.trust_id
              AND e.school_id = COALESCE(a.school_id, e.school_id)
              AND e.school_id = COALESCE(c.school_id, e.school_id))
    """)


def test_results_are_dated_inside_the_window_and_assessments_inside_their_term(db):
    assert db.zero("""
        SELECT COUNT(*) FROM assessment_results r JOIN assessments a USING (assessment_id)
        WHERE r.result_date NOT BETWEEN a.window_start AND a.window_end
    """)
    assert db.zero("""
        SELECT COUNT(*) FROM assessments
        WHERE CASE term WHEN 'autumn' THEN month(window_start) NOT BETWEEN 9 AND 12
                        WHEN 'spring' THEN month(window_start) NOT BETWEEN 1 AND 4
                        ELSE month(window_start) NOT BETWEEN 4 AND 7 END
           OR window_end > window_start + INTERVAL 21 DAY
    """)


def test_results_of_a_class_share_one_day(db):
    assert db.zero("""
        SELECT COUNT(*) FROM (
            SELECT assessment_id, class_id FROM assessment_results WHERE class_id IS NOT NULL
            GROUP BY ALL HAVING COUNT(DISTINCT result_date) > 1)
    """)


def test_numeric_result_and_percent_read_from_the_raw_text(db):
    readings = db.rows("""
        SELECT DISTINCT a.scale, r.raw_result, a.max_mark, r.numeric_result, r.result_percent
        FROM assessment_results r JOIN assessments a USING (assessment_id)
    """)
    for scale, raw, max_mark, numeric, percent in readings:
        expected = parse_result(scale, raw, max_mark)
        assert (numeric, percent) == pytest.approx(expected, abs=0.01), (scale, raw)


def test_common_assessments_are_taken_across_the_trust(db):
    schools_per_common = db.rows("""
        SELECT a.assessment_id, COUNT(DISTINCT c.school_id) FROM assessments a
        JOIN assessment_results r USING (assessment_id) JOIN classes c USING (class_id)
        WHERE a.is_common GROUP BY ALL
    """)
    assert schools_per_common
    assert max(schools for _, schools in schools_per_common) >= 2
    assert db.zero("""
        SELECT COUNT(*) FROM assessments WHERE is_common <> (school_id IS NULL)
    """)


def test_results_without_a_class_and_missing_results_at_about_their_rates(db, small):
    settings = small.backbone.settings
    unlinked = db.value("SELECT AVG((class_id IS NULL)::INT) FROM assessment_results")
    assert unlinked == pytest.approx(settings.result_without_class_rate, abs=0.04)
    # Missing: members of a class on the day it sat an assessment with no result for it.
    missing = db.value("""
        WITH days AS (SELECT DISTINCT assessment_id, class_id, result_date
                      FROM assessment_results WHERE class_id IS NOT NULL)
        SELECT AVG((r.result_id IS NULL)::INT) FROM days d
        JOIN class_memberships m
          ON m.class_id = d.class_id AND d.result_date BETWEEN m.start_date AND m.end_date
        LEFT JOIN assessment_results r
          ON r.assessment_id = d.assessment_id AND r.pupil_id = m.pupil_id
    """)
    assert missing == pytest.approx(settings.missing_result_rate, abs=0.015)


def test_some_assessments_have_ceiling_or_floor_effects(db):
    piled = db.rows("""
        SELECT l._ceiling_floor,
               AVG(CASE WHEN l._ceiling_floor = 'ceiling' THEN (r.result_percent = 100)::INT
                        ELSE (r.result_percent = 0)::INT END) AS at_the_end
        FROM assessment_results r JOIN assessment_latent l USING (assessment_id)
        WHERE l._ceiling_floor <> '' GROUP BY ALL
    """)
    assert piled
    assert all(share > 0.2 for _, share in piled)


def test_same_settings_give_the_same_batches():
    backbone = build_backbone(GeneratorSettings(seed=2, schools=3, years=1))
    workforce, timetable = stand_in_timetable(backbone)
    first = list(generate_assessments(backbone, workforce, timetable))
    again = list(generate_assessments(backbone, workforce, timetable))
    assert [table for table, _ in first] == [table for table, _ in again]
    for (_, one), (_, other) in zip(first, again, strict=True):
        if isinstance(one, pd.DataFrame):
            pd.testing.assert_frame_equal(one, other)
        else:
            assert one.equals(other)


# The planted truth.


def class_residuals(family: Family) -> pd.DataFrame:
    """Per single-teacher class: its teacher's planted effect that year and the mean residual of its
    results after ability and absence. Results are standardised within their assessment, so only
    assessments sat by three classes or more count."""
    db = family.database()
    results = db.frame("""
        SELECT r.class_id, e._ability AS ability, e._absence_rate AS absence,
               (r.numeric_result - AVG(r.numeric_result) OVER w)
                 / NULLIF(STDDEV(r.numeric_result) OVER w, 0) AS score
        FROM assessment_results r JOIN assessments a USING (assessment_id)
        JOIN classes c USING (class_id)
        JOIN enrolments e ON e.pupil_id = r.pupil_id AND e.school_id = c.school_id
             AND r.result_date BETWEEN e.start_date AND e.end_date
        WHERE a.assessment_type IN ('termly', 'mock') AND a.scale <> 'on_track'
          AND r.numeric_result IS NOT NULL
          AND r.assessment_id IN (SELECT assessment_id FROM assessment_results GROUP BY 1
                                  HAVING COUNT(DISTINCT class_id) >= 3)
        WINDOW w AS (PARTITION BY r.assessment_id)
    """).dropna()
    design = np.column_stack([np.ones(len(results)), results.ability, results.absence])
    coefficients, *_ = np.linalg.lstsq(design, results.score, rcond=None)
    results["residual"] = results.score - design @ coefficients
    single = db.frame("""
        SELECT t.class_id, e.effect FROM class_teachers t JOIN classes c USING (class_id)
        JOIN teacher_effects e ON e.teacher_id = t.teacher_id AND e.academic_year = c.academic_year
        WHERE t.class_id IN (SELECT class_id FROM class_teachers GROUP BY 1 HAVING COUNT(*) = 1)
    """)
    residual = results.groupby("class_id").residual.mean().rename("residual")
    return single.join(residual, on="class_id", how="inner")


def test_planted_teacher_effects_are_recoverable_from_class_residuals(moderate):
    classes = class_residuals(moderate)
    assert len(classes) > 300
    assert classes.effect.corr(classes.residual) > 0.5


# Calibration at a moderate size (about 30 schools), against the national figures.


@pytest.fixture(scope="module")
def moderate_db(moderate):
    queries = moderate.database()
    yield queries
    queries.connection.close()


def test_ks2_is_calibrated_to_the_national_2024_results(moderate_db):
    means = dict(
        moderate_db.rows("""
        SELECT subject, AVG(scaled_score) FROM ks2_results
        WHERE subject IN ('reading', 'maths') GROUP BY 1
    """)
    )
    assert means["reading"] == pytest.approx(105, abs=1)
    assert means["maths"] == pytest.approx(104, abs=1)
    shares = dict(
        moderate_db.rows("""
        WITH pupil AS (
            SELECT pupil_id,
                   BOOL_AND(COALESCE(CASE subject
                       WHEN 'writing' THEN writing_judgement IN ('EXS', 'GDS')
                       WHEN 'gps' THEN TRUE ELSE scaled_score >= 100 END, FALSE)) AS expected,
                   BOOL_AND(COALESCE(CASE subject
                       WHEN 'writing' THEN writing_judgement = 'GDS'
                       WHEN 'gps' THEN TRUE ELSE scaled_score >= 110 END, FALSE)) AS higher
            FROM ks2_results GROUP BY 1)
        SELECT 'all', AVG(expected::INT) FROM pupil
        UNION ALL SELECT 'higher', AVG(higher::INT) FROM pupil
        UNION ALL SELECT sex, AVG(expected::INT) FROM pupil JOIN pupils USING (pupil_id)
            GROUP BY sex
    """)
    )
    assert shares["all"] == pytest.approx(0.61, abs=0.04)
    assert shares["higher"] == pytest.approx(0.08, abs=0.04)
    assert shares["F"] == pytest.approx(0.64, abs=0.04)
    assert shares["M"] == pytest.approx(0.57, abs=0.04)
    assert moderate_db.zero("""
        SELECT COUNT(*) FROM ks2_results
        WHERE (status = 'S') <> (COALESCE(scaled_score, 0) > 0 OR writing_judgement IS NOT NULL)
    """)


def test_ks2_records_follow_the_rule(moderate, moderate_db):
    settings = moderate.backbone.settings
    # Every pupil in year 6 at a trust school in the test week has a record for that year.
    assert moderate_db.zero("""
        SELECT COUNT(*) FROM enrolments e
        WHERE e.year_group = '6'
          AND make_date(e.academic_year + 1, 5, 12) BETWEEN e.start_date AND e.end_date
          AND NOT EXISTS (SELECT 1 FROM ks2_results k WHERE k.pupil_id = e.pupil_id
                          AND k.academic_year = e.academic_year)
    """)
    imported = moderate_db.value("""
        WITH older AS (
            SELECT pupil_id, MIN(academic_year - (year_group::INT - 6)) AS ks2_year
            FROM enrolments WHERE year_group NOT IN ('N1', 'N2', 'R') AND year_group::INT >= 7
            GROUP BY 1)
        SELECT AVG((pupil_id IN (SELECT pupil_id FROM ks2_results))::INT) FROM older
        WHERE ks2_year >= 2015 AND ks2_year NOT IN (2019, 2020)
    """)
    assert imported == pytest.approx(settings.ks2_imported_rate, abs=0.05)
    assert moderate_db.zero("""
        SELECT COUNT(*) FROM ks2_results WHERE academic_year IN (2019, 2020)
    """)


def test_every_scale_is_used_and_texts_look_like_the_pilots(moderate_db):
    scales = dict(
        moderate_db.rows("""
        SELECT a.scale, LIST(DISTINCT r.raw_result) FROM assessment_results r
        JOIN assessments a USING (assessment_id) GROUP BY a.scale
    """)
    )
    assert set(scales) == set(SCALES)
    assert {"6+", "5-", "U", "9"} <= set(scales["gcse_9_1"])
    assert {"P", "M", "D", "D*"} <= set(scales["vocational_pmd"])
    assert {"8A+", "7B", "5C-"} <= set(scales["ks3_band"])
    assert {"--", "-", "=", "+", "++"} == set(scales["on_track"])
    assert {"1", "2", "3"} == set(scales["effort_1_3"])
    assert {"WTS", "EXS", "GDS"} == set(scales["primary_judgement"])
    assert {"69", "141", "Ab"} <= set(scales["standardised_score"])


def ks4_pupils(db) -> pd.DataFrame:
    return db.frame(f"""
        WITH cohort AS (
            SELECT DISTINCT pupil_id, _fsm AS fsm FROM enrolments
            WHERE year_group = '11'
              AND make_date(academic_year + 1, {int(KS4_EXAM_DAY[:2])}, {int(KS4_EXAM_DAY[3:])})
                  BETWEEN start_date AND end_date)
        SELECT pupil_id, ANY_VALUE(fsm) AS fsm,
               SUM(points * CASE WHEN attainment8_slot IN ('english', 'maths') THEN 2 ELSE 1 END)
                   FILTER (WHERE attainment8_slot IS NOT NULL) AS attainment8,
               BOOL_AND(points >= 4) FILTER (WHERE subject IN ('english', 'maths')) AS em_4,
               COUNT(*) FILTER (WHERE qualification = 'GCSE') AS gcses
        FROM ks4_results JOIN cohort USING (pupil_id) GROUP BY pupil_id
    """)


def test_ks4_grades_follow_ofqual_2024(moderate_db):
    shares = dict(
        moderate_db.rows("""
        SELECT grade, COUNT(*) / SUM(COUNT(*)) OVER () FROM ks4_results
        WHERE qualification = 'GCSE' GROUP BY grade
    """)
    )
    ofqual = {
        "9": 0.05,
        "8": 0.075,
        "7": 0.10,
        "6": 0.15,
        "5": 0.17,
        "4": 0.16,
        "3": 0.13,
        "2": 0.085,
        "1": 0.055,
        "U": 0.025,
    }
    for grade, share in ofqual.items():
        assert shares[grade] == pytest.approx(share, abs=0.02), grade


def test_ks4_attainment_8_is_calibrated(moderate_db):
    pupils = ks4_pupils(moderate_db)
    assert pupils.gcses.mean() == pytest.approx(7.8, abs=0.3)
    assert pupils.attainment8.mean() == pytest.approx(46.2, abs=3)
    gap = pupils[~pupils.fsm].attainment8.mean() - pupils[pupils.fsm].attainment8.mean()
    assert 10 <= gap <= 20
    assert pupils.em_4.mean() == pytest.approx(0.648, abs=0.05)


def test_attainment_8_slots_are_filled_by_the_rules(moderate_db):
    assert moderate_db.zero("""
        SELECT COUNT(*) FROM (
            SELECT pupil_id, attainment8_slot, COUNT(*) AS n FROM ks4_results
            WHERE attainment8_slot IS NOT NULL GROUP BY ALL)
        WHERE n > CASE WHEN attainment8_slot IN ('english', 'maths') THEN 1 ELSE 3 END
    """)
    assert moderate_db.zero("""
        SELECT COUNT(*) FROM ks4_results unslotted JOIN ks4_results open
          ON open.pupil_id = unslotted.pupil_id AND open.attainment8_slot = 'open'
        WHERE unslotted.attainment8_slot IS NULL AND unslotted.points > open.points
    """)


def test_reference_standardises_a_national_pupil_body():
    reference = LatentReference.of(GeneratorSettings())
    assert reference.ability_mean == pytest.approx(-0.23, abs=0.02)
    assert 1.2 < reference.score_sd < 1.35


# The real workforce and timetable.


def test_with_the_real_workforce_and_timetable():
    workforce_module = pytest.importorskip("dummy_data.workforce")
    timetable_module = pytest.importorskip("dummy_data.timetable")
    backbone = build_backbone(GeneratorSettings(seed=9, years=2))
    workforce = workforce_module.build_workforce(backbone)
    timetable = timetable_module.build_timetable(backbone, workforce)
    family = generate_family(backbone, workforce, timetable)
    db = family.database()
    assert db.zero("""
        SELECT COUNT(*) FROM assessment_results r
        WHERE r.class_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM class_memberships m
            WHERE m.pupil_id = r.pupil_id AND m.class_id = r.class_id
              AND r.result_date BETWEEN m.start_date AND m.end_date)
    """)
    results_per_spell = family.tables["assessment_results"].num_rows / len(backbone.enrolments)
    assert 15 < results_per_spell < 50
    for check in constraint_checks(load_schema(), "duckdb"):
        if check.table in FAMILY_TABLES:
            assert db.value(check.sql) == 0, check.rule
