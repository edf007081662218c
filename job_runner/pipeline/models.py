"""The pydantic models of a project.yaml: Pipeline, Action, Outputs and Command.

Field-level rules live here as validators that raise PydanticCustomError, whose type is our rule
code and whose message says what to do; `validation.py` maps each error back to a line.
"""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    PrivateAttr,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from job_runner.pipeline.outputs import LEVELS, OutputPathError, check_output_path, matches

RUN_ALL = "run_all"
ACTION_NAME = re.compile(r"[A-Za-z0-9_-]+")
MAX_ACTION_NAME = 100
TAG = re.compile(r"v[0-9]+")


@dataclass(frozen=True)
class Image:
    """An action image this TRE can run, with the versions that exist and an example `run`."""

    name: str
    versions: tuple[str, ...]
    example: str


IMAGES = {
    image.name: image
    for image in (
        Image(
            "ehrql",
            ("v1",),
            "ehrql:v1 generate-dataset analysis/dataset_definition.py "
            "--output output/dataset.csv.gz",
        ),
        Image("sqlrunner", ("v1",), "sqlrunner:v1 analysis/query.sql --output output/results.csv"),
        Image("python", ("v1", "v2"), "python:v2 analysis/model.py"),
        Image("r", ("v1",), "r:v1 analysis/model.R"),
    )
}
IMAGE_NAMES = ", ".join(IMAGES)
EHRQL_OUTPUT_COMMAND = re.compile(r"generate[-_](?P<kind>dataset|measures)")
SCRIPT_SUFFIXES = {"python": (".py",), "r": (".R", ".r")}


def _fail(code: str, message: str) -> PydanticCustomError:
    # Without a context, pydantic leaves the message as it is, braces included.
    return PydanticCustomError(code, message)


class Command(BaseModel):
    """A parsed `run:` line: `IMAGE:TAG ARGS...`."""

    model_config = ConfigDict(frozen=True)

    image: str
    tag: str
    args: tuple[str, ...]
    raw: str

    @property
    def image_ref(self) -> str:
        return f"{self.image}:{self.tag}"

    def option(self, name: str) -> str | None:
        """The value of `--name VALUE` or `--name=VALUE` in the arguments, if given."""
        for switch, value in zip(self.args, (*self.args[1:], None), strict=True):
            if switch == name:
                return value
            if switch.startswith(f"{name}="):
                return switch.removeprefix(f"{name}=")
        return None

    def positional(self) -> list[str]:
        """Arguments that are not options or option values (options take one value)."""
        result: list[str] = []
        skip = False
        for arg in self.args:
            if skip:
                skip = False
            elif arg.startswith("--"):
                skip = "=" not in arg
            elif not arg.startswith("-") or arg == "-":
                result.append(arg)
        return result

    @classmethod
    def parse(cls, raw: Any) -> Command:
        """Parse and check a `run:` value; raises PydanticCustomError naming the rule."""
        if not isinstance(raw, str):
            raise _fail(
                "run-type",
                "`run` must be one line of text, e.g. `run: python:v2 analysis/model.py`",
            )
        try:
            parts = shlex.split(raw)
        except ValueError:
            raise _fail(
                "run-quotes",
                "`run` has a quote (' or \") that is never closed; close it or remove it",
            ) from None
        if not parts:
            raise _fail(
                "run-empty",
                "`run` is empty; give the image and its arguments, e.g. "
                "`run: python:v2 analysis/model.py`",
            )
        image, colon, tag = parts[0].partition(":")
        if image not in IMAGES:
            hint = (
                " (cohort-extractor is not available here: write a dataset definition and "
                "run it with ehrql:v1)"
                if image.startswith("cohortextractor")
                else ""
            )
            raise _fail(
                "image",
                f"`{image}` is not an action image here; use one of {IMAGE_NAMES}{hint}",
            )
        known = IMAGES[image]
        if not colon or not tag:
            raise _fail(
                "tag",
                f"`{image}` needs a version: write `{image}:{known.versions[-1]}`",
            )
        if tag == "latest" or not TAG.fullmatch(tag) or tag not in known.versions:
            versions = ", ".join(f"{image}:{version}" for version in known.versions)
            why = "`latest` changes under your feet; " if tag == "latest" else ""
            raise _fail(
                "tag",
                f"`{image}:{tag}` is not an image version that exists; {why}pin one of {versions}",
            )
        command = cls(image=image, tag=tag, args=tuple(parts[1:]), raw=raw)
        command.check_arguments()
        return command

    def check_arguments(self) -> None:
        example = IMAGES[self.image].example
        positional = self.positional()
        if self.image == "ehrql":
            if not self.args or self.args[0].startswith("-"):
                raise _fail(
                    "run-args",
                    f"say which ehrql-schools command to run, e.g. `run: {example}`",
                )
            scripts = positional[1:2]
        elif self.image == "sqlrunner":
            sql_files = [arg for arg in positional if arg.endswith(".sql")]
            if len(sql_files) != 1 or len(positional) != 1:
                raise _fail(
                    "run-args", f"sqlrunner runs exactly one .sql file, e.g. `run: {example}`"
                )
            if not self.option("--output"):
                raise _fail(
                    "run-args",
                    f"sqlrunner needs `--output PATH` to say where the results go, "
                    f"e.g. `run: {example}`",
                )
            scripts = sql_files
        else:
            suffixes = SCRIPT_SUFFIXES[self.image]
            if not self.args or not self.args[0].endswith(suffixes):
                raise _fail(
                    "run-args",
                    f"{self.image} actions start with the script to run "
                    f"({' or '.join(suffixes)} file), e.g. `run: {example}`",
                )
            scripts = [self.args[0]]
        for script in scripts:
            if script.startswith("/") or ".." in script.split("/") or "\\" in script:
                raise _fail(
                    "run-args",
                    f"`{script}` must be a path inside the project folder, written with "
                    "forward slashes and without `..`, e.g. analysis/model.py",
                )


