"""Periods, classes, memberships, class teachers and lessons: schema and cross-table rules of a
school timetable, and calibration to the national figures and the settings."""

from datetime import date

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from dummy_data.build_backbone import build_backbone
from dummy_data.settings import GeneratorSettings, PhaseMix
from dummy_data.timetable import (
    build_timetable,
    cycle_days,
    generate_lessons,
    order_by_set_correlation,
    set_sizes,
)
from dummy_data.workforce import build_workforce
from dummy_data.writers import arrow_schema, to_arrow
from schema import load_schema
from schema.constraints import constraint_checks

SCHEMA = load_schema()
EVERY_PHASE = {
    "primary": PhaseMix(share=0.5, mean_pupils=380),
    "secondary": PhaseMix(share=0.25, mean_pupils=1200),
    "all_through": PhaseMix(share=0.09, mean_pupils=1500),
    "special": PhaseMix(share=0.08, mean_pupils=130),
    "alternative_provision": PhaseMix(share=0.08, mean_pupils=60),
}
SETTINGS = GeneratorSettings(seed=9, trusts=2, schools=12, years=2, phases=EVERY_PHASE)
MY_TABLES = ("periods", "classes", "class_memberships", "class_teachers", "lessons")


@pytest.fixture(scope="module")
def trust():
    backbone = build_backbone(SETTINGS)
    workforce = build_workforce(backbone)
    timetable = build_timetable(backbone, workforce)
    lessons = [batch for _, batch in generate_lessons(backbone, workforce, timetable)]
    return backbone, workforce, timetable, lessons


@pytest.fixture(scope="module")
def db(trust):
    backbone, workforce, timetable, lessons = trust
    connection = duckdb.connect()
    tables = {
        "schools": backbone.schools,
        "pupils": backbone.pupils,
        "enrolments": backbone.enrolments,
        "teachers": workforce.teachers,
        "teacher_contracts": workforce.teacher_contracts,
        "periods": timetable.periods,
        "classes": timetable.classes,
        "class_memberships": timetable.class_memberships,
        "class_teachers": timetable.class_teachers,
    }
    for name, frame in tables.items():
        connection.register(
            name, to_arrow(frame, arrow_schema(SCHEMA, name), keep_dictionaries=False)
        )
    target = arrow_schema(SCHEMA, "lessons")
    connection.register(
        "lessons",
        pa.concat_tables([to_arrow(batch, target, keep_dictionaries=False) for batch in lessons]),
    )
    connection.register("latent_classes", timetable.classes)
    connection.register(
        "latent_periods", timetable.periods.drop(columns=["start_time", "end_time"])
    )
    connection.register("contracts", workforce.teacher_contracts)
    connection.register("spells", backbone.enrolments)
    connection.register("class_periods", timetable.class_periods)
    connection.register("open_dates", _open_dates(backbone))
    yield connection
    connection.close()


def _open_dates(backbone) -> pa.Table:
    rows = [
        (school.school_id, calendar.academic_year, day)
        for school in backbone.schools.itertuples()
        for (trust_id, _), calendar in backbone.calendars.items()
        if trust_id == school.trust_id
        for day in calendar.open_dates.astype("datetime64[D]").tolist()
    ]
    school_ids, years, days = zip(*rows, strict=True)
    return pa.table(
        {"school_id": school_ids, "academic_year": years, "date": pa.array(days, pa.date32())}
    )


def scalar(db, sql):
    return db.execute(sql).fetchone()[0]


CHECKS = [c for c in constraint_checks(SCHEMA) if c.table in MY_TABLES]


@pytest.mark.parametrize("check", CHECKS, ids=[f"{c.table}:{c.rule}" for c in CHECKS])
def test_schema_constraint_holds(db, check):
    assert db.execute(check.sql).fetchone()[0] == 0


# Periods and lessons


