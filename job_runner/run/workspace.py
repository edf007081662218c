"""The folder an action runs in, and collecting its declared outputs back into the project.

An action sees only:
- the project's visible files: with git, the committed and working files that git does not
  ignore (`git ls-files --cached --others --exclude-standard`); without git, every file. Never
  `metadata/`, `.osschools/`, `.git/`, caches and virtual environments, nor any file that a
  declared output of any action matches (outputs come from running actions, not from the folder);
- the output files of the actions it `needs`.

So an undeclared dependency fails locally as it would on the backend. Files are copied, not
linked: an action that rewrites an input in place cannot change the project.

After a successful run, the files matching the action's declared outputs are moved into the
project through a staging folder beside it (`.osschools/staging/`), each with an atomic rename;
everything else the action wrote is dropped with its folder.
"""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from job_runner.pipeline import Pipeline, matches

METADATA = "metadata"
STATE_FOLDER = ".osschools"
HIDDEN_FOLDERS = frozenset(
    {
        ".git",
        METADATA,
        STATE_FOLDER,
        "__pycache__",
        ".venv",
        "venv",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".ipynb_checkpoints",
        ".Rproj.user",
    }
)


def visible_files(project: Path, pipeline: Pipeline) -> dict[str, Path]:
    """The project files every action sees: relative POSIX path -> file."""
    names = _git_files(project)
    if names is None:
        names = _walk(project)
    patterns = [
        pattern for action in pipeline.actions.values() for *_, pattern in action.outputs.files()
    ]
    visible = {}
    for name in names:
        parts = name.split("/")
        if any(part in HIDDEN_FOLDERS for part in parts[:-1]) or parts[0] in HIDDEN_FOLDERS:
            continue
        if any(matches(pattern, name) for pattern in patterns):
            continue
        path = project / name
        if path.is_file():
            visible[name] = path
    return dict(sorted(visible.items()))


def _git_files(project: Path) -> list[str] | None:
    try:
        result = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=project,
            capture_output=True,
            check=False,
        )
    except OSError:
        return None
    if result.returncode != 0:
        return None
    return [name for name in result.stdout.decode().split("\0") if name]


def _walk(project: Path) -> list[str]:
    names = []
    for folder, subfolders, files in os.walk(project):
        subfolders[:] = [name for name in subfolders if name not in HIDDEN_FOLDERS]
        relative = Path(folder).relative_to(project)
        names.extend((relative / name).as_posix() for name in files)
    return names


def git_commit(project: Path) -> str | None:
    """The commit checked out in the project's repository, if it is in one."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, check=False
        )
    except OSError:
        return None
    return result.stdout.decode().strip() or None if result.returncode == 0 else None


@dataclass
class Collected:
    """What collecting an action's outputs found."""

    outputs: dict[str, str] = field(default_factory=dict)  # path -> level
    undeclared: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)  # messages, one per empty pattern

    @property
    def ok(self) -> bool:
        return not self.unmatched


class Workspace:
    """One job's folders: `inputs` (the working directory), `home` and `tmp`, under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.inputs = root / "workspace"
        self.home = root / "home"
        self.tmp = root / "tmp"
        self._staged: set[str] = set()

    def stage(self, files: Mapping[str, Path]) -> None:
        """Copy `files` (relative path -> source) into the working directory."""
        for folder in (self.inputs, self.home, self.tmp):
            folder.mkdir(parents=True, exist_ok=True)
        for name, source in files.items():
            target = self.inputs / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            shutil.copymode(source, target)
            self._staged.add(name)

    def written_files(self) -> list[str]:
        """Files in the working directory that the action created (relative paths)."""
        return [name for name in _walk(self.inputs) if name not in self._staged]

    def collect(
        self, declared: Iterable[tuple[str, str, str]], project: Path, staging: Path
    ) -> Collected:
        """Move the files matching the declared outputs into `project`, or, if a declared
        output matched nothing, move nothing and say what was written instead."""
        written = sorted(self.written_files())
        result = Collected()
        for level, name, pattern in declared:
            found = [path for path in written if matches(pattern, path)]
            if not found:
                result.unmatched.append(_did_you_mean(name, pattern, written))
            for path in found:
                result.outputs.setdefault(path, level)
        result.undeclared = [path for path in written if path not in result.outputs]
        if not result.ok:
            return result
        staging.mkdir(parents=True, exist_ok=True)
        for path in result.outputs:  # first into staging on the project's file system...
            target = staging / path
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(self.inputs / path, target)
        for path in result.outputs:  # ...then each renamed into place atomically
            destination = project / path
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / path, destination)
        shutil.rmtree(staging, ignore_errors=True)
        return result

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _did_you_mean(name: str, pattern: str, written: list[str]) -> str:
    message = f"output `{name}`: `{pattern}` matched no file the action wrote"
    close = difflib.get_close_matches(pattern, written, n=3, cutoff=0.6)
    if close:
        return message + "; did you mean " + " or ".join(f"`{path}`" for path in close) + "?"
    if written:
        shown = ", ".join(written[:10]) + (", ..." if len(written) > 10 else "")
        return message + f"; it wrote {shown}"
    return message + "; it wrote no files"


def remove_stale_outputs(
    project: Path, declared: Iterable[tuple[str, str, str]], keep: Iterable[str]
) -> list[str]:
    """Delete files in the project that match the action's patterns but that its latest run
    did not write (e.g. a figure it no longer makes); return their paths."""
    keep = set(keep)
    patterns = [pattern for *_, pattern in declared]
    removed = []
    for name in _walk(project):
        if name not in keep and any(matches(pattern, name) for pattern in patterns):
            (project / name).unlink(missing_ok=True)
            removed.append(name)
    return removed
