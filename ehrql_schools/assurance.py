"""Assurance tests: check a dataset definition against small, hand-written data.

A test file defines `dataset` (or imports it from the definition) and `test_data`, keyed by pupil
id (teacher id for a teacher dataset):

    test_data = {
        1: {
            "pupils": {"sex": "F", "date_of_birth": "2011-02-03"},
            "enrolments": [{"school_id": 10, "start_date": "2024-09-01", "year_group": "9"}],
            "expected_in_population": True,
            "expected_columns": {"sex": "F", "maths_set": 2},
        },
        2: {"pupils": {"sex": "M"}, "expected_in_population": False},
    }

Each pupil's entry gives rows of tables, by table name: one dict for a one-row-per-pupil table, a
list of dicts for the others. The pupil id is filled in; columns left out are null; dates are
"YYYY-MM-DD" and times "HH:MM". Rows of reference tables (`schools`, `classes`, `lessons`...) and
of the other entity's tables may be given under any pupil: they are shared by all.
`expected_in_population` defaults to True; `expected_columns` lists only the columns to check.
The dataset runs on the in-memory reference engine.
"""

from __future__ import annotations

import datetime
import difflib
import math
import runpy
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ehrql_schools.engines.in_memory import InMemoryEngine
from ehrql_schools.query_language import Dataset, compile_dataset, set_parameters
from ehrql_schools.query_model import nodes
from ehrql_schools.query_model.nodes import TableSchema, type_name
from ehrql_schools.tables import schools as declarations

EXPECTED_IN_POPULATION = "expected_in_population"
EXPECTED_COLUMNS = "expected_columns"


class AssuranceError(Exception):
    """The test file is malformed; the message lists every problem found."""


@dataclass
class AssuranceResult:
    """The outcome of checking a dataset against its test data."""

    entity: str
    checked: int
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        entities = f"{self.checked} {self.entity}{'' if self.checked == 1 else 's'}"
        if self.ok:
            return f"All OK: {entities} checked"
        failed = len({line.split(":")[0] for line in self.failures})
        return f"{failed} of {entities} failed"


def run_test_file(path: Path, parameters: Mapping[str, str] | None = None) -> AssuranceResult:
    """Run the test file and check its `dataset` against its `test_data`."""
    set_parameters(dict(parameters or {}))
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)  # so the file can import the definition beside it
    try:
        namespace = runpy.run_path(str(path), run_name="assurance_test")
    finally:
        if folder in sys.path:
            sys.path.remove(folder)
    dataset = namespace.get("dataset")
    if not isinstance(dataset, Dataset):
        raise AssuranceError(
            f"{path} has no dataset: define `dataset` or import it from the definition "
            "(from my_definition import dataset)"
        )
    test_data = namespace.get("test_data")
    if not isinstance(test_data, Mapping):
        raise AssuranceError(
            f"{path} has no test_data: define test_data = {{1: {{'pupils': {{...}}, ...}}, ...}}"
        )
    return check_dataset(compile_dataset(dataset), test_data)


def tables_by_name() -> dict[str, TableSchema]:
    return {name: getattr(declarations, name)._table for name in declarations.__all__}


def check_dataset(dataset: nodes.Dataset, test_data: Mapping[Any, Any]) -> AssuranceResult:
    """Check the dataset against `test_data` on the in-memory engine."""
    entity = dataset.entity
    tables, expectations = build_tables(entity, test_data, dict(dataset.variables))
    results: dict[Any, tuple] = {}
    for batch in InMemoryEngine(tables).get_results(dataset):
        for row in batch:
            results[row[0]] = row[1:]
    names = [name for name, _ in dataset.variables]
    result = AssuranceResult(entity, checked=len(test_data))
    for entity_id, (in_population, columns) in expectations.items():
        where = f"{entity} {entity_id}"
        if entity_id not in results:
            if in_population:
                result.failures.append(f"{where}: expected in the population, but is not")
            continue
        if not in_population:
            result.failures.append(f"{where}: expected not in the population, but is")
            continue
        values = dict(zip(names, results[entity_id], strict=True))
        for name, expected in columns.items():
            if not same(expected, values[name]):
                result.failures.append(
                    f"{where}: column {name} expected {show(expected)}, got {show(values[name])}"
                )
    return result


