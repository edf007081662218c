"""Teacher value-added in GCSE maths: one row per pupil in year 11 when the GCSE exams start,
with prior attainment (KS2), KS4 results, characteristics, school and their year 11 maths class
and teacher.

Question (after the TIDE study, NIoT and Evidence Based Education, 2024): how much do pupils'
GCSE maths grades depend on their maths teacher, once prior attainment and background are
allowed for? The analysis fits a multilevel model (pupils in classes in teachers in schools) of
the maths grade on KS2, FSM, SEN, EAL, sex and attendance, each also as a class mean.

Parameters (`-- --academic_year=2024`):
    academic_year  the year 11 cohort's academic year, as the calendar year it starts in
                   (default 2023: GCSEs sat in summer 2024). Not 2024 or 2025: those cohorts
                   were in year 6 in 2019/20 and 2020/21, when the KS2 tests were cancelled,
                   so they have no KS2 prior attainment.
"""

import datetime

from ehrql_schools import case, create_dataset, get_parameter, when
from ehrql_schools.school_year import enrolment_on, sessions_missed, sessions_possible
from ehrql_schools.tables.schools import (
    class_memberships,
    ks2_results,
    ks4_results,
    pupil_characteristics,
    pupils,
)

ACADEMIC_YEAR = int(get_parameter("academic_year", default="2023"))
YEAR_START = datetime.date(ACADEMIC_YEAR, 9, 1)
YEAR_END = datetime.date(ACADEMIC_YEAR + 1, 8, 31)
# The GCSE exams start in mid-May: the KS4 cohort is the year 11 pupils on roll that day (the
# DfE's performance tables use the January census; mid-May keeps late joiners, who sit here).
EXAM_START = datetime.date(ACADEMIC_YEAR + 1, 5, 15)

dataset = create_dataset()

# Population: on roll in year 11 on the first day of the exams.
enrolment = enrolment_on(EXAM_START)
dataset.define_population(enrolment.exists_for_pupil() & (enrolment.year_group == "11"))
dataset.school_id = enrolment.school_id
dataset.sex = pupils.sex

# Prior attainment: KS2 reading and maths scaled scores (80-120), null for pupils who sat no test
# or whose record did not reach the trust (common for pupils who joined in secondary school).
# A pupil has at most one KS2 record per subject; sorting by year makes that explicit.
ks2_maths = ks2_results.where(ks2_results.subject == "maths")
ks2_maths = ks2_maths.sort_by(ks2_maths.academic_year).last_for_pupil()
ks2_reading = ks2_results.where(ks2_results.subject == "reading")
ks2_reading = ks2_reading.sort_by(ks2_reading.academic_year).last_for_pupil()
dataset.ks2_maths = ks2_maths.scaled_score
dataset.ks2_reading = ks2_reading.scaled_score
# The DfE's KS2 prior attainment for progress measures: the mean of reading and maths.
dataset.ks2_prior = (ks2_maths.scaled_score + ks2_reading.scaled_score) / 2

# KS4 results of this academic year. Attainment 8: English and maths count double, then three
# EBacc and three open slots (maximum 90). Each result says which slot it fills.
ks4 = ks4_results.where(ks4_results.academic_year == ACADEMIC_YEAR)
double = ks4.where(ks4.attainment8_slot.is_in(["english", "maths"]))
single = ks4.where(ks4.attainment8_slot.is_in(["ebacc", "open"]))
dataset.attainment8 = case(
    when(ks4.exists_for_pupil()).then(
        2 * double.points.sum_for_pupil().when_null_then(0.0)
        + single.points.sum_for_pupil().when_null_then(0.0)
    )
)
ks4_maths = ks4.where((ks4.subject == "maths") & (ks4.qualification == "GCSE"))
ks4_maths = ks4_maths.sort_by(ks4_maths.academic_year).last_for_pupil()
dataset.maths_grade = ks4_maths.grade  # 9-1 or U, as awarded
dataset.maths_points = ks4_maths.points  # 9-1, U is 0

# Characteristics at the last census before the exams (the January census for nearly all).
# FSM6 (free school meals in the last six years) is the DfE's "disadvantaged".
census = pupil_characteristics.where(
    pupil_characteristics.census_date.is_on_or_between(YEAR_START, EXAM_START)
)
census = census.sort_by(census.census_date).last_for_pupil()
dataset.fsm = census.fsm
dataset.fsm6 = census.fsm6
dataset.sen_provision = census.sen_provision  # N, K (SEN support), E (EHC plan)
dataset.eal = census.eal

# Attendance in year 11 (absence lowers scores in the TIDE model and in the synthetic data).
possible = sessions_possible(YEAR_START, YEAR_END)
dataset.absence_rate = sessions_missed(YEAR_START, YEAR_END) / possible

# The year 11 maths class: the one the pupil was in last (a pupil moved between sets has two
# memberships; the class they sat the exam from is the one to credit).
maths_memberships = class_memberships.where(
    (class_memberships.class_.subject == "maths")
    & (class_memberships.class_.year_group == "11")
    & (class_memberships.class_.academic_year == ACADEMIC_YEAR)
)
maths_class = (
    maths_memberships.sort_by(maths_memberships.end_date, maths_memberships.start_date)
    .last_for_pupil()
    .class_
)
dataset.maths_class_id = maths_class.class_id
dataset.maths_set_rank = maths_class.set_rank
dataset.maths_number_of_sets = maths_class.number_of_sets

# Its teacher: the one with the largest share of its lessons (a shared class has no "main"
# teacher, only "shared" ones; long-term cover is not the class's teacher). TIDE keeps only
# single-teacher classes, so the number of teachers is kept too, to filter on in the analysis.
teachers = maths_class.class_teachers.where(maths_class.class_teachers.role != "cover")
dataset.maths_teacher_id = teachers.sort_by(teachers.share_percent).last().teacher_id
dataset.maths_teacher_share = teachers.sort_by(teachers.share_percent).last().share_percent
dataset.maths_class_teachers = teachers.count()
