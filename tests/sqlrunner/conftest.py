"""A tiny synthetic trust in DuckDB for the sqlrunner tests, and a clean environment."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from dummy_data.settings import GeneratorSettings


def tiny_settings() -> GeneratorSettings:
    from dummy_data.settings import GeneratorSettings

    return GeneratorSettings(seed=5, trusts=1, schools=2, years=1)


@pytest.fixture(name="tiny_settings", scope="session")
def tiny_settings_fixture() -> GeneratorSettings:
    """The tiny trust's settings, to load the same trust into PostgreSQL."""
    return tiny_settings()


@pytest.fixture(scope="session")
def tiny_trust(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One trust, two schools, one year, in a DuckDB file."""
    from dummy_data.generate import generate_trust
    from dummy_data.writers import DuckDBWriter
    from schema import load_schema

    path = tmp_path_factory.mktemp("sqlrunner-trust") / "trust.duckdb"
    generate_trust(tiny_settings(), DuckDBWriter(path, load_schema()))
    return path


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No DSN from the environment; relative paths land in tmp_path."""
    for name in ("OSSCHOOLS_DSN", "OSSCHOOLS_DUMMY_DATA", "OSSCHOOLS_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
