"""The query model as JSON, so that a dataset (or measures) definition compiled in an untrusted
process can be handed to the process that holds the database credentials.

    text = dumps(dataset)          # in the process that ran the researcher's code
    dataset = loads(text)          # in the process that will run it on the database

`loads` treats its input as hostile. It only ever constructs:

- the concrete node classes of `ehrql_schools.query_model.nodes` (found when this module is
  imported, so node types added later are covered without touching this file), and TableSchema;
- the three classes of a compiled measures model, listed by name: `MeasuresModel`,
  `IntervalQuery` and `MeasureColumns` of `ehrql_schools.measures` (no other dataclass, and not
  the `IntervalDate` placeholder, which `compile_measures` replaces by dates);
- plain values: None, booleans, integers, floats, strings, dates, times, tuples and frozensets of
  these, dicts of strings to these (a measures model's disclosure settings), and the value types a
  series can have (bool, int, float, str, date, time, NoneType).

Nothing is looked up by a name taken from the input other than in those fixed tables: no pickle,
no eval, no imports. Every node is constructed through its class, so its own checks run again.

The format is a list of objects, children before parents, each referring to earlier objects by
index, so a sub-query shared by many variables is written once:

    {"format": "ehrql_schools.query_model", "version": 1, "root": 2, "objects": [
        ["TableSchema", {"name": "pupils", "entity": "pupil", ...}],
        ["SelectTable", {"table": {"ref": 0}}],
        ["Exists", {"source": {"ref": 1}}]]}

A field value is a JSON null, boolean, number or string, an array (a tuple), or an object with
one key saying what it is: `ref` (an earlier object), `date`, `time`, `type`, `frozenset`, `dict`
(a list of [key, value] pairs, keys strings) or `float` (for inf and nan, which JSON cannot
write).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import types
import typing
from typing import Any

from ehrql_schools.measures import IntervalQuery, MeasureColumns, MeasuresModel
from ehrql_schools.query_model import nodes

FORMAT = "ehrql_schools.query_model"
VERSION = 1


class SerialisationError(ValueError):
    """The text is not a query model this version can read, or a node cannot be written."""


def _concrete_node_classes() -> dict[str, type]:
    """The node classes of `nodes` that can be built: dataclasses with no subclasses there."""
    candidates = [
        value
        for value in vars(nodes).values()
        if isinstance(value, type)
        and issubclass(value, nodes.Node)
        and value.__module__ == nodes.__name__
        and "__dataclass_fields__" in vars(value)
    ]
    return {
        cls.__name__: cls
        for cls in candidates
        if not any(other is not cls and issubclass(other, cls) for other in candidates)
    }


def _field_types(cls: type) -> dict[str, Any]:
    """Each init field's annotation, or Any where it cannot be resolved (checked by the node)."""
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # noqa: BLE001  (an annotation we cannot resolve is checked by the node)
        hints = {}
    return {
        field.name: hints.get(field.name, Any) for field in dataclasses.fields(cls) if field.init
    }


#: The compiled measures model's classes, each named here (no dataclass is accepted by default).
MEASURES_CLASSES: dict[str, type] = {
    "MeasuresModel": MeasuresModel,
    "IntervalQuery": IntervalQuery,
    "MeasureColumns": MeasureColumns,
}

#: Classes `loads` may construct, by name.
ALLOWED_CLASSES: dict[str, type] = {
    "TableSchema": nodes.TableSchema,
    **_concrete_node_classes(),
    **MEASURES_CLASSES,
}
_FIELDS: dict[type, dict[str, Any]] = {cls: _field_types(cls) for cls in ALLOWED_CLASSES.values()}

#: Type objects a field may hold (series and column types), by name.
ALLOWED_TYPES: dict[str, type] = {
    f"{type_.__module__}.{type_.__qualname__}": type_
    for type_ in (*nodes.VALUE_TYPES, nodes.NoneType)
}
_TYPE_NAMES = {type_: name for name, type_ in ALLOWED_TYPES.items()}


# Writing


