"""A realistic pupil-level dataset for the dataset-vs-SQL benchmark (benchmarks/dataset_vs_sql.py):
pupils on roll on the autumn census day of an academic year, with their year group, FSM, SEN,
attendance rate and persistent absence over the year, latest KS2 maths score, mean maths result
of the year and maths teacher.

Parameters: `academic_year` (default 2024) and `census_date` (default 2024-10-03, the autumn
census day of the synthetic trust).
"""

import datetime

from ehrql_schools import case, create_dataset, get_parameter, when
from ehrql_schools.school_year import enrolment_on, sessions_missed, sessions_possible
from ehrql_schools.tables.schools import (
    assessment_results,
    class_memberships,
    ks2_results,
    pupil_characteristics,
    pupils,
)

ACADEMIC_YEAR = int(get_parameter("academic_year", default="2024"))
CENSUS_DATE = datetime.date.fromisoformat(get_parameter("census_date", default="2024-10-03"))
YEAR_START = datetime.date(ACADEMIC_YEAR, 9, 1)
YEAR_END = datetime.date(ACADEMIC_YEAR + 1, 8, 31)

dataset = create_dataset()

enrolment = enrolment_on(CENSUS_DATE)
# pupils.exists_for_pupil(): a population over a single many-rows table gives duplicate rows
# (engine bug, reported in the benchmark's README line).
dataset.define_population(pupils.exists_for_pupil() & enrolment.exists_for_pupil())
dataset.school_id = enrolment.school_id
dataset.year_group = enrolment.year_group

census = pupil_characteristics.where(
    pupil_characteristics.census_date.is_on_or_between(YEAR_START, CENSUS_DATE)
)
census = census.sort_by(census.census_date).last_for_pupil()
dataset.fsm = census.fsm
dataset.sen_provision = census.sen_provision

possible = sessions_possible(YEAR_START, YEAR_END)
missed = sessions_missed(YEAR_START, YEAR_END)
dataset.attendance_rate = (possible - missed) / possible
dataset.persistent_absence = case(
    when(missed / possible >= 0.1).then(True), when(missed / possible < 0.1).then(False)
)

maths_ks2 = ks2_results.where(ks2_results.subject == "maths")
dataset.ks2_maths = maths_ks2.sort_by(maths_ks2.academic_year).last_for_pupil().scaled_score

maths_results = assessment_results.where(
    (assessment_results.assessment.subject == "maths")
    & (assessment_results.assessment.academic_year == ACADEMIC_YEAR)
)
dataset.maths_mean_percent = maths_results.result_percent.mean_for_pupil()

# The maths class the pupil is in on the census day, and its teacher with the largest share
# (shared classes have no "main" teacher; ties go to the larger teacher_id).
maths = class_memberships.where(
    (class_memberships.class_.subject == "maths")
    & class_memberships.start_date.is_on_or_before(CENSUS_DATE)
    & class_memberships.end_date.is_on_or_after(CENSUS_DATE)
)
maths_class = maths.sort_by(maths.start_date).last_for_pupil().class_
teachers = maths_class.class_teachers.where(maths_class.class_teachers.role != "cover")
dataset.maths_teacher_id = teachers.sort_by(teachers.share_percent).last().teacher_id
