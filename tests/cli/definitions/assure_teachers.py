from ehrql_schools import create_dataset
from ehrql_schools.tables.schools import teacher_contracts, teachers

dataset = create_dataset()
dataset.define_population(teachers.exists_for_teacher())
dataset.contracts = teacher_contracts.count_for_teacher()

test_data = {
    7: {
        "teachers": {"sex": "F"},
        "teacher_contracts": [{"school_id": 1}, {"school_id": 2}],
        "expected_columns": {"contracts": 2},
    },
}
