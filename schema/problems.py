"""Problems found in the schema files, reported together with their file and line."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One mistake in a schema file.

    `file` is the path shown to the user, relative to the schema folder's parent (for the standard
    schema: `schema/tables/enrolments.yaml`). `line` is 1-based, or None when the problem concerns a
    whole file or folder.
    """

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.file}: {self.message}"
        return f"{self.file}:{self.line}: {self.message}"


class SchemaError(Exception):
    """The schema files have problems; `problems` lists all of them, sorted by file and line."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = sorted(problems, key=_sort_key)
        super().__init__("\n".join(str(problem) for problem in self.problems))


def _sort_key(problem: Problem) -> tuple[str, int, str]:
    return (problem.file, problem.line or 0, problem.message)


class FileProblems:
    """Collects the problems of one file."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def add(self, line: int | None, message: str) -> None:
        self.problems.append(Problem(self.file, line, message))

    def __bool__(self) -> bool:
        return bool(self.problems)
