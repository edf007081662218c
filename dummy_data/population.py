"""Pupils' characteristics: who they are, how they change from year to year, and the planted truth.

Latent per pupil: ability N(0, 1), a propensity to free school meals, a propensity to SEN and
an absence propensity. Observed characteristics each year follow from them with a little churn, and
the yearly ability and absence rate add the group shifts of the settings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dummy_data.backbone import random_stream

YEAR_GROUP_LABELS = {-2: "N1", -1: "N2", 0: "R", **{g: str(g) for g in range(1, 15)}}

ETHNICITY_SHARES = {
    "WBRI": 61.0,
    "WIRI": 0.3,
    "WIRT": 0.1,
    "WOTH": 7.1,
    "WROM": 0.5,
    "MWBC": 1.7,
    "MWBA": 0.9,
    "MWAS": 1.8,
    "MOTH": 2.6,
    "AIND": 3.5,
    "APKN": 4.5,
    "ABAN": 2.0,
    "AOTH": 2.0,
    "BCRB": 1.0,
    "BAFR": 4.0,
    "BOTH": 1.0,
    "CHNE": 0.7,
    "OOTH": 2.0,
    "REFU": 0.6,
    "NOBT": 0.4,
}
# Chance that a pupil of each ethnicity has a first language other than English, before the phase
# calibration (EAL is far commoner among recent arrivals than among White British pupils).
EAL_BY_ETHNICITY = {
    "WBRI": 0.01,
    "WIRI": 0.05,
    "WIRT": 0.05,
    "WOTH": 0.6,
    "WROM": 0.6,
    "MWBC": 0.05,
    "MWBA": 0.15,
    "MWAS": 0.15,
    "MOTH": 0.2,
    "AIND": 0.6,
    "APKN": 0.65,
    "ABAN": 0.7,
    "AOTH": 0.6,
    "BCRB": 0.05,
    "BAFR": 0.5,
    "BOTH": 0.35,
    "CHNE": 0.6,
    "OOTH": 0.7,
    "REFU": 0.3,
    "NOBT": 0.3,
}
SEN_NEEDS = {
    "K": {
        "SPLD": 13,
        "MLD": 15,
        "SLD": 1,
        "PMLD": 0.3,
        "SEMH": 20,
        "SLCN": 24,
        "HI": 1.5,
        "VI": 0.8,
        "MSI": 0.2,
        "PD": 2,
        "ASD": 9,
        "OTH": 4,
        "NSA": 9.2,
    },
    "E": {
        "SPLD": 3,
        "MLD": 7,
        "SLD": 8,
        "PMLD": 2,
        "SEMH": 16,
        "SLCN": 20,
        "HI": 1.5,
        "VI": 1,
        "MSI": 0.5,
        "PD": 3.5,
        "ASD": 33,
        "OTH": 4.5,
        "NSA": 0,
    },
}
BOY_SHARE = {"E": 0.71, "K": 0.61}
# Absence odds of secondary pupils relative to primary, and secondary pupils' share of pupils in
# England, which together give primary 5.5% and secondary 8.9% around the national 7.1%.
SECONDARY_ODDS = 1.75
NATIONAL_SECONDARY_SHARE = 0.45
CHECK_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"


def _choice(rng: np.random.Generator, shares: dict[str, float], n: int) -> np.ndarray:
    codes = np.array(list(shares))
    weights = np.array(list(shares.values()), dtype=float)
    return codes[rng.choice(len(codes), n, p=weights / weights.sum())]


def draw_pupils(settings, first_spells: pd.DataFrame) -> pd.DataFrame:
    """One row per pupil from their first spell (school, academic year, year group index)."""
    rng = random_stream(settings.seed, "pupils")
    n = len(first_spells)
    first_spells = first_spells.sort_values("pupil_id")
    birth_cohort = (
        first_spells.academic_year.to_numpy() - first_spells.year_group_index.to_numpy() - 5
    )
    month = rng.integers(0, 12, n)  # 0 is September
    years = birth_cohort + (month >= 4)
    dob = (
        (years - 1970).astype("datetime64[Y]").astype("datetime64[M]")
        + ((month + 8) % 12).astype("timedelta64[M]")
    ).astype("datetime64[D]")
    sex = np.where(rng.random(n) < 0.512, "M", "F")
    ethnicity = _choice(rng, ETHNICITY_SHARES, n)
    secondary_start = first_spells.year_group_index.to_numpy() >= 7
    calibration = np.where(
        secondary_start, settings.eal_rate_secondary / 0.187, settings.eal_rate_primary / 0.187
    )
    eal = rng.random(n) < np.minimum(
        pd.Series(ethnicity).map(EAL_BY_ETHNICITY).to_numpy() * calibration, 0.95
    )
    first_language = np.where(
        eal,
        np.where(rng.random(n) < 0.9, "OTH", "OTB"),
        np.where(rng.random(n) < 0.97, "ENG", "ENB"),
    )
    is_boy = sex == "M"
    sen_score = rng.random(n)
    return pd.DataFrame(
        {
            "pupil_id": first_spells.pupil_id.to_numpy().astype(np.int64),
            "upn": "",
            "sex": sex,
            "date_of_birth": dob,
            "ethnicity": ethnicity,
            "first_language": first_language,
            "_ability": rng.normal(0, 1, n),
            "_fsm_propensity": rng.normal(0, 1, n),
            "_absence_propensity": rng.normal(0, 1, n),
            "_sen_base": _base_sen(settings, is_boy, sen_score),
            "_school_id": first_spells.school_id.to_numpy(),
            "_entry_year": first_spells.academic_year.to_numpy(),
        }
    )


def _base_sen(settings, is_boy: np.ndarray, u: np.ndarray) -> np.ndarray:
    """A pupil's lasting SEN provision, with boys over-represented as nationally."""
    boy_share = is_boy.mean() if len(is_boy) else 0.5
    e_rate = np.where(
        is_boy,
        settings.ehcp_rate * BOY_SHARE["E"] / boy_share,
        settings.ehcp_rate * (1 - BOY_SHARE["E"]) / (1 - boy_share),
    )
    k_rate = np.where(
        is_boy,
        settings.sen_support_rate * BOY_SHARE["K"] / boy_share,
        settings.sen_support_rate * (1 - BOY_SHARE["K"]) / (1 - boy_share),
    )
    return np.where(u < e_rate, "E", np.where(u < e_rate + k_rate, "K", "N"))


