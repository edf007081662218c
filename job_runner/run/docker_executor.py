"""The docker executor: each action runs in its image (`osschools/<image>:<version>`), as on the
backend, in a locked-down container:

- no network (`--network none`), as user 10000 (the image's `researcher`), every capability
  dropped, `no-new-privileges`, a read-only root file system with a private tmpfs on /tmp,
  memory (no swap beyond it), CPU and process-count limits;
- the job's work folder bind-mounted read-write at /workspace (its working directory), and
  nothing else of the host, except for `ehrql` and `sqlrunner` actions: the synthetic trust,
  read-only, at /data/synthetic_trust.duckdb (OSSCHOOLS_DUMMY_DATA points at it);
- a clean environment: LANG, HOME and TMPDIR (/tmp), OSSCHOOLS_ACTION_CONFIG and
  OSSCHOOLS_JOB_ID, plus the image's own (PATH, MPLBACKEND...);
- the label `org.osschools.job=<job id>`, so that a runner that died mid-action can have its
  containers removed by the next run (`remove_leftover_containers`).

The seccomp profile is Docker's default. It refuses `unshare(CLONE_NEWUSER)`, so ehrql-schools'
own isolation of a definition cannot make its namespaces inside the container; on the synthetic
trust (the only database here) definitions are not isolated by default, and with `--isolated`
the loader falls back, noting that it found no network interface but loopback and so relies on
the container's having no network. That is safe because the whole container already has no
network, and it is better than widening the seccomp profile: user namespaces are a frequent
route to kernel privilege escalation.

Ownership: the container's user (10000) must be able to write the work folder, and the runner
must be able to collect and remove what it wrote. Running as root, the runner chowns the folder
to 10000 before the action and back afterwards; as another user, it makes the folder
world-writable before and, afterwards, chowns what the action wrote back to itself with a short
helper container (root in the container, only CAP_CHOWN, no network).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from ehrql_schools import dsn as dsn_module
from job_runner import images
from job_runner.run.executors import (
    CONFIG_VARIABLE,
    DATABASE_IMAGES,
    JOB_ID_VARIABLE,
    KILL_GRACE_SECONDS,
    POLL_SECONDS,
    ExecutorError,
    ExitStatus,
)
from job_runner.run.planner import ActionJob

USER_ID = 10000
WORKSPACE = "/workspace"
CONTAINER_DUMMY_DATA = "/data/synthetic_trust.duckdb"
JOB_LABEL = "org.osschools.job"
ACTION_LABEL = "org.osschools.action"
DEFAULT_MEMORY = "4g"
DEFAULT_CPUS = 2.0
DEFAULT_PIDS = 1024
TMPFS_SIZE = "1g"
API_TIMEOUT = 120


def client() -> Any:
    """A Docker client, or ExecutorError."""
    import docker

    try:
        docker_client = docker.from_env(timeout=API_TIMEOUT)
        docker_client.ping()
    except docker.errors.DockerException as error:
        raise ExecutorError(f"cannot reach the Docker engine: {error}") from None
    return docker_client


def image_reference(job: ActionJob) -> str:
    return f"{images.REPOSITORY}/{job.command.image}:{job.command.tag}"


class DockerExecutor:
    """Runs each action in a container of its image."""

    name = "docker"

    def __init__(
        self,
        dummy_data: Path,
        *,
        timeout: float | None = None,
        memory: str = DEFAULT_MEMORY,
        cpus: float = DEFAULT_CPUS,
        pids: int = DEFAULT_PIDS,
        docker_client: Any = None,
    ) -> None:
        self.dummy_data = dummy_data.resolve()
        self.timeout = timeout
        self.memory = memory
        self.cpus = cpus
        self.pids = pids
        self._client = docker_client
        self._image_ids: dict[str, str] = {}

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = client()
        return self._client

    # Before the run

    def prepare(self, jobs: list[ActionJob]) -> None:
        missing = sorted(
            {
                job.command.image
                for job in jobs
                if images.image_id(self.client, image_reference(job)) is None
            }
        )
        if missing:
            try:
                images.build_images(missing, client=self.client)
            except images.ImageBuildError as error:
                raise ExecutorError(
                    f"the {', '.join(missing)} image(s) are missing and could not be built: {error}"
                ) from None
        if any(job.command.image in DATABASE_IMAGES for job in jobs):
            try:
                dsn_module.ensure_synthetic_trust(
                    self.dummy_data, dsn_module.generate_synthetic_trust
                )
            except dsn_module.DSNError as error:
                raise ExecutorError(str(error)) from None

    def identity(self, job: ActionJob) -> str:
        reference = image_reference(job)
        if reference not in self._image_ids:
            found = images.image_id(self.client, reference)
            if found is None:
                raise ExecutorError(f"{reference} is missing: run `osschools images build`")
            self._image_ids[reference] = found
        identity = f"docker {reference} {self._image_ids[reference]}"
        if job.command.image in DATABASE_IMAGES:
            stat = self.dummy_data.stat()
            identity += f" {self.dummy_data} {stat.st_size} {stat.st_mtime_ns}"
        return identity

    # One action

    def environment(self, job: ActionJob, job_id: str) -> dict[str, str]:
        env = {
            "LANG": "C.UTF-8",
            "HOME": "/tmp",
            "TMPDIR": "/tmp",
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            CONFIG_VARIABLE: job.config_json,
            JOB_ID_VARIABLE: job_id,
        }
        if job.command.image in DATABASE_IMAGES:
            env[dsn_module.DUMMY_DATA_VARIABLE] = CONTAINER_DUMMY_DATA
        return env

    def container_options(self, job: ActionJob, workdir: Path, job_id: str) -> dict[str, Any]:
        """The keyword arguments of `containers.create` for `job`: the hardening is here."""
        volumes = {str(workdir.resolve()): {"bind": WORKSPACE, "mode": "rw"}}
        if job.command.image in DATABASE_IMAGES:
            volumes[str(self.dummy_data)] = {"bind": CONTAINER_DUMMY_DATA, "mode": "ro"}
        return {
            "image": image_reference(job),
            "command": job.args,
            "user": f"{USER_ID}:{USER_ID}",
            "working_dir": WORKSPACE,
            "environment": self.environment(job, job_id),
            "volumes": volumes,
            "labels": {JOB_LABEL: job_id, ACTION_LABEL: job.name},
            "network_mode": "none",
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges"],
            "read_only": True,
            "tmpfs": {"/tmp": f"rw,nosuid,nodev,size={TMPFS_SIZE},mode=1777"},
            "mem_limit": self.memory,
            "memswap_limit": self.memory,
            "nano_cpus": int(self.cpus * 1e9),
            "pids_limit": self.pids,
            "ulimits": [_ulimit("core", 0)],
            "stdin_open": False,
            "tty": False,
            "detach": True,
        }

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
        import docker.errors

        try:
            options = self.container_options(job, workdir, job_id)
            give_to_container(workdir)
            container = self.client.containers.create(**options)
        except (docker.errors.DockerException, ExecutorError, OSError) as error:
            message = f"cannot start the container of {image_reference(job)}: {error}"
            log.write(message + "\n")
            take_back(workdir, self.client, image_reference(job))
            return ExitStatus(None, message)
        try:
            container.start()
            reader = threading.Thread(target=_copy_logs, args=(container, log.write), daemon=True)
            reader.start()
            status = self._wait(container, cancel)
            reader.join(timeout=10)
            return status
        except docker.errors.DockerException as error:
            message = f"docker: {error}"
            log.write(message + "\n")
            return ExitStatus(None, message)
        finally:
            with contextlib.suppress(docker.errors.DockerException):
                container.remove(force=True)
            take_back(workdir, self.client, image_reference(job))

    def _wait(self, container: Any, cancel: threading.Event) -> ExitStatus:
        result: dict[str, Any] = {}

        def wait() -> None:
            try:
                result["wait"] = container.wait()
            except Exception as error:  # noqa: BLE001 - reported below
                result["error"] = error

        waiter = threading.Thread(target=wait, daemon=True)
        waiter.start()
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        while True:
            waiter.join(timeout=POLL_SECONDS)
            if not waiter.is_alive():
                if "error" in result:
                    raise result["error"]
                code = int(result["wait"].get("StatusCode", -1))
                return ExitStatus(code, self._message(container, code))
            if cancel.is_set():
                self._stop(container)
                return ExitStatus(None, "cancelled", cancelled=True)
            if deadline is not None and time.monotonic() > deadline:
                self._stop(container)
                message = f"timed out after {self.timeout:g} seconds"
                return ExitStatus(None, message, timed_out=True)

    def _message(self, container: Any, code: int) -> str:
        if code == 0:
            return ""
        with contextlib.suppress(Exception):
            container.reload()
            if container.attrs["State"].get("OOMKilled"):
                return f"exit code {code}: out of memory (the limit is {self.memory})"
        return f"exit code {code}"

    @staticmethod
    def _stop(container: Any) -> None:
        import docker.errors

        with contextlib.suppress(docker.errors.DockerException):
            container.stop(timeout=int(KILL_GRACE_SECONDS))
        with contextlib.suppress(docker.errors.DockerException):
            container.remove(force=True)


def _ulimit(name: str, value: int) -> Any:
    from docker.types import Ulimit

    return Ulimit(name=name, soft=value, hard=value)


def _copy_logs(container: Any, write: Callable[[str], object]) -> None:
    """Copy the container's stdout and stderr to the log, line by line, as they come."""
    pending = b""
    with contextlib.suppress(Exception):
        for chunk in container.logs(stream=True, follow=True, stdout=True, stderr=True):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                write(line.decode("utf-8", errors="replace") + "\n")
    if pending:
        write(pending.decode("utf-8", errors="replace") + "\n")


