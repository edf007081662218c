"""Teachers and their contracts: schema rules, staffing ratios, turnover, pay and planted
effects."""

import duckdb
import numpy as np
import pandas as pd
import pytest

from dummy_data.build_backbone import build_backbone
from dummy_data.settings import GeneratorSettings, PhaseMix
from dummy_data.workforce import (
    build_workforce,
    leaving_hazards,
    stationary_leaving_rate,
    survival,
)
from dummy_data.writers import arrow_schema, to_arrow
from schema import load_schema
from schema.constraints import constraint_checks

SCHEMA = load_schema()
EVERY_PHASE = {
    "primary": PhaseMix(share=0.55, mean_pupils=380),
    "secondary": PhaseMix(share=0.25, mean_pupils=1000),
    "all_through": PhaseMix(share=0.07, mean_pupils=1200),
    "special": PhaseMix(share=0.07, mean_pupils=130),
    "alternative_provision": PhaseMix(share=0.06, mean_pupils=60),
}
SETTINGS = GeneratorSettings(seed=4, trusts=2, schools=30, years=3, phases=EVERY_PHASE)


@pytest.fixture(scope="module")
def trust():
    backbone = build_backbone(SETTINGS)
    return backbone, build_workforce(backbone)


@pytest.fixture(scope="module")
def db(trust):
    backbone, workforce = trust
    connection = duckdb.connect()
    frames = {
        "schools": backbone.schools,
        "teachers": workforce.teachers,
        "teacher_contracts": workforce.teacher_contracts,
    }
    for name, frame in frames.items():
        connection.register(
            name, to_arrow(frame, arrow_schema(SCHEMA, name), keep_dictionaries=False)
        )
    connection.register("contracts", workforce.teacher_contracts)
    connection.register("effects", workforce.teacher_effects)
    connection.register("enrolments", backbone.enrolments)
    connection.register("latent", workforce.teachers)
    yield connection
    connection.close()


def scalar(db, sql):
    return db.execute(sql).fetchone()[0]


CHECKS = [c for c in constraint_checks(SCHEMA) if c.table in ("teachers", "teacher_contracts")]


@pytest.mark.parametrize("check", CHECKS, ids=[f"{c.table}:{c.rule}" for c in CHECKS])
def test_schema_constraint_holds(db, check):
    assert db.execute(check.sql).fetchone()[0] == 0


def test_one_school_and_one_contract_per_teacher_and_year(db):
    assert (
        scalar(
            db,
            """
        SELECT COUNT(*) FROM (SELECT teacher_id, _academic_year FROM contracts
                              GROUP BY ALL HAVING COUNT(*) > 1)
    """,
        )
        == 0
    )


def test_contracts_of_a_teacher_do_not_overlap(db):
    assert (
        scalar(
            db,
            """
        SELECT COUNT(*) FROM teacher_contracts a JOIN teacher_contracts b
          ON a.teacher_id = b.teacher_id AND a.contract_id < b.contract_id
        WHERE a.start_date <= COALESCE(b.end_date, DATE '9999-12-31')
          AND b.start_date <= COALESCE(a.end_date, DATE '9999-12-31')
    """,
        )
        == 0
    )


def test_contracts_cover_their_academic_year(db):
    last = SETTINGS.academic_years[-1]
    assert (
        scalar(
            db,
            f"""
        SELECT COUNT(*) FROM contracts
        WHERE start_date > make_date(_academic_year, 9, 1)
           OR (_academic_year < {last} AND end_date <> make_date(_academic_year + 1, 8, 31))
           OR (_academic_year = {last} AND end_date IS NOT NULL)
    """,
        )
        == 0
    )


# Special schools need a teacher for each of their small classes (one per year group), so small
# ones have fewer pupils per teacher than the national ratio.
@pytest.mark.parametrize(
    ("phase", "tolerance"), [("primary", 0.1), ("secondary", 0.1), ("special", 0.25)]
)
def test_pupil_teacher_ratio_by_phase(trust, phase, tolerance):
    backbone, workforce = trust
    ratio = _pupils_per_fte(backbone, workforce)[phase]
    target = SETTINGS.pupil_teacher_ratio[phase]
    assert abs(ratio / target - 1) < tolerance, (phase, ratio)


def _pupils_per_fte(backbone, workforce) -> dict[str, float]:
    """Pupils on roll at each autumn census per full-time equivalent teacher, by phase."""
    pupils = []
    for (trust_id, year), calendar in backbone.calendars.items():
        census = calendar.census_dates[0]
        spells = backbone.enrolments
        on_roll = spells[
            (spells._trust_id == trust_id)
            & (spells.academic_year == year)
            & (spells.start_date <= census)
            & (spells.end_date >= census)
        ]
        pupils.append(on_roll.groupby(["school_id", "academic_year"]).size())
    counts = pd.concat(pupils).rename("pupils").reset_index()
    fte = workforce.teacher_contracts.groupby(["school_id", "_academic_year"]).fte.sum()
    counts["fte"] = fte.reindex(
        pd.MultiIndex.from_frame(counts[["school_id", "academic_year"]])
    ).to_numpy()
    counts["phase"] = counts.school_id.map(backbone.schools.set_index("school_id").phase)
    totals = counts.groupby("phase")[["pupils", "fte"]].sum()
    return (totals.pupils / totals.fte).to_dict()