def test_school_days_have_five_or_six_periods_a_break_and_lunch(db):
    days = db.execute("""
        SELECT school_id, day_in_cycle, COUNT(*) AS periods,
               MIN(_start_minute) AS first_start,
               MAX(_end_minute - _start_minute) AS longest,
               MIN(_end_minute - _start_minute) AS shortest,
               list(_start_minute ORDER BY period_number) AS starts,
               list(_end_minute ORDER BY period_number) AS ends
        FROM latent_periods GROUP BY ALL
    """).df()
    assert days.periods.between(5, 6).all()
    assert days.first_start.between(8 * 60 + 40, 9 * 60).all()
    assert days.shortest.ge(50).all() and days.longest.le(60).all()
    for starts, ends in zip(days.starts, days.ends, strict=True):
        gaps = np.array(starts[1:]) - np.array(ends[:-1])
        lunch = int(np.argmax(gaps))
        assert gaps[1] >= 15 and gaps[lunch] >= 35
        assert 11 * 60 + 40 <= ends[lunch] <= 13 * 60


def test_lessons_only_on_open_days_in_the_school_periods(db):
    assert (
        scalar(
            db,
            """
        SELECT COUNT(*) FROM lessons l JOIN classes c USING (class_id)
        WHERE NOT EXISTS (SELECT 1 FROM open_dates d WHERE d.school_id = c.school_id
                          AND d.academic_year = c.academic_year AND d.date = l.date)
    """,
        )
        == 0
    )
    assert (
        scalar(
            db,
            """
        SELECT COUNT(*) FROM lessons l JOIN classes c USING (class_id)
        JOIN periods p USING (period_id)
        WHERE p.school_id <> c.school_id OR l.start_time <> p.start_time OR l.end_time <> p.end_time
           OR isodow(l.date) <> (p.day_in_cycle - 1) % 5 + 1
    """,
        )
        == 0
    )


def test_every_open_day_has_its_full_timetable(db):
    per_day = db.execute("""
        SELECT c.school_id, c.academic_year, l.date, p.day_in_cycle, COUNT(*) AS lessons
        FROM lessons l JOIN classes c USING (class_id) JOIN periods p USING (period_id)
        GROUP BY ALL
    """).df()
    assert (
        per_day.groupby(["school_id", "academic_year", "day_in_cycle"])
        .lessons.nunique()
        .eq(1)
        .all()
    )
    days = per_day.groupby(["school_id", "academic_year"]).date.nunique()
    assert days.eq(190).all()


def test_lesson_teachers_hold_a_contract_at_that_school_on_that_day(db):
    assert (
        scalar(
            db,
            """
        SELECT COUNT(*) FROM lessons l JOIN classes c USING (class_id)
        WHERE NOT EXISTS (SELECT 1 FROM teacher_contracts t
                          WHERE t.teacher_id = l.teacher_id AND t.school_id = c.school_id
                            AND l.date BETWEEN t.start_date AND COALESCE(t.end_date, l.date))
    """,
        )
        == 0
    )


def test_no_teacher_teaches_two_lessons_at_once(db):
    assert (
        scalar(
            db,
            """
        SELECT COUNT(*) FROM (SELECT teacher_id, date, start_time FROM lessons
                              GROUP BY ALL HAVING COUNT(*) > 1)
    """,
        )
        == 0
    )


def test_lessons_follow_the_class_teachers_and_covers_are_someone_else(db):
    assert (
        scalar(
            db,
            """
        SELECT COUNT(*) FROM lessons l
        WHERE NOT l.is_cover AND NOT EXISTS (
            SELECT 1 FROM class_teachers t WHERE t.class_id = l.class_id
                                             AND t.teacher_id = l.teacher_id)
    """,
        )
        == 0
    )
    assert (
        scalar(
            db,
            """
        SELECT COUNT(*) FROM lessons l JOIN class_periods p
          ON p.class_id = l.class_id AND p.period_id = l.period_id
        WHERE l.is_cover AND l.teacher_id = p.teacher_id
    """,
        )
        == 0
    )


