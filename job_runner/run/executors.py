"""Executors run one action in its workspace: the Executor protocol, the local executor, and
the choice between local and docker.

The local executor runs each image's program from this installation:
    ehrql:vN ARGS      <venv>/bin/ehrql-schools ARGS   (on the local synthetic trust)
    sqlrunner:v1 ARGS  <venv>/bin/sqlrunner ARGS       (on the local synthetic trust)
    python:vN ARGS     <venv>/bin/python ARGS
    r:v1 ARGS          Rscript ARGS, if R is installed
in a scrubbed environment (PATH, a temporary HOME and TMPDIR, LANG, OSSCHOOLS_ACTION_CONFIG and,
for the database images, OSSCHOOLS_DUMMY_DATA), in its own process group so that cancelling
kills everything it started.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from ehrql_schools import dsn as dsn_module
from job_runner.run.planner import ActionJob

DATABASE_IMAGES = ("ehrql", "sqlrunner")
JOB_ID_VARIABLE = "OSSCHOOLS_JOB_ID"
CONFIG_VARIABLE = "OSSCHOOLS_ACTION_CONFIG"
KILL_GRACE_SECONDS = 5.0
POLL_SECONDS = 0.1


class ExecutorError(Exception):
    """An executor that cannot be used, or cannot prepare to run the planned actions."""


@dataclass(frozen=True)
class ExitStatus:
    """How an action ended: its exit code (None if it never started), why, and whether it was
    cancelled or timed out."""

    code: int | None
    message: str = ""
    cancelled: bool = False
    timed_out: bool = False

    @property
    def succeeded(self) -> bool:
        return self.code == 0 and not self.cancelled and not self.timed_out


class Executor(Protocol):
    """What the runner needs from an executor (local subprocess, docker)."""

    name: str

    def prepare(self, jobs: list[ActionJob]) -> None:
        """Get ready to run `jobs` (generate the synthetic trust, pull images...); raise
        ExecutorError with a message for the researcher if that fails."""

    def identity(self, job: ActionJob) -> str:
        """What, besides its files, the job's results depend on in this executor (e.g. the
        image id); part of the job's fingerprint."""

    def run(
        self,
        job: ActionJob,
        workdir: Path,
        log: IO[str],
        cancel: threading.Event,
        *,
        job_id: str,
        home: Path,
        tmp: Path,
    ) -> ExitStatus:
        """Run `job` with `workdir` as its working directory, writing its output to `log`;
        stop it soon after `cancel` is set (returning cancelled=True)."""


class LocalExecutor:
    """Runs actions as subprocesses of this Python installation."""

    name = "local"

    def __init__(
        self,
        dummy_data: Path,
        *,
        timeout: float | None = None,
        bin_dir: Path | None = None,
    ) -> None:
        self.dummy_data = dummy_data.resolve()
        self.timeout = timeout
        self.bin_dir = bin_dir or Path(sys.executable).parent

    def prepare(self, jobs: list[ActionJob]) -> None:
        if any(job.command.image in DATABASE_IMAGES for job in jobs):
            try:
                dsn_module.ensure_synthetic_trust(
                    self.dummy_data, dsn_module.generate_synthetic_trust
                )
            except dsn_module.DSNError as error:
                raise ExecutorError(str(error)) from None

    def identity(self, job: ActionJob) -> str:
        if job.command.image not in DATABASE_IMAGES:
            return f"local {job.command.image_ref}"
        stat = self.dummy_data.stat()
        return f"local {job.command.image_ref} {self.dummy_data} {stat.st_size} {stat.st_mtime_ns}"

    def command(self, job: ActionJob) -> list[str]:
        """The command line for `job`; raises ExecutorError if its program is missing."""
        image = job.command.image
        if image == "ehrql":
            program = self._installed("ehrql-schools", "reinstall osschools (pip install -e .)")
        elif image == "sqlrunner":
            program = self._installed(
                "sqlrunner", "this installation has no sqlrunner console script yet"
            )
        elif image == "python":
            program = str(self.bin_dir / "python")
        else:
            program = shutil.which("Rscript") or ""
            if not program:
                raise ExecutorError(
                    f"{job.command.image_ref} actions need R, and Rscript is not installed "
                    "here: install R, or run with --executor docker, which uses the r image"
                )
        return [program, *job.args]

    def _installed(self, name: str, hint: str) -> str:
        path = self.bin_dir / name
        if not path.exists():
            raise ExecutorError(f"`{name}` is not installed at {path}: {hint}")
        return str(path)

    def environment(self, job: ActionJob, job_id: str, home: Path, tmp: Path) -> dict[str, str]:
        """The whole environment of the action: nothing else leaks in from the caller's."""
        env = {
            "PATH": os.pathsep.join([str(self.bin_dir), "/usr/local/bin", "/usr/bin", "/bin"]),
            "HOME": str(home),
            "TMPDIR": str(tmp),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            CONFIG_VARIABLE: job.config_json,
            JOB_ID_VARIABLE: job_id,
        }
        if job.command.image in DATABASE_IMAGES:
            env[dsn_module.DUMMY_DATA_VARIABLE] = str(self.dummy_data)
        return env

    def run(
        self,
        job: ActionJob,
        workdir: Path,
        log: IO[str],
        cancel: threading.Event,
        *,
        job_id: str,
        home: Path,
        tmp: Path,
    ) -> ExitStatus:
        try:
            command = self.command(job)
        except ExecutorError as error:
            log.write(f"{error}\n")
            return ExitStatus(None, str(error))
        try:
            process = subprocess.Popen(
                command,
                cwd=workdir,
                env=self.environment(job, job_id, home, tmp),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, and no terminal's Ctrl-C
            )
        except OSError as error:
            message = f"cannot start {command[0]}: {error.strerror}"
            log.write(message + "\n")
            return ExitStatus(None, message)
        reader = threading.Thread(target=_copy_output, args=(process, log.write), daemon=True)
        reader.start()
        status = self._wait(process, cancel)
        reader.join(timeout=10)
        return status

    def _wait(self, process: subprocess.Popen[bytes], cancel: threading.Event) -> ExitStatus:
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        while True:
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = process.wait(timeout=POLL_SECONDS)
                _kill_group(process.pid, signal.SIGKILL)  # anything it left behind
                return ExitStatus(code, "" if code == 0 else f"exit code {code}")
            if cancel.is_set():
                stop_process_group(process)
                return ExitStatus(process.returncode, "cancelled", cancelled=True)
            if deadline is not None and time.monotonic() > deadline:
                stop_process_group(process)
                message = f"timed out after {self.timeout:g} seconds"
                return ExitStatus(process.returncode, message, timed_out=True)