def test_leaving_hazards_follow_the_national_pattern():
    hazards = leaving_hazards(0.09)
    assert stationary_leaving_rate(hazards) == pytest.approx(0.09, abs=1e-6)
    assert hazards[0] == pytest.approx(0.113, abs=0.01)
    assert survival(hazards)[5] == pytest.approx(0.67, abs=0.02)
    assert stationary_leaving_rate(leaving_hazards(0.15)) == pytest.approx(0.15, abs=1e-6)


def test_about_nine_percent_of_teachers_leave_each_year(db):
    rate, first_year_rate = db.execute("""
        SELECT AVG((n.teacher_id IS NULL)::INT),
               AVG(CASE WHEN c._experience = 0 THEN (n.teacher_id IS NULL)::INT END)
        FROM contracts c LEFT JOIN contracts n
          ON n.teacher_id = c.teacher_id AND n._academic_year = c._academic_year + 1
        WHERE c._academic_year < (SELECT MAX(_academic_year) FROM contracts)
    """).fetchone()
    assert abs(rate - SETTINGS.teacher_leaving_rate) < 0.02
    assert 0.05 < first_year_rate < 0.2


def test_new_teachers_are_mostly_early_in_their_careers(db):
    early = scalar(
        db,
        """
        SELECT AVG((c._experience <= 2)::INT) FROM contracts c
        WHERE c._academic_year > (SELECT MIN(_academic_year) FROM contracts)
          AND NOT EXISTS (SELECT 1 FROM contracts p WHERE p.teacher_id = c.teacher_id
                          AND p._academic_year = c._academic_year - 1)
    """,
    )
    assert early > 0.6


def test_pay_follows_post_qualification_and_experience(db):
    assert (
        scalar(
            db,
            """
        SELECT COUNT(*) FROM contracts c JOIN latent t USING (teacher_id)
        WHERE (post IN ('head_teacher', 'deputy_head', 'assistant_head'))
              <> (pay_range = 'leadership')
           OR (post = 'leading_practitioner') <> (pay_range = 'leading_practitioner')
           OR (post = 'unqualified_teacher') <> (pay_range = 'unqualified')
           OR (pay_range = 'unqualified') <> (t.qts_status = 'none')
           OR (pay_range = 'main' AND pay_point <> 'M' || LEAST(_experience + 1, 6))
           OR (pay_range = 'upper' AND _experience < 6)
           OR (qts_status = 'none') <> (qts_year IS NULL)
           OR qts_year <> _first_year_teaching
           OR birth_year > _first_year_teaching - 21
    """,
        )
        == 0
    )
    heads = db.execute("""
        SELECT COUNT(*), COUNT(DISTINCT school_id || '-' || _academic_year) FROM contracts
        WHERE post = 'head_teacher'
    """).fetchone()
    assert heads[0] == heads[1] == len(SETTINGS.academic_years) * SETTINGS.schools


def test_most_teachers_are_full_time_and_part_timers_work_whole_days(db):
    full_time, mean_fte = db.execute(
        "SELECT AVG((fte = 1)::INT), AVG(fte) FROM contracts"
    ).fetchone()
    assert 0.7 < full_time < 0.85 and 0.88 < mean_fte < 0.96
    assert (
        scalar(
            db,
            """
        SELECT COUNT(*) FROM contracts
        WHERE fte < 1 AND bit_count(_working_days::INT) NOT BETWEEN 1 AND 4
    """,
        )
        == 0
    )


def test_teacher_effects_have_the_planted_spread_persistence_and_growth(trust):
    _, workforce = trust
    effects = workforce.teacher_effects.merge(
        workforce.teacher_contracts[["teacher_id", "_academic_year", "_experience"]],
        left_on=["teacher_id", "academic_year"],
        right_on=["teacher_id", "_academic_year"],
    )
    planted = SETTINGS.effects
    experienced = effects[effects._experience >= 3]
    assert experienced.effect.std() == pytest.approx(planted.teacher_sd, rel=0.1)
    assert experienced.effect.mean() == pytest.approx(0, abs=0.02)
    pairs = experienced.merge(experienced, on="teacher_id", suffixes=("", "_next"))
    pairs = pairs[pairs.academic_year_next == pairs.academic_year + 1]
    correlation = np.corrcoef(pairs.effect, pairs.effect_next)[0, 1]
    assert correlation == pytest.approx(planted.teacher_year_correlation, abs=0.08)
    by_experience = effects.groupby(effects._experience.clip(upper=3)).effect.mean()
    growth = np.diff(by_experience.to_numpy())
    assert growth == pytest.approx([planted.early_career_growth] * 3, abs=0.06)


def test_one_effect_per_teacher_and_year_taught(trust):
    _, workforce = trust
    keys = workforce.teacher_effects[["teacher_id", "academic_year"]]
    taught = workforce.teacher_contracts[["teacher_id", "_academic_year"]]
    assert not keys.duplicated().any()
    assert len(keys) == len(taught)


def test_the_same_settings_give_the_same_workforce(trust):
    backbone, workforce = trust
    again = build_workforce(backbone)
    pd.testing.assert_frame_equal(again.teacher_contracts, workforce.teacher_contracts)
    pd.testing.assert_frame_equal(again.teacher_effects, workforce.teacher_effects)
