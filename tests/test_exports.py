"""CSV downloads of inspections, interventions, milestones and evidence: the
dashboard's institutions, an optional date range, streamed, for every role."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from failwell.export_rows import (
    EVIDENCE_HEADER,
    INSPECTION_HEADER,
    INTERVENTION_HEADER,
    MILESTONE_HEADER,
)
from tests.factories import (
    make_evidence,
    make_identifier,
    make_indicator,
    make_inspection,
    make_institution,
    make_intervention,
    make_milestone,
    make_user,
)

pytestmark = pytest.mark.django_db

DOWNLOADS = ["inspections", "interventions", "milestones", "evidence"]
HEADERS = {
    "inspections": INSPECTION_HEADER,
    "interventions": INTERVENTION_HEADER,
    "milestones": MILESTONE_HEADER,
    "evidence": EVIDENCE_HEADER,
}


def read_csv(response) -> list[dict]:
    content = b"".join(response.streaming_content).decode("utf-8")
    assert content.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(content.removeprefix("\ufeff"))))


def download(client, what: str, query: str = "") -> list[dict]:
    response = client.get(f"/export/{what}.csv{'?' + query if query else ''}")
    assert response.status_code == 200, response
    return read_csv(response)


def give_history(institution, year: int = 2015, *, tag: str = ""):
    """One of each kind of row, dated in `year`."""
    make_inspection(institution, overall="Inadequate", on=datetime.date(year, 3, 1))
    intervention = make_intervention(institution, started_on=datetime.date(year, 3, 1))
    make_milestone(intervention, title=f"Plan {tag or year}", due_on=datetime.date(year, 9, 1))
    make_evidence(institution, observed_on=datetime.date(year, 6, 1), summary=f"Seen {tag}")
    return intervention


@pytest.mark.parametrize("what", DOWNLOADS)
def test_each_download_is_a_streamed_csv_with_its_header(officer_client, what):
    response = officer_client.get(f"/export/{what}.csv")

    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = timezone.localdate()
    assert response["Content-Disposition"] == (
        f'attachment; filename="failwell-{what}-{today:%Y-%m-%d}.csv"'
    )
    content = b"".join(response.streaming_content).decode("utf-8").removeprefix("\ufeff")
    assert next(csv.reader(io.StringIO(content))) == list(HEADERS[what])


@pytest.mark.parametrize("what", DOWNLOADS)
def test_the_dashboard_filters_choose_the_institutions(officer_client, what):
    school = make_institution(name="Eltham School", sector="school", region="London")
    trust = make_institution(name="Basildon Trust", sector="nhs_trust", region="East")
    give_history(school, tag="school")
    give_history(trust, tag="trust")
    trust.status = "improving"
    trust.save()

    by_sector = download(officer_client, what, "sector=school")
    by_region_and_search = download(officer_client, what, "region=East&q=basildon")
    by_status = download(officer_client, what, "status=improving&status=failing")
    everyone = download(officer_client, what)

    assert {row["institution"] for row in by_sector} == {"Eltham School"}
    assert {row["institution"] for row in by_region_and_search} == {"Basildon Trust"}
    assert {row["institution"] for row in by_status} == {"Basildon Trust"}
    assert [row["institution"] for row in everyone] == ["Basildon Trust", "Eltham School"]


def test_the_date_range_limits_inspections_evidence_and_milestones(officer_client, institution):
    for year in (2010, 2014, 2018):
        give_history(institution, year)
    query = "date_from=2012-01-01&date_to=2016-12-31"

    inspections = download(officer_client, "inspections", query)
    evidence = download(officer_client, "evidence", query)
    milestones = download(officer_client, "milestones", query)

    assert [row["inspected_on"] for row in inspections] == ["2014-03-01"]
    assert [row["observed_on"] for row in evidence] == ["2014-06-01"]
    assert [row["due_on"] for row in milestones] == ["2014-09-01"]
    assert len(download(officer_client, "inspections", "date_from=2014-03-01")) == 2
    assert len(download(officer_client, "inspections", "date_to=2014-03-01")) == 2


def test_interventions_running_at_any_time_in_the_range_are_included(officer_client, institution):
    make_intervention(
        institution,
        started_on=datetime.date(2009, 1, 1),
        ended_on=datetime.date(2011, 12, 31),
        outcome="escalated",
    )
    make_intervention(
        institution,
        "commissioners-monitoring",
        started_on=datetime.date(2010, 1, 1),
        ended_on=datetime.date(2012, 6, 30),
        outcome="succeeded",
    )
    make_intervention(institution, "leadership-change", started_on=datetime.date(2016, 1, 1))
    make_intervention(institution, "improvement-board", started_on=datetime.date(2019, 1, 1))

    rows = download(officer_client, "interventions", "date_from=2012-01-01&date_to=2016-12-31")

    assert [row["started_on"] for row in rows] == ["2010-01-01", "2016-01-01"]


def test_an_inspection_row_gives_its_grades_in_words(officer_client, institution):
    make_identifier(institution, scheme="urn", value="100000")
    make_inspection(
        institution,
        overall="Inadequate",
        on=datetime.date(2010, 3, 10),
        published_on=datetime.date(2010, 4, 1),
        reference="10001",
        category_of_concern="special_measures",
        report_url="https://reports.ofsted.gov.uk/provider/23/100000",
        judgements={"leadership-and-management": "Inadequate", "quality-of-education": "Good"},
    )
    make_inspection(
        institution,
        "ofsted-report-card-2025",
        overall=None,
        on=datetime.date(2025, 12, 1),
        judgements={"achievement": "Needs attention", "safeguarding": "Met"},
    )

    old, report_card = download(officer_client, "inspections")

    assert old == {
        "institution": "Eltham Foundation School",
        "institution_slug": "eltham",
        "identifiers": "urn:100000",
        "inspectorate": "Ofsted",
        "rating_scale": old["rating_scale"],
        "inspected_on": "2010-03-10",
        "published_on": "2010-04-01",
        "reference": "10001",
        "overall_grade": "Inadequate",
        "category_of_concern": "Special measures",
        "headline_band": "Failing",
        "headline": "Inadequate",
        "judgements": "Quality of education: Good; Leadership and management: Inadequate",
        "report_url": "https://reports.ofsted.gov.uk/provider/23/100000",
    }
    assert old["rating_scale"]
    assert (report_card["overall_grade"], report_card["headline_band"]) == ("", "Below standard")
    assert report_card["headline"] == "Achievement: Needs attention"
    assert report_card["judgements"] == "Achievement: Needs attention; Safeguarding: Met"


def test_an_intervention_row_counts_its_milestones(officer_client, institution, lead):
    intervention = make_intervention(
        institution,
        started_on=datetime.date(2010, 3, 10),
        intensity="directed",
        lead=lead,
        objectives="Leave special measures",
    )
    make_milestone(intervention, status="met", achieved_on=datetime.date(2010, 5, 1))
    make_milestone(intervention, status="missed")
    make_milestone(intervention)

    (row,) = download(officer_client, "interventions")

    assert row["type"] == "Special measures"
    assert (row["intensity"], row["outcome"], row["lead"]) == ("Directed", "Ongoing", "Lena")
    assert (row["started_on"], row["ended_on"]) == ("2010-03-10", "")
    assert row["grace_months"] == str(intervention.type.grace_months)
    assert row["grace_window_ends_on"] == intervention.grace_window_ends_on.isoformat()
    assert (row["milestones"], row["milestones_met"], row["milestones_missed"]) == ("3", "1", "1")
    assert row["objectives"] == "Leave special measures"


def test_a_milestone_row_names_its_intervention(officer_client, institution):
    intervention = make_intervention(institution, started_on=datetime.date(2010, 3, 10))
    make_milestone(
        intervention,
        title="New head teacher in post",
        due_on=datetime.date(2010, 9, 1),
        status="met",
        achieved_on=datetime.date(2010, 8, 20),
        notes="Appointed in July",
    )

    (row,) = download(officer_client, "milestones")

    assert row == {
        "institution": "Eltham Foundation School",
        "institution_slug": "eltham",
        "identifiers": "",
        "intervention": "Special measures",
        "intervention_started_on": "2010-03-10",
        "title": "New head teacher in post",
        "due_on": "2010-09-01",
        "status": "Met",
        "achieved_on": "2010-08-20",
        "notes": "Appointed in July",
    }


def test_evidence_includes_retracted_entries_with_the_reason_and_who(
    officer_client, institution, lead
):
    exclusions = make_indicator(name="Fixed-term exclusions", unit="%")
    make_evidence(
        institution,
        indicator=exclusions,
        value=12.5,
        observed_on=datetime.date(2010, 6, 30),
        logged_by=lead,
    )
    wrong = make_evidence(
        institution,
        direction="negative",
        summary="=HYPERLINK(bad)",
        observed_on=datetime.date(2010, 7, 1),
    )
    retractor = make_user(first_name="Rita", last_name="Reviewer")
    wrong.retract(retractor, "Logged against the wrong school")

    value, observation = download(officer_client, "evidence")

    assert (value["indicator"], value["value"], value["unit"]) == (
        "Fixed-term exclusions",
        "12.5",
        "%",
    )
    assert (value["direction"], value["logged_by"], value["retracted"]) == ("", "Lena", "no")
    assert value["retracted_at"] == value["retracted_by"] == value["retraction_reason"] == ""
    assert (observation["direction"], observation["summary"]) == ("Negative", "'=HYPERLINK(bad)")
    assert observation["logged_by"] == ""  # logged by no person (an import)
    assert observation["retracted"] == "yes"
    assert observation["retracted_by"] == "Rita Reviewer"
    assert observation["retraction_reason"] == "Logged against the wrong school"
    assert observation["retracted_at"].startswith(f"{timezone.localdate():%Y-%m-%d} ")


@pytest.mark.parametrize("what", DOWNLOADS)
def test_the_query_count_does_not_grow_with_the_rows(officer_client, what):
    def queries_for_download() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = officer_client.get(f"/export/{what}.csv")
            rows = read_csv(response)
        return len(queries), len(rows)

    first = make_institution()
    make_identifier(first)
    give_history(first)
    one_count, one_rows = queries_for_download()
    for n in range(6):
        other = make_institution()
        make_identifier(other)
        make_identifier(other, scheme="laestab")
        for year in (2012, 2016, 2020):
            intervention = give_history(other, year, tag=f"{n}-{year}")
            make_milestone(intervention, due_on=datetime.date(year, 12, 1))
    many_count, many_rows = queries_for_download()

    assert one_rows == 1 and many_rows > 15
    assert many_count == one_count


@pytest.mark.parametrize("role", ["officer", "lead", "administrator"])
def test_every_role_may_download(request, client, role):
    client.force_login(request.getfixturevalue(role))
    for what in DOWNLOADS:
        assert client.get(f"/export/{what}.csv").status_code == 200
    assert client.get("/export/").status_code == 200


def test_an_account_without_a_role_may_not_download(client):
    client.force_login(make_user())
    for what in DOWNLOADS:
        assert client.get(f"/export/{what}.csv").status_code == 403
    assert client.get("/export/").status_code == 403


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get("/export/evidence.csv")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/export/evidence.csv")


def test_a_bad_date_in_the_address_is_explained_on_the_options_page(officer_client):
    response = officer_client.get("/export/evidence.csv?date_from=2016-02-31&sector=school")

    assert response.status_code == 302
    assert response["Location"].startswith("/export/?")
    page = officer_client.get(response["Location"]).content.decode()
    assert "govuk-error-summary" in page
    assert "The from date must be a real date" in page
    assert 'value="evidence" checked' in page


def test_the_options_page_carries_the_dashboard_filters_and_redirects_to_the_file(
    officer_client,
):
    make_institution(sector="school")
    make_institution(sector="prison")

    page = officer_client.get("/export/?sector=school&sort=-status").content.decode()
    chosen = officer_client.get(
        "/export/?sector=school&sort=-status&what=milestones"
        "&date_from_day=1&date_from_month=9&date_from_year=2012"
        "&date_to_day=&date_to_month=&date_to_year="
    )
    institutions = officer_client.get("/export/?sector=school&what=institutions")

    assert "For the 1 institution that matches your" in page
    assert '<input type="hidden" name="sector" value="school">' in page
    assert "govuk-error-summary" not in page
    assert chosen.status_code == 302
    assert chosen["Location"] == (
        "/export/milestones.csv?sector=school&sort=-status&date_from=2012-09-01"
    )
    assert institutions["Location"] == "/export/institutions.csv?sector=school"


@pytest.mark.parametrize(
    "query,message",
    [
        ("what=", "Select what to download"),
        ("download=csv&sector=school", "Select what to download"),
        (
            "what=evidence&date_from=2016-01-01&date_to=2015-01-01",
            "The to date must be the same as or after the from date",
        ),
    ],
)
def test_the_options_page_names_what_is_wrong(officer_client, query, message):
    response = officer_client.get(f"/export/?{query}")

    assert response.status_code == 200
    assert message in response.content.decode()
    assert "<title>Error: Download data - failwell</title>" in response.content.decode()


def test_the_dashboard_links_to_each_download_with_its_filters(officer_client):
    make_institution(sector="school")

    page = officer_client.get("/?sector=school").content.decode()

    for what in DOWNLOADS:
        assert f'href="/export/{what}.csv?sector=school"' in page
    assert 'href="/export/?sector=school"' in page


def test_evidence_names_its_attachment_as_uploaded_not_as_stored(officer_client, institution):
    make_evidence(
        institution,
        observed_on=datetime.date(2010, 6, 1),
        attachment="evidence/0f8e2c1a9b7d4e6f8a0b1c2d3e4f5a6b.pdf",
        attachment_name="Governors minutes June.pdf",
    )
    make_evidence(
        institution,
        observed_on=datetime.date(2010, 7, 1),
        attachment="evidence/older-upload.csv",
    )
    make_evidence(institution, observed_on=datetime.date(2010, 8, 1))

    named, unnamed, without = download(officer_client, "evidence")

    assert named["attachment"] == "Governors minutes June.pdf"
    assert unnamed["attachment"] == "older-upload.csv"  # uploaded before names were kept
    assert without["attachment"] == ""
