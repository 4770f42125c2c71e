"""An institution's failwell bundle, downloaded from its page."""

import datetime
import io
import json

import pytest
from django.core.management import call_command
from django.http import FileResponse
from django.utils import timezone

from tests.factories import make_inspection, make_institution, make_link, make_user

pytestmark = pytest.mark.django_db

URL = "/institutions/eltham/bundle.json"


def content(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8")


def test_the_bundle_is_a_json_attachment_with_the_whole_lineage(officer_client, institution):
    predecessor = make_institution(name="Eltham Community School", slug="eltham-community")
    make_link(predecessor, institution, linked_on=datetime.date(2010, 9, 1))
    make_inspection(predecessor, overall="Inadequate", on=datetime.date(2009, 3, 1))
    make_institution(name="Unrelated School", slug="unrelated")

    response = officer_client.get(URL)

    assert response.status_code == 200
    assert isinstance(response, FileResponse)
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert "failwell-eltham-" in response["Content-Disposition"]
    bundle = json.loads(content(response))
    assert bundle["format"] == "failwell.bundle/1"
    by_ref = {entry["ref"]: entry for entry in bundle["institutions"]}
    assert set(by_ref) == {"eltham", "eltham-community"}
    assert by_ref["eltham"]["successor_of"][0]["ref"] == "eltham-community"
    assert by_ref["eltham-community"]["inspections"][0]["overall"] == "Inadequate"
    assert by_ref["eltham"]["trajectory"]["as_of"] == timezone.localdate().isoformat()


def test_the_download_is_what_the_export_command_writes(officer_client, institution):
    make_inspection(institution, overall="Inadequate", on=datetime.date(2010, 3, 10))
    command_output = io.StringIO()
    call_command(
        "export_bundle", "--institution", "eltham", "--as-of", "2012-01-31", stdout=command_output
    )

    response = officer_client.get(f"{URL}?as_of=2012-01-31")

    assert content(response) == command_output.getvalue()
    assert 'filename="failwell-eltham-2012-01-31.json"' in response["Content-Disposition"]


def test_a_bad_as_of_date_is_a_clear_400(officer_client, institution):
    response = officer_client.get(f"{URL}?as_of=31/01/2012")

    assert response.status_code == 400
    assert "yyyy-mm-dd" in response.content.decode()


def test_an_unknown_institution_is_404(officer_client):
    assert officer_client.get("/institutions/nowhere/bundle.json").status_code == 404


@pytest.mark.parametrize("role", ["officer", "lead", "administrator"])
def test_every_role_may_download_the_bundle(request, client, institution, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get(URL).status_code == 200


def test_an_account_without_a_role_may_not(client, institution):
    client.force_login(make_user())
    assert client.get(URL).status_code == 403


def test_an_anonymous_visitor_is_sent_to_sign_in(client, institution):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/institutions/eltham/")


def test_the_institution_page_links_to_its_bundle(officer_client, institution):
    page = officer_client.get("/institutions/eltham/").content.decode()
    assert 'href="/institutions/eltham/bundle.json"' in page
