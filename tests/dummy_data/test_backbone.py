"""Pupils, enrolments and census records: flows between years and calibration to national
figures."""

import numpy as np
import pytest

from dummy_data.backbone import random_stream
from dummy_data.build_backbone import build_backbone
from dummy_data.calendar import build_calendar, easter_sunday
from dummy_data.schools import phase_counts
from dummy_data.settings import GeneratorSettings


@pytest.fixture(scope="module")
def backbone():
    return build_backbone(GeneratorSettings(seed=3, trusts=2, schools=40, years=3))


def test_easter():
    assert str(easter_sunday(2024)) == "2024-03-31"
    assert str(easter_sunday(2025)) == "2025-04-20"


@pytest.mark.parametrize("year", range(2018, 2031))
def test_calendar_has_190_weekdays_in_the_academic_year(year):
    calendar = build_calendar(year)
    days = calendar.open_dates
    assert len(days) == 190
    assert len(np.unique(days)) == 190
    assert (days >= calendar.first_day).all() and (days <= calendar.last_day).all()
    assert (
        (days.astype("datetime64[D]").view("int64") - 4) % 7 < 5
    ).all()  # 1970-01-05 was a Monday
    assert list(np.unique(calendar.terms)) == [0, 1, 2]


def test_random_streams_depend_on_keys_not_order():
    first = random_stream(1, "attendance", 5, 2024).random(3)
    random_stream(1, "attendance", 6, 2024).random(3)
    assert (random_stream(1, "attendance", 5, 2024).random(3) == first).all()
    assert not (random_stream(2, "attendance", 5, 2024).random(3) == first).all()


def test_phase_counts_follow_the_shares():
    counts = phase_counts(GeneratorSettings(schools=170))
    assert sum(counts.values()) == 170
    assert counts["primary"] == 116 and counts["secondary"] == 42


def test_one_enrolment_per_pupil_school_and_year(backbone):
    keys = backbone.enrolments[["pupil_id", "school_id", "academic_year"]]
    assert not keys.duplicated().any()


def test_pupils_move_up_a_year_group_each_year(backbone):
    e = backbone.enrolments
    spells = e.merge(e, on="pupil_id", suffixes=("", "_next"))
    consecutive = spells[spells.academic_year_next == spells.academic_year + 1]
    assert len(consecutive) > 0.8 * len(e[e.academic_year < e.academic_year.max()]) * 0.85
    assert (consecutive.year_group_index_next == consecutive.year_group_index + 1).all()


def test_primary_leavers_join_trust_secondaries(backbone):
    e = backbone.enrolments
    year_6 = e[(e.year_group == "6") & (e._phase == "primary")].pupil_id
    year_7 = e[(e.year_group == "7") & (e._phase == "secondary")].pupil_id
    assert year_7.isin(year_6).sum() > 100


def test_characteristics_calibrated(backbone):
    e = backbone.enrolments
    assert e._fsm.mean() == pytest.approx(0.257, abs=0.02)
    assert (e._sen == "E").mean() == pytest.approx(0.053, abs=0.015)
    assert (e._sen == "K").mean() == pytest.approx(0.142, abs=0.02)
    primary = e.year_group_index.between(0, 6)
    assert e[primary]._eal.mean() == pytest.approx(0.228, abs=0.03)
    assert e[e.year_group_index >= 7]._eal.mean() == pytest.approx(0.18, abs=0.03)
    ehcp_boys = backbone.pupils.set_index("pupil_id").sex.loc[e[e._sen == "K"].pupil_id]
    assert (ehcp_boys == "M").mean() == pytest.approx(0.61, abs=0.05)


def test_ethnicity_shares(backbone):
    shares = backbone.pupils.ethnicity.value_counts(normalize=True)
    assert shares["WBRI"] == pytest.approx(0.61, abs=0.02)
    asian = shares[["AIND", "APKN", "ABAN", "AOTH"]].sum()
    assert asian == pytest.approx(0.12, abs=0.015)


def test_planted_absence_rates_calibrated(backbone):
    e = backbone.enrolments
    primary = e.year_group_index.between(0, 6)
    secondary = e.year_group_index.between(7, 11)
    assert e[primary]._absence_rate.mean() == pytest.approx(0.055, abs=0.008)
    assert e[secondary]._absence_rate.mean() == pytest.approx(0.089, abs=0.012)
    assert (e._absence_rate >= 0.1).mean() == pytest.approx(0.20, abs=0.03)
    assert (e._absence_rate >= 0.5).mean() == pytest.approx(0.023, abs=0.01)
    fsm_ratio = e[e._fsm]._absence_rate.mean() / e[~e._fsm]._absence_rate.mean()
    assert 1.5 < fsm_ratio < 2.3


def test_a_pupils_absence_correlates_across_years(backbone):
    e = backbone.enrolments
    wide = e.pivot_table(index="pupil_id", columns="academic_year", values="_absence_rate")
    years = sorted(wide.columns)
    both = wide[[years[0], years[1]]].dropna()
    correlation = both.rank().corr().iloc[0, 1]
    assert 0.45 < correlation < 0.75


def test_census_three_times_a_year(backbone):
    c = backbone.pupil_characteristics
    assert c.census_date.nunique() == 9
    assert not c[["pupil_id", "census_date"]].duplicated().any()
    assert c[c.sen_provision == "N"].sen_primary_need.isna().all()
    assert c[c.sen_provision != "N"].sen_primary_need.notna().all()
