"""CSV downloads of inspections, interventions, milestones and evidence.

    /export/                    "Download data": what, and a date range (export-options)
    /export/inspections.csv     export-inspections
    /export/interventions.csv   export-interventions
    /export/milestones.csv      export-milestones
    /export/evidence.csv        export-evidence

Which institutions: the dashboard's own filter form and query (failwell/dashboard.py),
with the same query parameters, so "for these institutions" on the dashboard means
exactly the institutions its table lists, status filter included. Which rows: an
optional date range, `date_from` and `date_to` (yyyy-mm-dd, both inclusive), on

- inspections: the date of the inspection;
- interventions: any intervention running at some time in the range (started on or
  before its end, and not ended before its start);
- milestones: the due date;
- evidence: the date it was observed.

Every role reads everything (DESIGN.md, "Roles"), so every role may download every
file, and nothing else: anyone without a role gets 403 as on every page.

Evidence includes retracted entries, with when, by whom and why: evidence is never
deleted, and an export that dropped retractions would not match the history people
were shown. Filter on the `retracted` column to leave them out. A blank `logged_by`
means an import logged it.

Each file is one row per inspection (intervention...), with the institution's name,
slug and identifiers first, choices in words ("Special measures", not
"special_measures"), dates as yyyy-mm-dd. Rows stream in batches of EXPORT_BATCH:
each batch costs one query for its institutions' identifiers (and, for inspections,
one for their judgements), so the query count does not grow with the rows.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django import forms
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from failwell.access import role_required
from failwell.csv_export import streaming_csv_response
from failwell.dashboard import (
    EXPORT_BATCH,
    DashboardFilters,
    FilterChoices,
    filtered,
    identifiers_by_institution,
    person_name,
    shareable_query,
)
from failwell.widgets import DateInputs
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

DATE_PARAMETERS = ("date_from", "date_to")


class DateInputsOrIso(DateInputs):
    """The GOV.UK three-box date, or the whole date as one yyyy-mm-dd parameter.

    The form on the "Download data" page sends the boxes; the addresses it
    redirects to (and anyone sharing them) carry `date_from=2016-01-31`.
    """

    def value_from_datadict(self, data, files, name: str) -> str:
        if data.get(name):
            return data[name].strip()
        return super().value_from_datadict(data, files, name)

    def value_omitted_from_data(self, data, files, name: str) -> bool:
        return name not in data and super().value_omitted_from_data(data, files, name)


def _date_field(label: str, hint: str) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        widget=DateInputsOrIso(),
        help_text=hint,
        error_messages={
            "invalid": f"The {label.lower()} date must be a real date, for example 27 3 2024"
        },
    )


class ExportFilters(DashboardFilters):
    """The dashboard's filters, a date range, and (on the options page) what to download."""

    date_from = _date_field("From", "For example, 1 9 2012. Leave blank to start at the earliest")
    date_to = _date_field("To", "For example, 31 8 2016. Leave blank to go up to today")

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The to date must be the same as or after the from date")
        return cleaned


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


def in_batches(rows: Iterable[tuple], size: int = EXPORT_BATCH) -> Iterator[list[tuple]]:
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


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


def inspection_rows(institutions: QuerySet[Institution], filters: dict) -> Iterator[tuple]:
    inspections = Inspection.objects.filter(institution__in=institutions)
    if filters.get("date_from"):
        inspections = inspections.filter(inspected_on__gte=filters["date_from"])
    if filters.get("date_to"):
        inspections = inspections.filter(inspected_on__lte=filters["date_to"])
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
    for batch in in_batches(rows):
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
    for batch in in_batches(rows):
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
    if filters.get("date_from"):
        milestones = milestones.filter(due_on__gte=filters["date_from"])
    if filters.get("date_to"):
        milestones = milestones.filter(due_on__lte=filters["date_to"])
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
    for batch in in_batches(rows):
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
    if filters.get("date_from"):
        evidence = evidence.filter(observed_on__gte=filters["date_from"])
    if filters.get("date_to"):
        evidence = evidence.filter(observed_on__lte=filters["date_to"])
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
    for batch in in_batches(rows):
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
                attachment.rsplit("/", 1)[-1] if attachment else "",
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


