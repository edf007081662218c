"""The disclosure controls in the action images.

The r image has the R package osschoolscontrols (docker/r/osschoolscontrols/): its functions
must give exactly what job_runner.disclosure.controls gives on the same inputs. Every case
below is run once in R (one container for them all) and once in Python, and the results are
compared: values, NA, which inputs are errors, and that R's results are integers. The python
image must run the controls and the checker itself.

Unit tests need no Docker; the others need the built images (the `action_images` fixture:
skipped without Docker, failed in CI).
"""

from __future__ import annotations

import io
import json
import re
import shutil
import tarfile
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from job_runner import images
from job_runner.disclosure import controls
from job_runner.disclosure.checker import check_files
from job_runner.disclosure.profiles import PROFILES, profile

R_PACKAGE = images.SPECS["r"].folder / "osschoolscontrols"
INTEGER_MAX = 2**31 - 1

#: How the backend runs an action (as in test_images.py).
LOCKED_DOWN: dict[str, Any] = {
    "network_mode": "none",
    "read_only": True,
    "cap_drop": ["ALL"],
    "user": "10000",
    "security_opt": ["no-new-privileges"],
    "tmpfs": {"/tmp": "rw,size=64m"},
}


# The shared cases


@dataclass(frozen=True)
class Frame:
    """A table given to both languages: a pandas DataFrame and an R data.frame, with the same
    row labels (index / row names) and columns."""

    columns: dict[str, list[Any]]
    index: list[str]

    def pandas(self) -> pd.DataFrame:
        return pd.DataFrame(self.columns, index=self.index)

    def r(self) -> str:
        columns = ", ".join(
            f"`{name}` = {r_vector(values)}" for name, values in self.columns.items()
        )
        return (
            f"data.frame({columns}, row.names = {r_vector(self.index)}, "
            "check.names = FALSE, stringsAsFactors = FALSE)"
        )


@dataclass(frozen=True)
class Case:
    """`function(counts, **arguments)` in both languages. With `integer`, R gets the counts as
    an integer vector (as read.csv gives them), else as doubles."""

    id: str
    function: str
    counts: list[Any] | Frame
    arguments: dict[str, Any] = field(default_factory=dict)
    integer: bool = False


#: Values on and either side of the thresholds (7, 10) and the rounding ties, zeros, NA, negatives.
VALUES = [None, -12, -8, -7, -6, -5, -3, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]
VALUES += [14, 15, 16, 17, 18, 19, 20, 25, 35, 45, 99, 100, 101, 1234567]
NOT_NEGATIVE = [value for value in VALUES if value is None or value >= 0]
#: Around R's integer range: results beyond it are doubles.
LARGE = [INTEGER_MAX - 1, INTEGER_MAX, INTEGER_MAX + 1, 3_000_000_000, -3_000_000_000, None]

COUNTS_FRAME = Frame(
    {"fsm": [0, 7, 8, None, 23], "not_fsm": [10, 9, 3, 150, 12]},
    ["a", "b", "c", "d", "e"],
)
PHASES = Frame(
    {
        "phase_name": ["Primary", "Secondary", "Special", "Alternative"],
        "fsm": [12, None, 40, None],
        "not_fsm": [None, 25, 60, None],
        "eal": [5, 10, 15, 20],
    },
    ["primary", "secondary", "special", "ap"],
)
#: Stale totals (a row and a column) to be replaced; the total row is not the last.
STALE = Frame(
    {
        "fsm": [10, 999, None, 20],
        "not_fsm": [30, 999, 40, None],
        "Total": [40, 999, 1, 2],
    },
    ["primary", "Total", "secondary", "special"],
)
#: A column of nothing but NA: pandas reads it as float (a count column), R as logical (not one);
#: the totals come out the same.
EMPTY_COLUMN = Frame({"fsm": [5, 10], "unknown": [None, None]}, ["x", "y"])


