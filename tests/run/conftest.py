from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "OSSCHOOLS_DSN",
        "OSSCHOOLS_DUMMY_DATA",
        "OSSCHOOLS_DEBUG",
        "OSSCHOOLS_DISCLOSURE_PROFILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def dummy_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the synthetic trust (small preset) goes; the first run that needs it makes it."""
    return tmp_path_factory.mktemp("trust") / "synthetic_trust.duckdb"
