"""A small definition for assurance tests: pupils enrolled in year 9 on 1 October 2024."""

from ehrql_schools import create_dataset
from ehrql_schools.tables.schools import enrolments, pupils

dataset = create_dataset()
on_date = enrolments.where(enrolments.start_date.is_on_or_before("2024-10-01"))
year_9 = on_date.where(on_date.year_group == "9")
dataset.define_population(year_9.exists_for_pupil())
dataset.sex = pupils.sex
dataset.school_id = year_9.sort_by(year_9.start_date).last_for_pupil().school_id
dataset.enrolments = enrolments.count_for_pupil()
