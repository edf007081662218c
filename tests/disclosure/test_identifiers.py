"""The identifier gate: identifying columns, identifying values, row-level tables, text files."""

import json
from pathlib import Path

import pytest

from job_runner.disclosure.outputs import OutputFile
from job_runner.disclosure.profiles import profile
from job_runner.disclosure.rules.identifiers import check_identifiers, check_text_identifiers
from tests.disclosure.conftest import found, table_from_csv

OPENSAFELY = profile("opensafely")
SRS = profile("srs")


def identifier_findings(table, rules=OPENSAFELY):
    return [
        (f.rule, f.verdict.value, f.numbers.get("column")) for f in check_identifiers(table, rules)
    ]


# Identifying columns


@pytest.mark.parametrize(
    "column", ["upn", "pupil_id", "teacher_id", "date_of_birth", "postcode", "surname"]
)
def test_an_identifying_column_fails(column):
    table = table_from_csv(f"{column},n\nX,20\nY,30\n")
    assert identifier_findings(table) == [("identifier", "fail", column)]


def test_a_column_named_for_a_persons_name_fails():
    table = table_from_csv("pupil_surname,n\nSmith,20\nJones,30\n")
    assert identifier_findings(table) == [("identifier", "fail", "pupil_surname")]


def test_a_school_name_is_not_a_persons_name():
    table = table_from_csv("school_name,n\nHillside Academy,20\nRiverside School,30\n")
    assert check_identifiers(table, OPENSAFELY) == []


def test_a_column_described_as_a_dimension_is_not_failed_for_its_name():
    table = table_from_csv(
        "name,n\nHillside Academy,20\nRiverside School,30\n",
        {"columns": {"name": {"role": "dimension"}}},
    )
    assert check_identifiers(table, OPENSAFELY) == []


# Identifying values


@pytest.mark.parametrize(
    "value, kind",
    [
        ("A123456789012", "a unique pupil number (UPN)"),
        ("H12345678901B", "a unique pupil number (UPN)"),  # a temporary UPN
        ("SW1A 1AA", "a full postcode"),
        ("LS6 3QW", "a full postcode"),
        ("M11AE", "a full postcode"),
        ("parent@example.org", "an email address"),
    ],
)
def test_an_identifying_value_fails_with_its_row_but_never_its_value(value, kind):
    table = table_from_csv(f"group,n\nall,20\n{value},30\n")
    findings = check_identifiers(table, OPENSAFELY)
    assert found(findings) == [("identifier", "fail", 1, "group")]
    [finding] = findings
    assert finding.numbers["kind"] == kind
    assert "line 3" in finding.message
    assert finding.cell.key == {}
    assert value not in json.dumps(finding.to_json())


@pytest.mark.parametrize(
    "value",
    [
        "SW1A",  # a postcode district: an aggregate
        "SW1A 1",  # a sector
        "KS2",
        "E09000033",  # a local authority code
        "A12345678901",  # one digit short of a UPN
        "a123456789012",  # UPN letters are capitals
        "Y7 boys",
        "@media",
    ],
)
def test_values_that_are_not_identifiers_pass(value):
    table = table_from_csv(f"group,n\nall,20\n{value},30\n")
    assert check_identifiers(table, OPENSAFELY) == []


def test_identifiers_are_counted_and_the_first_row_given():
    table = table_from_csv(
        """
        group,n
        all,20
        A123456789012,30
        B123456789012,30
        """
    )
    [finding] = check_identifiers(table, OPENSAFELY)
    assert finding.numbers == {
        "column": "group",
        "kind": "a unique pupil number (UPN)",
        "rows_matching": 2,
        "first_row": 1,
    }


@pytest.mark.parametrize(
    "value, fails",
    [
        ("2012-03-15", True),
        ("15/03/2012", True),
        ("15 March 2012", True),
        ("2012-03-01", False),  # every date the 1st: a month written as a date
        ("2012-03", False),
        ("2012", False),
    ],
)
def test_full_dates_in_a_birth_column(value, fails):
    table = table_from_csv(f"month_of_birth,n\n{value},20\n")
    assert found(check_identifiers(table, OPENSAFELY)) == (
        [("identifier", "fail", 0, "month_of_birth")] if fails else []
    )


def test_full_dates_in_other_columns_pass():
    table = table_from_csv("week_start,sessions\n2024-01-15,2000\n2024-01-22,1980\n")
    assert check_identifiers(table, OPENSAFELY) == []


def test_column_names_that_are_upns_fail():
    table = table_from_csv("measure,A123456789012,B123456789012\nscore,101,99\n")
    [finding] = check_identifiers(table, OPENSAFELY)
    assert (finding.rule, finding.verdict.value) == ("identifier", "fail")
    assert finding.numbers["columns_matching"] == 2
    assert "A123456789012" not in finding.message


# Row-level tables


