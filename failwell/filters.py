"""The dashboard's filters: the form, its choices and the query they select.

Shared by the dashboard, its CSV download and the other exports
(failwell/exports.py), so every one of them lists exactly the same institutions.
"""

from __future__ import annotations

import datetime
import html
from dataclasses import dataclass
from urllib.parse import urlencode

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import (
    Exists,
    F,
    Lookup,
    OuterRef,
    Q,
)
from django.db.models.query import QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.safestring import SafeString

from failwell.access import current_assignments
from failwell.roles import TURNAROUND_LEAD
from institutions.models import (
    Identifier,
    Inspection,
    Inspectorate,
    Institution,
    Sector,
    TrajectoryStatus,
)

CHANGED_WITHIN_DAYS = (7, 30, 90, 365)

# The sort parameter's whitelist: a column key, "-" in front for descending.
SORT_FIELDS = {
    "name": "name",
    "sector": "sector",
    "region": "region",
    "inspected": "latest_inspection_on",
    "status": "status_rank",
    "since": "status_since",
}
DEFAULT_SORT = "name"


def person_name(first_name: str, last_name: str, username: str) -> str:
    """As User.get_full_name() shows it, falling back to the username."""
    return f"{first_name} {last_name}".strip() or username


@dataclass(frozen=True)
class FilterChoices:
    """The options that come from the database, read once per request (one statement)."""

    regions: list[str]
    inspectorates: list[tuple[str, str]]  # (slug, name)
    leads: list[tuple[int, str]]  # (user pk, name), users in the Turnaround leads group

    @classmethod
    def load(cls) -> FilterChoices:
        """The three lists in one statement, each row tagged with its list: they are a
        few rows each, and three queries through the ORM cost the page about a
        millisecond and a half more Python than this one."""
        regions, inspectorates, leads = [], [], []
        with connection.cursor() as cursor:
            cursor.execute(filter_choices_sql(), ["", TURNAROUND_LEAD])
            for kind, key, name, last_name, username in cursor.fetchall():
                if kind == "region":
                    regions.append(key)
                elif kind == "inspectorate":
                    inspectorates.append((key, name))
                else:
                    leads.append((int(key), person_name(name, last_name, username)))
        return cls(regions, inspectorates, leads)


def filter_choices_sql() -> str:
    """The statement FilterChoices.load runs, for PostgreSQL and SQLite alike.

    The regions in use: a dozen among 22,000 institutions, so SELECT DISTINCT would
    read every row on every page view. regions_in_use walks the region index
    instead, one step per region (the next region after the last one found), which
    both databases answer from the index of failwell/migrations/0004.
    The inspectorates by name; the users in the Turnaround leads group by name.
    Columns: list, key (region, slug or user pk), then the names it sorts by.
    """
    quote = connection.ops.quote_name
    user = get_user_model()
    membership = user.groups.through._meta
    member = quote(membership.get_field("user").column)
    group = quote(membership.get_field("group").column)
    user_pk = quote(user._meta.pk.column)
    group_pk = quote(Group._meta.pk.column)
    institution = quote(Institution._meta.db_table)
    return f"""
        WITH RECURSIVE regions_in_use (region) AS (
            SELECT MIN(region) FROM {institution} WHERE region > %s
            UNION ALL
            SELECT (SELECT MIN(region) FROM {institution} WHERE region > regions_in_use.region)
            FROM regions_in_use WHERE regions_in_use.region IS NOT NULL
        )
        SELECT 'region', region, NULL, NULL, NULL FROM regions_in_use WHERE region IS NOT NULL
        UNION ALL
        SELECT 'inspectorate', slug, name, NULL, NULL FROM {quote(Inspectorate._meta.db_table)}
        UNION ALL
        SELECT 'lead', CAST(u.{user_pk} AS VARCHAR(20)), u.first_name, u.last_name, u.username
        FROM {quote(user._meta.db_table)} u
        JOIN {quote(membership.db_table)} m ON m.{member} = u.{user_pk}
        JOIN {quote(Group._meta.db_table)} g ON g.{group_pk} = m.{group}
        WHERE g.name = %s
        ORDER BY 1, 3, 4, 5, 2
    """


