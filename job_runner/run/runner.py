"""The scheduler: runs a plan's actions on an executor, in parallel where `needs` allow.

Each action, when the actions it needs have finished:
1. gets its inputs (the visible project files plus its needed outputs) and fingerprint;
2. is skipped if it last succeeded with that fingerprint and its outputs are unchanged
   (unless forced);
3. otherwise runs in a fresh temporary folder, its output going to metadata/<action>.log;
4. on success, its declared outputs are moved into the project (a declared output that matched
   nothing fails it), recorded in the state database and metadata/manifest.json.
A failure stops new actions from starting (unless continue_on_error); actions that need a
failed or cancelled action are not run. Ctrl-C cancels running actions and removes their work.
"""

from __future__ import annotations

import fcntl
import shutil
import signal
import tempfile
import threading
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from ehrql_schools.command_line import one_line
from job_runner.disclosure.cli import chosen_profile
from job_runner.disclosure.profiles import Profile
from job_runner.pipeline import Pipeline
from job_runner.run import state as states
from job_runner.run.display import Display
from job_runner.run.executors import Executor, kill_leftover_processes
from job_runner.run.fingerprint import FileHasher, fingerprint
from job_runner.run.planner import ActionJob, Plan, is_up_to_date, output_files
from job_runner.run.records import (
    ActionLog,
    Manifest,
    check_disclosure,
    disclosure_warning,
    needs_disclosure_check,
    now_text,
    output_entry,
    summary_lines,
)
from job_runner.run.state import JobRecord, JobState
from job_runner.run.workspace import (
    METADATA,
    STATE_FOLDER,
    Workspace,
    git_commit,
    remove_stale_outputs,
    visible_files,
)

STATE_DATABASE = "jobs.sqlite"
LOCK_FILE = "run.lock"
STAGING = "staging"
POLL_SECONDS = 0.25


class RunError(Exception):
    """The run cannot start; the message says why."""


@dataclass
class RunOptions:
    force: bool = False
    continue_on_error: bool = False
    timestamps: bool = False
    concurrency: int = 2
    # The rules moderately_sensitive outputs are checked with (None: OSSCHOOLS_DISCLOSURE_PROFILE,
    # else opensafely).
    disclosure: Profile | None = None


@dataclass
class Outcome:
    """How one action of the plan ended."""

    name: str
    status: str
    message: str = ""
    outputs: list[str] = field(default_factory=list)
    job_id: str | None = None


@dataclass
class RunResult:
    outcomes: dict[str, Outcome]
    interrupted: signal.Signals | None = None

    @property
    def ok(self) -> bool:
        return self.interrupted is None and all(
            outcome.status in (states.SUCCEEDED, states.SKIPPED)
            for outcome in self.outcomes.values()
        )

    @property
    def exit_code(self) -> int:
        if self.interrupted is not None:
            return 128 + int(self.interrupted)
        return 0 if self.ok else 1


