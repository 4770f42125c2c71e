"""Evidence in the admin is never deleted: it is retracted with a reason, by an action
on the list or from its own page, and stays in the history."""

import re

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from interventions.models import Evidence
from tests.factories import make_evidence, make_indicator, make_institution

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:interventions_evidence_changelist"
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


def change_url(evidence: Evidence) -> str:
    return reverse("admin:interventions_evidence_change", args=[evidence.pk])


def retract_url(evidence: Evidence) -> str:
    return reverse("admin:interventions_evidence_retract", args=[evidence.pk])


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_evidence_offers_no_delete_anywhere(admin_client):
    evidence = make_evidence(make_institution())

    changelist = admin_client.get(reverse(CHANGELIST))
    change_page = admin_client.get(change_url(evidence))
    delete_page = admin_client.post(
        reverse("admin:interventions_evidence_delete", args=[evidence.pk]), {"post": "yes"}
    )

    assert "delete_selected" not in changelist.content.decode()
    assert "retract_selected" in changelist.content.decode()
    assert "/delete/" not in change_page.content.decode()
    assert delete_page.status_code == 403
    assert Evidence.objects.filter(pk=evidence.pk).exists()


def test_bulk_delete_is_not_an_action_even_when_posted(admin_client):
    evidence = make_evidence(make_institution())

    response = admin_client.post(
        reverse(CHANGELIST),
        {"action": "delete_selected", "_selected_action": [evidence.pk], "post": "yes"},
        follow=True,
    )

    assert response.status_code == 200
    assert Evidence.objects.filter(pk=evidence.pk).exists()


def test_the_retract_action_first_asks_for_a_reason(admin_client):
    evidence = make_evidence(make_institution())

    response = admin_client.post(
        reverse(CHANGELIST), {"action": "retract_selected", "_selected_action": [evidence.pk]}
    )

    assert response.status_code == 200
    assert response.templates[0].name == "admin/interventions/evidence/retract.html"
    assert not response.context["form"].is_bound
    evidence.refresh_from_db()
    assert not evidence.is_retracted


def test_the_retract_action_retracts_with_the_reason_and_keeps_the_rows(admin_client, admin_user):
    first = make_evidence(make_institution())
    second = make_evidence(make_institution(), indicator=make_indicator(), value=7.0, direction="")

    response = admin_client.post(
        reverse(CHANGELIST),
        {
            "action": "retract_selected",
            "_selected_action": [first.pk, second.pk],
            "reason": "  Logged against the wrong school  ",
        },
    )

    assert response.status_code == 302
    assert messages_of(response) == ["Retracted 2 evidence entries."]
    for evidence in (first, second):
        evidence.refresh_from_db()
        assert evidence.is_retracted
        assert evidence.retracted_by == admin_user
        assert evidence.retraction_reason == "Logged against the wrong school"
    assert Evidence.objects.count() == 2
    assert Evidence.objects.current().count() == 0


