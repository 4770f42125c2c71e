"""The dashboard: every institution's current status, filtered, sorted and paged,
and the same rows as a CSV download.

It reads only the current-status fields the recompute pipeline keeps on
Institution, so listing never touches the status history. The page, its counts
and the export share one filter form and one query, so "Download these N
institutions" is exactly the rows the table pages through, in the same order.
The filters themselves are failwell/filters.py, which the other exports share.
The page is composed here, one floor up, because it shows both apps' data.
"""

from __future__ import annotations

import datetime
import functools
import html
import itertools
import operator
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import (
    Case,
    Count,
    F,
    FilteredRelation,
    IntegerField,
    Value,
    When,
)
from django.db.models.query import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.safestring import SafeString
from django_htmx.http import HttpResponseClientRedirect

from failwell.access import current_assignments, current_on, role_required
from failwell.csv_export import in_batches, streaming_csv_response
from failwell.dates import short_date
from failwell.filters import (
    DEFAULT_SORT,
    SORT_FIELDS,
    DashboardFilters,
    FilterChoices,
    filtered,
    person_name,
    query_string,
    shareable_query,
    with_status,
)
from institutions.models import (
    Identifier,
    IdentifierScheme,
    Institution,
    Sector,
    TrajectoryStatus,
)

PAGE_SIZE = 50
# Rows per read when exporting: each batch costs one query for its rows' identifiers
# and one for their leads, so memory stays flat however long the list.
EXPORT_BATCH = 1000


def status_counts(institutions: QuerySet[Institution]) -> list[tuple[TrajectoryStatus, int]]:
    """Every status in the order of DESIGN.md's rule table, with zeros, in one query.

    COUNT(*) rather than COUNT(id): it needs no column but the status, so PostgreSQL
    can count from the (status, name) index alone instead of reading every row of a
    table the recompute keeps rewriting (3 ms instead of 12 at England's size).
    """
    found = dict(institutions.order_by().values_list("status").annotate(n=Count("*")))
    return [(status, found.get(status.value, 0)) for status in TrajectoryStatus]


def ordered(institutions: QuerySet[Institution], sort: str) -> QuerySet[Institution]:
    """Sorted by a whitelisted column, then by name and pk so that pages never
    overlap or skip a row when values tie. Missing dates go last either way."""
    key = sort.removeprefix("-")
    descending = sort.startswith("-")
    if key == "status":
        # The rule table's order (failing before improving...), not the alphabet.
        institutions = institutions.annotate(
            status_rank=Case(
                *(
                    When(status=s.value, then=Value(rank))
                    for rank, s in enumerate(TrajectoryStatus)
                ),
                default=Value(len(TrajectoryStatus)),
                output_field=IntegerField(),
            )
        )
    field = F(SORT_FIELDS[key])
    primary = field.desc(nulls_last=True) if descending else field.asc(nulls_last=True)
    tie_breaks = ["pk"] if key == "name" else ["name", "pk"]
    return institutions.order_by(primary, *tie_breaks)


@dataclass(frozen=True)
class SortHeader:
    """A sortable column heading: its aria-sort and its link's address."""

    key: str
    label: str
    aria_sort: str  # "ascending", "descending" or "" when not sorted by this column
    href: str  # sorts by this column ascending, or flips the current direction

    def html(self) -> SafeString:
        """The heading as a <th>: a link that sorts by it (without a page reload with
        htmx), and an arrow for the direction the table is sorted in."""
        escape = html.escape  # what django.utils.html.escape does, without its lazy check
        sorted_by = f' aria-sort="{self.aria_sort}"' if self.aria_sort else ""
        arrow = SORT_ARROWS.get(self.aria_sort, "")
        href = escape(self.href)
        return SafeString(
            f'<th scope="col" class="govuk-table__header"{sorted_by}>'
            f'<a class="govuk-link govuk-link--no-visited-state" id="sort-{escape(self.key)}"'
            f' href="{href}" hx-get="{href}">{escape(self.label)}{arrow}</a></th>'
        )


SORT_ARROWS = {
    "ascending": '<span aria-hidden="true"> ▲</span>',
    "descending": '<span aria-hidden="true"> ▼</span>',
}


def sort_headers(sort: str, path: str, query: QueryDict) -> list[SortHeader]:
    """The headings for a table sorted by `sort`, linking to `path` with the filters
    of `query` kept and the page number dropped."""
    labels = {
        "name": "Name",
        "sector": "Sector",
        "region": "Region",
        "inspected": "Latest inspection",
        "status": "Status",
        "since": "Since",
    }
    headers = []
    for key, label in labels.items():
        if sort.removeprefix("-") != key:
            aria_sort, link_sort = "", key
        elif sort.startswith("-"):
            aria_sort, link_sort = "descending", key
        else:
            aria_sort, link_sort = "ascending", f"-{key}"
        href = path + query_string(query, sort=link_sort, page=None)
        headers.append(SortHeader(key, label, aria_sort, href))
    return headers


