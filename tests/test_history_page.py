"""The History page of an institution: every recorded change, who made it, when, and
what changed, for oversight officers and administrators."""

import datetime
import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from failwell.audit import PAGE_SIZE
from institutions.models import Institution
from interventions.models import MilestoneStatus
from tests.admin_forms import admin_form_data
from tests.factories import (
    grade,
    make_evidence,
    make_identifier,
    make_indicator,
    make_inspection,
    make_institution,
    make_intervention,
    make_lead_assignment,
    make_link,
    make_milestone,
    make_user,
)

pytestmark = pytest.mark.django_db


def history_url(institution: Institution) -> str:
    return reverse("institution-history", args=[institution.slug])


def rows(response) -> list[str]:
    """The table's rows as text, one line each, whitespace squeezed."""
    html = response.content.decode()
    body = html.split('<tbody class="govuk-table__body">', 1)[1].split("</tbody>", 1)[0]
    # The arrow is for the eye; a screen reader reads "changed to".
    body = body.replace('<span aria-hidden="true">&rarr;</span>', "")
    return [
        " ".join(unescape(re.sub(r"<[^>]+>", " ", row)).split())
        for row in body.split('<tr class="govuk-table__row">')[1:]
    ]


@pytest.mark.parametrize("persona", ["officer", "administrator"])
def test_officers_and_administrators_see_the_history(client, request, persona, institution):
    client.force_login(request.getfixturevalue(persona))

    response = client.get(history_url(institution))

    assert response.status_code == 200
    assert '<h1 class="govuk-heading-l">History of changes</h1>' in response.content.decode()


@pytest.mark.parametrize("persona", ["lead", "other_lead"])
def test_leads_are_refused(client, request, persona, institution):
    client.force_login(request.getfixturevalue(persona))

    assert client.get(history_url(institution)).status_code == 403


def test_a_user_without_a_role_is_refused(client, institution):
    client.force_login(make_user())

    assert client.get(history_url(institution)).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client, institution):
    response = client.get(history_url(institution))

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={history_url(institution)}"


def test_an_unknown_institution_is_not_found(client, officer):
    client.force_login(officer)

    assert client.get("/institutions/no-such-place/history/").status_code == 404


def test_a_change_shows_who_when_and_each_field_before_and_after(
    client, officer, administrator, institution
):
    inspection = make_inspection(institution, overall="Requires improvement")
    client.force_login(administrator)
    url = reverse("admin:institutions_inspection_change", args=[inspection.pk])
    data = admin_form_data(
        client,
        url,
        overall_grade=grade("ofsted-overall-2012", "Inadequate").pk,
        category_of_concern="special_measures",
    )
    assert client.post(url, data).status_code == 302
    client.force_login(officer)

    newest = rows(client.get(history_url(institution)))[0]

    assert "administrator" in newest
    assert "Changed inspection Ofsted inspection of 1 Jan 2015" in newest
    assert "Overall grade: Requires improvement changed to Inadequate" in newest
    assert "Category of concern: not set changed to Special measures" in newest


def test_writes_by_imports_and_commands_are_the_systems(client, officer, institution):
    make_intervention(institution, started_on=datetime.date(2010, 3, 10))
    client.force_login(officer)

    newest = rows(client.get(history_url(institution)))[0]

    assert newest.startswith(f"{datetime.date.today():%-d %b %Y}")
    assert "the system" in newest
    assert "Created intervention Special measures from 10 Mar 2010" in newest
    assert "Started on: 10 Mar 2010" in newest


def test_a_retraction_is_shown_as_such_with_its_reason(client, officer, lead, institution):
    evidence = make_evidence(institution, summary="Attendance up")
    evidence.retract(lead, "Wrong school")
    client.force_login(officer)

    newest = rows(client.get(history_url(institution)))[0]

    assert newest.startswith(f"{datetime.date.today():%-d %b %Y}")
    assert "Lena Retracted evidence" in newest
    assert "Retracted evidence Positive observation on 1 Mar 2015" in newest
    assert "Retraction reason: not set changed to Wrong school" in newest
    assert "Retracted by: not set changed to Lena" in newest


