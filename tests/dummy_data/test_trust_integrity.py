"""The generated trust keeps every schema constraint and the cross-table rules of school data."""

import pytest

from schema import load_schema
from schema.constraints import constraint_checks

CHECKS = constraint_checks(load_schema(), "duckdb")


def test_every_table_is_filled(trust_db):
    for table in load_schema().base_tables:
        assert trust_db.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0] > 0, table


@pytest.mark.parametrize("check", CHECKS, ids=[f"{c.table}:{c.rule}" for c in CHECKS])
def test_schema_constraint_holds(trust_db, check):
    assert trust_db.execute(check.sql).fetchone()[0] == 0


def scalar(db, sql):
    return db.execute(sql).fetchone()[0]


def test_marks_only_within_an_enrolment_at_that_school(trust_db):
    assert (
        scalar(
            trust_db,
            """
        SELECT COUNT(*) FROM attendance_sessions m
        WHERE NOT EXISTS (
            SELECT 1 FROM enrolments e
            WHERE e.pupil_id = m.pupil_id AND e.school_id = m.school_id
              AND m.date BETWEEN e.start_date AND e.end_date)
    """,
        )
        == 0
    )


def test_marks_only_on_school_days(trust_db):
    assert (
        scalar(trust_db, "SELECT COUNT(*) FROM attendance_sessions WHERE dayofweek(date) IN (0, 6)")
        == 0
    )
    most_days = scalar(
        trust_db,
        """
        SELECT MAX(days) FROM (
            SELECT school_id, EXTRACT(YEAR FROM date - INTERVAL 8 MONTH) AS academic_year,
                   COUNT(DISTINCT date) AS days
            FROM attendance_sessions GROUP BY ALL)
    """,
    )
    assert most_days <= 190


def test_lessons_only_on_open_days_in_the_schools_periods(trust_db):
    assert (
        scalar(
            trust_db,
            """
        SELECT COUNT(*) FROM lessons l
        JOIN classes c USING (class_id)
        JOIN periods p USING (period_id)
        WHERE p.school_id <> c.school_id OR l.start_time <> p.start_time OR l.end_time <> p.end_time
    """,
        )
        == 0
    )
    assert (
        scalar(
            trust_db,
            """
        SELECT COUNT(*) FROM lessons l JOIN classes c USING (class_id)
        WHERE NOT EXISTS (SELECT 1 FROM attendance_sessions m
                          WHERE m.school_id = c.school_id AND m.date = l.date)
    """,
        )
        == 0
    )


def test_results_with_a_class_belong_to_its_members(trust_db):
    assert (
        scalar(
            trust_db,
            """
        SELECT COUNT(*) FROM assessment_results r
        WHERE r.class_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM class_memberships m
            WHERE m.pupil_id = r.pupil_id AND m.class_id = r.class_id
              AND r.result_date BETWEEN m.start_date AND m.end_date)
    """,
        )
        == 0
    )


def test_teachers_have_a_contract_at_the_school_for_every_lesson(trust_db):
    assert (
        scalar(
            trust_db,
            """
        SELECT COUNT(*) FROM lessons l JOIN classes c USING (class_id)
        WHERE NOT EXISTS (
            SELECT 1 FROM teacher_contracts t
            WHERE t.teacher_id = l.teacher_id AND t.school_id = c.school_id
              AND l.date >= t.start_date AND (t.end_date IS NULL OR l.date <= t.end_date))
    """,
        )
        == 0
    )


def test_year_group_follows_date_of_birth(trust_db):
    mismatched = trust_db.execute("""
        SELECT e.pupil_id, e.academic_year, e.year_group, p.date_of_birth FROM enrolments e
        JOIN pupils p USING (pupil_id)
        WHERE (e.academic_year - year(p.date_of_birth) - CASE WHEN month(p.date_of_birth) >= 9
               THEN 5 ELSE 4 END)
              <> CASE e.year_group WHEN 'N1' THEN -2 WHEN 'N2' THEN -1 WHEN 'R' THEN 0
                                   ELSE CAST(e.year_group AS INTEGER) END
        LIMIT 5
    """).fetchall()
    assert mismatched == []


def test_census_records_only_while_enrolled(trust_db):
    assert (
        scalar(
            trust_db,
            """
        SELECT COUNT(*) FROM pupil_characteristics c
        WHERE NOT EXISTS (SELECT 1 FROM enrolments e
                          WHERE e.pupil_id = c.pupil_id AND e.school_id = c.school_id
                            AND c.census_date BETWEEN e.start_date AND e.end_date)
    """,
        )
        == 0
    )


def test_views_answer(trust_db):
    pupils = scalar(trust_db, "SELECT COUNT(*) FROM pupils")
    assert scalar(trust_db, "SELECT COUNT(*) FROM students") == pupils
    assert scalar(trust_db, "SELECT COUNT(*) FROM results") == scalar(
        trust_db, "SELECT COUNT(*) FROM assessment_results"
    )
    mean_attendance = scalar(trust_db, "SELECT AVG(attendance_percent) FROM students")
    assert 85 < mean_attendance < 97


def test_planted_settings_are_recorded(trust_db):
    settings = dict(trust_db.execute("SELECT setting, value FROM dummy_data_settings").fetchall())
    assert settings["seed"] == "7"
    assert settings["effects.teacher_sd"] == "0.2"
    assert scalar(trust_db, "SELECT COUNT(*) FROM dummy_data_teacher_effects") > 0
