"""What each CSV download holds, and how its rows are read (the views are in
failwell/exports.py).

Each file is one row per inspection (intervention, milestone, piece of evidence),
with the institution's name, slug and identifiers first, choices in words
("Special measures", not "special_measures"), dates as yyyy-mm-dd and times as
local "yyyy-mm-dd hh:mm". The date range applies to:

- inspections: the date of the inspection;
- interventions: any intervention running at some time in the range (started on or
  before its end, and not ended before its start);
- milestones: the due date;
- evidence: the date it was observed.

Evidence includes retracted entries, with when, by whom and why: evidence is never
deleted, and an export that dropped retractions would not match the history people
were shown. Filter on the `retracted` column to leave them out. A blank `logged_by`
means an import logged it.

Rows stream in batches of EXPORT_BATCH: each batch costs one query for its
institutions' identifiers (and, for inspections, one for their judgements), so the
query count does not grow with the rows.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from os.path import basename

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from failwell.csv_export import in_batches
from failwell.dashboard import EXPORT_BATCH, identifiers_by_institution
from failwell.filters import person_name
from institutions.models import (
    Band,
    CategoryOfConcern,
    Inspection,
    Institution,
    Judgement,
    headline_band,
    headline_words,
)
from interventions.models import (
    Direction,
    Evidence,
    Intensity,
    Intervention,
    Milestone,
    MilestoneStatus,
    Outcome,
    add_months,
)


@dataclass(frozen=True)
class Download:
    """One CSV file: its name, its header, and how its rows are read."""

    slug: str
    label: str
    header: tuple[str, ...]
    rows: Callable[[QuerySet[Institution], dict], Iterator[tuple]]

    @property
    def url_name(self) -> str:
        return f"export-{self.slug}"


def _day(value: datetime.date | None) -> str:
    return value.isoformat() if value else ""


def _moment(value: datetime.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _words(choices, value: str) -> str:
    """A stored choice in words; '' stays ''."""
    return choices(value).label if value else ""


def _institution_columns(batch: list[tuple]) -> dict[int, str]:
    """ "scheme:value;..." per institution of a batch whose rows start with institution_id."""
    return {
        pk: ";".join(values)
        for pk, values in identifiers_by_institution(sorted({row[0] for row in batch})).items()
    }


# Inspections -------------------------------------------------------------

INSPECTION_HEADER = (
    "institution",
    "institution_slug",
    "identifiers",
    "inspectorate",
    "rating_scale",
    "inspected_on",
    "published_on",
    "reference",
    "overall_grade",
    "category_of_concern",
    "headline_band",
    "headline",
    "judgements",
    "report_url",
)


def in_date_range(rows: QuerySet, field: str, filters: dict) -> QuerySet:
    """Rows whose `field` falls within the chosen dates (either end may be open)."""
    if filters.get("date_from"):
        rows = rows.filter(**{f"{field}__gte": filters["date_from"]})
    if filters.get("date_to"):
        rows = rows.filter(**{f"{field}__lte": filters["date_to"]})
    return rows


def inspection_rows(institutions: QuerySet[Institution], filters: dict) -> Iterator[tuple]:
    inspections = Inspection.objects.filter(institution__in=institutions)
    inspections = in_date_range(inspections, "inspected_on", filters)
    rows = (
        inspections.order_by("institution__name", "institution_id", "inspected_on", "pk")
        .values_list(
            "institution_id",
            "pk",
            "institution__name",
            "institution__slug",
            "inspectorate__name",
            "scale__name",
            "inspected_on",
            "published_on",
            "reference",
            "overall_grade__label",
            "overall_grade__band",
            "category_of_concern",
            "report_url",
        )
        .iterator(chunk_size=EXPORT_BATCH)
    )
    for batch in in_batches(rows, EXPORT_BATCH):
        identifiers = _institution_columns(batch)
        judgements = _judgements_by_inspection([row[1] for row in batch])
        for (
            institution_id,
            pk,
            name,
            slug,
            inspectorate,
            scale,
            inspected_on,
            published_on,
            reference,
            overall_label,
            overall_band,
            category,
            report_url,
        ) in batch:
            graded = judgements.get(pk, [])
            band = headline_band(category, overall_band, [j[2] for j in graded])
            yield (
                name,
                slug,
                identifiers.get(institution_id, ""),
                inspectorate,
                scale,
                _day(inspected_on),
                _day(published_on),
                reference,
                overall_label or "",
                _words(CategoryOfConcern, category),
                band.label if band else "",
                headline_words(overall_label, graded, band),
                "; ".join(f"{area}: {label}" for area, label, _ in graded),
                report_url,
            )


def _judgements_by_inspection(pks: list[int]) -> dict[int, list[tuple[str, str, str]]]:
    """(area name, grade label, band) per inspection, in the scale's area order."""
    found: dict[int, list[tuple[str, str, str]]] = {}
    for inspection_id, area, label, band in (
        Judgement.objects.filter(inspection_id__in=pks)
        .order_by("inspection_id", "area__position", "area_id")
        .values_list("inspection_id", "area__name", "grade__label", "grade__band")
    ):
        found.setdefault(inspection_id, []).append((area, label, Band(band)))
    return found


