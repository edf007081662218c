"""Shared fixtures. `postgres_url` gives integration tests a throwaway PostgreSQL database."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy.engine import URL, make_url

SERVER_URL_VARIABLE = "OSSCHOOLS_TEST_POSTGRES_URL"
UNAVAILABLE = (
    "PostgreSQL is not available for integration tests: install it with `make services` "
    f"(Debian's postgresql package), or point {SERVER_URL_VARIABLE} at a server where we may "
    "create databases."
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that uses a real PostgreSQL is an integration test."""
    for item in items:
        if {"postgres_url", "postgres_server"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """SQLAlchemy URL of a PostgreSQL server where tests may create databases.

    Uses the server in OSSCHOOLS_TEST_POSTGRES_URL if set; otherwise starts a private cluster
    from Debian's PostgreSQL binaries, reachable only through a unix socket in a temporary
    directory. Without either it skips, or fails when the CI variable is set.
    """
    if server_url := os.environ.get(SERVER_URL_VARIABLE):
        yield server_url
        return
    # The newest installed version, e.g. /usr/lib/postgresql/15/bin/initdb.
    initdb = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=postgres_version)
    if not initdb or (os.geteuid() == 0 and not system_user_exists("postgres")):
        if running_in_ci():
            pytest.fail(UNAVAILABLE, pytrace=False)
        pytest.skip(UNAVAILABLE)
    with private_cluster(Path(initdb[-1]).parent) as server_url:
        yield server_url


@pytest.fixture(scope="module")
def postgres_url(postgres_server: str) -> Iterator[str]:
    """SQLAlchemy URL of a fresh, empty database for one test module, dropped after it.

    Tests in a module share it, so they must not assume it is empty.
    """
    with throwaway_database(postgres_server) as url:
        yield url


@pytest.fixture(scope="session")
def action_images() -> dict[str, str]:
    """The action images, {name: reference}, built if missing or out of date by the code of
    `osschools images build` (its cache makes a second session quick).

    Without a Docker engine (or debootstrap) it skips, or fails when the CI variable is set; a
    build that fails for any other reason fails.
    """
    from job_runner import images

    try:
        outcomes = images.build_images(images.ACTION_IMAGES)
    except images.ImageToolsMissing as error:
        if running_in_ci():
            pytest.fail(str(error), pytrace=False)
        pytest.skip(str(error))
    except images.ImageBuildError as error:
        pytest.fail(str(error), pytrace=False)
    return {o.name: o.references[-1] for o in outcomes if o.name in images.ACTION_IMAGES}


def running_in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def postgres_version(initdb: str) -> tuple[int, ...]:
    version = Path(initdb).parts[-3]
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def system_user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@contextmanager
def throwaway_database(server_url: str) -> Iterator[str]:
    """Create a uniquely named database on the server, yield its URL, then drop it."""
    server = make_url(server_url).set(drivername="postgresql+psycopg")
    name = f"osschools_test_{uuid.uuid4().hex[:12]}"
    engine = sqlalchemy.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield server.set(database=name).render_as_string(hide_password=False)
        with engine.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        engine.dispose()


@contextmanager
def private_cluster(bin_dir: Path) -> Iterator[str]:
    """Run a PostgreSQL cluster in a temporary directory, listening only on a socket inside it.

    initdb refuses to run as root, so as root the cluster belongs to the `postgres` system user.
    """
    user = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
    # Keep the path short: a unix socket path may not exceed 107 bytes.
    directory = Path(tempfile.mkdtemp(prefix="osschools-pg-"))
    data, log = directory / "data", directory / "server.log"

    def run(*command: str | Path) -> None:
        result = subprocess.run(
            [str(part) for part in command],
            capture_output=True,
            text=True,
            cwd=directory,
            user=user.pw_uid if user else None,
            group=user.pw_gid if user else None,
            extra_groups=[] if user else None,
        )
        if result.returncode != 0:
            server_log = log.read_text() if log.exists() else ""
            pytest.fail(f"{Path(command[0]).name} failed:\n{result.stderr}\n{server_log}")

    try:
        if user:
            os.chown(directory, user.pw_uid, user.pw_gid)
        initdb_options = ["--username=postgres", "--auth=trust", "--encoding=UTF8", "--locale=C"]
        run(bin_dir / "initdb", f"--pgdata={data}", "--no-sync", *initdb_options)
        server_options = f"-k {directory} -c listen_addresses= -c fsync=off -c full_page_writes=off"
        run(bin_dir / "pg_ctl", "-D", data, "-l", log, "-w", "-o", server_options, "start")
        try:
            yield URL.create(
                "postgresql+psycopg",
                username="postgres",
                database="postgres",
                query={"host": str(directory)},
            ).render_as_string(hide_password=False)
        finally:
            run(bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(directory, ignore_errors=True)
