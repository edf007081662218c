"""The trust's schools: phase mix, sizes, identifiers, timetables and planted school effects."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from dummy_data.backbone import random_stream

# Nine regions with a plausible local authority code and a place name for school names.
REGION_PLACES = {
    "E12000001": [(391, "Newcastle"), (392, "North Tyneside"), (394, "Sunderland")],
    "E12000002": [(352, "Manchester"), (340, "Knowsley"), (888, "Lancashire")],
    "E12000003": [(383, "Leeds"), (373, "Sheffield"), (380, "Bradford")],
    "E12000004": [(892, "Nottingham"), (856, "Leicester"), (831, "Derby")],
    "E12000005": [(330, "Birmingham"), (336, "Wolverhampton"), (331, "Coventry")],
    "E12000006": [(873, "Cambridgeshire"), (881, "Essex"), (919, "Hertfordshire")],
    "E12000007": [(202, "Camden"), (210, "Southwark"), (316, "Newham")],
    "E12000008": [(886, "Kent"), (850, "Hampshire"), (936, "Surrey")],
    "E12000009": [(801, "Bristol"), (878, "Devon"), (803, "South Gloucestershire")],
}
SCHOOL_NAME_WORDS = [
    "Oak",
    "Riverside",
    "St Mary's",
    "Hillside",
    "Meadow",
    "Park",
    "Valley",
    "Kingsway",
    "Castle",
    "Greenfield",
    "Westbrook",
    "Ashfield",
    "Beacon",
    "Orchard",
]
NAME_SUFFIX = {
    "primary": "Primary Academy",
    "secondary": "Academy",
    "all_through": "All-Through Academy",
    "special": "Special Academy",
    "alternative_provision": "Alternative Provision Academy",
}
SCHOOL_TYPE = {
    "special": "academy_special",
    "alternative_provision": "academy_alternative_provision",
}
ESTABLISHMENT_BASE = {
    "primary": 2000,
    "all_through": 4000,
    "secondary": 4000,
    "special": 7000,
    "alternative_provision": 1100,
}


def phase_counts(settings) -> dict[str, int]:
    """Schools per phase: the phase shares applied to the number of schools (largest remainder)."""
    shares = {phase: mix.share for phase, mix in settings.phases.items()}
    total = sum(shares.values())
    exact = {phase: settings.schools * share / total for phase, share in shares.items()}
    counts = {phase: int(value) for phase, value in exact.items()}
    by_remainder = sorted(exact, key=lambda phase: (counts[phase] - exact[phase], phase))
    for phase in by_remainder[: settings.schools - sum(counts.values())]:
        counts[phase] += 1
    return counts


def school_rows(schools: pd.DataFrame) -> list[SimpleNamespace]:
    """Schools as objects with attribute access, latent `_` columns included (unlike itertuples)."""
    return [SimpleNamespace(**row) for row in schools.to_dict("records")]


def year_group_range(school) -> list[int]:
    """Year group indexes a school teaches: -2 N1, -1 N2, 0 Reception, 1..14 years 1 to 14."""
    first = -1 if school._has_nursery else (0 if school.phase in ("primary", "all_through") else 7)
    if school.phase == "special":
        first = 0
    return list(range(first, school._top_year_group + 1))


def build_schools(settings) -> pd.DataFrame:
    rng = random_stream(settings.seed, "schools")
    phases = np.array([p for p, n in phase_counts(settings).items() for _ in range(n)])
    phases = phases[rng.permutation(len(phases))]
    # Trusts get contiguous blocks of schools, with every trust at least one school.
    trust_ids = np.sort(np.arange(len(phases)) % settings.trusts) + 1
    n = len(phases)
    regions = np.array(list(REGION_PLACES))[
        random_stream(settings.seed, "trust regions").permutation(9)[(trust_ids - 1) % 9]
    ]
    places = [REGION_PLACES[region][rng.integers(3)] for region in regions]
    school_ids = np.arange(1, n + 1)
    secondary_like = np.isin(phases, ["secondary", "all_through"])
    has_sixth_form = secondary_like & (rng.random(n) < 0.5)
    has_nursery = np.isin(phases, ["primary", "all_through"]) & (rng.random(n) < 0.3)
    top = np.select(
        [phases == "primary", phases == "special", phases == "alternative_provision"],
        [6, 13, 11],
        np.where(has_sixth_form, 13, 11),
    )
    mean_size = np.array([settings.phases[p].mean_pupils for p in phases]) * settings.pupil_scale
    sizes = np.maximum(mean_size * rng.lognormal(0, 0.25, n), 30).round().astype(int)
    age_low = np.select(
        [has_nursery, np.isin(phases, ["primary", "all_through", "special"])], [3, 4], 11
    )
    schools = pd.DataFrame(
        {
            "school_id": school_ids,
            "trust_id": trust_ids,
            "urn": 100000 + rng.choice(899_999, n, replace=False),
            "la_code": [la for la, _ in places],
            "name": [
                f"{place} {SCHOOL_NAME_WORDS[i % len(SCHOOL_NAME_WORDS)]} {NAME_SUFFIX[p]}"
                for i, ((_, place), p) in enumerate(zip(places, phases, strict=True))
            ],
            "phase": phases,
            "school_type": [
                SCHOOL_TYPE.get(
                    p, "academy_converter" if rng.random() < 0.6 else "academy_sponsor_led"
                )
                for p in phases
            ],
            "age_low": age_low,
            "age_high": top + 5,
            "region": regions,
            "timetable_cycle_days": np.where(secondary_like & (rng.random(n) < 0.5), 10, 5),
            "periods_per_day": np.where(secondary_like, rng.choice([5, 6], n), 5),
            "_effect": rng.normal(0, settings.effects.school_sd, n),
            "_size": sizes,
            "_has_nursery": has_nursery,
            "_has_sixth_form": has_sixth_form,
            "_top_year_group": top,
            "_establishment": [
                ESTABLISHMENT_BASE[p] + i for p, i in zip(phases, school_ids, strict=True)
            ],
        }
    )
    return schools