# Interventions ------------------------------------------------------------

INTERVENTION_HEADER = (
    "institution",
    "institution_slug",
    "identifiers",
    "type",
    "intensity",
    "lead",
    "started_on",
    "ended_on",
    "outcome",
    "grace_months",
    "grace_window_ends_on",
    "objectives",
    "milestones",
    "milestones_met",
    "milestones_missed",
)


def intervention_rows(institutions: QuerySet[Institution], filters: dict) -> Iterator[tuple]:
    interventions = Intervention.objects.filter(institution__in=institutions)
    if filters.get("date_from"):
        interventions = interventions.filter(
            Q(ended_on__isnull=True) | Q(ended_on__gte=filters["date_from"])
        )
    if filters.get("date_to"):
        interventions = interventions.filter(started_on__lte=filters["date_to"])
    rows = (
        interventions.annotate(
            milestone_count=Count("milestones"),
            met=Count("milestones", filter=Q(milestones__status=MilestoneStatus.MET)),
            missed=Count("milestones", filter=Q(milestones__status=MilestoneStatus.MISSED)),
        )
        .order_by("institution__name", "institution_id", "started_on", "pk")
        .values_list(
            "institution_id",
            "institution__name",
            "institution__slug",
            "type__name",
            "intensity",
            "lead__first_name",
            "lead__last_name",
            "lead__username",
            "started_on",
            "ended_on",
            "outcome",
            "grace_months",
            "type__grace_months",
            "objectives",
            "milestone_count",
            "met",
            "missed",
        )
        .iterator(chunk_size=EXPORT_BATCH)
    )
    for batch in in_batches(rows, EXPORT_BATCH):
        identifiers = _institution_columns(batch)
        for (
            institution_id,
            name,
            slug,
            type_name,
            intensity,
            lead_first,
            lead_last,
            lead_username,
            started_on,
            ended_on,
            outcome,
            own_grace,
            type_grace,
            objectives,
            milestones,
            met,
            missed,
        ) in batch:
            grace = own_grace if own_grace is not None else type_grace
            yield (
                name,
                slug,
                identifiers.get(institution_id, ""),
                type_name,
                _words(Intensity, intensity),
                person_name(lead_first, lead_last, lead_username) if lead_username else "",
                _day(started_on),
                _day(ended_on),
                _words(Outcome, outcome),
                grace,
                _day(add_months(started_on, grace)),
                objectives,
                milestones,
                met,
                missed,
            )


# Milestones ----------------------------------------------------------------

MILESTONE_HEADER = (
    "institution",
    "institution_slug",
    "identifiers",
    "intervention",
    "intervention_started_on",
    "title",
    "due_on",
    "status",
    "achieved_on",
    "notes",
)


