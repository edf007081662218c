"""Who teaches the top and the bottom maths sets? Per third of the set order (top, middle, bottom
third, by the set's position among its year group's sets), the sets and their pupils, and what the
data say about the teacher of each single-teacher set: years since QTS and whether they are early
in their career (no QTS, or QTS less than three years before), and the share of lessons covered.

The unit is the set: each set counts once, however many pupils it has.

Disclosure controls (the OpenSAFELY rules), by `tabulate`: counts of 7 or fewer are redacted and
the rest rounded to the nearest 5; the shares are recomputed from the controlled counts, the
means are redacted with the counts they are taken over (or when a few sets dominate them), and
the total row is recomputed from the thirds shown. The pupils per third are controlled the same
way. Each output has its description beside it (`<file>.sdc.json`).
"""

import dataclasses
from pathlib import Path

import matplotlib.pyplot as plt
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
TABLE = OUTPUT / "teachers_by_set_position.csv"
FIGURE = OUTPUT / "teachers_by_set_position.png"
RULES = profile("opensafely")
THIRDS = ["top third", "middle third", "bottom third"]
POPULATION = "maths sets in years 7 to 9 on the autumn census day"

pupils = pd.read_feather(OUTPUT / "dataset.arrow")
pupils["third"] = pd.cut(
    pupils.set_position, [0, 1 / 3, 2 / 3, 1], labels=THIRDS, include_lowest=True
)
sets = pupils.groupby("maths_class_id").agg(
    third=("third", "first"),
    pupils=("pupil_id", "size"),
    single_teacher=("maths_class_teachers", lambda teachers: bool((teachers == 1).all())),
    qts_status=("teacher_qts_status", "first"),
    years_since_qts=("teacher_years_since_qts", "first"),
    cover_share=("cover_share", "first"),
)
# What the data say about the teacher, for single-teacher sets only (null for the others).
single = sets.single_teacher
early_career = (sets.qts_status == "none") | (sets.years_since_qts < 3)
sets["early_career"] = early_career.astype(float).where(single)
sets["years_since_qts"] = sets.years_since_qts.where(single)
sets["single_teacher"] = single.astype(float)

result = tabulate(
    sets,
    by="third",
    statistics={
        "n_sets": "count",
        "n_single_teacher_sets": ("single_teacher", "sum"),
        "n_early_career_teacher": ("early_career", "sum"),
        "early_career_share": ("early_career", "mean"),
        "mean_years_since_qts": ("years_since_qts", "mean"),
        "mean_cover_share": ("cover_share", "mean"),
    },
    rules=RULES,
    description="Maths sets by third of the set order: sets, single-teacher sets, their "
    "teachers' years since QTS and early-career share, and the share of lessons covered",
    population=POPULATION,
    unit="set",
    margins=True,
)

# Pupils per third, a count of another unit: controlled as a count, redacted with the third's
# sets, the total the sum of the thirds shown.
table = result.table
thirds = table.third.astype(str)
is_total = thirds == "Total"
pupil_counts, _ = control_counts(sets.groupby("third", observed=False).pupils.sum(), RULES)
table.insert(2, "n_pupils", thirds.map(pupil_counts.rename(str)).where(table.n_sets.notna()))
table["n_pupils"] = table.n_pupils.astype("Int64")
table.loc[is_total, "n_pupils"] = table.n_pupils[~is_total].sum(min_count=1)
for name in ("early_career_share", "mean_years_since_qts", "mean_cover_share"):
    table[name] = table[name].round(3)
columns = dict(result.description.columns)
columns["n_pupils"] = ColumnDescription(role=Role.COUNT, rounding=RULES.base)
# The teacher's statistics are over the single-teacher sets.
for name in ("n_early_career_teacher", "early_career_share", "mean_years_since_qts"):
    columns[name] = columns[name].model_copy(update={"count": "n_single_teacher_sets"})
description = result.description.model_copy(
    update={
        "columns": columns,
        "population_size": int(round_to_base([len(sets)], RULES.base)[0]),
    }
)
dataclasses.replace(result, table=table, description=description).write(TABLE)

plt.switch_backend("Agg")
shown = table[~is_total].set_index("third").astype(float)
figure, axes = plt.subplots(1, 2, figsize=(10, 4), sharex=True)
shown.mean_years_since_qts.plot.bar(ax=axes[0], color="tab:green", rot=0)
axes[0].set(title="Teacher's years since QTS", ylabel="mean over single-teacher sets", xlabel="")
shown.early_career_share.plot.bar(ax=axes[1], color="tab:red", rot=0)
axes[1].set(title="Early-career teacher", ylabel="share of single-teacher sets", xlabel="")
figure.suptitle("Maths sets in years 7-9 by position (counts redacted at 7 or fewer, rounded to 5)")
figure.tight_layout()
figure.savefig(FIGURE, dpi=100)
write_description(
    FIGURE,
    TableDescription(
        description="Bar charts of the mean years since QTS and the early-career share of the "
        "teachers of single-teacher maths sets, by third of the set order",
        population=POPULATION,
        unit="set",
        controls=description.controls,
        counts_file=TABLE.name,
    ),
)
