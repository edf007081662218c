"""Behaviour incidents and achievements: schema rules, links to lessons and teachers, and rates."""

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from dummy_data.behaviour import generate_behaviour, lasting_propensity
from dummy_data.build_backbone import build_backbone
from dummy_data.settings import GeneratorSettings, PhaseMix
from dummy_data.timetable import build_timetable, generate_lessons
from dummy_data.workforce import build_workforce
from dummy_data.writers import arrow_schema, to_arrow
from schema import load_schema
from schema.constraints import constraint_checks

SCHEMA = load_schema()
PHASES = {
    "primary": PhaseMix(share=0.6, mean_pupils=380),
    "secondary": PhaseMix(share=0.3, mean_pupils=1000),
    "all_through": PhaseMix(share=0.0, mean_pupils=1500),
    "special": PhaseMix(share=0.1, mean_pupils=130),
    "alternative_provision": PhaseMix(share=0.0, mean_pupils=60),
}
SETTINGS = GeneratorSettings(seed=2, trusts=1, schools=10, years=2, phases=PHASES)


@pytest.fixture(scope="module")
def db():
    backbone = build_backbone(SETTINGS)
    workforce = build_workforce(backbone)
    timetable = build_timetable(backbone, workforce)
    connection = duckdb.connect()
    tables = {
        "schools": backbone.schools,
        "pupils": backbone.pupils,
        "teachers": workforce.teachers,
        "teacher_contracts": workforce.teacher_contracts,
        "classes": timetable.classes,
        "class_memberships": timetable.class_memberships,
    }
    for name, frame in tables.items():
        connection.register(
            name, to_arrow(frame, arrow_schema(SCHEMA, name), keep_dictionaries=False)
        )
    for name, batches in [
        ("lessons", generate_lessons(backbone, workforce, timetable)),
        ("behaviour_events", generate_behaviour(backbone, workforce, timetable)),
    ]:
        target = arrow_schema(SCHEMA, name)
        connection.register(
            name,
            pa.concat_tables(
                [to_arrow(batch, target, keep_dictionaries=False) for _, batch in batches]
            ),
        )
    connection.register("spells", backbone.enrolments)
    connection.register("contracts", workforce.teacher_contracts)
    yield connection
    connection.close()


def scalar(db, sql):
    return db.execute(sql).fetchone()[0]


CHECKS = [c for c in constraint_checks(SCHEMA) if c.table == "behaviour_events"]


@pytest.mark.parametrize("check", CHECKS, ids=[c.rule for c in CHECKS])
def test_schema_constraint_holds(db, check):
    assert db.execute(check.sql).fetchone()[0] == 0


def test_events_fall_on_open_days_within_an_enrolment(db):
    assert (
        scalar(
            db,
            """
        SELECT COUNT(*) FROM behaviour_events b
        WHERE NOT EXISTS (SELECT 1 FROM spells e WHERE e.pupil_id = b.pupil_id
                          AND e.school_id = b.school_id
                          AND b.event_date BETWEEN e.start_date AND e.end_date)
           OR isodow(b.event_date) > 5
    """,
        )
        == 0
    )


def test_lesson_events_are_in_a_lesson_of_the_pupils_class_recorded_by_its_teacher(db):
    assert (
        scalar(
            db,
            """
        SELECT COUNT(*) FROM behaviour_events b JOIN lessons l USING (lesson_id)
        JOIN classes c ON c.class_id = l.class_id
        WHERE l.date <> b.event_date OR c.school_id <> b.school_id
           OR l.teacher_id <> b.recorded_by_teacher_id
           OR NOT EXISTS (SELECT 1 FROM class_memberships m WHERE m.pupil_id = b.pupil_id
                          AND m.class_id = l.class_id
                          AND b.event_date BETWEEN m.start_date AND m.end_date)
    """,
        )
        == 0
    )


def test_other_events_are_recorded_by_a_teacher_of_the_school(db):
    assert (
        scalar(
            db,
            """
        SELECT COUNT(*) FROM behaviour_events b
        WHERE NOT EXISTS (SELECT 1 FROM teacher_contracts t
                          WHERE t.teacher_id = b.recorded_by_teacher_id
                            AND t.school_id = b.school_id
                            AND b.event_date BETWEEN t.start_date
                                                 AND COALESCE(t.end_date, b.event_date))
    """,
        )
        == 0
    )


