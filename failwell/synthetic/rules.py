"""How England's inspectorates and interventions work, as far as the plans need.

Which rating scale was in use on a date, how often each sector is inspected, which
category of concern and intervention type follow a failure. Dates and slugs are the
shipped reference data's (institutions migration 0003, interventions migration 0003).
"""

from __future__ import annotations

import datetime
import random

# Band ranks, as institutions.models.BAND_RANKS orders them.
FAILING, BELOW, AT, ABOVE = 0, 1, 2, 3


OFSTED_REPORT_CARDS_FROM = datetime.date(2025, 11, 10)
OFSTED_2012_FROM = datetime.date(2012, 9, 1)
# The 2012 scale's areas changed with the frameworks: "personal development,
# behaviour and welfare" from September 2015, the education inspection framework's
# areas (and "safeguarding is effective", Yes or No) from September 2019.
OFSTED_PDBW_FROM = datetime.date(2015, 9, 1)
OFSTED_EIF_FROM = datetime.date(2019, 9, 1)
# Ofsted stopped giving an overall grade to schools in September 2024; until report
# cards arrived the areas were still graded on the 2012 scale.
OFSTED_NO_OVERALL_FROM = datetime.date(2024, 9, 1)
CHILDRENS_2013_FROM = datetime.date(2013, 11, 1)
CQC_RATINGS_FROM = datetime.date(2014, 10, 1)
NHS_SEGMENTS_FROM = datetime.date(2016, 10, 1)
NHS_2025_FROM = datetime.date(2025, 9, 1)


# Share of each sector that fails at some point in the period; the rest never do.
FAILURE_RATES = {
    "school": 0.15,
    "local_authority": 0.2,
    "childrens_services": 0.35,
    "nhs_trust": 0.3,
}
STORIES = [("recovery", 0.4), ("stall", 0.2), ("relapse", 0.2), ("deteriorate", 0.2)]

FIRST_URN = 900000
# URNs up to 998999: the fictional demo institutions use 999xxx.
MAX_SCHOOLS = 99000
MAX_COUNCILS = 199  # local-authority numbers 001-199: real ones start at 201
CONVERSION_SHARE = 0.02

# LAESTAB is the council's number and a four-digit establishment number; ours
# run from 2000 to 9999, so at most this many schools per council.
SCHOOLS_PER_COUNCIL = 8000

EIF_AREAS = [
    "quality-of-education",
    "behaviour-and-attitudes",
    "personal-development",
    "leadership-and-management",
]
REPORT_CARD_AREAS = [
    "inclusion",
    "curriculum-and-teaching",
    "achievement",
    "attendance-and-behaviour",
    "personal-development-and-wellbeing",
    "leadership-and-governance",
]

# The shipped types' grace months (interventions migration 0003): planned
# re-inspections fall after the window the recompute will apply.
TYPE_GRACE = {
    "special-measures": 18,
    "serious-weaknesses": 12,
    "commissioners-monitoring": 18,
    "commissioners-direct": 24,
    "leadership-change": 12,
    "academy-conversion": 12,
    "improvement-board": 12,
    "recovery-support-programme": 18,
    "statutory-direction": 18,
}


def grace_months(type_slug: str) -> int:
    return TYPE_GRACE.get(type_slug, 12)


def base_rank(rng: random.Random, sector: str) -> int:
    roll = rng.random()
    if sector == "nhs_trust":
        return ABOVE if roll < 0.1 else AT if roll < 0.6 else BELOW
    if sector == "local_authority":
        return AT if roll < 0.8 else BELOW
    return ABOVE if roll < 0.2 else AT if roll < 0.8 else BELOW


def inspection_gap(rng: random.Random, sector: str, rank: int) -> float:
    """Months to the next routine inspection: weaker institutions are seen sooner."""
    if sector == "school":
        return {ABOVE: rng.uniform(18, 30), AT: rng.uniform(12, 24)}.get(rank, rng.uniform(9, 18))
    if sector == "childrens_services":
        return rng.uniform(30, 42) if rank >= AT else rng.uniform(18, 30)
    if sector == "nhs_trust":
        return rng.uniform(20, 36)
    return rng.uniform(36, 54)


def scale_for(sector: str, on: datetime.date) -> str | None:
    """The rating scale an inspection of this sector used on that day, if any."""
    if sector == "school":
        if on >= OFSTED_REPORT_CARDS_FROM:
            return "ofsted-report-card-2025"
        return "ofsted-overall-2012" if on >= OFSTED_2012_FROM else "ofsted-overall-2005"
    if sector == "childrens_services":
        if on >= CHILDRENS_2013_FROM:
            return "ofsted-childrens-services-2013"
        return "ofsted-childrens-services-2009"
    if sector == "nhs_trust":
        return "cqc-2014" if on >= CQC_RATINGS_FROM else None
    return "governance-finding"


def ofsted_2012_areas(on: datetime.date) -> list[str]:
    """The key judgements a 2012-scale inspection graded on that day, besides phase areas."""
    if on >= OFSTED_EIF_FROM:
        return EIF_AREAS
    behaviour = (
        "personal-development-behaviour-and-welfare"
        if on >= OFSTED_PDBW_FROM
        else "behaviour-and-safety"
    )
    return ["outcomes-for-pupils", "quality-of-teaching", behaviour, "leadership-and-management"]


def area_ranks(
    rng: random.Random, areas: list[str], rank: int, no_overall: bool
) -> list[tuple[str, int]]:
    """Area grades around the headline: one area at it, the rest at it or better.

    With an overall grade an area may also sit one below it (a good school with
    one area requiring improvement); without one the headline is the lowest area,
    so none may.
    """
    key = "leadership-and-management" if rank == FAILING else areas[0]
    if key not in areas:
        key = next((area for area in areas if "leadership" in area), areas[0])
    ranks = []
    for area in areas:
        if area == key:
            ranks.append((area, rank))
            continue
        shown = rank + rng.choice([0, 0, 1])
        if not no_overall and rank > BELOW and rng.random() < 0.1:
            shown = rank - 1
        ranks.append((area, min(ABOVE, shown)))
    return ranks


def category_for(rng: random.Random, sector: str, on: datetime.date) -> str:
    if sector == "school":
        if on >= OFSTED_REPORT_CARDS_FROM:
            return "special_measures" if rng.random() < 0.5 else ""
        return "special_measures" if rng.random() < 0.65 else "serious_weaknesses"
    if sector == "nhs_trust":
        return "special_measures" if rng.random() < 0.6 else ""
    return ""


def first_intervention(rng: random.Random, sector: str, category: str) -> tuple[str, str]:
    if sector == "school":
        if category == "serious_weaknesses":
            return "serious-weaknesses", "monitoring"
        return "special-measures", "directed"
    if sector == "nhs_trust":
        if category == "special_measures":
            return "special-measures", "directed"
        return "recovery-support-programme", "directed"
    if sector == "childrens_services":
        if rng.random() < 0.7:
            return "statutory-direction", "directed"
        return "improvement-board", "monitoring"
    if rng.random() < 0.5:
        return "improvement-board", "monitoring"
    return "commissioners-monitoring", "directed"


def escalation(sector: str, first_type: str) -> str:
    if sector == "school":
        return "special-measures" if first_type == "serious-weaknesses" else "leadership-change"
    if sector == "nhs_trust":
        return "recovery-support-programme"
    return "commissioners-direct"
