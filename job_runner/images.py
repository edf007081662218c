"""Build the action images (`osschools images build`) from docker/, without a container registry.

    osschools images build [IMAGE ...] [--force]
    osschools images list

Every image starts from a root filesystem made on the host with debootstrap (Debian bookworm,
minbase, plus the packages in docker/<image>/debs.txt) and imported with `docker import`: `base`
(Python 3.11, tini) for the Python images, and its own for `r` (Debian's R, lme4, ...). Python
packages reach an image as wheels that `pip download` fetches on the host (pinned in
docker/<image>/requirements.txt) plus a wheel of this checkout; the Dockerfile installs them with
`pip install --no-index`. So the build itself needs no network, and no registry at all.

What is made on the host is kept in a cache folder ($OSSCHOOLS_CACHE, else
~/.cache/osschools): rootfs/ (the root filesystems as tar files), wheels/ (one folder per pinned
requirements set) and package/ (wheels of this checkout, one per source hash). Each image carries
the label `org.osschools.inputs`, a hash of everything it is built from (its Dockerfile, the
rootfs or base image, the wheels, this checkout's source, the folders of docker/<image>/ it copies
such as r's R package osschoolscontrols); an image whose inputs are unchanged is
not built again (`--force` rebuilds). Images are tagged `osschools/<name>:<version>` for each
version `project.yaml` accepts (job_runner.pipeline.models.IMAGES).

Without debootstrap (or when not root, which debootstrap needs), a root filesystem is made from
the `debian:bookworm-slim` image instead, if it is present or can be pulled.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import click

from job_runner.pipeline.models import IMAGES as PIPELINE_IMAGES

REPOSITORY = "osschools"
DOCKER_DIR = Path(__file__).resolve().parent.parent / "docker"
SOURCE_ROOT = DOCKER_DIR.parent
PACKAGE_DIRS = ("schema", "dummy_data", "ehrql_schools", "job_runner")
PACKAGE_FILES = ("pyproject.toml", "README.md")
CACHE_VARIABLE = "OSSCHOOLS_CACHE"
LABEL_IMAGE = "org.osschools.image"
LABEL_INPUTS = "org.osschools.inputs"
LABEL_SOURCE = "org.osschools.source"
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
FALLBACK_IMAGE = "debian:bookworm-slim"
PYTHON_VERSION = "3.11"
#: Wheels that run on Debian bookworm's Python 3.11 (glibc 2.36) on x86_64.
WHEEL_PLATFORMS = (
    *(f"manylinux_2_{minor}_x86_64" for minor in range(36, 16, -1)),
    "manylinux2014_x86_64",
)
#: Removed from a root filesystem after debootstrap: caches, package lists, manuals, translations.
ROOTFS_CLEANUP = (
    "var/cache/apt/archives",
    "var/lib/apt/lists",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
    "usr/share/doc-base",
    "var/log",
)
#: Bumped when the way a root filesystem is made changes, so cached ones are remade.
ROOTFS_RECIPE = "1"
BUILD_TIMEOUT = 3600


class ImageBuildError(Exception):
    """An image cannot be built; the message says why and what to do."""


class ImageToolsMissing(ImageBuildError):
    """This machine lacks what building needs: a Docker engine, or a way to make a root
    filesystem (debootstrap as root, or the debian:bookworm-slim image)."""


@dataclass(frozen=True)
class ImageSpec:
    """How an image is built: from its own root filesystem (debs.txt) or FROM the base image,
    with wheels (requirements.txt) and this checkout's package or not."""

    name: str
    description: str
    rootfs: bool = False
    from_base: bool = False
    wheels: bool = False
    package: bool = False
    #: Folders of docker/<name>/ copied into the build context as they are (an R package).
    sources: tuple[str, ...] = ()

    @property
    def folder(self) -> Path:
        return DOCKER_DIR / self.name

    @property
    def tags(self) -> tuple[str, ...]:
        """The versions project.yaml accepts for it; `v1` for the base image."""
        image = PIPELINE_IMAGES.get(self.name)
        return image.versions if image is not None else ("v1",)

    @property
    def references(self) -> list[str]:
        return [f"{REPOSITORY}/{self.name}:{tag}" for tag in self.tags]