def shared_cases() -> list[Case]:
    cases: list[Case] = []
    for threshold, inclusive in [
        (7, True),
        (7, False),
        (10, False),
        (10, True),
        (0, True),
        (0, False),
        (1, True),
        (-1, True),
    ]:
        for redact_zero in (True, False):
            arguments = {"threshold": threshold, "inclusive": inclusive, "redact_zero": redact_zero}
            name = f"redact_small-{threshold}-{'le' if inclusive else 'lt'}-zero{redact_zero}"
            cases.append(Case(name, "redact_small", VALUES, arguments))
    cases += [
        Case("redact_small-integer", "redact_small", VALUES, {"threshold": 7}, integer=True),
        Case("redact_small-defaults", "redact_small", [0, 7, 8], {"threshold": 7}),
        Case("redact_small-large", "redact_small", LARGE, {"threshold": 10}),
        Case("redact_small-empty", "redact_small", [], {"threshold": 7}),
        Case("redact_small-all-na", "redact_small", [None, None], {"threshold": 7}),
        Case("redact_small-frame", "redact_small", COUNTS_FRAME, {"threshold": 7}),
        Case("redact_small-not-whole", "redact_small", [1, 2.5, 8], {"threshold": 7}),
        Case("is_small-7", "is_small", VALUES, {"threshold": 7}),
        Case("is_small-10-lt", "is_small", VALUES, {"threshold": 10, "inclusive": False}),
    ]
    for base in (1, 2, 3, 4, 5, 6, 10, 100):
        cases.append(Case(f"round_to_base-{base}", "round_to_base", VALUES, {"base": base}))
    cases += [
        Case("round_to_base-default", "round_to_base", VALUES),
        Case("round_to_base-integer", "round_to_base", VALUES, {"base": 10}, integer=True),
        Case("round_to_base-large-5", "round_to_base", LARGE, {"base": 5}),
        Case("round_to_base-large-10", "round_to_base", LARGE, {"base": 10}),
        Case("round_to_base-frame", "round_to_base", COUNTS_FRAME, {"base": 5}),
        Case("round_to_base-base-0", "round_to_base", [1, 2], {"base": 0}),
        Case("round_to_base-base-negative", "round_to_base", [1, 2], {"base": -5}),
        Case("round_to_base-not-whole", "round_to_base", [2.5], {"base": 5}),
        Case("midpoint6", "midpoint6", NOT_NEGATIVE),
        Case("midpoint6-integer", "midpoint6", NOT_NEGATIVE, integer=True),
        Case("midpoint6-large", "midpoint6", [INTEGER_MAX - 3, INTEGER_MAX + 3, None]),
        Case("midpoint6-frame", "midpoint6", COUNTS_FRAME),
        Case("midpoint6-negative", "midpoint6", [3, -1, None]),
        Case("midpoint6-not-whole", "midpoint6", [0.5]),
        Case("midpoint6-empty", "midpoint6", []),
    ]
    for axis in ("both", "rows", "columns"):
        cases += [
            Case(f"recompute_totals-{axis}", "recompute_totals", PHASES, {"axis": axis}),
            Case(f"recompute_totals-stale-{axis}", "recompute_totals", STALE, {"axis": axis}),
        ]
    cases += [
        Case("recompute_totals-default", "recompute_totals", PHASES),
        Case("recompute_totals-label", "recompute_totals", PHASES, {"label": "All"}),
        Case("recompute_totals-only-fsm", "recompute_totals", PHASES, {"columns": ["fsm"]}),
        Case(
            "recompute_totals-fsm-eal-rows",
            "recompute_totals",
            PHASES,
            {"columns": ["fsm", "eal"], "axis": "rows"},
        ),
        Case("recompute_totals-empty-column", "recompute_totals", EMPTY_COLUMN),
        Case(
            "recompute_totals-not-whole",
            "recompute_totals",
            Frame({"fsm": [1.5, 2]}, ["x", "y"]),
        ),
        Case(
            "recompute_totals-no-such-column",
            "recompute_totals",
            PHASES,
            {"columns": ["nope"]},
        ),
    ]
    for name, overrides in [
        ("opensafely", {}),
        ("srs", {}),
        ("opensafely", {"redact_zero": False}),
        ("opensafely", {"base": 10}),
        ("srs", {"rounding": "midpoint6"}),
        ("srs", {"threshold": None}),
        ("srs", {"threshold": 5, "inclusive": True, "rounding": "base"}),
        ("opensafely", {"rounding": "none"}),
    ]:
        label = "-".join([name, *(f"{key}{value}" for key, value in overrides.items())])
        arguments = {"profile": name, **overrides}
        cases.append(Case(f"control_counts-{label}", "control_counts", VALUES, arguments))
    cases += [
        Case(
            "control_counts-midpoint6-negative",
            "control_counts",
            [3, -1],
            {"profile": "srs", "threshold": None, "rounding": "midpoint6"},
        ),
        Case("control_counts-integer", "control_counts", VALUES, {"profile": "srs"}, integer=True),
        Case("control_counts-not-whole", "control_counts", [7.5], {"profile": "srs"}),
    ]
    return cases


