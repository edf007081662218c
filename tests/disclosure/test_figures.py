"""Figures: their counts beside them, histogram bins and outer edges, identifiers in SVG text."""

import json
from pathlib import Path

import matplotlib
import pytest

from job_runner.disclosure.checker import check_files
from job_runner.disclosure.description import TableDescription
from job_runner.disclosure.outputs import OutputFile
from job_runner.disclosure.profiles import profile
from job_runner.disclosure.rules.figures import check_figure
from tests.disclosure.conftest import table_from_csv

matplotlib.use("Agg")

OPENSAFELY = profile("opensafely")
SRS = profile("srs")
BAR_COUNTS = "fsm,pupils\nyes,120\nno,480\n"


def figure(
    tmp_path: Path, name="attendance.png", description=None, content=b"\x89PNG"
) -> OutputFile:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    sidecar = (
        TableDescription.model_validate({"description": "a figure", **description})
        if description
        else None
    )
    return OutputFile(path, f"output/{name}", sidecar)


def rules_and_verdicts(findings):
    return [(finding.rule, finding.verdict.value) for finding in findings]


# Finding the counts


def test_a_figure_without_counts_needs_review(tmp_path):
    findings = check_figure(figure(tmp_path), OPENSAFELY, {})
    assert rules_and_verdicts(findings) == [("figure_counts", "needs review")]
    assert "attendance.csv" in findings[0].message
    assert "counts_file" in findings[0].message


def test_a_csv_with_the_same_name_is_its_counts(tmp_path):
    tables = {"output/attendance.csv": table_from_csv(BAR_COUNTS)}
    findings = check_figure(figure(tmp_path), OPENSAFELY, tables)
    assert rules_and_verdicts(findings) == [("figure_counts", "pass")]
    assert findings[0].numbers == {"counts_file": "output/attendance.csv"}


def test_a_csv_with_another_name_is_not(tmp_path):
    tables = {"output/attendance_by_fsm.csv": table_from_csv(BAR_COUNTS)}
    assert rules_and_verdicts(check_figure(figure(tmp_path), OPENSAFELY, tables)) == [
        ("figure_counts", "needs review")
    ]


def test_the_described_counts_file_is_used(tmp_path):
    tables = {
        "output/attendance.csv": table_from_csv(BAR_COUNTS),
        "output/attendance_by_fsm.csv": table_from_csv(BAR_COUNTS),
    }
    output = figure(tmp_path, description={"counts_file": "attendance_by_fsm.csv"})
    findings = check_figure(output, OPENSAFELY, tables)
    assert findings[0].numbers == {"counts_file": "output/attendance_by_fsm.csv"}


def test_a_described_counts_file_that_is_missing_needs_review(tmp_path):
    output = figure(tmp_path, description={"counts_file": "attendance_by_fsm.csv"})
    findings = check_figure(output, OPENSAFELY, {})
    assert rules_and_verdicts(findings) == [("figure_counts", "needs review")]
    assert "attendance_by_fsm.csv" in findings[0].message


def test_counts_released_before_are_read_from_beside_the_figure(tmp_path):
    (tmp_path / "attendance.csv").write_text(BAR_COUNTS)
    findings = check_figure(figure(tmp_path), OPENSAFELY, {})
    assert rules_and_verdicts(findings) == [("figure_counts", "pass")]


# Histograms


def histogram(counts: list, edges=(80, 90, 100, 110, 120)) -> str:
    rows = [
        f"{low},{high},{count}"
        for low, high, count in zip(edges[:-1], edges[1:], counts, strict=True)
    ]
    return "\n".join(["bin_start,bin_end,pupils", *rows]) + "\n"


BOUNDS = {"bounds": {"score": [80, 120]}}


def check_histogram(
    tmp_path, text, rules=OPENSAFELY, figure_description=BOUNDS, table_description=None
):
    tables = {"output/attendance.csv": table_from_csv(text, table_description)}
    findings = check_figure(figure(tmp_path, description=figure_description), rules, tables)
    return [f for f in findings if f.rule == "histogram"]


@pytest.mark.parametrize(
    "rules, smallest, expected",
    [
        (OPENSAFELY, 7, ["fail"]),
        (OPENSAFELY, 8, []),
        (OPENSAFELY, 9, []),
        (SRS, 9, ["fail"]),
        (SRS, 10, []),
        (SRS, 11, []),
        (profile("srs", threshold=5), 4, ["fail"]),
        (profile("srs", threshold=5), 5, []),
    ],
)
def test_histogram_bin_threshold(tmp_path, rules, smallest, expected):
    findings = check_histogram(tmp_path, histogram([40, smallest, 60, 20]), rules)
    assert [f.verdict.value for f in findings] == expected
    for finding in findings:
        assert finding.numbers["row"] == 1
        assert finding.numbers["bin"] == [90, 100]


def test_an_empty_bin_is_small_when_the_profile_redacts_zeros(tmp_path):
    text = histogram([40, 0, 60, 20])
    assert [f.verdict.value for f in check_histogram(tmp_path, text)] == ["fail"]
    assert check_histogram(tmp_path, text, profile("opensafely", redact_zero=False)) == []