def dumps(node: Any) -> str:
    """The query model under `node` (a Dataset, any node, a TableSchema or a MeasuresModel) as
    JSON text."""
    objects: list[list[Any]] = []
    index_by_id: dict[int, int] = {}
    index_by_entry: dict[str, int] = {}
    alive: list[Any] = []  # keeps every object seen alive, so that ids are not reused
    stack: list[tuple[Any, bool]] = [(_check_writable(node), False)]
    while stack:
        obj, children_done = stack.pop()
        if id(obj) in index_by_id:
            continue
        if not children_done:
            stack.append((obj, True))
            pending = [child for child in _objects_in_fields(obj) if id(child) not in index_by_id]
            stack.extend((child, False) for child in reversed(pending))
            continue
        fields = {name: _encode(getattr(obj, name), index_by_id) for name in _FIELDS[type(obj)]}
        entry = [type(obj).__name__, fields]
        # Equal objects built separately (every `pupils.sex` is a new node) are written once.
        key = json.dumps(entry, sort_keys=True)
        if key not in index_by_entry:
            index_by_entry[key] = len(objects)
            objects.append(entry)
        index_by_id[id(obj)] = index_by_entry[key]
        alive.append(obj)
    document = {
        "format": FORMAT,
        "version": VERSION,
        "root": index_by_id[id(node)],
        "objects": objects,
    }
    return json.dumps(document, separators=(",", ":"), allow_nan=False)


def _check_writable(obj: Any) -> Any:
    if ALLOWED_CLASSES.get(type(obj).__name__) is not type(obj):
        raise SerialisationError(
            f"cannot write {type(obj).__name__}: it is not a query model node or measures model"
        )
    return obj


def _objects_in_fields(obj: Any) -> list[Any]:
    found: list[Any] = []
    pending = [getattr(obj, name) for name in _FIELDS[type(obj)]]
    while pending:
        value = pending.pop()
        if isinstance(value, tuple | frozenset):
            pending.extend(value)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            found.append(_check_writable(value))
    found.reverse()
    return found


def _encode(value: Any, index_by_id: dict[int, int]) -> Any:
    if value is None or type(value) in (bool, int, str):
        return value
    if type(value) is float:
        return value if math.isfinite(value) else {"float": repr(value)}
    if type(value) is tuple:
        return [_encode(item, index_by_id) for item in value]
    if type(value) is frozenset:
        items = [_encode(item, index_by_id) for item in value]
        return {"frozenset": sorted(items, key=lambda item: json.dumps(item, sort_keys=True))}
    if type(value) is dict:
        if not all(type(key) is str and _is_plain(item) for key, item in value.items()):
            raise SerialisationError(
                f"cannot write {value!r}: a dict must map strings to plain values"
            )
        return {"dict": [[key, _encode(value[key], index_by_id)] for key in sorted(value)]}
    if type(value) is datetime.date:
        return {"date": value.isoformat()}
    if type(value) is datetime.time:
        return {"time": value.isoformat()}
    if isinstance(value, type):
        if value not in _TYPE_NAMES:
            raise SerialisationError(f"cannot write the type {value.__qualname__}")
        return {"type": _TYPE_NAMES[value]}
    if id(value) in index_by_id:
        return {"ref": index_by_id[id(value)]}
    raise SerialisationError(f"cannot write {value!r} ({type(value).__name__})")


# Reading


