"""Logging evidence from the institution page: a value or an observation, with htmx
or a plain form, and every way the form can be filled in wrongly."""

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from institutions.models import Institution
from interventions.models import Evidence
from tests.factories import (
    make_evidence,
    make_indicator,
    make_institution,
    make_intervention,
    make_milestone,
)

pytestmark = pytest.mark.django_db

URL = "/institutions/eltham/evidence/"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def exclusions(db):
    return make_indicator(name="Fixed-term exclusion rate", unit="%", higher_is_better=False)


def value_form(chosen, **overrides) -> dict:
    data = {
        "evidence_type": "value",
        "indicator": chosen.pk,
        "value": "12.5",
        "summary": "Termly return",
        "observed_on_day": "30",
        "observed_on_month": "6",
        "observed_on_year": "2024",
    }
    data.update(overrides)
    return data


def observation_form(**overrides) -> dict:
    data = {
        "evidence_type": "observation",
        "direction": "positive",
        "summary": "Calmer corridors at lunchtime",
        "observed_on_day": "15",
        "observed_on_month": "1",
        "observed_on_year": "2025",
    }
    data.update(overrides)
    return data


def error_summary(html: str) -> list[str]:
    return re.findall(r'<li><a href="#([^"]+)">([^<]+)</a></li>', html)


def test_the_lead_logs_an_indicator_value(client, lead, institution, exclusions):
    client.force_login(lead)
    response = client.post(URL, value_form(exclusions))
    evidence = Evidence.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/institutions/eltham/#evidence-{evidence.pk}"
    assert evidence.institution == institution
    assert evidence.indicator == exclusions and evidence.value == 12.5
    assert evidence.direction == ""
    assert evidence.observed_on == datetime.date(2024, 6, 30)
    assert evidence.logged_by == lead
    page = client.get(response["Location"]).content.decode()
    assert "Evidence logged: Fixed-term exclusion rate: 12.5%, 30 Jun 2024." in page
    assert "Fixed-term exclusion rate: 12.5%" in page


def test_the_lead_logs_an_observation(client, lead, institution):
    client.force_login(lead)
    client.post(URL, observation_form())
    evidence = Evidence.objects.get()
    assert (
        evidence.direction == "positive" and evidence.indicator is None and evidence.value is None
    )
    assert evidence.summary == "Calmer corridors at lunchtime"
    assert evidence.logged_by == lead


def test_logging_flags_the_institution_for_recompute(client, lead, institution):
    Institution.objects.filter(pk=institution.pk).update(needs_recompute=False)
    client.force_login(lead)
    client.post(URL, observation_form())
    assert Institution.objects.get(pk=institution.pk).needs_recompute


