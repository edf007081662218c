"""Attendance marks and exclusions: schema and cross-table integrity, faithful realisation of the
planted absence rates, and calibration to the national figures at a moderate size."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from dummy_data.attendance import (
    ATTENDANCE_CODES,
    EXCLUSION_REASONS,
    build_roll,
    calibrate,
    generate_attendance,
    school_year_attendance,
)
from dummy_data.backbone import Backbone
from dummy_data.build_backbone import build_backbone
from dummy_data.calendar import build_calendar
from dummy_data.settings import GeneratorSettings
from schema import load_schema
from schema.constraints import constraint_checks

SCHEMA = load_schema()
YEAR = 2024
NATIONAL_SECONDARY_SHARE = 0.45  # of pupils in England; weights phase rates into a national figure


# ---------------------------------------------------------------------------------------------
# Fixtures: a hand-made backbone of two schools, and a moderate trust from build_backbone.


def _enrolment(pupil_id, school_id, year_group, rate, start=None, end=None, phase="primary"):
    return {
        "enrolment_id": pupil_id * 10 + school_id,
        "pupil_id": pupil_id,
        "school_id": school_id,
        "academic_year": YEAR,
        "start_date": start or np.datetime64(f"{YEAR}-09-01"),
        "end_date": end or np.datetime64(f"{YEAR + 1}-08-31"),
        "year_group": year_group,
        "enrolment_status": "C",
        "registration_group": f"{year_group}A",
        "_phase": phase,
        "_trust_id": 1,
        "_fsm": pupil_id % 3 == 0,
        "_sen": "KNNENN"[pupil_id % 6],
        "_absence_rate": rate,
    }


def tiny_backbone(settings: GeneratorSettings) -> Backbone:
    """A primary with a nursery (school 1) and a secondary (school 2), one year, 40 pupils.

    Rates cover the extremes (0, 0.5, 0.95); pupil 11 leaves the primary mid-year, pupil 27 leaves
    the secondary and pupil 28 joins it; pupil 40 moves from the secondary to the primary.
    """
    calendar = build_calendar(YEAR)
    days = calendar.open_dates
    rates = np.random.default_rng(5).beta(0.9, 12, 41)
    rates[[13, 14, 15]] = [0.0, 0.95, 0.5]
    primary = [("N2", range(1, 5)), ("R", range(5, 9)), ("3", range(9, 13))]
    secondary = [("9", range(13, 29)), ("11", range(29, 40))]
    rows = [_enrolment(p, 1, g, rates[p]) for g, pupils in primary for p in pupils]
    rows += [
        _enrolment(p, 2, g, rates[p], phase="secondary") for g, pupils in secondary for p in pupils
    ]
    rows += [
        _enrolment(40, 2, "9", 0.2, end=days[70], phase="secondary"),
        _enrolment(40, 1, "6", 0.2, start=days[71]),
    ]
    enrolments = pd.DataFrame(rows)
    moves = [(11, "end_date", days[100]), (27, "end_date", days[80]), (28, "start_date", days[120])]
    for pupil, column, value in moves:
        enrolments.loc[enrolments.pupil_id == pupil, column] = value
    enrolments = enrolments.sort_values(["school_id", "pupil_id"], ignore_index=True)
    pupils = pd.DataFrame(
        {"pupil_id": np.arange(1, 41), "sex": np.where(np.arange(40) % 2, "M", "F")}
    )
    schools = pd.DataFrame(
        {"school_id": [1, 2], "trust_id": [1, 1], "phase": ["primary", "secondary"]}
    )
    return Backbone(
        settings=settings,
        schools=schools,
        pupils=pupils,
        enrolments=enrolments,
        pupil_characteristics=pd.DataFrame(),
        calendars={(1, YEAR): calendar},
    )


def generated(backbone: Backbone) -> dict[str, pa.Table]:
    batches: dict[str, list[pa.Table]] = {}
    for table, batch in generate_attendance(backbone):
        batches.setdefault(table, []).append(batch)
    return {table: pa.concat_tables(parts) for table, parts in batches.items()}


def database(backbone: Backbone, tables: dict[str, pa.Table]) -> duckdb.DuckDBPyConnection:
    """DuckDB with the backbone's frames, the generated tables (codes as text, as the writer casts
    them), the code categories and every open date."""
    db = duckdb.connect()
    db.register("schools", backbone.schools)
    db.register("pupils", backbone.pupils)
    enrolments = backbone.enrolments.assign(
        start_date=backbone.enrolments.start_date.astype("datetime64[s]"),
        end_date=backbone.enrolments.end_date.astype("datetime64[s]"),
    )
    db.register("enrolments", enrolments)
    for name, table in tables.items():
        db.register(f"raw_{name}", table)
        db.execute(f"CREATE TABLE {name} AS SELECT * FROM raw_{name}")
        for column, kind in zip(table.column_names, table.schema.types, strict=True):
            if pa.types.is_dictionary(kind):
                db.execute(f"ALTER TABLE {name} ALTER {column} TYPE VARCHAR")
    categories = pd.DataFrame(
        [(code.code, code.category) for code in SCHEMA.codelists["attendance_code"].codes],
        columns=["code", "category"],
    )
    db.register("code_categories", categories)
    open_dates = pd.DataFrame(
        [
            (trust, year, date, int(term))
            for (trust, year), calendar in backbone.calendars.items()
            for date, term in zip(
                calendar.open_dates.astype("datetime64[D]"), calendar.terms, strict=True
            )
        ],
        columns=["trust_id", "academic_year", "date", "term"],
    )
    db.register("raw_open_dates", open_dates)
    db.execute(
        "CREATE TABLE open_dates AS SELECT * REPLACE (date::DATE AS date) FROM raw_open_dates"
    )
    return db


@pytest.fixture(scope="module")
def tiny():
    settings = GeneratorSettings(
        seed=2,
        suspensions_per_100=300,
        permanent_exclusions_per_100=30,
        lunchtime_suspensions_per_100=40,
        school_closure_days=3,
    )
    backbone = tiny_backbone(settings)
    tables = generated(backbone)
    return backbone, tables, database(backbone, tables)


@pytest.fixture(scope="module")
def moderate():
    backbone = build_backbone(GeneratorSettings(seed=11, schools=20))
    tables = generated(backbone)
    db = database(backbone, tables)
    db.execute(PER_ENROLMENT_SQL)
    db.execute(PUPIL_YEARS_SQL)
    return backbone, tables, db


PUPIL_YEARS_SQL = """
CREATE TABLE pupil_years AS  -- enrolments with their share of the year's 190 open days
SELECT e.pupil_id, e.school_id, e.start_date, e.end_date, e._fsm AS fsm, e._phase AS phase,
       COUNT(*) / 190.0 AS year_share
