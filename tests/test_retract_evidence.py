"""Retracting evidence: with a reason, never deleted, only by its institution's lead."""

import pytest

from institutions.models import Institution
from interventions.models import Evidence
from tests.factories import make_evidence, make_institution, make_link

pytestmark = pytest.mark.django_db


@pytest.fixture
def evidence(institution):
    return make_evidence(institution, direction="negative", summary="Police called twice")


def retract(client, evidence, **data):
    return client.post(f"/evidence/{evidence.pk}/retract/", data)


def test_the_lead_retracts_with_a_reason_and_the_evidence_stays(client, lead, evidence):
    Institution.objects.update(needs_recompute=False)
    client.force_login(lead)
    response = retract(
        client, evidence, reason="  Logged against the wrong school ", next="/institutions/eltham/"
    )
    assert response.status_code == 302
    assert response["Location"] == f"/institutions/eltham/#evidence-{evidence.pk}"
    evidence.refresh_from_db()
    assert evidence.is_retracted
    assert evidence.retracted_by == lead
    assert evidence.retraction_reason == "Logged against the wrong school"
    assert Evidence.objects.filter(pk=evidence.pk).exists()
    # It no longer counts, so the status is recomputed.
    assert Institution.objects.get().needs_recompute
    page = client.get(response["Location"]).content.decode()
    assert "Evidence retracted: Negative observation" in page
    assert "<del>Police called twice</del>" in page


def test_without_a_next_address_it_returns_to_the_institution(client, lead, evidence):
    client.force_login(lead)
    response = retract(client, evidence, reason="Duplicate")
    assert response["Location"] == f"/institutions/eltham/#evidence-{evidence.pk}"


def test_a_next_address_elsewhere_is_ignored(client, lead, evidence):
    client.force_login(lead)
    response = retract(client, evidence, reason="Duplicate", next="//evil.example.com/")
    assert response["Location"] == f"/institutions/eltham/#evidence-{evidence.pk}"


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reason_is_required(client, lead, evidence, reason):
    client.force_login(lead)
    response = retract(client, evidence, reason=reason)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error: Retract evidence - failwell</title>" in html
    assert '<li><a href="#id_reason">Enter why you are retracting this evidence</a></li>' in html
    evidence.refresh_from_db()
    assert not evidence.is_retracted


def test_retracting_twice_is_a_form_error_not_a_crash(client, lead, evidence):
    evidence.retract(lead, "Duplicate")
    client.force_login(lead)
    response = retract(client, evidence, reason="Again")
    html = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in html
    assert "This evidence was already retracted on" in html and "“Duplicate”" in html
    evidence.refresh_from_db()
    assert evidence.retraction_reason == "Duplicate"


def test_the_retract_page_opens_on_its_own(client, lead, evidence):
    client.force_login(lead)
    response = client.get(f"/evidence/{evidence.pk}/retract/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Negative observation" in html and "Police called twice" in html
    assert 'name="reason"' in html


@pytest.mark.parametrize("persona", ["officer", "other_lead", "administrator"])
def test_who_does_not_lead_it_gets_403_and_nothing_changes(client, evidence, persona, request):
    client.force_login(request.getfixturevalue(persona))
    assert retract(client, evidence, reason="Not mine to retract").status_code == 403
    assert client.get(f"/evidence/{evidence.pk}/retract/").status_code == 403
    evidence.refresh_from_db()
    assert not evidence.is_retracted


def test_the_lead_of_a_successor_may_not_retract_the_predecessors_evidence(client, lead):
    predecessor = make_institution()
    make_link(predecessor, Institution.objects.get(slug="eltham"))
    theirs = make_evidence(predecessor)
    client.force_login(lead)
    assert retract(client, theirs, reason="Not mine").status_code == 403


def test_missing_evidence_is_404(client, lead):
    client.force_login(lead)
    assert client.post("/evidence/999999/retract/", {"reason": "x"}).status_code == 404


def test_signed_out_is_sent_to_sign_in(client, evidence):
    response = retract(client, evidence, reason="x")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
