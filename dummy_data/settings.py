"""Generator settings: sizes, calibration targets and the planted effects.

Every field is recorded in the `dummy_data_settings` table beside the data it produced, so a
researcher can check that their pipeline recovers the planted truth.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Phase = Literal["primary", "secondary", "all_through", "special", "alternative_provision"]


class PhaseMix(BaseModel):
    """Share of a trust's schools in each phase, and mean pupils on roll per school of that
    phase."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    share: float = Field(ge=0, le=1)
    mean_pupils: int = Field(gt=0)


DEFAULT_PHASES: dict[str, PhaseMix] = {
    "primary": PhaseMix(share=0.68, mean_pupils=350),
    "secondary": PhaseMix(share=0.245, mean_pupils=1450),
    "all_through": PhaseMix(share=0.02, mean_pupils=2000),
    "special": PhaseMix(share=0.035, mean_pupils=130),
    "alternative_provision": PhaseMix(share=0.02, mean_pupils=60),
}


class Effects(BaseModel):
    """The planted effects, in standard deviations of the latent attainment scale."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    school_sd: float = Field(0.15, ge=0, description="SD of school effects on scores.")
    teacher_sd: float = Field(0.20, ge=0, description="SD of teacher effects on scores.")
    teacher_year_correlation: float = Field(
        0.45,
        ge=-1,
        le=1,
        description="Correlation of a teacher's effect from one year to the next.",
    )
    early_career_growth: float = Field(
        0.10, description="Teacher effect gained per year over the first three years of teaching."
    )
    class_sd: float = Field(0.08, ge=0, description="SD of class effects on scores.")
    absence_per_10_points: float = Field(
        -0.30, description="Score change per 10 percentage points of absence."
    )
    afternoon_maths: float = Field(
        -0.05,
        description=(
            "Score change in maths for a pupil all of whose maths lessons start after 12:00."
        ),
    )
    noise_sd: float = Field(0.50, ge=0, description="SD of pupil-level noise on each result.")
    teacher_set_correlation: float = Field(
        0.0,
        ge=-1,
        le=1,
        description=(
            "Rank correlation between a teacher's effect and the rank of the set they teach: "
            "positive gives stronger teachers the top sets, negative gives them the lowest sets."
        ),
    )
    fsm_ability: float = Field(-0.35, description="Latent ability shift for FSM pupils.")
    sen_support_ability: float = Field(-0.60, description="Latent ability shift for SEN support.")
    ehcp_ability: float = Field(-1.20, description="Latent ability shift for an EHC plan.")
    eal_primary_ability: float = Field(
        -0.15, description="Latent ability shift for EAL in primary."
    )


class GeneratorSettings(BaseModel):
    """Everything that decides a synthetic trust. The same settings give byte-identical data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = Field(0, ge=0)
    trusts: int = Field(1, ge=1, le=50)
    schools: int = Field(6, ge=1, le=2000, description="Schools in total, spread over the trusts.")
    years: int = Field(3, ge=1, le=10, description="Academic years of data.")
    first_academic_year: int = Field(2022, ge=2000, le=2090)
    pupil_scale: float = Field(
        1.0, gt=0, le=10, description="Multiplier on the mean pupils per school of each phase."
    )
    phases: dict[str, PhaseMix] = Field(default_factory=lambda: dict(DEFAULT_PHASES))
    effects: Effects = Field(default_factory=Effects)

    # Calibration targets (England, state-funded; see shared/domain.md for sources).
    fsm_rate: float = Field(0.257, ge=0, le=1)
    sen_support_rate: float = Field(0.142, ge=0, le=1)
    ehcp_rate: float = Field(0.053, ge=0, le=1)
    eal_rate_primary: float = Field(0.228, ge=0, le=1)
    eal_rate_secondary: float = Field(0.18, ge=0, le=1)
    looked_after_rate: float = Field(0.007, ge=0, le=1)
    mobility_rate: float = Field(
        0.05, ge=0, le=1, description="Share of pupils who join or leave a school during a year."
    )
    pupil_teacher_ratio: dict[str, float] = Field(
        default_factory=lambda: {
            "primary": 20.8,
            "secondary": 16.7,
            "all_through": 18.0,
            "special": 6.6,
            "alternative_provision": 6.0,
        }
    )
    teacher_leaving_rate: float = Field(0.09, ge=0, le=1)
    cover_rate: float = Field(0.045, ge=0, le=1, description="Share of lessons taught by cover.")
    single_teacher_class_rate: float = Field(0.8, ge=0, le=1)
    afternoon_maths_share: float = Field(0.4, ge=0, le=1)
    missing_result_rate: float = Field(0.035, ge=0, le=1)
    result_without_class_rate: float = Field(
        0.15, ge=0, le=1, description="Share of results the MIS did not link to a class."
    )
    suspensions_per_100: float = Field(11.31, ge=0)
    permanent_exclusions_per_100: float = Field(0.13, ge=0)
    late_rate: float = Field(
        0.025, ge=0, le=1, description="Share of present sessions marked late."
    )
    # Attendance marks and exclusions (dummy_data.attendance).
    absence_by_term: tuple[float, float, float] = Field(
        (6.7, 7.2, 7.6),
        description=(
            "Absence rate (%) of the autumn, spring and summer terms, 2023/24. Only the ratios are "
            "used: they decide when in the year a pupil's absences fall, not how many there are."
        ),
    )
    autumn_absence_rise: float = Field(
        0.3,
        ge=0,
        le=1.9,
        description="Rise of absence from the first to the last day of the autumn term, "
        "relative to the term's mean.",
    )
    absence_spell_days: float = Field(
        2.5,
        ge=1,
        description="Mean length in days of a spell of whole-day absence for a pupil who is rarely "
        "absent; spells are longer for frequent absentees.",
    )
    single_session_absence_share: float = Field(
        0.12,
        ge=0,
        le=1,
        description="Share of absent sessions that are single sessions (appointments, arriving "
        "after registers closed) rather than whole days.",
    )
    absence_reasons: dict[str, float] = Field(
        default_factory=lambda: {
            "illness": 3.5,
            "unauthorised": 2.0,
            "holiday": 0.5,
            "other_authorised": 1.1,
        },
        description=(
            "Absence by reason (% of possible sessions, England 2023/24; only the shares are "
            "used): illness (I); unauthorised other than holidays (O, N, U and some G); holidays "
            "(G, a few authorised C); other authorised (M, C, R, T, S...). Exactly these keys."
        ),
    )
    approved_activity_rate: float = Field(
        0.004,
        ge=0,
        le=1,
        description="Share of a pupil's days with an approved educational activity (K V P W B).",
    )
    school_closure_days: float = Field(
        0.4,
        ge=0,
        description="Mean days a year a school is closed to all its pupils on an open day (#, Y4).",
    )
    lunchtime_suspensions_per_100: float = Field(0.3, ge=0)
    # Assessments and key stage results (dummy_data.assessments).
    ks2_imported_rate: float = Field(
        0.7,
        ge=0,
        le=1,
        description="Chance that a pupil in year 7 or above in the data span, who did not sit the "
        "KS2 tests at a trust school then, has an imported KS2 record (none for 2019 and 2020, "
        "when the tests were cancelled).",
    )
    # Behaviour and achievement records (dummy_data.behaviour).
    behaviour_incidents_per_pupil: dict[str, float] = Field(
        default_factory=lambda: {
            "primary": 2.0,
            "secondary": 14.0,
            "special": 12.0,
            "alternative_provision": 30.0,
        },
        description=(
            "Mean behaviour incidents recorded per pupil a year, by stage: primary and secondary "
            "year groups of mainstream schools, special schools, alternative provision. Exactly "
            "these keys."
        ),
    )
    achievements_per_pupil: dict[str, float] = Field(
        default_factory=lambda: {
            "primary": 12.0,
            "secondary": 28.0,
            "special": 20.0,
            "alternative_provision": 15.0,
        },
        description="Mean achievements recorded per pupil a year, by stage (keys as above).",
    )

    @property
    def academic_years(self) -> list[int]:
        return list(range(self.first_academic_year, self.first_academic_year + self.years))


PRESETS: dict[str, dict] = {
    "small": {},
    "niot": {"trusts": 4, "schools": 170, "years": 3},
}


def preset(name: str, **overrides: object) -> GeneratorSettings:
    """Settings for a named size preset, with explicit overrides on top."""
    values = {**PRESETS[name], **{k: v for k, v in overrides.items() if v is not None}}
    return GeneratorSettings(**values)