SPECS: dict[str, ImageSpec] = {
    spec.name: spec
    for spec in (
        ImageSpec("base", "Debian bookworm, Python 3.11, tini; user researcher", rootfs=True),
        ImageSpec("ehrql", "ehrql-schools", from_base=True, wheels=True, package=True),
        ImageSpec("sqlrunner", "sqlrunner", from_base=True, wheels=True, package=True),
        ImageSpec(
            "python",
            "python with pandas, statsmodels, matplotlib",
            from_base=True,
            wheels=True,
            package=True,
        ),
        ImageSpec(
            "r",
            "Rscript with lme4, data.table, readr, ggplot2, osschoolscontrols",
            rootfs=True,
            sources=("osschoolscontrols",),
        ),
    )
}
ACTION_IMAGES = tuple(name for name in SPECS if name != "base")


def cache_folder() -> Path:
    """$OSSCHOOLS_CACHE, else ~/.cache/osschools (XDG_CACHE_HOME respected)."""
    if configured := os.environ.get(CACHE_VARIABLE):
        return Path(configured).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "osschools"


def sha256(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# Inputs read from docker/


def read_list(path: Path) -> list[str]:
    """The entries of a list file (debs.txt): one per line, `#` comments and blanks ignored."""
    entries = []
    for line in path.read_text().splitlines():
        entry = line.split("#", 1)[0].strip()
        if entry:
            entries.append(entry)
    return entries


def read_requirements(path: Path, seen: frozenset[Path] = frozenset()) -> list[str]:
    """The requirement lines of a requirements file, `-r FILE` includes expanded, comments gone."""
    path = path.resolve()
    if path in seen:
        raise ImageBuildError(f"{path} includes itself")
    if not path.is_file():
        raise ImageBuildError(f"no requirements file at {path}")
    lines: list[str] = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        entry = line.split(" #", 1)[0].strip()
        if not entry or entry.startswith("#"):
            continue
        if entry.startswith(("-r ", "--requirement ")):
            included = path.parent / entry.split(None, 1)[1].strip()
            lines.extend(read_requirements(included, seen | {path}))
        elif entry.startswith("-"):
            raise ImageBuildError(f"{path}:{number}: only requirements and -r FILE are allowed")
        else:
            lines.append(entry)
    return lines


def requirements_text(spec: ImageSpec) -> str:
    return "".join(f"{line}\n" for line in read_requirements(spec.folder / "requirements.txt"))


def dockerfile(spec: ImageSpec) -> bytes:
    path = spec.folder / "Dockerfile"
    if not path.is_file():
        raise ImageBuildError(f"no Dockerfile at {path}")
    return path.read_bytes()


def source_files(spec: ImageSpec) -> dict[str, Path]:
    """The files of the image's `sources` folders, by their path in the build context (hidden
    files, caches and R's build leftovers left out)."""
    files: dict[str, Path] = {}
    for name in spec.sources:
        folder = spec.folder / name
        if not folder.is_dir():
            raise ImageBuildError(f"no folder {folder} (listed in the {spec.name} image's sources)")
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(spec.folder)
            if not path.is_file() or any(
                part.startswith(".") or part == "__pycache__" or part.endswith(".Rcheck")
                for part in relative.parts
            ):
                continue
            files[relative.as_posix()] = path
    return files


def files_hash(files: dict[str, Path]) -> str:
    """A hash of the files' paths and contents."""
    digest = hashlib.sha256()
    for name, path in sorted(files.items()):
        digest.update(name.encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def source_hash(root: Path = SOURCE_ROOT) -> str:
    """A hash of the files the osschools wheel is built from."""
    digest = hashlib.sha256()
    paths = [root / name for name in PACKAGE_FILES]
    for folder in PACKAGE_DIRS:
        paths.extend(
            path
            for path in (root / folder).rglob("*")
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
        )
    for path in sorted(paths):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


# The cache


@dataclass
class Cache:
    """The folder of things made on the host: root filesystems, wheels and package wheels."""

    root: Path

    @property
    def rootfs(self) -> Path:
        return self.root / "rootfs"

    @property
    def wheels(self) -> Path:
        return self.root / "wheels"

    @property
    def package(self) -> Path:
        return self.root / "package"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def rootfs_key(self, spec: ImageSpec) -> str:
        packages = sorted(read_list(spec.folder / "debs.txt"))
        return sha256(json.dumps([ROOTFS_RECIPE, SUITE, MIRROR, "minbase", packages]))[:16]

    def rootfs_tar(self, spec: ImageSpec) -> Path:
        return self.rootfs / f"{spec.name}-{SUITE}-{self.rootfs_key(spec)}.tar"

    def wheels_key(self, spec: ImageSpec) -> str:
        return sha256(json.dumps([requirements_text(spec), PYTHON_VERSION, WHEEL_PLATFORMS]))[:16]

    def wheels_folder(self, spec: ImageSpec) -> Path:
        return self.wheels / f"{spec.name}-{self.wheels_key(spec)}"

    def package_folder(self, source: str) -> Path:
        return self.package / f"osschools-{source[:16]}"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the cache's lock: one build at a time (pytest-xdist workers, two terminals)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "build.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def complete(folder: Path) -> bool:
    return (folder / "SHA256SUMS").is_file()


def write_sums(folder: Path) -> None:
    """Record each file's hash: the folder's content is then complete and cheap to hash."""
    lines = [
        f"{file_sha256(path)}  {path.name}\n"
        for path in sorted(folder.iterdir())
        if path.is_file() and path.name != "SHA256SUMS"
    ]
    (folder / "SHA256SUMS").write_text("".join(lines))


# Running things, with their output in a log


Status = Callable[[str], None]


def run_logged(
    command: Sequence[str | Path],
    log: Path,
    status: Status,
    describe: Callable[[str], str | None] = lambda line: None,
    env: dict[str, str] | None = None,
) -> None:
    """Run a command, its output to `log`; lines that `describe` recognises update the status.
    Failure raises ImageBuildError with the log's last lines."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as out:
        out.write(f"$ {' '.join(str(part) for part in command)}\n")
        out.flush()
        try:
            process = subprocess.Popen(
                [str(part) for part in command],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                env=env,
            )
        except OSError as error:
            raise ImageBuildError(f"cannot run {command[0]}: {error.strerror}") from None
        assert process.stdout is not None
        for line in process.stdout:
            out.write(line)
            if (text := describe(line.rstrip())) is not None:
                status(text)
        code = process.wait()
    if code != 0:
        raise ImageBuildError(
            f"{Path(str(command[0])).name} failed (exit code {code}); its output is in {log}:\n"
            + tail(log)
        )


def tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def unmount_under(folder: Path) -> None:
    """Unmount whatever a failed debootstrap left mounted inside `folder` (proc, sys)."""
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return
    prefix = f"{folder.resolve()}/"
    points = [line.split()[1] for line in mounts if len(line.split()) > 1]
    for point in sorted((p for p in points if p.startswith(prefix)), reverse=True):
        subprocess.run(["umount", "-l", point], check=False, capture_output=True)


def remove_tree(folder: Path) -> None:
    if folder.exists():
        unmount_under(folder)
        shutil.rmtree(folder, ignore_errors=True)


# Root filesystems


def debootstrap_available() -> bool:
    return shutil.which("debootstrap") is not None and os.geteuid() == 0


def make_rootfs(
    spec: ImageSpec, cache: Cache, client: Any, status: Status, method: str | None = None
) -> Path:
    """The cached root filesystem tar of an image with debs.txt, made if missing."""
    target = cache.rootfs_tar(spec)
    if target.is_file():
        return target
    cache.rootfs.mkdir(parents=True, exist_ok=True)
    packages = read_list(spec.folder / "debs.txt")
    method = method or ("debootstrap" if debootstrap_available() else "docker")
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        if method == "debootstrap":
            debootstrap_rootfs(packages, partial, cache, spec.name, status)
        else:
            docker_rootfs(packages, partial, cache, spec.name, client, status)
        status("hashing the root filesystem")
        digest = file_sha256(partial)
        os.replace(partial, target)
        target.with_name(f"{target.name}.sha256").write_text(f"{digest}\n")
    finally:
        partial.unlink(missing_ok=True)
    return target


def rootfs_digest(tar: Path) -> str:
    recorded = tar.with_name(f"{tar.name}.sha256")
    if recorded.is_file():
        return recorded.read_text().strip()
    digest = file_sha256(tar)
    recorded.write_text(f"{digest}\n")
    return digest


def debootstrap_rootfs(
    packages: list[str], output: Path, cache: Cache, name: str, status: Status
) -> None:
    folder = Path(tempfile.mkdtemp(prefix=f"debootstrap-{name}-", dir=cache.rootfs))
    try:
        status(f"debootstrap {SUITE} (minbase + {len(packages)} packages)")
        command = [
            "debootstrap",
            "--variant=minbase",
            f"--include={','.join(packages)}",
            SUITE,
            folder / "root",
            MIRROR,
        ]

        def describe(line: str) -> str | None:
            if line.startswith("I: "):
                return f"debootstrap: {line[3:].strip()[:70]}"
            return None

        run_logged(command, cache.logs / f"debootstrap-{name}.log", status, describe)
        root = folder / "root"
        unmount_under(root)
        status("cleaning the root filesystem")
        for relative in ROOTFS_CLEANUP:
            path = root / relative
            if path.is_dir():
                for child in path.iterdir():
                    if child.is_dir() and not child.is_symlink():
                        shutil.rmtree(child)
                    else:
                        child.unlink()
        for name_ in ("etc/hostname", "etc/resolv.conf"):
            (root / name_).unlink(missing_ok=True)
        status("packing the root filesystem")
        run_logged(
            ["tar", "--numeric-owner", "--xattrs", "-C", root, "-cf", output, "."],
            cache.logs / f"tar-{name}.log",
            status,
        )
    finally:
        remove_tree(folder)


def docker_rootfs(
    packages: list[str], output: Path, cache: Cache, name: str, client: Any, status: Status
) -> None:
    """The fallback without debootstrap: install the packages in a debian:bookworm-slim container
    (which needs network) and export its filesystem."""
    import docker.errors

    try:
        client.images.get(FALLBACK_IMAGE)
    except docker.errors.ImageNotFound:
        status(f"pulling {FALLBACK_IMAGE}")
        try:
            client.images.pull(FALLBACK_IMAGE)
        except docker.errors.APIError as error:
            raise ImageToolsMissing(
                f"cannot make a root filesystem: debootstrap is {debootstrap_problem()}, and "
                f"{FALLBACK_IMAGE} cannot be pulled ({error.explanation or error})"
            ) from None
    status(f"installing {len(packages)} packages in {FALLBACK_IMAGE}")
    script = (
        "set -e; export DEBIAN_FRONTEND=noninteractive; apt-get update -qq; "
        f"apt-get install -y -qq --no-install-recommends {' '.join(packages)}; "
        "apt-get clean; rm -rf /var/lib/apt/lists/* /usr/share/man/* /usr/share/locale/*"
    )
    container = client.containers.create(FALLBACK_IMAGE, ["sh", "-c", script], user="root")
    log = cache.logs / f"rootfs-{name}.log"
    try:
        container.start()
        result = container.wait(timeout=BUILD_TIMEOUT)
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_bytes(container.logs())
        if result.get("StatusCode") != 0:
            raise ImageBuildError(
                f"installing packages in {FALLBACK_IMAGE} failed; see {log}:\n{tail(log)}"
            )
        status("exporting the root filesystem")
        with open(output, "wb") as out:
            for chunk in container.export():
                out.write(chunk)
    finally:
        container.remove(force=True)


def debootstrap_problem() -> str:
    if shutil.which("debootstrap") is None:
        return "not installed (Debian/Ubuntu: `sudo apt-get install debootstrap`)"
    return "installed but needs root (run `sudo osschools images build` once)"


def import_rootfs(spec: ImageSpec, tar: Path, client: Any, status: Status) -> str:
    """The reference of the imported root filesystem, `osschools/rootfs-<name>:<sha12>`."""
    import docker.errors

    reference = f"{REPOSITORY}/rootfs-{spec.name}:{rootfs_digest(tar)[:12]}"
    try:
        client.images.get(reference)
        return reference
    except docker.errors.ImageNotFound:
        pass
    status(f"docker import {tar.name}")
    repository, tag = reference.rsplit(":", 1)
    with open(tar, "rb") as data:
        client.api.import_image_from_data(data, repository=repository, tag=tag)
    client.images.get(reference)
    return reference


# Wheels


def download_wheels(spec: ImageSpec, cache: Cache, status: Status) -> Path:
    """The cached folder of the image's wheels (and requirements.txt), downloaded if missing."""
    folder = cache.wheels_folder(spec)
    if complete(folder):
        return folder
    remove_tree(folder)
    folder.mkdir(parents=True)
    requirements = folder / "requirements.txt"
    requirements.write_text(requirements_text(spec))
    platforms = [option for tag in WHEEL_PLATFORMS for option in ("--platform", tag)]
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--disable-pip-version-check",
        "--only-binary=:all:",
        "--python-version",
        PYTHON_VERSION,
        "--implementation",
        "cp",
        "--abi",
        f"cp{PYTHON_VERSION.replace('.', '')}",
        *platforms,
        "--dest",
        folder,
        "--requirement",
        requirements,
    ]

    def describe(line: str) -> str | None:
        if line.startswith(("Collecting ", "Saved ", "File was already downloaded")):
            return f"wheels: {line.strip()[:70]}"
        return None

    status(f"downloading wheels for {spec.name}")
    try:
        run_logged(command, cache.logs / f"wheels-{spec.name}.log", status, describe)
    except ImageBuildError as error:
        remove_tree(folder)
        raise ImageBuildError(
            f"cannot download the wheels of {spec.folder / 'requirements.txt'} "
            f"(the host needs PyPI or a pip index):\n{error}"
        ) from None
    write_sums(folder)
    return folder


def build_package_wheel(cache: Cache, source: str, status: Status) -> Path:
    """The cached wheel of this checkout (`pip wheel --no-deps` of a clean copy)."""
    folder = cache.package_folder(source)
    if complete(folder):
        return folder
    remove_tree(folder)
    status("building the osschools wheel")
    with tempfile.TemporaryDirectory(prefix="osschools-source-") as temporary:
        copy = Path(temporary) / "source"
        copy.mkdir()
        for name in PACKAGE_FILES:
            shutil.copy2(SOURCE_ROOT / name, copy / name)
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
        for name in PACKAGE_DIRS:
            shutil.copytree(SOURCE_ROOT / name, copy / name, ignore=ignore)
        built = Path(temporary) / "wheel"
        command = [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--disable-pip-version-check",
            "--no-deps",
            "--wheel-dir",
            built,
            copy,
        ]
        run_logged(command, cache.logs / "package-wheel.log", status)
        folder.mkdir(parents=True)
        for wheel in built.glob("*.whl"):
            shutil.copy2(wheel, folder / wheel.name)
    if not any(folder.glob("*.whl")):
        raise ImageBuildError(f"pip wheel made no wheel; see {cache.logs / 'package-wheel.log'}")
    write_sums(folder)
    return folder


# Building


@dataclass
class Plan:
    """What an image is built from, and the hash of it all."""

    spec: ImageSpec
    buildargs: dict[str, str] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)  # path in the context -> file
    inputs: dict[str, str] = field(default_factory=dict)
    source: str = ""

    @property
    def digest(self) -> str:
        return sha256(json.dumps(self.inputs, sort_keys=True))[:32]


