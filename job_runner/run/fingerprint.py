"""A fingerprint of everything an action's results depend on.

An action is skipped when it last succeeded with the same fingerprint and its outputs are still
there unchanged. The fingerprint covers the `run` line, the `config`, the image (and what the
executor knows of it: the image id under docker, the synthetic trust's file locally) and the
content of every file the action can see: the visible project files and the outputs it needs.
Hashing the whole visible set is coarse (editing a README reruns everything) but never misses
an undeclared influence. project.yaml itself is left out: the parts of it that concern the action
(`run`, `config`, `needs`, `outputs`) are hashed instead, so adding an action reruns nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from job_runner.run.planner import ActionJob

CHUNK = 1 << 20
PROJECT_FILE = "project.yaml"


class FileHasher:
    """sha256 of files, remembered by (path, size, mtime, inode) so each is read once."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, int, int, int], str] = {}
        self._lock = threading.Lock()

    def sha256(self, path: Path) -> str:
        stat = path.stat()
        key = (os.fspath(path), stat.st_size, stat.st_mtime_ns, stat.st_ino)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        digest = sha256_file(path)
        with self._lock:
            self._cache[key] = digest
        return digest


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def fingerprint(
    job: ActionJob, inputs: Mapping[str, Path], image_identity: str, hasher: FileHasher
) -> str:
    """The fingerprint of `job` run with the files `inputs` (path in the workspace -> file)."""
    content = {
        "run": job.command.raw,
        "config": job.config_json,
        "needs": job.needs,
        "outputs": job.declared(),
        "image": job.command.image_ref,
        "image_identity": image_identity,
        "inputs": sorted(
            (name, hasher.sha256(path)) for name, path in inputs.items() if name != PROJECT_FILE
        ),
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
