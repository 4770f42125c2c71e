"""Adding milestones to an intervention and changing their status, in place with htmx
or with plain forms."""

import datetime
import json
import re

import pytest
from django.utils import timezone

from institutions.models import Institution
from interventions.models import Milestone
from tests.factories import make_institution, make_intervention, make_milestone

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def intervention(institution):
    return make_intervention(institution, started_on=datetime.date(2024, 1, 8))


@pytest.fixture
def milestone(intervention):
    return make_milestone(
        intervention, title="New behaviour policy", due_on=datetime.date(2024, 9, 1)
    )


def status_form(milestone, status, day="", month="", year="", **extra) -> dict:
    prefix = f"milestone-{milestone.pk}"
    return {
        f"{prefix}-status": status,
        f"{prefix}-achieved_on_day": day,
        f"{prefix}-achieved_on_month": month,
        f"{prefix}-achieved_on_year": year,
        **extra,
    }


def new_milestone(**overrides) -> dict:
    data = {
        "title": "Two new heads in post",
        "due_on_day": "1",
        "due_on_month": "9",
        "due_on_year": "2025",
        "notes": "",
    }
    data.update(overrides)
    return data


def error_summary(html: str) -> list[str]:
    return re.findall(r'<li><a href="#([^"]+)">([^<]+)</a></li>', html)


# Adding ---------------------------------------------------------------------


def test_the_lead_adds_a_milestone(client, lead, intervention):
    client.force_login(lead)
    response = client.post(f"/interventions/{intervention.pk}/milestones/", new_milestone())
    milestone = Milestone.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/interventions/{intervention.pk}/#milestone-{milestone.pk}"
    assert milestone.intervention == intervention
    assert milestone.title == "Two new heads in post"
    assert milestone.due_on == datetime.date(2025, 9, 1)
    assert milestone.status == "planned" and milestone.achieved_on is None


def test_with_htmx_the_milestone_list_comes_back_with_it_and_a_fresh_form(
    client, lead, intervention
):
    client.force_login(lead)
    response = client.post(f"/interventions/{intervention.pk}/milestones/", new_milestone(), **HTMX)
    html = response.content.decode()
    milestone = Milestone.objects.get()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="milestones">')
    assert "Milestone added: Two new heads in post, due 1 September 2025." in html
    assert f'<tbody class="govuk-table__body" id="milestone-{milestone.pk}">' in html
    assert 'name="title" value="Two new heads' not in html
    assert json.loads(response["HX-Trigger"]) == {"history-changed": {}}


