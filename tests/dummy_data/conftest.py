from pathlib import Path

import duckdb
import pytest


@pytest.fixture(scope="session")
def small_trust(tmp_path_factory) -> Path:
    """A small synthetic trust in DuckDB: two trusts, primaries and secondaries, two years."""
    from dummy_data.generate import generate_trust
    from dummy_data.settings import GeneratorSettings
    from dummy_data.writers import DuckDBWriter
    from schema import load_schema

    path = tmp_path_factory.mktemp("trust") / "trust.duckdb"
    settings = GeneratorSettings(seed=7, trusts=2, schools=8, years=2)
    generate_trust(settings, DuckDBWriter(path, load_schema()))
    return path


@pytest.fixture
def trust_db(small_trust):
    connection = duckdb.connect(str(small_trust), read_only=True)
    yield connection
    connection.close()