def sums_of(folder: Path) -> str:
    return sha256((folder / "SHA256SUMS").read_bytes())


def image_id(client: Any, reference: str) -> str | None:
    import docker.errors

    try:
        return client.images.get(reference).id
    except docker.errors.ImageNotFound:
        return None


def built_with(client: Any, spec: ImageSpec, digest: str) -> Any | None:
    """The image of `spec` labelled with this inputs hash, if one exists."""
    found = client.images.list(
        filters={"label": [f"{LABEL_IMAGE}={spec.name}", f"{LABEL_INPUTS}={digest}"]}
    )
    # Only a tagged image of ours counts: the untagged first stage of a multi-stage build
    # inherits the labels of the image it starts FROM (e.g. base's).
    prefix = f"{REPOSITORY}/{spec.name}:"
    tagged = [image for image in found if any(tag.startswith(prefix) for tag in image.tags)]
    return tagged[0] if tagged else None


def context_tar(plan: Plan, out: IO[bytes]) -> None:
    """Write the build context: the Dockerfile and the plan's files, with fixed times and owners
    so that Docker's layer cache sees only their content."""
    with tarfile.open(fileobj=out, mode="w") as tar:

        def add(name: str, data: bytes | None = None, path: Path | None = None) -> None:
            info = tarfile.TarInfo(name)
            info.mode, info.mtime, info.uid, info.gid = 0o644, 0, 0, 0
            if path is not None:
                info.size = path.stat().st_size
                with open(path, "rb") as file:
                    tar.addfile(info, file)
            else:
                assert data is not None
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))

        folders = {str(parent) for name in plan.files for parent in Path(name).parents}
        for folder in sorted(folders - {"."}):
            info = tarfile.TarInfo(folder)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 0
            tar.addfile(info)
        add("Dockerfile", dockerfile(plan.spec))
        for name, path in sorted(plan.files.items()):
            add(name, path=path)
    out.seek(0)