# Ownership of the work folder


def give_to_container(folder: Path) -> None:
    """Let user 10000 in the container write `folder`: chown it (as root), else make it
    world-writable (the folder is inside a private temporary folder of the runner's)."""
    if os.geteuid() == 0:
        _chown_tree(folder, USER_ID, USER_ID)
        return
    for path in [folder, *folder.rglob("*")]:
        if path.is_symlink():
            continue
        path.chmod(0o777 if path.is_dir() else 0o666)


def take_back(folder: Path, docker_client: Any, image: str) -> None:
    """Give what the container wrote in `folder` back to the runner's user, so that it can move
    the outputs into the project and remove the rest."""
    if not folder.exists():
        return
    uid, gid = os.geteuid(), os.getegid()
    if uid == 0:
        _chown_tree(folder, uid, gid)
        return
    if all(_owned_by(path, uid) for path in [folder, *folder.rglob("*")]):
        return
    import docker.errors

    with contextlib.suppress(docker.errors.DockerException):
        docker_client.containers.run(
            image,
            entrypoint=["chown", "-R", "-h", f"{uid}:{gid}", WORKSPACE],
            user="0:0",
            volumes={str(folder.resolve()): {"bind": WORKSPACE, "mode": "rw"}},
            network_mode="none",
            cap_drop=["ALL"],
            cap_add=["CHOWN", "DAC_OVERRIDE", "FOWNER"],
            security_opt=["no-new-privileges"],
            read_only=True,
            remove=True,
        )


