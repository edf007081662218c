"""Afternoon maths: one row per pupil in years 7 to 10 on roll on the autumn census day, with
their maths class, the share of its lessons that start after noon, prior attainment and their
maths result at the end of the year.

Question: do pupils whose maths lessons fall in the afternoon make less progress in maths? The
timetable puts some classes in the afternoon more than others for reasons that have little to do
with the pupils, so the share of afternoon lessons is close to an accident of timetabling. The
analysis regresses the end-of-year result (standardised within its assessment) on the afternoon
share, with KS2 maths and background as controls and the school as a fixed effect.

Parameters (`-- --academic_year=2024 --census_date=2024-10-03`):
    academic_year  the academic year, as the calendar year it starts in (default 2024)
    census_date    the day the pupil's class is taken (default: the first Thursday of October)
"""

import datetime

from ehrql_schools import create_dataset, get_parameter
from ehrql_schools.school_year import enrolment_on
from ehrql_schools.tables.schools import (
    assessment_results,
    class_memberships,
    ks2_results,
    pupil_characteristics,
    pupils,
)

ACADEMIC_YEAR = int(get_parameter("academic_year", default="2024"))
YEAR_START = datetime.date(ACADEMIC_YEAR, 9, 1)
YEAR_END = datetime.date(ACADEMIC_YEAR + 1, 8, 31)


def first_thursday_of_october(year: int) -> datetime.date:
    first = datetime.date(year, 10, 1)
    return first + datetime.timedelta(days=(3 - first.weekday()) % 7)


CENSUS_DATE = datetime.date.fromisoformat(
    get_parameter("census_date", default=first_thursday_of_october(ACADEMIC_YEAR).isoformat())
)

dataset = create_dataset()

# Population: years 7 to 10 on roll on the census day, with a maths class that day. Year 11 is
# left out: its end-of-year result is the GCSE (see examples/teacher_value_added), and its
# summer term is exams rather than lessons.
enrolment = enrolment_on(CENSUS_DATE)
maths_memberships = class_memberships.where(
    (class_memberships.class_.subject == "maths")
    & (class_memberships.class_.academic_year == ACADEMIC_YEAR)
)
on_census_day = maths_memberships.where(
    maths_memberships.start_date.is_on_or_before(CENSUS_DATE)
    & maths_memberships.end_date.is_on_or_after(CENSUS_DATE)
)
# The exposure is the class the pupil is in on the census day; a pupil moved to another set
# during the year is exposed to two timetables, so the number of maths classes is kept too, to
# leave movers out in a sensitivity analysis.
membership = on_census_day.sort_by(on_census_day.start_date).last_for_pupil()
dataset.define_population(
    enrolment.exists_for_pupil()
    & enrolment.year_group.is_in(["7", "8", "9", "10"])
    & membership.exists_for_pupil()
)
dataset.school_id = enrolment.school_id
dataset.year_group = enrolment.year_group
dataset.sex = pupils.sex
dataset.maths_classes_in_year = maths_memberships.class_id.count_distinct_for_pupil()

maths_class = membership.class_
dataset.maths_class_id = maths_class.class_id
dataset.maths_grouping = maths_class.grouping  # set or mixed
dataset.maths_set_rank = maths_class.set_rank
dataset.maths_number_of_sets = maths_class.number_of_sets
teachers = maths_class.class_teachers.where(maths_class.class_teachers.role != "cover")
dataset.maths_teacher_id = teachers.sort_by(teachers.share_percent).last().teacher_id
dataset.maths_class_teachers = teachers.count()

# The exposure: the share of the class's maths lessons in the year that started at or after
# noon. Lessons are those that took place (cover lessons included: the time of day is the same).
lessons = maths_class.lessons.where(maths_class.lessons.date.is_on_or_between(YEAR_START, YEAR_END))
dataset.maths_lessons = lessons.count()
dataset.maths_lessons_after_noon = lessons.where(lessons.start_time >= "12:00").count()
dataset.afternoon_share = dataset.maths_lessons_after_noon / dataset.maths_lessons

# Prior attainment: KS2 maths (null for pupils who were in year 6 when the tests were cancelled,
# 2019/20 and 2020/21: in 2024/25 that is year 10), and background.
ks2_maths = ks2_results.where(ks2_results.subject == "maths")
dataset.ks2_maths = ks2_maths.sort_by(ks2_maths.academic_year).last_for_pupil().scaled_score
census = pupil_characteristics.where(
    pupil_characteristics.census_date.is_on_or_between(YEAR_START, CENSUS_DATE)
)
census = census.sort_by(census.census_date).last_for_pupil()
dataset.fsm = census.fsm
dataset.sen_provision = census.sen_provision
dataset.eal = census.eal

# The outcome: the pupil's last maths attainment result of the summer term. Attainment only:
# termly data drops, mocks and standardised tests, not targets, forecasts, effort grades or
# on-track judgements. Schools use different scales, so the result is kept as a percentage of
# its scale with the assessment it came from, to standardise within assessment in the analysis.
attainment = assessment_results.where(
    (assessment_results.assessment.subject == "maths")
    & (assessment_results.assessment.academic_year == ACADEMIC_YEAR)
    & assessment_results.assessment.assessment_type.is_in(["termly", "mock", "standardised"])
    & assessment_results.assessment.scale.is_not_in(["on_track", "effort_1_3"])
    & assessment_results.result_percent.is_not_null()
)
summer = attainment.where(attainment.assessment.term == "summer")
outcome = summer.sort_by(summer.result_date).last_for_pupil()
dataset.summer_maths_percent = outcome.result_percent
dataset.summer_maths_assessment_id = outcome.assessment_id
dataset.summer_maths_scale = outcome.assessment.scale
# A same-year baseline, the first autumn result: it is closer to the outcome than KS2 and
# exists for every year group, but it already carries a few weeks of the class's timetable.
autumn = attainment.where(attainment.assessment.term == "autumn")
baseline = autumn.sort_by(autumn.result_date).first_for_pupil()
dataset.autumn_maths_percent = baseline.result_percent
dataset.autumn_maths_assessment_id = baseline.assessment_id