@dataclass(frozen=True)
class StatusCount:
    """One status's count among the filtered institutions, with its tag and a link
    that lists that status, the other filters kept."""

    status: TrajectoryStatus
    count: int
    tag: SafeString
    href: str
    selected: bool

    def html(self) -> SafeString:
        """The count as an item of the counts list, its link marked current when this
        status is the one listed."""
        colour = "blue" if self.selected else "grey"
        current = ' aria-current="true"' if self.selected else ""
        return SafeString(
            f'<li class="moj-ticket-panel__content moj-ticket-panel__content--{colour}'
            " govuk-!-display-inline-block govuk-!-padding-2 govuk-!-margin-right-1"
            ' govuk-!-margin-bottom-2">'
            '<a class="govuk-link govuk-link--no-visited-state govuk-link--no-underline"'
            f' href="{html.escape(self.href)}"{current}>'
            '<span class="govuk-!-display-block govuk-!-font-size-27 govuk-!-font-weight-bold">'
            f"{self.count}</span>{self.tag}</a></li>"
        )


# The columns a row of the table shows, read as values: fifty model instances and
# their prefetched lead assignments cost more Python time than the rows' SQL.
ROW_FIELDS = (
    "pk",
    "name",
    "slug",
    "sector",
    "status",
    "region",
    "latest_inspection_on",
    "latest_headline_grade",
    "latest_inspectorate",
    "status_since",
)


# A valid slug that no institution's address contains elsewhere.
SLUG_PLACEHOLDER = "institution-slug"

# Between the parts of a date in a table cell, so that it never wraps.
NO_BREAK = "\xa0"


@dataclass(frozen=True)
class DashboardRow:
    """One institution as its row of the table shows it, every cell already in words."""

    pk: int
    name: str
    url: str
    sector: str
    region: str
    inspected_on: str  # "" when never inspected
    headline_grade: str
    inspectorate: str
    status_tag: SafeString
    status_since: str
    leads: str

    def html(self) -> SafeString:
        """The row as a <tr>, every text escaped.

        Written here rather than in dashboard.html: fifty rows of eight cells are
        four hundred template variables, which cost the page more Python time than
        all of its SQL takes; as one string a row they cost a fraction of that.
        """
        escape = html.escape  # what django.utils.html.escape does, without its lazy check
        if self.inspected_on:
            inspection = f"{escape(self.headline_grade)},<br>{escape(self.inspected_on)}"
            if self.inspectorate:
                inspection += f", {escape(self.inspectorate)}"
        else:
            inspection = "No inspections"
        return SafeString(
            '<tr class="govuk-table__row">'
            '<th scope="row" class="govuk-table__header">'
            f'<a class="govuk-link" href="{escape(self.url)}">{escape(self.name)}</a></th>'
            f'<td class="govuk-table__cell">{escape(self.sector)}</td>'
            f'<td class="govuk-table__cell">{escape(self.region)}</td>'
            f'<td class="govuk-table__cell">{inspection}</td>'
            f'<td class="govuk-table__cell">{self.status_tag}</td>'
            f'<td class="govuk-table__cell">{escape(self.status_since)}</td>'
            f'<td class="govuk-table__cell">{escape(self.leads)}</td>'
            "</tr>"
        )


# With ROW_FIELDS, each current lead assignment's order and lead's name, if any.
LEAD_FIELDS = (
    "current_lead__starts_on",
    "current_lead__pk",
    "current_lead__lead__first_name",
    "current_lead__lead__last_name",
    "current_lead__lead__username",
)


def current_lead_assignments(today: datetime.date) -> FilteredRelation:
    """An institution's lead assignments that are current today."""
    return FilteredRelation(
        "lead_assignments", condition=current_on(today, prefix="lead_assignments__")
    )


