"""Helpers for the isolation tests: write a dataset definition into a temporary folder."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

HEADER = """\
from ehrql_schools import create_dataset, get_parameter
from ehrql_schools.tables.schools import pupils

dataset = create_dataset()
dataset.define_population(pupils.exists_for_pupil())
"""


@pytest.fixture
def definition(tmp_path: Path) -> Callable[..., Path]:
    """`definition(body)` writes HEADER + body to tmp_path/analysis/dataset_definition.py."""

    def write(body: str, header: str = HEADER) -> Path:
        folder = tmp_path / "analysis"
        folder.mkdir(exist_ok=True)
        path = folder / "dataset_definition.py"
        path.write_text(header + textwrap.dedent(body))
        return path

    return write