def _highly_sensitive(path: str) -> str:
    return _check_path(path, "highly_sensitive")


def _moderately_sensitive(path: str) -> str:
    return _check_path(path, "moderately_sensitive")


def _check_path(path: str, level: str) -> str:
    try:
        check_output_path(path, level)
    except OutputPathError as error:
        raise _fail(error.code, error.message) from None
    return path


HighlySensitivePath = Annotated[str, AfterValidator(_highly_sensitive)]
ModeratelySensitivePath = Annotated[str, AfterValidator(_moderately_sensitive)]


class Outputs(BaseModel):
    """The files an action writes, by sensitivity level: output name -> path or pattern."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    highly_sensitive: dict[str, HighlySensitivePath] | None = None
    moderately_sensitive: dict[str, ModeratelySensitivePath] | None = None

    @model_validator(mode="after")
    def _some_output(self) -> Outputs:
        if not self.highly_sensitive and not self.moderately_sensitive:
            raise _fail(
                "outputs-empty",
                "declare at least one output file under `highly_sensitive` or "
                "`moderately_sensitive`; only declared files are kept after an action runs",
            )
        return self

    def files(self) -> Iterator[tuple[str, str, str]]:
        """(level, output name, path or pattern) for every declared output."""
        for level in LEVELS:
            for name, path in (getattr(self, level) or {}).items():
                yield level, name, path

    def level_of(self, path: str) -> str | None:
        """The level of the first declared output that `path` matches, if any."""
        for level, _name, pattern in self.files():
            if matches(pattern, path):
                return level
        return None


def _json_problem(value: Any, depth: int = 0) -> str | None:
    if value is None or isinstance(value, bool | int | str):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else "a number that is not finite (.inf or .nan)"
    if isinstance(value, list):
        return next((p for v in value if (p := _json_problem(v, depth + 1))), None)
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            return "a key that is not text (quote keys such as 1 or true)"
        return next((p for v in value.values() if (p := _json_problem(v, depth + 1))), None)
    return f"a value of type {type(value).__name__}"  # pragma: no cover - loader makes no others


class Action(BaseModel):
    """One step of the pipeline."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    run: Command
    needs: list[str] = []
    outputs: Outputs
    config: dict[str, Any] | None = None

    _name: str = PrivateAttr(default="")

    @property
    def name(self) -> str:
        return self._name

    @field_validator("run", mode="before")
    @classmethod
    def _parse_run(cls, value: Any) -> Command:
        return value if isinstance(value, Command) else Command.parse(value)

    @field_validator("needs", mode="before")
    @classmethod
    def _check_needs(cls, value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, str):
            raise _fail(
                "needs-type",
                f"`needs` must be a list of action names: write `needs: [{value}]`",
            )
        if isinstance(value, list):
            for item in value:
                if isinstance(item, str) and ("," in item or " " in item.strip()):
                    names = ", ".join(part for part in re.split(r"[,\s]+", item) if part)
                    raise _fail(
                        "needs-type",
                        f"`{item}` is several names in one; separate actions with commas "
                        f"inside brackets: `needs: [{names}]`",
                    )
        return value

    @field_validator("config", mode="before")
    @classmethod
    def _check_config(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, dict):
            raise _fail(
                "config-json",
                "`config` must be a mapping of names to values; it is handed to the action as "
                "a JSON object",
            )
        if value is not None and (problem := _json_problem(value)):
            raise _fail(
                "config-json",
                f"`config` is handed to the action as JSON but contains {problem}",
            )
        return value

    @model_validator(mode="after")
    def _check_outputs_match_command(self) -> Action:
        run = self.run
        if run.image == "ehrql" and (match := EHRQL_OUTPUT_COMMAND.match(run.args[0])):
            self._check_ehrql(match.group("kind"))
        if run.image == "sqlrunner":
            output = run.option("--output") or ""
            declared = [path for _level, _name, path in self.outputs.files()]
            if output not in declared:
                raise _fail(
                    "run-output",
                    f"`--output {output}` is not a declared output; add `{output}` under "
                    "`outputs: highly_sensitive:` or change `--output`",
                )
        return self

    def _check_ehrql(self, kind: str) -> None:
        command = self.run.args[0]
        highly = list((self.outputs.highly_sensitive or {}).values())
        moderately = list((self.outputs.moderately_sensitive or {}).values())
        if kind == "dataset" and moderately:
            raise _fail(
                "ehrql-output",
                f"`{command}` writes one row per pupil or teacher, so its outputs must all be "
                "`highly_sensitive`; move them there",
            )
        spec = self.run.option("--output")
        if not spec:
            raise _fail(
                "ehrql-output",
                f"`{command}` needs `--output PATH` to say where the results go, e.g. "
                "--output output/dataset.csv.gz, and the same path under `outputs`",
            )
        declared = highly + (moderately if kind == "measures" else [])
        folder, colon, file_type = spec.rpartition(":")
        if colon and "/" not in file_type:  # `--output output/tables:csv` writes a folder of files
            expected = f"{folder}/*.{file_type}"
            if not declared or not all(matches(expected, path) for path in declared):
                raise _fail(
                    "ehrql-output",
                    f"`--output {spec}` writes files matching `{expected}`, so declare that "
                    "pattern as the output (and nothing else)",
                )
        elif spec not in declared:
            raise _fail(
                "ehrql-output",
                f"`--output {spec}` is not a declared output; declare `{spec}` under "
                "`outputs: highly_sensitive:` or make --output match what you declared",
            )


