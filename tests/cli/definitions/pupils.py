"""One row per pupil enrolled in the parameter's school year, with a column of every type."""

from ehrql_schools import create_dataset, get_parameter
from ehrql_schools.tables.schools import class_memberships, enrolments, pupils

year = int(get_parameter("year", "2022"))

dataset = create_dataset()
in_year = enrolments.where(enrolments.academic_year == year)
dataset.define_population(in_year.exists_for_pupil())

dataset.sex = pupils.sex
dataset.date_of_birth = pupils.date_of_birth
dataset.enrolments = enrolments.count_for_pupil()
dataset.half_birth_month = pupils.date_of_birth.month / 2
dataset.born_in_autumn = pupils.date_of_birth.month >= 9
maths = class_memberships.where(class_memberships.class_.subject == "maths")
maths_class = maths.sort_by(maths.start_date).first_for_pupil().class_
lessons = maths_class.lessons
dataset.first_maths_lesson = lessons.sort_by(lessons.date, lessons.start_time).first().start_time
