"""The backbone of a synthetic trust: schools, calendars, pupils and their enrolments.

Every table family (attendance, workforce and timetable, assessments) is generated from a
`Backbone`. Frames hold the schema's columns for their table plus latent columns whose names start
with `_`; the latent columns carry the planted truth between families and are never written to the
output tables.

Frames and their latent columns:
- `schools`: schema columns of `schools`, plus `_effect` (school effect on scores, SD units).
- `pupils`: schema columns of `pupils`, plus `_ability` (latent ability, N(0, 1) before the group
  shifts).
- `enrolments`: schema columns of `enrolments` (one row per pupil spell in a school in an academic
  year), plus, for that pupil in that year:
    `_phase` (the school's phase), `_trust_id`, `_fsm` (bool), `_sen` ("N", "K" or "E"),
    `_eal` (bool), `_looked_after` (bool), `_ability` (latent ability including group shifts),
    `_absence_rate` (the planted share of possible sessions missed over a whole year, 0..1).
  Sorted by school_id, academic_year, pupil_id.
- `calendars`: one `SchoolCalendar` per (trust_id, academic_year); every school in a trust shares
  it.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dummy_data.settings import GeneratorSettings


def random_stream(seed: int, *keys: object) -> np.random.Generator:
    """A random generator determined by the seed and the keys alone (never by call order).

    Each part of the trust draws from its own stream, e.g.
    `random_stream(seed, "attendance", school_id, academic_year)`, so the data do not depend on the
    order in which parts are generated.
    """
    key_hash = zlib.crc32("/".join(map(str, keys)).encode())
    return np.random.default_rng([seed, key_hash])


@dataclass(frozen=True)
class SchoolCalendar:
    """The open days of one academic year for a trust's schools."""

    academic_year: int
    open_dates: np.ndarray  # datetime64[D], sorted: every day the schools are open (about 190)
    terms: np.ndarray  # int8 per open date: 0 autumn, 1 spring, 2 summer
    census_dates: tuple[np.datetime64, np.datetime64, np.datetime64]  # October, January, May

    @property
    def first_day(self) -> np.datetime64:
        return np.datetime64(f"{self.academic_year}-09-01")

    @property
    def last_day(self) -> np.datetime64:
        return np.datetime64(f"{self.academic_year + 1}-08-31")


@dataclass(frozen=True)
class Backbone:
    settings: GeneratorSettings
    schools: pd.DataFrame
    pupils: pd.DataFrame
    enrolments: pd.DataFrame
    pupil_characteristics: pd.DataFrame
    calendars: dict[tuple[int, int], SchoolCalendar]

    def calendar(self, trust_id: int, academic_year: int) -> SchoolCalendar:
        return self.calendars[(trust_id, academic_year)]
