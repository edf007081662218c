"""Our parser against OpenSAFELY's own (vendored in the `opensafely` package), as an oracle.

Whatever OpenSAFELY rejects we reject. Whatever it accepts we accept, unless every problem we
report is one of our stricter rules, listed below with the reason.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from job_runner.pipeline import PipelineError, parse_pipeline

opensafely_pipeline = pytest.importorskip("opensafely._vendor.pipeline")

CORPUS = Path(__file__).parent / "corpus"
FILES = sorted(CORPUS.glob("*/*.yaml"))

STRICTER = {
    "image": "only our four images (ehrql, sqlrunner, python, r) exist here",
    "tag": "only vN tags of versions that exist; no -pre or dev tags",
    "version": "we read version 5 only; OpenSAFELY warns about newer numbers",
    "action-name": "action names become file and container names: letters, digits, _ and -",
    "cycle": "OpenSAFELY only finds a loop of needs when it plans a run",
    "output-type": "our moderately_sensitive file types (sdc.md rule 13) leave out .svgz",
    "output-wildcard": "`{` and `}` are refused too",
    "output-path": "paths with spaces at either end or control characters",
    "output-extension": "`*` inside an extension",
    "output-overlap": "a file that another action's pattern also matches",
    "outputs-empty": "an action must declare at least one file, not just an empty level",
    "duplicate-run": "run lines that differ only in spacing or quoting still do the same work",
    "dummy-data-file": "dummy data comes from the synthetic school database",
    "minimally-sensitive": "we have two output levels",
    "run-args": "each image's arguments are checked (script type, one .sql file, --output)",
    "run-output": "sqlrunner's --output must be a declared output",
    "actions": "a project needs at least one action",
    "config-json": "config is passed as JSON",
    "type": "types are checked strictly (e.g. a non-text output name)",
}


def opensafely_accepts(text: str) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            opensafely_pipeline.load_pipeline(text)
        except Exception:  # their parser lets some errors escape as TypeError, ValueError...
            return False
    return True


def our_codes(text: str) -> set[str]:
    try:
        parse_pipeline(text)
    except PipelineError as error:
        return error.codes
    return set()


@pytest.mark.parametrize("path", FILES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_agrees_with_opensafely(path: Path) -> None:
    text = path.read_text()
    codes = our_codes(text)
    if not opensafely_accepts(text):
        assert codes, "OpenSAFELY rejects this file, so we must too"
    else:
        assert codes <= set(STRICTER), f"we reject for reasons OpenSAFELY does not: {codes}"


def test_corpus_is_big_enough() -> None:
    assert len(FILES) >= 25
    assert {path.parent.name for path in FILES} == {"valid", "invalid"}


def test_valid_corpus_is_valid_for_both() -> None:
    for path in CORPUS.glob("valid/*.yaml"):
        assert our_codes(path.read_text()) == set(), path.name
        assert opensafely_accepts(path.read_text()), path.name


@pytest.mark.parametrize("path", sorted(CORPUS.glob("invalid/*.yaml")), ids=lambda path: path.name)
def test_invalid_corpus_fails_for_the_stated_reasons(path: Path) -> None:
    first_line = path.read_text().splitlines()[0]
    assert first_line.startswith("# expect: ")
    expected = {code.strip() for code in first_line.removeprefix("# expect: ").split(",")}
    assert our_codes(path.read_text()) == expected