def test_lesson_shares_of_shared_classes_follow_class_teachers(db):
    worst = scalar(
        db,
        """
        WITH usual AS (SELECT * FROM lessons WHERE NOT is_cover),
             taught AS (SELECT class_id, teacher_id, COUNT(*) AS lessons FROM usual GROUP BY ALL),
             total AS (SELECT class_id, COUNT(*) AS lessons FROM usual GROUP BY ALL)
        SELECT MAX(ABS(100.0 * taught.lessons / total.lessons - t.share_percent))
        FROM taught JOIN total USING (class_id) JOIN class_teachers t USING (class_id, teacher_id)
    """,
    )
    assert worst < 10  # cycle days occur a little unevenly over the year


def test_no_lessons_for_form_groups(db):
    assert (
        scalar(
            db,
            """
        SELECT COUNT(*) FROM lessons JOIN classes USING (class_id) WHERE grouping = 'form'
    """,
        )
        == 0
    )


# Classes and memberships


def test_memberships_lie_within_an_enrolment_at_that_school_and_year(db):
    assert (
        scalar(
            db,
            """
        SELECT COUNT(*) FROM class_memberships m JOIN classes c USING (class_id)
        WHERE NOT EXISTS (
            SELECT 1 FROM enrolments e
            WHERE e.pupil_id = m.pupil_id AND e.school_id = c.school_id
              AND e.academic_year = c.academic_year AND e.year_group = c.year_group
              AND m.start_date >= e.start_date AND m.end_date <= e.end_date)
    """,
        )
        == 0
    )


def test_every_enrolment_has_its_pastoral_class(db):
    assert (
        scalar(
            db,
            """
        SELECT COUNT(*) FROM enrolments e
        WHERE NOT EXISTS (
            SELECT 1 FROM class_memberships m JOIN classes c USING (class_id)
            WHERE m.pupil_id = e.pupil_id AND c.school_id = e.school_id
              AND c.academic_year = e.academic_year AND m.start_date = e.start_date
              AND c.subject IN ('form', 'primary_class')
              AND c.class_code = e.registration_group)
    """,
        )
        == 0
    )


def test_every_secondary_pupil_is_in_exactly_one_maths_class_at_a_time(db):
    enrolled = """
        FROM enrolments e JOIN schools s USING (school_id)
        WHERE s.phase IN ('secondary', 'all_through') AND e.year_group IN ('7','8','9','10','11')
    """
    counts = db.execute(f"""
        SELECT (SELECT COUNT(*) FROM class_memberships m JOIN classes c USING (class_id)
                WHERE c.subject = 'maths' AND m.pupil_id = e.pupil_id
                  AND c.school_id = e.school_id AND c.academic_year = e.academic_year
                  AND m.start_date <= e.end_date AND m.end_date >= e.start_date) AS maths_classes
        {enrolled}
    """).df()
    assert len(counts) > 1000
    assert counts.maths_classes.eq(1).all()


def test_no_pupil_has_two_lessons_in_one_period(db):
    assert (
        scalar(
            db,
            """
        SELECT COUNT(*) FROM (
            SELECT m.pupil_id, p.period_id, c.academic_year
            FROM class_memberships m JOIN classes c USING (class_id)
            JOIN class_periods p USING (class_id)
            GROUP BY ALL HAVING COUNT(DISTINCT m.class_id) > 1)
    """,
        )
        == 0
    )


