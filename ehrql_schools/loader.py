"""Load a researcher's dataset definition file and compile it to the query model."""

from __future__ import annotations

import runpy
from collections.abc import Mapping
from pathlib import Path

from ehrql_schools.query_language import (
    Dataset,
    QueryError,
    compile_dataset,
    set_parameters,
)
from ehrql_schools.query_model import nodes


def load_dataset_definition(
    path: Path, parameters: Mapping[str, str] | None = None
) -> nodes.Dataset:
    """Run the definition file with `parameters` and compile its `dataset` variable."""
    set_parameters(dict(parameters or {}))
    if not path.is_file():
        raise QueryError(f"no dataset definition at {path}")
    namespace = runpy.run_path(str(path), run_name="dataset_definition")
    dataset = namespace.get("dataset")
    if not isinstance(dataset, Dataset):
        raise QueryError(
            f"{path} defines no dataset: assign `dataset = create_dataset()` at the top level"
        )
    return compile_dataset(dataset)