def _copy_output(process: subprocess.Popen[bytes], write: Callable[[str], object]) -> None:
    assert process.stdout is not None
    with process.stdout:
        for line in iter(process.stdout.readline, b""):
            write(line.decode("utf-8", errors="replace"))


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process's group, then SIGKILL it if it has not ended after a grace period."""
    _kill_group(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=KILL_GRACE_SECONDS)
    _kill_group(process.pid, signal.SIGKILL)
    process.wait()


def _kill_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def kill_leftover_processes(job_id: str) -> int:
    """SIGKILL processes that a crashed runner left running for `job_id`, found by the job id
    in their environment (so a reused process id is never killed by mistake)."""
    marker = f"{JOB_ID_VARIABLE}={job_id}".encode()
    killed = 0
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker in environ.split(b"\0"):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(entry.name), signal.SIGKILL)
                killed += 1
    return killed


# Choosing an executor

EXECUTOR_CHOICES = ("auto", "local", "docker")
DOCKER_UNAVAILABLE = (
    "the docker executor is not available yet in this installation; use --executor local"
)


def docker_engine_reachable() -> bool:
    """Whether a Docker engine answers (quickly) at the usual place."""
    try:
        import docker

        client = docker.from_env(timeout=3)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def docker_executor_factory() -> Callable[..., Executor] | None:
    """The docker executor's class, if this installation has one.

    The docker executor lives in `job_runner.run.docker_executor` as `DockerExecutor`, built with
    the same keyword arguments as LocalExecutor (dummy_data, timeout)."""
    try:
        from job_runner.run import docker_executor  # type: ignore[attr-defined]
    except ImportError:
        return None
    return getattr(docker_executor, "DockerExecutor", None)


@dataclass(frozen=True)
class Choice:
    executor: Executor
    reason: str


def choose_executor(
    requested: str,
    *,
    dummy_data: Path,
    timeout: float | None = None,
    engine_reachable: Callable[[], bool] = docker_engine_reachable,
) -> Choice:
    """The executor for `--executor` (auto: docker when an engine is reachable, else local)."""
    if requested not in EXECUTOR_CHOICES:
        raise ExecutorError(f"unknown executor {requested!r}; use one of auto, local, docker")
    options = {"dummy_data": dummy_data, "timeout": timeout}
    if requested == "local":
        return Choice(LocalExecutor(**options), "local (as asked)")
    factory = docker_executor_factory()
    if requested == "docker":
        if factory is None:
            raise ExecutorError(DOCKER_UNAVAILABLE)
        if not engine_reachable():
            raise ExecutorError(
                "--executor docker: no Docker engine is reachable (is dockerd running, and may "
                "you use its socket?); or use --executor local"
            )
        return Choice(factory(**options), "docker (as asked)")
    if not engine_reachable():
        return Choice(LocalExecutor(**options), "local (no Docker engine is reachable)")
    if factory is None:
        return Choice(
            LocalExecutor(**options),
            "local (a Docker engine is reachable, but this installation has no docker "
            "executor yet)",
        )
    return Choice(factory(**options), "docker (a Docker engine is reachable)")
