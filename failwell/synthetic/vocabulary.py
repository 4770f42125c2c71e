"""What synthetic institutions are called, and what they measure.

Place names are made from syllables and every name ends in "(synthetic)", so no
generated institution can be mistaken for a real one.
"""

from __future__ import annotations

from dataclasses import dataclass

SYNTHETIC_MARK = " (synthetic)"


@dataclass(frozen=True)
class IndicatorSpec:
    slug: str
    name: str
    unit: str
    higher_is_better: bool
    target: float | None
    mean: float  # a typical institution's level
    noise: float  # month-to-month standard deviation
    effect: float  # how far one unit of "goodness" moves it


INDICATORS = [
    IndicatorSpec("attendance", "Attendance", "%", True, 95.0, 94.0, 0.5, 1.3),
    IndicatorSpec("persistent-absence", "Persistent absence", "%", False, 10.0, 17.0, 1.2, 3.0),
    IndicatorSpec("exclusion-rate", "Fixed-term exclusions", "%", False, None, 4.0, 0.5, 1.2),
    IndicatorSpec("staff-vacancy-rate", "Staff vacancy rate", "%", False, 5.0, 7.0, 0.7, 1.6),
    IndicatorSpec(
        "assessments-within-45-days",
        "Social care assessments completed within 45 days",
        "%",
        True,
        90.0,
        84.0,
        2.5,
        5.0,
    ),
    IndicatorSpec("re-referral-rate", "Re-referrals within 12 months", "%", False, None, 22, 2, 3),
    IndicatorSpec(
        "social-worker-vacancy-rate", "Social worker vacancy rate", "%", False, 10.0, 17, 2, 3.5
    ),
    IndicatorSpec(
        "ehcp-within-20-weeks", "EHC plans issued within 20 weeks", "%", True, 100.0, 55, 5, 10
    ),
    IndicatorSpec(
        "planning-decisions-on-time", "Planning decisions on time", "%", True, None, 88, 3, 4
    ),
    IndicatorSpec(
        "ae-four-hour", "A&E patients seen within 4 hours", "%", True, 95.0, 75.0, 1.8, 4.0
    ),
    IndicatorSpec(
        "rtt-18-weeks", "Referral to treatment within 18 weeks", "%", True, 92.0, 62.0, 1.5, 3.5
    ),
]
INDICATOR_SPECS = {spec.slug: spec for spec in INDICATORS}

SECTOR_INDICATORS = {
    "school": ["attendance", "persistent-absence", "exclusion-rate"],
    "local_authority": ["ehcp-within-20-weeks", "planning-decisions-on-time", "staff-vacancy-rate"],
    "childrens_services": [
        "assessments-within-45-days",
        "re-referral-rate",
        "social-worker-vacancy-rate",
    ],
    "nhs_trust": ["ae-four-hour", "rtt-18-weeks", "staff-vacancy-rate"],
}

REGIONS = [
    "North East",
    "North West",
    "Yorkshire and the Humber",
    "East Midlands",
    "West Midlands",
    "East of England",
    "London",
    "South East",
    "South West",
]
NHS_REGIONS = [
    "North East and Yorkshire",
    "North West",
    "Midlands",
    "East of England",
    "London",
    "South East",
    "South West",
]

PLACE_STARTS = [
    "Ash",
    "Bar",
    "Bram",
    "Brook",
    "Calder",
    "Chal",
    "Col",
    "Crans",
    "Dal",
    "Dun",
    "Elm",
    "Fair",
    "Fen",
    "Glen",
    "Gold",
    "Hart",
    "Hazel",
    "Holm",
    "Kings",
    "Lang",
    "Lark",
    "Lin",
    "Marsh",
    "Mill",
    "Nor",
    "Oak",
    "Pen",
    "Red",
    "Rook",
    "Salt",
    "Shel",
    "Stan",
    "Thorn",
    "Wel",
    "West",
    "Whit",
    "Wil",
    "Wyn",
]
PLACE_ENDS = [
    "bridge",
    "bury",
    "combe",
    "croft",
    "dale",
    "den",
    "field",
    "ford",
    "gate",
    "ham",
    "hurst",
    "ley",
    "mere",
    "minster",
    "mouth",
    "stead",
    "stow",
    "thorpe",
    "ton",
    "well",
    "wick",
    "worth",
]
SCHOOL_FEATURES = [
    "Lane",
    "Park",
    "Hill",
    "Road",
    "Green",
    "Meadow",
    "Vale",
    "Grove",
    "Fields",
    "Heath",
    "Common",
    "Church of England",
    "St Anne's Catholic",
    "St Mark's CofE",
    "Community",
]
# (phase, share, the word in the school's name)
PHASES = [
    ("Primary", 0.74, "Primary School"),
    ("Secondary", 0.16, "High School"),
    ("Special", 0.05, "Special School"),
    ("Nursery", 0.02, "Nursery School"),
    ("All-through", 0.01, "School"),
    ("Alternative provision", 0.02, "Learning Centre"),
]
MAINTAINED_TYPES = [
    "Community school",
    "Voluntary aided school",
    "Voluntary controlled school",
    "Foundation school",
]

MILESTONE_TITLES = {
    "school": [
        "Interim executive board in place",
        "Safeguarding audit actions completed",
        "Curriculum plans in place for every subject",
        "Attendance action plan agreed with governors",
        "External review of teaching quality",
        "Monitoring visit finds effective action",
        "Substantive headteacher appointed",
        "Behaviour policy rewritten and in use",
    ],
    "local_authority": [
        "Improvement plan agreed with the improvement board",
        "Permanent chief executive appointed",
        "Medium-term financial plan balanced",
        "Scrutiny arrangements reviewed",
        "Commissioners' first report published",
        "Governance review actions completed",
    ],
    "childrens_services": [
        "Permanent director of children's services appointed",
        "Caseloads below 20 per social worker",
        "Front door (MASH) redesigned",
        "Monitoring visit finds progress",
        "Quality assurance framework in use",
        "Agency social worker share halved",
    ],
    "nhs_trust": [
        "Board governance review completed",
        "Nurse staffing at planned levels",
        "Emergency department rebuilt flow model live",
        "Well-led review actions completed",
        "Mortality ratio within expected range",
        "Financial recovery plan agreed",
    ],
}
OBSERVATIONS = {
    "positive": "Monitoring visit: leaders are taking effective action",
    "negative": "Monitoring visit: leaders are not taking effective action",
    "neutral": "Monitoring visit: some progress, not yet consistent",
}