def docker_build(client: Any, plan: Plan, tag: str, log: Path, status: Status) -> str:
    """Build the plan's image with the classic builder (no BuildKit needed); its image id."""
    labels = {
        LABEL_IMAGE: plan.spec.name,
        LABEL_INPUTS: plan.digest,
        "org.opencontainers.image.title": f"{REPOSITORY}/{plan.spec.name}",
        "org.opencontainers.image.description": plan.spec.description,
    }
    if plan.source:
        labels[LABEL_SOURCE] = plan.source
    log.parent.mkdir(parents=True, exist_ok=True)
    image: str | None = None
    with tempfile.TemporaryFile() as context, open(log, "w") as out:
        context_tar(plan, context)
        stream = client.api.build(
            fileobj=context,
            custom_context=True,
            tag=tag,
            buildargs=plan.buildargs,
            labels=labels,
            rm=True,
            forcerm=True,
            pull=False,
            decode=True,
            timeout=BUILD_TIMEOUT,
        )
        for chunk in stream:
            if "stream" in chunk:
                text = chunk["stream"]
                out.write(text)
                line = text.strip()
                if line.startswith("Step "):
                    status(line[:90])
            if "aux" in chunk and "ID" in chunk["aux"]:
                image = chunk["aux"]["ID"]
            if "error" in chunk:
                out.write(chunk["error"] + "\n")
                out.flush()
                raise ImageBuildError(
                    f"building {REPOSITORY}/{plan.spec.name} failed: "
                    f"{chunk['error'].strip()}\n(log: {log})\n{tail(log)}"
                )
    if image is None:
        image = client.images.get(tag).id
    return image


