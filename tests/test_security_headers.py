"""Every response carries the Content-Security-Policy and the other security headers.

The policy allows only failwell's own scripts and styles: no 'unsafe-inline', no
'unsafe-eval'. The templates need neither (tests/test_auth_pages.py checks the page
template has no inline script; tests/browser/test_content_security_policy.py checks
pages and the admin raise no violation in a real browser).
"""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def test_the_sign_in_page_sends_a_strict_content_security_policy(client):
    response = client.get("/accounts/login/")

    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["form-action"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]


def test_the_admin_gets_the_same_policy(admin_client):
    response = admin_client.get(reverse("admin:index"))

    assert response.status_code == 200
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]
    assert directives(response)["script-src"] == ["'self'"]


def test_pages_cannot_be_framed_sniffed_or_leak_the_referrer(client):
    response = client.get("/accounts/login/")

    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_the_csrf_and_session_cookies_are_http_only(client, django_user_model):
    django_user_model.objects.create_user(username="jane", password="a long pass phrase 1")

    form = client.get("/accounts/login/")
    signed_in = client.post(
        "/accounts/login/", {"username": "jane", "password": "a long pass phrase 1"}
    )

    assert form.cookies["csrftoken"]["httponly"] is True
    assert signed_in.status_code == 302
    assert signed_in.cookies["sessionid"]["httponly"] is True
