from ehrql_schools import create_dataset

dataset = create_dataset()
dataset.define_population(pupil.exists_for_pupil())  # noqa: F821  (the mistake tested)
