"""Which database a command runs on: a --dsn, OSSCHOOLS_DSN, or the local synthetic trust.

A DSN is a SQLAlchemy URL (`duckdb:///path`, `postgresql+psycopg://...`; `postgresql://` and
`postgres://` mean psycopg) or the path of a .duckdb file. Without one, commands use the synthetic
trust at OSSCHOOLS_DUMMY_DATA, or else `.osschools/synthetic_trust.duckdb` under the current folder,
generated (small preset) the first time it is needed.
"""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import URL

from ehrql_schools.engines.duckdb import DuckDBEngine
from ehrql_schools.engines.postgresql import PostgreSQLEngine
from ehrql_schools.engines.sql import SQLEngine

if TYPE_CHECKING:
    from dummy_data.settings import GeneratorSettings

DSN_VARIABLE = "OSSCHOOLS_DSN"
DUMMY_DATA_VARIABLE = "OSSCHOOLS_DUMMY_DATA"
DEFAULT_SYNTHETIC_TRUST = Path(".osschools") / "synthetic_trust.duckdb"
POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")
DSN_FORMS = "a SQLAlchemy URL (duckdb:///FILE, postgresql://...) or the path of a .duckdb file"


class DSNError(Exception):
    """The DSN cannot be used; the message says why, without its password."""


@dataclass(frozen=True)
class Database:
    """A resolved DSN: its URL, its dialect and whether it is the local synthetic trust."""

    url: URL
    synthetic: bool

    @property
    def dialect(self) -> str:
        return "postgresql" if self.url.get_backend_name() == "postgresql" else "duckdb"

    @property
    def display(self) -> str:
        """The URL with its password hidden (a DuckDB file's path): the only form ever shown."""
        if self.dialect == "duckdb":
            return str(self.url.database)
        return self.url.render_as_string(hide_password=True)

    def engine(self) -> SQLEngine:
        url = self.url.render_as_string(hide_password=False)
        return PostgreSQLEngine(url) if self.dialect == "postgresql" else DuckDBEngine(url)

    def prepare(self) -> None:
        """Generate the local synthetic trust if this is it and it is missing."""
        if self.synthetic:
            ensure_synthetic_trust(Path(str(self.url.database)), generate_synthetic_trust)

    def redact(self, text: str) -> str:
        """The text with the password replaced by ***: as the password of a URL
        (`scheme://user:PASSWORD@host`) or of a key=value DSN (`password=PASSWORD`), as written
        or percent-encoded, and wherever else it stands as a whole token. Inside a longer word it
        is left alone: a password "y" does not turn "query" into "quer***"."""
        password = self.url.password
        if not password:
            return text
        password = str(password)
        for form in sorted({password, quote(password, safe="")}, key=len, reverse=True):
            escaped = re.escape(form)
            text = re.sub(rf"(://[^\s/@:]*:){escaped}(?=@)", r"\1***", text)
            text = re.sub(
                rf"(\bpassword\s*=\s*['\"]?){escaped}(?![\w])", r"\1***", text, flags=re.I
            )
            text = re.sub(rf"(?<![\w]){escaped}(?![\w])", "***", text)
        return text


def parse_dsn(dsn: str) -> URL:
    """The SQLAlchemy URL of a DSN; PostgreSQL URLs use psycopg, DuckDB files open read-only."""
    if "://" not in dsn:
        path = Path(dsn)
        if path.suffix != ".duckdb":
            raise DSNError(f"--dsn {dsn!r} is not {DSN_FORMS}")
        return _duckdb_url(path)
    try:
        url = sa.make_url(dsn)
    except sa.exc.ArgumentError:
        raise DSNError(f"--dsn is not {DSN_FORMS}") from None
    if url.drivername in POSTGRES_SCHEMES:
        return url.set(drivername="postgresql+psycopg")
    if url.drivername == "duckdb":
        if url.database in (None, "", ":memory:"):
            raise DSNError("--dsn duckdb:// needs a file: duckdb:///path/to/trust.duckdb")
        return _duckdb_url(Path(url.database), url)
    shown = url.render_as_string(hide_password=True)
    raise DSNError(f"--dsn {shown}: only DuckDB and PostgreSQL are supported; give {DSN_FORMS}")


def _duckdb_url(path: Path, url: URL | None = None) -> URL:
    if not path.is_file():
        raise DSNError(
            f"no DuckDB file at {path}: check the path, or create synthetic data with "
            f"`osschools dummy-data generate --output {path}`"
        )
    query = dict(url.query) if url is not None else {}
    query.setdefault("access_mode", "read_only")  # several commands may read it at once
    return URL.create("duckdb", database=str(path.resolve()), query=query)


def resolve(dsn: str | None) -> Database:
    """The database to run on: `dsn`, else OSSCHOOLS_DSN, else the local synthetic trust (which
    `Database.prepare()` generates if it is missing)."""
    dsn = dsn or os.environ.get(DSN_VARIABLE) or None
    if dsn is not None:
        return Database(parse_dsn(dsn), synthetic=False)
    path = synthetic_trust_path().resolve()
    url = URL.create("duckdb", database=str(path), query={"access_mode": "read_only"})
    return Database(url, synthetic=True)


def synthetic_trust_path() -> Path:
    """OSSCHOOLS_DUMMY_DATA, or `.osschools/synthetic_trust.duckdb` under the current folder."""
    return Path(os.environ.get(DUMMY_DATA_VARIABLE) or DEFAULT_SYNTHETIC_TRUST)


def ensure_synthetic_trust(path: Path, generate: Callable[[Path], None]) -> None:
    """Generate the synthetic trust at `path` unless it exists; a lock file beside it makes
    concurrent commands wait for one of them to generate it."""
    if path.is_file():
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = open(path.with_name(f".{path.name}.lock"), "w")  # noqa: SIM115
    except OSError as error:
        raise DSNError(
            f"cannot create the synthetic trust at {path}: {error.strerror}; "
            f"set {DUMMY_DATA_VARIABLE} to a writable path"
        ) from None
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not path.is_file():
                generate(path)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def generate_synthetic_trust(path: Path) -> None:
    """Generate the small preset's synthetic trust at `path`, saying so on stderr."""
    import click

    from dummy_data.generate import generate_trust
    from dummy_data.writers import OutputError, open_writer
    from schema import load_schema

    click.echo(
        f"Generating the synthetic trust at {path} (first use; takes a few seconds). "
        f"Set {DUMMY_DATA_VARIABLE} to use another file.",
        err=True,
    )
    try:
        generate_trust(synthetic_trust_settings(), open_writer(str(path), load_schema()))
    except OutputError as error:
        raise DSNError(f"cannot create the synthetic trust: {error}") from None


def synthetic_trust_settings() -> GeneratorSettings:
    """Settings of the default synthetic trust (tests replace this to build a tiny one)."""
    from dummy_data.settings import preset

    return preset("small")
