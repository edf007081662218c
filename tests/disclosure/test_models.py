"""Models: residual degrees of freedom, dummy and fixed-effect cells, residuals and predictions
per unit, in tables and in printed summaries (real statsmodels output, and R output)."""

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from job_runner.disclosure.outputs import OutputFile
from job_runner.disclosure.profiles import profile
from job_runner.disclosure.rules.models import check_model_table, check_model_text, factors_of
from tests.disclosure.conftest import found, table_from_csv

OPENSAFELY = profile("opensafely")  # model_min_df 8, smallest safe count 8
SRS = profile("srs")  # model_min_df 10, smallest safe count 10


def verdicts(findings, rule):
    return [finding.verdict.value for finding in findings if finding.rule == rule]


# Terms


def test_factors_of_statsmodels_terms():
    assert factors_of(
        [
            "Intercept",
            "C(school)[T.B]",
            "C(school, Treatment('A'))[T.C]",
            "fsm[T.True]",
            "age",
            "fsm:age",
            "C(school)[T.B]:age",
            "np.log(sessions)",
        ]
    ) == {
        "Intercept": None,
        "C(school)[T.B]": "C(school)",
        "C(school, Treatment('A'))[T.C]": "C(school, Treatment('A'))",
        "fsm[T.True]": "fsm",
        "age": None,
        "fsm:age": None,
        "C(school)[T.B]:age": "C(school)",
        "np.log(sessions)": None,
    }


def test_factors_of_r_terms():
    assert factors_of(
        [
            "(Intercept)",
            "schoolBarnet",
            "schoolCamden",
            "factor(year_group)8",
            "fsmTRUE",
            "sexMale",
            "age",
            "age2",
            "ks2_score",
            "schoolCamden:fsmTRUE",
        ]
    ) == {
        "(Intercept)": None,
        "schoolBarnet": "school",
        "schoolCamden": "school",
        "factor(year_group)8": "factor(year_group)",
        "fsmTRUE": "fsm",
        "sexMale": "sex",
        "age": None,
        "age2": None,
        "ks2_score": None,
        "schoolCamden:fsmTRUE": "school:fsm",
    }


def test_a_lone_r_level_is_not_guessed():
    # One term cannot be told from a continuous variable named in camel case.
    assert factors_of(["(Intercept)", "priorScore"]) == {"(Intercept)": None, "priorScore": None}


# Tables: residual degrees of freedom


def tidy(df_resid: int) -> str:
    return f"""
        term,estimate,std_error,p_value,df_resid
        Intercept,99.1,2.3,0.001,{df_resid}
        age,-0.4,0.2,0.07,{df_resid}
        """


@pytest.mark.parametrize(
    "rules, df, expected",
    [
        (OPENSAFELY, 7, ["fail", "fail"]),
        (OPENSAFELY, 8, []),
        (OPENSAFELY, 9, []),
        (SRS, 9, ["fail", "fail"]),
        (SRS, 10, []),
        (SRS, 11, []),
        (profile("srs", model_min_df=30), 29, ["fail", "fail"]),
        (profile("srs", model_min_df=30), 30, []),
    ],
)
def test_residual_df_column_threshold(rules, df, expected):
    assert verdicts(check_model_table(table_from_csv(tidy(df)), rules), "model_df") == expected


def test_residual_df_finding_names_the_cell():
    findings = check_model_table(table_from_csv(tidy(7)), OPENSAFELY)
    assert found(findings) == [
        ("model_df", "fail", 0, "df_resid"),
        ("model_df", "fail", 1, "df_resid"),
    ]
    assert findings[0].numbers == {"df": 7.0, "model_min_df": 8}


def test_a_coefficient_table_without_df_needs_review():
    table = table_from_csv(
        """
        term,estimate,std_error
        Intercept,99.1,2.3
        age,-0.4,0.2
        """
    )
    assert found(check_model_table(table, OPENSAFELY)) == [("model_df", "needs review", None, None)]


def test_a_table_with_only_confidence_intervals_is_not_a_model():
    table = table_from_csv("school,n,mean_score,lower,upper\nA,40,101.2,97.1,105.3\n")
    assert check_model_table(table, OPENSAFELY) == []


