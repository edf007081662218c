"""Load a researcher's dataset or measures definition file and compile it to the query model.

A dataset definition assigns `dataset = create_dataset()`, a measures definition `measures =
create_measures()`; both are the researcher's own Python code. Run against synthetic data it can
run in this process; wherever a real database is configured it must run isolated
(`load_dataset_definition(path, parameters, isolated=True)`, and the same for
`load_measures_definition`): in a child process with no credentials in its environment, no
network and limited time and memory, which hands back only the serialised query model or
measures model (see `ehrql_schools.isolation`).

Both ways run the file the same way (relative paths, such as code list CSVs, are read from the
definition's folder) and report mistakes with the same messages: `QueryError`s naming the file and
line, with a traceback of the researcher's own frames only.
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import linecache
import os
import sysconfig
import traceback
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ehrql_schools.query_language import (
    PACKAGE_DIR,
    Dataset,
    QueryError,
    compile_dataset,
    set_parameters,
)
from ehrql_schools.query_model import nodes

if TYPE_CHECKING:
    from ehrql_schools.measures import MeasuresModel

DEFAULT_TIMEOUT = 300.0
DEFAULT_MEMORY_LIMIT = 2 * 1024**3

#: What a definition file defines: the name of its top-level variable.
Kind = Literal["dataset", "measures"]
KINDS: tuple[Kind, ...] = ("dataset", "measures")
_CREATE = {"dataset": "create_dataset()", "measures": "create_measures()"}


def load_dataset_definition(
    path: Path | str,
    parameters: Mapping[str, str] | None = None,
    *,
    isolated: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    memory_limit: int = DEFAULT_MEMORY_LIMIT,
    allow_network_fallback: bool = False,
) -> nodes.Dataset:
    """Run the definition file with `parameters` and compile its `dataset` variable.

    With `isolated=True` (required wherever a real database is configured) the file runs in a
    child process without credentials or network, stopped after `timeout` seconds or when it
    uses more than `memory_limit` bytes of address space. Where network namespaces are not
    available isolated loading fails with `IsolationError`, unless `allow_network_fallback` is
    set: only for local use on a machine that can reach no real data.

    Mistakes in the file raise `QueryError` naming its file and line.
    """
    dataset = load_definition(
        "dataset",
        path,
        parameters,
        isolated=isolated,
        timeout=timeout,
        memory_limit=memory_limit,
        allow_network_fallback=allow_network_fallback,
    )
    assert isinstance(dataset, nodes.Dataset)
    return dataset


def load_measures_definition(
    path: Path | str,
    parameters: Mapping[str, str] | None = None,
    *,
    isolated: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    memory_limit: int = DEFAULT_MEMORY_LIMIT,
    allow_network_fallback: bool = False,
) -> MeasuresModel:
    """Run the measures definition file with `parameters` and compile its `measures` variable
    (see `ehrql_schools.measures.compile_measures`); isolation and errors as for
    `load_dataset_definition`."""
    from ehrql_schools.measures import MeasuresModel

    model = load_definition(
        "measures",
        path,
        parameters,
        isolated=isolated,
        timeout=timeout,
        memory_limit=memory_limit,
        allow_network_fallback=allow_network_fallback,
    )
    assert isinstance(model, MeasuresModel)
    return model


def load_definition(
    kind: Kind,
    path: Path | str,
    parameters: Mapping[str, str] | None = None,
    *,
    isolated: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    memory_limit: int = DEFAULT_MEMORY_LIMIT,
    allow_network_fallback: bool = False,
) -> nodes.Dataset | MeasuresModel:
    """A definition of either kind, compiled: the dataset of a dataset definition, the measures
    model of a measures definition."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of definition {kind!r}")
    if isolated:
        from ehrql_schools.isolation import load_isolated

        return load_isolated(
            Path(path),
            parameters or {},
            timeout=timeout,
            memory_limit=memory_limit,
            allow_network_fallback=allow_network_fallback,
            kind=kind,
        )
    return run_definition(Path(path), parameters or {}, kind=kind)


def label(kind: Kind) -> str:
    """How messages name a definition of this kind: "dataset definition"."""
    return f"{kind} definition"


def run_definition(
    path: Path,
    parameters: Mapping[str, str],
    display_name: str | None = None,
    kind: Kind = "dataset",
) -> nodes.Dataset | MeasuresModel:
    """Run the definition in this process and compile its `dataset` (or `measures`); every
    failure of the researcher's code becomes a `QueryError` (see `user_error`). `display_name` is
    the file's name in messages (default: `path` as given)."""
    display = display_name or str(path)
    if not path.is_file():
        raise QueryError(f"no {label(kind)} at {display}")
    try:
        source = path.read_bytes()
    except OSError as error:
        raise QueryError(f"cannot read the {label(kind)} {display}: {error.strerror}") from None
    # Tracebacks show the researcher's lines whatever the working directory.
    lines = source.decode("utf-8", errors="replace").splitlines(keepends=True)
    linecache.cache[display] = (len(source), None, lines, display)
    set_parameters(dict(parameters))
    namespace = {
        "__name__": f"{kind}_definition",
        "__file__": str(path.resolve()),
        "__builtins__": builtins,
    }
    with _working_directory(path.resolve().parent):
        try:
            code = compile(source, display, "exec", dont_inherit=True)
            exec(code, namespace)  # noqa: S102  (running the researcher's file is the point)
            compiled = _compile(kind, namespace.get(kind))
        except (Exception, SystemExit) as error:  # noqa: BLE001
            raise user_error(error, display, kind) from None
    if compiled is None:
        raise located_error(
            f"defines no {kind}: assign `{kind} = {_CREATE[kind]}` at the top level", display
        )
    check_tables(compiled, display)
    return compiled


