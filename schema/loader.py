"""`load_schema`: read every table and code list file, check them all, build the `Schema`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from schema.codelist_file import check_codelist_file
from schema.cross_checks import cross_check
from schema.models import Schema
from schema.problems import FileProblems, Problem, SchemaError
from schema.table_file import check_table_file
from schema.yaml_lines import YamlSyntaxError, line_of, parse_yaml

SCHEMA_DIR = Path(__file__).resolve().parent
"""The folder of the standard schema: this package's own folder."""

T = TypeVar("T")
Checker = Callable[[Any, str, FileProblems], T | None]


def load_schema(path: Path | None = None) -> Schema:
    """Load and check the schema in `path` (default: the standard schema, `SCHEMA_DIR`).

    `path` holds `tables/*.yaml` and `codelists/*.yaml`. Raises `SchemaError` listing every problem
    in every file, each with its file and line.
    """
    root = Path(path).resolve() if path is not None else SCHEMA_DIR
    problems: list[Problem] = []
    tables_dir, codelists_dir = root / "tables", root / "codelists"
    if not tables_dir.is_dir():
        problems.append(Problem(_display(tables_dir, root), None, "folder not found"))
        raise SchemaError(problems)
    tables, table_docs, broken_tables = _load_folder(tables_dir, root, check_table_file, problems)
    codelists, _, broken_codelists = _load_folder(
        codelists_dir, root, check_codelist_file, problems
    )
    for finding in cross_check(tables, codelists, broken_tables, broken_codelists):
        file, document = table_docs[finding.table]
        line = line_of(document, "columns", finding.column, finding.key, default=1)
        problems.append(Problem(file, line, finding.message))
    if problems:
        raise SchemaError(problems)
    return Schema(tables=tables, codelists=codelists)


def _load_folder(
    folder: Path, root: Path, checker: Checker[T], problems: list[Problem]
) -> tuple[dict[str, T], dict[str, tuple[str, Any]], set[str]]:
    """Check every YAML file in a folder.

    Returns the built objects by name, each file's (display name, parsed document) by name, and the
    names of the files that had problems.
    """
    built: dict[str, T] = {}
    documents: dict[str, tuple[str, Any]] = {}
    broken: set[str] = set()
    if not folder.is_dir():
        return built, documents, broken
    for file in sorted(folder.glob("*.yml")):
        problems.append(Problem(_display(file, root), None, "use the .yaml extension"))
    for file in sorted(folder.glob("*.yaml")):
        report = FileProblems(_display(file, root))
        document = _parse_file(file, report)
        item = None if report else _check(checker, document, file.stem, report)
        problems.extend(report.problems)
        if item is None:
            broken.add(file.stem)
        else:
            built[file.stem] = item
            documents[file.stem] = (report.file, document)
    return built, documents, broken


def _parse_file(file: Path, report: FileProblems) -> Any:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        report.add(None, f"cannot read the file: {error}")
        return None
    try:
        document = parse_yaml(text)
    except YamlSyntaxError as error:
        report.add(error.line, error.message)
        return None
    if document is None:
        report.add(1, "the file is empty")
    return document


def _check(checker: Checker[T], document: Any, stem: str, report: FileProblems) -> T | None:
    try:
        return checker(document, stem, report)
    except ValidationError as error:  # a gap in the checks: still report it, with the file
        report.add(1, f"invalid: {error}")
        return None


def _display(file: Path, root: Path) -> str:
    """A file's name as shown in problems: relative to the schema folder's parent."""
    return file.relative_to(root.parent).as_posix()