CASES = shared_cases()


# Python's results, in the shape the R script writes its own


def python_result(case: Case) -> dict[str, Any]:
    counts = case.counts.pandas() if isinstance(case.counts, Frame) else pd.Series(case.counts)
    arguments = dict(case.arguments)
    try:
        if case.function == "control_counts":
            rules = profile(arguments.pop("profile"), **arguments)
            values, notes = controls.control_counts(counts, rules)
            return {"values": plain(values), "notes": list(notes)}
        function: Callable[..., Any] = getattr(controls, case.function)
        result = function(counts, **arguments)
    except Exception as error:  # noqa: BLE001 - which inputs are errors is what is compared
        return {"error": f"{type(error).__name__}: {error}"}
    if isinstance(result, pd.DataFrame):
        return {
            "rownames": [str(label) for label in result.index],
            "columns": [str(name) for name in result.columns],
            "data": {str(name): plain(result[name]) for name in result.columns},
        }
    return {"values": plain(result)}


def plain(series: pd.Series) -> list[Any]:
    """The values as JSON has them: NA as None, whole floats as ints."""
    values = []
    for value in series.astype(object):
        if value is None or value is pd.NA or (isinstance(value, float) and value != value):
            values.append(None)
        elif isinstance(value, bool):
            values.append(value)
        elif isinstance(value, int | float) or hasattr(value, "item"):
            number = value.item() if hasattr(value, "item") else value
            values.append(int(number) if float(number).is_integer() else number)
        else:
            values.append(value)
    return values


# The R script


def r_value(value: Any, integer: bool = False) -> str:
    if value is None:
        return "NA"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, int) and integer:
        return f"{value}L"
    return repr(value)


def r_vector(values: list[Any], integer: bool = False) -> str:
    if not values:
        return "integer(0)" if integer else "numeric(0)"
    return "c(" + ", ".join(r_value(value, integer) for value in values) + ")"


def r_argument(value: Any) -> str:
    if isinstance(value, list):
        return r_vector(value)
    return "NULL" if value is None else r_value(value)


def r_call(case: Case) -> str:
    if isinstance(case.counts, Frame):
        counts = case.counts.r()
    else:
        counts = r_vector(case.counts, case.integer)
    arguments = "".join(f", {key} = {r_argument(value)}" for key, value in case.arguments.items())
    return f"{case.function}({counts}{arguments})"


R_PRELUDE = r"""
library(osschoolscontrols)

json_string <- function(x) encodeString(x, quote = '"')
json_vector <- function(x) {
  if (is.factor(x)) x <- as.character(x)
  parts <- vapply(seq_along(x), function(i) {
    v <- x[[i]]
    if (is.na(v)) "null"
    else if (is.logical(v)) if (v) "true" else "false"
    else if (is.character(v)) json_string(v)
    else format(v, scientific = FALSE, digits = 15)
  }, character(1))
  paste0("[", paste(parts, collapse = ", "), "]")
}
json_object <- function(names, values) {
  paste0("{", paste(json_string(names), values, sep = ": ", collapse = ", "), "}")
}
to_json <- function(x) {
  if (is.data.frame(x)) {
    return(json_object(
      c("rownames", "columns", "data", "types"),
      c(
        json_vector(rownames(x)), json_vector(names(x)),
        json_object(names(x), vapply(x, json_vector, character(1))),
        json_object(names(x), json_string(vapply(x, typeof, character(1))))
      )
    ))
  }
  names <- c("values", "type")
  values <- c(json_vector(unname(as.vector(x))), json_string(typeof(x)))
  if (!is.null(attr(x, "notes"))) {
    names <- c(names, "notes")
    values <- c(values, json_vector(unname(attr(x, "notes"))))
  }
  json_object(names, values)
}
results <- character(0)
run <- function(id, expr) {
  results[[id]] <<- tryCatch(
    to_json(expr),
    error = function(error) json_object("error", json_string(conditionMessage(error)))
  )
}
"""

