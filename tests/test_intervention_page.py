"""The intervention page: what it is, its grace window, its milestones and its evidence."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from interventions.models import add_months
from tests.factories import (
    make_evidence,
    make_indicator,
    make_intervention,
    make_milestone,
    make_user,
)

pytestmark = pytest.mark.django_db


def words(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def page(client, user, intervention):
    client.force_login(user)
    return client.get(f"/interventions/{intervention.pk}/")


def test_signed_out_is_sent_to_sign_in(client, institution):
    intervention = make_intervention(institution)
    response = client.get(f"/interventions/{intervention.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("persona", ["officer", "lead", "other_lead", "administrator"])
def test_every_role_reads_it(client, institution, persona, request):
    intervention = make_intervention(institution)
    response = page(client, request.getfixturevalue(persona), intervention)
    assert response.status_code == 200
    title = "<title>Special measures at Eltham Foundation School - failwell</title>"
    assert title in response.content.decode()


def test_a_missing_intervention_is_404(client, officer):
    client.force_login(officer)
    assert client.get("/interventions/999999/").status_code == 404


def test_it_shows_type_intensity_lead_dates_outcome_and_objectives(client, officer, institution):
    intervention = make_intervention(
        institution,
        started_on=datetime.date(2010, 3, 10),
        ended_on=datetime.date(2013, 8, 31),
        outcome="succeeded",
        intensity="directed",
        lead=make_user(first_name="Jo", last_name="Whitfield"),
        objectives="Restore order in corridors.\nRaise attainment.",
    )
    text = words(page(client, officer, intervention).content.decode())
    assert "Special measures from 10 March 2010" in text
    assert "Intensity Directed" in text
    assert "Lead Jo Whitfield" in text
    assert "Dates Started 10 March 2010, ended 31 August 2013" in text
    assert "Outcome Succeeded" in text
    assert "Objectives Restore order in corridors. Raise attainment." in text


def test_inside_the_grace_window_it_says_so_with_its_end(client, officer, institution):
    started = timezone.localdate() - datetime.timedelta(days=30)
    intervention = make_intervention(institution, started_on=started, grace_months=12)
    text = words(page(client, officer, intervention).content.decode())
    ends = add_months(started, 12)
    assert "Inside the grace window" in text
    assert f"12 months, until {ends:%-d %B %Y} (set for this intervention" in text


def test_after_the_grace_window_it_says_it_ended(client, officer, institution):
    intervention = make_intervention(institution, started_on=datetime.date(2010, 3, 10))
    text = words(page(client, officer, intervention).content.decode())
    months = intervention.type.grace_months
    ends = add_months(datetime.date(2010, 3, 10), months)
    assert "Grace window ended" in text
    assert f"{months} months, ended {ends:%-d %B %Y} (the default for special measures)" in text


def test_its_milestones_are_listed_with_status_forms_for_its_lead(client, lead, institution):
    intervention = make_intervention(institution)
    milestone = make_milestone(
        intervention,
        title="New behaviour policy",
        due_on=datetime.date(2015, 9, 1),
        status="met",
        achieved_on=datetime.date(2015, 8, 20),
    )
    html = page(client, lead, intervention).content.decode()
    row = html[html.index(f'id="milestone-{milestone.pk}"') :]
    assert "New behaviour policy" in row and "1 Sep 2015" in row and "on 20 Aug 2015" in row
    assert f'hx-post="/milestones/{milestone.pk}/status/"' in row
    assert f'value="/interventions/{intervention.pk}/"' in row  # back here without JS
    assert f'action="/interventions/{intervention.pk}/milestones/"' in html


def test_an_overdue_open_milestone_is_marked(client, officer, institution):
    intervention = make_intervention(institution)
    make_milestone(intervention, due_on=datetime.date(2015, 6, 1), status="in_progress")
    assert "Overdue" in page(client, officer, intervention).content.decode()


@pytest.mark.parametrize("persona", ["officer", "other_lead", "administrator"])
def test_readers_see_milestones_and_evidence_but_no_forms(client, institution, persona, request):
    intervention = make_intervention(institution)
    make_milestone(intervention, title="New behaviour policy")
    make_evidence(institution, intervention=intervention, summary="Calmer corridors")
    html = page(client, request.getfixturevalue(persona), intervention).content.decode()
    main = html[html.index("<main") :]
    assert "New behaviour policy" in main and "Calmer corridors" in main
    assert 'method="post"' not in main
    assert "Change status" not in main and "Add a milestone" not in main
    assert "/retract/" not in main


def test_its_evidence_is_listed_with_retracted_entries_struck_through(client, lead, institution):
    intervention = make_intervention(institution)
    indicator = make_indicator(name="Attendance", unit="%")
    make_evidence(institution, intervention=intervention, indicator=indicator, value=91.5)
    retracted = make_evidence(institution, intervention=intervention, summary="Wrong school")
    retracted.retract(lead, "Logged against the wrong school")
    make_evidence(institution, summary="Not linked to this intervention")
    html = page(client, lead, intervention).content.decode()
    evidence = html[html.index('id="evidence"') :]
    assert "Attendance: 91.5%" in evidence
    assert "<del>Wrong school</del>" in evidence and "Logged against the wrong school" in evidence
    assert "Not linked to this intervention" not in evidence
    assert evidence.count("/retract/") == 1  # the retracted one offers no second retraction


def test_with_nothing_yet_the_empty_states_read_well(client, lead, institution):
    intervention = make_intervention(institution)
    text = words(page(client, lead, intervention).content.decode())
    assert "This intervention has no milestones yet." in text
    assert "No evidence is linked to this intervention yet." in text
    assert "Log it on Eltham Foundation School’s page and choose this intervention." in text


def test_the_page_uses_the_same_number_of_queries_however_many_entries(
    client, lead, institution, django_assert_num_queries
):
    intervention = make_intervention(institution)
    indicator = make_indicator()

    def add(n):
        for _ in range(n):
            milestone = make_milestone(intervention)
            make_evidence(institution, intervention=intervention, milestone=milestone)
            make_evidence(institution, intervention=intervention, indicator=indicator, value=3)

    add(1)
    client.force_login(lead)
    with CaptureQueriesContext(connection) as small:
        client.get(f"/interventions/{intervention.pk}/")
    add(100)
    with django_assert_num_queries(len(small)):
        client.get(f"/interventions/{intervention.pk}/")