class Pipeline(BaseModel):
    """A validated project.yaml, with the planning helpers the runner needs."""

    model_config = ConfigDict(frozen=True)

    version: int
    actions: dict[str, Action]

    def __getitem__(self, name: str) -> Action:
        return self.actions[name]

    @property
    def action_names(self) -> list[str]:
        return list(self.actions)

    def topological_order(self) -> list[str]:
        """Every action after the actions it needs; otherwise in the order of the file."""
        order: list[str] = []
        done: set[str] = set()
        for name in self.actions:
            self._visit(name, done, order)
        return order

    def _visit(self, start: str, done: set[str], order: list[str]) -> None:
        if start in done:
            return
        done.add(start)
        stack: list[tuple[str, Iterator[str]]] = [(start, iter(self.actions[start].needs))]
        while stack:
            name, needs = stack[-1]
            for need in needs:
                if need not in done:
                    done.add(need)
                    stack.append((need, iter(self.actions[need].needs)))
                    break
            else:
                stack.pop()
                order.append(name)

    def dependencies_of(self, name: str) -> list[str]:
        """All actions that `name` needs, directly or not, in an order they can run in."""
        self.expand([name])
        order: list[str] = []
        done: set[str] = set()
        self._visit(name, done, order)
        return order[:-1]

    def expand(self, names: Iterable[str]) -> list[str]:
        """The requested action names with `run_all` replaced by every action; no duplicates."""
        result: list[str] = []
        for name in names:
            if name == RUN_ALL:
                result.extend(self.actions)
            elif name in self.actions:
                result.append(name)
            else:
                raise UnknownActionError(name, self.action_names)
        return list(dict.fromkeys(result))

    def plan(self, names: Iterable[str], *, with_dependencies: bool = True) -> list[str]:
        """The actions to run for a request, in running order."""
        wanted = set(self.expand(names))
        if with_dependencies:
            for name in list(wanted):
                wanted.update(self.dependencies_of(name))
        return [name for name in self.topological_order() if name in wanted]

    def output_level(self, action: str, path: str) -> str | None:
        """The sensitivity level of `path` if `action` declared it, else None."""
        return self.actions[action].outputs.level_of(path)


class UnknownActionError(ValueError):
    """A requested action that the project does not declare."""

    def __init__(self, name: str, known: list[str]) -> None:
        import difflib

        close = difflib.get_close_matches(name, [*known, RUN_ALL], n=1)
        hint = f"; did you mean `{close[0]}`?" if close else ""
        super().__init__(f"there is no action `{name}` in project.yaml{hint}")
        self.name = name
