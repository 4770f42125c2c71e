"""Sign-in throttling (django-axes): five failures for one username from one address
lock that pair out for 15 minutes with a clear message; a success clears the count."""

import datetime

import pytest
from axes.models import AccessAttempt
from django.utils import timezone

from tests.factories import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "a long and unguessable pass phrase"
LOCKED = "There have been too many failed attempts to sign in to this account."


@pytest.fixture
def jane(db):
    return make_user(username="jane", password=PASSWORD)


def sign_in(client, password: str, username: str = "jane", address: str = "192.0.2.1"):
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password, "next": "/"},
        REMOTE_ADDR=address,
    )


def fail(client, times: int, **kwargs) -> list[int]:
    return [sign_in(client, "wrong", **kwargs).status_code for _ in range(times)]


def test_the_fifth_failure_locks_the_account_out_with_a_clear_message(client, jane):
    assert fail(client, 4) == [200, 200, 200, 200]

    response = sign_in(client, "wrong")

    assert response.status_code == 429
    html = response.content.decode()
    assert "<title>Error: Sign in - failwell</title>" in html
    assert 'class="govuk-error-summary" data-module="govuk-error-summary"' in html
    assert LOCKED in html
    assert "Wait 15 minutes and try again, or ask a failwell administrator to unlock it." in html
    # The username stays in the box; the password never comes back.
    assert 'value="jane"' in html
    assert "wrong" not in html


def test_a_locked_out_account_cannot_sign_in_even_with_the_right_password(client, jane):
    fail(client, 5)

    response = sign_in(client, PASSWORD)

    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_success_before_the_limit_resets_the_count(client, jane):
    assert fail(client, 4) == [200] * 4
    assert sign_in(client, PASSWORD).status_code == 302
    client.post("/accounts/logout/")

    assert fail(client, 4) == [200] * 4
    assert sign_in(client, PASSWORD).status_code == 302
    assert client.session["_auth_user_id"] == str(jane.pk)


def test_the_lockout_holds_one_username_from_one_address_only(client, jane):
    make_user(username="sam", password=PASSWORD)
    fail(client, 5)

    assert sign_in(client, PASSWORD, username="sam").status_code == 302
    client.post("/accounts/logout/")
    assert sign_in(client, PASSWORD, address="198.51.100.7").status_code == 302


def test_the_lockout_ends_after_the_cool_off(client, jane):
    fail(client, 5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=16))

    response = sign_in(client, PASSWORD)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(jane.pk)


def test_a_wrong_password_under_the_limit_still_shows_the_usual_error(client, jane):
    response = sign_in(client, "wrong")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter the username and password of a failwell account." in html
    assert LOCKED not in html
