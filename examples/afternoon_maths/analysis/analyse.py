"""Progress in maths by the share of the maths class's lessons that start after noon.

Each pupil's summer maths result is standardised within its assessment (schools use different
scales); progress is the part of it that KS2 maths does not predict (a straight-line fit), in
standard deviations. Pupils without KS2 (year 10 in 2024/25) or a summer result are left out.
The table gives, per band of afternoon share, the pupils and classes and their mean progress.

Disclosure controls (the OpenSAFELY rules): counts of 7 or fewer are redacted and the rest rounded
to the nearest 5; a band whose pupils are redacted has its mean progress redacted too; the total
row is the sum of the controlled counts.
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from job_runner.disclosure.controls import recompute_totals, redact_small, round_to_base

OUTPUT = Path("output")
BANDS = [0, 0.2, 0.4, 0.6, 0.8, 1]
LABELS = ["0-20%", "20-40%", "40-60%", "60-80%", "80-100%"]


def control(counts: pd.Series) -> pd.Series:
    """Redact counts of 7 or fewer, round the rest to the nearest 5."""
    return round_to_base(redact_small(counts, threshold=7), base=5)


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

bands = data.groupby("afternoon_band", observed=False)
counts = bands.agg(n_pupils=("pupil_id", "size"), n_classes=("maths_class_id", "nunique"))
counts = counts.apply(control)
counts.loc[counts.n_pupils.isna(), "n_classes"] = pd.NA
counts.index = counts.index.astype(str)
table = recompute_totals(counts, axis="rows")
shown = table.index[table.n_pupils.notna()]
mean_progress = bands.progress.mean().rename(str)
mean_progress["Total"] = data.progress[data.afternoon_band.isin(shown)].mean()
table["mean_progress"] = mean_progress.where(table.n_pupils.notna())
table.round(3).to_csv(OUTPUT / "progress_by_afternoon_share.csv", index_label="afternoon_share")

plt.switch_backend("Agg")
shown = table.drop(index="Total").dropna(subset=["mean_progress"])
figure, axis = plt.subplots(figsize=(7, 4))
axis.bar(shown.index, shown.mean_progress, color="tab:purple")
axis.axhline(0, color="grey", linewidth=0.8)
axis.set(
    title="Maths progress by share of lessons after noon",
    xlabel="share of the class's maths lessons starting at or after 12:00",
    ylabel="mean progress (SD, relative to KS2)",
)
figure.tight_layout()
figure.savefig(OUTPUT / "progress_by_afternoon_share.png", dpi=100)
