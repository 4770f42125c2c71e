"""Sign in, sign out and the error pages, through Django's test client."""

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.views.defaults import permission_denied, server_error

from tests.factories import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "a long and unguessable pass phrase"


def test_the_sign_in_page_renders_in_the_govuk_layout(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Sign in - failwell</title>" in html
    assert '<html lang="en-GB" class="govuk-template">' in html
    assert 'class="govuk-skip-link"' in html
    assert '<main class="govuk-main-wrapper" id="main-content">' in html
    assert '<label class="govuk-label" for="id_username">Username</label>' in html
    assert 'autocomplete="current-password"' in html
    assert "autofocus" not in html
    # Anonymous visitors get no service navigation and no sign-out button.
    assert "govuk-service-navigation" not in html
    assert "govuk-error-summary" not in html


def test_the_page_template_needs_no_inline_script_and_configures_htmx(client):
    html = client.get("/accounts/login/").content.decode()
    assert '<meta name="htmx-config" content=\'{"allowEval": false' in html
    assert "/static/django_htmx/htmx-2.min.js" in html
    assert '<script type="module" src="/static/js/failwell.js"></script>' in html
    assert "<script>" not in html and "<style" not in html
    # Every htmx request carries the CSRF token (masked, so not the cookie's value).
    assert re.search(r"""<body [^>]*hx-headers='\{"X-CSRFToken": "[A-Za-z0-9]{64}"\}'""", html)


def test_a_wrong_password_shows_the_error_summary(client):
    make_user(username="jane", password=PASSWORD)
    response = client.post("/accounts/login/", {"username": "jane", "password": "wrong"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Error: Sign in - failwell</title>" in html
    assert 'class="govuk-error-summary" data-module="govuk-error-summary"' in html
    assert (
        '<a href="#id_username">Enter the username and password of a failwell account.'
        " Both are case-sensitive.</a>"
    ) in html
    assert "_auth_user_id" not in client.session


def test_empty_fields_are_named_in_the_summary_and_marked_beside_each_field(client):
    html = client.post("/accounts/login/", {"username": "", "password": ""}).content.decode()
    assert '<a href="#id_username">Enter your username</a>' in html
    assert '<a href="#id_password">Enter your password</a>' in html
    assert 'class="govuk-form-group govuk-form-group--error"' in html
    assert (
        '<p id="id_username-error" class="govuk-error-message">'
        '<span class="govuk-visually-hidden">Error:</span> Enter your username</p>'
    ) in html
    assert 'class="govuk-input govuk-input--error govuk-!-width-two-thirds"' in html
    assert 'aria-describedby="id_username-error"' in html


def test_signing_in_goes_to_next(client):
    make_user(username="jane", password=PASSWORD, is_staff=True)
    response = client.post(
        "/accounts/login/?next=/admin/",
        {"username": "jane", "password": PASSWORD, "next": "/admin/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_signing_in_never_goes_to_another_site(client):
    make_user(username="jane", password=PASSWORD)
    response = client.post(
        "/accounts/login/",
        {"username": "jane", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/"


def test_anonymous_visitors_to_a_protected_page_are_sent_to_sign_in(client):
    response = client.get("/admin/", follow=True)
    # Via the admin's own login URL, which sends everyone to the one sign-in page.
    assert response.redirect_chain[-1] == ("/accounts/login/?next=%2Fadmin%2F", 302)
    assert b"Sign in to failwell" in response.content
    assert b'<input type="hidden" name="next" value="/admin/">' in response.content


def test_a_signed_in_person_sees_their_name_and_a_sign_out_button(client):
    client.force_login(make_user(username="jane", first_name="Jane", last_name="Okoro"))
    html = client.get("/accounts/login/").content.decode()
    assert '<span class="govuk-visually-hidden">Signed in as </span>Jane Okoro' in html
    assert '<form class="failwell-account__form" method="post" action="/accounts/logout/">' in html
    # Administration is for staff only.
    assert 'href="/admin/"' not in html


def test_staff_see_the_administration_link(client):
    client.force_login(make_user(is_staff=True))
    assert 'href="/admin/">Administration</a>' in client.get("/accounts/login/").content.decode()


def test_sign_out_is_post_only(client):
    client.force_login(make_user())
    assert client.get("/accounts/logout/").status_code == 405
    assert "_auth_user_id" in client.session

    response = client.post("/accounts/logout/", follow=True)
    assert response.redirect_chain == [("/accounts/login/", 302)]
    assert "_auth_user_id" not in client.session
    assert b"You have signed out." in response.content


def test_the_signed_out_page_renders_when_no_redirect_is_set(client, settings):
    settings.LOGOUT_REDIRECT_URL = None
    client.force_login(make_user())
    response = client.post("/accounts/logout/")
    assert response.status_code == 200
    assert b'<h1 class="govuk-heading-l">You have signed out</h1>' in response.content


def test_the_404_page_is_in_the_service_style(client, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<title>Page not found - failwell</title>" in html
    assert 'class="govuk-generic-header__homepage-link">failwell</a>' in html


def test_the_403_page_shows_the_reason_given(rf: RequestFactory):
    request = rf.get("/")
    request.user = AnonymousUser()
    response = permission_denied(request, PermissionDenied("Only the assigned lead can do this."))
    assert response.status_code == 403
    assert b"You cannot do that" in response.content
    assert b"Only the assigned lead can do this." in response.content


def test_the_500_page_renders_without_a_request_or_a_query(rf, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = server_error(rf.get("/"))
        html = render_to_string("500.html")
    assert response.status_code == 500
    assert b"Sorry, there is a problem with the service" in response.content
    assert "/static/css/failwell.css" in html


def test_a_form_sent_without_its_csrf_token_gets_a_readable_page():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "jane", "password": "x"})
    assert response.status_code == 403
    assert b"Your form could not be sent" in response.content
    assert b"govuk-template" in response.content