def _owned_by(path: Path, uid: int) -> bool:
    with contextlib.suppress(OSError):
        return path.lstat().st_uid == uid
    return True


def _chown_tree(folder: Path, uid: int, gid: int) -> None:
    for root, folders, files in os.walk(folder):
        os.lchown(root, uid, gid)
        for name in folders + files:
            with contextlib.suppress(OSError):
                os.lchown(os.path.join(root, name), uid, gid)


# After a crash


def remove_leftover_containers(job_ids: list[str]) -> int:
    """Remove the containers that a runner which died left for `job_ids` (found by their
    label); how many. Quietly 0 without a Docker engine."""
    if not job_ids:
        return 0
    try:
        import docker.errors

        import docker

        docker_client = docker.from_env(timeout=30)
    except Exception:
        return 0
    removed = 0
    try:
        for job_id in job_ids:
            with contextlib.suppress(docker.errors.DockerException):
                for container in docker_client.containers.list(
                    all=True, filters={"label": f"{JOB_LABEL}={job_id}"}
                ):
                    with contextlib.suppress(docker.errors.DockerException):
                        container.remove(force=True)
                        removed += 1
    finally:
        docker_client.close()
    return removed


def reclaim_workdir(workdir: Path, image: str | None = None) -> None:
    """After a crash: give a leftover work folder back to the runner's user so it can be
    removed (a no-op as root)."""
    if os.geteuid() == 0 or not workdir.exists():
        return
    with contextlib.suppress(ExecutorError):
        take_back(workdir, client(), image or f"{images.REPOSITORY}/base:v1")