def widget_attributes(attrs: dict) -> str:
    """Attributes as django/forms/widgets/attrs.html writes them: in order, True as a
    bare name, False left out (django.forms.utils.flatatt sorts them)."""
    escape = html.escape  # what django.utils.html.escape does, without its lazy check
    return "".join(
        f" {escape(key)}" if value is True else f' {escape(key)}="{escape(str(value))}"'
        for key, value in attrs.items()
        if value is not False
    )


class FilterSelect(forms.Select):
    """A select that writes its options itself, in the markup of Django's
    select.html and select_option.html, instead of rendering a template (and its
    attrs template) for every option: the filter form's forty-odd options cost more
    Python time than the page's SQL. The filters' choices have no option groups."""

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        escape = html.escape  # what django.utils.html.escape does, without its lazy check
        chosen = self.format_value(value)
        options, any_selected = [], False
        for option_value, label in self.choices:
            option_value = "" if option_value is None else str(option_value)
            # Only the first option with the value is selected, as Select.optgroups does.
            selected = not any_selected and option_value in chosen
            any_selected = any_selected or selected
            options.append(
                f'\n  <option value="{escape(option_value)}"{" selected" if selected else ""}>'
                f"{escape(str(label))}</option>\n"
            )
        attributes = widget_attributes(self.build_attrs(self.attrs, attrs))
        options_html = "".join(options)
        return SafeString(f'<select name="{escape(name)}"{attributes}>{options_html}\n</select>')


class FilterSearch(forms.TextInput):
    """The search box, written in the markup of Django's input.html, for the same
    reason as FilterSelect: its two templates cost more than the rest of its field."""

    input_type = "search"

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        shown = "" if widget["value"] is None else f' value="{html.escape(str(widget["value"]))}"'
        return SafeString(
            f'<input type="{html.escape(widget["type"])}" name="{html.escape(name)}"{shown}'
            f"{widget_attributes(widget['attrs'])}>"
        )


