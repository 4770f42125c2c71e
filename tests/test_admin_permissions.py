"""What each role can do in the admin, through the permissions the migration grants.

The administrator persona is an ordinary user in the Administrators group with
staff status, not a superuser, so these tests exercise the role's own permissions.
"""

import datetime

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from failwell.roles import ADMINISTRATOR
from institutions.models import LeadAssignment, RatingScale
from interventions.models import Evidence, Indicator, InterventionType
from tests.admin_forms import admin_form_data
from tests.factories import make_evidence, make_inspection, make_institution, make_user

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture
def admin_session(client, administrator):
    assert not administrator.is_superuser
    client.force_login(administrator)
    return client


def test_an_administrator_adds_an_indicator(admin_session):
    url = reverse("admin:interventions_indicator_add")
    data = admin_form_data(
        admin_session, url, name="Persistent absence", slug="persistent-absence", unit="%"
    )

    assert admin_session.post(url, data).status_code == 302
    assert Indicator.objects.filter(slug="persistent-absence").exists()


def test_an_administrator_changes_an_intervention_types_grace_window(admin_session):
    special_measures = InterventionType.objects.get(slug="special-measures")
    url = reverse("admin:interventions_interventiontype_change", args=[special_measures.pk])

    response = admin_session.post(url, admin_form_data(admin_session, url, grace_months=15))

    assert response.status_code == 302
    special_measures.refresh_from_db()
    assert special_measures.grace_months == 15


def test_an_administrator_adds_a_rating_scale_with_its_grades(admin_session):
    url = reverse("admin:institutions_ratingscale_add")
    ofsted = RatingScale.objects.get(slug="ofsted-overall-2012").inspectorate
    data = admin_form_data(
        admin_session,
        url,
        inspectorate=ofsted.pk,
        name="Ofsted pilot scale",
        slug="ofsted-pilot",
        **{
            "grades-0-position": 1,
            "grades-0-label": "Meets the standard",
            "grades-0-band": "at_standard",
        },
    )

    assert admin_session.post(url, data).status_code == 302
    scale = RatingScale.objects.get(slug="ofsted-pilot")
    assert list(scale.grades.values_list("label", flat=True)) == ["Meets the standard"]


def test_an_administrator_assigns_a_lead(admin_session, lead, institution):
    url = reverse("admin:institutions_leadassignment_add")
    data = admin_form_data(
        admin_session, url, institution=institution.pk, lead=lead.pk, starts_on="2024-09-01"
    )

    assert admin_session.post(url, data).status_code == 302
    assert LeadAssignment.objects.filter(
        lead=lead, institution=institution, starts_on=datetime.date(2024, 9, 1)
    ).exists()


def test_an_administrator_adds_a_user_and_makes_them_an_administrator(admin_session):
    add = reverse("admin:auth_user_add")
    response = admin_session.post(
        add,
        {
            "username": "priya",
            "password1": "a long and unguessable pass phrase",
            "password2": "a long and unguessable pass phrase",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302
    priya = User.objects.get(username="priya")
    assert not priya.is_staff

    change = reverse("admin:auth_user_change", args=[priya.pk])
    administrators = Group.objects.get(name=ADMINISTRATOR)
    data = admin_form_data(admin_session, change, groups=administrators.pk)
    assert admin_session.post(change, data).status_code == 302

    priya.refresh_from_db()
    assert priya.is_staff
    assert list(priya.groups.values_list("name", flat=True)) == [ADMINISTRATOR]

    data = admin_form_data(admin_session, change)
    del data["groups"]
    assert admin_session.post(change, data).status_code == 302
    priya.refresh_from_db()
    assert not priya.is_staff


def test_an_administrator_cannot_make_anyone_a_superuser(admin_session, administrator):
    change = reverse("admin:auth_user_change", args=[administrator.pk])
    data = admin_form_data(admin_session, change)
    data.update(is_superuser="on", is_staff="on")

    admin_session.post(change, data)

    administrator.refresh_from_db()
    assert not administrator.is_superuser


def test_an_administrator_cannot_change_a_superuser(admin_session):
    root = make_user(username="root", is_staff=True, is_superuser=True)
    url = reverse("admin:auth_user_change", args=[root.pk])

    page = admin_session.get(url)
    password = admin_session.post(
        reverse("admin:auth_user_password_change", args=[root.pk]),
        {"password1": "taken over 12345", "password2": "taken over 12345"},
    )

    assert page.status_code == 200  # shown read-only
    assert 'name="_save"' not in page.content.decode()
    assert password.status_code == 403
    root.refresh_from_db()
    assert not root.check_password("taken over 12345")


def test_an_administrator_cannot_delete_users(admin_session, officer):
    response = admin_session.post(
        reverse("admin:auth_user_delete", args=[officer.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert User.objects.filter(pk=officer.pk).exists()


def test_an_administrator_cannot_delete_or_retract_evidence(admin_session):
    evidence = make_evidence(make_institution())

    delete = admin_session.post(
        reverse("admin:interventions_evidence_delete", args=[evidence.pk]), {"post": "yes"}
    )
    retract = admin_session.post(
        reverse("admin:interventions_evidence_retract", args=[evidence.pk]),
        {"reason": "Not mine to retract"},
    )
    page = admin_session.get(reverse("admin:interventions_evidence_change", args=[evidence.pk]))

    assert delete.status_code == 403
    assert retract.status_code == 403
    assert page.status_code == 200  # view only
    evidence.refresh_from_db()
    assert not evidence.is_retracted
    assert Evidence.objects.filter(pk=evidence.pk).exists()


def test_an_administrator_sees_an_objects_history_in_the_admin(admin_session):
    inspection = make_inspection(make_institution())

    response = admin_session.get(
        reverse("admin:institutions_inspection_history", args=[inspection.pk])
    )

    assert response.status_code == 200
    assert "the system" in response.content.decode()


@pytest.mark.parametrize("persona", ["officer", "lead", "other_lead"])
def test_officers_and_leads_cannot_reach_the_admin(client, request, persona, institution):
    user = request.getfixturevalue(persona)
    inspection = make_inspection(institution)
    client.force_login(user)

    for url in [
        reverse("admin:index"),
        reverse("admin:institutions_inspection_change", args=[inspection.pk]),
        reverse("admin:interventions_indicator_add"),
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/"), url

    response = client.post(
        reverse("admin:institutions_inspection_change", args=[inspection.pk]), {}
    )
    assert response.status_code == 302


def test_an_administrator_unlocks_a_locked_out_account(client, administrator):
    jane = make_user(username="jane", password="a long and unguessable pass phrase")
    for _ in range(5):
        client.post("/accounts/login/", {"username": "jane", "password": "wrong"})
    attempt = AccessAttempt.objects.get(username="jane")

    client.force_login(administrator)
    response = client.post(
        reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}
    )
    client.logout()
    signed_in = client.post(
        "/accounts/login/", {"username": "jane", "password": "a long and unguessable pass phrase"}
    )

    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    assert signed_in.status_code == 302
    assert client.session["_auth_user_id"] == str(jane.pk)