def test_with_htmx_the_form_resets_and_the_timeline_and_status_come_out_of_band(
    client, lead, institution
):
    Institution.objects.filter(pk=institution.pk).update(needs_recompute=False, status_version=3)
    client.force_login(lead)
    response = client.post(URL, {**observation_form(), "kind": ["evidence"]}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    evidence = Evidence.objects.get()
    # The form region first, fresh and with a success message.
    assert html.lstrip().startswith('<div id="evidence-observation-form">')
    assert "Evidence logged: Positive observation, 15 January 2025." in html
    assert 'name="summary" cols="40" rows="3"' in html and "Calmer corridors" in html
    form = html[: html.index("</form>")]
    assert "Calmer corridors" not in form
    # The timeline, out of band, with the new entry and the filters kept.
    assert '<div id="timeline" hx-swap-oob="true"' in html
    assert 'hx-get="/institutions/eltham/timeline/?kind=evidence"' in html
    assert f'id="evidence-{evidence.pk}"' in html
    # The status, out of band, saying it is recomputing and polling for the result.
    status = html[html.index('<div id="institution-status" hx-swap-oob="true"') :]
    assert 'hx-trigger="every 2s, history-changed from:body"' in status
    assert 'hx-get="/institutions/eltham/status/?since=3"' in status
    assert "Recomputing the status…" in status


def test_validation_errors_come_back_as_the_form_with_the_error_summary(client, lead, institution):
    client.force_login(lead)
    response = client.post(URL, {"evidence_type": "observation"}, **HTMX)
    # 200, not 422: htmx 2 swaps only 2xx responses unless configured otherwise.
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="evidence-observation-form">')
    assert 'class="govuk-error-summary" data-module="govuk-error-summary"' in html
    assert error_summary(html) == [
        (
            "observation_direction_0",
            "Choose whether the observation is positive, negative or neutral",
        ),
        ("observation_summary", "Describe what you observed"),
        ("observation_observed_on_day", "Enter the date observed"),
    ]
    # Each error also sits beside its field.
    assert (
        '<p id="observation_summary-error" class="govuk-error-message">'
        '<span class="govuk-visually-hidden">Error:</span> Describe what you observed</p>'
    ) in html
    assert "hx-swap-oob" not in html
    assert not Evidence.objects.exists()


def test_without_javascript_errors_show_on_the_whole_page(client, lead, institution):
    client.force_login(lead)
    response = client.post(URL, {})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Error: Eltham Foundation School - failwell</title>" in html
    assert (
        "<li>Type of evidence: Say whether this is an indicator value or an observation</li>"
        in (html)
    )
    assert ("value_observed_on_day", "Enter the date observed") in error_summary(html)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"indicator": ""}, ("value_indicator", "Choose the indicator this value measures")),
        ({"value": ""}, ("value_value", "Enter the value measured")),
        ({"value": "lots"}, ("value_value", "The value must be a number, like 12 or 4.5")),
        ({"value": "nan"}, ("value_value", "The value must be a number, like 12 or 4.5")),
        ({"indicator": "999999"}, ("value_indicator", "Choose one of the indicators in the list")),
        (
            {"observed_on_month": "13"},
            (
                "value_observed_on_day",
                "The date observed must be a real date, for example 27 3 2024",
            ),
        ),
        (
            {"observed_on_year": "1850"},
            ("value_observed_on_day", "The date observed must be after 1 January 1900"),
        ),
    ],
)
def test_a_bad_value_is_a_form_error(client, lead, institution, exclusions, change, expected):
    client.force_login(lead)
    html = client.post(URL, value_form(exclusions, **change), **HTMX).content.decode()
    assert expected in error_summary(html)
    assert not Evidence.objects.exists()


def test_an_observation_cannot_be_dated_in_the_future(client, lead, institution):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    client.force_login(lead)
    html = client.post(
        URL,
        observation_form(
            observed_on_day=str(tomorrow.day),
            observed_on_month=str(tomorrow.month),
            observed_on_year=str(tomorrow.year),
        ),
        **HTMX,
    ).content.decode()
    assert (
        "observation_observed_on_day",
        "The date observed must be today or in the past: evidence records what has already "
        "been measured or seen",
    ) in error_summary(html)
    assert not Evidence.objects.exists()


def test_today_is_a_valid_date(client, lead, institution):
    today = timezone.localdate()
    client.force_login(lead)
    client.post(
        URL,
        observation_form(
            observed_on_day=str(today.day),
            observed_on_month=str(today.month),
            observed_on_year=str(today.year),
        ),
    )
    assert Evidence.objects.get().observed_on == today


def test_a_value_with_a_direction_is_refused(client, lead, institution, exclusions):
    client.force_login(lead)
    html = client.post(URL, value_form(exclusions, direction="negative"), **HTMX).content.decode()
    # One clear error: not the model's or the database's restatement of the rule too.
    assert error_summary(html) == [
        ("value_indicator", "An indicator value has no direction: log the observation on its own")
    ]
    assert "Constraint" not in html
    assert not Evidence.objects.exists()


def test_an_observation_with_an_indicator_or_a_value_is_refused(
    client, lead, institution, exclusions
):
    client.force_login(lead)
    for extra in ({"indicator": exclusions.pk}, {"value": "3"}):
        html = client.post(URL, observation_form(**extra), **HTMX).content.decode()
        assert error_summary(html) == [
            (
                "observation_direction_0",
                "An observation has no indicator or value: log the value on its own",
            )
        ]
    assert not Evidence.objects.exists()


@pytest.mark.parametrize("evidence_type", [None, "rumour"])
def test_a_post_must_say_which_type_it_is(client, lead, institution, exclusions, evidence_type):
    client.force_login(lead)
    data = value_form(exclusions, direction="negative")
    if evidence_type is None:
        del data["evidence_type"]
    else:
        data["evidence_type"] = evidence_type
    html = client.post(URL, data, **HTMX).content.decode()
    assert (
        "<li>Type of evidence: Say whether this is an indicator value or an observation</li>"
        in (html)
    )
    assert "Constraint" not in html
    assert not Evidence.objects.exists()


