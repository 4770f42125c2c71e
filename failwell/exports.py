"""CSV downloads of inspections, interventions, milestones and evidence.

    /export/                    "Download data": what, and a date range (export-options)
    /export/inspections.csv     export-inspections
    /export/interventions.csv   export-interventions
    /export/milestones.csv      export-milestones
    /export/evidence.csv        export-evidence

Which institutions: the dashboard's own filter form and query (failwell/filters.py),
with the same query parameters, so "for these institutions" on the dashboard means
exactly the institutions its table lists, status filter included. Which rows: an
optional date range, `date_from` and `date_to` (yyyy-mm-dd, both inclusive); what
each file holds, and which date the range applies to, is in failwell/export_rows.py.

Every role reads everything (DESIGN.md, "Roles"), so every role may download every
file, and nothing else: anyone without a role gets 403 as on every page.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from django import forms
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from failwell.access import role_required
from failwell.csv_export import streaming_csv_response
from failwell.export_rows import DOWNLOADS, Download
from failwell.filters import DashboardFilters, FilterChoices, filtered, shareable_query
from failwell.widgets import DateInputs

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
