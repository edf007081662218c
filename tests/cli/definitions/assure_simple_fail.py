from simple import dataset  # noqa: F401

test_data = {
    1: {
        "pupils": {"sex": "F"},
        "enrolments": [{"school_id": 10, "start_date": "2024-09-01", "year_group": "9"}],
        "expected_columns": {"sex": "M", "school_id": 10},
    },
    2: {
        "enrolments": [{"school_id": 10, "start_date": "2024-09-01", "year_group": "8"}],
    },
    3: {
        "enrolments": [{"school_id": 10, "start_date": "2024-09-01", "year_group": "9"}],
        "expected_in_population": False,
    },
}
