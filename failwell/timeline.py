"""One institution's history across its whole lineage, read in a fixed number of queries,
and the timeline of the institution page built from it.

The page, its chart and its timeline all read the same `LineageHistory`, so they
can never disagree, and the number of queries does not grow with the history: one
query per kind of row over the lineage's member ids (plus one per lineage
generation to find the members, and one for the details of the timeline's page
of evidence: see EvidenceRow).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from django.db import connection
from django.db.models import Q, QuerySet

from failwell.dates import local_day, local_day_and_time, long_date
from failwell.filters import person_name
from institutions.models import (
    Band,
    CategoryOfConcern,
    Inspection,
    Institution,
    Judgement,
    LineageLink,
    headline_band,
    headline_words,
)
from interventions.models import (
    Evidence,
    Intervention,
    Milestone,
    MilestoneStatus,
    Outcome,
    TrajectoryAssessment,
    evidence_words,
)

CONCERN_LABELS = dict(CategoryOfConcern.choices)


class JudgementRow(NamedTuple):
    area: str
    grade: str
    band: str


class InspectionRow(NamedTuple):
    """One inspection as the chart and the timeline read it: plain values rather than
    model instances with their inspectorate, scale, grade and judgements joined,
    which cost the page more than their SQL. The headline follows the same rule as
    Inspection.headline_band and headline_label."""

    pk: int
    institution_id: int
    inspected_on: datetime.date
    published_on: datetime.date | None
    report_url: str
    category_of_concern: str
    inspectorate: str
    scale: str
    overall_grade: str | None
    overall_band: str | None
    judgements: tuple[JudgementRow, ...] = ()

    @property
    def headline_band(self) -> Band | None:
        return headline_band(
            self.category_of_concern, self.overall_band, [j.band for j in self.judgements]
        )

    @property
    def headline_label(self) -> str:
        return headline_words(self.overall_grade, self.judgements, self.headline_band)

    @property
    def category_of_concern_label(self) -> str:
        """The category in words, as get_category_of_concern_display() gives it."""
        return CONCERN_LABELS.get(self.category_of_concern, self.category_of_concern)


# InspectionRow's fields up to its judgements, in its order, as Inspection lookups.
INSPECTION_COLUMNS = (
    "pk",
    "institution_id",
    "inspected_on",
    "published_on",
    "report_url",
    "category_of_concern",
    "inspectorate__name",
    "scale__name",
    "overall_grade__label",
    "overall_grade__band",
)


def inspection_rows(institution_ids: list[int]) -> list[InspectionRow]:
    """The institutions' inspections, oldest first, each with its judgements in the
    order of their areas. Two queries."""
    judgements: dict[int, list[JudgementRow]] = {}
    for inspection_id, *judgement in Judgement.objects.filter(
        inspection__institution_id__in=institution_ids
    ).values_list("inspection_id", "area__name", "grade__label", "grade__band"):
        judgements.setdefault(inspection_id, []).append(JudgementRow(*judgement))
    return [
        InspectionRow(*row, judgements=tuple(judgements.get(row[0], ())))
        for row in Inspection.objects.filter(institution_id__in=institution_ids)
        .order_by("inspected_on", "pk")
        .values_list(*INSPECTION_COLUMNS)
    ]


def status_changes_and_latest(institution_id: int) -> list[TrajectoryAssessment]:
    """The institution's assessments that began a status (the first among them), and
    its latest, oldest first: the rows whose status differs from the one before.

    Raw SQL, as a window over the institution's rows: the same query through the
    ORM (Window, Lag, Lead and a filter on them) took four times the Python time
    to compile as it takes to run. Standard SQL, for PostgreSQL and SQLite alike.
    """
    table = connection.ops.quote_name(TrajectoryAssessment._meta.db_table)
    return list(
        TrajectoryAssessment.objects.raw(
            f"""
            SELECT * FROM (
                SELECT assessment.*,
                    LAG(assessment.status) OVER by_time AS previous_status,
                    LEAD(assessment.id) OVER by_time AS next_id
                FROM {table} AS assessment
                WHERE assessment.institution_id = %s
                WINDOW by_time AS (ORDER BY assessment.as_of, assessment.computed_at, assessment.id)
            ) AS changes
            WHERE previous_status IS NULL OR previous_status <> status OR next_id IS NULL
            ORDER BY as_of, computed_at, id
            """,
            [institution_id],
        )
    )


NOBODY = (None, None, None)


class EvidenceRow(NamedTuple):
    """One piece of evidence as the chart, the timeline and the intervention page show it.

    The chart draws all of a lineage's evidence, hundreds of rows for a long
    history: model instances (with their indicator and people) cost the page more
    than all of its SQL, so evidence is read as plain values (`evidence_rows`).
    What only its timeline item says (when and by whom it was logged or retracted,
    its attachment) is read for the timeline's page alone, with `details`: the
    timestamps alone cost more than the rest of a row.
    """

    pk: int
    institution_id: int
    observed_on: datetime.date
    direction: str
    summary: str
    value: float | None
    retracted_at: datetime.datetime | None
    indicator_id: int | None
    indicator_name: str | None
    indicator_unit: str | None
    indicator_target: float | None
    higher_is_better: bool | None
    intervention_id: int | None
    milestone_id: int | None
    # The details.
    attachment: str = ""  # the stored file's name; empty for none
    attachment_name: str = ""
    logged_at: datetime.datetime | None = None
    logged_by: tuple[str | None, str | None, str | None] = NOBODY  # first, last, user name
    retracted_by: tuple[str | None, str | None, str | None] = NOBODY
    retraction_reason: str = ""

    @property
    def is_retracted(self) -> bool:
        return self.retracted_at is not None

    @property
    def title(self) -> str:
        return evidence_words(self.indicator_name, self.value, self.indicator_unit, self.direction)

    @property
    def observed_on_text(self) -> str:
        return long_date(self.observed_on)

    @property
    def logged_at_text(self) -> str:
        return local_day_and_time(self.logged_at)

    @property
    def retracted_on_text(self) -> str:
        return "" if self.retracted_at is None else local_day(self.retracted_at)

    @property
    def logged_by_name(self) -> str:
        """Who logged it, as User.get_full_name() or the user name; empty for an import."""
        return _name(*self.logged_by)

    @property
    def retracted_by_name(self) -> str:
        return _name(*self.retracted_by)


def _name(first: str | None, last: str | None, username: str | None) -> str:
    return "" if username is None else person_name(first, last, username)


# EvidenceRow's fields up to its details, in its order, as Evidence lookups.
EVIDENCE_COLUMNS = (
    "pk",
    "institution_id",
    "observed_on",
    "direction",
    "summary",
    "value",
    "retracted_at",
    "indicator_id",
    "indicator__name",
    "indicator__unit",
    "indicator__target",
    "indicator__higher_is_better",
    "intervention_id",
    "milestone_id",
)
# Then its details; a person is three columns.
EVIDENCE_DETAILS = (
    "attachment",
    "attachment_name",
    "logged_at",
    "logged_by__first_name",
    "logged_by__last_name",
    "logged_by__username",
    "retracted_by__first_name",
    "retracted_by__last_name",
    "retracted_by__username",
    "retraction_reason",
)


def evidence_rows(evidence: QuerySet[Evidence], details: bool = False) -> list[EvidenceRow]:
    """This evidence as rows, in the queryset's order, with their details or not. One query."""
    if not details:
        return [EvidenceRow(*row) for row in evidence.values_list(*EVIDENCE_COLUMNS)]
    return [
        with_details(row[: len(EVIDENCE_COLUMNS)], row[len(EVIDENCE_COLUMNS) :])
        for row in evidence.values_list(*EVIDENCE_COLUMNS, *EVIDENCE_DETAILS)
    ]