R_FINISH = r"""
writeLines(json_object(names(results), results), "output/results.json")
"""


def r_script(cases: list[Case]) -> str:
    lines = [R_PRELUDE]
    lines += [f"run({json.dumps(case.id)}, {r_call(case)})" for case in cases]
    lines.append(R_FINISH)
    return "\n".join(lines)


# Running an image


def make_workspace(folder: Path) -> Path:
    """A project folder the container's user (uid 10000) can write to."""
    (folder / "analysis").mkdir(parents=True)
    (folder / "output").mkdir()
    for path in (folder, folder / "output"):
        path.chmod(0o777)
    return folder


def write(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o644)


def run_image(client: Any, image: str, args: list[str], workspace: Path) -> tuple[int, str]:
    """Run the image's entrypoint locked down; its exit code and output."""
    container = client.containers.run(
        image,
        args,
        detach=True,
        volumes={str(workspace): {"bind": "/workspace", "mode": "rw"}},
        **LOCKED_DOWN,
    )
    try:
        code = container.wait(timeout=300)["StatusCode"]
        return code, container.logs().decode(errors="replace")
    finally:
        container.remove(force=True)


@pytest.fixture(scope="module")
def docker_client(action_images: dict[str, str]) -> Any:
    return images.docker_client()


@pytest.fixture(scope="module")
def r_results(
    docker_client: Any, action_images: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, Any]]:
    """Every case's result in R, from one run of the r image."""
    workspace = make_workspace(tmp_path_factory.mktemp("r-controls") / "workspace")
    write(workspace / "analysis" / "controls.R", r_script(CASES))
    code, logs = run_image(docker_client, action_images["r"], ["analysis/controls.R"], workspace)
    assert code == 0, logs
    return json.loads((workspace / "output" / "results.json").read_text(encoding="utf-8"))


# Unit tests: no Docker needed


def test_the_cases_cover_every_control() -> None:
    covered = {case.function for case in CASES}
    assert covered == {
        "redact_small",
        "is_small",
        "round_to_base",
        "midpoint6",
        "recompute_totals",
        "control_counts",
    }
    assert len({case.id for case in CASES}) == len(CASES)


def test_r_calls_are_written_as_r() -> None:
    case = Case("x", "redact_small", [None, 7, 2.5], {"threshold": 7, "inclusive": False})
    assert r_call(case) == "redact_small(c(NA, 7, 2.5), threshold = 7, inclusive = FALSE)"
    case = Case("y", "control_counts", [1], {"profile": "srs", "threshold": None}, integer=True)
    assert r_call(case) == 'control_counts(c(1L), profile = "srs", threshold = NULL)'
    frame = Frame({"a b": [1, None], "g": ["x", "y"]}, ["r1", "r2"])
    assert frame.r() == (
        'data.frame(`a b` = c(1, NA), `g` = c("x", "y"), row.names = c("r1", "r2"), '
        "check.names = FALSE, stringsAsFactors = FALSE)"
    )


def test_the_r_package_exports_and_documents_every_function() -> None:
    namespace = (R_PACKAGE / "NAMESPACE").read_text()
    exported = set(re.findall(r"^export\((\w+)\)", namespace, re.MULTILINE))
    source = "\n".join(path.read_text() for path in (R_PACKAGE / "R").glob("*.R"))
    defined = set(re.findall(r"^(\w+) <- function", source, re.MULTILINE))
    documented = {
        alias
        for path in (R_PACKAGE / "man").glob("*.Rd")
        for alias in re.findall(r"\\alias\{([^}]+)\}", path.read_text())
    }
    python_controls = {"redact_small", "is_small", "round_to_base", "midpoint6"}
    assert python_controls | {"recompute_totals", "control_counts"} <= exported
    assert exported <= defined
    assert exported <= documented