def test_a_suppressed_bin_needs_review(tmp_path):
    findings = check_histogram(tmp_path, histogram([40, "[REDACTED]", 60, 20]))
    assert [f.verdict.value for f in findings] == ["needs review"]


def test_outer_edges_without_bounds_need_review(tmp_path):
    findings = check_histogram(tmp_path, histogram([40, 30, 60, 20]), figure_description=None)
    assert [f.verdict.value for f in findings] == ["needs review"]
    assert findings[0].numbers == {
        "counts_file": "output/attendance.csv",
        "first_edge": 80,
        "last_edge": 120,
    }
    assert '"bounds"' in findings[0].message


@pytest.mark.parametrize(
    "edges, expected",
    [
        ((80, 90, 100, 110, 120), []),  # on the bounds
        ((70, 90, 100, 110, 130), []),  # beyond them
        ((81, 90, 100, 110, 120), ["fail"]),  # the first edge inside: maybe the data's minimum
        ((80, 90, 100, 110, 119), ["fail"]),  # the last edge inside: maybe the data's maximum
    ],
)
def test_outer_edges_must_reach_the_declared_bounds(tmp_path, edges, expected):
    findings = check_histogram(tmp_path, histogram([40, 30, 60, 20], edges))
    assert [f.verdict.value for f in findings] == expected


def test_bounds_may_be_declared_beside_the_counts_table(tmp_path):
    text = histogram([40, 30, 60, 20])
    assert check_histogram(tmp_path, text, figure_description=None, table_description=BOUNDS) == []


def test_open_outer_bins_pass_without_bounds(tmp_path):
    text = "lower,upper,pupils\n-inf,90,40\n90,100,30\n100,110,60\n110,inf,20\n"
    assert check_histogram(tmp_path, text, figure_description=None) == []


def test_pandas_interval_labels_are_bins(tmp_path):
    text = 'score_band,pupils\n"(80.0, 90.0]",40\n"(90.0, 100.0]",5\n"(100.0, 110.0]",60\n'
    findings = check_histogram(tmp_path, text, figure_description=None)
    assert [(f.verdict.value, f.numbers.get("bin")) for f in findings] == [
        ("fail", [90.0, 100.0]),
        ("needs review", None),
    ]


def test_integer_bins_with_gaps_are_bins(tmp_path):
    text = "score_from,score_to,pupils\n0,9,40\n10,19,3\n20,29,60\n"
    findings = check_histogram(tmp_path, text, figure_description={"bounds": {"score": [0, 29]}})
    assert [f.verdict.value for f in findings] == ["fail"]


def test_left_and_right_edge_columns_are_not_counts(tmp_path):
    text = "left,right,pupils\n80,90,40\n90,100,30\n100,120,20\n"
    assert check_histogram(tmp_path, text) == []


def test_confidence_intervals_are_not_bins(tmp_path):
    text = "school,pupils,mean_score,lower,upper\nA,40,101.2,97.1,105.3\nB,3,99.0,94.2,103.8\n"
    assert check_histogram(tmp_path, text, figure_description=None) == []


# SVG figures are text


def test_identifiers_in_an_svg_fail(tmp_path):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><text>A123456789012</text></svg>'
    findings = check_figure(figure(tmp_path, "pupils.svg", content=svg), OPENSAFELY, {})
    assert rules_and_verdicts(findings) == [
        ("identifier", "fail"),
        ("figure_counts", "needs review"),
    ]


def test_a_matplotlib_svg_has_no_identifiers(tmp_path):
    import matplotlib.pyplot as plt

    plot, axis = plt.subplots()
    axis.bar(["FSM", "not FSM"], [120, 480])
    axis.set(title="Pupils by FSM eligibility, 2023/24", ylabel="pupils (rounded to 5)")
    path = tmp_path / "attendance.svg"
    plot.savefig(path)
    plt.close(plot)
    tables = {"output/attendance.csv": table_from_csv(BAR_COUNTS)}
    findings = check_figure(OutputFile(path, "output/attendance.svg"), OPENSAFELY, tables)
    assert rules_and_verdicts(findings) == [("figure_counts", "pass")]


# Through the checker


def test_a_figure_and_its_counts_in_one_request(tmp_path):
    folder = tmp_path / "output"
    folder.mkdir()
    (folder / "scores.png").write_bytes(b"\x89PNG")
    (folder / "scores.png.sdc.json").write_text(
        json.dumps({"description": "KS2 maths scaled scores", "bounds": {"score": [80, 120]}})
    )
    (folder / "scores.csv").write_text(histogram([40, 5, 60, 20]))
    reports = check_files([folder / "scores.png", folder / "scores.csv"], OPENSAFELY, root=tmp_path)
    figure_findings = [f for f in reports[0].findings if f.rule in ("figure_counts", "histogram")]
    assert rules_and_verdicts(figure_findings) == [("figure_counts", "pass"), ("histogram", "fail")]
    assert figure_findings[0].numbers == {"counts_file": "output/scores.csv"}
