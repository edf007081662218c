"""Progress in maths by the share of the maths class's lessons that start after noon.

Each pupil's summer maths result is standardised within its assessment (schools use different
scales); progress is the part of it that KS2 maths does not predict (a straight-line fit), in
standard deviations. Pupils without KS2 (year 10 in 2024/25) or a summer result are left out.
The table gives, per band of afternoon share, the pupils and classes and their mean progress.

Disclosure controls (the OpenSAFELY rules), by `tabulate`: counts of 7 or fewer are redacted and
the rest rounded to the nearest 5; a band's mean progress is redacted with its count of pupils
(or when a few pupils dominate it); the total row is recomputed from the bands shown. The
classes per band are controlled the same way. Each output has its description beside it
(`<file>.sdc.json`) for the disclosure checks and the output checkers.
"""

import dataclasses
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from job_runner.disclosure.controls import control_counts, round_to_base
from job_runner.disclosure.description import (
    ColumnDescription,
    Role,
    TableDescription,
    write_description,
)
from job_runner.disclosure.profiles import profile
from job_runner.disclosure.tabulate import tabulate

OUTPUT = Path("output")
TABLE = OUTPUT / "progress_by_afternoon_share.csv"
FIGURE = OUTPUT / "progress_by_afternoon_share.png"
RULES = profile("opensafely")
BANDS = [0, 0.2, 0.4, 0.6, 0.8, 1]
LABELS = ["0-20%", "20-40%", "40-60%", "60-80%", "80-100%"]
POPULATION = (
    "pupils in years 7 to 10 on roll on the autumn census day with a maths class, a KS2 maths "
    "result and a summer maths result"
)

data = pd.read_feather(OUTPUT / "dataset.arrow")
data = data.dropna(subset=["ks2_maths", "summer_maths_percent", "afternoon_share"])
by_assessment = data.groupby("summer_maths_assessment_id").summer_maths_percent
data["z"] = (data.summer_maths_percent - by_assessment.transform("mean")) / by_assessment.transform(
    "std"
)
data = data.dropna(subset=["z"])
slope, intercept = np.polyfit(data.ks2_maths, data.z, 1)
data["progress"] = data.z - (intercept + slope * data.ks2_maths)
data["afternoon_band"] = pd.cut(data.afternoon_share, BANDS, labels=LABELS, include_lowest=True)

result = tabulate(
    data,
    by="afternoon_band",
    statistics={"n_pupils": "count", "mean_progress": ("progress", "mean")},
    rules=RULES,
    description="Mean maths progress (SD of the summer result beyond what KS2 maths predicts) "
    "by the share of the maths class's lessons starting at or after 12:00",
    population=POPULATION,
    unit="pupil",
    margins=True,
)

# Classes per band, a count of another unit: controlled as a count, redacted with the band's
# pupils, the total the sum of the bands shown.
table = result.table
classes = data.groupby("afternoon_band", observed=False).maths_class_id.nunique()
classes, _ = control_counts(classes.rename(str), RULES)
bands = table.afternoon_band.astype(str)
table["n_classes"] = bands.map(classes).where(table.n_pupils.notna()).astype("Int64")
is_total = bands == "Total"
table.loc[is_total, "n_classes"] = table.n_classes[~is_total].sum(min_count=1)
table["mean_progress"] = table.mean_progress.round(3)
table = table[["afternoon_band", "n_pupils", "n_classes", "mean_progress"]]
n_classes = ColumnDescription(role=Role.COUNT, rounding=RULES.base)
description = result.description.model_copy(
    update={
        "columns": {**result.description.columns, "n_classes": n_classes},
        "population_size": int(round_to_base([len(data)], RULES.base)[0]),
    }
)
dataclasses.replace(result, table=table, description=description).write(TABLE)

plt.switch_backend("Agg")
shown = table[~is_total].dropna(subset=["mean_progress"])
figure, axis = plt.subplots(figsize=(7, 4))
axis.bar(shown.afternoon_band.astype(str), shown.mean_progress, color="tab:purple")
axis.axhline(0, color="grey", linewidth=0.8)
axis.set(
    title="Maths progress by share of lessons after noon",
    xlabel="share of the class's maths lessons starting at or after 12:00",
    ylabel="mean progress (SD, relative to KS2)",
)
figure.tight_layout()
figure.savefig(FIGURE, dpi=100)
write_description(
    FIGURE,
    TableDescription(
        description="Bar chart of the mean maths progress by the share of the maths class's "
        "lessons starting at or after 12:00",
        population=POPULATION,
        unit="pupil",
        controls=description.controls,
        counts_file=TABLE.name,
    ),
)
