"""Failure episodes: when an institution's history says it was failing, and until when.

DESIGN.md: an episode begins at a failing headline band or at the start of an
intervention, whichever comes first; it ends at the first later inspection at or
above standard, or at the end of an intervention recorded as succeeded. This module
sorts a history once (so the trajectory method can ask about many dates) and walks
it to find the current or last episode on a date.

Choices, as a careful overseer would expect:
- Inspections without a headline band ("Not graded") say nothing about standards:
  they neither begin nor end an episode.
- Several graded inspections on one day (Ofsted and CQC together) are one
  *inspection day* whose band is the worst of them: recovery is never declared
  while a same-day judgement says otherwise.
- Within one day, events apply in this order: ends of succeeded interventions,
  intervention starts, the inspection day. So a succeeded intervention and a
  failing inspection on the same day leave a new episode (failing), and a
  special-measures inspection with its intervention on the same day is one episode.
  An intervention that starts and succeeds on one day ends after that day's
  inspections, since it cannot end before it starts.
- An inspection day at or above standard ends an episode only when it is later
  than the day the episode began ("first later inspection").
- An intervention belongs to the episode running when it started, or to the one
  its start begins. Only a succeeded end of one of the current episode's
  interventions ends it: an old intervention finishing during a new failure says
  nothing about the new failure.
"""

from __future__ import annotations

import bisect
import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from interventions.trajectory import InspectionFact, InterventionFact, MilestoneFact

# The values of institutions.models.Band, as literals so this module imports without
# Django (tests/test_trajectory_rules.py checks they match).
BAND_RANKS = {"failing": 0, "below_standard": 1, "at_standard": 2, "above_standard": 3}
AT_STANDARD = BAND_RANKS["at_standard"]
OUTCOMES = ("ongoing", "succeeded", "escalated", "withdrawn", "superseded")
MILESTONE_STATUSES = ("planned", "in_progress", "met", "missed", "dropped")

_END_OF_EARLIER_START, _START, _INSPECTION_DAY, _END_OF_SAME_DAY_START = range(4)


def _check_choice(value: object, allowed: Iterable[str], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"Unknown {what} {value!r}; expected one of {', '.join(allowed)}.")


@dataclass
class InspectionDay:
    """The graded inspections of one day, best first; the day's band is the worst."""

    on: datetime.date
    band: str
    inspections: list[InspectionFact]

    @property
    def rank(self) -> int:
        return BAND_RANKS[self.band]


@dataclass
class Episode:
    began_on: datetime.date
    interventions: list[InterventionFact] = field(default_factory=list)
    members: set[int] = field(default_factory=set)
    ended_on: datetime.date | None = None
    ended_by_day: InspectionDay | None = None
    ended_by_intervention: InterventionFact | None = None


def milestone_key(milestone: MilestoneFact) -> tuple:
    return (
        milestone.due_on,
        milestone.title,
        milestone.status,
        milestone.achieved_on or datetime.date.min,
    )


def _intervention_key(intervention: InterventionFact) -> tuple:
    # On a same-day tie the longest grace window sorts last and so is the
    # episode's "latest" intervention: a same-day package gets the longer patience.
    return (
        intervention.started_on,
        intervention.grace_months,
        intervention.type_name,
        intervention.ended_on or datetime.date.max,
        intervention.outcome,
        intervention.institution,
        tuple(sorted(milestone_key(m) for m in intervention.milestones)),
    )


def _inspection_key(inspection: InspectionFact) -> tuple:
    rank = -BAND_RANKS[inspection.band] if inspection.band is not None else 1
    return (
        inspection.inspected_on,
        rank,
        inspection.inspectorate,
        inspection.grade,
        inspection.category_of_concern,
        inspection.institution,
    )


def succeeded_on(intervention: InterventionFact) -> datetime.date | None:
    """The day a succeeded intervention ended (never before it started), else None."""
    if intervention.outcome != "succeeded" or intervention.ended_on is None:
        return None
    return max(intervention.ended_on, intervention.started_on)