def _compile(kind: Kind, value: Any) -> nodes.Dataset | MeasuresModel | None:
    """The compiled dataset or measures, or None if `value` is not what a definition assigns."""
    if kind == "measures":
        from ehrql_schools.measures import Measures, compile_measures

        return compile_measures(value) if isinstance(value, Measures) else None
    return compile_dataset(value) if isinstance(value, Dataset) else None


def datasets_of(compiled: nodes.Dataset | MeasuresModel) -> list[nodes.Dataset]:
    """The datasets a compiled definition runs: the dataset, or every query of the measures."""
    if isinstance(compiled, nodes.Dataset):
        return [compiled]
    return [query.dataset for query in compiled.queries]


def check_tables(compiled: nodes.Dataset | MeasuresModel, display: str) -> None:
    """Raise QueryError unless every table the dataset (or every dataset of the measures) uses is
    a declared table, exactly as declared in `ehrql_schools.tables.schools`: no other table or
    column of the database may be read, even by a definition that declares its own table classes
    or forges a query model."""
    declared = declared_tables()
    for dataset in datasets_of(compiled):
        for node in nodes.walk(dataset):
            for field in dataclasses.fields(node):  # type: ignore[arg-type]
                value = getattr(node, field.name)
                if isinstance(value, nodes.TableSchema) and declared.get(value.name) != value:
                    raise located_error(
                        f"uses a table that is not declared in ehrql_schools.tables: {value.name}",
                        display,
                    )


def declared_tables() -> dict[str, nodes.TableSchema]:
    """The tables declared in `ehrql_schools.tables.schools`, by name."""
    from ehrql_schools.tables import schools

    found = {}
    for value in vars(schools).values():
        table = getattr(type(value), "_table", None)
        if isinstance(table, nodes.TableSchema):
            found[table.name] = table
    return found


@contextlib.contextmanager
def _working_directory(folder: Path) -> Iterator[None]:
    previous = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)


# Error messages, shared by both ways of loading


def user_error(error: BaseException, display: str, kind: Kind = "dataset") -> QueryError:
    """The `QueryError` to show for an exception raised while running the definition `display`:
    located at the researcher's line, with a traceback of only the researcher's frames."""
    if isinstance(error, QueryError):
        if error.filename is None:
            return located_error(error.message, display)
        return located_error(error.message, error.filename, error.lineno)
    if isinstance(error, SyntaxError) and error.filename and error.lineno:
        return _syntax_error(error)  # in the file itself or a module of the researcher's it imports
    frames = user_frames(error, display)
    filename, lineno = (frames[-1].filename, frames[-1].lineno) if frames else (display, None)
    if isinstance(error, SystemExit):
        summary = f"the {label(kind)} called exit({error.code!r})"
    elif isinstance(error, MemoryError):
        summary = f"MemoryError: the {label(kind)} ran out of memory"
    else:
        summary = "".join(traceback.format_exception_only(type(error), error)).strip()
    if len(frames) > 1:
        listing = "".join(traceback.format_list(frames)).rstrip()
        summary += f"\nTraceback (your code, most recent call last):\n{listing}"
    return located_error(summary, filename, lineno)


def located_error(message: str, filename: str, lineno: int | None = None) -> QueryError:
    """A QueryError naming the file, and the line when known: "FILE, line N: message" or
    "FILE: message"."""
    return QueryError(message, filename, lineno)


def _syntax_error(error: SyntaxError) -> QueryError:
    message = f"syntax error: {error.msg}"
    if error.text:
        line = error.text.rstrip("\n")
        stripped = line.lstrip()
        message += f"\n    {stripped}"
        if error.offset:
            column = max(error.offset - (len(line) - len(stripped)), 1)
            message += "\n    " + " " * (column - 1) + "^"
    return located_error(message, error.filename, error.lineno)


_NOT_USER_CODE = tuple(
    os.path.join(folder, "")
    for folder in {
        str(PACKAGE_DIR),
        *(sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")),
    }
)


def user_frames(error: BaseException, display: str) -> list[traceback.FrameSummary]:
    """The frames of an exception's traceback that are the researcher's code (the definition
    `display` and modules of theirs it imports): not this package, the standard library or
    installed packages."""
    return [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if frame.filename == display
        or not (
            frame.filename.startswith("<")
            or os.path.abspath(frame.filename).startswith(_NOT_USER_CODE)
        )
    ]
