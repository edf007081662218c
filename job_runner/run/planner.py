"""Which actions a request runs, in what order, and whether an action is up to date."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from job_runner.pipeline import Action, Command, Pipeline, UnknownActionError
from job_runner.run.fingerprint import FileHasher
from job_runner.run.state import JobRecord


class PlanningError(ValueError):
    """A request that cannot be planned; the message says what to do."""


@dataclass(frozen=True)
class ActionJob:
    """One action to run: its name, its parsed `run` line and what it needs."""

    name: str
    action: Action

    @property
    def command(self) -> Command:
        return self.action.run

    @property
    def needs(self) -> list[str]:
        return list(self.action.needs)

    @property
    def config(self) -> dict[str, Any] | None:
        return self.action.config

    @property
    def config_json(self) -> str:
        return json.dumps(self.config or {}, sort_keys=True)

    @property
    def args(self) -> list[str]:
        """The arguments of the image's command; with a `config`, `--config JSON` is appended,
        as OpenSAFELY does (it is also in the environment as OSSCHOOLS_ACTION_CONFIG)."""
        args = list(self.command.args)
        if self.config:
            args += ["--config", json.dumps(self.config)]
        return args

    def declared(self) -> list[tuple[str, str, str]]:
        """(level, name, path or pattern) of every declared output."""
        return list(self.action.outputs.files())


@dataclass(frozen=True)
class Plan:
    """The actions to run, in an order where each comes after the actions it needs."""

    jobs: list[ActionJob]
    requested: list[str]

    @property
    def names(self) -> list[str]:
        return [job.name for job in self.jobs]

    def __getitem__(self, name: str) -> ActionJob:
        return next(job for job in self.jobs if job.name == name)


def plan(pipeline: Pipeline, requested: Sequence[str]) -> Plan:
    """The requested actions (`run_all` means all) and everything they need, in running order."""
    if not requested:
        names = ", ".join(pipeline.action_names)
        raise PlanningError(f"say which actions to run (or run_all); this project has: {names}")
    try:
        order = pipeline.plan(requested)
        wanted = pipeline.expand(requested)
    except UnknownActionError as error:
        raise PlanningError(str(error)) from None
    return Plan([ActionJob(name, pipeline[name]) for name in order], wanted)


def is_up_to_date(
    last_success: JobRecord | None, fingerprint: str, project: Path, hasher: FileHasher
) -> bool:
    """Whether the action last succeeded with this fingerprint and its outputs are still there,
    unchanged since then."""
    if last_success is None or last_success.fingerprint != fingerprint:
        return False
    for path, recorded in last_success.outputs.items():
        file = project / path
        if not file.is_file() or hasher.sha256(file) != recorded["sha256"]:
            return False
    return bool(last_success.outputs)


def output_files(last_success: JobRecord | None) -> Iterable[str]:
    """The output files a successful job wrote, relative to the project."""
    return sorted(last_success.outputs) if last_success is not None else []
