"""One institution's history across its whole lineage, read in a fixed number of queries,
and the timeline of the institution page built from it.

The page, its chart and its timeline all read the same `LineageHistory`, so they
can never disagree, and the number of queries does not grow with the history: one
query per kind of row over the lineage's member ids (plus one per lineage
generation to find the members, and one for the details of the timeline's page
of evidence: see EvidenceRow). The rows and the SQL that reads them are in
failwell/history_reads.py.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db.models import Q

from failwell import history_reads
from failwell.history_reads import EvidenceRow, InspectionRow
from institutions.models import Institution, LineageLink
from interventions.models import (
    Intervention,
    Milestone,
    MilestoneStatus,
    Outcome,
    TrajectoryAssessment,
)


@dataclass
class LineageHistory:
    """Everything that happened to an institution and its predecessors and successors.

    Status changes are this institution's own assessments: each member's status is
    computed over the whole lineage, so their histories would repeat one another.
    Only the assessments that changed the status are read, and the latest: a new
    row is also written when only the reasons change, and a long history has ten
    times as many of those as of changes, which nothing on the page shows.
    """

    institution: Institution
    members: dict[int, Institution]
    inspections: list[InspectionRow]
    interventions: list[Intervention]
    milestones: list[Milestone]
    evidence: list[EvidenceRow]
    # Oldest first: the first assessment and each that changed the status.
    status_changes: list[TrajectoryAssessment] = field(default_factory=list)
    latest_assessment: TrajectoryAssessment | None = None
    # This institution's own links to the members it came from or became.
    links: list[LineageLink] = field(default_factory=list)

    @classmethod
    def load(cls, institution: Institution) -> LineageHistory:
        members = {member.pk: member for member in institution.lineage()}
        ids = list(members)
        inspections = history_reads.inspection_rows(ids)
        interventions = history_reads.interventions(ids)
        by_id = {intervention.pk: intervention for intervention in interventions}
        milestones = history_reads.milestones(list(by_id))
        evidence = history_reads.lineage_evidence(ids)
        assessments = history_reads.status_changes_and_latest(institution.pk)
        links = []
        if len(members) > 1:  # alone in its lineage, it has no links to read
            links = list(
                LineageLink.objects.filter(
                    Q(predecessor_id=institution.pk) | Q(successor_id=institution.pk)
                ).order_by("linked_on", "pk")
            )
        # Point related objects at the rows already read, so that following
        # milestone.intervention.institution or a link's institutions never queries.
        for intervention in interventions:
            intervention.institution = members[intervention.institution_id]
        for link in links:
            link.predecessor = members[link.predecessor_id]
            link.successor = members[link.successor_id]
        for milestone in milestones:
            milestone.intervention = by_id[milestone.intervention_id]
        return cls(
            institution=institution,
            members=members,
            inspections=inspections,
            interventions=interventions,
            milestones=milestones,
            evidence=evidence,
            status_changes=[row for row in assessments if row.previous_status != row.status],
            latest_assessment=assessments[-1] if assessments else None,
            links=links,
        )

    @property
    def predecessor_links(self) -> list[LineageLink]:
        """The links to the institutions this one came from (Institution.predecessors)."""
        return [link for link in self.links if link.successor_id == self.institution.pk]

    @property
    def successor_links(self) -> list[LineageLink]:
        """The links to the institutions this one became (Institution.successors)."""
        return [link for link in self.links if link.predecessor_id == self.institution.pk]

    def dates(self) -> list[datetime.date]:
        """Every date the history mentions, for the chart's time axis."""
        days = [inspection.inspected_on for inspection in self.inspections]
        for intervention in self.interventions:
            days.append(intervention.started_on)
            if intervention.ended_on:
                days.append(intervention.ended_on)
        days += [m.achieved_on or m.due_on for m in self.milestones]
        days += [item.observed_on for item in self.evidence]
        days += [assessment.as_of for assessment in self.status_changes]
        if self.latest_assessment:
            days.append(self.latest_assessment.as_of)
        return days