def test_most_events_happen_in_lessons(db):
    in_lessons = scalar(db, "SELECT AVG((lesson_id IS NOT NULL)::INT) FROM behaviour_events")
    assert 0.7 < in_lessons < 0.95
    assert (
        scalar(
            db,
            """
        SELECT COUNT(*) FROM behaviour_events
        WHERE (event_type = 'behaviour') <> (points < 0)
           OR (category = 'attendance_award' AND lesson_id IS NOT NULL)
    """,
        )
        == 0
    )


def test_secondary_pupils_have_far_more_records(db):
    rates = (
        db.execute("""
        WITH stage AS (
            SELECT e.*, CASE WHEN e._phase = 'special' THEN 'special'
                             WHEN e.year_group IN ('7','8','9','10','11','12','13')
                             THEN 'secondary' ELSE 'primary' END AS stage
            FROM spells e)
        SELECT stage, kind AS event_type,
               COUNT(b.event_id) / COUNT(DISTINCT s.enrolment_id) AS per_pupil
        FROM stage s CROSS JOIN (VALUES ('behaviour'), ('achievement')) kinds(kind)
        LEFT JOIN behaviour_events b
          ON b.pupil_id = s.pupil_id AND b.school_id = s.school_id AND b.event_type = kind
         AND b.event_date BETWEEN s.start_date AND s.end_date
        GROUP BY ALL
    """)
        .df()
        .set_index(["stage", "event_type"])
        .per_pupil
    )
    for stage in ["primary", "secondary"]:
        for kind, means in [
            ("behaviour", SETTINGS.behaviour_incidents_per_pupil),
            ("achievement", SETTINGS.achievements_per_pupil),
        ]:
            # Schools differ in how much they record, so a few schools give a rough mean.
            assert rates[(stage, kind)] == pytest.approx(means[stage], rel=0.5)
    assert rates[("secondary", "behaviour")] > 4 * rates[("primary", "behaviour")]


def test_incidents_concentrate_in_a_minority_and_follow_disadvantage(db):
    top_tenth = scalar(
        db,
        """
        WITH counts AS (SELECT pupil_id, COUNT(*) AS n FROM behaviour_events
                        WHERE event_type = 'behaviour' GROUP BY 1),
             ranked AS (SELECT n, ROW_NUMBER() OVER (ORDER BY n DESC) AS rank FROM counts)
        SELECT SUM(CASE WHEN rank <= (SELECT COUNT(*) FROM spells) / 10 THEN n END) / SUM(n)
        FROM ranked
    """,
    )
    assert top_tenth > 0.45
    rates = (
        db.execute("""
        SELECT e._fsm, e._sen <> 'N' AS sen,
               COUNT(b.event_id) / COUNT(DISTINCT e.enrolment_id) AS incidents
        FROM spells e LEFT JOIN behaviour_events b
          ON b.pupil_id = e.pupil_id AND b.school_id = e.school_id AND b.event_type = 'behaviour'
         AND b.event_date BETWEEN e.start_date AND e.end_date
        WHERE e._phase = 'secondary' GROUP BY ALL
    """)
        .df()
        .set_index(["_fsm", "sen"])
        .incidents
    )
    assert rates[(True, False)] > 1.3 * rates[(False, False)]
    assert rates[(False, True)] > 1.3 * rates[(False, False)]


def test_lasting_propensity_has_mean_one_and_depends_on_the_pupil_alone():
    ids = np.arange(1, 200_001)
    propensity = lasting_propensity(ids, 0, 1.0)
    assert propensity.mean() == pytest.approx(1, abs=0.02)
    assert np.log(propensity).std() == pytest.approx(1, abs=0.02)
    assert (lasting_propensity(ids[::-1], 0, 1.0) == propensity[::-1]).all()
    assert not np.allclose(lasting_propensity(ids, 1, 1.0), propensity)
