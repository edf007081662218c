"""Teacher value-added in GCSE maths, the teachers' side: one row per teacher of a year 11 maths
class in the academic year, with what the trust knows about them.

The value-added itself is estimated by the analysis from the pupil-level dataset
(dataset_definition.py) and joined to this one on teacher_id, to ask whether it follows
experience, qualification, training route or pay.

Parameters (`-- --academic_year=2024`): as for dataset_definition.py.
"""

import datetime

from ehrql_schools import create_dataset, get_parameter
from ehrql_schools.tables.schools import class_teachers, teacher_contracts, teachers

ACADEMIC_YEAR = int(get_parameter("academic_year", default="2023"))
YEAR_START = datetime.date(ACADEMIC_YEAR, 9, 1)
YEAR_END = datetime.date(ACADEMIC_YEAR + 1, 8, 31)
CENSUS_DATE = datetime.date(ACADEMIC_YEAR, 11, 1)  # (check) around the workforce census

dataset = create_dataset()

# Population: teachers of a year 11 maths class that year, other than as long-term cover.
year_11_maths = class_teachers.where(
    (class_teachers.class_.subject == "maths")
    & (class_teachers.class_.year_group == "11")
    & (class_teachers.class_.academic_year == ACADEMIC_YEAR)
    & (class_teachers.role != "cover")
)
dataset.define_population(year_11_maths.exists_for_teacher())
dataset.year_11_maths_classes = year_11_maths.count_for_teacher()
dataset.single_teacher_classes = year_11_maths.where(
    year_11_maths.role == "main"
).count_for_teacher()
dataset.mean_share_percent = year_11_maths.share_percent.mean_for_teacher()

dataset.sex = teachers.sex
dataset.age = ACADEMIC_YEAR - teachers.birth_year
dataset.qts_status = teachers.qts_status
dataset.training_route = teachers.training_route
dataset.main_subject = teachers.main_subject
# Experience: years since QTS (null without QTS). The synthetic trust plants growth of the
# teacher effect over the first three years of teaching.
dataset.years_since_qts = ACADEMIC_YEAR - teachers.qts_year

# The contract running on the census day (the latest started if several): school, post, pay.
running = teacher_contracts.end_date.is_on_or_after(CENSUS_DATE)
contracts = teacher_contracts.where(
    teacher_contracts.start_date.is_on_or_before(CENSUS_DATE)
    & (running | teacher_contracts.end_date.is_null())
)
contract = contracts.sort_by(contracts.start_date).last_for_teacher()
dataset.school_id = contract.school_id
dataset.post = contract.post
dataset.pay_range = contract.pay_range
dataset.pay_point = contract.pay_point
dataset.fte = contract.fte
# Years in the trust: from the start of the teacher's first contract with any of its schools.
first_contract = teacher_contracts.sort_by(teacher_contracts.start_date).first_for_teacher()
dataset.years_in_trust = (YEAR_START - first_contract.start_date).years

# Lessons taught in the year, and the share of them as cover for a colleague.
lessons = teachers.lessons.where(teachers.lessons.date.is_on_or_between(YEAR_START, YEAR_END))
dataset.lessons_taught = lessons.count()
dataset.cover_lessons = lessons.where(lessons.is_cover).count()