FROM enrolments e JOIN schools s USING (school_id)
JOIN open_dates d ON d.trust_id = s.trust_id AND d.academic_year = e.academic_year
 AND d.date BETWEEN e.start_date AND e.end_date
GROUP BY ALL
"""

PER_ENROLMENT_SQL = """
CREATE TABLE per_enrolment AS
SELECT e.enrolment_id, e._absence_rate AS planted, e._fsm AS fsm, e._sen AS sen, e._phase AS phase,
       COUNT(*) FILTER (WHERE c.category <> 'not_possible') AS possible,
       COUNT(*) FILTER (WHERE c.category LIKE '%absence') AS missed,
       COUNT(*) FILTER (WHERE c.category = 'authorised_absence') AS authorised,
       COUNT(*) FILTER (WHERE c.category = 'unauthorised_absence') AS unauthorised,
       COUNT(*) FILTER (WHERE m.attendance_code = 'I') AS illness,
       COUNT(*) FILTER (WHERE c.category = 'present') AS present,
       COUNT(*) FILTER (WHERE m.attendance_code = 'L') AS late
FROM attendance_sessions m
JOIN code_categories c ON c.code = m.attendance_code
JOIN enrolments e ON e.pupil_id = m.pupil_id AND e.school_id = m.school_id
 AND m.date BETWEEN e.start_date AND e.end_date