def test_the_retract_action_refuses_a_blank_reason(admin_client):
    evidence = make_evidence(make_institution())

    response = admin_client.post(
        reverse(CHANGELIST),
        {"action": "retract_selected", "_selected_action": [evidence.pk], "reason": "   "},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == [
        "Give a reason for retracting this evidence."
    ]
    evidence.refresh_from_db()
    assert not evidence.is_retracted


def test_the_retract_action_leaves_already_retracted_evidence_alone(admin_client):
    earlier = make_evidence(make_institution())
    earlier.retract(None, "Duplicate")
    current = make_evidence(make_institution())

    response = admin_client.post(
        reverse(CHANGELIST),
        {
            "action": "retract_selected",
            "_selected_action": [earlier.pk, current.pk],
            "reason": "Wrong date",
        },
    )

    assert messages_of(response) == [
        "Retracted 1 evidence entries (1 already retracted, left as they were)."
    ]
    earlier.refresh_from_db()
    assert earlier.retraction_reason == "Duplicate"


def test_one_piece_of_evidence_is_retracted_from_its_page(admin_client, admin_user):
    evidence = make_evidence(make_institution())
    assert retract_url(evidence) in admin_client.get(change_url(evidence)).content.decode()

    asked = admin_client.get(retract_url(evidence))
    refused = admin_client.post(retract_url(evidence), {"reason": ""})
    done = admin_client.post(retract_url(evidence), {"reason": "Figure was provisional"})

    assert asked.status_code == 200
    assert refused.context["form"].errors["reason"] == [
        "Give a reason for retracting this evidence."
    ]
    assert done.status_code == 302
    assert done.url == change_url(evidence)
    evidence.refresh_from_db()
    assert (evidence.retracted_by, evidence.retraction_reason) == (
        admin_user,
        "Figure was provisional",
    )
    page = admin_client.get(change_url(evidence)).content.decode()
    assert "Figure was provisional" in page
    assert retract_url(evidence) not in page


def test_retracting_twice_from_its_page_says_so(admin_client):
    evidence = make_evidence(make_institution())
    evidence.retract(None, "Duplicate")

    response = admin_client.post(retract_url(evidence), {"reason": "Again"})

    assert response.status_code == 302
    assert messages_of(response) == ["This evidence is already retracted."]
    evidence.refresh_from_db()
    assert evidence.retraction_reason == "Duplicate"


def test_logged_evidence_cannot_be_edited_in_place(admin_client):
    evidence = make_evidence(make_institution(), summary="Attendance up")

    admin_client.post(
        change_url(evidence),
        {
            "institution": evidence.institution_id,
            "observed_on": "2015-03-01",
            "direction": "negative",
            "summary": "Attendance down",
        },
    )

    evidence.refresh_from_db()
    assert (evidence.summary, evidence.direction) == ("Attendance up", "positive")


def test_evidence_added_in_the_admin_records_who_logged_it(admin_client, admin_user):
    school = make_institution()

    response = admin_client.post(
        reverse("admin:interventions_evidence_add"),
        {
            "institution": school.pk,
            "observed_on": "2015-03-01",
            "direction": "positive",
            "summary": "New head started",
        },
    )

    assert response.status_code == 302
    assert Evidence.objects.get().logged_by == admin_user


def test_retracted_evidence_can_be_filtered_out(admin_client):
    kept = make_evidence(make_institution())
    make_evidence(make_institution()).retract(None, "Duplicate")

    response = admin_client.get(reverse(CHANGELIST), {"retracted": "no"})

    assert list(response.context["cl"].result_list) == [kept]


def test_logged_evidence_links_its_attachment_to_the_download_by_its_uploaded_name(
    admin_client,
):
    evidence = make_evidence(
        make_institution(),
        attachment="evidence/0f8e2c1a9b7d4e6f8a0b1c2d3e4f5a6b.pdf",
        attachment_name="<b>Minutes</b> June.pdf",
    )

    page = admin_client.get(change_url(evidence)).content.decode()

    download = reverse("evidence-attachment", args=[evidence.pk])
    assert f'<a href="{download}">&lt;b&gt;Minutes&lt;/b&gt; June.pdf</a>' in page
    assert "0f8e2c1a9b7d4e6f8a0b1c2d3e4f5a6b" not in page
    assert "/media/" not in page


def test_evidence_without_an_attachment_shows_none_on_its_page(admin_client):
    evidence = make_evidence(make_institution())

    page = admin_client.get(change_url(evidence)).content.decode()

    assert reverse("evidence-attachment", args=[evidence.pk]) not in page


def test_an_attachment_added_in_the_admin_keeps_its_name_and_is_stored_randomly(
    admin_client, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    school = make_institution()

    response = admin_client.post(
        reverse("admin:interventions_evidence_add"),
        {
            "institution": school.pk,
            "observed_on": "2015-03-01",
            "direction": "positive",
            "summary": "Minutes of the meeting",
            "attachment": SimpleUploadedFile("Governors minutes.pdf", PDF),
        },
    )

    assert response.status_code == 302
    evidence = Evidence.objects.get()
    assert evidence.attachment_name == "Governors minutes.pdf"
    assert re.fullmatch(r"evidence/[0-9a-f]{32}\.pdf", evidence.attachment.name)
