"""What the institution page reads of a lineage's history: its rows, and the SQL that
reads them, written once.

The page reads a dozen small sets of rows: the lineage's inspections and their
judgements, interventions, milestones, evidence, status changes, identifiers.
Through the ORM, building and compiling each of those querysets cost about 1 ms of
Python per request, several times what PostgreSQL takes to answer it: together 11
of the page's 25 ms of CPU, on the longest history of the England-sized fixture
(bench/pages.py). So each statement is written here once, in standard SQL that
PostgreSQL and SQLite both run, and read through a plain cursor: into NamedTuples
for the chart's many rows, into model instances (failwell/sql_reads.py's
`instance`, which is Model.from_db with the ORM's converters) where templates and
forms need models.

A model read whole takes its columns from its field list, so a new field is read
without an edit here; the rows' columns are named, as their fields are.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Sequence
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.db import connection

from failwell.filters import person_name
from failwell.sql_reads import columns, instance
from institutions.models import Band, CategoryOfConcern, Identifier, headline_band, headline_words
from interventions.models import (
    Intervention,
    InterventionType,
    Milestone,
    TrajectoryAssessment,
    evidence_words,
)

CONCERN_LABELS = dict(CategoryOfConcern.choices)


def fetch(sql: str, params: Sequence) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def placeholders(values: Sequence) -> str:
    """`%s, %s, %s`: an IN list of these values' parameters."""
    return ", ".join(["%s"] * len(values))


def aware(moment: datetime.datetime | None) -> datetime.datetime | None:
    """A timestamp as the ORM gives it. PostgreSQL's driver returns it aware; SQLite
    keeps UTC without its offset, and a plain cursor returns it naive."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=datetime.UTC)


# Inspections -----------------------------------------------------------------------


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


JUDGEMENTS_SQL = """
    SELECT judgement.inspection_id, area.name, grade.label, grade.band
    FROM institutions_judgement AS judgement
    JOIN institutions_inspection AS inspection ON inspection.id = judgement.inspection_id
    JOIN institutions_evaluationarea AS area ON area.id = judgement.area_id
    JOIN institutions_grade AS grade ON grade.id = judgement.grade_id
    WHERE inspection.institution_id IN ({ids})
    ORDER BY area.position, judgement.id
"""

# InspectionRow's fields up to its judgements, in its order.
INSPECTIONS_SQL = """
    SELECT inspection.id, inspection.institution_id, inspection.inspected_on,
        inspection.published_on, inspection.report_url, inspection.category_of_concern,
        inspectorate.name, scale.name, grade.label, grade.band
    FROM institutions_inspection AS inspection
    JOIN institutions_inspectorate AS inspectorate ON inspectorate.id = inspection.inspectorate_id
    JOIN institutions_ratingscale AS scale ON scale.id = inspection.scale_id
    LEFT JOIN institutions_grade AS grade ON grade.id = inspection.overall_grade_id
    WHERE inspection.institution_id IN ({ids})
    ORDER BY inspection.inspected_on, inspection.id
"""


def inspection_rows(institution_ids: Sequence[int]) -> list[InspectionRow]:
    """The institutions' inspections, oldest first, each with its judgements in the
    order of their areas. Two queries; none for no institutions."""
    if not institution_ids:
        return []
    ids = placeholders(institution_ids)
    judgements: dict[int, list[JudgementRow]] = {}
    for inspection_id, *judgement in fetch(JUDGEMENTS_SQL.format(ids=ids), institution_ids):
        judgements.setdefault(inspection_id, []).append(JudgementRow(*judgement))
    return [
        InspectionRow(*row, judgements=tuple(judgements.get(row[0], ())))
        for row in fetch(INSPECTIONS_SQL.format(ids=ids), institution_ids)
    ]


# Interventions, milestones, identifiers ---------------------------------------------


@functools.cache
def lead_fields() -> tuple[str, ...]:
    """What is read of an intervention's lead: the name the page shows. In the user
    model's field order, the order Model.from_db takes a subset of fields in."""
    wanted = {"id", "first_name", "last_name", "username"}
    return tuple(f.attname for f in get_user_model()._meta.concrete_fields if f.attname in wanted)


@functools.cache
def interventions_sql() -> str:
    lead = ", ".join(f"lead.{name}" for name in lead_fields())
    return f"""
        SELECT {columns(Intervention, "intervention")}, {columns(InterventionType, "type")}, {lead}
        FROM interventions_intervention AS intervention
        JOIN interventions_interventiontype AS type ON type.id = intervention.type_id
        LEFT JOIN auth_user AS lead ON lead.id = intervention.lead_id
        WHERE intervention.institution_id IN ({{ids}})
        ORDER BY intervention.started_on, intervention.id
    """


def interventions(institution_ids: Sequence[int]) -> list[Intervention]:
    """The institutions' interventions, oldest first, with their type and lead, as
    select_related would give them. One query; none for no institutions."""
    if not institution_ids:
        return []
    own = len(Intervention._meta.concrete_fields)
    then = own + len(InterventionType._meta.concrete_fields)
    found = []
    sql = interventions_sql().format(ids=placeholders(institution_ids))
    for row in fetch(sql, institution_ids):
        intervention = instance(Intervention, row[:own])
        intervention.type = instance(InterventionType, row[own:then])
        lead = row[then:]
        intervention.lead = (
            None
            if lead[0] is None
            else get_user_model().from_db(connection.alias, lead_fields(), lead)
        )
        found.append(intervention)
    return found


