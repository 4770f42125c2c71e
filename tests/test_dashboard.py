"""The dashboard: counts by status, filters, search, sorting, pages, htmx partials, access."""

import datetime
import re

import pytest
from django.utils import timezone

from failwell.dashboard import PAGE_SIZE
from institutions.models import Institution, LeadAssignment, TrajectoryStatus
from tests.factories import (
    make_identifier,
    make_inspection,
    make_institution,
    make_lead_assignment,
    make_user,
    scale,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def names(response) -> list[str]:
    """The names in the table, in the order shown."""
    return [institution.name for institution in response.context["page_obj"].object_list]


def counts(response) -> dict[str, int]:
    return {shown.status.value: shown.count for shown in response.context["counts"]}


def text(html: str) -> str:
    """The words of some HTML, keeping no-break spaces (str.split would not)."""
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def row_text(html: str, name: str) -> str:
    """The words of the table row for the institution called `name`."""
    body = re.search(r"<tbody.*?</tbody>", html, re.S)[0]
    rows = [text(row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]
    return next(row for row in rows if row.startswith(name))


# The page and its partials


def test_the_dashboard_lists_each_institution_with_its_current_status(
    officer_client, lead, institution
):
    make_institution(
        name="Eastbrook School",
        sector="school",
        region="London",
        status="early_recovery",
        status_since=datetime.date(2010, 3, 12),
        latest_inspection_on=datetime.date(2010, 3, 12),
        latest_inspectorate="Ofsted",
        latest_headline_grade="Inadequate",
        latest_headline_band="failing",
    )
    response = officer_client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Dashboard - failwell</title>" in html
    assert names(response) == ["Eastbrook School", "Eltham Foundation School"]
    assert row_text(html, "Eastbrook School") == (
        "Eastbrook School School London Inadequate, 12\xa0Mar\xa02010, Ofsted "
        "Early recovery 12\xa0Mar\xa02010 None"
    )
    assert f'<a class="govuk-link" href="{institution.get_absolute_url()}">' in html
    assert row_text(html, "Eltham Foundation School") == (
        "Eltham Foundation School School Not recorded No inspections Unknown Not known Lena"
    )


def test_each_row_names_its_current_leads_longest_serving_first(officer_client):
    today = timezone.localdate()
    day = datetime.timedelta(days=1)
    shared = make_institution(name="Shared School")
    make_lead_assignment(shared, make_user(first_name="Newer"), starts_on=today - 5 * day)
    make_lead_assignment(shared, make_user(username="olderlead"), starts_on=today - 50 * day)
    make_lead_assignment(shared, make_user(first_name="Leaving"), ends_on=today)
    make_lead_assignment(shared, make_user(first_name="Former"), ends_on=today - day)
    make_lead_assignment(shared, make_user(first_name="Future"), starts_on=today + day)
    make_lead_assignment(make_institution(name="Other School"), make_user(first_name="Elsewhere"))
    html = officer_client.get("/").content.decode()
    assert row_text(html, "Shared School").endswith("Leaving, olderlead, Newer")
    assert row_text(html, "Other School").endswith("Elsewhere")
    assert names(officer_client.get("/")) == ["Other School", "Shared School"]


def test_a_full_page_carries_the_filter_form_with_its_htmx_attributes(officer_client):
    html = officer_client.get("/").content.decode()
    form = re.search(r"<form id=\"dashboard-filters\"[^>]*>", html)[0]
    assert 'method="get"' in form and 'action="/"' in form
    assert 'hx-get="/"' in form
    assert 'hx-trigger="change, keyup changed delay:400ms from:#id_q, submit"' in form
    assert 'hx-target="#results"' in html and 'hx-push-url="true"' in html
    assert '<button type="submit" class="govuk-button"' in html
    for field in ("id_q", "id_status_0", "id_sector", "id_region", "id_inspectorate", "id_lead"):
        assert f'id="{field}"' in html
    assert 'id="id_changed"' in html


def test_an_htmx_request_gets_the_results_and_the_counts_out_of_band(officer_client):
    make_institution(name="Failing One", status="failing")
    response = officer_client.get("/?status=failing&sector=&q=", **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and "<form" not in html
    assert names(response) == ["Failing One"]
    assert re.search(r'<section id="status-counts"[^>]*hx-swap-oob="true"', html)
    assert '<div id="results-status" hx-swap-oob="innerHTML">1 institution</div>' in html
    assert '<input type="hidden" name="sort" id="id_sort" value="" hx-swap-oob="true">' in html
    # The address bar gets the shareable form of the URL, without the empty fields.
    assert response["HX-Push-Url"] == "/?status=failing"
    assert "HX-Request" in response["Vary"]


def test_the_same_url_without_htmx_renders_the_whole_page(officer_client):
    make_institution(name="Failing One", status="failing")
    response = officer_client.get("/?status=failing")
    html = response.content.decode()
    assert "<html" in html and '<form id="dashboard-filters"' in html
    assert names(response) == ["Failing One"]
    assert "hx-swap-oob" not in html
    assert "HX-Request" in response["Vary"]


def test_htmx_restoring_history_gets_the_whole_page(officer_client):
    response = officer_client.get("/", HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX)
    assert "<html" in response.content.decode()


def test_a_form_submitted_without_javascript_is_redirected_to_its_shareable_url(officer_client):
    response = officer_client.get("/?q=&status=failing&sector=&region=&lead=&sort=name")
    assert response.status_code == 302
    assert response["Location"] == "/?status=failing&sort=name"
    assert officer_client.get("/?q=&sector=")["Location"] == "/"


def test_no_institutions_match_shows_the_empty_state_with_a_link_to_clear(officer_client):
    make_institution(name="Failing One", status="failing")
    html = officer_client.get("/?status=improving").content.decode()
    assert "No institutions match these filters" in html
    assert '<a class="govuk-link" href="/">Clear filters</a> to see every institution.' in html
    assert "<table" not in html and "Download these" not in html


# Counts


def test_the_counts_show_all_ten_statuses_in_rule_order_with_zeros(officer_client):
    make_institution(status="failing")
    make_institution(status="failing")
    make_institution(status="sustained")
    response = officer_client.get("/")
    assert list(counts(response)) == TrajectoryStatus.values
    assert counts(response) == dict.fromkeys(TrajectoryStatus.values, 0) | {
        "failing": 2,
        "sustained": 1,
    }
    summary = re.search(
        r'<section id="status-counts".*?</section>', response.content.decode(), re.S
    )
    assert text(summary[0]).startswith(
        "Institutions by status 0 Unknown 2 Failing 0 Early recovery"
    )


def test_the_counts_follow_the_other_filters_but_not_the_status_filter(officer_client):
    make_institution(sector="school", status="failing")
    make_institution(sector="school", status="improving")
    make_institution(sector="prison", status="failing")
    response = officer_client.get("/?sector=school&status=failing")
    assert counts(response)["failing"] == 1
    assert counts(response)["improving"] == 1
    assert len(names(response)) == 1


def test_each_count_links_to_its_status_keeping_the_other_filters(officer_client):
    html = officer_client.get("/?sector=school&status=failing&page=2").content.decode()
    assert 'href="/?sector=school&amp;status=improving"' in html
    assert 'href="/?sector=school&amp;status=failing" aria-current="true"' in html


# Filters


def test_the_sector_filter(officer_client):
    make_institution(name="A school", sector="school")
    make_institution(name="A prison", sector="prison")
    assert names(officer_client.get("/?sector=prison")) == ["A prison"]


def test_the_region_filter_offers_the_regions_in_use(officer_client):
    make_institution(name="Northern", region="North East")
    make_institution(name="Southern", region="South West")
    make_institution(name="Nowhere", region="")
    response = officer_client.get("/?region=North+East")
    assert names(response) == ["Northern"]
    assert [value for value, _ in response.context["form"].fields["region"].choices] == [
        "",
        "North East",
        "South West",
    ]


def test_the_inspectorate_filter_lists_each_institution_once(officer_client):
    inspected_twice = make_institution(name="Inspected twice")
    make_inspection(inspected_twice, on=datetime.date(2012, 1, 1))
    make_inspection(inspected_twice, on=datetime.date(2014, 1, 1))
    make_inspection(make_institution(name="By the CQC"), scale_slug="cqc-2014")
    make_institution(name="Never inspected")
    response = officer_client.get("/?inspectorate=ofsted")
    assert names(response) == ["Inspected twice"]
    assert response.context["page_obj"].paginator.count == 1
    assert names(officer_client.get("/?inspectorate=cqc")) == ["By the CQC"]


def test_several_statuses_can_be_picked(officer_client):
    make_institution(name="Failing", status="failing")
    make_institution(name="Relapsing", status="relapsing")
    make_institution(name="Improving", status="improving")
    assert names(officer_client.get("/?status=failing&status=relapsing")) == [
        "Failing",
        "Relapsing",
    ]


def test_the_lead_filter_uses_current_assignments_only(officer_client, lead, institution):
    today = timezone.localdate()
    formerly_led = make_institution(name="Formerly led")
    make_lead_assignment(formerly_led, lead=lead, ends_on=today - datetime.timedelta(days=1))
    make_lead_assignment(
        make_institution(name="Led from next month"),
        lead=lead,
        starts_on=today + datetime.timedelta(days=30),
    )
    response = officer_client.get(f"/?lead={lead.pk}")
    assert names(response) == [institution.name]
    assert (str(lead.pk), "Lena") in response.context["form"].fields["lead"].choices


def test_the_lead_filter_offers_only_turnaround_leads(officer_client, lead, officer):
    not_a_lead = make_user(first_name="Norma")
    response = officer_client.get(f"/?lead={not_a_lead.pk}")
    assert "Select a turnaround lead from the list" in response.content.decode()
    offered = [value for value, _ in response.context["form"].fields["lead"].choices]
    assert offered == ["", str(lead.pk)]


def test_the_filter_form_shows_the_filters_in_use(officer_client, lead):
    make_institution(region="North East")
    html = officer_client.get(
        f"/?region=North+East&sector=school&lead={lead.pk}&changed=30&status=failing"
    ).content.decode()
    assert '<select name="region" class="govuk-select govuk-!-width-full" id="id_region">' in html
    assert '<option value="North East" selected>North East</option>' in html
    assert '<option value="school" selected>School</option>' in html
    assert f'<option value="{lead.pk}" selected>Lena</option>' in html
    assert '<option value="30" selected>In the last 30 days</option>' in html
    assert '<option value="" selected>Any inspectorate</option>' in html
    assert html.count(" selected>") == 5
    assert 'value="failing" checked' in html


def test_the_status_changed_filter(officer_client):
    now = timezone.now()
    make_institution(name="Last week", status_changed_at=now - datetime.timedelta(days=6))
    make_institution(name="Last month", status_changed_at=now - datetime.timedelta(days=29))
    make_institution(name="Last year", status_changed_at=now - datetime.timedelta(days=300))
    make_institution(name="Never")
    assert names(officer_client.get("/?changed=7")) == ["Last week"]
    assert names(officer_client.get("/?changed=30")) == ["Last month", "Last week"]
    assert len(names(officer_client.get("/?changed=365"))) == 3


def test_search_finds_part_of_a_name_in_any_case(officer_client):
    make_institution(name="Eltham Hill School")
    make_institution(name="Harris Academy Greenwich")
    assert names(officer_client.get("/?q=ELTHAM+hill")) == ["Eltham Hill School"]
    assert names(officer_client.get("/?q=++eltham++hill+")) == ["Eltham Hill School"]


def test_search_finds_a_whole_identifier_only(officer_client):
    school = make_institution(name="Eltham Hill School")
    make_identifier(school, scheme="urn", value="100123")
    trust = make_institution(name="Basildon Trust")
    make_identifier(trust, scheme="ods", value="RDD")
    assert names(officer_client.get("/?q=100123")) == ["Eltham Hill School"]
    assert names(officer_client.get("/?q=10012")) == []
    # ODS codes are upper case; typing them in lower case still finds them.
    assert names(officer_client.get("/?q=rdd")) == ["Basildon Trust"]


def test_filters_combine(officer_client):
    make_institution(
        name="London failing school", sector="school", region="London", status="failing"
    )
    make_institution(
        name="London failing prison", sector="prison", region="London", status="failing"
    )
    make_institution(name="Leeds failing school", sector="school", region="Leeds", status="failing")
    response = officer_client.get("/?sector=school&region=London&status=failing&q=failing")
    assert names(response) == ["London failing school"]


# Bad input


@pytest.mark.parametrize(
    "query, message",
    [
        ("sector=castle", "Select a sector from the list"),
        ("region=Atlantis", "Select a region from the list"),
        ("inspectorate=nobody", "Select an inspectorate from the list"),
        ("status=doomed", "Select statuses from the list"),
        ("lead=abc", "Select a turnaround lead from the list"),
        ("lead=999999", "Select a turnaround lead from the list"),
        ("changed=8", "Select how recently the status changed from the list"),
        ("changed=x", "Select how recently the status changed from the list"),
        ("q=" + "x" * 201, "Search must be 200 characters or fewer"),
    ],
)
def test_bad_filter_values_are_named_in_the_error_summary(officer_client, query, message):
    response = officer_client.get(f"/?{query}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Error: Dashboard - failwell</title>" in html
    summary = re.search(r'<div class="govuk-error-summary".*?</ul>', html, re.S)[0]
    assert message in summary
    assert f'<span class="govuk-visually-hidden">Error:</span> {message}</p>' in html
    # A form with errors submits without htmx, so the whole page redraws its errors.
    assert 'hx-get="/" hx-trigger' not in html


def test_a_bad_filter_is_left_out_and_the_good_ones_still_apply(officer_client):
    make_institution(name="A school", sector="school", region="London")
    make_institution(name="A prison", sector="prison", region="London")
    make_institution(name="Elsewhere", sector="school", region="Leeds")
    response = officer_client.get("/?sector=castle&region=London")
    assert names(response) == ["A prison", "A school"]


def test_an_htmx_request_with_bad_filters_reloads_the_whole_page(officer_client):
    response = officer_client.get("/?sector=castle", **HTMX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/?sector=castle"


# Sorting


@pytest.fixture
def three_institutions(db):
    make_institution(
        name="Bravo",
        sector="school",
        region="North",
        status="stalled",
        status_since=datetime.date(2020, 1, 1),
        latest_inspection_on=datetime.date(2019, 1, 1),
    )
    make_institution(
        name="Alpha",
        sector="prison",
        region="South",
        status="failing",
        status_since=datetime.date(2022, 1, 1),
        latest_inspection_on=None,
    )
    make_institution(
        name="Charlie",
        sector="nhs_trust",
        region="East",
        status="improving",
        status_since=datetime.date(2021, 1, 1),
        latest_inspection_on=datetime.date(2021, 6, 1),
    )


@pytest.mark.parametrize(
    "sort, expected",
    [
        (None, ["Alpha", "Bravo", "Charlie"]),
        ("name", ["Alpha", "Bravo", "Charlie"]),
        ("-name", ["Charlie", "Bravo", "Alpha"]),
        ("sector", ["Charlie", "Alpha", "Bravo"]),
        ("-region", ["Alpha", "Bravo", "Charlie"]),
        # Never inspected goes last in both directions.
        ("inspected", ["Bravo", "Charlie", "Alpha"]),
        ("-inspected", ["Charlie", "Bravo", "Alpha"]),
        # The rule table's order: failing, ..., improving, stalled.
        ("status", ["Alpha", "Charlie", "Bravo"]),
        ("-status", ["Bravo", "Charlie", "Alpha"]),
        ("since", ["Bravo", "Charlie", "Alpha"]),
        ("-since", ["Alpha", "Charlie", "Bravo"]),
    ],
)
def test_the_table_sorts_by_each_whitelisted_column(
    officer_client, three_institutions, sort, expected
):
    assert names(officer_client.get(f"/?sort={sort}" if sort else "/")) == expected


@pytest.mark.parametrize("sort", ["password", "-pk", "name;drop", "--name", "status_rank"])
def test_an_unknown_sort_gets_the_default_order_without_error(
    officer_client, three_institutions, sort
):
    response = officer_client.get("/", {"sort": sort})
    assert response.status_code == 200
    assert names(response) == ["Alpha", "Bravo", "Charlie"]
    assert "govuk-error-summary" not in response.content.decode()


def test_the_sorted_column_has_aria_sort_and_its_link_flips_the_direction(officer_client):
    make_institution()
    response = officer_client.get("/?sort=-since&sector=school", **HTMX)
    # The filter form gets the new order out of band, so filtering keeps it.
    assert '<input type="hidden" name="sort" id="id_sort" value="-since" hx-swap-oob="true">' in (
        response.content.decode()
    )
    html = officer_client.get("/?sort=-since&sector=school").content.decode()
    assert '<input type="hidden" name="sort" id="id_sort" value="-since">' in html
    since = re.search(r'<th scope="col"[^>]*aria-sort="descending">\s*<a[^>]*>', html)[0]
    assert 'id="sort-since"' in since
    assert 'href="/?sort=since&amp;sector=school"' in since
    assert 'hx-get="/?sort=since&amp;sector=school"' in since
    assert html.count("aria-sort=") == 1
    name = re.search(r'<a [^>]*id="sort-name"[^>]*>', html)[0]
    assert 'href="/?sort=name&amp;sector=school"' in name


def test_equal_values_keep_a_stable_order_across_pages(officer_client):
    twins = [make_institution(name="Same name", status="failing") for _ in range(PAGE_SIZE + 5)]
    first = names_and_pks(officer_client.get("/?sort=status"))
    second = names_and_pks(officer_client.get("/?sort=status&page=2"))
    assert first + second == [twin.pk for twin in twins]


def names_and_pks(response) -> list[int]:
    return [institution.pk for institution in response.context["page_obj"].object_list]


# Pages


def test_the_table_shows_fifty_a_page_with_pagination_keeping_the_filters(officer_client):
    for n in range(PAGE_SIZE + 1):
        make_institution(name=f"School {n:03}", sector="school")
    make_institution(name="A prison", sector="prison")
    response = officer_client.get("/?sector=school")
    assert len(names(response)) == PAGE_SIZE
    html = response.content.decode()
    assert "Showing 1 to 50 of 51 institutions" in html
    assert 'href="?sector=school&amp;page=2" rel="next"' in html
    assert re.search(r'<div hx-boost="true"[^>]*>\s*<nav class="govuk-pagination"', html)
    second = officer_client.get("/?sector=school&page=2")
    assert names(second) == ["School 050"]


@pytest.mark.parametrize("page, expected", [("abc", "School 000"), ("999", "School 050")])
def test_a_bad_page_number_falls_back_to_a_real_page(officer_client, page, expected):
    for n in range(PAGE_SIZE + 1):
        make_institution(name=f"School {n:03}")
    response = officer_client.get(f"/?page={page}")
    assert response.status_code == 200
    assert names(response)[0] == expected


def test_the_csv_link_carries_the_filters_and_the_sort_but_not_the_page(officer_client):
    make_institution(sector="school")
    html = officer_client.get("/?sector=school&sort=-name&page=1").content.decode()
    assert (
        '<a class="govuk-link" href="/export/institutions.csv?sector=school&amp;sort=-name">'
        in html
    )
    assert "Download this institution as CSV" in html


# Queries


def make_many(count: int, lead=None) -> None:
    """`count` more institutions, each with an identifier, an Ofsted inspection and a
    current lead, in a handful of queries."""
    from institutions.models import Identifier, Inspection

    first = Institution.objects.count()
    institutions = Institution.objects.bulk_create(
        Institution(
            name=f"Bulk {n:04}",
            slug=f"bulk-{n}",
            sector="school",
            status=TrajectoryStatus.values[n % 10],
            status_changed_at=timezone.now(),
            latest_inspection_on=datetime.date(2020, 1, 1) + datetime.timedelta(days=n),
        )
        for n in range(first, first + count)
    )
    leads = [lead] if lead else [make_user(first_name=f"Lead {n}") for n in range(3)]
    Identifier.objects.bulk_create(
        Identifier(institution=institution, scheme="urn", value=str(200000 + institution.pk))
        for institution in institutions
    )
    ofsted = scale("ofsted-overall-2012")
    Inspection.objects.bulk_create(
        Inspection(
            institution=institution,
            inspectorate_id=ofsted.inspectorate_id,
            scale=ofsted,
            inspected_on=datetime.date(2020, 1, 1),
        )
        for institution in institutions
    )
    LeadAssignment.objects.bulk_create(
        LeadAssignment(
            institution=institution, lead=leads[n % len(leads)], starts_on=datetime.date(2020, 1, 1)
        )
        for n, institution in enumerate(institutions)
    )


# session, user, roles; the form's regions, inspectorates and leads, in one
# statement; the counts (which also give the paginator its total); the page, joined
# to its current lead assignments. No transaction: the dashboard only reads.
DASHBOARD_QUERIES = 6


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["full page", "htmx"])
def test_the_dashboard_makes_the_same_queries_for_1_or_200_institutions(
    officer_client, django_assert_num_queries, headers
):
    make_many(1)
    with django_assert_num_queries(DASHBOARD_QUERIES):
        assert officer_client.get("/?sort=status", **headers).status_code == 200
    make_many(199)
    with django_assert_num_queries(DASHBOARD_QUERIES):
        response = officer_client.get("/?sort=status", **headers)
    assert len(names(response)) == PAGE_SIZE


def test_filters_add_no_queries(officer_client, django_assert_num_queries, lead):
    make_many(200, lead=lead)
    with django_assert_num_queries(DASHBOARD_QUERIES):
        response = officer_client.get(
            f"/?q=Bulk&sector=school&inspectorate=ofsted&lead={lead.pk}&changed=30"
            "&status=failing&status=improving&sort=-inspected"
        )
    assert len(names(response)) == 40


# Access


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/?status=failing")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/%3Fstatus%3Dfailing"


def test_signed_in_users_without_a_role_are_refused(client):
    client.force_login(make_user())
    assert client.get("/").status_code == 403
    assert client.get("/", **HTMX).status_code == 403


@pytest.mark.parametrize("persona", ["officer", "lead", "other_lead", "administrator"])
def test_every_role_sees_the_dashboard(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get("/").status_code == 200
