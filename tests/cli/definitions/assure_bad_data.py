from simple import dataset  # noqa: F401

test_data = {
    1: {
        "pupil": {"sex": "F"},
        "enrolments": [{"school_id": 10, "strat_date": "2024-09-01"}],
        "expected_columns": {"sexx": "F"},
    },
}