def upns(pupils: pd.DataFrame, schools: pd.DataFrame) -> np.ndarray:
    """Unique pupil numbers: check letter, LA code, establishment number of the first school, then a
    five-digit serial of the pupil among those first enrolled at that school."""
    first = schools.set_index("school_id").loc[pupils._school_id]
    serial = pupils.groupby("_school_id").cumcount().to_numpy() + 1
    digits = (
        first.la_code.to_numpy().astype(np.int64) * 10**9
        + first._establishment.to_numpy().astype(np.int64) * 10**5
        + serial
    )
    body = np.char.zfill(digits.astype(str), 12)
    place_values = 10 ** np.arange(11, -1, -1, dtype=np.int64)
    digit_matrix = (digits[:, None] // place_values) % 10
    letters = np.array(list(CHECK_LETTERS))[(digit_matrix @ np.arange(2, 14)) % 23]
    return np.char.add(letters, body)


def yearly_characteristics(settings, spells: pd.DataFrame, pupils: pd.DataFrame) -> pd.DataFrame:
    """Add each spell's FSM, SEN, EAL, looked-after status and the planted ability."""
    frame = spells.merge(
        pupils[
            [
                "pupil_id",
                "first_language",
                "_ability",
                "_fsm_propensity",
                "_sen_base",
                "_absence_propensity",
                "sex",
            ]
        ],
        on="pupil_id",
        how="left",
    )
    rng = random_stream(settings.seed, "yearly characteristics")
    n = len(frame)
    # FSM: a lasting propensity plus a yearly wobble, thresholded at the target rate.
    fsm_score = frame._fsm_propensity.to_numpy() + rng.normal(0, 0.35, n)
    fsm = fsm_score > np.quantile(fsm_score, 1 - settings.fsm_rate) if n else np.zeros(0, bool)
    fsm6 = fsm | (
        frame._fsm_propensity.to_numpy()
        > np.quantile(frame._fsm_propensity, 1 - settings.fsm_rate * 1.3)
        if n
        else fsm
    )
    sen = frame._sen_base.to_numpy().copy()
    churn = rng.random(n)
    sen[(sen == "K") & (churn < 0.08)] = "N"
    sen[(sen == "N") & (churn < 0.012)] = "K"
    special = frame._phase.to_numpy() == "special"
    sen[special] = np.where(rng.random(special.sum()) < 0.97, "E", "K")
    ap = frame._phase.to_numpy() == "alternative_provision"
    sen[ap & (sen == "N") & (rng.random(n) < 0.4)] = "K"
    eal = np.isin(frame.first_language.to_numpy(), ["OTH", "OTB"])
    looked_after = rng.random(n) < settings.looked_after_rate
    effects = settings.effects
    primary_phase = frame.year_group_index.to_numpy() <= 6
    ability = (
        frame._ability.to_numpy()
        + effects.fsm_ability * fsm
        + effects.sen_support_ability * (sen == "K")
        + effects.ehcp_ability * (sen == "E")
        + effects.eal_primary_ability * (eal & primary_phase)
    )
    need = np.where(sen == "N", None, "")
    for provision, shares in SEN_NEEDS.items():
        mask = sen == provision
        need[mask] = _choice(rng, shares, int(mask.sum()))
    frame["_fsm"] = fsm
    frame["_fsm6"] = fsm6
    frame["_sen"] = sen
    frame["_sen_need"] = need
    frame["_eal"] = eal
    frame["_looked_after"] = looked_after
    frame["_ability"] = ability
    return frame.drop(columns=["first_language", "_fsm_propensity", "_sen_base", "sex"])


def assign_absence_rates(settings, frame: pd.DataFrame) -> np.ndarray:
    """The planted yearly absence rate of each spell.

    Marginal: the mixture 97% Beta(0.9, 15.6) + 3% Beta(6, 4), matched by rank to a latent score
    that is a pupil's lasting propensity (so a pupil's years correlate about 0.6) plus a yearly
    term. The odds are then raised for secondary (x1.75), FSM (x1.9), SEN support (x1.7) and EHC
    plans (x2), and the whole scaled back so the mean stays at the mixture's.
    """
    n = len(frame)
    if n == 0:
        return np.zeros(0)
    rng = random_stream(settings.seed, "absence rates")
    persistent = rng.random(n) < 0.03
    mixture = np.where(persistent, rng.beta(6, 4, n), rng.beta(0.9, 15.6, n))
    score = 0.775 * frame._absence_propensity.to_numpy() + 0.632 * rng.normal(0, 1, n)
    rates = np.empty(n)
    rates[np.argsort(score, kind="stable")] = np.sort(mixture)
    secondary = frame.year_group_index.to_numpy() >= 7
    odds_ratio = (
        np.where(secondary, SECONDARY_ODDS, 1.0)
        * np.where(frame._fsm.to_numpy(), 1.9, 1.0)
        * np.where(frame._sen.to_numpy() == "K", 1.7, 1.0)
        * np.where(frame._sen.to_numpy() == "E", 2.0, 1.0)
    )
    clipped = np.clip(rates, 1e-4, 1 - 1e-4)
    logit = np.log(clipped / (1 - clipped)) + np.log(odds_ratio)
    # The national mean is over the national mix of phases, not this trust's: weight the phases so.
    weights = np.where(
        secondary,
        NATIONAL_SECONDARY_SHARE / max(secondary.mean(), 1e-9),
        (1 - NATIONAL_SECONDARY_SHARE) / max(1 - secondary.mean(), 1e-9),
    )
    target = mixture.mean()
    low, high = -4.0, 2.0
    for _ in range(40):  # bisection on the shift that puts the national mean on target
        shift = (low + high) / 2
        mean = np.average(1 / (1 + np.exp(-(logit + shift))), weights=weights)
        low, high = (shift, high) if mean < target else (low, shift)
    return 1 / (1 + np.exp(-(logit + (low + high) / 2)))
