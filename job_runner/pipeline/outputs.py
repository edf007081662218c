"""Output paths: what a declared output may look like, and how a pattern matches files."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import PurePosixPath

# File types a moderately_sensitive output may have (the file gate, sdc.md rule 13).
MODERATELY_SENSITIVE_TYPES = (
    ".csv",
    ".txt",
    ".json",
    ".md",
    ".png",
    ".jpg",
    ".jpeg",
    ".svg",
    ".html",
    ".log",
)
LEVELS = ("highly_sensitive", "moderately_sensitive")
METADATA_DIRECTORY = "metadata"

_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_OTHER_WILDCARDS = ("?", "[", "]", "{", "}")


class OutputPathError(ValueError):
    """An output path that breaks a rule; `code` names the rule."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def check_output_path(path: str, level: str) -> None:
    """Raise OutputPathError if `path` may not be declared as an output at `level`."""
    if path == "" or path.strip() != path:
        raise OutputPathError(
            "output-path", "the output path is empty or has spaces at either end; remove them"
        )
    if _CONTROL.search(path):
        raise OutputPathError(
            "output-path", "the output path contains a control character; use plain characters"
        )
    if "\\" in path:
        raise OutputPathError(
            "output-path",
            f"`{path}` contains a backslash; separate folders with forward slashes (/)",
        )
    if path.startswith("/") or _DRIVE.match(path):
        raise OutputPathError(
            "output-path",
            f"`{path}` is an absolute path; write it relative to the project folder, "
            "e.g. output/results.csv",
        )
    segments = path.split("/")
    if ".." in segments:
        raise OutputPathError(
            "output-path",
            f"`{path}` contains `..`; outputs must stay inside the project folder",
        )
    if any(segment in ("", ".") for segment in segments):
        tidy = "/".join(segment for segment in segments if segment not in ("", "."))
        raise OutputPathError(
            "output-path",
            f"`{path}` has an empty or `.` folder (a doubled, leading or trailing slash, or ./); "
            f"write `{tidy}`",
        )
    if "**" in path or any(character in path for character in _OTHER_WILDCARDS):
        raise OutputPathError(
            "output-wildcard",
            f"`{path}` uses a wildcard other than `*`; only `*` is supported, and it matches "
            "within one folder level (e.g. output/figures/*.png)",
        )
    if segments[0] == METADATA_DIRECTORY:
        raise OutputPathError(
            "output-metadata",
            f"`{path}` is under metadata/, which is reserved for logs that the runner writes; "
            "use another folder such as output/",
        )
    suffix = PurePosixPath(segments[-1]).suffix
    if not suffix or "*" in suffix:
        raise OutputPathError(
            "output-extension",
            f"`{path}` does not end with a file extension; name the file type, "
            "e.g. output/results.csv or output/*.csv",
        )
    if level == "moderately_sensitive" and suffix not in MODERATELY_SENSITIVE_TYPES:
        allowed = ", ".join(MODERATELY_SENSITIVE_TYPES)
        raise OutputPathError(
            "output-type",
            f"`{path}`: {suffix} files cannot be moderately_sensitive (they could not be "
            f"checked for release); use one of {allowed}, or declare it highly_sensitive",
        )


@lru_cache(maxsize=1024)
def _pattern_regex(pattern: str) -> re.Pattern[str]:
    return re.compile("[^/]*".join(re.escape(part) for part in pattern.split("*")))


def matches(pattern: str, path: str) -> bool:
    """Whether `path` matches the output `pattern`; `*` matches within one folder level only."""
    return _pattern_regex(pattern).fullmatch(path) is not None


def is_pattern(path: str) -> bool:
    return "*" in path
