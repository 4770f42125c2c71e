"""What the planner decides: plain dataclasses, and the small date helpers it uses."""

from __future__ import annotations

import datetime
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from failwell.synthetic.rules import CONVERSION_SHARE
from interventions.models import add_months


@dataclass
class InspectionPlan:
    on: datetime.date
    scale: str
    rank: int  # the band rank the inspection is meant to show, FAILING to ABOVE
    category: str = ""
    reference: str = ""
    overall: int | None = None  # the overall grade's band rank; None on report cards
    judgements: list[tuple[str, int]] = field(default_factory=list)  # (area slug, rank)
    variant: int = 0  # picks among grades of one band (Exceptional or Strong standard)


@dataclass
class MilestonePlan:
    title: str
    due_on: datetime.date
    status: str
    achieved_on: datetime.date | None


@dataclass
class InterventionPlan:
    type_slug: str
    intensity: str
    started_on: datetime.date
    ended_on: datetime.date | None
    outcome: str
    grace_months: int | None
    objectives: str
    milestones: list[MilestonePlan] = field(default_factory=list)


@dataclass
class EvidencePlan:
    on: datetime.date
    indicator: str | None = None
    value: float | None = None
    direction: str = ""
    summary: str = ""
    intervention: int | None = None  # index into the institution's interventions


@dataclass
class InstitutionPlan:
    key: str
    name: str
    slug: str
    sector: str
    region: str
    identifiers: list[tuple[str, str]]
    local_authority: str = ""
    phase: str = ""
    establishment_type: str = ""
    parent_key: str | None = None
    predecessor_key: str | None = None  # set on an academy that replaced a school
    linked_on: datetime.date | None = None
    # Areas this school has judgements for, beyond the ones every school has.
    early_years: bool = False
    sixth_form: bool = False
    inspections: list[InspectionPlan] = field(default_factory=list)
    interventions: list[InterventionPlan] = field(default_factory=list)
    evidence: list[EvidencePlan] = field(default_factory=list)
    goodness: Goodness | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Size:
    schools: int = 22000
    councils: int = 150
    trusts: int = 210

    @property
    def conversions(self) -> int:
        """Schools (counted in `schools`) that are academies replacing a predecessor."""
        if self.schools < 10:
            return 0
        return max(1, round(self.schools * CONVERSION_SHARE / (1 + CONVERSION_SHARE)))

    @property
    def institutions(self) -> int:
        return self.schools + 2 * self.councils + self.trusts


def months_after(day: datetime.date, months: float) -> datetime.date:
    whole = math.floor(months)
    return add_months(day, whole) + datetime.timedelta(days=round((months - whole) * 30))


def day_between(rng: random.Random, lo: datetime.date, hi: datetime.date) -> datetime.date:
    if hi <= lo:
        return lo
    return lo + datetime.timedelta(days=rng.randint(0, (hi - lo).days))


def month_starts(lo: datetime.date, hi: datetime.date, step: int = 1) -> Iterator[datetime.date]:
    day = lo.replace(day=1)
    if day < lo:
        day = add_months(day, 1)
    while day <= hi:
        yield day
        day = add_months(day, step)


def proportions(rng: random.Random, total: int, weights: list[tuple[str, float]]) -> list[str]:
    """`total` labels in the given proportions, at least one of each when there is room."""
    labels = [label for label, _ in weights]
    counts = {label: int(total * weight) for label, weight in weights}
    for label in labels:
        if sum(counts.values()) >= total:
            break
        if counts[label] == 0:
            counts[label] = 1
    while sum(counts.values()) < total:
        counts[labels[0]] += 1
    result = [label for label in labels for _ in range(counts[label])][:total]
    rng.shuffle(result)
    return result


class Goodness:
    """How well an institution is doing over time, in standard units (0 is typical).

    A piecewise-linear curve through knots; indicators read their values off it, so
    a J-curve or a relapse shows in every indicator the institution reports.
    """

    def __init__(self, start: float) -> None:
        self.knots: list[tuple[int, float]] = [(0, start)]

    def at(self, day: datetime.date, value: float) -> None:
        ordinal = day.toordinal()
        self.knots = [knot for knot in self.knots if knot[0] < ordinal] + [(ordinal, value)]

    def __call__(self, day: datetime.date) -> float:
        ordinal = day.toordinal()
        previous = self.knots[0]
        for knot in self.knots[1:]:
            if knot[0] >= ordinal:
                span = knot[0] - previous[0]
                share = (ordinal - previous[0]) / span if span else 1.0
                return previous[1] + share * (knot[1] - previous[1])
            previous = knot
        return previous[1]

    def slope(self, day: datetime.date) -> float:
        return self(day + datetime.timedelta(days=45)) - self(day - datetime.timedelta(days=45))


def running_intervention(interventions: list[InterventionPlan], on: datetime.date) -> int | None:
    """The latest intervention running on that day, to link evidence to it."""
    for position in range(len(interventions) - 1, -1, -1):
        intervention = interventions[position]
        if intervention.started_on <= on and (
            intervention.ended_on is None or on <= intervention.ended_on
        ):
            return position
    return None
