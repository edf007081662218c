"""Absence by free school meals (FSM) and phase: the share of sessions missed and the share of
pupils persistently absent (10% or more of sessions missed), for FSM and other pupils in primary
(years 1-6) and secondary (years 7-11).

Disclosure controls (the OpenSAFELY rules) are applied before anything is written: counts of 7 or
fewer are redacted and the rest rounded to the nearest 5; a redacted group's session counts are
redacted with it; the total row and both rates are recomputed from the controlled counts.
"""

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from job_runner.disclosure.controls import recompute_totals, redact_small, round_to_base

OUTPUT = Path("output")
COUNTS = ["n_pupils", "n_persistently_absent", "n_sessions_possible", "n_sessions_missed"]


def control(counts: pd.Series) -> pd.Series:
    """Redact counts of 7 or fewer, round the rest to the nearest 5."""
    return round_to_base(redact_small(counts, threshold=7), base=5)


data = pd.read_feather(OUTPUT / "dataset.arrow")
fsm = data.fsm.map({True: "FSM", False: "not FSM"}).fillna("FSM unknown")
data["group"] = fsm + ", " + data.stage
data["persistently_absent"] = data.persistent_absence.eq(True)  # null without possible sessions

table = data.groupby("group").agg(
    n_pupils=("pupil_id", "size"),
    n_persistently_absent=("persistently_absent", "sum"),
    n_sessions_possible=("sessions_possible", "sum"),
    n_sessions_missed=("sessions_missed", "sum"),
)

controlled = table[COUNTS].apply(control)
controlled.loc[controlled.n_pupils.isna(), COUNTS] = pd.NA
controlled = recompute_totals(controlled, columns=COUNTS, axis="rows")
controlled["absence_rate"] = controlled.n_sessions_missed / controlled.n_sessions_possible
controlled["persistent_absence_share"] = controlled.n_persistently_absent / controlled.n_pupils
controlled.round(3).to_csv(OUTPUT / "absence_by_fsm_and_stage.csv", index_label="group")

plt.switch_backend("Agg")
shown = controlled.drop(index="Total").astype(float)
figure, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
shown.absence_rate.plot.barh(ax=axes[0], color="tab:blue")
axes[0].set(title="Sessions missed", xlabel="share of possible sessions", ylabel="")
shown.persistent_absence_share.plot.barh(ax=axes[1], color="tab:orange")
axes[1].set(title="Persistently absent", xlabel="share of pupils")
figure.suptitle("Absence by FSM and phase (counts redacted at 7 or fewer, rounded to 5)")
figure.tight_layout()
figure.savefig(OUTPUT / "absence_by_fsm_and_stage.png", dpi=100)