def loads(text: str | bytes) -> Any:
    """The query model written by `dumps`. Raises SerialisationError, with a sentence saying what
    is wrong, for anything else (including a node that fails its own checks)."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise SerialisationError(f"not a serialised query model: {error}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise SerialisationError("not a serialised query model: no format marker")
    if document.get("version") != VERSION:
        raise SerialisationError(
            f"query model version {document.get('version')!r} cannot be read (expected {VERSION})"
        )
    if set(document) != {"format", "version", "root", "objects"}:
        raise SerialisationError(f"unexpected keys {sorted(document)} in a serialised query model")
    entries, root = document["objects"], document["root"]
    if not isinstance(entries, list):
        raise SerialisationError("objects must be a list")
    built: list[Any] = []
    for index, entry in enumerate(entries):
        built.append(_build(index, entry, built))
    if type(root) is not int or not 0 <= root < len(built):
        raise SerialisationError(f"root {root!r} is not the index of an object")
    return built[root]


def _build(index: int, entry: Any, built: list[Any]) -> Any:
    where = f"object {index}"
    if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], dict)):
        raise SerialisationError(f"{where} is not a [class name, {{fields}}] pair")
    name, given = entry
    cls = ALLOWED_CLASSES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise SerialisationError(f"{where}: {name!r} is not a query model node type")
    where = f"{where} ({name})"
    expected = _FIELDS[cls]
    if unknown := sorted(set(given) - set(expected)):
        raise SerialisationError(f"{where} has unknown fields: {', '.join(unknown)}")
    if missing := [field for field in expected if field not in given]:
        raise SerialisationError(f"{where} is missing fields: {', '.join(missing)}")
    arguments = {}
    for field, annotation in expected.items():
        try:
            value = _decode(given[field], built)
        except RecursionError:
            raise SerialisationError(f"{where}: field {field} is nested too deeply") from None
        if not _matches(value, annotation):
            raise SerialisationError(
                f"{where}: field {field} should be {_describe(annotation)}, not {value!r}"
            )
        arguments[field] = value
    try:
        return cls(**arguments)
    except Exception as error:  # noqa: BLE001  (a node's own check failed; say which and why)
        raise SerialisationError(f"{where} is not a valid node: {error}") from None


def _decode(value: Any, built: list[Any]) -> Any:
    if value is None or type(value) in (bool, int, float, str):
        return value
    if type(value) is list:
        return tuple(_decode(item, built) for item in value)
    if type(value) is not dict or len(value) != 1:
        raise SerialisationError(f"{value!r} is not a value")
    ((tag, content),) = value.items()
    if tag == "ref":
        if type(content) is not int or not 0 <= content < len(built):
            raise SerialisationError(f"{value!r} does not refer to an earlier object")
        return built[content]
    if tag == "type" and isinstance(content, str) and content in ALLOWED_TYPES:
        return ALLOWED_TYPES[content]
    if tag == "type":
        raise SerialisationError(f"{content!r} is not an allowed type")
    try:
        if tag == "date" and isinstance(content, str):
            return datetime.date.fromisoformat(content)
        if tag == "time" and isinstance(content, str):
            return datetime.time.fromisoformat(content)
    except ValueError:
        raise SerialisationError(f"{value!r} is not a valid {tag}") from None
    if tag == "float" and content in ("inf", "-inf", "nan"):
        return float(content)
    if tag == "dict" and type(content) is list:
        pairs = {}
        for pair in content:
            if not (type(pair) is list and len(pair) == 2 and type(pair[0]) is str):
                raise SerialisationError(f"{pair!r} is not a [string key, value] pair")
            if pair[0] in pairs:
                raise SerialisationError(f"the key {pair[0]!r} is given twice")
            pairs[pair[0]] = _decode(pair[1], built)
            if not _is_plain(pairs[pair[0]]):
                raise SerialisationError(f"{pair!r}: a dict can only hold plain values")
        return pairs
    if tag == "frozenset" and type(content) is list:
        try:
            return frozenset(_decode(item, built) for item in content)
        except TypeError:
            raise SerialisationError(f"{value!r} holds an unhashable value") from None
    raise SerialisationError(f"{value!r} is not a value")


def _is_plain(value: Any) -> bool:
    """None, a boolean, number or string, or a tuple of those: what a dict may hold."""
    if type(value) is tuple:
        return all(_is_plain(item) for item in value)
    return value is None or type(value) in (bool, int, float, str)


def _matches(value: Any, annotation: Any) -> bool:
    """Whether a decoded value fits a field's annotation (as far as it can be checked here; the
    node checks the rest)."""
    if annotation is Any:
        return True
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        return any(type(value) is type(option) and value == option for option in arguments)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, option) for option in arguments)
    if origin is tuple:
        if type(value) is not tuple:
            return False
        if len(arguments) == 2 and arguments[1] is Ellipsis:
            return all(_matches(item, arguments[0]) for item in value)
        return len(value) == len(arguments) and all(map(_matches, value, arguments))
    if origin is frozenset:
        return type(value) is frozenset and all(_matches(item, arguments[0]) for item in value)
    if origin is dict:
        return type(value) is dict and all(
            _matches(key, arguments[0]) and _matches(item, arguments[1])
            for key, item in value.items()
        )
    if annotation is type:
        return isinstance(value, type)
    if annotation is nodes.NoneType or annotation is None:
        return value is None
    if annotation is float:
        return type(value) in (int, float)
    if annotation is int:
        return type(value) is int
    if isinstance(annotation, type):
        return isinstance(value, annotation)
    return True


def _describe(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")