def test_the_r_image_is_built_with_its_package_and_rebuilt_when_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = images.SPECS["r"]
    files = images.source_files(spec)
    assert "osschoolscontrols/DESCRIPTION" in files
    assert "osschoolscontrols/R/controls.R" in files
    plan = images.Plan(spec, files=files)
    out = io.BytesIO()
    images.context_tar(plan, out)
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as tar:
        names = tar.getnames()
    # Every folder comes before what it holds.
    assert names.index("osschoolscontrols") < names.index("osschoolscontrols/R")
    assert "osschoolscontrols/R/controls.R" in names and "Dockerfile" in names
    dockerfile = images.dockerfile(spec).decode()
    assert "COPY osschoolscontrols/" in dockerfile and "R CMD INSTALL" in dockerfile

    copy = tmp_path / "docker"
    shutil.copytree(spec.folder, copy / "r")
    monkeypatch.setattr(images, "DOCKER_DIR", copy)
    before = images.files_hash(images.source_files(spec))
    (copy / "r" / "osschoolscontrols" / ".Rhistory").write_text("junk")
    (copy / "r" / "osschoolscontrols.Rcheck").mkdir()
    assert images.files_hash(images.source_files(spec)) == before
    controls_r = copy / "r" / "osschoolscontrols" / "R" / "controls.R"
    controls_r.write_text(controls_r.read_text() + "\n# changed\n")
    assert images.files_hash(images.source_files(spec)) != before


# Integration tests: the images


@pytest.mark.integration
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_r_gives_what_python_gives(case: Case, r_results: dict[str, dict[str, Any]]) -> None:
    expected = python_result(case)
    got = r_results[case.id]
    if "error" in expected or "error" in got:
        assert ("error" in got) == ("error" in expected), (got, expected)
        return
    if "values" in expected:
        assert got["values"] == expected["values"]
        if case.function == "is_small":
            assert got["type"] == "logical"
        else:
            large = any(abs(value) > INTEGER_MAX for value in got["values"] if value is not None)
            assert got["type"] == ("double" if large else "integer"), got
        if "notes" in expected:
            assert got["notes"] == expected["notes"]
        return
    assert got["rownames"] == expected["rownames"]
    assert got["columns"] == expected["columns"]
    assert got["data"] == expected["data"]


@pytest.mark.integration
def test_r_errors_say_what_is_wrong(r_results: dict[str, dict[str, Any]]) -> None:
    messages = {key: value.get("error", "") for key, value in r_results.items()}
    whole = "disclosure controls work on counts (whole numbers)"
    assert messages["redact_small-not-whole"] == f"{whole}; got 2.5 (element 2)"
    assert messages["round_to_base-not-whole"] == f"{whole}; got 2.5 (element 1)"
    assert messages["midpoint6-not-whole"] == f"{whole}; got 0.5 (element 1)"
    assert messages["recompute_totals-not-whole"] == f"{whole}; got 1.5 (element 1) in column `fsm`"
    assert messages["control_counts-not-whole"] == f"{whole}; got 7.5 (element 1)"
    negative = "midpoint-6 rounding is defined for counts of zero or more"
    assert messages["midpoint6-negative"] == negative
    assert messages["control_counts-midpoint6-negative"] == negative
    base = "the rounding base must be a positive whole number, not "
    assert messages["round_to_base-base-0"] == base + "0"
    assert messages["round_to_base-base-negative"] == base + "-5"
    assert messages["recompute_totals-no-such-column"] == "the table has no column `nope`"