def with_details(fields: tuple, details: tuple) -> EvidenceRow:
    """An EvidenceRow from the values of EVIDENCE_COLUMNS and of EVIDENCE_DETAILS."""
    # Unpacked by name, so a column added to EVIDENCE_DETAILS cannot shift the others.
    (
        attachment,
        attachment_name,
        logged_at,
        logged_by_first,
        logged_by_last,
        logged_by_username,
        retracted_by_first,
        retracted_by_last,
        retracted_by_username,
        reason,
    ) = details
    logged_by = (logged_by_first, logged_by_last, logged_by_username)
    retracted_by = (retracted_by_first, retracted_by_last, retracted_by_username)
    return EvidenceRow(
        *fields, attachment, attachment_name, logged_at, logged_by, retracted_by, reason
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
        inspections = inspection_rows(ids)
        interventions = list(
            Intervention.objects.filter(institution_id__in=ids)
            .select_related("type", "lead")
            .order_by("started_on", "pk")
        )
        by_id = {intervention.pk: intervention for intervention in interventions}
        milestones = list(
            Milestone.objects.filter(intervention_id__in=by_id).order_by("due_on", "pk")
        )
        evidence = evidence_rows(
            Evidence.objects.filter(institution_id__in=ids).order_by("observed_on", "pk")
        )
        assessments = status_changes_and_latest(institution.pk)
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

    def evidence_in_full(self, ids: Iterable[int]) -> dict[int, EvidenceRow]:
        """These pieces of the lineage's evidence with their details, by id, for the
        timeline's page. One query; none for no ids."""
        ids = list(ids)
        if not ids:
            return {}
        # Only the details: the rest is in the rows already read.
        read = {row.pk: row[: len(EVIDENCE_COLUMNS)] for row in self.evidence}
        return {
            pk: with_details(read[pk], details)
            for pk, *details in Evidence.objects.filter(pk__in=ids).values_list(
                "pk", *EVIDENCE_DETAILS
            )
        }

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


@dataclass(frozen=True)
class TimelineEntry:
    """One item of the timeline. `item` is its row (an InspectionRow, an Intervention,
    a Milestone, an EvidenceRow, with its details after `read_in_full`, or a
    TrajectoryAssessment); `event` says which of its moments this is (an
    intervention starts and ends; a milestone is due or met)."""

    kind: str
    on: datetime.date
    item: object
    event: str
    member: Institution | None  # the lineage member, when it is not the page's institution

    @property
    def on_text(self) -> str:
        """3 March 2010: the date filter's "j F Y", without its cost per entry."""
        return long_date(self.on)

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
    evidence = history.evidence_in_full(
        entry.item.pk for entry in entries if entry.kind == "evidence"
    )
    return [
        replace(entry, item=evidence[entry.item.pk]) if entry.kind == "evidence" else entry
        for entry in entries
    ]