# Views ---------------------------------------------------------------------


def _csv_view(download: Download) -> Callable[[HttpRequest], HttpResponse]:
    @require_GET
    @role_required
    def view(request: HttpRequest) -> HttpResponse:
        form = ExportFilters(request.GET, FilterChoices.load())
        if not form.is_valid():
            # The options page names what is wrong, beside the fields.
            query = request.GET.copy()
            query["what"] = download.slug
            return redirect(f"{reverse('export-options')}?{query.urlencode()}")
        filters = form.filters()
        rows = download.rows(filtered(filters), filters)
        filename = f"failwell-{download.slug}-{timezone.localdate():%Y-%m-%d}.csv"
        return streaming_csv_response(itertools.chain([download.header], rows), filename)

    view.__name__ = view.__qualname__ = f"export_{download.slug}"
    return view


export_inspections = _csv_view(DOWNLOADS["inspections"])
export_interventions = _csv_view(DOWNLOADS["interventions"])
export_milestones = _csv_view(DOWNLOADS["milestones"])
export_evidence = _csv_view(DOWNLOADS["evidence"])

WHAT_CHOICES = [
    ("institutions", "Institutions, with their current status and latest inspection"),
    *((slug, download.label) for slug, download in DOWNLOADS.items()),
]


class ExportOptions(ExportFilters):
    what = forms.ChoiceField(
        label="What do you want to download?",
        choices=WHAT_CHOICES,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select what to download",
            "invalid_choice": "Select what to download",
        },
    )


@require_GET
@role_required
def export_options(request: HttpRequest) -> HttpResponse:
    """Choose a file and a date range for the dashboard's current institutions.

    A GET form: the dashboard's filters ride along as hidden fields; a valid choice
    redirects to the CSV's own address, with the dates as yyyy-mm-dd.
    """
    choices = FilterChoices.load()
    dashboard_query = _dashboard_only(shareable_query(request.GET))
    # The button sends download=csv, so a form sent without a choice is still a submission.
    submitted = "what" in request.GET or "download" in request.GET
    # Unbound until submitted, so a first visit shows no errors.
    form = ExportOptions(request.GET if submitted else None, choices)
    if submitted and form.is_valid():
        return redirect(_download_address(form.cleaned_data, dashboard_query))
    filters = ExportFilters(dashboard_query, choices).filters()
    context = {
        "form": form,
        "institution_count": filtered(filters).count(),
        "dashboard_query": dashboard_query,
        "filtering": bool(_without_sort(dashboard_query)),
        "hidden_filters": [
            (key, value) for key, values in dashboard_query.lists() for value in values
        ],
    }
    return render(request, "failwell/export.html", context)


def _dashboard_only(query: QueryDict) -> QueryDict:
    """The dashboard's filter parameters alone, without the page's own fields."""
    kept = query.copy()
    for key in list(kept):
        if key in ("what", "download", "page") or key.startswith(DATE_PARAMETERS):
            del kept[key]
    return kept


def _without_sort(query: QueryDict) -> QueryDict:
    trimmed = query.copy()
    trimmed.pop("sort", None)
    return trimmed


def _download_address(cleaned: dict, dashboard_query: QueryDict) -> str:
    """The chosen CSV's address; the institutions list takes no dates."""
    kept = dashboard_query.copy()
    if cleaned["what"] == "institutions":
        url = reverse("dashboard-export")
        return f"{url}?{kept.urlencode()}" if kept else url
    for name in DATE_PARAMETERS:
        if cleaned.get(name):
            kept[name] = cleaned[name].isoformat()
    url = reverse(DOWNLOADS[cleaned["what"]].url_name)
    return f"{url}?{kept.urlencode()}" if kept else url