def test_sets_are_ranked_smaller_at_the_bottom_and_follow_ability(db):
    sets = db.execute("""
        SELECT c.school_id, c.academic_year, c.year_group, split_part(c.class_code, '/', 1) AS band,
               c.subject, c.set_rank, c.number_of_sets, COUNT(*) AS pupils,
               AVG(e._ability) AS ability
        FROM latent_classes c JOIN class_memberships m USING (class_id)
        JOIN spells e ON e.pupil_id = m.pupil_id AND e.school_id = c.school_id
                     AND e.academic_year = c.academic_year
        WHERE c.grouping = 'set' GROUP BY ALL
    """).df()
    assert sets.subject.isin(["maths", "science", "french", "spanish"]).all()
    assert sets.number_of_sets.between(4, 8).mean() > 0.9
    groups = sets.groupby(["school_id", "academic_year", "year_group", "band", "subject"])
    assert groups.set_rank.apply(lambda r: sorted(r) == list(range(1, len(r) + 1))).all()
    top = sets[sets.set_rank == 1]
    bottom = sets[sets.set_rank == sets.number_of_sets]
    assert top.pupils.mean() > 26 and 16 < bottom.pupils.mean() < 22
    assert (top.ability.mean() - bottom.ability.mean()) > 1.5


def test_set_sizes_shrink_towards_the_bottom():
    sizes = set_sizes(170, 7)
    assert sizes.sum() == 170 and list(sizes) == sorted(sizes, reverse=True)
    assert sizes[0] <= 30 and 18 <= sizes[-1] <= 22


def test_class_sizes_match_the_national_figures(db):
    sizes = db.execute("""
        SELECT c.class_id, s.phase, c.grouping, c.year_group, COUNT(*) AS pupils
        FROM classes c JOIN schools s USING (school_id) JOIN class_memberships m USING (class_id)
        WHERE make_date(c.academic_year + 1, 1, 16) BETWEEN m.start_date AND m.end_date
        GROUP BY ALL
    """).df()
    secondary = sizes[(sizes.phase == "secondary") & (sizes.grouping != "form")]
    assert secondary.pupils.mean() == pytest.approx(22.4, rel=0.1)
    infant = sizes[(sizes.phase == "primary") & sizes.year_group.isin(["R", "1", "2"])]
    # Primary classes are the backbone's registration groups (forms of entry of up to 30).
    assert 21 < infant.pupils.mean() <= 30


def test_about_four_in_five_teaching_classes_have_a_single_teacher(db):
    single, most = db.execute("""
        WITH n AS (SELECT class_id, COUNT(*) AS teachers FROM class_teachers GROUP BY 1)
        SELECT AVG((teachers = 1)::INT), AVG((teachers <= 2)::INT)
        FROM n JOIN classes USING (class_id) WHERE grouping <> 'form'
    """).fetchone()
    assert single == pytest.approx(SETTINGS.single_teacher_class_rate, abs=0.04)
    assert most > 0.95
    assert (
        scalar(
            db,
            """
        SELECT COUNT(*) FROM (SELECT class_id FROM class_teachers GROUP BY 1
                              HAVING ABS(SUM(share_percent) - 100) > 1e-6
                                  OR (COUNT(*) = 1) <> bool_and(role = 'main'))
    """,
        )
        == 0
    )


def test_teachers_mostly_teach_their_own_subject(db):
    specialist = scalar(
        db,
        """
        SELECT AVG((CASE WHEN t.main_subject IN ('biology', 'chemistry', 'physics') THEN 'science'
                         WHEN t.main_subject IN ('french', 'spanish') THEN 'languages'
                         ELSE t.main_subject END
                  = CASE WHEN c.subject IN ('biology', 'chemistry', 'physics') THEN 'science'
                         WHEN c.subject IN ('french', 'spanish') THEN 'languages'
                         ELSE c.subject END)::INT)
        FROM class_periods p JOIN classes c USING (class_id) JOIN teachers t USING (teacher_id)
        JOIN schools s ON s.school_id = c.school_id
        WHERE s.phase = 'secondary' AND c.subject NOT IN ('form', 'primary_class')
    """,
    )
    assert specialist > 0.85


