"""Read a project.yaml and check it, collecting every problem before giving up."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from job_runner.pipeline.errors import PipelineError, Problem
from job_runner.pipeline.models import (
    ACTION_NAME,
    IMAGES,
    MAX_ACTION_NAME,
    RUN_ALL,
    Action,
    Pipeline,
)
from job_runner.pipeline.outputs import is_pattern, matches
from job_runner.pipeline.yaml_loader import Document, load_yaml

VERSION = 5
TOP_LEVEL_KEYS = ("version", "actions")
ACTION_KEYS = ("run", "needs", "outputs", "config")
OUTPUT_KEYS = ("highly_sensitive", "moderately_sensitive")
FORMAT_DOC = "docs/project-yaml.md"

# Keys that other editions of the format allowed, with what to do about each.
RETIRED_KEYS = {
    (): {
        "expectations": "`expectations` (population_size) belonged to cohort-extractor in "
        "version 3 and is not part of version 5; remove it: dummy data comes from the "
        "synthetic school data, sized by `osschools dummy-data`",
    },
    ("action",): {
        "dummy_data_file": "`dummy_data_file` is not supported: actions run against the "
        "synthetic school database, so remove it",
    },
    ("outputs",): {
        "minimally_sensitive": "`minimally_sensitive` is not an output level here; declare "
        "the file as `moderately_sensitive` (checked before release) or `highly_sensitive`",
    },
}

_TYPE_NAMES = {
    "string_type": "text",
    "list_type": "a list",
    "dict_type": "a mapping of names to values",
    "model_type": "a mapping of names to values",
    "model_attributes_type": "a mapping of names to values",
}


def load_pipeline(path: str | os.PathLike[str]) -> Pipeline:
    """Read and validate the project file at `path`; raise PipelineError with every problem."""
    filename = os.fspath(path)
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise PipelineError(
            [Problem(filename, None, "file", f"cannot read the project file: {reason}")]
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PipelineError(
            [
                Problem(
                    filename,
                    None,
                    "file",
                    f"the file is not UTF-8 text (bad byte at offset {error.start}); "
                    "save it as UTF-8",
                )
            ]
        ) from None
    return parse_pipeline(text, filename)


def parse_pipeline(text: str, filename: str = "project.yaml") -> Pipeline:
    """Validate project.yaml text; `filename` is only used in the messages."""
    document = load_yaml(text, filename)
    checker = _Checker(document, filename)
    pipeline = checker.check()
    if checker.problems or pipeline is None:
        raise PipelineError(checker.problems)
    return pipeline


class _Checker:
    def __init__(self, document: Document, filename: str) -> None:
        self.document = document
        self.filename = filename
        self.problems: list[Problem] = []
        self.skip_empty_outputs: set[tuple[Any, ...]] = set()

    def add(self, path: tuple[Any, ...], code: str, message: str, *, key: bool = False) -> None:
        position = self.document.position(path, key=key)
        self.problems.append(Problem(self.filename, position, code, message))

    def line_of(self, path: tuple[Any, ...]) -> str:
        position = self.document.position(path, key=True)
        return f" (line {position.line})" if position else ""

    # --- the top level -------------------------------------------------------------------------

    def check(self) -> Pipeline | None:
        data = self.document.data
        if not isinstance(data, dict):
            self.add(
                (),
                "top-level",
                "project.yaml must be a mapping with `version:` and `actions:` at the top level",
            )
            return None
        for key in data:
            if key not in TOP_LEVEL_KEYS:
                self.unknown_key((), key, "the project", TOP_LEVEL_KEYS, ())
        self.check_version(data)
        actions = data.get("actions")
        if "actions" not in data:
            self.add(
                (),
                "actions",
                "add an `actions:` section: each action has a `run:` line and `outputs:`",
            )
            return None
        if not isinstance(actions, dict) or not actions:
            self.add(
                ("actions",),
                "actions",
                "`actions` must be a mapping of action names to actions, with at least one "
                f"action; see {FORMAT_DOC}",
            )
            return None
        valid = self.check_actions(actions)
        graph = _needs_graph(actions)
        self.check_needs(graph, actions)
        self.check_cycles(graph)
        self.check_duplicate_outputs(valid)
        self.check_duplicate_runs(valid)
        if self.problems:
            return None
        return Pipeline(version=VERSION, actions=valid)

    def check_version(self, data: dict[Any, Any]) -> None:
        explain = (
            f'write `version: "{VERSION}"`: it names the edition of the project.yaml format '
            f"the file is written in, and this TRE reads version {VERSION}, the current "
            "OpenSAFELY edition"
        )
        if "version" not in data:
            self.add((), "version", f"the file has no `version`; {explain}")
            return
        version = data["version"]
        number: float | None = None
        if isinstance(version, int | float) and not isinstance(version, bool):
            number = float(version)
        elif isinstance(version, str):
            try:
                number = float(version)
            except ValueError:
                number = None
        if number == VERSION:
            return
        if number is not None and number < VERSION:
            detail = (
                f"version {version} is an older edition of the format (cohort-extractor and "
                f"`expectations` belong to it); {explain}"
            )
        elif number is not None:
            detail = f"version {version} is newer than this TRE understands; {explain}"
        else:
            detail = f"`version: {version}` is not a version number; {explain}"
        self.add(("version",), "version", detail)

    def unknown_key(
        self,
        path: tuple[Any, ...],
        key: Any,
        where: str,
        allowed: tuple[str, ...],
        kind: tuple[str, ...],
    ) -> None:
        retired = RETIRED_KEYS.get(kind, {})
        if isinstance(key, str) and key in retired:
            self.add((*path, key), key.replace("_", "-"), retired[key], key=True)
            return
        close = difflib.get_close_matches(str(key), allowed, n=1)
        hint = f"did you mean `{close[0]}`? " if close else ""
        self.add(
            (*path, key),
            "unknown-key",
            f"`{key}` is not a key of {where}; {hint}the keys are {', '.join(allowed)}",
            key=True,
        )

    # --- each action ---------------------------------------------------------------------------

    def check_actions(self, actions: dict[Any, Any]) -> dict[str, Action]:
        valid: dict[str, Action] = {}
        for name, raw in actions.items():
            path = ("actions", name)
            name_ok = self.check_action_name(name)
            if not isinstance(raw, dict):
                self.add(
                    path,
                    "action-type",
                    f"action `{name}` must be a mapping with `run:` and `outputs:` (and "
                    "optionally `needs:` and `config:`)",
                )
                continue
            raw = self.known_keys(path, name, raw)
            try:
                action = Action.model_validate(raw)
            except ValidationError as error:
                for problem in self.translate(error, path, name):
                    self.problems.append(problem)
                continue
            if name_ok:
                action._name = name
                valid[name] = action
        return valid

    def known_keys(self, path: tuple[Any, ...], name: Any, raw: dict[Any, Any]) -> dict[Any, Any]:
        """Report unknown keys here, and drop them, so that pydantic checks everything else."""
        where = f"action `{name}`"
        for key in raw:
            if key not in ACTION_KEYS:
                self.unknown_key(path, key, where, ACTION_KEYS, ("action",))
        known = {key: value for key, value in raw.items() if key in ACTION_KEYS}
        outputs = known.get("outputs")
        if isinstance(outputs, dict):
            for key in outputs:
                if key not in OUTPUT_KEYS:
                    label = f"`outputs` of {where}"
                    self.unknown_key((*path, "outputs"), key, label, OUTPUT_KEYS, ("outputs",))
            known["outputs"] = {key: v for key, v in outputs.items() if key in OUTPUT_KEYS}
            if len(known["outputs"]) < len(outputs):
                self.skip_empty_outputs.add(path)  # the unknown level was the problem
        return known

    def check_action_name(self, name: Any) -> bool:
        path = ("actions", name)
        if not isinstance(name, str):
            self.add(
                path,
                "action-name",
                f"the action name `{name}` must be text made of letters, digits, _ and -; "
                "quote it or rename it",
                key=True,
            )
            return False
        if name == RUN_ALL:
            self.add(
                path,
                "run-all",
                f"`{RUN_ALL}` is reserved (it means every action); rename this action",
                key=True,
            )
            return False
        if not ACTION_NAME.fullmatch(name) or len(name) > MAX_ACTION_NAME:
            suggestion = "_".join(part for part in _split_unsafe(name) if part)[:MAX_ACTION_NAME]
            hint = f", e.g. `{suggestion}`" if suggestion else ""
            self.add(
                path,
                "action-name",
                f"the action name `{name}` may only use letters, digits, _ and - (at most "
                f"{MAX_ACTION_NAME} characters); rename it{hint}",
                key=True,
            )
            return False
        return True

    def translate(
        self, error: ValidationError, path: tuple[Any, ...], name: Any
    ) -> Iterator[Problem]:
        for detail in error.errors(include_url=False):
            loc = tuple(part for part in detail["loc"] if part != "[key]")
            full = (*path, *loc)
            kind = detail["type"]
            if kind == "outputs-empty" and path in self.skip_empty_outputs:
                continue
            where = f"action `{name}`"
            if kind == "extra_forbidden":
                parent, key = loc[:-1], loc[-1]
                if parent == ("outputs",):
                    allowed, label, group = OUTPUT_KEYS, f"`outputs` of {where}", ("outputs",)
                else:
                    allowed, label, group = ACTION_KEYS, where, ("action",)
                before = len(self.problems)
                self.unknown_key((*path, *parent), key, label, allowed, group)
                yield self.problems.pop(before)
            elif kind == "missing":
                field = loc[-1]
                what = {
                    "run": f"a `run:` line saying what to run, e.g. `run: "
                    f"{IMAGES['python'].example}`",
                    "outputs": "`outputs:` declaring the files it writes; only declared files "
                    "are kept",
                }.get(str(field), f"`{field}`")
                yield self.problem(full[:-1], f"missing-{field}", f"{where} needs {what}", True)
            elif kind in _TYPE_NAMES:
                label = _describe(loc)
                yield self.problem(
                    full,
                    "type",
                    f"{label} of {where} must be {_TYPE_NAMES[kind]}",
                    False,
                )
            elif kind.startswith(("run-", "image", "tag", "needs-", "output", "config-", "ehrql")):
                # Our own rules: the message already says what to do. Rules that compare
                # `run` with `outputs` point at the `run` line.
                at = (*path, "run") if kind in ("ehrql-output", "run-output") else full
                key = kind == "outputs-empty"  # point at `outputs:` itself
                yield self.problem(at, kind, f"{where}: {detail['msg']}", key)
            else:
                label = _describe(loc) if loc else where
                yield self.problem(full, "type", f"{label} of {where}: {detail['msg']}", False)

    def problem(self, path: tuple[Any, ...], code: str, message: str, key: bool) -> Problem:
        return Problem(self.filename, self.document.position(path, key=key), code, message)

    # --- between actions -----------------------------------------------------------------------

    def check_needs(
        self, graph: dict[str, list[tuple[int, str]]], declared: dict[Any, Any]
    ) -> None:
        names = [name for name in declared if isinstance(name, str)]
        for name, needs in graph.items():
            for index, need in needs:
                if need in declared:
                    continue
                close = difflib.get_close_matches(need, names, n=1)
                hint = f"did you mean `{close[0]}`? " if close else ""
                self.add(
                    ("actions", name, "needs", index),
                    "needs-unknown",
                    f"action `{name}` needs `{need}`, which is not an action in this file; "
                    f"{hint}list only actions defined under `actions:`",
                )

    def check_cycles(self, graph: dict[str, list[tuple[int, str]]]) -> None:
        edges = {
            name: [need for _i, need in needs if need in graph] for name, needs in graph.items()
        }
        state: dict[str, str] = {}
        reported: set[frozenset[str]] = set()
        for start in edges:
            if start in state:
                continue
            state[start] = "active"
            stack = [(start, iter(edges[start]))]
            while stack:
                node, children = stack[-1]
                child = next(children, None)
                if child is None:
                    state[node] = "done"
                    stack.pop()
                elif child not in state:
                    state[child] = "active"
                    stack.append((child, iter(edges[child])))
                elif state[child] == "active":
                    names = [entry[0] for entry in stack]
                    loop = names[names.index(child) :]
                    if frozenset(loop) not in reported:
                        reported.add(frozenset(loop))
                        self.report_cycle(loop, graph)

    def report_cycle(self, loop: list[str], graph: dict[str, list[tuple[int, str]]]) -> None:
        """Report a loop of needs once, at the need written first in the file."""
        order = list(self.document.data["actions"])
        first = min(loop, key=order.index)
        at = loop.index(first)
        ordered = loop[at:] + loop[:at]
        following = ordered[1] if len(ordered) > 1 else first
        index = next(i for i, need in graph[first] if need == following)
        if len(ordered) == 1:
            message = f"action `{first}` needs itself; remove `{first}` from its `needs`"
        else:
            steps = ", ".join(
                f"{name} needs {ordered[(i + 1) % len(ordered)]}" for i, name in enumerate(ordered)
            )
            message = (
                f"these actions need each other in a loop ({steps}), so none of them can "
                "run first; remove one of these needs"
            )
        self.add(("actions", first, "needs", index), "cycle", message)

    def check_duplicate_outputs(self, valid: dict[str, Action]) -> None:
        seen: dict[str, tuple[str, tuple[Any, ...]]] = {}
        declared: list[tuple[str, str, tuple[Any, ...]]] = []
        for name, action in valid.items():
            for level, output, path in action.outputs.files():
                where = ("actions", name, "outputs", level, output)
                if path in seen:
                    other, other_where = seen[path]
                    owner = "this action" if other == name else f"action `{other}`"
                    self.add(
                        where,
                        "duplicate-output",
                        f"`{path}` is already declared by {owner}{self.line_of(other_where)}; "
                        "each file must be declared once, by the one action that writes it",
                    )
                    continue
                seen[path] = (name, where)
                declared.append((name, path, where))
        patterns = [(name, path, where) for name, path, where in declared if is_pattern(path)]
        for name, path, where in declared:
            for other, pattern, other_where in patterns:
                if other != name and path != pattern and matches(pattern, path):
                    self.add(
                        where,
                        "output-overlap",
                        f"`{path}` also matches `{pattern}`, declared by action `{other}`"
                        f"{self.line_of(other_where)}; make the pattern narrower or rename "
                        "the file, so each file belongs to one action",
                    )

    def check_duplicate_runs(self, valid: dict[str, Action]) -> None:
        seen: dict[tuple[str, str, tuple[str, ...]], str] = {}
        for name, action in valid.items():
            run = action.run
            key = (run.image, run.tag, run.args)
            if key in seen:
                other = seen[key]
                self.add(
                    ("actions", name, "run"),
                    "duplicate-run",
                    f"action `{name}` has the same `run` as action `{other}`"
                    f"{self.line_of(('actions', other))}; two actions would do the same work: "
                    "remove one, or have the other `need` it",
                )
            else:
                seen[key] = name


def _needs_graph(actions: dict[Any, Any]) -> dict[str, list[tuple[int, str]]]:
    """Action name -> (index, name) of each need, for every action whose needs can be read.

    Needs written as several names in one (`[a b]`) are left to the `needs-type` rule.
    """
    graph: dict[str, list[tuple[int, str]]] = {}
    for name, raw in actions.items():
        if not isinstance(name, str) or not isinstance(raw, dict):
            continue
        needs = raw.get("needs") or []
        if isinstance(needs, list):
            graph[name] = [
                (i, need)
                for i, need in enumerate(needs)
                if isinstance(need, str) and not re.search(r"[,\s]", need.strip())
            ]
    return graph


def _describe(loc: tuple[Any, ...]) -> str:
    if not loc:
        return "this"
    if len(loc) >= 3 and loc[0] == "outputs":
        return f"output `{loc[2]}`"
    if len(loc) == 2 and loc[0] == "needs":
        return f"item {int(loc[1]) + 1} of `needs`"
    return "`" + ".".join(str(part) for part in loc) + "`"


def _split_unsafe(name: str) -> list[str]:
    return re.split(r"[^A-Za-z0-9_-]+", name)