def dashboard_rows(
    institutions: QuerySet[Institution], tags: dict[str, SafeString]
) -> list[DashboardRow]:
    """The table rows of these institutions, in their order, in one query.

    Each institution comes joined to its current lead assignments: a row of the
    result per lead, or one with none. The ordering always ends with the pk, so an
    institution's rows come together. (A second query for the leads cost as much
    Python as the join's rows.) `tags` is status_tags().
    """
    found = institutions.annotate(
        current_lead=current_lead_assignments(timezone.localdate())
    ).values_list(*ROW_FIELDS, *LEAD_FIELDS)
    # One reverse() for the page: a slug needs no quoting in a path, so each row's
    # address is the same with its own slug in place.
    before, _, after = reverse("institution", args=[SLUG_PLACEHOLDER]).rpartition(SLUG_PLACEHOLDER)
    sectors = dict(Sector.choices)
    rows = []
    for _, joined in itertools.groupby(found, key=operator.itemgetter(0)):
        joined = list(joined)
        fields = joined[0][: len(ROW_FIELDS)]
        pk, name, slug, sector, status, region, inspected_on, grade, inspectorate, since = fields
        # (starts on, assignment pk, the lead's names) sorted: longest-serving first.
        # A row without an assignment has None for all of them.
        assignments = sorted(
            row[len(ROW_FIELDS) :] for row in joined if row[len(ROW_FIELDS)] is not None
        )
        rows.append(
            DashboardRow(
                pk=pk,
                name=name,
                url=f"{before}{slug}{after}",
                sector=sectors[sector],
                region=region or "Not recorded",
                inspected_on=short_date(inspected_on, NO_BREAK) if inspected_on else "",
                headline_grade=grade or "Not graded",
                inspectorate=inspectorate,
                status_tag=tags[status],
                status_since=short_date(since, NO_BREAK) if since else "Not known",
                leads=", ".join(person_name(*lead) for _, _, *lead in assignments) or "None",
            )
        )
    return rows


def status_tags() -> dict[str, SafeString]:
    """Each status's tag from includes/status_tag.html: a page shows sixty tags of
    only ten kinds, the same on every page, so they are rendered once per language
    (and once per process: runserver shows an edit of that template here after a
    restart). Read-only: every request shares the dict."""
    return _status_tags(translation.get_language())


@functools.cache
def _status_tags(language: str) -> dict[str, SafeString]:
    with translation.override(language):
        return {
            status.value: render_to_string("includes/status_tag.html", {"status": status.value})
            for status in TrajectoryStatus
        }


class DashboardPaginator(Paginator):
    """The dashboard's pages, made for a national list in two ways.

    The total is passed in: the status counts, read anyway, add up to it, so the
    filters are not run a second time for the paginator's COUNT(*).

    A page is read as "these 50 ids, in order" and then those rows: the ids come
    from the ordering's index alone, so a deep page (page 200 skips 9,950 rows)
    skips narrow index entries instead of sorting whole rows, and every page keeps
    its number and its shareable URL. One query, with the ids as a subquery and the
    current leads joined (dashboard_rows); the page's objects are DashboardRows.
    """

    def __init__(
        self,
        institutions: QuerySet[Institution],
        sort: str,
        count: int,
        tags: dict[str, SafeString],
    ) -> None:
        super().__init__(ordered(institutions, sort), PAGE_SIZE)
        self.sort = sort
        self.tags = tags
        self.count = count  # instead of Paginator's cached COUNT(*) query

    def page(self, number) -> Page:
        number = self.validate_number(number)
        first = (number - 1) * self.per_page
        ids = self.object_list.values("pk")[first : first + self.per_page]
        rows = ordered(Institution.objects.filter(pk__in=ids), self.sort)
        return self._get_page(dashboard_rows(rows, self.tags), number, self)