class DashboardFilters(forms.Form):
    """The dashboard's query string. Every parameter is optional; a bad one is named
    in the error summary and left out of the filtering, never a 500."""

    q = forms.CharField(
        label="Name or identifier",
        help_text="Part of a name, or a whole URN, ODS code or other identifier",
        required=False,
        max_length=200,
        error_messages={"max_length": "Search must be 200 characters or fewer"},
        widget=FilterSearch(attrs={"spellcheck": "false"}),
    )
    status = forms.MultipleChoiceField(
        label="Status",
        choices=TrajectoryStatus.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Select statuses from the list"},
    )
    sector = forms.ChoiceField(
        widget=FilterSelect,
        label="Sector",
        choices=[("", "All sectors"), *Sector.choices],
        required=False,
        error_messages={"invalid_choice": "Select a sector from the list"},
    )
    region = forms.ChoiceField(
        widget=FilterSelect,
        label="Region",
        required=False,
        error_messages={"invalid_choice": "Select a region from the list"},
    )
    inspectorate = forms.ChoiceField(
        widget=FilterSelect,
        label="Inspected by",
        required=False,
        error_messages={"invalid_choice": "Select an inspectorate from the list"},
    )
    lead = forms.TypedChoiceField(
        widget=FilterSelect,
        label="Turnaround lead",
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": "Select a turnaround lead from the list"},
    )
    changed = forms.TypedChoiceField(
        widget=FilterSelect,
        label="Status changed",
        choices=[("", "At any time")]
        + [(str(days), f"In the last {days} days") for days in CHANGED_WITHIN_DAYS],
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": "Select how recently the status changed from the list"},
    )
    # Set by the sort links, carried by the form so filtering keeps the order.
    sort = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, data: QueryDict, choices: FilterChoices) -> None:
        super().__init__(data)
        self.fields["region"].choices = [("", "All regions")] + [(r, r) for r in choices.regions]
        self.fields["inspectorate"].choices = [("", "Any inspectorate"), *choices.inspectorates]
        self.fields["lead"].choices = [("", "Any lead")] + [
            (str(pk), name) for pk, name in choices.leads
        ]

    def clean_q(self) -> str:
        return " ".join(self.cleaned_data["q"].split())

    def clean_sort(self) -> str:
        # Sort links only ever carry whitelisted values; anything else is a
        # hand-edited URL, which gets the default order rather than an error.
        value = self.cleaned_data["sort"]
        return value if value.removeprefix("-") in SORT_FIELDS else DEFAULT_SORT

    def filters(self) -> dict:
        """The valid filters, after is_valid(); invalid ones are left out."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        cleaned = dict(self.cleaned_data)
        cleaned.setdefault("sort", DEFAULT_SORT)
        return cleaned


class InIdList(Lookup):
    """`id IN (subquery)` that PostgreSQL can answer from an index inside an OR.

    In an OR, PostgreSQL tests `IN (subquery)` or `EXISTS` row by row over the whole
    table. Written as `= ANY(ARRAY(subquery))` the subquery runs once, first, and
    the comparison is an indexed one, so "name contains X or identifier is X"
    combines the name's trigram index with the primary key (a BitmapOr) instead of
    reading all 22,000 institutions. Other databases get the plain IN.
    """

    lookup_name = "in_id_list"

    def as_sql(self, compiler, connection) -> tuple[str, list]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} IN {rhs}", [*lhs_params, *rhs_params]

    def as_postgresql(self, compiler, connection) -> tuple[str, list]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY(ARRAY{rhs})", [*lhs_params, *rhs_params]


def filtered(filters: dict, *, by_status: bool = True) -> QuerySet[Institution]:
    """Institutions matching the filters; by_status=False leaves out the status filter."""
    institutions = Institution.objects.all()
    if filters.get("q"):
        search = filters["q"]
        # Identifiers match whole values only. ODS and GSS codes are upper case, so
        # "rdd" finds RDD while the lookup stays an indexed equality. The name part
        # uses the trigram index of failwell/migrations/0003 on PostgreSQL.
        identified = Identifier.objects.filter(value__in={search, search.upper()}).values(
            "institution_id"
        )
        institutions = institutions.filter(
            Q(name__icontains=search) | Q(InIdList(F("pk"), identified))
        )
    if filters.get("sector"):
        institutions = institutions.filter(sector=filters["sector"])
    if filters.get("region"):
        institutions = institutions.filter(region=filters["region"])
    if filters.get("inspectorate"):
        # EXISTS rather than a join: an institution inspected many times is one row.
        inspected = Inspection.objects.filter(
            institution=OuterRef("pk"), inspectorate__slug=filters["inspectorate"]
        )
        institutions = institutions.filter(Exists(inspected))
    if filters.get("lead"):
        institutions = institutions.filter(
            Exists(
                current_assignments().filter(institution=OuterRef("pk"), lead_id=filters["lead"])
            )
        )
    if filters.get("changed"):
        since = timezone.now() - datetime.timedelta(days=filters["changed"])
        institutions = institutions.filter(status_changed_at__gte=since)
    return with_status(institutions, filters) if by_status else institutions


def with_status(institutions: QuerySet[Institution], filters: dict) -> QuerySet[Institution]:
    """These institutions narrowed to the statuses picked, if any: the last of the
    filters, which the dashboard adds to the others' queryset rather than building
    them twice."""
    if filters.get("status"):
        return institutions.filter(status__in=filters["status"])
    return institutions


def shareable_query(params: QueryDict) -> QueryDict:
    """The query string without empty parameters: what the address bar should show."""
    kept = QueryDict(mutable=True)
    for key, values in params.lists():
        non_empty = [value for value in values if value.strip()]
        if non_empty:
            kept.setlist(key, non_empty)
    return kept


def query_string(query: QueryDict, **changes: str | None) -> str:
    """`query` with these parameters set (None removes one), as "?a=1&b=2", or "" when
    there is nothing at all: what {% querystring query key=value %} writes, for the
    links made in Python rather than in a template (the dashboard's, pagination's)."""
    # A dict of lists rather than QueryDict.copy(), which deep-copies: a page makes
    # twenty-odd of these links.
    params = dict(query.lists())
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = [value]
    if not params and not query:
        return ""
    return "?" + urlencode([(key, value) for key, values in params.items() for value in values])