def test_the_evidence_may_name_an_intervention_and_milestone_of_this_institution(
    client, lead, institution
):
    intervention = make_intervention(institution)
    milestone = make_milestone(intervention, title="Two new heads in post")
    client.force_login(lead)
    client.post(URL, observation_form(intervention=intervention.pk, milestone=milestone.pk))
    evidence = Evidence.objects.get()
    assert evidence.intervention == intervention and evidence.milestone == milestone


def test_a_milestone_alone_brings_its_intervention(client, lead, institution):
    intervention = make_intervention(institution)
    milestone = make_milestone(intervention)
    client.force_login(lead)
    client.post(URL, observation_form(milestone=milestone.pk))
    assert Evidence.objects.get().intervention == intervention


def test_an_intervention_of_another_institution_is_refused(client, lead, institution):
    elsewhere = make_intervention(make_institution())
    client.force_login(lead)
    html = client.post(URL, observation_form(intervention=elsewhere.pk), **HTMX).content.decode()
    assert ("observation_intervention", "Choose one of this institution&#x27;s interventions") in (
        error_summary(html)
    )
    assert not Evidence.objects.exists()


def test_a_milestone_of_another_intervention_is_refused(client, lead, institution):
    special_measures = make_intervention(institution)
    leadership = make_intervention(institution, type_slug="leadership-change")
    milestone = make_milestone(leadership, title="New head in post")
    client.force_login(lead)
    html = client.post(
        URL, observation_form(intervention=special_measures.pk, milestone=milestone.pk), **HTMX
    ).content.decode()
    [(anchor, message)] = error_summary(html)
    assert anchor == "observation_milestone"
    assert "is a milestone of another intervention" in message
    assert not Evidence.objects.exists()


def test_a_milestone_of_another_institution_is_refused(client, lead, institution):
    milestone = make_milestone(make_intervention(make_institution()))
    client.force_login(lead)
    html = client.post(URL, observation_form(milestone=milestone.pk), **HTMX).content.decode()
    assert ("observation_milestone", "Choose one of this institution&#x27;s milestones") in (
        error_summary(html)
    )


def test_an_attachment_is_stored(client, lead, institution, settings):
    client.force_login(lead)
    report = SimpleUploadedFile("visit-note.pdf", b"%PDF-1.4 notes", "application/pdf")
    client.post(URL, {**observation_form(), "attachment": report})
    evidence = Evidence.objects.get()
    assert evidence.attachment.name.startswith("evidence/")
    assert evidence.attachment.read() == b"%PDF-1.4 notes"
    html = client.get("/institutions/eltham/").content.decode()
    assert f'href="/evidence/{evidence.pk}/attachment/" download>visit-note.pdf<' in html


def test_an_attachment_over_10_mb_is_refused(client, lead, institution):
    client.force_login(lead)
    big = SimpleUploadedFile("scan.pdf", b"x" * (10 * 1024 * 1024 + 1), "application/pdf")
    html = client.post(URL, {**observation_form(), "attachment": big}, **HTMX).content.decode()
    assert ("observation_attachment", "The attachment must be smaller than 10 MB") in error_summary(
        html
    )
    assert not Evidence.objects.exists()


@pytest.mark.parametrize("persona", ["officer", "other_lead", "administrator"])
def test_who_does_not_lead_it_gets_403_and_nothing_is_logged(client, institution, persona, request):
    client.force_login(request.getfixturevalue(persona))
    assert client.post(URL, observation_form()).status_code == 403
    assert client.post(URL, observation_form(), **HTMX).status_code == 403
    assert not Evidence.objects.exists()


def test_a_lead_whose_assignment_has_ended_may_no_longer_log(client, lead, institution):
    lead.lead_assignments.update(ends_on=timezone.localdate() - datetime.timedelta(days=1))
    client.force_login(lead)
    assert client.post(URL, observation_form()).status_code == 403


def test_an_unknown_institution_is_404(client, lead):
    client.force_login(lead)
    assert client.post("/institutions/nowhere/evidence/", observation_form()).status_code == 404


def test_signed_out_posts_are_sent_to_sign_in(client, institution):
    response = client.post(URL, observation_form())
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not Evidence.objects.exists()


def test_the_form_only_takes_posts(client, lead, institution):
    client.force_login(lead)
    assert client.get(URL).status_code == 405


def test_existing_evidence_is_untouched_by_a_failed_post(client, lead, institution):
    existing = make_evidence(institution, summary="Before")
    client.force_login(lead)
    client.post(URL, {"evidence_type": "value"}, **HTMX)
    assert list(Evidence.objects.values_list("pk", flat=True)) == [existing.pk]
