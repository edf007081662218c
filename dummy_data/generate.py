"""Generate a whole synthetic trust, table family by table family, into a writer."""

from __future__ import annotations

import json
import queue
import threading
from collections import Counter
from collections.abc import Callable, Iterator

import pandas as pd
import pyarrow as pa
from pydantic import BaseModel

from dummy_data.assessments import generate_assessments
from dummy_data.attendance import generate_attendance
from dummy_data.behaviour import generate_behaviour
from dummy_data.build_backbone import build_backbone
from dummy_data.settings import GeneratorSettings
from dummy_data.timetable import build_timetable, generate_lessons
from dummy_data.workforce import build_workforce
from dummy_data.writers import TrustWriter

Batch = pa.Table | pd.DataFrame
StageCallback = Callable[[str], None]


def trust_batches(
    settings: GeneratorSettings, on_stage: StageCallback = print
) -> Iterator[tuple[str, Batch]]:
    """Every table of the trust as (table name, batch) pairs, in a fixed order."""
    on_stage("pupils and enrolments")
    backbone = build_backbone(settings)
    yield "schools", backbone.schools
    yield "pupils", backbone.pupils
    yield "enrolments", backbone.enrolments
    yield "pupil_characteristics", backbone.pupil_characteristics
    on_stage("teachers and timetables")
    workforce = build_workforce(backbone)
    timetable = build_timetable(backbone, workforce)
    yield "teachers", workforce.teachers
    yield "teacher_contracts", workforce.teacher_contracts
    yield "periods", timetable.periods
    yield "classes", timetable.classes
    yield "class_memberships", timetable.class_memberships
    yield "class_teachers", timetable.class_teachers
    on_stage("lessons")
    yield from generate_lessons(backbone, workforce, timetable)
    on_stage("behaviour")
    yield from generate_behaviour(backbone, workforce, timetable)
    on_stage("attendance")
    yield from generate_attendance(backbone)
    on_stage("assessments")
    yield from generate_assessments(backbone, workforce, timetable)
    on_stage("settings and planted effects")
    yield "dummy_data_settings", settings_rows(settings)
    yield "dummy_data_school_effects", backbone.schools.rename(columns={"_effect": "effect"})
    yield "dummy_data_teacher_effects", workforce.teacher_effects


def settings_rows(settings: GeneratorSettings) -> pd.DataFrame:
    """One row per setting (nested ones as dotted paths), with its value as JSON and description."""
    rows = []

    def walk(model: BaseModel, prefix: str) -> None:
        for name, field in type(model).model_fields.items():
            value = getattr(model, name)
            if isinstance(value, BaseModel):
                walk(value, f"{prefix}{name}.")
                continue
            plain = (
                {k: v.model_dump() if isinstance(v, BaseModel) else v for k, v in value.items()}
                if isinstance(value, dict)
                else value
            )
            rows.append((f"{prefix}{name}", json.dumps(plain, sort_keys=True), field.description))

    walk(settings, "")
    return pd.DataFrame(rows, columns=["setting", "value", "description"])


class _BackgroundWriter:
    """Feeds a writer from a bounded queue on its own thread, so generating and writing overlap.

    One thread writes, in the order batches arrive, so the output does not depend on timing.
    """

    _DONE = object()

    def __init__(self, writer: TrustWriter, depth: int = 3) -> None:
        self.writer = writer
        self.queue: queue.Queue = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="trust-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (item := self.queue.get()) is not self._DONE:
            if self.error is None:
                try:
                    self.writer.write(*item)
                except BaseException as error:  # handed to the generating thread
                    self.error = error

    def put(self, table: str, batch: Batch) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put((table, batch))

    def finish(self) -> None:
        self.stop()
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        if self.thread.is_alive():
            self.queue.put(self._DONE)
            self.thread.join()


def generate_trust(
    settings: GeneratorSettings,
    writer: TrustWriter,
    *,
    on_stage: StageCallback = lambda stage: None,
    on_rows: Callable[[str, int], None] = lambda table, rows: None,
) -> Counter[str]:
    """Generate the trust into the writer and commit it; on any failure abort, leaving nothing."""
    rows: Counter[str] = Counter()
    background = _BackgroundWriter(writer)
    try:
        for table, batch in trust_batches(settings, on_stage):
            background.put(table, batch)
            rows[table] += len(batch)
            on_rows(table, rows[table])
        on_stage("writing")
        background.finish()
        writer.commit()
    except BaseException:
        background.stop()
        writer.abort()
        raise
    return rows
