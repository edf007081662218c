"""Who teaches the top and the bottom maths sets? Per third of the set order (top, middle, bottom
third, by the set's position among its year group's sets), the sets and their pupils, and what the
data say about the teacher of each single-teacher set: years since QTS and whether they are early
in their career (no QTS, or QTS less than three years before), and the share of lessons covered.

The unit is the set: each set counts once, however many pupils it has.

Disclosure controls (the OpenSAFELY rules): counts of 7 or fewer are redacted and the rest rounded
to the nearest 5; the shares are recomputed from the controlled counts, the means are redacted
with the counts they are taken over, and the total row is the sum of the controlled counts.
"""

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from job_runner.disclosure.controls import recompute_totals, redact_small, round_to_base

OUTPUT = Path("output")
THIRDS = ["top third", "middle third", "bottom third"]


def control(counts: pd.Series) -> pd.Series:
    """Redact counts of 7 or fewer, round the rest to the nearest 5."""
    return round_to_base(redact_small(counts, threshold=7), base=5)


pupils = pd.read_feather(OUTPUT / "dataset.arrow")
pupils["third"] = pd.cut(
    pupils.set_position, [0, 1 / 3, 2 / 3, 1], labels=THIRDS, include_lowest=True
)
sets = pupils.groupby("maths_class_id").agg(
    third=("third", "first"),
    pupils=("pupil_id", "size"),
    single_teacher=("maths_class_teachers", lambda teachers: (teachers == 1).all()),
    qts_status=("teacher_qts_status", "first"),
    years_since_qts=("teacher_years_since_qts", "first"),
    cover_share=("cover_share", "first"),
)
single = sets[sets.single_teacher]
early_career = (single.qts_status == "none") | (single.years_since_qts < 3)

by_third = sets.groupby("third", observed=False)
counts = pd.DataFrame(
    {
        "n_sets": by_third.size(),
        "n_pupils": by_third.pupils.sum(),
        "n_single_teacher_sets": single.groupby("third", observed=False).size(),
        "n_early_career_teacher": early_career.groupby(single.third, observed=False).sum(),
    }
).apply(control)
counts.index = counts.index.astype(str)
table = recompute_totals(counts, axis="rows")
table["early_career_share"] = table.n_early_career_teacher / table.n_single_teacher_sets

means = pd.DataFrame(
    {
        "mean_years_since_qts": single.groupby("third", observed=False).years_since_qts.mean(),
        "mean_cover_share": by_third.cover_share.mean(),
    }
).rename(str)
means.loc["Total"] = [single.years_since_qts.mean(), sets.cover_share.mean()]
table["mean_years_since_qts"] = means.mean_years_since_qts.where(
    table.n_single_teacher_sets.notna()
)
table["mean_cover_share"] = means.mean_cover_share.where(table.n_sets.notna())
table.round(3).to_csv(OUTPUT / "teachers_by_set_position.csv", index_label="set_position")

plt.switch_backend("Agg")
shown = table.drop(index="Total").astype(float)
figure, axes = plt.subplots(1, 2, figsize=(10, 4), sharex=True)
shown.mean_years_since_qts.plot.bar(ax=axes[0], color="tab:green", rot=0)
axes[0].set(title="Teacher's years since QTS", ylabel="mean over single-teacher sets", xlabel="")
shown.early_career_share.plot.bar(ax=axes[1], color="tab:red", rot=0)
axes[1].set(title="Early-career teacher", ylabel="share of single-teacher sets", xlabel="")
figure.suptitle("Maths sets in years 7-9 by position (counts redacted at 7 or fewer, rounded to 5)")
figure.tight_layout()
figure.savefig(OUTPUT / "teachers_by_set_position.png", dpi=100)