def test_adding_a_milestone_without_a_title_or_date_is_a_form_error(client, lead, intervention):
    client.force_login(lead)
    response = client.post(
        f"/interventions/{intervention.pk}/milestones/",
        new_milestone(title="", due_on_day="31", due_on_month="2"),
        **HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="milestones">')
    assert error_summary(html) == [
        ("id_title", "Enter what the milestone is"),
        ("id_due_on_day", "The due date must be a real date, for example 27 3 2024"),
    ]
    assert not Milestone.objects.exists()


def test_without_javascript_a_bad_milestone_shows_the_whole_page_with_errors(
    client, lead, intervention
):
    client.force_login(lead)
    response = client.post(f"/interventions/{intervention.pk}/milestones/", {})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error: Special measures at Eltham Foundation School - failwell</title>" in html
    assert ("id_due_on_day", "Enter the due date") in error_summary(html)


@pytest.mark.parametrize("persona", ["officer", "other_lead", "administrator"])
def test_who_does_not_lead_it_may_not_add_milestones(client, intervention, persona, request):
    client.force_login(request.getfixturevalue(persona))
    response = client.post(f"/interventions/{intervention.pk}/milestones/", new_milestone())
    assert response.status_code == 403
    assert not Milestone.objects.exists()


def test_adding_to_a_missing_intervention_is_404(client, lead):
    client.force_login(lead)
    assert client.post("/interventions/999999/milestones/", new_milestone()).status_code == 404


# Changing the status ----------------------------------------------------------


def test_with_htmx_a_status_change_swaps_just_that_row(client, lead, milestone):
    Institution.objects.update(needs_recompute=False)
    client.force_login(lead)
    response = client.post(
        f"/milestones/{milestone.pk}/status/",
        status_form(milestone, "met", "20", "8", "2024"),
        **HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(
        f'<tbody class="govuk-table__body" id="milestone-{milestone.pk}">'
    )
    assert html.rstrip().endswith("</tbody>")
    assert '<strong class="govuk-tag govuk-tag--green">Met</strong>' in html
    assert "on 20 Aug 2024" in html and 'role="status">Saved</p>' in html
    # The institution page refreshes its status and timeline on this event.
    assert json.loads(response["HX-Trigger"]) == {"history-changed": {}}
    milestone.refresh_from_db()
    assert milestone.status == "met" and milestone.achieved_on == datetime.date(2024, 8, 20)
    assert Institution.objects.get().needs_recompute


def test_without_javascript_a_status_change_returns_to_the_page_it_came_from(
    client, lead, milestone
):
    client.force_login(lead)
    response = client.post(
        f"/milestones/{milestone.pk}/status/",
        status_form(milestone, "missed", next="/institutions/eltham/"),
    )
    assert response.status_code == 302
    assert response["Location"] == f"/institutions/eltham/#milestone-{milestone.pk}"
    milestone.refresh_from_db()
    assert milestone.status == "missed"


def test_a_next_address_on_another_site_is_ignored(client, lead, milestone):
    client.force_login(lead)
    response = client.post(
        f"/milestones/{milestone.pk}/status/",
        status_form(milestone, "in_progress", next="https://evil.example.com/"),
    )
    assert response["Location"] == (
        f"/interventions/{milestone.intervention_id}/#milestone-{milestone.pk}"
    )


def test_met_needs_the_date_it_was_met(client, lead, milestone):
    client.force_login(lead)
    response = client.post(
        f"/milestones/{milestone.pk}/status/", status_form(milestone, "met"), **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(
        f'<tbody class="govuk-table__body" id="milestone-{milestone.pk}">'
    )
    assert error_summary(html) == [
        (f"id_milestone-{milestone.pk}-achieved_on_day", "Enter the date the milestone was met")
    ]
    # The details stay open on the error, and the row still shows what is stored.
    assert '<details class="govuk-details govuk-!-margin-bottom-0" open>' in html
    assert '<strong class="govuk-tag govuk-tag--purple">Planned</strong>' in html
    milestone.refresh_from_db()
    assert milestone.status == "planned"


def test_only_a_met_milestone_has_a_date_met(client, lead, milestone):
    client.force_login(lead)
    html = client.post(
        f"/milestones/{milestone.pk}/status/",
        status_form(milestone, "missed", "20", "8", "2024"),
        **HTMX,
    ).content.decode()
    assert error_summary(html) == [
        (
            f"id_milestone-{milestone.pk}-achieved_on_day",
            "Only a met milestone has a date met: clear the date, or choose met",
        )
    ]
    milestone.refresh_from_db()
    assert milestone.status == "planned" and milestone.achieved_on is None


def test_a_date_met_in_the_future_is_refused(client, lead, milestone):
    later = timezone.localdate() + datetime.timedelta(days=30)
    client.force_login(lead)
    html = client.post(
        f"/milestones/{milestone.pk}/status/",
        status_form(milestone, "met", str(later.day), str(later.month), str(later.year)),
        **HTMX,
    ).content.decode()
    assert (
        f"id_milestone-{milestone.pk}-achieved_on_day",
        "The date met must be today or in the past",
    ) in error_summary(html)


def test_an_unknown_status_is_a_form_error(client, lead, milestone):
    client.force_login(lead)
    html = client.post(
        f"/milestones/{milestone.pk}/status/", status_form(milestone, "abandoned"), **HTMX
    ).content.decode()
    assert (
        f"id_milestone-{milestone.pk}-status_0",
        "Choose planned, in progress, met, missed or dropped",
    ) in error_summary(html)


def test_moving_a_met_milestone_back_clears_nothing_by_itself(client, lead, intervention):
    met = make_milestone(
        intervention, status="met", achieved_on=datetime.date(2024, 8, 20), title="Policy"
    )
    client.force_login(lead)
    client.post(f"/milestones/{met.pk}/status/", status_form(met, "in_progress"), **HTMX)
    met.refresh_from_db()
    assert met.status == "in_progress" and met.achieved_on is None


def test_without_javascript_errors_show_on_a_page_of_their_own(client, lead, milestone):
    client.force_login(lead)
    response = client.post(f"/milestones/{milestone.pk}/status/", status_form(milestone, "met"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error: Change the status of New behaviour policy - failwell</title>" in html
    assert error_summary(html) == [
        (f"id_milestone-{milestone.pk}-achieved_on_day", "Enter the date the milestone was met")
    ]


def test_the_status_page_opens_on_its_own(client, lead, milestone):
    client.force_login(lead)
    response = client.get(f"/milestones/{milestone.pk}/status/")
    assert response.status_code == 200
    assert "Change the status of “New behaviour policy”" in response.content.decode()


@pytest.mark.parametrize("persona", ["officer", "other_lead", "administrator"])
def test_who_does_not_lead_it_gets_403_and_nothing_changes(client, milestone, persona, request):
    client.force_login(request.getfixturevalue(persona))
    data = status_form(milestone, "met", "20", "8", "2024")
    assert client.post(f"/milestones/{milestone.pk}/status/", data).status_code == 403
    assert client.post(f"/milestones/{milestone.pk}/status/", data, **HTMX).status_code == 403
    milestone.refresh_from_db()
    assert milestone.status == "planned"


def test_a_missing_milestone_is_404(client, lead):
    client.force_login(lead)
    assert client.post("/milestones/999999/status/", {}).status_code == 404


def test_signed_out_is_sent_to_sign_in(client, milestone):
    response = client.post(f"/milestones/{milestone.pk}/status/", {})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_institution_page_offers_status_changes_for_current_milestones(client, lead, milestone):
    ended = make_intervention(
        milestone.intervention.institution,
        type_slug="leadership-change",
        started_on=datetime.date(2020, 1, 1),
        ended_on=datetime.date(2021, 1, 1),
        outcome="succeeded",
    )
    old = make_milestone(ended, title="Old head replaced")
    client.force_login(lead)
    html = client.get("/institutions/eltham/").content.decode()
    assert f'hx-post="/milestones/{milestone.pk}/status/"' in html
    assert f'hx-target="#milestone-{milestone.pk}"' in html
    assert f'/milestones/{old.pk}/status/"' not in html
    assert 'name="next" value="/institutions/eltham/"' in html


def test_a_lead_of_another_institution_cannot_change_this_ones_milestones(client, milestone):
    from failwell.roles import TURNAROUND_LEAD
    from tests.factories import make_lead_assignment, make_member

    someone = make_member(TURNAROUND_LEAD, username="elsewhere")
    make_lead_assignment(make_institution(), lead=someone)
    client.force_login(someone)
    data = status_form(milestone, "dropped")
    assert client.post(f"/milestones/{milestone.pk}/status/", data).status_code == 403