# Only reads, so outside ATOMIC_REQUESTS, as the institution page: there is nothing to
# commit, and under READ COMMITTED a transaction would not give its statements one
# snapshot anyway, so BEGIN and COMMIT were two round trips for nothing.
@transaction.non_atomic_requests
@role_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The dashboard page, or for htmx the results with the counts out of band."""
    query = shareable_query(request.GET)
    if not request.htmx and dict(query.lists()) != dict(request.GET.lists()):
        # A form submitted without JavaScript sends every field, empty or not; the
        # address people copy and share should carry only the filters in use.
        return redirect(f"{request.path}?{query.urlencode()}" if query else request.path)

    form = DashboardFilters(request.GET, FilterChoices.load())
    filters = form.filters()
    # The counts apply every filter except status: they say how many institutions
    # each status link would list, and they must not all drop to zero but one when a
    # status is picked. With statuses picked, the table total is the sum of theirs.
    others = filtered(filters, by_status=False)
    counts = status_counts(others)
    selected = set(filters.get("status") or [])
    total = sum(count for status, count in counts if not selected or status in selected)
    tags = status_tags()
    paginator = DashboardPaginator(with_status(others, filters), filters["sort"], total, tags)
    page = paginator.get_page(request.GET.get("page"))
    context = {
        "form": form,
        "counts": [
            StatusCount(
                status,
                count,
                tags[status.value],
                request.path + query_string(query, status=status.value, page=None),
                status in selected,
            )
            for status, count in counts
        ],
        "page_obj": page,
        # One string rather than a loop over the rows in the template, which cost a
        # tenth of a millisecond for fifty rows.
        "rows": SafeString("\n".join(row.html() for row in page.object_list)),
        "export_query": query_string(_without(query, "page")),
        # The default order stays out of the form, and so out of shareable URLs.
        "form_sort": "" if filters["sort"] == DEFAULT_SORT else filters["sort"],
        "sort_headers": sort_headers(filters["sort"], request.path, query),
        "filtering": bool(_without(query, "page", "sort")),
    }
    if request.htmx and not request.htmx.history_restore_request:
        if form.errors:
            # The filter form stays in the page during htmx swaps, so its errors need
            # a whole page: the error summary, the messages by the fields, focus.
            return HttpResponseClientRedirect(request.get_full_path())
        response = render(request, "failwell/dashboard.html#update", context)
        # The shareable form of the address, without the form's empty fields.
        response["HX-Push-Url"] = f"{request.path}?{query.urlencode()}" if query else request.path
    else:
        response = render(request, "failwell/dashboard.html", context)
    # The same URL answers with a fragment or a whole page: caches must tell them apart.
    patch_vary_headers(response, ("HX-Request",))
    return response


EXPORT_HEADER = (
    "name",
    "slug",
    "sector",
    "region",
    "identifiers",
    "status",
    "status_since",
    "latest_inspection_on",
    "latest_inspectorate",
    "latest_headline_grade",
    "latest_headline_band",
    "leads",
)


@role_required
def export(request: HttpRequest) -> HttpResponse:
    """The dashboard's filtered rows, every page, in its order, as a streamed CSV."""
    form = DashboardFilters(request.GET, FilterChoices.load())
    if not form.is_valid():
        # The dashboard names what is wrong with these filters.
        return redirect(f"{reverse('dashboard')}?{request.GET.urlencode()}")
    filters = form.filters()
    institutions = ordered(filtered(filters), filters["sort"])
    filename = f"failwell-institutions-{timezone.localdate():%Y-%m-%d}.csv"
    return streaming_csv_response(export_rows(institutions), filename)


def export_rows(institutions: QuerySet[Institution]) -> Iterator[tuple]:
    """The header, then one row per institution, read in batches of EXPORT_BATCH."""
    yield EXPORT_HEADER
    rows = institutions.values_list(
        "pk",
        "name",
        "slug",
        "sector",
        "region",
        "status",
        "status_since",
        "latest_inspection_on",
        "latest_inspectorate",
        "latest_headline_grade",
        "latest_headline_band",
    ).iterator(chunk_size=EXPORT_BATCH)
    for batch in in_batches(rows, EXPORT_BATCH):
        pks = [row[0] for row in batch]
        identifiers = identifiers_by_institution(pks)
        leads = lead_names_by_institution(pks)
        for pk, name, slug, sector, region, *current in batch:
            yield (
                name,
                slug,
                sector,
                region,
                ";".join(identifiers.get(pk, [])),
                *current,
                "; ".join(leads.get(pk, [])),
            )


def identifiers_by_institution(pks: list[int]) -> dict[int, list[str]]:
    """ "scheme:value" strings per institution, URN first, in IdentifierScheme's order."""
    scheme_order = {scheme: rank for rank, scheme in enumerate(IdentifierScheme.values)}
    found: dict[int, list[tuple]] = {}
    for institution_id, scheme, value in Identifier.objects.filter(
        institution_id__in=pks
    ).values_list("institution_id", "scheme", "value"):
        found.setdefault(institution_id, []).append((scheme_order.get(scheme, 99), scheme, value))
    return {
        pk: [f"{scheme}:{value}" for _, scheme, value in sorted(rows)] for pk, rows in found.items()
    }


def lead_names_by_institution(pks: list[int]) -> dict[int, list[str]]:
    """The names of each institution's current leads, longest-serving first."""
    names: dict[int, list[str]] = {}
    for institution_id, first, last, username in (
        current_assignments()
        .filter(institution_id__in=pks)
        .order_by("starts_on", "pk")
        .values_list("institution_id", "lead__first_name", "lead__last_name", "lead__username")
    ):
        names.setdefault(institution_id, []).append(person_name(first, last, username))
    return names


def _without(query: QueryDict, *keys: str) -> QueryDict:
    trimmed = query.copy()
    for key in keys:
        trimmed.pop(key, None)
    return trimmed