def test_residual_df_from_the_number_of_observations():
    # 11 observations, 3 terms: 8 residual degrees of freedom.
    text = """
        term,estimate,std_error,nobs
        Intercept,99.1,2.3,{nobs}
        age,-0.4,0.2,{nobs}
        ks2_score,0.8,0.1,{nobs}
        """
    assert verdicts(
        check_model_table(table_from_csv(text.format(nobs=10)), OPENSAFELY), "model_df"
    ) == ["fail"]
    assert check_model_table(table_from_csv(text.format(nobs=11)), OPENSAFELY) == []


def anova_table(n: int) -> str:
    rng = np.random.default_rng(n)
    data = pd.DataFrame({"score": rng.normal(100, 15, n), "age": rng.normal(10, 1, n)})
    return sm.stats.anova_lm(smf.ols("score ~ age", data).fit()).to_csv()


@pytest.mark.parametrize("rules, n, expected", [(SRS, 11, ["fail"]), (SRS, 12, [])])
def test_an_anova_table_uses_the_residual_row(rules, n, expected):
    """statsmodels' anova_lm: the df column holds 1 for the term and n - 2 for the residual."""
    table = table_from_csv(anova_table(n))
    findings = check_model_table(table, rules)
    assert verdicts(findings, "model_df") == expected
    assert all(finding.cell.row == 1 for finding in findings)


# Tables: dummy and fixed-effect cells


def fixed_effects(n_b: int, n_c: int = 40) -> str:
    return f"""
        term,estimate,std_error,df_resid,n
        Intercept,99.1,2.3,200,120
        C(school)[T.B],3.2,1.1,200,{n_b}
        C(school)[T.C],-1.5,1.0,200,{n_c}
        age,-0.4,0.2,200,120
        """


@pytest.mark.parametrize(
    "rules, n, expected",
    [
        (OPENSAFELY, 7, ["fail"]),
        (OPENSAFELY, 8, []),
        (OPENSAFELY, 9, []),
        (SRS, 9, ["fail"]),
        (SRS, 10, []),
        (SRS, 11, []),
        (profile("opensafely", threshold=2), 2, ["fail"]),
        (profile("opensafely", threshold=2), 3, []),
    ],
)
def test_fixed_effect_cell_threshold(rules, n, expected):
    findings = check_model_table(table_from_csv(fixed_effects(n)), rules)
    assert verdicts(findings, "model_cell") == expected


def test_a_small_fixed_effect_fails_on_its_estimate():
    findings = check_model_table(table_from_csv(fixed_effects(1)), OPENSAFELY)
    assert found(findings) == [("model_cell", "fail", 1, "estimate")]
    assert findings[0].numbers == {
        "term": "C(school)[T.B]",
        "factor": "C(school)",
        "smallest_safe_count": 8,
        "n": 1.0,
        "count_column": "n",
    }


def test_dummies_without_counts_need_review():
    """The teacher value-added example's model table: patsy dummies and no n."""
    table = table_from_csv(
        """
        parameter,estimate,std_error,df_resid
        Intercept,2.1,0.3,900
        fsm[T.True],-0.31,0.05,900
        sen[T.E],-0.9,0.2,900
        sen[T.K],-0.5,0.1,900
        ks2_prior,0.9,0.02,900
        teacher SD,0.4,
        """
    )
    findings = check_model_table(table, OPENSAFELY)
    assert found(findings) == [
        ("model_cell", "needs review", 1, "estimate"),
        ("model_cell", "needs review", 2, "estimate"),
        ("model_cell", "needs review", 3, "estimate"),
    ]
    assert "show the number of units for each level" in findings[0].message


def test_a_dummy_whose_count_is_suppressed_needs_review():
    findings = check_model_table(table_from_csv(fixed_effects(n_b="[REDACTED]")), OPENSAFELY)
    assert found(findings) == [("model_cell", "needs review", 1, "estimate")]


def test_r_dummies_in_a_broom_table():
    table = table_from_csv(
        """
        term,estimate,std.error,statistic,p.value,n
        (Intercept),99.1,2.3,43.1,0.001,150
        schoolBarnet,3.2,1.1,2.9,0.004,5
        schoolCamden,-1.5,1.0,-1.5,0.13,60
        fsmTRUE,-4.1,1.2,-3.4,0.001,9
        age,-0.4,0.2,-2.0,0.05,150
        """
    )
    findings = check_model_table(table, SRS)
    assert [(f.rule, f.verdict.value, f.cell and f.cell.row) for f in findings] == [
        ("model_df", "needs review", None),
        ("model_cell", "fail", 1),
        ("model_cell", "fail", 3),
    ]


