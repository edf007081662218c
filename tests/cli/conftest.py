"""Fixtures shared by the command line tests: a tiny synthetic trust, and a clean environment."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from dummy_data.settings import GeneratorSettings


def tiny_trust_settings() -> GeneratorSettings:
    """The settings of the tiny synthetic trust."""
    from dummy_data.settings import GeneratorSettings

    return GeneratorSettings(seed=3, trusts=1, schools=2, years=1)


@pytest.fixture
def tiny_settings() -> Callable[[], GeneratorSettings]:
    """A function giving the tiny trust's settings (to stand in for the synthetic trust's)."""
    return tiny_trust_settings


@pytest.fixture(scope="session")
def tiny_trust(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny synthetic trust in DuckDB: one trust, two schools, one year."""
    from dummy_data.generate import generate_trust
    from dummy_data.writers import DuckDBWriter
    from schema import load_schema

    path = tmp_path_factory.mktemp("trust") / "trust.duckdb"
    generate_trust(tiny_trust_settings(), DuckDBWriter(path, load_schema()))
    return path


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No DSN from the environment; the default synthetic trust would be built under tmp_path."""
    for name in ("OSSCHOOLS_DSN", "OSSCHOOLS_DUMMY_DATA", "OSSCHOOLS_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
