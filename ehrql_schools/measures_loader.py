"""Load a researcher's measures definition file and compile it to a measures model."""

from __future__ import annotations

import runpy
from collections.abc import Mapping
from pathlib import Path

from ehrql_schools.measures import Measures, MeasuresModel, compile_measures
from ehrql_schools.query_language import QueryError, set_parameters


def load_measures_definition(
    path: Path, parameters: Mapping[str, str] | None = None
) -> MeasuresModel:
    """Run the definition file with `parameters` and compile its `measures` variable."""
    set_parameters(dict(parameters or {}))
    path = Path(path)
    if not path.is_file():
        raise QueryError(f"no measures definition at {path}")
    namespace = runpy.run_path(str(path), run_name="measures_definition")
    measures = namespace.get("measures")
    if not isinstance(measures, Measures):
        raise QueryError(
            f"{path} defines no measures: assign `measures = create_measures()` at the top level"
        )
    return compile_measures(measures)
