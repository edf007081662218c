"""Absence by free school meals (FSM) and phase: the share of sessions missed and the share of
pupils persistently absent (10% or more of sessions missed), for FSM and other pupils in primary
(years 1-6) and secondary (years 7-11).

Disclosure controls (the OpenSAFELY rules) are applied by `tabulate` before anything is written:
counts of 7 or fewer are redacted and the rest rounded to the nearest 5; the sums of sessions
are redacted with a small group or when a few pupils make up most of them (dominance); the total
row and both rates are recomputed from what is shown. The table's description
(`absence_by_fsm_and_stage.csv.sdc.json`) says what each column is, for the disclosure checks
and the output checkers; the figure's description points at the table with its counts.
"""

import dataclasses
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from job_runner.disclosure.controls import round_to_base
from job_runner.disclosure.description import (
    ColumnDescription,
    Role,
    TableDescription,
    write_description,
)
from job_runner.disclosure.profiles import profile
from job_runner.disclosure.tabulate import tabulate

OUTPUT = Path("output")
TABLE = OUTPUT / "absence_by_fsm_and_stage.csv"
FIGURE = OUTPUT / "absence_by_fsm_and_stage.png"
RULES = profile("opensafely")
POPULATION = "pupils in years 1 to 11 on roll at the trust's schools on the autumn census day"

data = pd.read_feather(OUTPUT / "dataset.arrow")
fsm = data.fsm.map({True: "FSM", False: "not FSM"}).fillna("FSM unknown")
data["group"] = fsm + ", " + data.stage
data["persistently_absent"] = data.persistent_absence.eq(True)  # null without possible sessions

result = tabulate(
    data,
    by="group",
    statistics={
        "n_pupils": "count",
        "n_persistently_absent": ("persistently_absent", "sum"),
        "persistent_absence_share": ("persistently_absent", "mean"),
        "sessions_possible": ("sessions_possible", "sum"),
        "sessions_missed": ("sessions_missed", "sum"),
    },
    rules=RULES,
    description="Absence by FSM eligibility and phase, over the academic year: pupils, "
    "persistently absent pupils and their share, possible and missed sessions and the share "
    "of sessions missed",
    population=POPULATION,
    unit="pupil",
    margins=True,
)

# The share of sessions missed, from the (controlled) sums: shown only where both are.
table = result.table
table["absence_rate"] = (table.sessions_missed / table.sessions_possible).round(4)
table["persistent_absence_share"] = table.persistent_absence_share.round(4)
absence_rate = ColumnDescription(
    role=Role.RATE, numerator="sessions_missed", count="n_pupils", scale=1.0
)
description = result.description.model_copy(
    update={
        "columns": {**result.description.columns, "absence_rate": absence_rate},
        "population_size": int(round_to_base([len(data)], RULES.base)[0]),
    }
)
dataclasses.replace(result, table=table, description=description).write(TABLE)

plt.switch_backend("Agg")
shown = table[table.group != "Total"].set_index("group").astype(float)
figure, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
shown.absence_rate.plot.barh(ax=axes[0], color="tab:blue")
axes[0].set(title="Sessions missed", xlabel="share of possible sessions", ylabel="")
shown.persistent_absence_share.plot.barh(ax=axes[1], color="tab:orange")
axes[1].set(title="Persistently absent", xlabel="share of pupils")
figure.suptitle("Absence by FSM and phase (counts redacted at 7 or fewer, rounded to 5)")
figure.tight_layout()
figure.savefig(FIGURE, dpi=100)
write_description(
    FIGURE,
    TableDescription(
        description="Bar charts of the share of sessions missed and the share of pupils "
        "persistently absent, by FSM eligibility and phase",
        population=POPULATION,
        unit="pupil",
        controls=description.controls,
        counts_file=TABLE.name,
    ),
)