GROUP BY ALL
HAVING possible > 0
"""


def scalar(db: duckdb.DuckDBPyConnection, sql: str):
    return db.execute(sql).fetchone()[0]


# ---------------------------------------------------------------------------------------------
# Integrity: the schema's own checks, then the rules that tie the tables together.

CHECKS = [
    check
    for check in constraint_checks(SCHEMA, "duckdb")
    if check.table in ("attendance_sessions", "exclusions")
]


@pytest.mark.parametrize("check", CHECKS, ids=[f"{c.table}:{c.rule}" for c in CHECKS])
def test_schema_constraint_holds(tiny, check):
    _, _, db = tiny
    assert scalar(db, check.sql) == 0


def test_codes_are_the_codelist_in_order():
    assert SCHEMA.codelists["attendance_code"].code_values == ATTENDANCE_CODES
    assert set(EXCLUSION_REASONS) == set(SCHEMA.codelists["exclusion_reason"].code_values)


def test_columns_and_types(tiny):
    _, tables, _ = tiny
    marks, exclusions = tables["attendance_sessions"], tables["exclusions"]
    assert set(SCHEMA.tables["attendance_sessions"].columns) == set(marks.column_names)
    assert set(SCHEMA.tables["exclusions"].columns) == set(exclusions.column_names)
    assert marks.schema.field("pupil_id").type == pa.int32()
    assert marks.schema.field("date").type == pa.date32()
    assert pa.types.is_dictionary(marks.schema.field("attendance_code").type)


def test_every_open_day_of_every_enrolment_has_both_sessions(tiny):
    _, _, db = tiny
    expected = scalar(
        db,
        """
        SELECT COUNT(*) * 2 FROM enrolments e JOIN schools s USING (school_id)
        JOIN open_dates d ON d.trust_id = s.trust_id AND d.academic_year = e.academic_year
         AND d.date BETWEEN e.start_date AND e.end_date""",
    )
    assert scalar(db, "SELECT COUNT(*) FROM attendance_sessions") == expected
    assert (
        scalar(
            db,
            """
        SELECT COUNT(*) FROM attendance_sessions m
        WHERE NOT EXISTS (SELECT 1 FROM enrolments e
                          WHERE e.pupil_id = m.pupil_id AND e.school_id = m.school_id
                            AND m.date BETWEEN e.start_date AND e.end_date)""",
        )
        == 0
    )


def test_minutes_late_only_for_late_codes(tiny):
    _, _, db = tiny
    assert (
        scalar(
            db,
            """
        SELECT COUNT(*) FROM attendance_sessions
        WHERE (minutes_late IS NULL) = (attendance_code IN ('L', 'U'))
           OR (attendance_code = 'L' AND minutes_late NOT BETWEEN 1 AND 30)
           OR (attendance_code = 'U' AND minutes_late NOT BETWEEN 30 AND 90)""",
        )
        == 0
    )


def test_x_only_for_nursery_and_reception(tiny):
    _, _, db = tiny
    year_groups = db.execute("""
        SELECT DISTINCT e.year_group FROM attendance_sessions m
        JOIN enrolments e ON e.pupil_id = m.pupil_id AND e.school_id = m.school_id
         AND m.date BETWEEN e.start_date AND e.end_date
        WHERE m.attendance_code = 'X'""").fetchall()
    assert {g for (g,) in year_groups} <= {"N1", "N2", "R"}


def test_part_time_nursery_pupils_attend_one_session_a_day(tiny):
    _, _, db = tiny
    x_days = db.execute("""
        SELECT m.pupil_id, COUNT(DISTINCT m.session), COUNT(*) FROM attendance_sessions m
        JOIN enrolments e USING (pupil_id, school_id)
        WHERE e.year_group = 'N2' AND m.attendance_code = 'X' GROUP BY 1""").fetchall()
    open_days = len(build_calendar(YEAR).open_dates)
    assert x_days
    assert all(sessions == 1 and days >= open_days - 10 for _, sessions, days in x_days)


def test_closures_close_the_whole_school(tiny):
    _, _, db = tiny
    assert scalar(db, "SELECT COUNT(*) FROM attendance_sessions WHERE attendance_code = '#'") > 0
    assert (
        scalar(
            db,
            """
        SELECT COUNT(*) FROM (
            SELECT school_id, date FROM attendance_sessions GROUP BY ALL
            HAVING COUNT(*) FILTER (WHERE attendance_code IN ('#', 'Y4')) NOT IN (0, COUNT(*)))
    """,
        )
        == 0
    )


SPANS_SQL = """
CREATE TEMP TABLE spans AS
SELECT x.exclusion_id, x.pupil_id, x.school_id, x.category, x.sessions,
       x.start_date, d.rank AS first_day,
       CASE WHEN x.category = 'PERM' THEN e.end_date END AS enrolment_end
