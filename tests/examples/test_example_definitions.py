"""Sanity checks of the examples' dataset definitions: each loads, runs on a small synthetic trust
on DuckDB, gives one row per pupil (or teacher) with plausible shares of nulls, and shows the
relationships the generator planted, in the right direction.

The trust is the small default with two planted effects made large enough to see in a few
thousand pupils: afternoon maths lessons cost a full SD, and stronger teachers get lower sets.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from ehrql_schools.engines.duckdb import DuckDBEngine
from ehrql_schools.loader import load_dataset_definition

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
AFTERNOON_MATHS_EFFECT = -1.0
TEACHER_SET_CORRELATION = -0.8


@pytest.fixture(scope="session")
def example_trust(tmp_path_factory) -> Path:
    from dummy_data.generate import generate_trust
    from dummy_data.settings import Effects, GeneratorSettings
    from dummy_data.writers import DuckDBWriter
    from schema import load_schema

    path = tmp_path_factory.mktemp("example_trust") / "trust.duckdb"
    effects = Effects(
        afternoon_maths=AFTERNOON_MATHS_EFFECT, teacher_set_correlation=TEACHER_SET_CORRELATION
    )
    generate_trust(GeneratorSettings(seed=11, effects=effects), DuckDBWriter(path, load_schema()))
    return path


def run(trust: Path, definition: str, **parameters: str) -> pd.DataFrame:
    dataset = load_dataset_definition(EXAMPLES / definition, parameters)
    engine = DuckDBEngine(f"duckdb:///{trust}")
    rows = [row for batch in engine.get_results(dataset, 5_000) for row in batch]
    columns = [dataset.entity_key, *(name for name, _ in dataset.variables)]
    frame = pd.DataFrame(rows, columns=columns)
    assert len(frame) > 0, "empty population"
    assert frame[dataset.entity_key].is_unique, "more than one row per pupil or teacher"
    return frame


def query(trust: Path, sql: str) -> pd.DataFrame:
    """Read the planted truth (the connection is closed before the engine opens the file)."""
    connection = duckdb.connect(str(trust), read_only=True)
    try:
        return connection.execute(sql).df()
    finally:
        connection.close()


def null_shares(frame: pd.DataFrame) -> dict[str, float]:
    return frame.isna().mean().to_dict()


def assert_nulls_at_most(frame: pd.DataFrame, limits: dict[str, float], default: float) -> None:
    for column, share in null_shares(frame).items():
        limit = limits.get(column, default)
        assert share <= limit, f"{column}: {share:.0%} null (at most {limit:.0%} expected)"


def standardised_within(frame: pd.DataFrame, value: str, group: str) -> pd.Series:
    grouped = frame.groupby(group)[value]
    return (frame[value] - grouped.transform("mean")) / grouped.transform("std")


def residual(y: pd.Series, x: pd.Series) -> pd.Series:
    slope, intercept = np.polyfit(x, y, 1)
    return y - (slope * x + intercept)


def test_attendance_disadvantage(example_trust):
    data = run(example_trust, "attendance_disadvantage/analysis/dataset_definition.py")
    assert_nulls_at_most(data, {}, default=0.05)
    assert set(data.year_group) <= {str(year) for year in range(1, 12)}
    assert (data.sessions_missed <= data.sessions_possible).all()
    assert data.sessions_possible.median() >= 300  # about 380 sessions a year
    data["rate"] = data.sessions_missed / data.sessions_possible
    # Planted: absence higher for FSM (x1.9 on the logit scale), SEN, and in secondary.
    by_fsm = data.groupby("fsm")[["rate", "persistent_absence"]].mean()
    assert by_fsm.loc[True, "rate"] > by_fsm.loc[False, "rate"] * 1.2
    assert by_fsm.loc[True, "persistent_absence"] > by_fsm.loc[False, "persistent_absence"]
    by_sen = data.groupby("sen_provision").rate.mean()
    assert by_sen["E"] > by_sen["N"] and by_sen["K"] > by_sen["N"]
    by_stage = data.groupby("stage").rate.mean()
    assert by_stage["secondary"] > by_stage["primary"]
    assert 0.08 < data.persistent_absence.mean() < 0.4  # about 20% nationally


def test_teacher_value_added(example_trust):
    data = run(example_trust, "teacher_value_added/analysis/dataset_definition.py")
    assert_nulls_at_most(
        data,
        # KS2 is missing for pupils who joined from outside the trust without a record.
        {"ks2_maths": 0.6, "ks2_reading": 0.6, "ks2_prior": 0.6},
        default=0.05,
    )
    assert data.attainment8.between(0, 90).all()
    assert (data.maths_class_teachers >= 1).all()
    # Planted: scores follow ability (KS2) and are lower for FSM pupils.
    assert data[["ks2_prior", "maths_points"]].corr().iloc[0, 1] > 0.4
    attainment8_by_fsm = data.groupby("fsm").attainment8.mean()
    assert attainment8_by_fsm[True] < attainment8_by_fsm[False]
    # Planted: the maths teacher's effect that year raises the grade beyond what KS2 predicts.
    effects = query(
        example_trust,
        "SELECT teacher_id AS maths_teacher_id, effect FROM dummy_data_teacher_effects "
        "WHERE academic_year = 2023",
    )
    merged = data.dropna(subset=["ks2_prior"]).merge(effects, on="maths_teacher_id")
    assert len(merged) > 0.5 * data.ks2_prior.notna().sum()
    merged["value_added"] = residual(merged.maths_points, merged.ks2_prior)
    assert merged[["value_added", "effect"]].corr().iloc[0, 1] > 0.1


def test_teacher_value_added_teachers(example_trust):
    data = run(example_trust, "teacher_value_added/analysis/teacher_dataset_definition.py")
    assert_nulls_at_most(data, {"years_since_qts": 0.3}, default=0.05)
    assert (data.year_11_maths_classes >= 1).all()
    assert (data.lessons_taught > 0).all()
    pupils = run(example_trust, "teacher_value_added/analysis/dataset_definition.py")
    assert set(pupils.maths_teacher_id.dropna()) <= set(data.teacher_id)


def test_afternoon_maths(example_trust):
    data = run(example_trust, "afternoon_maths/analysis/dataset_definition.py")
    assert_nulls_at_most(
        data,
        {
            "ks2_maths": 0.7,  # none for year 10 in 2024/25 (KS2 cancelled in 2021)
            "maths_set_rank": 1.0,  # null for mixed-attainment classes
            "maths_number_of_sets": 1.0,
            "autumn_maths_percent": 0.6,  # not every school has an autumn data drop
            "autumn_maths_assessment_id": 0.6,
        },
        default=0.1,
    )
    assert data.afternoon_share.between(0, 1).all()
    classes = data.drop_duplicates("maths_class_id")
    assert classes.afternoon_share.std() > 0.05, "afternoon share should vary across classes"
    assert 0.2 < data.afternoon_share.mean() < 0.6  # about 40% planted
    # Planted (here a whole SD): pupils taught maths in the afternoon score lower than KS2
    # predicts.
    scored = data.dropna(subset=["ks2_maths", "summer_maths_percent"]).copy()
    scored["z"] = standardised_within(scored, "summer_maths_percent", "summer_maths_assessment_id")
    scored = scored.dropna(subset=["z"])
    scored["progress"] = residual(scored.z, scored.ks2_maths)
    assert scored[["progress", "afternoon_share"]].corr().iloc[0, 1] < 0


def test_strongest_teachers_lowest_sets(example_trust):
    data = run(example_trust, "strongest_teachers_lowest_sets/analysis/dataset_definition.py")
    assert_nulls_at_most(
        data,
        {
            "ks2_maths": 0.5,
            # Teacher proxies are left null for shared classes; QTS year also without QTS.
            "teacher_qts_status": 0.35,
            "teacher_training_route": 0.35,
            "teacher_main_subject_maths": 0.35,
            "teacher_years_since_qts": 0.45,
        },
        default=0.05,
    )
    assert (data.set_rank <= data.number_of_sets).all()
    assert data.set_position.between(0, 1).all()
    # Sets follow attainment: lower sets (higher rank) have lower KS2 scores.
    assert data[["set_rank", "ks2_maths"]].corr().iloc[0, 1] < -0.3
    # Planted: stronger teachers were given the lower sets (teacher_set_correlation < 0).
    effects = query(
        example_trust,
        "SELECT teacher_id AS maths_teacher_id, effect FROM dummy_data_teacher_effects "
        "WHERE academic_year = 2024",
    )
    sets = data.drop_duplicates("maths_class_id").merge(effects, on="maths_teacher_id")
    sets = sets[sets.maths_class_teachers == 1]
    assert sets[["set_position", "effect"]].corr().iloc[0, 1] > 0
