from simple import dataset  # noqa: F401  (the definition beside this file)

test_data = {
    1: {
        "pupils": {"sex": "F"},
        "enrolments": [
            {"school_id": 10, "start_date": "2023-09-01", "year_group": "8"},
            {"school_id": 11, "start_date": "2024-09-01", "year_group": "9"},
        ],
        "expected_columns": {"sex": "F", "school_id": 11, "enrolments": 2},
    },
    2: {
        "pupils": {"sex": "M"},
        "enrolments": [{"school_id": 10, "start_date": "2024-09-01", "year_group": "8"}],
        "expected_in_population": False,
    },
    3: {
        "enrolments": {"school_id": 12, "start_date": "2024-09-01", "year_group": "9"},
        "expected_columns": {"sex": None, "school_id": 12},
    },
}
