"""What every signed-in request reads: its session, and the user's roles, each in one
statement written once (failwell/sessions.py, failwell.access.roles_of); and what
every institution view reads first, in one query (failwell.access.get_institution_for_reader)."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.http import Http404
from django.utils import timezone

from failwell.access import get_institution_for_reader, roles_of
from failwell.roles import ADMINISTRATOR, OVERSIGHT_OFFICER, TURNAROUND_LEAD
from failwell.sessions import SessionStore
from institutions.models import Institution
from tests.factories import make_institution, make_user

pytestmark = pytest.mark.django_db

PASSWORD = "a long and unguessable pass phrase"


def test_a_stored_session_is_read_back():
    session = SessionStore()
    session["colour"] = "green"
    session.save()

    again = SessionStore(session.session_key)

    assert again["colour"] == "green"
    assert again.session_key == session.session_key


def test_an_expired_session_reads_as_empty_and_loses_its_key():
    session = SessionStore()
    session["colour"] = "green"
    session.save()
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))

    again = SessionStore(session.session_key)

    assert "colour" not in again
    assert again.session_key is None


def test_an_unknown_session_key_reads_as_empty():
    session = SessionStore("no-such-session-key-at-all")

    assert dict(session.items()) == {}
    assert session.session_key is None


def test_signing_out_ends_the_session_for_its_cookie(client):
    user = make_user(username="jane", password=PASSWORD)
    user.groups.add(Group.objects.get(name=OVERSIGHT_OFFICER))
    client.post("/accounts/login/", {"username": "jane", "password": PASSWORD})
    cookie = client.cookies["sessionid"].value
    assert client.get("/").status_code == 200

    client.post("/accounts/logout/")
    client.cookies["sessionid"] = cookie  # as a copy of the old cookie would

    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not Session.objects.filter(session_key=cookie).exists()


def test_roles_are_the_role_groups_the_user_is_in_and_no_others():
    user = make_user(username="jane")
    user.groups.add(
        Group.objects.get(name=OVERSIGHT_OFFICER),
        Group.objects.get(name=TURNAROUND_LEAD),
        Group.objects.create(name="Book club"),
    )

    assert roles_of(user) == {OVERSIGHT_OFFICER, TURNAROUND_LEAD}


def test_roles_are_read_once_per_user_object(django_assert_num_queries):
    user = make_user(username="jane")
    user.groups.add(Group.objects.get(name=ADMINISTRATOR))

    with django_assert_num_queries(1):
        assert roles_of(user) == {ADMINISTRATOR}
        assert roles_of(user) == {ADMINISTRATOR}


def test_a_changed_group_counts_from_the_next_request(client):
    user = make_user(username="jane", password=PASSWORD)
    client.post("/accounts/login/", {"username": "jane", "password": PASSWORD})
    assert client.get("/").status_code == 403

    user.groups.add(Group.objects.get(name=OVERSIGHT_OFFICER))
    assert client.get("/").status_code == 200

    user.groups.clear()
    assert client.get("/").status_code == 403


def test_an_institution_is_read_with_its_parent_in_one_query(django_assert_num_queries):
    authority = make_institution(name="A local authority", sector="local_authority")
    school = make_institution(name="A school", parent=authority)
    make_institution(name="Another school", parent=authority)

    with django_assert_num_queries(1):
        found = get_institution_for_reader(None, school.slug)
        assert found == school
        assert found.name == "A school"
        assert found.parent == authority
        assert found.parent.name == "A local authority"


def test_an_institution_without_a_parent_has_none():
    authority = make_institution(name="A local authority", sector="local_authority")
    make_institution(name="A school", parent=authority)

    found = get_institution_for_reader(None, authority.slug)

    assert found == authority
    assert found.parent is None


def test_an_unknown_slug_is_not_found():
    make_institution(slug="somewhere")

    with pytest.raises(Http404):
        get_institution_for_reader(None, "nowhere")


def stored(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_an_institution_and_its_parent_have_every_field_as_the_orm_reads_them():
    authority = make_institution(
        name="A local authority", sector="local_authority", status_since=datetime.date(2019, 4, 1)
    )
    school = make_institution(
        name="A school",
        parent=authority,
        status="improving",
        status_since=datetime.date(2020, 9, 1),
        status_changed_at=timezone.now(),
        needs_recompute=False,
    )

    found = get_institution_for_reader(None, school.slug)

    assert stored(found) == stored(Institution.objects.get(pk=school.pk))
    assert stored(found.parent) == stored(Institution.objects.get(pk=authority.pk))
    assert found.needs_recompute is False and found.parent.needs_recompute is True
    assert isinstance(found.status_since, datetime.date)
    assert found._state.adding is False and found.parent._state.adding is False