def many_rows(rows: int, value=lambda i: f"G{i:03d}", total=False) -> str:
    lines = ["group,n", *(f"{value(i)},20" for i in range(rows))]
    if total:
        lines.append(f"Total,{20 * rows}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "rules, rows, verdicts",
    [
        (OPENSAFELY, 99, []),
        (OPENSAFELY, 100, ["fail"]),  # half of a population of 200
        (OPENSAFELY, 101, ["fail"]),
        (SRS, 100, ["fail"]),
        (profile("srs", row_level_fraction=0.25), 49, []),
        (profile("srs", row_level_fraction=0.25), 50, ["fail"]),
    ],
)
def test_row_level_by_population_size(rules, rows, verdicts):
    table = table_from_csv(many_rows(rows, value=lambda i: f"group {i}"), {"population_size": 200})
    findings = check_identifiers(table, rules)
    assert [(f.rule, f.verdict.value) for f in findings] == [("row_level", v) for v in verdicts]


def test_row_level_does_not_count_the_margins():
    table = table_from_csv(
        many_rows(99, value=lambda i: f"group {i}", total=True),
        {"population_size": 200, "total_label": "Total"},
    )
    assert check_identifiers(table, OPENSAFELY) == []


def test_a_row_level_finding_gives_the_numbers():
    table = table_from_csv(many_rows(150, value=lambda i: f"group {i}"), {"population_size": 200})
    [finding] = check_identifiers(table, OPENSAFELY)
    assert finding.numbers == {"rows": 150, "population_size": 200, "row_level_fraction": 0.5}


@pytest.mark.parametrize(
    "rows, value, verdicts",
    [
        (99, lambda i: f"P{i:06d}", []),
        (100, lambda i: f"P{i:06d}", ["needs review"]),
        (101, lambda i: f"P{i:06d}", ["needs review"]),
        (100, lambda i: f"School {i}", []),  # labels, not codes
        (100, lambda i: f"P{i % 50:06d}", []),  # not unique per row
    ],
)
def test_row_level_without_a_population_size(rows, value, verdicts):
    table = table_from_csv(many_rows(rows, value))
    findings = check_identifiers(table, OPENSAFELY)
    assert [(f.rule, f.verdict.value) for f in findings] == [("row_level", v) for v in verdicts]


def test_a_whole_number_id_column_unique_per_row_needs_review():
    text = "ref_id,score\n" + "".join(f"{1000 + i},{i % 7}\n" for i in range(120))
    findings = check_identifiers(table_from_csv(text), SRS)
    assert [(f.rule, f.verdict.value, f.numbers["column"]) for f in findings] == [
        ("row_level", "needs review", "ref_id")
    ]


def test_a_population_size_settles_a_table_of_many_groups():
    text = "urn,n\n" + "".join(f"{100000 + i},40\n" for i in range(150))
    assert check_identifiers(table_from_csv(text), OPENSAFELY) != []
    assert check_identifiers(table_from_csv(text, {"population_size": 6000}), OPENSAFELY) == []


# Text files


def text_output(tmp_path: Path, text: str) -> OutputFile:
    path = tmp_path / "analyse.log"
    path.write_text(text, encoding="utf-8")
    return OutputFile(path, "output/analyse.log")


@pytest.mark.parametrize(
    "line, kind",
    [
        ("dropped pupil A123456789012 (no KS2 result)", "a unique pupil number (UPN)"),
        ("home postcode LS6 3QW", "a full postcode"),
        ("sent to head@school.example.sch.uk", "an email address"),
        ("pupil 1234: date of birth 15/03/2012", "a date of birth"),
        ("DOB 2012-03-15", "a date of birth"),
    ],
)
def test_identifiers_in_text_fail_with_the_line(tmp_path, line, kind):
    output = text_output(tmp_path, f"loading data\n\n{line}\nfitting the model\n")
    [finding] = check_text_identifiers(output, OPENSAFELY)
    assert (finding.rule, finding.verdict.value) == ("identifier", "fail")
    assert finding.numbers == {"kind": kind, "lines_matching": 1, "first_line": 3}
    assert line.split()[-1] not in finding.message


def test_a_clean_log_passes(tmp_path):
    output = text_output(
        tmp_path,
        "Loaded 7,312 pupils from 12 schools on 2024-01-15\n"
        "KS2 scaled scores: 80 to 120; postcode districts LS6, LS7\n"
        "Wrote output/absence_by_fsm.csv (rounded to 5, 7 or fewer redacted)\n",
    )
    assert check_text_identifiers(output, OPENSAFELY) == []


def test_a_statsmodels_summary_has_no_identifiers(tmp_path):
    import numpy as np
    import pandas as pd
    import statsmodels.formula.api as smf

    rng = np.random.default_rng(3)
    data = pd.DataFrame({"score": rng.normal(100, 15, 60), "school": rng.choice(list("ABC"), 60)})
    summary = smf.ols("score ~ C(school)", data).fit().summary()
    output = text_output(tmp_path, f"{summary}\n{summary.as_html()}\n")
    assert check_text_identifiers(output, OPENSAFELY) == []
