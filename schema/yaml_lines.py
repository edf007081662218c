"""Parse YAML keeping the line of every mapping key and list item.

Mappings become `LineDict` and lists `LineList`: ordinary dicts and lists that also carry the
1-based line where they start and the line of each key or item. Duplicate keys, which plain PyYAML
silently resolves to the last value, are errors.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode


class LineDict(dict[Any, Any]):
    """A YAML mapping with `line` (where it starts) and `key_lines` (key -> line of the key)."""

    line: int
    key_lines: dict[Any, int]


class LineList(list[Any]):
    """A YAML sequence with `line` (where it starts) and `item_lines` (line of each item)."""

    line: int
    item_lines: list[int]


class DuplicateKey(yaml.MarkedYAMLError):
    """A mapping repeats a key."""


def _line(node: Node) -> int:
    return node.start_mark.line + 1


class _LineLoader(yaml.SafeLoader):
    """A safe loader that builds LineDict and LineList, and rejects duplicate keys."""


def _construct_mapping(loader: _LineLoader, node: MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    mapping = LineDict()
    mapping.line = _line(node)
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                "found an unhashable key",
                key_node.start_mark,
            ) from None
        if key in mapping:
            raise DuplicateKey(
                problem=f"duplicate key {key!r} (first given on line {mapping.key_lines[key]})",
                problem_mark=key_node.start_mark,
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = _line(key_node)
    return mapping


def _construct_sequence(loader: _LineLoader, node: SequenceNode) -> LineList:
    sequence = LineList(loader.construct_object(item, deep=True) for item in node.value)
    sequence.line = _line(node)
    sequence.item_lines = [_line(item) for item in node.value]
    return sequence


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


class YamlSyntaxError(Exception):
    """The text is not well-formed YAML; `line` is 1-based (None when unknown)."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def parse_yaml(text: str) -> Any:
    """Parse one YAML document into LineDict / LineList / scalars, or raise YamlSyntaxError."""
    try:
        return yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as error:
        return _raise_syntax_error(error)
    except yaml.YAMLError as error:
        raise YamlSyntaxError(None, f"invalid YAML: {error}") from None


def _raise_syntax_error(error: yaml.MarkedYAMLError) -> Any:
    mark = error.problem_mark or error.context_mark
    line = mark.line + 1 if mark is not None else None
    if isinstance(error, DuplicateKey):
        raise YamlSyntaxError(line, str(error.problem)) from None
    parts = [part for part in (error.context, error.problem) if part]
    raise YamlSyntaxError(line, "invalid YAML: " + ", ".join(parts)) from None


def line_of(node: Any, *path: Any, default: int | None = None) -> int | None:
    """The line of the deepest key or item along `path` that exists in `node`.

    `line_of(document, "columns", "year_group", "codelist")` is the line of the `codelist` key when
    it exists, else of the `year_group` key, and so on up to `default`.
    """
    line = default
    for step in path:
        if isinstance(node, LineDict) and step in node:
            line = node.key_lines[step]
        elif isinstance(node, LineList) and isinstance(step, int) and 0 <= step < len(node):
            line = node.item_lines[step]
        else:
            return line
        node = node[step]
    return line