def current_ids(client: Any, spec: ImageSpec) -> set[str]:
    """The ids of the images the tags of `spec` point at now."""
    return {found for reference in spec.references if (found := image_id(client, reference))}


def tag_image(client: Any, image_ref: str, spec: ImageSpec, previous: set[str]) -> None:
    """Point every tag of `spec` at the image, and remove the `previous` images of ours that are
    left without tags."""
    import docker.errors

    image = client.images.get(image_ref)
    for reference in spec.references:
        repository, tag = reference.rsplit(":", 1)
        image.tag(repository, tag)
    for old in previous - {image.id}:
        with contextlib.suppress(docker.errors.APIError):
            if not client.images.get(old).tags:
                client.images.remove(old)


@dataclass
class Outcome:
    name: str
    references: list[str]
    built: bool
    seconds: float
    size: int
    image_id: str


class Builder:
    """Builds images in order (base first), reusing the cache and images whose inputs match."""

    def __init__(
        self,
        client: Any,
        cache: Cache,
        status: Status = lambda text: None,
        force: bool = False,
        rootfs_method: str | None = None,
    ) -> None:
        self.client = client
        self.cache = cache
        self.status = status
        self.force = force
        self.rootfs_method = rootfs_method
        self._source: str | None = None

    @property
    def source(self) -> str:
        if self._source is None:
            self._source = source_hash()
        return self._source

    def plan(self, spec: ImageSpec) -> Plan:
        """Everything the image is built from, made or downloaded into the cache if missing."""
        plan = Plan(spec, inputs={"dockerfile": sha256(dockerfile(spec))})
        if spec.rootfs:
            tar = make_rootfs(spec, self.cache, self.client, self.status, self.rootfs_method)
            reference = import_rootfs(spec, tar, self.client, self.status)
            plan.buildargs["ROOTFS"] = reference
            plan.inputs["rootfs"] = rootfs_digest(tar)
        if spec.from_base:
            base = SPECS["base"].references[0]
            base_id = image_id(self.client, base)
            if base_id is None:
                raise ImageBuildError(f"{base} is missing: build it first")
            plan.buildargs["BASE"] = base
            plan.inputs["base"] = base_id
        if spec.wheels:
            wheels = download_wheels(spec, self.cache, self.status)
            plan.inputs["wheels"] = sums_of(wheels)
            plan.files.update(
                {f"wheels/{path.name}": path for path in wheels.iterdir() if path.is_file()}
            )
        if spec.sources:
            files = source_files(spec)
            plan.inputs["sources"] = files_hash(files)
            plan.files.update(files)
        if spec.package:
            package = build_package_wheel(self.cache, self.source, self.status)
            plan.inputs["package"] = sums_of(package)
            plan.source = self.source[:16]
            plan.files.update({f"osschools/{path.name}": path for path in package.glob("*.whl")})
        return plan

    def build(self, spec: ImageSpec) -> Outcome:
        started = time.monotonic()
        plan = self.plan(spec)
        existing = None if self.force else built_with(self.client, spec, plan.digest)
        previous = current_ids(self.client, spec)
        if existing is not None:
            tag_image(self.client, existing.id, spec, previous)
            image, built = existing, False
        else:
            self.status(f"docker build {REPOSITORY}/{spec.name}")
            log = self.cache.logs / f"build-{spec.name}.log"
            image_ref = docker_build(self.client, plan, spec.references[0], log, self.status)
            tag_image(self.client, image_ref, spec, previous)
            image, built = self.client.images.get(image_ref), True
        return Outcome(
            spec.name,
            spec.references,
            built,
            time.monotonic() - started,
            int(image.attrs.get("Size", 0)),
            image.id,
        )