@pytest.mark.integration
def test_r_profiles_are_pythons_and_r_is_strict_about_counts(
    docker_client: Any, action_images: dict[str, str], tmp_path: Path
) -> None:
    """The profiles' parameters match Python's; R refuses what is not numbers (where pandas
    would read "3" or True as a count) and keeps a vector's shape and names."""
    workspace = make_workspace(tmp_path / "workspace")
    script = textwrap.dedent(
        """\
        library(osschoolscontrols)
        stopifnot(identical(disclosure_profiles(), c("opensafely", "srs")))
        profiles <- lapply(disclosure_profiles(), function(name) {
          p <- disclosure_profile(name)
          sprintf(
            paste0('{"name": "%s", "threshold": %d, "inclusive": %s, "redact_zero": %s, ',
                   '"rounding": "%s", "base": %d}'),
            p$name, p$threshold, tolower(p$inclusive), tolower(p$redact_zero), p$rounding, p$base
          )
        })
        writeLines(paste0("[", paste(profiles, collapse = ", "), "]"), "output/profiles.json")
        message_of <- function(expr) tryCatch({ expr; "" }, error = conditionMessage)
        errors <- c(
          text = message_of(redact_small(c("3", "8"), 7)),
          logical = message_of(round_to_base(c(TRUE, NA))),
          factor = message_of(midpoint6(factor(c(1, 2)))),
          infinite = message_of(redact_small(c(1, Inf), 7)),
          base = message_of(round_to_base(1:3, base = 2.5)),
          profile = message_of(control_counts(1:3, "acro")),
          setting = message_of(control_counts(1:3, "srs", thresold = 5)),
          rounding = message_of(disclosure_profile("srs", rounding = "bankers")),
          threshold = message_of(disclosure_profile("srs", threshold = -1)),
          frame = message_of(control_counts(data.frame(a = 1:3))),
          data_frame_column = message_of(redact_small(data.frame(n = 1:2, g = c("a", "b")), 7))
        )
        writeLines(sprintf("%s: %s", names(errors), errors), "output/errors.txt")
        m <- matrix(c(3L, 8L, NA, 12L), 2, dimnames = list(c("a", "b"), c("x", "y")))
        stopifnot(
          identical(redact_small(m, 7), matrix(c(NA, 8L, NA, 12L), 2, dimnames = dimnames(m))),
          identical(round_to_base(c(a = 7, b = NaN)), c(a = 5L, b = NA)),
          identical(midpoint6(c(x = 13L)), c(x = 15L)),
          identical(redact_small(NULL, 7), integer(0)),
          identical(round_to_base(c(NA, NA)), c(NA_integer_, NA_integer_)),
          identical(is_small(c(NA, 7, 8), 7), c(FALSE, TRUE, FALSE)),
          identical(attr(control_counts(c(a = 3, b = 40)), "notes"),
                    c(a = "redacted", b = "rounded")),
          inherits(tryCatch(midpoint6(-1), error = identity), "osschools_controls_error")
        )
        tibble_like <- structure(
          data.frame(n = c(10, 20)), class = c("tbl_df", "tbl", "data.frame")
        )
        totals <- recompute_totals(tibble_like, axis = "rows")
        stopifnot(identical(class(totals), "data.frame"), identical(totals$n, c(10L, 20L, 30L)))
        cat("ok\\n")
        """
    )
    write(workspace / "analysis" / "strict.R", script)
    code, logs = run_image(docker_client, action_images["r"], ["analysis/strict.R"], workspace)
    assert code == 0, logs
    assert "ok" in logs
    r_profiles = json.loads((workspace / "output" / "profiles.json").read_text())
    for r_profile in r_profiles:
        python = PROFILES[r_profile["name"]]
        expected = {name: getattr(python, name) for name in r_profile}
        assert r_profile == expected
    errors = dict(
        line.split(": ", 1)
        for line in (workspace / "output" / "errors.txt").read_text().splitlines()
    )
    whole = "disclosure controls work on counts (whole numbers)"
    assert errors == {
        "text": f"{whole}; got character values",
        "logical": f"{whole}; got TRUE/FALSE values",
        "factor": f"{whole}; got factor values",
        "infinite": f"{whole}; got Inf (element 2)",
        "base": "the rounding base must be a positive whole number, not 2.5",
        "profile": 'no disclosure profile "acro"; the profiles are opensafely, srs',
        "setting": "unknown disclosure setting `thresold`; the settings are threshold, "
        "inclusive, redact_zero, rounding, base",
        "rounding": "rounding must be 'base', 'midpoint6' or 'none', not \"bankers\"",
        "threshold": "the threshold must be zero or more, not -1",
        "frame": "control_counts works on one column of counts at a time, e.g. "
        "table$pupils <- control_counts(table$pupils)",
        "data_frame_column": f"{whole}; got character values in column `g`",
    }


def findings_of(reports: list[dict[str, Any]]) -> dict[str, list[tuple[str, str]]]:
    return {
        report["file"]: [(finding["rule"], finding["verdict"]) for finding in report["findings"]]
        for report in reports
    }