FROM exclusions x
JOIN schools s USING (school_id)
JOIN (SELECT *, ROW_NUMBER() OVER (PARTITION BY trust_id, academic_year ORDER BY date) AS rank
      FROM open_dates) d ON d.trust_id = s.trust_id AND d.date = x.start_date
JOIN enrolments e ON e.pupil_id = x.pupil_id AND e.school_id = x.school_id
 AND x.start_date BETWEEN e.start_date AND e.end_date
"""


def test_e_marks_only_during_an_exclusion(tiny):
    _, _, db = tiny
    db.execute(SPANS_SQL)
    assert scalar(db, "SELECT COUNT(*) FROM spans") == scalar(db, "SELECT COUNT(*) FROM exclusions")
    assert scalar(db, "SELECT COUNT(*) FROM attendance_sessions WHERE attendance_code = 'E'") > 0
    outside = scalar(
        db,
        """
        WITH marks AS (
            SELECT m.*, 2 * (d.rank - 1) + (m.session = 'PM')::INT AS session_index
            FROM attendance_sessions m JOIN schools s USING (school_id)
            JOIN (SELECT *, ROW_NUMBER() OVER (PARTITION BY trust_id, academic_year ORDER BY date)
                  AS rank FROM open_dates) d ON d.trust_id = s.trust_id AND d.date = m.date
            WHERE m.attendance_code = 'E')
        SELECT COUNT(*) FROM marks m WHERE NOT EXISTS (
            SELECT 1 FROM spans x WHERE x.pupil_id = m.pupil_id AND x.school_id = m.school_id
              AND ((x.category = 'SUSP' AND m.session_index - 2 * x.first_day + 2
                                                BETWEEN 0 AND x.sessions)
                OR (x.category = 'PERM' AND m.date BETWEEN x.start_date AND x.enrolment_end)))""",
    )
    assert outside == 0


def test_suspension_sessions_are_marked_e(tiny):
    _, _, db = tiny
    marked, suspended = db.execute("""
        SELECT COUNT(*) FILTER (WHERE attendance_code = 'E'),
               (SELECT SUM(sessions) FROM exclusions WHERE category = 'SUSP')
        FROM attendance_sessions m
        WHERE NOT EXISTS (SELECT 1 FROM exclusions x WHERE x.category = 'PERM'
                          AND x.pupil_id = m.pupil_id AND m.date >= x.start_date)""").fetchone()
    assert suspended > 0
    assert 0.95 * suspended <= marked <= suspended  # a closure or phased start may overwrite a few


def test_exclusion_rows(tiny):
    _, _, db = tiny
    categories = dict(db.execute("SELECT category, COUNT(*) FROM exclusions GROUP BY 1").fetchall())
    assert set(categories) == {"SUSP", "PERM", "LUNC"}
    assert (
        scalar(
            db,
            """
        SELECT COUNT(*) FROM exclusions
        WHERE (category = 'PERM') <> (sessions IS NULL)
           OR (category = 'LUNC' AND sessions <> 1)
           OR reason_1 IN (reason_2, reason_3) OR reason_2 = reason_3
           OR (reason_2 IS NULL AND reason_3 IS NOT NULL)""",
        )
        == 0
    )
    ids = [i for (i,) in db.execute("SELECT exclusion_id FROM exclusions").fetchall()]
    assert ids == list(range(1, len(ids) + 1))


def test_exclusions_start_on_an_open_day_of_an_enrolment(tiny):
    _, _, db = tiny
    assert (
        scalar(
            db,
            """
        SELECT COUNT(*) FROM exclusions x JOIN schools s USING (school_id)
        WHERE NOT EXISTS (SELECT 1 FROM open_dates d
                          WHERE d.trust_id = s.trust_id AND d.date = x.start_date)
           OR NOT EXISTS (SELECT 1 FROM enrolments e
                          WHERE e.pupil_id = x.pupil_id AND e.school_id = x.school_id
                            AND x.start_date BETWEEN e.start_date AND e.end_date)""",
        )
        == 0
    )


def test_permanent_exclusions_end_the_pupils_time_at_the_school(tiny):
    _, _, db = tiny
    rows = db.execute("""
        SELECT x.start_date, e.end_date::DATE,
               (SELECT MAX(date) FROM open_dates d WHERE d.date <= e.end_date) AS last_open_day,
               (SELECT MAX(date) FROM open_dates) AS year_last_open_day,
               (SELECT COUNT(*) FROM open_dates d WHERE d.date BETWEEN x.start_date AND e.end_date)
                 AS days_to_end,
               (SELECT COUNT(*) FROM enrolments later WHERE later.pupil_id = x.pupil_id
                  AND later.school_id = x.school_id AND later.start_date > e.start_date) AS later
        FROM exclusions x JOIN enrolments e ON e.pupil_id = x.pupil_id
         AND e.school_id = x.school_id AND x.start_date BETWEEN e.start_date AND e.end_date
        WHERE x.category = 'PERM'""").fetchall()
    assert rows
    for start, end, last_open_day, year_last_open_day, days_to_end, later in rows:
        assert later == 0
        if last_open_day < year_last_open_day:
            assert start == last_open_day == end  # the backbone's leavers end on an open day
        else:
            assert 1 <= days_to_end <= 10


def test_same_settings_same_bytes(tiny):
    backbone, tables, _ = tiny
    again = generated(backbone)
    for name, table in tables.items():
        assert again[name].equals(table), name


def test_a_school_year_does_not_depend_on_the_others(tiny):
    backbone, tables, _ = tiny
    roll = build_roll(backbone)
    secondary = roll.take(roll.school_id == 2)
    marks, _ = school_year_attendance(
        backbone.settings, calibrate(backbone.settings, roll), backbone.calendar(1, YEAR), secondary
    )
    generated_marks = tables["attendance_sessions"]
    assert generated_marks.filter(pa.compute.equal(generated_marks["school_id"], 2)).equals(marks)


def test_tables_exist_without_exclusions():
    backbone = tiny_backbone(
        GeneratorSettings(
            suspensions_per_100=0, permanent_exclusions_per_100=0, lunchtime_suspensions_per_100=0
        )
    )
    tables = generated(backbone)
    assert tables["exclusions"].num_rows == 0
    assert "exclusion_id" in tables["exclusions"].column_names


# ---------------------------------------------------------------------------------------------
# The planted rates, realised.


def test_each_enrolment_misses_its_planted_share_of_sessions():
    backbone = tiny_backbone(
        GeneratorSettings(
            suspensions_per_100=0, permanent_exclusions_per_100=0, school_closure_days=0
        )
    )
    db = database(backbone, generated(backbone))
    db.execute(PER_ENROLMENT_SQL)
    rows = db.execute("""
        SELECT p.possible, p.missed, p.planted FROM per_enrolment p
        JOIN enrolments e USING (enrolment_id) WHERE e.year_group <> 'R'""").fetchall()
    assert len(rows) == 37
    for possible, missed, planted in rows:
        assert abs(missed - planted * possible) <= 1


def test_one_mark_per_pupil_date_and_session(moderate):
    _, _, db = moderate
    assert (
        scalar(
            db,
            """
        SELECT COUNT(*) FROM (SELECT pupil_id, date, COUNT(*) AS marks, MIN(session) AS first,
                                     MAX(session) AS last
                              FROM attendance_sessions GROUP BY ALL)
        WHERE marks <> 2 OR first = last""",
        )
        == 0
    )


def test_realised_rates_follow_the_planted_rates(moderate):
    _, _, db = moderate
    mean_error, correlation = db.execute("""
        SELECT AVG(ABS(missed / possible - planted)), CORR(missed / possible, planted)
        FROM per_enrolment WHERE possible >= 300""").fetchone()
    assert mean_error < 0.004
    assert correlation > 0.99
    # Suspensions add their sessions to the planted absence; without them the rate is exact up to
    # rounding, a closure day or a phased reception start.
    worst = scalar(
        db,
        """
        SELECT QUANTILE_CONT(ABS(missed / possible - planted), 0.99) FROM per_enrolment p
        JOIN enrolments e USING (enrolment_id)
        WHERE possible >= 300 AND NOT EXISTS (SELECT 1 FROM exclusions x
                                              WHERE x.pupil_id = e.pupil_id
                                                AND x.school_id = e.school_id)""",
    )
    assert worst < 0.005


# ---------------------------------------------------------------------------------------------
# Calibration at a moderate size (20 schools, about 12,000 pupils a year, 3 years).


def rate_pct(db, where: str = "TRUE", numerator: str = "missed") -> float:
    return scalar(
        db, f"SELECT SUM({numerator}) / SUM(possible) * 100 FROM per_enrolment WHERE {where}"
    )


def test_absence_by_phase(moderate):
    _, _, db = moderate
    primary, secondary = rate_pct(db, "phase = 'primary'"), rate_pct(db, "phase = 'secondary'")
    assert abs(primary - 5.5) <= 1.2
    assert abs(secondary - 8.9) <= 1.2
    national_mix = (1 - NATIONAL_SECONDARY_SHARE) * primary + NATIONAL_SECONDARY_SHARE * secondary
    assert abs(national_mix - 7.1) <= 0.8
    assert abs(rate_pct(db) - 7.1) <= 1.0  # this trust has more secondary pupils than England


def test_persistent_and_severe_absence(moderate):
    _, _, db = moderate
    persistent, severe = db.execute("""
        SELECT AVG((missed / possible >= 0.1)::INT) * 100,
               AVG((missed / possible >= 0.5)::INT) * 100
        FROM per_enrolment WHERE possible >= 100""").fetchone()
    assert abs(persistent - 20.0) <= 3
    assert abs(severe - 2.3) <= 1.0


def test_absence_by_group(moderate):
    _, _, db = moderate
    fsm, other = rate_pct(db, "fsm"), rate_pct(db, "NOT fsm")
    assert 1.5 <= fsm / other <= 2.3
    assert abs(fsm - 10.4) <= 1.5
    assert rate_pct(db, "sen = 'E'") > rate_pct(db, "sen = 'K'") > rate_pct(db, "sen = 'N'")


def test_authorised_unauthorised_and_illness(moderate):
    _, _, db = moderate
    total = rate_pct(db)
    authorised = rate_pct(db, numerator="authorised")
    unauthorised = rate_pct(db, numerator="unauthorised")
    # Shares of the trust's own absence, scaled to the national 7.1%.
    assert abs(authorised / total * 7.1 - 4.7) <= 0.5
    assert abs(unauthorised / total * 7.1 - 2.5) <= 0.5
    assert abs(rate_pct(db, numerator="illness") / total * 7.1 - 3.5) <= 0.5
    assert abs(authorised - 4.7) <= 0.8 and abs(unauthorised - 2.5) <= 0.8


def test_unauthorised_share_rises_with_absence(moderate):
    _, _, db = moderate
    share = "SUM(unauthorised) / SUM(missed)"
    assert scalar(db, f"SELECT {share} FROM per_enrolment WHERE missed / possible >= 0.1") > 1.3 * (
        scalar(db, f"SELECT {share} FROM per_enrolment WHERE missed / possible < 0.1")
    )


def test_holiday_share(moderate):
    _, _, db = moderate
    g_share = scalar(
        db,
        """SELECT COUNT(*) FILTER (WHERE attendance_code = 'G') / COUNT(*) * 100
                            FROM attendance_sessions""",
    )
    assert 0.3 <= g_share <= 1.0


def test_absence_rises_by_term_and_through_the_autumn(moderate):
    _, _, db = moderate
    by_term = db.execute("""
        SELECT d.term, COUNT(*) FILTER (WHERE c.category LIKE '%absence')
                       / COUNT(*) FILTER (WHERE c.category <> 'not_possible') AS rate
        FROM attendance_sessions m JOIN code_categories c ON c.code = m.attendance_code
        JOIN schools s USING (school_id)
        JOIN open_dates d ON d.trust_id = s.trust_id AND d.date = m.date
        GROUP BY 1 ORDER BY 1""").fetchall()
    autumn, spring, summer = (rate for _, rate in by_term)
    assert autumn < spring < summer
    assert abs(spring / autumn - 7.2 / 6.7) <= 0.04
    assert abs(summer / autumn - 7.6 / 6.7) <= 0.05
    september, december = db.execute("""
        SELECT COUNT(*) FILTER (WHERE c.category LIKE '%absence')
               / COUNT(*) FILTER (WHERE c.category <> 'not_possible')
        FROM attendance_sessions m JOIN code_categories c ON c.code = m.attendance_code
        WHERE month(m.date) IN (9, 12) GROUP BY month(m.date) ORDER BY month(m.date)""").fetchall()
    assert december[0] > 1.15 * september[0]


def test_absences_come_in_spells_of_about_two_and_a_half_days(moderate):
    _, _, db = moderate
    mean_spell, illness_spell, holiday_spell = db.execute("""
        WITH days AS (  -- the first year is enough
            SELECT pupil_id, date, MIN(attendance_code) AS code,
                   BOOL_AND(c.category LIKE '%absence') AS absent
            FROM attendance_sessions m JOIN code_categories c ON c.code = m.attendance_code
            WHERE m.date < '2023-09-01'
            GROUP BY ALL),
        runs AS (
            SELECT *, ROW_NUMBER() OVER (PARTITION BY pupil_id ORDER BY date)
                      - ROW_NUMBER() OVER (PARTITION BY pupil_id, absent ORDER BY date) AS run
            FROM days),
        spells AS (SELECT pupil_id, run, MIN(code) AS code, COUNT(*) AS days FROM runs
                   WHERE absent GROUP BY ALL)
        SELECT AVG(days), AVG(days) FILTER (WHERE code = 'I'), AVG(days) FILTER (WHERE code = 'G')
        FROM spells""").fetchone()
    assert 2.2 <= mean_spell <= 3.2
    assert 2.0 <= illness_spell <= 3.0
    assert holiday_spell > 3.5


def test_late_marks(moderate):
    _, _, db = moderate
    assert 2.0 <= scalar(db, "SELECT SUM(late) / SUM(present) * 100 FROM per_enrolment") <= 3.0
    u_share = scalar(
        db,
        """SELECT COUNT(*) FILTER (WHERE attendance_code = 'U') / COUNT(*) * 100
                            FROM attendance_sessions""",
    )
    assert 0 < u_share < 0.2


def test_rare_codes_appear(moderate):
    _, _, db = moderate
    codes = {
        code
        for (code,) in db.execute(
            "SELECT DISTINCT attendance_code FROM attendance_sessions"
        ).fetchall()
    }
    assert {"V", "P", "B", "K", "W", "M", "R", "C", "E", "G", "N", "O", "U", "Y7"} <= codes


def suspensions_per_100(db, where: str = "TRUE", category: str = "SUSP") -> float:
    """Exclusions per 100 pupils a year (pupils on roll counted by their share of the year)."""
    return scalar(
        db,
        f"""
        SELECT (SELECT COUNT(*) FROM exclusions x JOIN pupil_years p ON p.pupil_id = x.pupil_id
                  AND p.school_id = x.school_id AND x.start_date BETWEEN p.start_date AND p.end_date
                WHERE x.category = '{category}' AND {where})
               / SUM(year_share) * 100
        FROM pupil_years WHERE {where}""",
    )


def test_suspensions_and_permanent_exclusions_per_100(moderate):
    _, _, db = moderate
    assert abs(suspensions_per_100(db) / 11.31 - 1) <= 0.2
    assert abs(suspensions_per_100(db, category="PERM") / 0.13 - 1) <= 0.6
    assert 0 < suspensions_per_100(db, category="LUNC") < 1


def test_suspensions_concentrate_in_secondary_fsm_and_sen(moderate):
    _, _, db = moderate
    secondary = suspensions_per_100(db, "phase = 'secondary'")
    primary = suspensions_per_100(db, "phase = 'primary'")
    assert secondary > 5 * primary
    assert suspensions_per_100(db, "fsm") > 2 * suspensions_per_100(db, "NOT fsm")
    reasons = dict(
        db.execute("""SELECT reason_1, COUNT(*) / SUM(COUNT(*)) OVER () FROM exclusions
                                 WHERE category = 'SUSP' GROUP BY 1""").fetchall()
    )
    assert abs(reasons["PD"] - 0.5) <= 0.06
    lengths = db.execute("""SELECT AVG((sessions BETWEEN 2 AND 6)::INT), MAX(sessions)
                            FROM exclusions WHERE category = 'SUSP'""").fetchone()
    assert lengths[0] > 0.6 and lengths[1] <= 90