def docker_client() -> Any:
    """A client of the Docker engine, or ImageBuildError saying how to get one."""
    try:
        import docker.errors
    except ImportError:  # pragma: no cover - docker is a dependency
        raise ImageBuildError("the docker Python package is missing: pip install docker") from None
    try:
        client = docker.from_env(timeout=BUILD_TIMEOUT)
        client.ping()
    except docker.errors.DockerException as error:
        raise ImageToolsMissing(
            "cannot reach the Docker engine: start it (Debian: `sudo apt-get install docker.io` "
            "and `sudo systemctl start docker`, or run `dockerd`), and check that you may use it "
            f"(the docker group). ({error})"
        ) from None
    return client


def selected(names: Sequence[str]) -> list[ImageSpec]:
    """The specs to build in order: all if none named; base first when an image needs it."""
    unknown = [name for name in names if name not in SPECS]
    if unknown:
        raise ImageBuildError(f"unknown image {', '.join(unknown)}: choose from {', '.join(SPECS)}")
    wanted = set(names or SPECS)
    if any(SPECS[name].from_base for name in wanted):
        wanted.add("base")
    return [spec for name, spec in SPECS.items() if name in wanted]


def check_platform() -> None:
    if platform.machine() not in ("x86_64", "AMD64"):
        raise ImageToolsMissing(
            f"the images are built for x86_64; this machine is {platform.machine()}"
        )


