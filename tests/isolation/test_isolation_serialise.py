"""The query model as JSON: round trips, size on shared sub-queries, and hostile input."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ehrql_schools import case, create_dataset, days, maximum_of, months, when
from ehrql_schools.engines.duckdb import DuckDBEngine
from ehrql_schools.query_language import compile_dataset
from ehrql_schools.query_model import nodes
from ehrql_schools.query_model.serialise import ALLOWED_CLASSES, SerialisationError, dumps, loads
from ehrql_schools.tables.schools import (
    assessment_results,
    class_memberships,
    exclusions,
    ks2_results,
    pupils,
    teachers,
)

ROOT = Path(__file__).resolve().parents[2]


def varied_dataset() -> nodes.Dataset:
    dataset = create_dataset()
    dataset.define_population(pupils.exists_for_pupil() & pupils.sex.is_in(["F", "M"]))
    dataset.born = pupils.date_of_birth.year
    dataset.age = (datetime.date(2024, 8, 31) - pupils.date_of_birth).years
    dataset.next_month = pupils.date_of_birth + months(1) + days(3)
    dataset.constant_float = 1.5
    dataset.constant_date = datetime.date(2024, 9, 1)
    dataset.constant_bool = True
    maths = assessment_results.where(assessment_results.assessment.subject == "maths")
    dataset.best = maths.result_percent.maximum_for_pupil()
    latest = maths.sort_by(maths.result_date).last_for_pupil()
    dataset.latest_set = latest.class_.set_rank
    dataset.band = case(
        when(dataset.best >= 70).then("high"), when(dataset.best >= 40).then("mid"), otherwise=None
    )
    dataset.worst = maximum_of(exclusions.count_for_pupil(), 0) // 2
    dataset.ks2 = ks2_results.sort_by(ks2_results.academic_year).first_for_pupil().scaled_score
    dataset.lesson_share = (
        class_memberships.sort_by(class_memberships.start_date).last_for_pupil().class_.lessons
    ).count()
    return compile_dataset(dataset)


def test_round_trip_gives_an_equal_model_and_the_same_sql():
    dataset = varied_dataset()
    copy = loads(dumps(dataset))
    assert copy == dataset
    engine = DuckDBEngine("duckdb:///:memory:")
    assert engine.get_sql(copy) == engine.get_sql(dataset)


def test_values_keep_their_types():
    for value in [1, 1.0, True, 0, False, -0.5, "1", datetime.date(2024, 2, 29)]:
        node = nodes.Value(value)
        copy = loads(dumps(node))
        assert copy == node
        assert type(copy.value) is type(value)
    assert loads(dumps(nodes.Value(datetime.time(12, 30)))).value == datetime.time(12, 30)
    assert loads(dumps(nodes.Value(None))).value is None
    assert loads(dumps(nodes.Value(float("inf")))).value == float("inf")


def test_tables_keep_their_column_types():
    table = pupils._table
    assert loads(dumps(table)) == table


def test_every_dataset_of_the_spec_tests_round_trips(tmp_path):
    # Runs the spec tests on the in-memory engine with a plugin that checks every dataset they
    # compile, plain and event-level: an equal model and the same DuckDB SQL after a round trip.
    report = tmp_path / "report.txt"
    report.touch()
    environment = {
        **os.environ,
        "ROUNDTRIP_REPORT": str(report),
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), str(ROOT)]),
    }
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:randomly", "-p", "no:xdist"]
    command += ["-p", "spec_roundtrip_plugin", "-k", "in_memory", "tests/spec"]
    result = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]
    lines = report.read_text().splitlines()
    assert len(lines) > 50
    seen = {name for line in lines for name in line.split()}
    # Every node type occurs in some spec test (a new node type needs a spec test anyway).
    assert set(ALLOWED_CLASSES) - seen == {"TableSchema"}


def test_a_200_variable_dataset_is_quick_and_small():
    dataset = create_dataset()
    dataset.define_population(pupils.exists_for_pupil())
    maths = assessment_results.where(assessment_results.assessment.subject == "maths")
    latest = maths.sort_by(maths.result_date, maths.result_percent).last_for_pupil()
    for i in range(200):
        setattr(dataset, f"v{i}", (latest.result_percent + i) * latest.class_.set_rank)
    model = compile_dataset(dataset)
    start = time.perf_counter()
    text = dumps(model)
    copy = loads(text)
    assert time.perf_counter() - start < 2
    assert copy == model
    # The shared frame is written once: about five objects per variable.
    assert len(json.loads(text)["objects"]) < 200 * 6
    assert len(text) < 200_000


def test_shared_sub_queries_are_written_once():
    # x + x doubles the tree each time but not the graph: 2**16 nodes as a tree, 19 in the graph.
    value = pupils.date_of_birth.year
    for _ in range(16):
        value = value + value
    dataset = create_dataset()
    dataset.define_population(pupils.exists_for_pupil())
    dataset.v = value
    text = dumps(compile_dataset(dataset))
    assert len(json.loads(text)["objects"]) < 25
    copy = loads(text).variables[0][1]
    assert copy.lhs is copy.rhs


# Hostile input


def payload(*objects, root=None):
    return json.dumps(
        {
            "format": "ehrql_schools.query_model",
            "version": 1,
            "root": len(objects) - 1 if root is None else root,
            "objects": list(objects),
        }
    )


def reject(text, message):
    with pytest.raises(SerialisationError, match=message):
        loads(text)


@pytest.mark.parametrize("name", ["os.system", "subprocess.Popen", "builtins.eval", "Domain"])
def test_unknown_classes_are_rejected(name):
    reject(payload([name, {"command": "touch /tmp/pwned"}]), "is not a query model node type")


def test_abstract_node_classes_are_not_allowed():
    for name in ["Node", "Series", "Frame", "Aggregate", "Function", "Comparison"]:
        assert name not in ALLOWED_CLASSES


@pytest.mark.parametrize("name", ["builtins.eval", "os.system", "builtins.type", "builtins.object"])
def test_types_outside_the_value_types_are_rejected(name):
    table = {"name": "t", "entity": "pupil", "one_row_per_entity": True}
    table["columns"] = [["pupil_id", {"type": name}]]
    reject(payload(["TableSchema", table]), "is not an allowed type")


def test_unknown_missing_and_wrongly_typed_fields_are_rejected():
    reject(payload(["Value", {"value": 1, "extra": 2}]), "unknown fields: extra")
    reject(payload(["Not", {}]), "missing fields: source")
    reject(payload(["Value", {"value": 1}], ["Not", {"source": 1}]), "field source should be")
    reject(payload(["Value", [1]]), "not a \\[class name")
    reject(payload(["Value", {"value": 1}], ["Value", {"value": 2}], "extra"), "not a \\[class")


def test_nodes_check_themselves_again():
    # Comparing a date with a number is not a valid node, however it is written.
    date, number = ["Value", {"value": {"date": "2024-01-01"}}], ["Value", {"value": 1}]
    lt = ["LT", {"lhs": {"ref": 0}, "rhs": {"ref": 1}}]
    reject(payload(date, number, lt), "not a valid node: cannot compare a date with an integer")
    reject(payload(["Value", {"value": {"tuple": []}}]), "is not a value")


def test_references_must_point_backwards():
    reject(payload(["Not", {"source": {"ref": 0}}]), "does not refer to an earlier object")
    reject(payload(["Not", {"source": {"ref": 5}}]), "does not refer to an earlier object")
    reject(payload(["Value", {"value": 1}], root=3), "root 3 is not the index")


@pytest.mark.parametrize(
    "text",
    ["", "{", "[]", '{"format": "pickle"}', "[" * 100_000 + "]" * 100_000, b"\xff\xfe"],
)
def test_malformed_text_is_rejected(text):
    with pytest.raises(SerialisationError):
        loads(text)


def test_wrong_version_is_rejected():
    text = payload(["Value", {"value": 1}]).replace('"version": 1', '"version": 2')
    reject(text, "version 2 cannot be read")


def test_only_query_models_can_be_written():
    with pytest.raises(SerialisationError):
        dumps(object())
    with pytest.raises(SerialisationError):
        dumps(teachers)
