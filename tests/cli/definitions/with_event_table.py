from ehrql_schools import create_dataset
from ehrql_schools.tables.schools import enrolments, pupils

dataset = create_dataset()
dataset.define_population(enrolments.exists_for_pupil())
dataset.sex = pupils.sex
dataset.add_event_table(
    "enrolment_rows", start_date=enrolments.start_date, school_id=enrolments.school_id
)