def milestones(intervention_ids: Sequence[int]) -> list[Milestone]:
    """The interventions' milestones, by due date. One query; none for no interventions."""
    if not intervention_ids:
        return []
    sql = (
        f"SELECT {columns(Milestone, 'milestone')} FROM interventions_milestone AS milestone"
        f" WHERE milestone.intervention_id IN ({placeholders(intervention_ids)})"
        " ORDER BY milestone.due_on, milestone.id"
    )
    return [instance(Milestone, row) for row in fetch(sql, intervention_ids)]


def identifiers(institution_id: int) -> list[Identifier]:
    sql = (
        f"SELECT {columns(Identifier, 'identifier')} FROM institutions_identifier AS identifier"
        " WHERE identifier.institution_id = %s ORDER BY identifier.id"
    )
    return [instance(Identifier, row) for row in fetch(sql, [institution_id])]


# Evidence --------------------------------------------------------------------------


NOBODY = (None, None, None)


class EvidenceRow(NamedTuple):
    """One piece of evidence as the chart, the timeline and the intervention page show it.

    The chart draws all of a lineage's evidence, hundreds of rows for a long
    history: model instances (with their indicator and people) cost the page more
    than all of its SQL, so evidence is read as plain values (`evidence_rows`).
    What only its timeline item says (when and by whom it was logged or retracted,
    its attachment) is read for the timeline's page alone (`in_full`): the
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
    def logged_by_name(self) -> str:
        """Who logged it, as User.get_full_name() or the user name; empty for an import."""
        return _name(*self.logged_by)

    @property
    def retracted_by_name(self) -> str:
        return _name(*self.retracted_by)


def _name(first: str | None, last: str | None, username: str | None) -> str:
    return "" if username is None else person_name(first, last, username)


# EvidenceRow's fields up to its details, in its order; then, when asked, the details.
EVIDENCE_SQL = """
    SELECT evidence.id, evidence.institution_id, evidence.observed_on, evidence.direction,
        evidence.summary, evidence.value, evidence.retracted_at, evidence.indicator_id,
        indicator.name, indicator.unit, indicator.target, indicator.higher_is_better,
        evidence.intervention_id, evidence.milestone_id
    FROM interventions_evidence AS evidence
    LEFT JOIN interventions_indicator AS indicator ON indicator.id = evidence.indicator_id
    WHERE {where}
    ORDER BY evidence.observed_on, evidence.id
"""
DETAILS_SQL = """
    SELECT evidence.id, evidence.attachment, evidence.attachment_name, evidence.logged_at,
        logged_by.first_name, logged_by.last_name, logged_by.username,
        retracted_by.first_name, retracted_by.last_name, retracted_by.username,
        evidence.retraction_reason
    FROM interventions_evidence AS evidence
    LEFT JOIN auth_user AS logged_by ON logged_by.id = evidence.logged_by_id
    LEFT JOIN auth_user AS retracted_by ON retracted_by.id = evidence.retracted_by_id
    WHERE evidence.id IN ({ids})
"""


def evidence_rows(where: str, params: Sequence) -> list[EvidenceRow]:
    """The evidence that `where` (SQL on the table `evidence`) picks, oldest first,
    without its details. One query."""
    return [
        EvidenceRow(*row[:6], aware(row[6]), *row[7:])  # 6: retracted_at
        for row in fetch(EVIDENCE_SQL.format(where=where), params)
    ]


def lineage_evidence(institution_ids: Sequence[int]) -> list[EvidenceRow]:
    if not institution_ids:
        return []
    where = f"evidence.institution_id IN ({placeholders(institution_ids)})"
    return evidence_rows(where, institution_ids)


def in_full(rows: Sequence[EvidenceRow]) -> dict[int, EvidenceRow]:
    """These rows with their details, by id. One query; none for no rows."""
    by_id = {row.pk: row for row in rows}
    if not by_id:
        return {}
    found = {}
    sql = DETAILS_SQL.format(ids=placeholders(by_id))
    for pk, attachment, name, logged_at, *people, reason in fetch(sql, list(by_id)):
        logged_by, retracted_by = tuple(people[:3]), tuple(people[3:])
        found[pk] = by_id[pk]._replace(
            attachment=attachment,
            attachment_name=name,
            logged_at=aware(logged_at),
            logged_by=logged_by,
            retracted_by=retracted_by,
            retraction_reason=reason,
        )
    return found


# Status changes ----------------------------------------------------------------------


@functools.cache
def status_changes_sql() -> str:
    return f"""
        SELECT * FROM (
            SELECT {columns(TrajectoryAssessment, "assessment")},
                LAG(assessment.status) OVER by_time AS previous_status,
                LEAD(assessment.id) OVER by_time AS next_id
            FROM interventions_trajectoryassessment AS assessment
            WHERE assessment.institution_id = %s
            WINDOW by_time AS (ORDER BY assessment.as_of, assessment.computed_at, assessment.id)
        ) AS changes
        WHERE previous_status IS NULL OR previous_status <> status OR next_id IS NULL
        ORDER BY as_of, computed_at, id
    """


def status_changes_and_latest(institution_id: int) -> list[TrajectoryAssessment]:
    """The institution's assessments that began a status (the first among them), and
    its latest, oldest first: the rows whose status differs from the one before,
    each with that `previous_status`.

    A window over the institution's rows: the same query through the ORM (Window,
    Lag, Lead and a filter on them) took four times the Python time to compile as
    it takes to run.
    """
    own = len(TrajectoryAssessment._meta.concrete_fields)
    found = []
    for row in fetch(status_changes_sql(), [institution_id]):
        assessment = instance(TrajectoryAssessment, row[:own])
        assessment.previous_status = row[own]
        found.append(assessment)
    return found
