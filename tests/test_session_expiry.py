"""A session lasts a working day from sign-in and ends when the browser closes."""

import datetime

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from tests.factories import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "a long and unguessable pass phrase"


def sign_in(client):
    make_user(username="jane", password=PASSWORD)
    return client.post("/accounts/login/", {"username": "jane", "password": PASSWORD})


def test_sessions_last_eight_hours_and_end_with_the_browser():
    assert settings.SESSION_COOKIE_AGE == 8 * 60 * 60
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True


def test_the_session_cookie_is_a_browser_session_cookie(client):
    response = sign_in(client)

    cookie = response.cookies["sessionid"]
    assert cookie["max-age"] == ""
    assert cookie["expires"] == ""


def test_the_stored_session_expires_eight_hours_after_sign_in(client):
    before = timezone.now()
    sign_in(client)

    session = Session.objects.get(session_key=client.session.session_key)
    lifetime = session.expire_date - before
    assert datetime.timedelta(hours=8) <= lifetime < datetime.timedelta(hours=8, minutes=1)


def test_an_expired_session_sends_the_user_back_to_sign_in(client):
    sign_in(client)
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))

    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