def milestone_rows(institutions: QuerySet[Institution], filters: dict) -> Iterator[tuple]:
    milestones = Milestone.objects.filter(intervention__institution__in=institutions)
    milestones = in_date_range(milestones, "due_on", filters)
    rows = (
        milestones.order_by(
            "intervention__institution__name",
            "intervention__institution_id",
            "intervention__started_on",
            "intervention_id",
            "due_on",
            "pk",
        )
        .values_list(
            "intervention__institution_id",
            "intervention__institution__name",
            "intervention__institution__slug",
            "intervention__type__name",
            "intervention__started_on",
            "title",
            "due_on",
            "status",
            "achieved_on",
            "notes",
        )
        .iterator(chunk_size=EXPORT_BATCH)
    )
    for batch in in_batches(rows, EXPORT_BATCH):
        identifiers = _institution_columns(batch)
        for (
            institution_id,
            name,
            slug,
            type_name,
            started_on,
            title,
            due_on,
            status,
            achieved_on,
            notes,
        ) in batch:
            yield (
                name,
                slug,
                identifiers.get(institution_id, ""),
                type_name,
                _day(started_on),
                title,
                _day(due_on),
                _words(MilestoneStatus, status),
                _day(achieved_on),
                notes,
            )


# Evidence ------------------------------------------------------------------

EVIDENCE_HEADER = (
    "institution",
    "institution_slug",
    "identifiers",
    "observed_on",
    "indicator",
    "value",
    "unit",
    "direction",
    "summary",
    "intervention",
    "intervention_started_on",
    "milestone",
    "attachment",
    "logged_by",
    "logged_at",
    "retracted",
    "retracted_at",
    "retracted_by",
    "retraction_reason",
)


def evidence_rows(institutions: QuerySet[Institution], filters: dict) -> Iterator[tuple]:
    evidence = Evidence.objects.filter(institution__in=institutions)
    evidence = in_date_range(evidence, "observed_on", filters)
    rows = (
        evidence.order_by("institution__name", "institution_id", "observed_on", "pk")
        .values_list(
            "institution_id",
            "institution__name",
            "institution__slug",
            "observed_on",
            "indicator__name",
            "value",
            "indicator__unit",
            "direction",
            "summary",
            "intervention__type__name",
            "intervention__started_on",
            "milestone__title",
            "attachment",
            "attachment_name",
            "logged_by__first_name",
            "logged_by__last_name",
            "logged_by__username",
            "logged_at",
            "retracted_at",
            "retracted_by__first_name",
            "retracted_by__last_name",
            "retracted_by__username",
            "retraction_reason",
        )
        .iterator(chunk_size=EXPORT_BATCH)
    )
    for batch in in_batches(rows, EXPORT_BATCH):
        identifiers = _institution_columns(batch)
        for (
            institution_id,
            name,
            slug,
            observed_on,
            indicator,
            value,
            unit,
            direction,
            summary,
            intervention,
            intervention_started_on,
            milestone,
            attachment,
            attachment_name,
            logged_first,
            logged_last,
            logged_username,
            logged_at,
            retracted_at,
            retracted_first,
            retracted_last,
            retracted_username,
            retraction_reason,
        ) in batch:
            yield (
                name,
                slug,
                identifiers.get(institution_id, ""),
                _day(observed_on),
                indicator or "",
                "" if value is None else value,
                unit or "",
                _words(Direction, direction),
                summary,
                intervention or "",
                _day(intervention_started_on),
                milestone or "",
                # The name it was uploaded with; the stored name is random.
                attachment_name or basename(attachment or ""),
                person_name(logged_first, logged_last, logged_username) if logged_username else "",
                _moment(logged_at),
                "yes" if retracted_at else "no",
                _moment(retracted_at),
                person_name(retracted_first, retracted_last, retracted_username)
                if retracted_username
                else "",
                retraction_reason,
            )


DOWNLOADS = {
    download.slug: download
    for download in (
        Download("inspections", "Inspections", INSPECTION_HEADER, inspection_rows),
        Download("interventions", "Interventions", INTERVENTION_HEADER, intervention_rows),
        Download("milestones", "Milestones", MILESTONE_HEADER, milestone_rows),
        Download("evidence", "Evidence", EVIDENCE_HEADER, evidence_rows),
    )
}
