"""Differencing across outputs (sdc.md rule 7): nested tables whose matching cells differ by a
small group, in one request and against released tables; thresholds on and either side for
both profiles, rounding, and tables that must not be compared."""

import json

import pytest

from job_runner.disclosure.profiles import profile
from job_runner.disclosure.rules.differencing import ReleasedTables, check_differencing
from tests.disclosure.conftest import found, table_from_csv

OPENSAFELY = profile("opensafely")
SRS = profile("srs")


def named(path, text, description=None):
    table = table_from_csv(text, description)
    table.path = path
    return table


def by_school(path, a, b=200, description=None, column="pupils"):
    return named(
        path,
        f"""
        school,{column}
        A,{a}
        B,{b}
        """,
        description,
    )


@pytest.mark.parametrize(
    "rules, difference, failing",
    [
        (OPENSAFELY, 7, True),
        (OPENSAFELY, 8, False),
        (SRS, 9, True),
        (SRS, 10, False),
    ],
)
def test_a_small_difference_between_nested_tables_fails_on_both(rules, difference, failing):
    everyone = by_school("all.csv", 120)
    without_ehcp = by_school("no_ehcp.csv", 120 - difference, 190)
    findings = check_differencing([everyone, without_ehcp], rules, None)
    if not failing:
        assert findings == {}
        return
    assert found(findings["all.csv"]) == [("differencing", "fail", 0, "pupils")]
    assert found(findings["no_ehcp.csv"]) == [("differencing", "fail", 0, "pupils")]
    finding = findings["all.csv"][0]
    assert finding.numbers["difference"] == difference
    assert finding.numbers["other_file"] == "no_ehcp.csv"
    assert "no_ehcp.csv" in finding.message and f"{difference}" in finding.message
    assert "all.csv" in findings["no_ehcp.csv"][0].message


def test_a_zero_difference_isolates_no_one():
    findings = check_differencing(
        [by_school("all.csv", 120), by_school("no_ehcp.csv", 120, 190)], OPENSAFELY, None
    )
    assert findings == {}


def test_tables_that_are_not_nested_are_not_compared():
    # A is smaller in the second table, B larger: overlapping populations, not a subset.
    findings = check_differencing(
        [by_school("a.csv", 120, 200), by_school("b.csv", 115, 230)], OPENSAFELY, None
    )
    assert findings == {}


def test_released_tables_are_compared_and_only_the_request_gets_findings():
    released = ReleasedTables([by_school("releases/all.csv", 120)])
    findings = check_differencing([by_school("no_ehcp.csv", 115, 190)], OPENSAFELY, released)
    assert list(findings) == ["no_ehcp.csv"]
    [finding] = findings["no_ehcp.csv"]
    assert finding.numbers["other_file"] == "releases/all.csv"
    assert finding.numbers["difference"] == 5


def test_released_tables_from_a_folder_with_their_sidecars(tmp_path):
    (tmp_path / "2023").mkdir()
    (tmp_path / "2023" / "all.csv").write_text("school,pupils\nA,120\nB,200\n")
    (tmp_path / "2023" / "all.csv.sdc.json").write_text(
        json.dumps({"description": "pupils by school", "unit": "pupil"})
    )
    (tmp_path / "notes.txt").write_text("not a table")
    (tmp_path / "broken.csv").write_bytes(b"\xff\xfe\x00bad")
    released = ReleasedTables.from_folder(tmp_path)
    assert [table.path for table in released.tables] == ["2023/all.csv"]
    findings = check_differencing([by_school("no_ehcp.csv", 115, 190)], OPENSAFELY, released)
    assert findings["no_ehcp.csv"][0].numbers["other_file"] == "2023/all.csv"


def test_tables_with_other_dimensions_are_never_looked_at():
    released = ReleasedTables(
        [
            named("by_year.csv", "year,pupils\n7,120\n8,200\n"),
            named("by_school_year.csv", "school,year,pupils\nA,7,118\nB,7,195\n"),
            named("other_schools.csv", "school,pupils\nC,118\nD,195\n"),
        ]
    )
    request = ReleasedTables([by_school("all.csv", 120)])
    assert released.matching_rows(request.tables[0]) == {}
    assert check_differencing([by_school("all.csv", 120)], OPENSAFELY, released) == {}


def test_only_matching_keys_are_compared():
    released = ReleasedTables(
        [named("some.csv", "school,pupils\nA,115\nC,3\n"), by_school("elsewhere.csv", 999, 999)]
    )
    request = ReleasedTables([by_school("all.csv", 120)])
    assert released.matching_rows(request.tables[0]) == {0: [(0, 0)], 1: [(0, 0), (1, 1)]}
    findings = check_differencing([by_school("all.csv", 120)], OPENSAFELY, released)
    assert [(f.numbers["other_file"], f.numbers["difference"]) for f in findings["all.csv"]] == [
        ("some.csv", 5)
    ]