def test_full_time_secondary_classroom_teachers_teach_most_of_the_week(db):
    share = scalar(
        db,
        """
        WITH taught AS (SELECT teacher_id, academic_year, COUNT(*) AS periods
                        FROM class_periods GROUP BY ALL),
             week AS (SELECT school_id, COUNT(*) AS periods FROM latent_periods GROUP BY 1)
        SELECT AVG(COALESCE(taught.periods, 0) / week.periods)
        FROM contracts c JOIN schools s USING (school_id) JOIN week USING (school_id)
        LEFT JOIN taught ON taught.teacher_id = c.teacher_id
                        AND taught.academic_year = c._academic_year
        WHERE s.phase = 'secondary' AND c.post = 'classroom_teacher' AND c.fte = 1
    """,
    )
    assert 20 / 25 <= share <= 22.5 / 25


def test_maths_takes_about_four_hours_a_week_with_its_afternoon_share(db):
    maths = db.execute("""
        SELECT c.class_id, ANY_VALUE(c._afternoon_share) AS afternoon_share,
               SUM(p._end_minute - p._start_minute) / 60 / (ANY_VALUE(s.timetable_cycle_days) / 5)
               AS hours
        FROM latent_classes c JOIN class_periods USING (class_id)
        JOIN latent_periods p USING (period_id) JOIN schools s ON s.school_id = c.school_id
        WHERE c.subject = 'maths' AND c.grouping = 'set' GROUP BY ALL
    """).df()
    assert maths.hours.between(3, 5).all() and maths.hours.mean() == pytest.approx(4, abs=0.4)
    assert maths.afternoon_share.mean() == pytest.approx(SETTINGS.afternoon_maths_share, abs=0.06)
    assert maths.afternoon_share.std() > 0.1
    assert (
        scalar(db, "SELECT MAX(_afternoon_share) FROM latent_classes WHERE grouping = 'form'") == 0
    )


def test_cover_rate_follows_the_settings(db):
    rate = scalar(db, "SELECT AVG(is_cover::INT) FROM lessons")
    assert 0.03 <= rate <= 0.06
    assert rate == pytest.approx(SETTINGS.cover_rate, abs=0.01)


def test_lesson_ids_are_unique_and_follow_the_class(db):
    assert (
        scalar(
            db,
            """
        SELECT COUNT(*) FROM lessons WHERE lesson_id // 10000 <> class_id
                                        OR lesson_id % 10 <> period_id % 10
    """,
        )
        == 0
    )


def test_class_effects_and_ids_are_planted_per_class(trust):
    _, _, timetable, _ = trust
    classes = timetable.classes
    assert classes.class_id.is_unique
    assert classes._class_effect.std() == pytest.approx(SETTINGS.effects.class_sd, rel=0.15)


# Small pieces


def test_a_two_week_cycle_alternates_weeks_over_the_open_days():
    days = np.array(
        [np.datetime64(date(2024, 9, d)) for d in (2, 3, 6, 9, 13, 30)]
        + [np.datetime64(date(2024, 10, 7))]
    )
    assert list(cycle_days(days, 5)) == [0, 1, 4, 0, 4, 0, 0]
    assert list(cycle_days(days, 10)) == [0, 1, 4, 5, 9, 0, 5]


@pytest.mark.parametrize("correlation", [-0.9, 0.0, 0.9])
def test_set_order_follows_the_teacher_set_correlation(correlation):
    rng = np.random.default_rng(1)
    observed = []
    for _ in range(300):
        effects = rng.normal(size=6)
        order = order_by_set_correlation(rng, effects, correlation)
        top_first = -np.arange(6)  # set 1 gets the first teacher in the order
        observed.append(np.corrcoef(np.argsort(np.argsort(effects[order])), top_first)[0, 1])
    assert np.mean(observed) == pytest.approx(correlation * 0.9, abs=0.15)


def test_the_same_settings_give_the_same_lessons(trust):
    backbone, workforce, timetable, lessons = trust
    again = build_timetable(backbone, workforce)
    first = next(iter(generate_lessons(backbone, workforce, again)))[1]
    assert first.equals(lessons[0])
