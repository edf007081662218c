from ehrql_schools import create_dataset
from ehrql_schools.tables.schools import teacher_contracts, teachers

dataset = create_dataset()
dataset.define_population(teachers.exists_for_teacher())
dataset.sex = teachers.sex
dataset.contracts = teacher_contracts.count_for_teacher()