def test_total_rows_match_the_rows_of_a_table_without_that_dimension():
    by_fsm = named(
        "by_school_fsm.csv",
        """
        school,fsm,pupils
        A,yes,30
        A,no,90
        A,Total,120
        B,Total,200
        Total,Total,320
        """,
    )
    findings = check_differencing([by_fsm, by_school("no_ehcp.csv", 114, 190)], OPENSAFELY, None)
    assert found(findings["by_school_fsm.csv"]) == [("differencing", "fail", 2, "pupils")]
    assert findings["by_school_fsm.csv"][0].numbers["difference"] == 6


def test_single_numbers_are_compared_with_each_other_and_with_grand_totals():
    everyone = named("n_all.csv", "pupils\n1234\n")
    without = named("n_without.csv", "n\n1228\n")  # one count column each: compared
    grand = named("by_school.csv", "school,pupils\nA,1000\nB,239\nTotal,1239\n")
    findings = check_differencing([everyone, without, grand], OPENSAFELY, None)
    differences = sorted(
        (path, f.numbers["other_file"], f.numbers["difference"])
        for path, found_here in findings.items()
        for f in found_here
    )
    assert differences == [
        ("by_school.csv", "n_all.csv", 5),  # its grand total
        ("n_all.csv", "by_school.csv", 5),
        ("n_all.csv", "n_without.csv", 6),
        ("n_without.csv", "n_all.csv", 6),
    ]  # 1239 - 1228 = 11 is not small


def test_columns_of_different_names_are_not_compared_when_a_table_has_several():
    findings = check_differencing(
        [
            named("a.csv", "school,pupils,teachers\nA,120,30\n"),
            named("b.csv", "school,sessions,classes\nA,115,28\n"),
        ],
        OPENSAFELY,
        None,
    )
    assert findings == {}


def test_tables_of_different_units_are_not_compared():
    pupils = by_school("pupils.csv", 120, description={"unit": "pupil"})
    teachers = by_school("teachers.csv", 115, 190, description={"unit": "teacher"})
    assert check_differencing([pupils, teachers], OPENSAFELY, None) == {}
    same = by_school("pupils2.csv", 115, 190, description={"unit": "Pupil"})
    assert check_differencing([pupils, same], OPENSAFELY, None) != {}


def test_suppressed_cells_are_not_compared():
    findings = check_differencing(
        [by_school("all.csv", 120), by_school("no_ehcp.csv", "[REDACTED]", 195)],
        OPENSAFELY,
        None,
    )
    assert found(findings["all.csv"]) == [("differencing", "fail", 1, "pupils")]


def test_a_table_is_not_compared_with_itself():
    table = by_school("all.csv", 120)
    assert check_differencing([table], OPENSAFELY, ReleasedTables([table])) == {}


@pytest.mark.parametrize(
    "smaller, verdict",
    [
        (120, None),  # no visible difference
        (115, "needs review"),  # one step: the true difference is 1 to 9
        (110, None),  # two steps: at least 6, within noise of a larger group
    ],
)
def test_rounded_differences_are_within_rounding_noise(smaller, verdict):
    rounded = {"rounding": 5}
    findings = check_differencing(
        [by_school("all.csv", 120, 200, rounded), by_school("sub.csv", smaller, 190, rounded)],
        OPENSAFELY,
        None,
    )
    if verdict is None:
        assert findings == {}
        return
    [finding] = findings["all.csv"]
    assert finding.verdict.value == verdict
    assert finding.numbers["difference_interval"] == [1, 9]
    assert "rounding" in finding.message


def test_midpoint6_differences_of_one_step_need_review():
    findings = check_differencing(
        [
            named("all.csv", "school,pupils_midpoint6\nA,15\nB,201\n"),
            named("sub.csv", "school,pupils_midpoint6\nA,9\nB,195\n"),
        ],
        OPENSAFELY,
        None,
    )
    assert [f.verdict.value for f in findings["all.csv"]] == ["needs review", "needs review"]
    assert findings["all.csv"][0].numbers["difference_interval"] == [1, 11]


def test_one_rounded_table_against_an_exact_one_needs_review_not_fail():
    findings = check_differencing(
        [by_school("all.csv", 120, 200, {"rounding": 5}), by_school("sub.csv", 117, 150)],
        OPENSAFELY,
        None,
    )
    [finding] = findings["all.csv"]
    assert finding.verdict.value == "needs review"
    assert finding.numbers["difference_interval"] == [1, 5]


def test_findings_accumulate_per_other_table():
    released = ReleasedTables(
        [by_school("r1.csv", 125, 300), by_school("r2.csv", 126, 300), by_school("r3.csv", 500)]
    )
    findings = check_differencing([by_school("new.csv", 120)], OPENSAFELY, released)
    assert [f.numbers["other_file"] for f in findings["new.csv"]] == ["r1.csv", "r2.csv"]
