"""Teacher value-added in GCSE maths: a multilevel model of the maths grade (pupils within
teachers) on KS2 prior attainment and background, and the distribution of the teachers' estimated
effects (their shrunken random intercepts, in GCSE grades) as counts of teachers by band, with
the teachers' mean years since QTS (from the teacher dataset).

Disclosure controls (the OpenSAFELY rules): counts of 7 or fewer are redacted and the rest rounded
to the nearest 5 (`tabulate` for the bands: a band's mean is redacted with its count of teachers,
or when a few teachers dominate it, and the total row is recomputed from the bands shown). The
model is released as coefficients and standard deviations only, with the (rounded) number of
pupils behind each term and the model's residual degrees of freedom, so that the checks can see
that no dummy describes few pupils. Each output has its description beside it
(`<file>.sdc.json`).
"""

import dataclasses
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import statsmodels.formula.api as smf

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
MODEL = OUTPUT / "model.csv"
BANDS_TABLE = OUTPUT / "teacher_effects_by_band.csv"
FIGURE = OUTPUT / "teacher_effects.png"
RULES = profile("opensafely")
BANDS = [-float("inf"), -0.5, 0.5, float("inf")]
LABELS = ["below -0.5", "-0.5 to 0.5", "above 0.5"]
COVARIATES = ["ks2_prior", "fsm", "sen_provision", "eal", "absence_rate"]
PUPILS = "year 11 pupils with a GCSE maths grade, KS2 prior attainment and background data"
TEACHERS = "teachers of year 11 maths classes with at least one pupil in the model"


def rounded(count: int) -> int:
    return int(round_to_base([count], RULES.base)[0])


pupils = pd.read_feather(OUTPUT / "dataset.arrow")
teachers = pd.read_feather(OUTPUT / "teachers.arrow").set_index("teacher_id")
pupils = pupils.dropna(subset=["maths_points", *COVARIATES])
pupils = pupils.astype({"fsm": bool, "eal": bool})

model = smf.mixedlm(
    "maths_points ~ ks2_prior + fsm + C(sen_provision, Treatment('N')) + eal + absence_rate",
    pupils,
    groups="maths_teacher_id",
).fit()
teacher_sd, residual_sd = model.cov_re.iloc[0, 0] ** 0.5, model.scale**0.5
summary = pd.DataFrame({"estimate": model.fe_params, "std_error": model.bse_fe})
summary = summary.rename(lambda term: term.replace("C(sen_provision, Treatment('N'))", "sen"))
# The pupils behind each term: a dummy's are those at its level, the others' all pupils.
at_level = {
    "fsm[T.True]": pupils.fsm,
    "eal[T.True]": pupils.eal,
    "sen[T.K]": pupils.sen_provision == "K",
    "sen[T.E]": pupils.sen_provision == "E",
}
pupils_behind = pd.Series(
    {term: int(at_level[term].sum()) if term in at_level else len(pupils) for term in summary.index}
)
summary["n_pupils"], _ = control_counts(pupils_behind, RULES)
summary.loc["teacher SD"] = [teacher_sd, None, pd.NA]
summary.loc["residual SD"] = [residual_sd, None, pd.NA]
summary.loc["share of variance between teachers"] = [
    teacher_sd**2 / (teacher_sd**2 + residual_sd**2),
    None,
    pd.NA,
]
summary["df"] = pd.NA
summary.loc["Residual", "df"] = int(model.nobs) - len(model.fe_params)
summary = summary.astype({"n_pupils": "Int64", "df": "Int64"})
summary.round(4).to_csv(MODEL, index_label="parameter")
write_description(
    MODEL,
    TableDescription(
        description="Multilevel model (statsmodels MixedLM, random intercept per maths teacher) "
        "of the GCSE maths grade on KS2 prior attainment, FSM, SEN provision, EAL and year 11 "
        "absence: fixed effects with their standard errors, the teacher and residual standard "
        "deviations, and the residual degrees of freedom",
        population=PUPILS,
        population_size=rounded(len(pupils)),
        unit="pupil",
        controls=f"{RULES.describe()}; coefficients and standard deviations only, no "
        "per-pupil or per-teacher values",
        rounding=RULES.base,
        columns={
            "parameter": ColumnDescription(role=Role.DIMENSION),
            "estimate": ColumnDescription(role=Role.COEFFICIENT, count="n_pupils"),
            "std_error": ColumnDescription(role=Role.STD_ERROR, count="n_pupils"),
            "n_pupils": ColumnDescription(role=Role.COUNT),
            "df": ColumnDescription(role=Role.DF, rounding="none"),
        },
    ),
)

effects = pd.Series({teacher: effect.iloc[0] for teacher, effect in model.random_effects.items()})
teachers = teachers.reindex(effects.index).assign(effect=effects)
teachers["band"] = pd.cut(teachers.effect, BANDS, labels=LABELS)
result = tabulate(
    teachers,
    by="band",
    statistics={"n_teachers": "count", "mean_years_since_qts": ("years_since_qts", "mean")},
    rules=RULES,
    description="Maths teachers by band of estimated value-added (their random intercept in "
    "the model of model.csv, in GCSE grades), with the pupils they taught and their mean years "
    "since QTS",
    population=TEACHERS,
    unit="teacher",
    margins=True,
)

# Pupils per band, a count of another unit: controlled as a count, redacted with the band's
# teachers, the total the sum of the bands shown.
table = result.table
bands = table.band.astype(str)
is_total = bands == "Total"
pupil_counts, _ = control_counts(
    pupils.maths_teacher_id.map(teachers.band).value_counts().reindex(LABELS, fill_value=0), RULES
)
table.insert(2, "n_pupils", bands.map(pupil_counts.rename(str)).where(table.n_teachers.notna()))
table["n_pupils"] = table.n_pupils.astype("Int64")
table.loc[is_total, "n_pupils"] = table.n_pupils[~is_total].sum(min_count=1)
table["mean_years_since_qts"] = table.mean_years_since_qts.round(3)
description = result.description.model_copy(
    update={
        "columns": {
            **result.description.columns,
            "n_pupils": ColumnDescription(role=Role.COUNT, rounding=RULES.base),
        },
        "population_size": rounded(len(teachers)),
    }
)
dataclasses.replace(result, table=table, description=description).write(BANDS_TABLE)

plt.switch_backend("Agg")
shown = table[~is_total]
figure, axis = plt.subplots(figsize=(8, 4))
axis.bar(shown.band.astype(str), shown.n_teachers.astype(float), color="tab:blue")
axis.set(
    title=f"Teacher effects on the GCSE maths grade (teacher SD {teacher_sd:.2f} grades)",
    xlabel="estimated effect (grades)",
    ylabel="teachers (7 or fewer redacted, rounded to 5)",
)
figure.tight_layout()
figure.savefig(FIGURE, dpi=100)
write_description(
    FIGURE,
    TableDescription(
        description="Bar chart of the number of maths teachers by band of estimated value-added",
        population=TEACHERS,
        unit="teacher",
        controls=description.controls,
        counts_file=BANDS_TABLE.name,
    ),
)
