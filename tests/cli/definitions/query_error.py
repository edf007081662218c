from ehrql_schools import create_dataset
from ehrql_schools.tables.schools import pupils

dataset = create_dataset()
dataset.define_population(pupils.exists_for_pupil())
dataset.wrong = pupils.date_of_birth > 3