@pytest.mark.integration
def test_an_r_controlled_table_passes_the_checks(
    docker_client: Any, action_images: dict[str, str], tmp_path: Path
) -> None:
    """A table controlled in R with the opensafely profile, totals recomputed, written with its
    row labels: the checker finds no small or unrounded count in it."""
    workspace = make_workspace(tmp_path / "workspace")
    script = textwrap.dedent(
        """\
        library(osschoolscontrols)
        table <- data.frame(
          fsm = c(3, 41, 118, 0), not_fsm = c(96, 12, 377, 8),
          row.names = c("nursery", "primary", "secondary", "special")
        )
        table[] <- lapply(table, control_counts, profile = "opensafely")
        table <- recompute_totals(table)
        write.csv(cbind(phase = rownames(table), table), "output/by_phase.csv",
                  row.names = FALSE, na = "")
        """
    )
    write(workspace / "analysis" / "table.R", script)
    code, logs = run_image(docker_client, action_images["r"], ["analysis/table.R"], workspace)
    assert code == 0, logs
    written = pd.read_csv(workspace / "output" / "by_phase.csv")
    assert {name: plain(written[name]) for name in written.columns} == {
        "phase": ["nursery", "primary", "secondary", "special", "Total"],
        "fsm": [None, 40, 120, None, 160],
        "not_fsm": [95, 10, 375, 10, 490],
        "Total": [95, 50, 495, 10, 650],
    }
    reports = check_files(
        [workspace / "output" / "by_phase.csv"], PROFILES["opensafely"], root=workspace
    )
    rules = findings_of([report.to_json() for report in reports])["output/by_phase.csv"]
    assert not [rule for rule in rules if rule[1] == "fail"], rules


@pytest.mark.integration
def test_the_python_image_applies_the_controls_and_runs_the_checker(
    docker_client: Any, action_images: dict[str, str], tmp_path: Path
) -> None:
    """Inside the python image: control a table, check it and the raw one with check_files; the
    findings are the ones the checker gives here."""
    workspace = make_workspace(tmp_path / "workspace")
    script = textwrap.dedent(
        """\
        import json

        import pandas as pd

        from job_runner.disclosure.checker import check_files
        from job_runner.disclosure.controls import control_counts, profile, recompute_totals

        raw = pd.DataFrame(
            {"phase": ["primary", "secondary", "special"], "pupils": [3, 120, 47]}
        )
        raw.to_csv("output/raw.csv", index=False)
        controlled = raw.copy()
        controlled["pupils"], notes = control_counts(raw["pupils"], profile("opensafely"))
        assert notes.tolist() == ["redacted", "rounded", "rounded"], notes
        controlled = recompute_totals(controlled.set_index("phase"), axis="rows")
        controlled.to_csv("output/controlled.csv")
        # Each on its own: checked together, the raw table would give away the redacted cell.
        reports = [
            check_files([path], profile("opensafely"))[0]
            for path in ("output/raw.csv", "output/controlled.csv")
        ]
        with open("output/reports.json", "w") as file:
            json.dump([report.to_json() for report in reports], file)
        print("ok")
        """
    )
    write(workspace / "analysis" / "check.py", script)
    code, logs = run_image(docker_client, action_images["python"], ["analysis/check.py"], workspace)
    assert code == 0, logs
    controlled = pd.read_csv(workspace / "output" / "controlled.csv")
    assert controlled["pupils"].tolist()[1:] == [120, 45, 165]
    assert pd.isna(controlled["pupils"].tolist()[0])
    in_image = json.loads((workspace / "output" / "reports.json").read_text())
    here = [
        check_files([workspace / "output" / name], PROFILES["opensafely"], root=workspace)[0]
        for name in ("raw.csv", "controlled.csv")
    ]
    in_image_findings = findings_of(in_image)
    assert in_image_findings == findings_of([report.to_json() for report in here])
    assert [report["verdict"] for report in in_image] == [report.verdict.value for report in here]
    assert ("minimum_count", "fail") in in_image_findings["output/raw.csv"]
    assert not [rule for rule in in_image_findings["output/controlled.csv"] if rule[1] == "fail"]