def build_images(
    names: Sequence[str] = (),
    force: bool = False,
    status: Callable[[str, str], None] = lambda name, text: None,
    done: Callable[[Outcome], None] = lambda outcome: None,
    cache: Cache | None = None,
    client: Any = None,
) -> list[Outcome]:
    """Build the named images (all by default) unless current; what happened to each.

    `status(name, text)` hears of each step, `done(outcome)` of each image when it is ready.
    """
    check_platform()
    specs = selected(names)
    client = client or docker_client()
    cache = cache or Cache(cache_folder())
    outcomes = []
    with cache.locked():
        for spec in specs:
            builder = Builder(
                client,
                cache,
                status=lambda text, name=spec.name: status(name, text),
                force=force,
            )
            outcome = builder.build(spec)
            outcomes.append(outcome)
            done(outcome)
    return outcomes


# Listing


@dataclass
class Listing:
    name: str
    references: list[str]
    image_id: str | None
    size: int
    created: str
    state: str


def expected_digest(spec: ImageSpec, cache: Cache, client: Any, source: str) -> str | None:
    """The inputs hash the image would be built with now, or None if some input is not made
    yet (root filesystem or wheels not in the cache, base image missing)."""
    inputs = {"dockerfile": sha256(dockerfile(spec))}
    if spec.rootfs:
        tar = cache.rootfs_tar(spec)
        if not tar.is_file():
            return None
        inputs["rootfs"] = rootfs_digest(tar)
    if spec.from_base:
        base_id = image_id(client, SPECS["base"].references[0])
        if base_id is None:
            return None
        inputs["base"] = base_id
    if spec.wheels:
        wheels = cache.wheels_folder(spec)
        if not complete(wheels):
            return None
        inputs["wheels"] = sums_of(wheels)
    if spec.sources:
        inputs["sources"] = files_hash(source_files(spec))
    if spec.package:
        package = cache.package_folder(source)
        if not complete(package):
            return None
        inputs["package"] = sums_of(package)
    return sha256(json.dumps(inputs, sort_keys=True))[:32]


