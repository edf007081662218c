"""Teacher value-added in GCSE maths: a multilevel model of the maths grade (pupils within
teachers) on KS2 prior attainment and background, and the distribution of the teachers' estimated
effects (their shrunken random intercepts, in GCSE grades) as counts of teachers by band, with
the teachers' mean years since QTS (from the teacher dataset).

Disclosure controls (the OpenSAFELY rules): counts of 7 or fewer are redacted and the rest rounded
to the nearest 5; a band's mean is redacted with its count of teachers and the total row is the
sum of the controlled counts. The model is released as coefficients and standard deviations only.
"""

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import statsmodels.formula.api as smf

from job_runner.disclosure.controls import recompute_totals, redact_small, round_to_base

OUTPUT = Path("output")
BANDS = [-float("inf"), -0.5, 0.5, float("inf")]
LABELS = ["below -0.5", "-0.5 to 0.5", "above 0.5"]
COVARIATES = ["ks2_prior", "fsm", "sen_provision", "eal", "absence_rate"]


def control(counts: pd.Series) -> pd.Series:
    """Redact counts of 7 or fewer, round the rest to the nearest 5."""
    return round_to_base(redact_small(counts, threshold=7), base=5)


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
summary.loc["teacher SD"] = [teacher_sd, None]
summary.loc["residual SD"] = [residual_sd, None]
summary.loc["share of variance between teachers"] = [
    teacher_sd**2 / (teacher_sd**2 + residual_sd**2),
    None,
]
summary.round(4).to_csv(OUTPUT / "model.csv", index_label="parameter")

effects = pd.Series({teacher: effect.iloc[0] for teacher, effect in model.random_effects.items()})
teachers = teachers.reindex(effects.index).assign(effect=effects)
teachers["band"] = pd.cut(teachers.effect, BANDS, labels=LABELS)
pupils["band"] = pupils.maths_teacher_id.map(teachers.band)

by_band = teachers.groupby("band", observed=False)
counts = pd.DataFrame(
    {
        "n_teachers": by_band.size(),
        "n_pupils": pupils.groupby("band", observed=False).size(),
    }
).apply(control)
counts.index = counts.index.astype(str)
table = recompute_totals(counts, axis="rows")
years_since_qts = by_band.years_since_qts.mean().rename(str)
shown = table.index[table.n_teachers.notna()]
years_since_qts["Total"] = teachers.years_since_qts[teachers.band.isin(shown)].mean()
table["mean_years_since_qts"] = years_since_qts.where(table.n_teachers.notna())
table.round(3).to_csv(OUTPUT / "teacher_effects_by_band.csv", index_label="effect_band")

plt.switch_backend("Agg")
figure, axis = plt.subplots(figsize=(8, 4))
axis.bar(table.index[:-1], table.n_teachers.iloc[:-1].astype(float), color="tab:blue")
axis.set(
    title=f"Teacher effects on the GCSE maths grade (teacher SD {teacher_sd:.2f} grades)",
    xlabel="estimated effect (grades)",
    ylabel="teachers (7 or fewer redacted, rounded to 5)",
)
figure.tight_layout()
figure.savefig(OUTPUT / "teacher_effects.png", dpi=100)
