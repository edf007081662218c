"""Run a dataset or measures definition, which is untrusted user code, in an isolated child
process.

`load_isolated` (used by `load_dataset_definition(..., isolated=True)` and
`load_measures_definition(..., isolated=True)`) starts
`python -m ehrql_schools.isolation` with:

- a scrubbed environment: only PATH, LANG, HOME (an empty temporary folder) and the PYTHONPATH that
  finds this package; never a variable whose name or value looks like a credential or database URL;
- its working directory in the definition's folder (code lists are read by relative path);
- no network: before running the file the child moves itself into new Linux user and network
  namespaces (`unshare(CLONE_NEWUSER | CLONE_NEWNET)`; plain `CLONE_NEWNET` where user namespaces
  are not allowed but the process may create network namespaces, as root in a container can). The
  new namespace has only a loopback interface, which is down, so every connection fails, even to
  127.0.0.1. Where neither works (macOS, a container without the privilege) loading fails with
  `IsolationError` rather than run with network, unless `allow_network_fallback` is set for local
  use on a machine that can reach no real data. Falling back, the child says what its network
  is: if its network namespace has no interface but loopback (a container started with
  `--network none`, as `osschools run --executor docker` does), a note that its isolation relies
  on that; otherwise a warning that it runs WITH network access;
- limits: a wall-clock timeout (the whole process group is killed), RLIMIT_CPU, RLIMIT_AS (address
  space, 2 GB by default) and no core dumps.

The protocol: the parent writes a JSON request on the child's stdin. The child points its stdout
(file descriptor 1) at stderr before it runs the researcher's code, so their print()s go to stderr;
it writes its answer on a private copy of the original stdout and exits with

- 0: the answer is `serialise.dumps(dataset)` (or of the `MeasuresModel`), parsed by
  `serialise.loads` against its allow-list of classes; it must be of the kind asked for, and every
  table in it (in every dataset of a measures model) must be a declared table;
- 3: the researcher's code failed; the answer is JSON {"message", "filename", "lineno"} of the
  `QueryError`, formatted by the same code as in-process loading (`loader.user_error`);
- 4: the child could not isolate itself; the answer is JSON {"message"}.

The child's stderr (the researcher's output) is copied to this process's stderr afterwards.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import json
import os
import re
import resource
import signal
import socket
import struct
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, NoReturn

import ehrql_schools
from ehrql_schools.loader import (
    KINDS,
    Kind,
    check_tables,
    label,
    located_error,
    run_definition,
    user_error,
)
from ehrql_schools.query_language import QueryError
from ehrql_schools.query_model import nodes, serialise

if TYPE_CHECKING:
    from ehrql_schools.measures import MeasuresModel

EXIT_OK = 0
EXIT_USER_ERROR = 3
EXIT_NOT_ISOLATED = 4
MAX_ANSWER_BYTES = 64 * 1024**2
MAX_STDERR_BYTES = 1024**2
PACKAGE_ROOT = Path(ehrql_schools.__file__).resolve().parent.parent
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"

#: How the child is started: no user site-packages, no .pyc files, and (-P) not the working
#: directory on sys.path, so the definition's folder cannot shadow modules.
CHILD_COMMAND = [sys.executable, "-P", "-s", "-B", "-m", "ehrql_schools.isolation"]

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
#: This process's network interfaces (of its network namespace), one a line after two headers.
NET_DEV = Path("/proc/self/net/dev")
SIOCGIFFLAGS = 0x8913
IFF_LOOPBACK = 0x8


class IsolationError(RuntimeError):
    """The definition could not be run isolated: no network namespaces, or the child process
    broke the protocol (its answer was not a valid query model)."""


# The parent


def load_isolated(
    path: Path,
    parameters: Mapping[str, str],
    *,
    timeout: float,
    memory_limit: int,
    allow_network_fallback: bool = False,
    kind: Kind = "dataset",
) -> nodes.Dataset | MeasuresModel:
    """Run the definition at `path` in an isolated child process and return its query model
    (for a measures definition, its measures model).

    Raises `QueryError` for the researcher's mistakes (including running out of time or memory)
    and `IsolationError` when the child cannot be isolated or its answer is not a query model.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind of definition {kind!r}")
    display = str(path)
    if not path.is_file():
        raise QueryError(f"no {label(kind)} at {display}")
    request = {
        "kind": kind,
        "path": str(path.resolve()),
        "display": display,
        "parameters": dict(parameters),
        "memory_limit": memory_limit,
        "cpu_seconds": int(timeout) + 5,
        "allow_network_fallback": allow_network_fallback,
    }
    with (
        tempfile.TemporaryDirectory(prefix="ehrql-isolated-home-") as home,
        tempfile.TemporaryFile() as answer,
        tempfile.TemporaryFile() as stderr,
    ):
        process = subprocess.Popen(
            CHILD_COMMAND,
            stdin=subprocess.PIPE,
            stdout=answer,
            stderr=stderr,
            cwd=path.resolve().parent,
            env=child_environment(home),
            start_new_session=True,  # its own process group, killed as a whole on timeout
            close_fds=True,
        )
        try:
            process.communicate(json.dumps(request).encode(), timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            _forward(stderr)
            raise located_error(
                f"the {label(kind)} did not finish within {timeout:g} seconds", display
            ) from None
        finally:
            _kill_group(process)  # anything the definition started and left running
        _forward(stderr)
        text = _read_answer(answer)
    return _answer(process.returncode, text, display, memory_limit, kind)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _forward(stderr: BinaryIO) -> None:
    """Copy the child's stderr (the researcher's print()s and warnings) to ours."""
    size = stderr.seek(0, os.SEEK_END)
    stderr.seek(max(0, size - MAX_STDERR_BYTES))
    text = stderr.read().decode("utf-8", errors="replace")
    if size > MAX_STDERR_BYTES:
        text = f"[... the first {size - MAX_STDERR_BYTES} bytes of output left out ...]\n{text}"
    sys.stderr.write(text)
    sys.stderr.flush()


def _read_answer(answer: BinaryIO) -> str:
    size = answer.seek(0, os.SEEK_END)
    if size > MAX_ANSWER_BYTES:
        raise IsolationError(f"the isolated process answered with {size} bytes; too many")
    answer.seek(0)
    return answer.read().decode("utf-8", errors="replace")


def _answer(
    returncode: int, text: str, display: str, memory_limit: int, kind: Kind = "dataset"
) -> nodes.Dataset | MeasuresModel:
    if returncode == EXIT_OK:
        try:
            compiled = serialise.loads(text)
        except serialise.SerialisationError as error:
            raise IsolationError(
                f"the isolated process running {display} did not answer with a query model: {error}"
            ) from None
        if not isinstance(compiled, _expected_class(kind)):
            raise IsolationError(f"the isolated process running {display} answered with no {kind}")
        check_tables(compiled, display)
        return compiled
    if returncode == EXIT_USER_ERROR:
        error = _json_object(text)
        if error is not None and isinstance(error.get("message"), str):
            filename, lineno = error.get("filename"), error.get("lineno")
            if isinstance(filename, str) and (lineno is None or type(lineno) is int):
                raise QueryError(error["message"], filename, lineno)
            raise QueryError(error["message"])
    if returncode == EXIT_NOT_ISOLATED:
        error = _json_object(text) or {}
        raise IsolationError(str(error.get("message", "the child process could not isolate")))
    if returncode in (-signal.SIGKILL, -signal.SIGSEGV, -signal.SIGXCPU):
        raise located_error(
            f"the {label(kind)} was stopped (signal {-returncode}): it ran out of time or "
            f"memory (the limit is {memory_limit / 1024**3:g} GB)",
            display,
        )
    raise IsolationError(
        f"the isolated process running {display} failed (exit status {returncode})"
    )


def _expected_class(kind: Kind) -> type:
    if kind == "measures":
        from ehrql_schools.measures import MeasuresModel

        return MeasuresModel
    return nodes.Dataset


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


SECRET_NAME = re.compile(r"DSN|URL|URI|PASS|PWD|SECRET|TOKEN|KEY|CRED|AUTH|DATABASE", re.I)
SECRET_VALUE = re.compile(r"://|password|passwd|secret|token|[^/\s]+:[^/\s]*@", re.I)


def looks_secret(name: str, value: str) -> bool:
    """Whether an environment variable may hold a credential or a database address."""
    return bool(SECRET_NAME.search(name) or SECRET_VALUE.search(value))


def child_environment(home: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The isolated child's whole environment: PATH and LANG (from `environ` unless they look
    secret), HOME and the PYTHONPATH that finds this package. Nothing else is passed on."""
    environ = os.environ if environ is None else environ
    wanted = {
        "PATH": environ.get("PATH", DEFAULT_PATH),
        "LANG": environ.get("LANG", "C.UTF-8"),
        "HOME": home,
        "PYTHONPATH": str(PACKAGE_ROOT),
    }
    defaults = {"PATH": DEFAULT_PATH, "LANG": "C.UTF-8"}
    environment = {}
    for name, value in wanted.items():
        if looks_secret(name, value):
            if name not in defaults:
                raise IsolationError(f"refusing to pass {name} to the isolated process")
            value = defaults[name]
        environment[name] = value
    return environment


# The child


def isolate_network() -> str:
    """Move this process into new user and network namespaces (or, failing that, a new network
    namespace), so it has no network at all. Returns how; raises OSError when neither works."""
    libc_name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(libc_name, use_errno=True)
    if not hasattr(libc, "unshare"):
        raise OSError(errno.ENOSYS, "this system has no unshare() (Linux namespaces)")
    before = os.readlink("/proc/self/ns/net")
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0:
        # Map our own ids, so files keep their owners; we keep no privilege outside.
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
        how = "new user and network namespaces"
    elif libc.unshare(CLONE_NEWNET) == 0:
        how = "a new network namespace"
    else:
        code = ctypes.get_errno()
        raise OSError(code, f"unshare() failed: {os.strerror(code)}")
    if os.readlink("/proc/self/ns/net") == before:
        raise OSError(errno.EPERM, "the network namespace did not change")
    return how


def _write(path: str, text: str) -> None:
    with open(path, "w") as file:
        file.write(text)


def interface_names(net_dev: str) -> list[str]:
    """The interface names in the text of /proc/<pid>/net/dev."""
    return [line.partition(":")[0].strip() for line in net_dev.splitlines()[2:] if ":" in line]


def is_loopback(name: str) -> bool:
    """Whether this process's network namespace has an interface `name` that is a loopback
    device (IFF_LOOPBACK, asked of the kernel); False when that cannot be found out."""
    request = struct.pack("16s24x", name.encode()[:15])
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            answer = fcntl.ioctl(probe.fileno(), SIOCGIFFLAGS, request)
    except OSError:
        return False
    (flags,) = struct.unpack_from("H", answer, 16)
    return bool(flags & IFF_LOOPBACK)


def non_loopback_interfaces(net_dev: Path = NET_DEV) -> list[str] | None:
    """The network interfaces of this process's network namespace other than loopback devices
    (so an empty list means it can reach no other machine, as in a container started with
    `--network none`); None where they cannot be listed (not Linux)."""
    try:
        names = interface_names(net_dev.read_text())
    except OSError:
        return None
    return [name for name in names if not is_loopback(name)]


def fallback_message(kind: Kind, error: OSError, interfaces: list[str] | None) -> str:
    """What the child says when it runs the definition without namespaces of its own, given
    the interfaces (other than loopback) that it can use."""
    if interfaces == []:
        return (
            f"note: running the {label(kind)} without a network namespace of its own "
            f"({error.strerror}); it is still cut off from the network because this process has "
            "no network interface but loopback (as in a container started with --network "
            "none): its isolation relies on that"
        )
    seen = "" if interfaces is None else f"; network interfaces: {', '.join(interfaces)}"
    return f"warning: running the {label(kind)} WITH network access ({error.strerror}{seen})"


def set_limits(memory_limit: int, cpu_seconds: int) -> None:
    """Limit this process's address space and CPU time, and turn off core dumps."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def main() -> None:
    """The child: read the request, isolate, run the definition, answer on the original stdout."""
    answer = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # everything written to stdout from here on, even by C code, goes to stderr
    sys.stdout = sys.stderr
    request = json.load(sys.stdin)
    sys.stdin.close()
    kind = request.get("kind", "dataset")
    if kind not in KINDS:
        _reply(answer, EXIT_NOT_ISOLATED, json.dumps({"message": f"unknown kind {kind!r}"}))
    try:
        set_limits(request["memory_limit"], request["cpu_seconds"])
    except (OSError, ValueError) as error:
        _reply(answer, EXIT_NOT_ISOLATED, json.dumps({"message": f"cannot set limits: {error}"}))
    try:
        isolate_network()
    except OSError as error:
        if not request["allow_network_fallback"]:
            message = (
                f"cannot run the {label(kind)} without network access: {error.strerror}. "
                "Isolation needs Linux network namespaces (root, or unprivileged user "
                "namespaces). Only on a machine that can reach no real data, pass "
                "allow_network_fallback to run it with network access."
            )
            _reply(answer, EXIT_NOT_ISOLATED, json.dumps({"message": message}))
        print(fallback_message(kind, error, non_loopback_interfaces()), file=sys.stderr)
    display = request["display"]
    try:
        compiled = run_definition(Path(request["path"]), request["parameters"], display, kind)
        text = serialise.dumps(compiled)
    except QueryError as error:
        _reply(answer, EXIT_USER_ERROR, _error_json(error))
    except MemoryError as error:
        _reply(answer, EXIT_USER_ERROR, _error_json(user_error(error, display, kind)))
    _reply(answer, EXIT_OK, text)


def _error_json(error: QueryError) -> str:
    return json.dumps(
        {"message": error.message, "filename": error.filename, "lineno": error.lineno}
    )


def _reply(answer: Any, status: int, text: str) -> NoReturn:
    answer.write(text)
    answer.flush()
    sys.stderr.flush()
    os._exit(status)  # no atexit handlers or finalizers of the researcher's code


if __name__ == "__main__":
    main()