def test_newest_first_across_every_kind_of_change(client, officer, institution):
    other = make_institution(name="Harris Academy Greenwich")
    make_link(institution, other)
    intervention = make_intervention(institution)
    milestone = make_milestone(intervention, title="New head in post")
    milestone.status = MilestoneStatus.MET
    milestone.achieved_on = datetime.date(2015, 5, 1)
    milestone.save()
    make_lead_assignment(institution, lead=make_user(first_name="Lena", username="lena"))
    client.force_login(officer)

    shown = rows(client.get(history_url(institution)))

    assert [row.split(" the system ")[1].split(" ")[:2] for row in shown] == [
        ["Created", "lead"],
        ["Changed", "milestone"],
        ["Created", "milestone"],
        ["Created", "intervention"],
        ["Created", "lineage"],
        ["Created", "institution"],
    ]
    assert "Status: Planned changed to Met" in shown[1]
    assert "Eltham Foundation School became Harris Academy Greenwich" in shown[4]


def test_only_this_institutions_changes_are_listed(client, officer, institution):
    make_evidence(make_institution(), summary="Somewhere else")
    client.force_login(officer)

    html = client.get(history_url(institution)).content.decode()

    assert "Somewhere else" not in html
    assert "1 change in all." in html


def test_user_text_is_escaped(client, officer, institution):
    make_evidence(institution, summary='<script>alert("x")</script>')
    client.force_login(officer)

    html = client.get(history_url(institution)).content.decode()

    assert '<script>alert("x")</script>' not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_the_history_is_paginated(client, officer, institution):
    indicator = make_indicator(name="Attendance")
    for day in range(1, PAGE_SIZE + 6):
        make_evidence(
            institution,
            indicator=indicator,
            value=float(day),
            observed_on=datetime.date(2015, 1, day),
        )
    client.force_login(officer)

    first = client.get(history_url(institution))
    second = client.get(history_url(institution), {"page": 2})

    assert len(rows(first)) == PAGE_SIZE
    assert len(rows(second)) == 6  # the other five evidence entries and the institution
    assert "Attendance: 30 on 30 Jan 2015" in rows(first)[0]
    assert "Created institution" in rows(second)[-1]
    assert 'aria-label="Pagination"' in first.content.decode()
    assert f"{PAGE_SIZE + 6} changes in all." in first.content.decode()


def make_changes_of_every_kind(institution: Institution, times: int) -> None:
    indicator = make_indicator()
    for n in range(times):
        day = datetime.date(2012, 1, 1) + datetime.timedelta(days=30 * n)
        make_link(make_institution(), institution, linked_on=day)
        inspection = make_inspection(
            institution,
            "ofsted-report-card-2025",
            overall=None,
            on=day,
            judgements={"achievement": "Needs attention"},
        )
        inspection.category_of_concern = "special_measures"
        inspection.save()
        intervention = make_intervention(institution, started_on=day, lead=make_user())
        milestone = make_milestone(intervention)
        milestone.notes = "Slipping"
        milestone.save()
        make_evidence(institution, indicator=indicator, value=float(n), direction="")
        make_evidence(institution, intervention=intervention, milestone=milestone).retract(
            make_user(), "Duplicate"
        )
        make_lead_assignment(institution, lead=make_user(), starts_on=day)
        make_identifier(institution, "other")
        institution.local_authority = f"Authority {n}"
        institution.save()


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_page_costs_the_same_queries_for_one_change_of_each_kind_as_for_many(
    client, officer, django_assert_num_queries
):
    few = make_institution(name="Few changes")
    many = make_institution(name="Many changes")
    make_changes_of_every_kind(few, 1)
    make_changes_of_every_kind(many, 6)
    client.force_login(officer)
    expected = count_queries(client, history_url(few))

    with django_assert_num_queries(expected):
        response = client.get(history_url(many))

    assert len(rows(response)) == PAGE_SIZE


def test_an_attachment_is_named_as_uploaded_never_by_its_stored_path(client, officer, institution):
    make_evidence(
        institution,
        attachment="evidence/0f8e2c1a9b7d4e6f8a0b1c2d3e4f5a6b.pdf",
        attachment_name="Governors minutes.pdf",
    )
    client.force_login(officer)

    response = client.get(history_url(institution))
    newest = rows(response)[0]

    assert "Attachment: Governors minutes.pdf" in newest
    assert "0f8e2c1a9b7d4e6f8a0b1c2d3e4f5a6b" not in response.content.decode()