def list_images(client: Any = None, cache: Cache | None = None) -> list[Listing]:
    client = client or docker_client()
    cache = cache or Cache(cache_folder())
    source = source_hash()
    listings = []
    base_current = True
    for spec in SPECS.values():
        ids = {reference: image_id(client, reference) for reference in spec.references}
        present = [reference for reference, found in ids.items() if found]
        if not present:
            listings.append(Listing(spec.name, spec.references, None, 0, "", "not built"))
            if spec.name == "base":
                base_current = False
            continue
        image = client.images.get(present[0])
        labels = image.labels or {}
        expected = expected_digest(spec, cache, client, source)
        if len(present) < len(ids) or len({ids[reference] for reference in present}) > 1:
            state = "tags out of step: rebuild"
        elif spec.from_base and not base_current:
            state = "out of date (base is)"
        elif expected is None:
            state = "out of date (inputs not in the cache)"
        elif labels.get(LABEL_INPUTS) != expected:
            state = "out of date"
        else:
            state = "current"
        if spec.name == "base" and state != "current":
            base_current = False
        created = str(image.attrs.get("Created", ""))[:19].replace("T", " ")
        listings.append(
            Listing(
                spec.name,
                spec.references,
                image.id,
                int(image.attrs.get("Size", 0)),
                created,
                state,
            )
        )
    return listings


# The command line


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit in ("B", "kB") else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"  # pragma: no cover


@click.group("images", context_settings={"help_option_names": ["-h", "--help"]})
def images_group() -> None:
    """Build and list the action images (ehrql, sqlrunner, python, r)."""


@images_group.command("build")
@click.argument("names", nargs=-1, metavar="[IMAGE]...")
@click.option("--force", is_flag=True, help="Rebuild even images whose inputs are unchanged.")
def build_command(names: tuple[str, ...], force: bool) -> None:
    """Build the action images from docker/ (all of them if none is named).

    Root filesystems come from debootstrap and Python packages from wheels downloaded on this
    machine, both kept in $OSSCHOOLS_CACHE (default ~/.cache/osschools); no registry is used.
    An image whose inputs have not changed is left as it is.
    """
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True, highlight=False)
    if not console.is_terminal:
        console.width = 120
    tasks: dict[str, Any] = {}
    try:
        specs = selected(names)
        with Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.fields[image]:<10}[/bold]"),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as progress:
            for spec in specs:
                tasks[spec.name] = progress.add_task(
                    "waiting", image=spec.name, total=1, start=False
                )

            def status(name: str, text: str) -> None:
                task = tasks[name]
                progress.start_task(task)
                progress.update(task, description=text)

            def done(outcome: Outcome) -> None:
                progress.start_task(tasks[outcome.name])
                what = "built" if outcome.built else "up to date"
                progress.update(
                    tasks[outcome.name],
                    description=f"{what}: {', '.join(outcome.references)} "
                    f"({human_size(outcome.size)})",
                    completed=1,
                )

            build_images([spec.name for spec in specs], force=force, status=status, done=done)
    except ImageBuildError as error:
        raise click.ClickException(str(error)) from None


@images_group.command("list")
def list_command() -> None:
    """Show the action images: their tags, size, and whether they are current."""
    from rich.console import Console
    from rich.table import Table

    try:
        listings = list_images()
    except ImageBuildError as error:
        raise click.ClickException(str(error)) from None
    table = Table(title=f"Action images (cache: {cache_folder()})")
    for column in ("image", "tags", "id", "size", "created", "state"):
        table.add_column(column)
    for listing in listings:
        table.add_row(
            listing.name,
            ", ".join(listing.references),
            listing.image_id.removeprefix("sha256:")[:12] if listing.image_id else "",
            human_size(listing.size) if listing.image_id else "",
            listing.created,
            listing.state,
        )
    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = 200
    console.print(table)
