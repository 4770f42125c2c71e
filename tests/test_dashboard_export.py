"""The dashboard's CSV export: exactly the filtered rows, every page, streamed."""

import csv
import datetime
import io

import pytest
from django.http import StreamingHttpResponse
from django.utils import timezone

from failwell.dashboard import EXPORT_HEADER, PAGE_SIZE
from tests.factories import (
    make_identifier,
    make_institution,
    make_lead_assignment,
    make_member,
    make_user,
)
from tests.test_dashboard import HTMX, make_many

pytestmark = pytest.mark.django_db

URL = "/export/institutions.csv"


def read_csv(response) -> list[list[str]]:
    content = b"".join(response.streaming_content).decode("utf-8")
    assert content.startswith("\ufeff"), "Excel needs the byte order mark to read UTF-8"
    return list(csv.reader(io.StringIO(content.removeprefix("\ufeff"))))


def dashboard_names(client, query: str) -> list[str]:
    """Every name the dashboard lists for this query, page after page."""
    found, page = [], 1
    while True:
        response = client.get(f"/?{query}&page={page}")
        found += [institution.name for institution in response.context["page_obj"].object_list]
        if not response.context["page_obj"].has_next():
            return found
        page += 1


def test_the_export_is_a_streamed_csv_download(officer_client):
    make_institution()
    response = officer_client.get(URL)
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = timezone.localdate()
    assert response["Content-Disposition"] == (
        f'attachment; filename="failwell-institutions-{today:%Y-%m-%d}.csv"'
    )
    assert read_csv(response)[0] == list(EXPORT_HEADER)


def test_a_row_has_every_column(officer_client, lead, institution):
    make_identifier(institution, scheme="laestab", value="2034000")
    make_identifier(institution, scheme="urn", value="100000")
    second_lead = make_member("Turnaround leads", first_name="Sam", last_name="Second")
    make_lead_assignment(institution, lead=second_lead, starts_on=datetime.date(2016, 1, 1))
    make_lead_assignment(
        institution, lead=make_user(first_name="Past"), ends_on=datetime.date(2015, 12, 31)
    )
    institution.region = "London"
    institution.status = "improving"
    institution.status_since = datetime.date(2011, 7, 1)
    institution.latest_inspection_on = datetime.date(2010, 3, 12)
    institution.latest_inspectorate = "Ofsted"
    institution.latest_headline_grade = "Inadequate"
    institution.latest_headline_band = "failing"
    institution.save()
    rows = read_csv(officer_client.get(URL))
    assert rows[1] == [
        "Eltham Foundation School",
        "eltham",
        "school",
        "London",
        "urn:100000;laestab:2034000",
        "improving",
        "2011-07-01",
        "2010-03-12",
        "Ofsted",
        "Inadequate",
        "failing",
        "Lena; Sam Second",
    ]


def test_an_institution_with_nothing_known_has_empty_cells(officer_client):
    make_institution(name="Blank", slug="blank")
    assert read_csv(officer_client.get(URL))[1] == [
        "Blank",
        "blank",
        "school",
        "",
        "",
        "unknown",
        "",
        "",
        "",
        "",
        "",
        "",
    ]


def test_the_rows_are_exactly_the_filtered_rows_of_every_page_in_the_dashboard_order(
    officer_client,
):
    for n in range(PAGE_SIZE + 10):
        make_institution(
            name=f"School {n:03}",
            sector="school",
            status="failing" if n % 2 else "stalled",
            status_since=datetime.date(2020, 1, 1) + datetime.timedelta(days=n % 7),
        )
    make_institution(name="A prison", sector="prison", status="failing")
    query = "sector=school&status=failing&status=stalled&sort=-since"
    rows = read_csv(officer_client.get(f"{URL}?{query}"))
    exported = [row[0] for row in rows[1:]]
    assert len(exported) == PAGE_SIZE + 10
    assert exported == dashboard_names(officer_client, query)


def test_search_and_lead_filters_apply_to_the_export(officer_client, lead, institution):
    make_identifier(make_institution(name="By URN"), value="123456")
    make_institution(name="Other")
    names = [row[0] for row in read_csv(officer_client.get(f"{URL}?q=123456"))[1:]]
    assert names == ["By URN"]
    names = [row[0] for row in read_csv(officer_client.get(f"{URL}?lead={lead.pk}"))[1:]]
    assert names == [institution.name]


def test_no_matching_institutions_gives_just_the_header(officer_client):
    make_institution(status="failing")
    assert read_csv(officer_client.get(f"{URL}?status=improving")) == [list(EXPORT_HEADER)]


def test_bad_filters_send_people_to_the_dashboard_which_names_the_problem(officer_client):
    response = officer_client.get(f"{URL}?sector=castle&status=failing")
    assert response.status_code == 302
    assert response["Location"] == "/?sector=castle&status=failing"
    page = officer_client.get(response["Location"])
    assert "Select a sector from the list" in page.content.decode()


def test_an_unknown_sort_exports_in_the_default_order(officer_client):
    make_institution(name="Bravo")
    make_institution(name="Alpha")
    rows = read_csv(officer_client.get(f"{URL}?sort=secret"))
    assert [row[0] for row in rows[1:]] == ["Alpha", "Bravo"]


def test_cells_that_a_spreadsheet_would_run_as_formulas_are_neutralised(officer_client):
    make_institution(name='=HYPERLINK("http://evil.example")', region="+London")
    row = read_csv(officer_client.get(URL))[1]
    assert row[0] == '\'=HYPERLINK("http://evil.example")'
    assert row[3] == "'+London"


# export: session, user, roles; the form's regions, inspectorates and leads, in one
# statement; the request's savepoint and release; then, streamed, the rows and one
# query each for the identifiers and the leads of each batch of 1,000 rows.
EXPORT_QUERIES = 9


def test_the_export_makes_the_same_queries_for_1_or_200_institutions(
    officer_client, django_assert_num_queries
):
    make_many(1)
    with django_assert_num_queries(EXPORT_QUERIES):
        assert len(read_csv(officer_client.get(URL))) == 2
    make_many(199)
    with django_assert_num_queries(EXPORT_QUERIES):
        rows = read_csv(officer_client.get(f"{URL}?sort=status&q=bulk"))
    assert len(rows) == 201
    assert all(row[4].startswith("urn:") and row[11].startswith("Lead ") for row in rows[1:])


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/export/institutions.csv")


def test_signed_in_users_without_a_role_are_refused(client):
    client.force_login(make_user())
    assert client.get(URL).status_code == 403
    assert client.get(URL, **HTMX).status_code == 403


@pytest.mark.parametrize("persona", ["officer", "lead", "administrator"])
def test_every_role_may_export(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(URL).status_code == 200