def test_a_statsmodels_coefficient_table_written_to_csv():
    rng = np.random.default_rng(5)
    data = pd.DataFrame({"score": rng.normal(100, 15, 60), "school": rng.choice(list("ABC"), 60)})
    csv = smf.ols("score ~ C(school)", data).fit().summary2().tables[1].to_csv()
    findings = check_model_table(table_from_csv(csv), OPENSAFELY)
    assert found(findings) == [
        ("model_df", "needs review", None, None),
        ("model_cell", "needs review", 1, "Coef."),
        ("model_cell", "needs review", 2, "Coef."),
    ]


# Tables: residuals and predictions per unit


def predictions(rows: int, count=None) -> str:
    header = "pupil_group,predicted_score" + (",n" if count is not None else "")
    lines = [
        f"G{i},{100 + i % 7}" + (f",{count}" if count is not None else "") for i in range(rows)
    ]
    return "\n".join([header, *lines]) + "\n"


@pytest.mark.parametrize("rows, expected", [(99, "needs review"), (100, "fail"), (101, "fail")])
def test_predictions_in_many_rows_are_per_unit(rows, expected):
    findings = check_model_table(table_from_csv(predictions(rows)), OPENSAFELY)
    assert [(f.rule, f.verdict.value) for f in findings] == [("model_per_unit", expected)]


def test_predictions_per_unit_by_population_size():
    table = table_from_csv(predictions(30), {"population_size": 60})
    assert verdicts(check_model_table(table, OPENSAFELY), "model_per_unit") == ["fail"]


@pytest.mark.parametrize(
    "rules, n, expected",
    [(OPENSAFELY, 7, ["fail"] * 3), (OPENSAFELY, 8, []), (SRS, 9, ["fail"] * 3), (SRS, 10, [])],
)
def test_predictions_for_groups_need_groups_large_enough(rules, n, expected):
    findings = check_model_table(table_from_csv(predictions(3, count=n)), rules)
    assert verdicts(findings, "model_per_unit") == expected


def test_residuals_column_in_a_coefficient_free_table():
    text = "resid\n" + "".join(f"{(i % 11) - 5}.5\n" for i in range(150))
    findings = check_model_table(table_from_csv(text), SRS)
    assert found(findings) == [("model_per_unit", "fail", None, None)]


# Text: statsmodels summaries


def write(tmp_path: Path, text: str, name: str = "model.txt") -> OutputFile:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return OutputFile(path, f"output/{name}")


def ols(df_resid: int, formula: str = "score ~ age", terms: int = 2, seed: int = 0):
    rng = np.random.default_rng(seed)
    n = df_resid + terms
    data = pd.DataFrame(
        {
            "score": rng.normal(100, 15, n),
            "age": rng.normal(10, 1, n),
            "school": np.resize(list("ABC"), n),
            "passed": np.resize([0, 1, 1, 0], n),
        }
    )
    return smf.ols(formula, data).fit(), data


@pytest.mark.parametrize("summary2", [False, True])
@pytest.mark.parametrize(
    "rules, df, expected",
    [
        (OPENSAFELY, 7, ["fail"]),
        (OPENSAFELY, 8, []),
        (OPENSAFELY, 9, []),
        (SRS, 9, ["fail"]),
        (SRS, 10, []),
        (SRS, 11, []),
    ],
)
def test_statsmodels_ols_summary_residual_df(tmp_path, rules, df, expected, summary2):
    fit, _ = ols(df)
    assert fit.df_resid == df
    text = str(fit.summary2() if summary2 else fit.summary())
    findings = check_model_text(write(tmp_path, text), rules)
    assert [(f.rule, f.verdict.value) for f in findings] == [("model_df", v) for v in expected]


def test_statsmodels_df_finding_gives_the_line(tmp_path):
    fit, _ = ols(6)
    [finding] = check_model_text(write(tmp_path, "fitting\n" + str(fit.summary())), OPENSAFELY)
    assert finding.numbers == {"df": 6.0, "model_min_df": 8, "line": 10}


