"""Problems found in a project.yaml, and the one exception that carries all of them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Position:
    """A 1-based line and column in the file."""

    line: int
    column: int


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a project file.

    `code` names the rule that was broken (stable, for tools and tests); `message` says what to do.
    """

    file: str
    position: Position | None
    code: str
    message: str

    @property
    def line(self) -> int | None:
        return self.position.line if self.position else None

    @property
    def column(self) -> int | None:
        return self.position.column if self.position else None

    def location(self) -> str:
        if self.position is None:
            return self.file
        return f"{self.file}:{self.position.line}:{self.position.column}"

    def __str__(self) -> str:
        return f"{self.location()}: {self.message}"


class PipelineError(Exception):
    """A project file that cannot be used; `problems` holds every problem found, in file order."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(
            problems, key=lambda p: (p.position or Position(0, 0), p.code, p.message)
        )
        super().__init__("\n".join(str(problem) for problem in self.problems))

    @property
    def codes(self) -> set[str]:
        return {problem.code for problem in self.problems}