class Timeline:
    """A history's inspections and interventions, sorted once with full tie-breaks."""

    def __init__(
        self, inspections: Iterable[InspectionFact], interventions: Iterable[InterventionFact]
    ) -> None:
        inspections = list(inspections)
        interventions = list(interventions)
        for inspection in inspections:
            if inspection.band is not None:
                _check_choice(inspection.band, BAND_RANKS, "band")
        for intervention in interventions:
            _check_choice(intervention.outcome, OUTCOMES, "intervention outcome")
            for milestone in intervention.milestones:
                _check_choice(milestone.status, MILESTONE_STATUSES, "milestone status")

        self.inspections = sorted(inspections, key=_inspection_key)
        self.inspection_dates = [i.inspected_on for i in self.inspections]
        self.days: list[InspectionDay] = []
        for inspection in self.inspections:
            if inspection.band is None:
                continue
            if self.days and self.days[-1].on == inspection.inspected_on:
                self.days[-1].inspections.append(inspection)
                self.days[-1].band = inspection.band
            else:
                self.days.append(
                    InspectionDay(inspection.inspected_on, inspection.band, [inspection])
                )
        self.day_dates = [day.on for day in self.days]

        self.interventions = sorted(interventions, key=_intervention_key)
        events = [(day.on, _INSPECTION_DAY, index) for index, day in enumerate(self.days)]
        for index, intervention in enumerate(self.interventions):
            events.append((intervention.started_on, _START, index))
            ended_on = succeeded_on(intervention)
            if ended_on == intervention.started_on:
                events.append((ended_on, _END_OF_SAME_DAY_START, index))
            elif ended_on is not None:
                events.append((ended_on, _END_OF_EARLIER_START, index))
        self.events = sorted(events)

        starts = [day.on for day in self.days if day.band == "failing"]
        starts += [intervention.started_on for intervention in self.interventions]
        self.first_episode_on = min(starts) if starts else None

        # Reasons name the lineage member only once the history spans more than one,
        # counted on the date assessed, so later facts never change earlier words.
        first_seen: dict[str, datetime.date] = {}
        named = [(i.inspected_on, i.institution) for i in self.inspections]
        named += [(i.started_on, i.institution) for i in self.interventions]
        for on, name in sorted(named):
            if name:
                first_seen.setdefault(name, on)
        self._names_seen_on = sorted(first_seen.values())

    def days_until(self, on: datetime.date) -> int:
        """How many inspection days fall on or before the date."""
        return bisect.bisect_right(self.day_dates, on)

    def inspections_until(self, on: datetime.date) -> int:
        """How many inspections, graded or not, fall on or before the date."""
        return bisect.bisect_right(self.inspection_dates, on)

    def days_from(self, on: datetime.date) -> int:
        """The index of the first inspection day on or after the date."""
        return bisect.bisect_left(self.day_dates, on)

    def spans_lineage(self, as_of: datetime.date) -> bool:
        """Whether facts of more than one lineage member are dated on or before as_of."""
        return bisect.bisect_right(self._names_seen_on, as_of) > 1

    def last_episode(self, as_of: datetime.date) -> Episode | None:
        """The current or most recent failure episode as of the date, or None."""
        episode: Episode | None = None
        for on, phase, index in self.events:
            if on > as_of:
                break
            running = episode is not None and episode.ended_on is None
            if phase == _START:
                if not running:
                    episode = Episode(began_on=on)
                episode.interventions.append(self.interventions[index])
                episode.members.add(index)
            elif phase == _INSPECTION_DAY:
                day = self.days[index]
                if day.band == "failing" and not running:
                    episode = Episode(began_on=on)
                elif day.rank >= AT_STANDARD and running and episode.began_on < on:
                    episode.ended_on = on
                    episode.ended_by_day = day
            elif running and index in episode.members:
                episode.ended_on = on
                episode.ended_by_intervention = self.interventions[index]
        return episode
