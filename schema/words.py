"""Small pieces of wording shared by the checks: names, suggestions, quoting."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


def is_name(value: Any) -> bool:
    """Whether `value` is a lower_snake_case name (tables, columns, code lists, categories)."""
    return isinstance(value, str) and NAME_PATTERN.match(value) is not None


def did_you_mean(word: Any, options: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest option, or '' when none is close."""
    matches = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return f" (did you mean '{matches[0]}'?)" if matches else ""


def unknown_key(key: Any, where: str, allowed: Iterable[str]) -> str:
    """The message for a key that the format does not allow."""
    allowed = list(allowed)
    hint = did_you_mean(key, allowed) or f"; allowed keys: {', '.join(allowed)}"
    return f"unknown key {show(key)}{where}{hint}"


def show(value: Any) -> str:
    """A value as the user wrote it in YAML, for messages."""
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return str(value)