class ProjectLock:
    """Only one `osschools run` at a time in a project (the lock goes with its process)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file = open(path, "a+")  # noqa: SIM115

    def __enter__(self) -> ProjectLock:
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.close()
            raise RunError(
                "another `osschools run` is running in this project; wait for it to finish"
            ) from None
        return self

    def __exit__(self, *exc_info: object) -> None:
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()


class Runner:
    def __init__(
        self,
        project: Path,
        pipeline: Pipeline,
        executor: Executor,
        display: Display,
        options: RunOptions | None = None,
    ) -> None:
        self.project = project.resolve()
        self.pipeline = pipeline
        self.executor = executor
        self.display = display
        self.options = options or RunOptions()
        self.rules = self.options.disclosure or chosen_profile()
        self.metadata = self.project / METADATA
        self.state_folder = self.project / STATE_FOLDER
        self.manifest = Manifest(self.metadata)
        self.hasher = FileHasher()
        self.cancel = threading.Event()
        self.commit = git_commit(self.project)
        self.visible: dict[str, Path] = {}
        self.state: JobState

    def run(self, plan: Plan) -> RunResult:
        self.state_folder.mkdir(parents=True, exist_ok=True)
        ignore = self.state_folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# osschools run's job state and work files\n*\n")
        with ProjectLock(self.state_folder / LOCK_FILE):
            self.state = JobState(self.state_folder / STATE_DATABASE)
            try:
                self._recover()
                self.visible = visible_files(self.project, self.pipeline)
                self.executor.prepare(plan.jobs)
                return self._schedule(plan)
            finally:
                self.state.close()

    def _recover(self) -> None:
        """Cancel jobs an earlier runner left running, and clear away what they left."""
        leftovers = self.state.recover()
        in_docker = [record for record in leftovers if record.executor == "docker"]
        if in_docker:
            from job_runner.run import docker_executor

            docker_executor.remove_leftover_containers([record.id for record in in_docker])
            for record in in_docker:
                if record.workdir:
                    docker_executor.reclaim_workdir(Path(record.workdir))
        for record in leftovers:
            kill_leftover_processes(record.id)
            if record.workdir:
                shutil.rmtree(record.workdir, ignore_errors=True)
            log = self.metadata / f"{record.action}.log"
            if log.exists():
                with open(log, "a", encoding="utf-8") as file:
                    file.write(f"\n{now_text()} cancelled: {states.INTERRUPTED}\n")
        shutil.rmtree(self.state_folder / STAGING, ignore_errors=True)
        if leftovers:
            names = ", ".join(sorted({record.action for record in leftovers}))
            self.display.note(
                f"An earlier run stopped while running {names}; marked cancelled, will rerun."
            )

    # Scheduling

    def _schedule(self, plan: Plan) -> RunResult:
        outcomes: dict[str, Outcome] = {}
        waiting = list(plan.names)
        running: dict[Future[Outcome], str] = {}
        stop_reason = ""
        interrupted: signal.Signals | None = None
        previous = _catch_sigterm()
        pool = ThreadPoolExecutor(max_workers=self.options.concurrency)
        try:
            while waiting or running:
                for name in list(waiting):
                    job = plan[name]
                    blocked = [
                        need
                        for need in job.needs
                        if need in outcomes
                        and outcomes[need].status in (states.FAILED, states.CANCELLED)
                    ]
                    if blocked:
                        reason = f"not run: needs {blocked[0]}, which {outcomes[blocked[0]].status}"
                        outcomes[name] = self._not_run(name, reason)
                        waiting.remove(name)
                    elif (
                        not stop_reason
                        and all(need in outcomes for need in job.needs)
                        and len(running) < self.options.concurrency
                    ):
                        running[pool.submit(self._execute_safely, job)] = name
                        waiting.remove(name)
                if not running:
                    break
                done, _ = wait(running, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
                for future in done:
                    outcome = future.result()
                    outcomes[running.pop(future)] = outcome
                    if outcome.status == states.FAILED and not self.options.continue_on_error:
                        stop_reason = f"not started: {outcome.name} failed"
        except KeyboardInterrupt as error:
            interrupted = getattr(error, "signal_number", signal.SIGINT)
            stop_reason = "cancelled"
            self._cancel_running(running, outcomes)
        finally:
            pool.shutdown(wait=True)
            _restore_sigterm(previous)
        for name in waiting:
            outcomes[name] = self._not_run(name, stop_reason or "not started")
        return RunResult({name: outcomes[name] for name in plan.names}, interrupted)

    def _cancel_running(
        self, running: dict[Future[Outcome], str], outcomes: dict[str, Outcome]
    ) -> None:
        self.cancel.set()
        previous = _ignore_interrupts()
        self.display.note("Cancelling: stopping the running actions and removing their work...")
        try:
            for future, name in running.items():
                outcomes[name] = future.result()
        finally:
            _restore_interrupts(previous)

    def _not_run(self, name: str, reason: str) -> Outcome:
        job_id = self.state.create(name, None, self.executor.name)
        self.state.finish(job_id, states.CANCELLED, message=reason)
        self.display.update(name, states.CANCELLED, reason)
        return Outcome(name, states.CANCELLED, reason, job_id=job_id)

    # One action

    def inputs_of(self, job: ActionJob) -> dict[str, Path]:
        """The files `job` sees: the visible project files and the outputs of its needs."""
        inputs = dict(self.visible)
        for need in job.needs:
            for path in output_files(self.state.last_success(need)):
                inputs[path] = self.project / path
        return inputs

    def _execute_safely(self, job: ActionJob) -> Outcome:
        try:
            return self._execute(job)
        except Exception as error:  # before the job started: fail it, not the whole run
            message = f"could not start: {one_line(error)}"
            job_id = self.state.create(job.name, None, self.executor.name)
            self.state.finish(job_id, states.FAILED, message=message)
            self.display.update(job.name, states.FAILED, message)
            return Outcome(job.name, states.FAILED, message, job_id=job_id)

    def _execute(self, job: ActionJob) -> Outcome:
        if self.cancel.is_set():
            return self._not_run(job.name, "cancelled")
        inputs = self.inputs_of(job)
        job_fingerprint = fingerprint(job, inputs, self.executor.identity(job), self.hasher)
        last = self.state.last_success(job.name)
        if not self.options.force and is_up_to_date(
            last, job_fingerprint, self.project, self.hasher
        ):
            assert last is not None
            return self._skip(job, job_fingerprint, last)
        return self._run_job(job, job_fingerprint, inputs)

    def _skip(self, job: ActionJob, job_fingerprint: str, last: JobRecord) -> Outcome:
        reason = "unchanged since its last successful run"
        entries = self._checked_again(last)
        job_id = self.state.create(job.name, job_fingerprint, self.executor.name)
        self.state.finish(job_id, states.SKIPPED, message=reason, outputs=entries)
        summary = {"status": states.SKIPPED, "job_id": job_id, "last_success": last.id}
        self.manifest.update(job.name, summary, entries)
        outputs = sorted(entries)
        self.display.update(
            job.name, states.SKIPPED, reason, outputs=outputs, disclosure=_checks(entries)
        )
        return Outcome(job.name, states.SKIPPED, reason, outputs, job_id)

    def _checked_again(self, last: JobRecord) -> dict[str, dict[str, Any]]:
        """The outputs of a skipped action as last recorded: their disclosure checks are kept,
        unless made with another profile (or before there were any), then made again."""
        if not any(needs_disclosure_check(entry, self.rules) for entry in last.outputs.values()):
            return last.outputs
        entries = {path: dict(entry) for path, entry in last.outputs.items()}
        self._check_disclosure(entries)
        self.state.set_outputs(last.id, entries)
        return entries

    def _check_disclosure(
        self, entries: dict[str, dict[str, Any]], undeclared: list[str] | None = None
    ) -> None:
        sensitive = [
            path for path, entry in entries.items() if entry["level"] == "moderately_sensitive"
        ]
        checks = check_disclosure(self.project, sensitive, self.rules, undeclared=undeclared or [])
        for path, check in checks.items():
            entries[path]["disclosure"] = check

    def _run_job(self, job: ActionJob, job_fingerprint: str, inputs: dict[str, Path]) -> Outcome:
        job_id = self.state.create(job.name, job_fingerprint, self.executor.name)
        workspace = Workspace(Path(tempfile.mkdtemp(prefix=f"osschools-{job.name}-")))
        self.state.start(job_id, workspace.root)
        log_path = self.metadata / f"{job.name}.log"
        log = ActionLog(log_path, timestamps=self.options.timestamps)
        self.display.update(job.name, states.RUNNING, log=log_path)
        started = time.time()
        status, exit_code, message = states.FAILED, None, ""
        entries: dict[str, dict[str, Any]] = {}
        undeclared: list[str] = []
        try:
            log.line(f"action: {job.name}")
            log.line(f"run: {job.command.raw}")
            if job.config:
                log.line(f"config: {job.config_json}")
            log.line(f"executor: {self.executor.name}; job: {job_id}; started {now_text()}")
            log.line("-" * 72)
            workspace.stage(inputs)
            result = self.executor.run(
                job,
                workspace.inputs,
                log,
                self.cancel,
                job_id=job_id,
                home=workspace.home,
                tmp=workspace.tmp,
            )
            exit_code, message = result.code, result.message
            if result.cancelled or self.cancel.is_set():
                status, message = states.CANCELLED, "cancelled"
            elif result.succeeded:
                status, message, entries, undeclared = self._collect(job, job_id, workspace)
        except Exception as error:
            status, message = states.FAILED, f"internal error: {one_line(error)}"
            log.line(traceback.format_exc())
        finally:
            finished = time.time()
            for line in summary_lines(
                status=status,
                exit_code=exit_code,
                message=message,
                outputs=entries,
                started=started,
                finished=finished,
                undeclared=undeclared,
            ):
                log.line(line)
            log.close()
            workspace.remove()
            shutil.rmtree(self.state_folder / STAGING / job_id, ignore_errors=True)
            self.state.finish(job_id, status, exit_code=exit_code, message=message, outputs=entries)
        summary = {
            "status": status,
            "job_id": job_id,
            "run": job.command.raw,
            "exit_code": exit_code,
            "message": message,
            "executor": self.executor.name,
            "started_at": _when(started),
            "finished_at": _when(finished),
            "duration_seconds": round(finished - started, 3),
            "commit": self.commit,
        }
        self.manifest.update(job.name, summary, entries if status == states.SUCCEEDED else None)
        detail = "" if status == states.SUCCEEDED else message
        checks = _checks(entries)
        self.display.update(job.name, status, detail, outputs=sorted(entries), disclosure=checks)
        for path, check in checks.items():
            warning = disclosure_warning(path, check)
            if warning:
                self.display.note(f"warning: {job.name}: {warning}")
        return Outcome(job.name, status, message, sorted(entries), job_id)

    def _collect(
        self, job: ActionJob, job_id: str, workspace: Workspace
    ) -> tuple[str, str, dict[str, dict[str, Any]], list[str]]:
        staging = self.state_folder / STAGING / job_id
        collected = workspace.collect(job.declared(), self.project, staging)
        if not collected.ok:
            return states.FAILED, "; ".join(collected.unmatched), {}, collected.undeclared
        entries = {
            path: output_entry(
                self.project,
                path,
                action=job.name,
                level=level,
                sha256=self.hasher.sha256(self.project / path),
                job_id=job_id,
                commit=self.commit,
            )
            for path, level in sorted(collected.outputs.items())
        }
        remove_stale_outputs(self.project, job.declared(), keep=entries)
        self._check_disclosure(entries, collected.undeclared)
        return states.SUCCEEDED, "", entries, collected.undeclared


def _checks(entries: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The disclosure checks of the outputs that have one."""
    return {path: entry["disclosure"] for path, entry in entries.items() if "disclosure" in entry}


def _when(moment: float) -> str:
    import datetime

    return datetime.datetime.fromtimestamp(moment).astimezone().isoformat(timespec="seconds")


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C."""

    signal_number = signal.SIGTERM


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Terminated()


def _catch_sigterm() -> Any:
    try:
        return signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread
        return None


def _restore_sigterm(previous: Any) -> None:
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)


def _ignore_interrupts() -> tuple[Any, Any] | None:
    try:
        return (
            signal.signal(signal.SIGINT, signal.SIG_IGN),
            signal.signal(signal.SIGTERM, signal.SIG_IGN),
        )
    except ValueError:
        return None


def _restore_interrupts(previous: tuple[Any, Any] | None) -> None:
    if previous is not None:
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])
