"""Load YAML from an untrusted file into plain Python data, remembering where everything was.

PyYAML's composer gives nodes with marks; we build the data ourselves from those nodes so that we
can record the position of every key and value, refuse duplicate keys (PyYAML silently keeps the
last one), refuse tags other than the plain YAML types, and put limits on size, nesting and the
expansion of anchors and aliases (a "billion laughs" file must fail quickly, not fill memory).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from job_runner.pipeline.errors import PipelineError, Position, Problem

MAX_BYTES = 5_000_000
MAX_DEPTH = 32
MAX_NODES = 250_000  # after expanding aliases

Path = tuple[Any, ...]

_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_PLAIN_SCALARS = {
    _STR,
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
}
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"


@dataclass
class Document:
    """Plain data (dicts, lists, str, int, float, bool, None) and the positions in the file.

    `values[path]` is where the value at `path` starts; `keys[path]` is where its key is written.
    A path is the tuple of mapping keys and list indexes from the top of the document.
    """

    data: Any
    values: dict[Path, Position] = field(default_factory=dict)
    keys: dict[Path, Position] = field(default_factory=dict)

    def position(self, path: Path, *, key: bool = False) -> Position | None:
        """The position of `path` (its key if asked and known), else of its nearest ancestor."""
        path = tuple(path)
        if key and path in self.keys:
            return self.keys[path]
        while path:
            if path in self.values:
                return self.values[path]
            path = path[:-1]
        return self.values.get(())


class _LoadFailed(Exception):
    def __init__(self, position: Position | None, code: str, message: str) -> None:
        super().__init__(message)
        self.position = position
        self.code = code
        self.message = message


def _position(node_or_mark: Any) -> Position | None:
    mark = getattr(node_or_mark, "start_mark", node_or_mark)
    if mark is None:
        return None
    return Position(mark.line + 1, mark.column + 1)


def load_yaml(text: str, filename: str) -> Document:
    """Parse `text` as one YAML document; raise PipelineError for anything unusable."""
    try:
        if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
            raise _LoadFailed(
                None,
                "yaml-too-large",
                f"the file is larger than {MAX_BYTES // 1_000_000} MB; a project.yaml this big "
                "is almost certainly a mistake: split the study or generate fewer actions",
            )
        _check_shape(text)
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as error:
            raise _syntax_error(error) from error
        if root is None:
            raise _LoadFailed(
                None,
                "empty",
                'the file is empty: start it with `version: "5"` and an `actions:` section',
            )
        document = Document(data=None)
        builder = _Builder(document)
        document.data = builder.build(root, (), 0)
        return document
    except _LoadFailed as failure:
        raise PipelineError(
            [Problem(filename, failure.position, failure.code, failure.message)]
        ) from None
    except yaml.YAMLError as error:  # unmarked reader errors, e.g. a control character
        message = " ".join(str(error).split())
        raise PipelineError(
            [Problem(filename, None, "yaml-syntax", f"this is not valid YAML: {message}")]
        ) from None


def _syntax_error(error: yaml.MarkedYAMLError) -> _LoadFailed:
    mark = error.problem_mark or error.context_mark
    parts = [part for part in (error.context, error.problem) if part]
    what = "; ".join(parts) or "invalid YAML"
    return _LoadFailed(
        _position(mark),
        "yaml-syntax",
        f"this is not valid YAML ({what}); check indentation, colons and quotes on this line",
    )


def _check_shape(text: str) -> None:
    """Stream the parser's events (no recursion) to refuse very deep nesting before composing."""
    depth = 0
    events = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            events += 1
            if events > MAX_NODES * 2:
                raise _LoadFailed(
                    _position(event),
                    "yaml-too-large",
                    "the file has too many YAML items; a project.yaml this big is almost "
                    "certainly a mistake",
                )
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _LoadFailed(
                        _position(event),
                        "yaml-too-deep",
                        f"lists and mappings are nested more than {MAX_DEPTH} levels deep here; "
                        "flatten this part of the file",
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as error:
        raise _syntax_error(error) from error


class _Builder:
    def __init__(self, document: Document) -> None:
        self.document = document
        self.nodes = 0
        self.constructor = SafeConstructor()

    def build(self, node: Node, path: Path, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _LoadFailed(
                _position(node),
                "yaml-too-large",
                "anchors and aliases (& and *) expand to far too much data; write the "
                "values out or use fewer nested aliases",
            )
        if depth > MAX_DEPTH:
            raise _LoadFailed(
                _position(node),
                "yaml-too-deep",
                f"values are nested more than {MAX_DEPTH} levels deep (through aliases); "
                "an alias may refer to itself",
            )
        self.document.values.setdefault(path, _position(node))  # type: ignore[arg-type]
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        if isinstance(node, SequenceNode):
            self.check_tag(node, _SEQ)
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        if isinstance(node, MappingNode):
            self.check_tag(node, _MAP)
            return self.mapping(node, path, depth)
        raise _LoadFailed(_position(node), "yaml-tag", "unsupported YAML node")  # pragma: no cover

    def check_tag(self, node: Node, expected: str) -> None:
        if node.tag != expected:
            raise _LoadFailed(
                _position(node),
                "yaml-tag",
                f"YAML tags such as `{node.tag}` are not allowed in project.yaml; remove the tag",
            )

    def scalar(self, node: ScalarNode) -> Any:
        if node.tag == _TIMESTAMP:
            return node.value  # keep dates as written: config is handed on as JSON
        if node.tag not in _PLAIN_SCALARS:
            self.check_tag(node, _STR)
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.YAMLError as error:  # pragma: no cover - resolver and constructor agree
            raise _LoadFailed(_position(node), "yaml-syntax", str(error)) from error

    def key(self, node: Node) -> Any:
        if not isinstance(node, ScalarNode):
            raise _LoadFailed(
                _position(node),
                "yaml-key",
                "a mapping key here is itself a list or mapping; keys must be plain names",
            )
        return self.scalar(node)

    def mapping(self, node: MappingNode, path: Path, depth: int) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        first_seen: dict[tuple[type, Any], Position | None] = {}
        merge_nodes: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merge_nodes.append(value_node)
                continue
            key = self.key(key_node)
            identity = (type(key), key)
            if identity in first_seen:
                first = first_seen[identity]
                where = f" (first written on line {first.line})" if first else ""
                raise _LoadFailed(
                    _position(key_node),
                    "yaml-duplicate-key",
                    f"the key `{key}` appears twice in the same mapping{where}; "
                    "remove or rename one of them",
                )
            first_seen[identity] = _position(key_node)
            self.document.keys.setdefault((*path, key), _position(key_node))  # type: ignore[arg-type]
            result[key] = self.build(value_node, (*path, key), depth + 1)
        # Merged keys (`<<: *defaults`) come second so that explicit keys and their positions win.
        for merge_node in merge_nodes:
            for key, value in self.merge_sources(merge_node, path, depth):
                result.setdefault(key, value)
        return result

    def merge_sources(self, node: Node, path: Path, depth: int) -> list[tuple[Any, Any]]:
        sources = node.value if isinstance(node, SequenceNode) else [node]
        entries: list[tuple[Any, Any]] = []
        for source in sources:
            if not isinstance(source, MappingNode):
                raise _LoadFailed(
                    _position(source),
                    "yaml-merge",
                    "`<<:` must be followed by an alias to a mapping (or a list of them)",
                )
            entries.extend(self.mapping(source, path, depth).items())
        return entries