# The kinds of entry, in the order the filter lists them.
KINDS = {
    "inspection": "Inspections",
    "intervention": "Interventions",
    "milestone": "Milestones",
    "evidence": "Evidence",
    "status": "Status changes",
}
# On one day, newest first means effect above cause: a status change above the
# evidence or inspection behind it, an intervention above the inspection that led to it.
_SAME_DAY_ORDER = {"inspection": 0, "intervention": 1, "milestone": 2, "evidence": 3, "status": 4}


class TimelineEntry(NamedTuple):
    """One item of the timeline. `item` is its row (an InspectionRow, an Intervention,
    a Milestone, an EvidenceRow, with its details after `read_in_full`, or a
    TrajectoryAssessment); `event` says which of its moments this is (an
    intervention starts and ends; a milestone is due or met). A NamedTuple: a long
    history has hundreds of entries, and a frozen dataclass took twice as long to make."""

    kind: str
    on: datetime.date
    item: object
    event: str
    member: Institution | None  # the lineage member, when it is not the page's institution

    @property
    def anchor(self) -> str:
        # Evidence keeps the id it has on every page, so a link to it works anywhere;
        # the others are prefixed so as not to clash with milestone rows on the page.
        if self.kind == "evidence":
            return f"evidence-{self.item.pk}"
        return f"timeline-{self.kind}-{self.item.pk}-{self.event}"


def parse_kinds(values: Iterable[str]) -> list[str]:
    """The kinds asked for in the query string; unknown ones are ignored, none means all."""
    chosen = [kind for kind in KINDS if kind in set(values)]
    return chosen or list(KINDS)


def milestone_event(milestone: Milestone) -> tuple[str, datetime.date]:
    if milestone.status == MilestoneStatus.MET and milestone.achieved_on:
        return "met", milestone.achieved_on
    return milestone.status, milestone.due_on


def build_timeline(history: LineageHistory, kinds: Iterable[str]) -> list[TimelineEntry]:
    """The lineage's history as timeline entries of the chosen kinds, newest first."""
    kinds = set(kinds)
    own = history.institution.pk
    entries: list[TimelineEntry] = []

    def member(institution_id: int) -> Institution | None:
        return None if institution_id == own else history.members[institution_id]

    if "inspection" in kinds:
        for inspection in history.inspections:
            entries.append(
                TimelineEntry(
                    "inspection",
                    inspection.inspected_on,
                    inspection,
                    "inspected",
                    member(inspection.institution_id),
                )
            )
    if "intervention" in kinds:
        for intervention in history.interventions:
            where = member(intervention.institution_id)
            entries.append(
                TimelineEntry(
                    "intervention", intervention.started_on, intervention, "started", where
                )
            )
            if intervention.ended_on and intervention.outcome != Outcome.ONGOING:
                entries.append(
                    TimelineEntry(
                        "intervention", intervention.ended_on, intervention, "ended", where
                    )
                )
    if "milestone" in kinds:
        for milestone in history.milestones:
            event, on = milestone_event(milestone)
            entries.append(
                TimelineEntry(
                    "milestone", on, milestone, event, member(milestone.intervention.institution_id)
                )
            )
    if "evidence" in kinds:
        for item in history.evidence:
            entries.append(
                TimelineEntry(
                    "evidence", item.observed_on, item, "observed", member(item.institution_id)
                )
            )
    if "status" in kinds:
        for assessment in history.status_changes:
            entries.append(TimelineEntry("status", assessment.as_of, assessment, "changed", None))
    entries.sort(
        key=lambda entry: (entry.on, _SAME_DAY_ORDER[entry.kind], entry.item.pk), reverse=True
    )
    return entries


def read_in_full(history: LineageHistory, entries: list[TimelineEntry]) -> list[TimelineEntry]:
    """A page of the timeline with its evidence's details (see EvidenceRow)."""
    evidence = history_reads.in_full([entry.item for entry in entries if entry.kind == "evidence"])
    return [
        entry._replace(item=evidence[entry.item.pk]) if entry.kind == "evidence" else entry
        for entry in entries
    ]