def build_tables(
    entity: str, test_data: Mapping[Any, Any], variables: Mapping[str, nodes.Series]
) -> tuple[dict[str, list[dict[str, Any]]], dict[Any, tuple[bool, dict[str, Any]]]]:
    """The tables for the in-memory engine and, per entity, (in population?, expected columns).

    Every problem with the test data is collected and raised together as an AssuranceError.
    """
    schemas = tables_by_name()
    problems: list[str] = []
    tables: dict[str, list[dict[str, Any]]] = {}
    expectations: dict[Any, tuple[bool, dict[str, Any]]] = {}
    for entity_id, entry in test_data.items():
        where = f"{entity} {entity_id}"
        if not isinstance(entity_id, int) or isinstance(entity_id, bool):
            problems.append(f"{where}: the keys of test_data are {entity} ids (integers)")
            continue
        if not isinstance(entry, Mapping):
            problems.append(f"{where}: give a dict of tables and expectations")
            continue
        in_population = entry.get(EXPECTED_IN_POPULATION, True)
        if not isinstance(in_population, bool):
            problems.append(f"{where}: {EXPECTED_IN_POPULATION} must be True or False")
        expected = entry.get(EXPECTED_COLUMNS, {})
        if not isinstance(expected, Mapping):
            problems.append(f"{where}: {EXPECTED_COLUMNS} must be a dict of column: value")
            expected = {}
        if in_population is False and expected:
            problems.append(f"{where}: {EXPECTED_COLUMNS} given, but not expected in population")
        columns = {}
        for name, value in expected.items():
            if name not in variables:
                problems.append(
                    f"{where}: the dataset has no column {name}{_nearest(name, variables)}"
                )
                continue
            try:
                columns[name] = convert(value, variables[name].type)
            except ValueError as error:
                problems.append(f"{where}: {EXPECTED_COLUMNS} {name}: {error}")
        expectations[entity_id] = (in_population is not False, columns)
        for name, rows in entry.items():
            if name in (EXPECTED_IN_POPULATION, EXPECTED_COLUMNS):
                continue
            if name not in schemas:
                known = [*schemas, EXPECTED_IN_POPULATION, EXPECTED_COLUMNS]
                problems.append(f"{where}: there is no table {name}{_nearest(name, known)}")
                continue
            table = tables.setdefault(name, [])
            for row in _rows_of(rows, schemas[name], entity, entity_id, where, problems):
                if schemas[name].entity == entity or row not in table:
                    table.append(row)
    if problems:
        raise AssuranceError("the test data has problems:\n  " + "\n  ".join(problems))
    return tables, expectations


def _rows_of(
    given: Any,
    table: TableSchema,
    entity: str,
    entity_id: int,
    where: str,
    problems: list[str],
) -> list[dict[str, Any]]:
    own = table.entity == entity
    if isinstance(given, Mapping):
        given = [given]
    if not isinstance(given, Sequence) or not all(isinstance(row, Mapping) for row in given):
        problems.append(f"{where}: {table.name} must be a dict (one row) or a list of dicts")
        return []
    if own and table.one_row_per_entity and len(given) > 1:
        problems.append(f"{where}: {table.name} has one row per {entity}; give one dict")
    types = dict(table.columns)
    rows = []
    for given_row in given:
        row: dict[str, Any] = dict.fromkeys(types)
        for name, value in given_row.items():
            if name not in types:
                problems.append(
                    f"{where}: table {table.name} has no column {name}{_nearest(name, types)}"
                )
                continue
            try:
                row[name] = convert(value, types[name])
            except ValueError as error:
                problems.append(f"{where}: {table.name}.{name}: {error}")
        if own:
            key = table.entity_key
            if row[key] not in (None, entity_id):
                problems.append(f"{where}: {table.name}.{key} is {row[key]}; leave it out")
            row[key] = entity_id
        rows.append(row)
    return rows


def convert(value: Any, type_: type) -> Any:
    """The value as the column's type: dates from "YYYY-MM-DD", times from "HH:MM"."""
    if value is None:
        return None
    if type_ in (datetime.date, datetime.time) and isinstance(value, str):
        try:
            return type_.fromisoformat(value)
        except ValueError:
            form = "YYYY-MM-DD" if type_ is datetime.date else "HH:MM"
            raise ValueError(f"expected a {type_name(type_)} as {form}, got {value!r}") from None
    if type_ is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if type_ is datetime.date and isinstance(value, datetime.datetime):
        raise ValueError(f"expected a date, got a datetime {value!r}")
    if not isinstance(value, type_) or (type_ is int and isinstance(value, bool)):
        raise ValueError(f"expected {nodes.a_type(type_)}, got {value!r}")
    return value


def same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, float) and isinstance(actual, float):
        return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-12)
    if expected is None or actual is None:
        return expected is actual
    return type(expected) is type(actual) and expected == actual


def show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


def _nearest(name: str, names: Any) -> str:
    close = difflib.get_close_matches(str(name), [str(n) for n in names], n=1)
    return f"; did you mean {close[0]}?" if close else ""
