"""Strongest teachers to the lowest sets? One row per pupil in a maths set in years 7 to 9 on
the autumn census day, with their set, its teacher, what the data say about that teacher, prior
attainment and their maths result at the end of the year.

Question: do schools give their strongest maths teachers to the top sets or to the bottom sets,
and do pupils in low sets gain more from a strong teacher than pupils in high sets?

"Strongest" needs a measure the data can give before the year starts. In the dataset: the
teacher's qualified status and years since QTS (teacher effects grow over the first years of
teaching), and their training route. The teacher's value-added in earlier years is the better
proxy; it is estimated in another action from examples/teacher_value_added and joined to this
dataset on maths_teacher_id in the analysis (a dataset definition cannot read another action's
output).

Parameters (`-- --academic_year=2024 --census_date=2024-10-03`): as for
examples/afternoon_maths.
"""

import datetime

from ehrql_schools import case, create_dataset, get_parameter, when
from ehrql_schools.school_year import enrolment_on
from ehrql_schools.tables.schools import (
    assessment_results,
    class_memberships,
    ks2_results,
    pupil_characteristics,
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

# Population: pupils in years 7 to 9 whose maths class on the census day is a set. Key stage 3
# only: the sets there follow KS2, which the KS4 cohorts of 2024/25 and 2025/26 lack (their KS2
# tests were cancelled), and the end-of-year result is an in-school assessment, not a GCSE.
enrolment = enrolment_on(CENSUS_DATE)
sets = class_memberships.where(
    (class_memberships.class_.subject == "maths")
    & (class_memberships.class_.grouping == "set")
    & (class_memberships.class_.academic_year == ACADEMIC_YEAR)
)
on_census_day = sets.where(
    sets.start_date.is_on_or_before(CENSUS_DATE) & sets.end_date.is_on_or_after(CENSUS_DATE)
)
membership = on_census_day.sort_by(on_census_day.start_date).last_for_pupil()
dataset.define_population(
    enrolment.exists_for_pupil()
    & enrolment.year_group.is_in(["7", "8", "9"])
    & membership.exists_for_pupil()
)
dataset.school_id = enrolment.school_id
dataset.year_group = enrolment.year_group

# The set: rank 1 is the top set. The relative position (0 top, 1 bottom) compares schools with
# different numbers of sets. Pupils moved between sets in the year are flagged.
maths_set = membership.class_
dataset.maths_class_id = maths_set.class_id
dataset.set_rank = maths_set.set_rank
dataset.number_of_sets = maths_set.number_of_sets
dataset.set_position = case(
    when(maths_set.number_of_sets > 1).then(
        (maths_set.set_rank - 1) / (maths_set.number_of_sets - 1)
    )
)
dataset.moved_set = sets.class_id.count_distinct_for_pupil() > 1

# The set's teacher: the one with the largest share of its lessons (shared classes have only
# "shared" teachers; long-term cover is left out), and how many teachers it has.
teachers = maths_set.class_teachers.where(maths_set.class_teachers.role != "cover")
main_teacher = teachers.sort_by(teachers.share_percent).last()
dataset.maths_teacher_id = main_teacher.teacher_id
dataset.maths_teacher_share = main_teacher.share_percent
dataset.maths_class_teachers = teachers.count()

# What the data say about the teacher. A class's teachers (class_teachers) do not lead to the
# teachers table from a pupil's row, but its lessons do: in a single-teacher class every lesson
# not taught as cover is the teacher's own, so the teacher of the first such lesson is the
# class's teacher. In shared classes that could be either teacher, so the proxies are left null.
own_lessons = maths_set.lessons.where(~maths_set.lessons.is_cover)
teacher = own_lessons.sort_by(own_lessons.date, own_lessons.start_time).first().teacher
single_teacher = teachers.count() == 1
dataset.teacher_qts_status = case(when(single_teacher).then(teacher.qts_status))
dataset.teacher_years_since_qts = case(when(single_teacher).then(ACADEMIC_YEAR - teacher.qts_year))
dataset.teacher_training_route = case(when(single_teacher).then(teacher.training_route))
dataset.teacher_main_subject_maths = case(
    when(single_teacher).then(teacher.main_subject == "maths")
)
# Share of the set's lessons taught by cover teachers: another (poor) marker of how the set is
# staffed.
lessons = maths_set.lessons.where(maths_set.lessons.date.is_on_or_between(YEAR_START, YEAR_END))
dataset.cover_share = lessons.where(lessons.is_cover).count() / lessons.count()

# Prior attainment and background.
ks2_maths = ks2_results.where(ks2_results.subject == "maths")
dataset.ks2_maths = ks2_maths.sort_by(ks2_maths.academic_year).last_for_pupil().scaled_score
census = pupil_characteristics.where(
    pupil_characteristics.census_date.is_on_or_between(YEAR_START, CENSUS_DATE)
)
census = census.sort_by(census.census_date).last_for_pupil()
dataset.fsm = census.fsm
dataset.sen_provision = census.sen_provision

# Outcome: the last summer-term maths attainment result (as in examples/afternoon_maths), as a
# percentage of its scale with its assessment, to standardise within assessment.
summer = assessment_results.where(
    (assessment_results.assessment.subject == "maths")
    & (assessment_results.assessment.academic_year == ACADEMIC_YEAR)
    & (assessment_results.assessment.term == "summer")
    & assessment_results.assessment.assessment_type.is_in(["termly", "mock", "standardised"])
    & assessment_results.assessment.scale.is_not_in(["on_track", "effort_1_3"])
    & assessment_results.result_percent.is_not_null()
)
outcome = summer.sort_by(summer.result_date).last_for_pupil()
dataset.summer_maths_percent = outcome.result_percent
dataset.summer_maths_assessment_id = outcome.assessment_id
