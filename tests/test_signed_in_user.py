"""Each request's signed-in user is read by failwell.auth.ModelBackend, with SQL written
once, and is refused exactly as Django's own backend refuses it: an inactive user, a
deleted one, or a session from before a password change signs nobody in."""

import datetime

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, get_user_model
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.contrib.auth.models import Group
from django.utils import timezone

from failwell.auth import ModelBackend
from failwell.roles import OVERSIGHT_OFFICER
from tests.factories import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "a long and unguessable pass phrase"


@pytest.fixture
def jane():
    user = make_user(
        username="jane", password=PASSWORD, first_name="Jane", last_name="Ng", is_staff=True
    )
    user.groups.add(Group.objects.get(name=OVERSIGHT_OFFICER))
    return user


def sign_in(client) -> None:
    response = client.post("/accounts/login/", {"username": "jane", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def sent_to_sign_in(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_signing_in_names_failwells_backend_in_the_session(client, jane):
    sign_in(client)

    assert client.session[BACKEND_SESSION_KEY] == "failwell.auth.ModelBackend"


def test_the_user_is_read_with_every_field_as_djangos_backend_reads_it(jane):
    get_user_model().objects.filter(pk=jane.pk).update(
        last_login=timezone.now() - datetime.timedelta(hours=1)
    )

    ours = ModelBackend().get_user(str(jane.pk))
    djangos = DjangoModelBackend().get_user(str(jane.pk))

    assert ours == djangos
    fields = get_user_model()._meta.concrete_fields
    assert [getattr(ours, f.attname) for f in fields] == [
        getattr(djangos, f.attname) for f in fields
    ]
    assert isinstance(ours.is_active, bool) and isinstance(ours.last_login, datetime.datetime)
    assert ours._state.adding is False


def test_the_user_is_read_in_one_query(jane, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert ModelBackend().get_user(str(jane.pk)).username == "jane"


def test_no_user_for_an_unknown_id():
    assert ModelBackend().get_user("987654") is None


def test_a_signed_in_user_sees_their_own_name(client, jane):
    sign_in(client)

    assert "Jane Ng" in client.get("/").content.decode()


def test_a_user_made_inactive_is_signed_out_at_their_next_request(client, jane):
    sign_in(client)

    get_user_model().objects.filter(pk=jane.pk).update(is_active=False)

    assert sent_to_sign_in(client.get("/"))


def test_a_deleted_user_is_signed_out_at_their_next_request(client, jane):
    sign_in(client)

    jane.delete()

    assert sent_to_sign_in(client.get("/"))


def test_a_password_changed_elsewhere_ends_the_other_sessions(client, jane):
    sign_in(client)

    jane.set_password("another long and unguessable phrase")
    jane.save()

    assert sent_to_sign_in(client.get("/"))
    assert BACKEND_SESSION_KEY not in client.session