def test_statsmodels_fixed_effects_need_review(tmp_path):
    fit, _ = ols(100, "score ~ C(school) + age", terms=4)
    findings = check_model_text(write(tmp_path, str(fit.summary())), OPENSAFELY)
    assert [(f.rule, f.verdict.value, f.numbers.get("factor")) for f in findings] == [
        ("model_cell", "needs review", "C(school)")
    ]
    assert findings[0].numbers["terms"] == 2


def test_statsmodels_logit_and_glm_summaries(tmp_path):
    _, data = ols(40)
    logit = smf.logit("passed ~ age", data).fit(disp=0)
    glm = smf.glm("passed ~ C(school)", data.head(10), family=sm.families.Binomial()).fit()
    text = f"{logit.summary()}\n\n{glm.summary()}\n"
    findings = check_model_text(write(tmp_path, text), SRS)
    # The logit has 40 residual df; the GLM on 10 rows has 7 and a school dummy.
    assert [(f.rule, f.verdict.value) for f in findings] == [
        ("model_df", "fail"),
        ("model_cell", "needs review"),
    ]
    assert findings[0].numbers["df"] == 7


def mixed(sizes: list[int]):
    rng = np.random.default_rng(0)
    groups = np.repeat([f"S{i}" for i in range(len(sizes))], sizes)
    data = pd.DataFrame(
        {"score": rng.normal(100, 15, len(groups)), "age": rng.normal(10, 1, len(groups))}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return str(smf.mixedlm("score ~ age", data, groups=groups).fit().summary())


@pytest.mark.parametrize(
    "rules, smallest, expected",
    [
        (OPENSAFELY, 7, ["fail"]),
        (OPENSAFELY, 8, []),
        (OPENSAFELY, 9, []),
        (SRS, 9, ["fail"]),
        (SRS, 10, []),
        (SRS, 11, []),
    ],
)
def test_statsmodels_mixedlm_smallest_group(tmp_path, rules, smallest, expected):
    text = mixed([smallest, 30, 30])
    assert re.search(rf"Min\. group size: +{smallest} ", text)
    findings = check_model_text(write(tmp_path, text), rules)
    assert [(f.rule, f.verdict.value) for f in findings] == [("model_cell", v) for v in expected]


def test_statsmodels_mixedlm_residual_df_is_observations_less_fixed_effects(tmp_path):
    # 10 observations, 2 fixed effects (the group variance is not one): 8 residual df.
    findings = check_model_text(write(tmp_path, mixed([5, 5])), profile("srs", threshold=3))
    assert [(f.rule, f.verdict.value, f.numbers.get("df")) for f in findings] == [
        ("model_df", "fail", 8.0)
    ]
    assert (
        check_model_text(
            write(tmp_path, mixed([5, 5])), profile("srs", threshold=3, model_min_df=8)
        )
        == []
    )


def test_text_without_a_model_has_no_findings(tmp_path):
    assert check_model_text(write(tmp_path, "Loaded 7,312 pupils\nDone.\n"), OPENSAFELY) == []


# Text: R summaries (written by hand)

R_LM = """
Call:
lm(formula = score ~ school + fsm, data = pupils)

Coefficients:
            Estimate Std. Error t value Pr(>|t|)
(Intercept)  99.1234     2.3456  42.258   <2e-16 ***
schoolB       3.4567     3.1234   1.107    0.272
schoolC      -1.2345     3.0987  -0.398    0.691
fsmTRUE      -5.6789     2.9876  -1.901    0.061 .
---
Signif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1

Residual standard error: 9.876 on {df} degrees of freedom
Multiple R-squared:  0.0456,	Adjusted R-squared:  0.0259
F-statistic: 2.315 on 3 and {df} DF,  p-value: 0.1042
"""

R_LME4 = """
Linear mixed model fit by REML ['lmerMod']
Formula: score ~ fsm + age + (1 | school)
   Data: pupils

REML criterion at convergence: 1434.2

Random effects:
 Groups   Name        Variance Std.Dev.
 school   (Intercept) 12.34    3.513
 Residual             45.67    6.758
Number of obs: {nobs}, groups:  school, 12

Fixed effects:
            Estimate Std. Error t value
(Intercept)  99.1234     1.2345  80.296
fsmTRUE      -4.5678     1.0987  -4.157
age           0.3456     0.1234   2.801

Correlation of Fixed Effects:
        (Intr) fsmTRUE
fsmTRUE -0.456
age     -0.123  0.045
"""


@pytest.mark.parametrize("rules, df, expected", [(SRS, 9, ["fail"]), (SRS, 10, [])])
def test_r_lm_summary(tmp_path, rules, df, expected):
    findings = check_model_text(write(tmp_path, R_LM.format(df=df)), rules)
    assert verdicts(findings, "model_df") == expected
    cells = [f for f in findings if f.rule == "model_cell"]
    assert [(f.verdict.value, f.numbers["factor"], f.numbers["terms"]) for f in cells] == [
        ("needs review", "school", 2),
        ("needs review", "fsm", 1),
    ]


def test_r_residuals_block_shows_extremes(tmp_path):
    text = R_LM.format(df=96).replace(
        "\nCoefficients:",
        "\nResiduals:\n    Min      1Q  Median      3Q     Max \n"
        "-20.123  -5.234   0.123   4.567  18.901 \n\nCoefficients:",
    )
    findings = check_model_text(write(tmp_path, text), SRS)
    assert [(f.rule, f.verdict.value) for f in findings if f.rule == "extreme"] == [
        ("extreme", "fail")
    ]


def test_r_prints_every_residual_of_a_tiny_model(tmp_path):
    text = "ALL 5 residuals:\n     1      2      3      4      5\n 1.2 -0.4  0.3 -1.1  0.0\n"
    findings = check_model_text(write(tmp_path, text), SRS)
    assert [(f.rule, f.verdict.value) for f in findings] == [("model_per_unit", "fail")]


def test_r_lme4_summary_groups_need_review(tmp_path):
    findings = check_model_text(write(tmp_path, R_LME4.format(nobs=400)), OPENSAFELY)
    assert [(f.rule, f.verdict.value) for f in findings] == [
        ("model_cell", "needs review"),  # fsmTRUE
        ("model_cell", "needs review"),  # 12 schools, smallest unknown
    ]
    assert findings[1].numbers == {"grouping": "school", "groups": 12, "smallest_safe_count": 8}


def test_r_lme4_summary_with_small_groups_on_average_fails(tmp_path):
    # 90 pupils in 12 schools: 7.5 a school on average, so some school has 7 or fewer.
    findings = check_model_text(write(tmp_path, R_LME4.format(nobs=90)), OPENSAFELY)
    assert ("model_cell", "fail") in [(f.rule, f.verdict.value) for f in findings]
    findings = check_model_text(write(tmp_path, R_LME4.format(nobs=96)), OPENSAFELY)
    assert ("model_cell", "fail") not in [(f.rule, f.verdict.value) for f in findings]


def test_r_lme4_summary_with_a_stated_smallest_group(tmp_path):
    text = R_LME4.format(nobs=400) + "Min. group size: {size}\n"
    findings = check_model_text(write(tmp_path, text.format(size=7)), OPENSAFELY)
    assert ("model_cell", "fail") in [(f.rule, f.verdict.value) for f in findings]
    findings = check_model_text(write(tmp_path, text.format(size=8)), OPENSAFELY)
    assert [f.numbers.get("factor") for f in findings] == ["fsm"]


@pytest.mark.parametrize("rules, nobs, expected", [(SRS, 12, ["fail"]), (SRS, 13, [])])
def test_r_lme4_residual_df_is_observations_less_fixed_effects(tmp_path, rules, nobs, expected):
    text = R_LME4.format(nobs=nobs).replace("school, 12", "school, 1")
    assert verdicts(check_model_text(write(tmp_path, text), rules), "model_df") == expected


@pytest.mark.parametrize("rules, df, expected", [(OPENSAFELY, 7, ["fail"]), (OPENSAFELY, 8, [])])
def test_statsmodels_html_summary(tmp_path, rules, df, expected):
    fit, _ = ols(df, "score ~ C(school) + age", terms=4)
    html = fit.summary().as_html()
    findings = check_model_text(write(tmp_path, html, "model.html"), rules)
    assert [(f.rule, f.verdict.value) for f in findings] == [
        *[("model_df", v) for v in expected],
        ("model_cell", "needs review"),
    ]
    line = html.splitlines().index(next(x for x in html.splitlines() if "Df Residuals:" in x))
    assert [f.numbers.get("line") for f in findings if f.rule == "model_df"] == [line + 1] * len(
        expected
    )
